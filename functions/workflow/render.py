"""Step Functions task: renders the authorized document's PDF and stores it."""

from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().render(TaskInput.model_validate(event))
