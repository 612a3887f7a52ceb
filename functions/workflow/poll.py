"""Step Functions task: asks the authority for its decision and says how long to wait before asking again."""

from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().poll(TaskInput.model_validate(event))
