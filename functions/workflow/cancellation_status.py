"""Step Functions task: asks the authority how far the document's cancellation has come and says how
long to wait before asking again."""

import sello
from sello.services.cancellation import CancellationWorkflow
from sello.services.workflow import TaskInput


def handler(event, context):
    return CancellationWorkflow.from_settings().cancel_status(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
