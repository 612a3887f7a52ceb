"""Documents: the stored record and the view the API returns. The names are the same for every
country; what only one authority has (Ecuador's clave de acceso, say) maps onto a neutral field
(`access_key`). The workflow (services/workflow.py) fills the authority's fields as the document
moves on, so every one of them may still be missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field

from sello.models.common import EmailStr, Environment, Model, RequestBody, absent

# The neutral document types; each country issues some of them (its plugin's request models say which).
DocumentType = Literal["invoice", "credit_note", "debit_note", "delivery_guide", "withholding",
                       "purchase_settlement"]
DOCUMENT_TYPES: tuple[str, ...] = get_args(DocumentType)
# The types a stored document has: the neutral ones, and those a country issues with a request model of
# its own (Mexico's payment receipt); what the list filters by.
LISTED_TYPES: tuple[str, ...] = (*DOCUMENT_TYPES, "payment")

DocumentStatus = Literal["processing", "authorized", "rejected", "failed"]
DOCUMENT_STATUSES: tuple[str, ...] = get_args(DocumentStatus)
# What the authority has done with the document so far; None until it has received it.
AuthorityStatus = Literal["received", "authorized", "rejected"]
# A cancellation of an authorized document (services/cancellation.py): `pending` from the request until
# the authority (and, when it asks for it, the receiver) decides; `accepted` and `expired` (the receiver
# let the time to answer pass, which counts as accepting) leave the document cancelled; `rejected` (by the
# receiver or the authority) and `failed` (Sello could not finish it) leave it in force, and it can be
# requested again.
CancellationStatus = Literal["pending", "accepted", "rejected", "expired", "failed"]
CANCELLED = ("accepted", "expired")


class AuthorityMessage(Model):
    code: str = Field(description="The authority's own identifier of the message.", examples=["39"])
    message: str = Field(examples=["FIRMA INVALIDA"])
    detail: str = Field(default="", examples=[("La firma es invalida [Firma inválida (firma y/o certificados "
                                               "alterados)]")])
    warning: bool = Field(default=False, description="An advisory that did not stop the document.")
    reason: str = Field(default="", description="What the message means in this API's own words, the same "
                                                "for every authority (e.g. `invalid_signature`); empty when "
                                                "there is none for this message.",
                        examples=["invalid_signature"])
    path: str | None = absent(description="The request field the message is about, where the authority's "
                                           "code names one (e.g. a PAC's CFDI40145: `customer.name`).",
                              examples=["customer.name"])


class Problem(Model):
    code: str = Field(examples=["invalid_signature"])
    message: str = Field(examples=[("The tax authority refused the document: 39 FIRMA INVALIDA (La firma es "
                                    "invalida [Firma inválida (firma y/o certificados alterados)])")])


class Totals(Model):
    """Amounts as decimal strings, in the document's currency."""

    model_config = ConfigDict(extra="ignore")
    currency: str | None = Field(default=None, examples=["USD"])
    subtotal: Decimal | None = Field(default=None, description="Before taxes and after discounts.",
                                     examples=["81.00"])
    discount: Decimal | None = Field(default=None, examples=["0.00"])
    tax: Decimal | None = Field(default=None, examples=["12.15"])
    total: Decimal | None = Field(default=None, examples=["93.15"])


# Records ---------------------------------------------------------------------------------------

