"""Step Functions task: signs the document with its issuer's certificate and stores the signed XML."""

from sello.services import certificates
from sello.services.workflow import DocumentWorkflow, SigningCredentials, TaskInput


def credentials() -> SigningCredentials:
    """Where the issuer's private key and certificate come from (KMS-decrypted, only in this task)."""
    return certificates.default_service()


def handler(event, context):
    return DocumentWorkflow.from_settings(credentials()).sign(TaskInput.model_validate(event))
