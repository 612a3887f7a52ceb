"""Step Functions task: renders the cancelled document's PDF, emails the customer the cancellation's
final state and records it, then emits document.cancellation_updated to the account's webhook
endpoints."""

import sello
from sello.services import events
from sello.services.cancellation import CancellationFinishInput, CancellationWorkflow


def handler(event, context):
    task = CancellationFinishInput.model_validate(event)
    result = CancellationWorkflow.from_settings().cancel_finish(task)
    events.emit_document(task.account_id, task.document_id, "document.cancellation_updated")
    return result


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
