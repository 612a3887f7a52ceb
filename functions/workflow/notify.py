"""Step Functions task: emails the customer the authorized XML and the PDF."""

import sello
from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().notify(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