class Document(Model):
    """A document as stored. Attributes the workflow keeps for itself (poll count, timestamps of its
    steps) are ignored when an item is read.

    `content` is what the country plugin prepared (PreparedDocument.content), kept as it is for the
    workflow to build the authority's document from; `number`, `series`, `sequence` and
    `access_key` come from numbering. `title` ("Factura") and `issuer_name` are kept for the
    email. `workflow_started` is false while the document's workflow could not be started."""

    model_config = ConfigDict(extra="ignore")

    id: str
    account_id: str
    environment: Environment
    type: str  # country-neutral document type, e.g. "invoice"
    country: str
    issuer_id: str
    status: DocumentStatus = "processing"
    customer: dict[str, Any] = Field(default_factory=dict)
    totals: Totals | None = None
    number: str | None = None
    series: str | None = None
    sequence: int | None = None
    issue_date: date | None = None
    title: str | None = None
    issuer_name: str | None = None
    content: dict[str, Any] | None = None
    workflow_started: bool | None = None
    workflow_round: int = 0  # how often the document was retried (services/documents.py, retry)
    access_key: str | None = None
    authority_status: AuthorityStatus | None = None
    authority_messages: list[AuthorityMessage] = Field(default_factory=list)
    authorization_number: str | None = None
    authorized_at: datetime | None = None
    received_at: datetime | None = None
    authority_unreachable_since: datetime | None = None
    next_attempt_at: datetime | None = None
    signed_key: str | None = None
    authorized_key: str | None = None
    pdf_key: str | None = None
    error: Problem | None = None
    delivery_error: Problem | None = None
    # The latest cancellation request (services/cancellation.py); none while none was made.
    cancellation_status: CancellationStatus | None = None
    cancellation_motive: str | None = None
    cancellation_substitute: str | None = None
    cancellation_attempt: int = 0  # how many cancellations were requested (each its own workflow run)
    cancellation_requested_at: datetime | None = None
    cancellation_finished_at: datetime | None = None
    cancellation_authority_status: str | None = None
    cancellation_messages: list[AuthorityMessage] = Field(default_factory=list)
    cancellation_receipt_key: str | None = None
    cancellation_next_attempt_at: datetime | None = None
    cancellation_error: Problem | None = None
    cancellation_delivery_error: Problem | None = None
    created_at: datetime
    updated_at: datetime | None = None
    # A document paid later (a Mexican PPD invoice): what is still to be paid, and the payment documents
    # applied to it (payment document id -> its Settlement.record), counted until they end rejected,
    # failed or cancelled. `payments_version` grows with every change, so two payments read the same
    # balance and only one of them is stored (services.settlements).
    balance: Decimal | None = None
    payments: dict[str, dict[str, Any]] | None = None
    payments_version: int = 0
    # A payment document: what it applies to each document it pays ([{"document_id", "amount", "record"}]),
    # and, once freed (rejected, failed, cancelled), each paid document's version after that.
    settles: list[dict[str, Any]] | None = None
    settlements_released: dict[str, int] | None = None


# Views -----------------------------------------------------------------------------------------

class CustomerSummary(Model):
    name: str | None = Field(default=None, examples=["Distribuidora Andina Cía. Ltda."])
    tax_id: str | None = Field(default=None, examples=["1792060346001"])
    email: str | None = Field(default=None, examples=["compras@example.com"])


class AuthorityView(Model):
    status: AuthorityStatus | None = Field(
        default=None, description="What the tax authority has done with the document: `received`, "
                                  "`authorized` or `rejected`; null until it has received it.")
    access_key: str | None = Field(default=None, description="The key the authority knows the document "
                                                             "by (Ecuador: the 49-digit clave de acceso).",
                                     examples=["0203202601179001691900110010010000000421234567818"])
    authorization_number: str | None = Field(default=None,
                                             examples=["0203202601179001691900110010010000000421234567818"])
    authorized_at: datetime | None = Field(default=None, description="As the authority states it.")
    received_at: datetime | None = None
    messages: list[AuthorityMessage] = Field(default_factory=list,
                                             description="The authority's messages, warnings included.")


class DocumentPayment(Model):
    """A payment applied to this document, as its payment document records it."""

    model_config = ConfigDict(extra="ignore")
    document_id: str = Field(description="The payment document.", examples=["doc_5t8r2w9q1m4k7x3v6b0n"])
    number: str | None = Field(default=None, examples=["P-7"])
    amount: Decimal = Field(description="What it pays of this document, in this document's currency.",
                            examples=["580.00"])
    installment: int | None = Field(default=None, description="The installment number it is (the last one "
                                                              "when it pays several).", examples=[1])
    paid_at: str | None = Field(default=None, description="When the payment was received, as the payment "
                                                         "states it.", examples=["2025-07-15T12:00:00"])
    balance: Decimal | None = Field(default=None, description="What was left to pay after it.",
                                    examples=["580.00"])
