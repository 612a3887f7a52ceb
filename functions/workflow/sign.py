"""Step Functions task: signs the document with its issuer's certificate and stores the signed XML.

The issuer's private key is decrypted (KMS) once per warm function and kept in this module for the
function's life, keyed by account, issuer and the serial of the issuer's active certificate: a
certificate replaced by a new upload has another serial, so the next document is signed with the
new one. Before each use the issuer is read (one DynamoDB read) to learn which certificate is
active. Keys are never logged."""

from __future__ import annotations

from typing import Any

import sello
from sello.services import certificates
from sello.services.certificates import CertificateNotTrusted, CertificateService
from sello.services.issuers import find_issuer
from sello.services.workflow import DocumentWorkflow, SigningCredentials, TaskInput

# (account id, issuer id, certificate serial) -> (private key, certificate)
_KEYS: dict[tuple[str, str, str], tuple[Any, Any]] = {}
MAX_CACHED_KEYS = 64


class CachedCredentials:
    """SigningCredentials that decrypt each issuer's key once and then answer from _KEYS."""

    def __init__(self, service: CertificateService):
        self.service = service

    def load_signing_key(self, account_id: str, issuer_id: str, environment: str) -> tuple[Any, Any]:
        issuer = find_issuer(self.service.repo, account_id, issuer_id)
        if environment == "live" and issuer.certificate is not None and not issuer.certificate.trusted:
            raise CertificateNotTrusted(f"Certificate {issuer.certificate.serial} of issuer {issuer_id} "
                                        "signs test documents only.")
        if issuer.certificate is not None:
            cached = _KEYS.get((account_id, issuer_id, issuer.certificate.serial))
            if cached is not None:
                return cached
        key, certificate = self.service.load_signing_key(account_id, issuer_id, environment)
        # Stored under the serial of the certificate actually loaded (it may have been replaced since
        # the issuer was read); other certificates of the issuer are not needed any more.
        for old in [k for k in _KEYS if k[:2] == (account_id, issuer_id)]:
            del _KEYS[old]
        while len(_KEYS) >= MAX_CACHED_KEYS:
            del _KEYS[next(iter(_KEYS))]  # the oldest entry
        _KEYS[(account_id, issuer_id, format(certificate.serial_number, "X"))] = (key, certificate)
        return key, certificate


def credentials() -> SigningCredentials:
    """Where the issuer's private key and certificate come from (KMS-decrypted, only in this task)."""
    return CachedCredentials(certificates.default_service())


def handler(event, context):
    return DocumentWorkflow.from_settings(credentials()).sign(TaskInput.model_validate(event))


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
