"""Step Functions task: submits the signed document to the authority, unless it already has it."""

import sello
from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().submit(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