class CancellationView(Model):
    status: CancellationStatus = Field(
        description="`pending` until the tax authority (and the receiver, when the authority asks for their "
                    "acceptance) decides; then `accepted` (the document is cancelled), `expired` (cancelled: "
                    "the receiver let the time to answer pass), `rejected` (by the receiver or the authority: "
                    "the document stays in force) or `failed` (Sello could not complete the request; see "
                    "`error`). A rejected or failed cancellation can be requested again.")
    motive: str = Field(description="The motive as requested (Mexico: SAT's 01 to 04).", examples=["02"])
    substitute: str | None = Field(default=None, description="The document that replaces this one (motive 01), "
                                                             "as requested: its Sello id or its UUID.",
                                   examples=[None])
    requested_at: datetime
    finished_at: datetime | None = Field(default=None, description="When the cancellation ended in its final "
                                                                   "status.")
    authority_status: str | None = Field(default=None, description="The authority's own word for how far the "
                                                                   "cancellation has come (SAT: `En proceso`, "
                                                                   "`Cancelado sin aceptación`, `Plazo vencido`...).",
                                         examples=["Cancelado sin aceptación"])
    receipt_available: bool = Field(default=False, description="The authority's receipt of the request (the "
                                                               "acuse) can be downloaded from "
                                                               "`GET /v1/documents/{id}/cancellation-receipt`.")
    next_attempt_at: datetime | None = Field(default=None, description="While pending: when Sello asks the "
                                                                       "authority again.")
    messages: list[AuthorityMessage] = Field(default_factory=list, description="The authority's messages.")
    error: Problem | None = Field(default=None, description="Why the cancellation was rejected or failed.")
    delivery_error: Problem | None = Field(default=None, description="The cancellation is final, but the "
                                                                     "PDF or the email could not be delivered.")

    @classmethod
    def of(cls, doc: Document) -> CancellationView | None:
        if doc.cancellation_status is None or doc.cancellation_requested_at is None:
            return None
        return cls(status=doc.cancellation_status, motive=doc.cancellation_motive or "",
                   substitute=doc.cancellation_substitute, requested_at=doc.cancellation_requested_at,
                   finished_at=doc.cancellation_finished_at, authority_status=doc.cancellation_authority_status,
                   receipt_available=bool(doc.cancellation_receipt_key),
                   next_attempt_at=doc.cancellation_next_attempt_at, messages=doc.cancellation_messages,
                   error=doc.cancellation_error, delivery_error=doc.cancellation_delivery_error)


class DocumentView(Model):
    id: str = Field(examples=["doc_7m2k9x4v1c8b3n6q0w5e"])
    object: str = "document"
    type: str = Field(examples=["invoice"])
    country: str = Field(examples=["EC"])
    environment: Environment
    issuer_id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    number: str | None = Field(default=None, description="The document's number as printed (Ecuador: "
                                                         "establishment-emission point-sequence).",
                               examples=["001-001-000000042"])
    issue_date: date | None = Field(default=None, description="In the authority's time zone.",
                                    examples=["2026-03-02"])
    status: DocumentStatus = Field(description="`processing` until the document is `authorized`, `rejected` "
                                               "or `failed`.")
    customer: CustomerSummary | None = None
    totals: Totals | None = None
    authority: AuthorityView
    authority_unreachable_since: datetime | None = Field(
        default=None, description="While the document waits for a tax authority that cannot be reached: "
                                  "since when. The document stays `processing` and is tried again until the "
                                  "retry window (72 hours by default) has passed.")
    next_attempt_at: datetime | None = Field(
        default=None, description="While the document waits for the tax authority: when it is asked again.")
    error: Problem | None = Field(default=None, description="Why the document failed or was rejected.")
    delivery_error: Problem | None = Field(
        default=None, description="The document is authorized, but its PDF or email could not be delivered.")
    cancellation: CancellationView | None = Field(
        default=None, description="The latest cancellation requested (`POST /v1/documents/{id}/cancel`); null "
                                  "while none was.")
    created_at: datetime
    updated_at: datetime
    balance: Decimal | None = absent(
        description="A document paid later (Mexico: an invoice with payment method PPD): what is still to "
                    "be paid, in its currency, after the payments issued for it that have not been "
                    "rejected, failed or cancelled.", examples=["580.00"])
    payments: list[DocumentPayment] | None = absent(
        description="A document paid later: the payments applied to it, oldest first.")

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        customer = CustomerSummary.model_validate(
            {k: doc.customer[k] for k in CustomerSummary.model_fields if doc.customer.get(k)})
        return cls(
            id=doc.id, type=doc.type, country=doc.country, environment=doc.environment,
            issuer_id=doc.issuer_id, number=doc.number, issue_date=doc.issue_date, status=doc.status,
            customer=customer if customer.model_fields_set else None,
            totals=doc.totals,
            authority=AuthorityView(status=doc.authority_status, access_key=doc.access_key,
                                    authorization_number=doc.authorization_number,
                                    authorized_at=doc.authorized_at, received_at=doc.received_at,
                                    messages=doc.authority_messages),
            authority_unreachable_since=doc.authority_unreachable_since, next_attempt_at=doc.next_attempt_at,
            error=doc.error, delivery_error=doc.delivery_error, cancellation=CancellationView.of(doc),
            created_at=doc.created_at, updated_at=doc.updated_at or doc.created_at,
            **_payments(doc),
        )


