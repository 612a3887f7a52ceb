"""Step Functions task: records the document's final status (authorized, rejected or failed)."""

from sello.services.workflow import DocumentWorkflow, FinishInput


def handler(event, context):
    return DocumentWorkflow.from_settings().finish(FinishInput.model_validate(event))
