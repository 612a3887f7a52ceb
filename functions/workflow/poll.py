"""Step Functions task: asks the authority for its decision and says how long to wait before asking again."""

import sello
from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().poll(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
