"""Step Functions task: records the document's final status (authorized, rejected or failed), then
emits its event (document.authorized, .rejected or .failed) to the account's webhook endpoints."""

import sello
from sello.services import events
from sello.services.workflow import DocumentWorkflow, FinishInput


def handler(event, context):
    task = FinishInput.model_validate(event)
    result = DocumentWorkflow.from_settings().finish(task)
    if result["status"] == task.status:  # recorded now (or by an earlier run of this task)
        events.emit_document(task.account_id, task.document_id, f"document.{task.status}")
    return result


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
