"""Step Functions task: emails the customer the authorized XML and the PDF."""

from sello.services.workflow import DocumentWorkflow, TaskInput


def handler(event, context):
    return DocumentWorkflow.from_settings().notify(TaskInput.model_validate(event))
