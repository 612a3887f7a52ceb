"""Step Functions task: sends the document's cancellation request to the authority, signed with the
issuer's key (decrypted here, as the sign task does), and stores the authority's receipt."""

import sello
from sello.services.cancellation import CancellationWorkflow
from sello.services.workflow import TaskInput

from . import sign


def handler(event, context):
    return CancellationWorkflow.from_settings(sign.credentials()).cancel_request(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