def _payments(doc: Document) -> dict[str, Any]:
    if doc.balance is None:
        return {}
    payments = sorted(((pid, entry) for pid, entry in (doc.payments or {}).items()),
                      key=lambda item: (item[1].get("installment") or 0, item[0]))
    return {"balance": doc.balance,
            "payments": [DocumentPayment.model_validate({**entry, "document_id": pid}) for pid, entry in payments]}


class DocumentList(Model):
    data: list[DocumentView] = Field(description="Newest first.")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=["AZh2bX0kq3tVY9fE1wLrC8pN5sG7jD4uB6xM2nQ0iHkT"])


# Listing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocumentFilter:
    """What GET /v1/documents narrows the list by. The creation range is half-open: from
    `created_from` (inclusive) up to `created_before` (exclusive)."""

    status: str | None = None
    type: str | None = None
    customer_tax_id: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


# Email -----------------------------------------------------------------------------------------

class SendDocumentRequest(RequestBody):
    to: EmailStr | None = Field(default=None, description="Where to send it; by default the customer's "
                                                          "email stored with the document.",
                                examples=["compras@example.com"])


class DocumentEmail(Model):
    to: str = Field(examples=["compras@example.com"])
    sent_at: datetime


class DocumentAuthorityStatus(Model):
    """What the tax authority says of an authorized document now (GET /v1/documents/{id}/authority-status):
    its texts as the authority writes them (Mexico: SAT's Consulta)."""

    document_id: str = Field(examples=["doc_7h3k9m2p4r6t8v1x3z5b"])
    authority: str = Field(description="The tax authority that answered.", examples=["SAT"])
    status: str = Field(description="The document's status at the authority, in its words (SAT: `Vigente`, "
                                    "`Cancelado` or `No Encontrado`).", examples=["Vigente"])
    cancelable: str | None = Field(
        default=None, description="Whether and how the document can be cancelled, in the authority's words (SAT: "
                                  "`No cancelable`, `Cancelable sin aceptación`, `Cancelable con aceptación`); "
                                  "null when the authority does not say.", examples=["Cancelable con aceptación"])
    cancellation_status: str | None = Field(
        default=None, description="How far a cancellation has come, in the authority's words (SAT: `En proceso`, "
                                  "`Cancelado sin aceptación`, `Cancelado con aceptación`, `Plazo vencido`, "
                                  "`Solicitud rechazada`); null when none was requested.", examples=[None])
    details: dict[str, str] = Field(
        default_factory=dict, description="The authority's other fields as it gave them (SAT: `codigo_estatus`, "
                                          "`validacion_efos`: 100 listed as EFOS, 200 not).",
        examples=[{"codigo_estatus": "S - Comprobante obtenido satisfactoriamente.", "validacion_efos": "200"}])
    checked_at: datetime = Field(description="When Sello asked the authority (UTC).")
