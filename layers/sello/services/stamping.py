"""Stamping a document another system built and signed (POST /v1/documents/stamp): Sello checks it,
stores it as the document's signed file and runs the usual workflow, whose sign task then has
nothing to sign; the document is then like any other (status, XML, PDF, email, retry).

The order of the checks, each a 4xx with its own code, and nothing written before all have passed:
1. the size (MAX_EXTERNAL_BYTES) before anything reads the bytes;
2. the issuer, named by `issuer_id` (the same as POST /v1/documents: the caller says whose document
   it is; finding it by the document's tax id instead would make an account with two issuers of one
   tax id ambiguous);
3. the issuer's country's plugin reads and checks the document (`external_document`: parsing,
   schema, type, date, signature over its content);
4. the tax id the document is issued by is the issuer's;
5. its certificate is checked as an uploaded one would be, at the moment the document says it was
   signed (services.certificates.check_signer: the country's rules, validity, the issuer's tax id,
   and, for a live key, a recognised certification authority), whether or not it is the one on file.

No number is allocated: the document keeps the number it was printed with, and its series is the
document's own (so Sello's sequences of the issuer are untouched).

The same document sent twice is one document: its id is derived from the account, the environment
and the plugin's natural key of the document (e.g. a hash of its signature), and the store writes a
document only where none has that id. A second sending answers with the document the first created
(200, Idempotent-Replayed), started if it was not; no Idempotency-Key is needed. The signed file is
written under the document's id just before the document itself; a sending that finds the document
already stored writes nothing."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Protocol

from sello.adapters.blobs import document_key
from sello.countries import get_plugin
from sello.errors import Unprocessable
from sello.i18n import _l
from sello.models.common import Environment
from sello.models.documents import Document, DocumentView, Totals
from sello.services.certificates import check_signer, extra_authorities
from sello.services.delivery import XML
from sello.services.documents import DocumentService, Issued, default_service
from sello.models.stamping import MAX_EXTERNAL_BYTES
from sello.services.issuers import find_issuer
from sello.settings import get_settings

SIGNED_FILE = "signed.xml"


class Blobs(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...


@dataclass(frozen=True)
class StampRequest:
    issuer_id: str
    data: bytes  # the document as sent
    customer_email: str | None = None  # where the workflow emails the authorized document


def document_id(account_id: str, environment: Environment, key: str) -> str:
    """The id of the document with this natural key in the account's environment: `doc_` and 20
    lower-case letters and digits, like a random one."""
    digest = hashlib.sha256(f"{account_id}\n{environment}\n{key}".encode()).digest()
    return "doc_" + base64.b32encode(digest).decode("ascii").lower()[:20]


def _too_large(size: int) -> Unprocessable:
    return Unprocessable(_l("The document is {size} bytes, over the {limit} Sello stamps.", size=size,
                            limit=MAX_EXTERNAL_BYTES), code="document_too_large", path="xml",
                         extra={"limit": MAX_EXTERNAL_BYTES, "size": size})


class StampingService:
    def __init__(self, documents: DocumentService, blobs: Blobs):
        self.documents = documents
        self.blobs = blobs

    def stamp(self, account_id: str, environment: Environment, request: StampRequest) -> Issued:
        if len(request.data) > MAX_EXTERNAL_BYTES:
            raise _too_large(len(request.data))
        if not request.data.strip():
            raise Unprocessable(_l("The document is empty."), code="missing_field", path="xml")
        service = self.documents
        issuer = find_issuer(service.issuers, account_id, request.issuer_id)
        plugin = get_plugin(issuer.country, path="issuer_id")
        now = service.clock().replace(microsecond=0)
        external = plugin.external_document(request.data, now)
        if plugin.normalize_tax_id(external.tax_id, path=external.tax_id_path) != issuer.tax_id:
            raise Unprocessable(
                _l("The document is issued by {name} {tax_id}, not by the issuer's {issuer_tax_id}.",
                   name=plugin.tax_id_name, tax_id=external.tax_id, issuer_tax_id=issuer.tax_id),
                code="issuer_tax_id_mismatch", path=external.tax_id_path)
        settings = service.settings or get_settings()
        check_signer(external.certificate, (), tax_id=issuer.tax_id, plugin=plugin, now=external.signed_at,
                     environment=environment, extra_authorities=extra_authorities(settings.trusted_ca_path),
                     path=external.certificate_path)
        doc_id = document_id(account_id, environment, external.key)
        existing = service.repo.get(account_id, doc_id)
        if existing is not None:
            return service.replay(existing)
        prepared = external.prepared
        customer = {**prepared.customer, "email": request.customer_email} if request.customer_email \
            else prepared.customer
        blob = document_key(account_id, doc_id, SIGNED_FILE)
        doc = Document(
            id=doc_id, account_id=account_id, environment=environment, type=prepared.type, country=plugin.code,
            issuer_id=issuer.id, customer=customer, totals=Totals.model_validate(prepared.totals),
            number=external.number, series=prepared.series or None, issue_date=prepared.issue_date,
            title=plugin.document_title(prepared.type), issuer_name=issuer.legal_name, content=prepared.content,
            workflow_started=False, signed_key=blob, created_at=now)
        self.blobs.put(blob, request.data, XML)
        # A document that fails to be written leaves its file unreachable (no document names it), and
        # harmless: the file of the same document sent again is written over it.
        if not service.repo.put_new(doc):  # the same document, sent at the same time, was stored first
            return service.replay(service.repo.get(account_id, doc_id))
        return Issued(DocumentView.of(service.start(doc)), replayed=False)


def default_stamping_service() -> StampingService:
    service = default_service()
    return StampingService(service, service.files)
