"""Step Functions task: asks the authority how far the document's cancellation has come and says how
long to wait before asking again."""

from sello.services.cancellation import CancellationWorkflow
from sello.services.workflow import TaskInput


def handler(event, context):
    return CancellationWorkflow.from_settings().cancel_status(TaskInput.model_validate(event))
