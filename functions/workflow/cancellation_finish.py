"""Step Functions task: renders the cancelled document's PDF, emails the customer the cancellation's
final state and records it."""

from sello.services.cancellation import CancellationFinishInput, CancellationWorkflow


def handler(event, context):
    return CancellationWorkflow.from_settings().cancel_finish(CancellationFinishInput.model_validate(event))
