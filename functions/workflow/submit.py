"""Step Functions task: submits the signed document to the authority, unless it already has it."""

from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().submit(TaskInput.model_validate(event))
