"""Step Functions task: renders the authorized document's PDF and stores it."""

import sello
from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().render(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
