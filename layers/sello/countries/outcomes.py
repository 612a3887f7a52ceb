"""What a tax authority answers a plugin's steps (submit, poll, cancel, cancellation_status) and what a
plugin reads of a document signed elsewhere (external_document): used by the workflow and the routes
that call those steps, in a module of their own so that a function that only prepares documents (the
documents API) does not load them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sello.countries import PreparedDocument


@dataclass(frozen=True)
class AuthorityMessage:
    code: str  # the authority's own identifier, e.g. SRI "35"
    message: str
    detail: str = ""
    warning: bool = False  # an advisory that does not stop the document
    # Sello's own stable name for what the message means (e.g. "invalid_signature"), the same for every
    # authority; "" when the plugin has none for this code.
    reason: str = ""

    def to_item(self) -> dict:
        return {"code": self.code, "message": self.message, "detail": self.detail, "warning": self.warning,
                "reason": self.reason}


@dataclass(frozen=True)
class SubmitOutcome:
    # "received" also covers "already received" and "received, still being processed": in every such case
    # the document must be polled, never sent again. "authorized": an authority that decides at once (a
    # Mexican PAC stamps the document in its answer) hands back what a poll would: the number, the moment
    # and the authorized document, and the workflow goes straight on to render it.
    status: Literal["received", "authorized", "rejected"]
    messages: tuple[AuthorityMessage, ...] = ()
    number: str = ""  # authorization number (authorized only)
    authorized_at: str = ""  # ISO 8601, as the authority states it (authorized only)
    document: bytes = b""  # the authorized document to archive and deliver (authorized only)


@dataclass(frozen=True)
class PollOutcome:
    # "unknown": the authority has no document with that key (not received, or not listed yet).
    status: Literal["authorized", "processing", "rejected", "unknown"]
    number: str = ""  # authorization number (authorized only)
    authorized_at: str = ""  # ISO 8601, as the authority states it (authorized only)
    document: bytes = b""  # the authorized document to archive and deliver (authorized only)
    messages: tuple[AuthorityMessage, ...] = ()


@dataclass(frozen=True)
class CancelOutcome:
    """The authority's answer to a cancellation request. "requested": it took the request (its receipt,
    the acuse, in `receipt`), and its decision is then asked for with `cancellation_status`; "rejected":
    it refused the request (the messages say why), nothing was cancelled."""

    status: Literal["requested", "rejected"]
    receipt: bytes = b""
    messages: tuple[AuthorityMessage, ...] = ()


@dataclass(frozen=True)
class CancellationOutcome:
    """How far a requested cancellation has come at the authority. "pending": not decided yet (e.g. the
    receiver has still to accept it); "accepted": the document is cancelled; "expired": the document is
    cancelled because the receiver let the time to answer pass; "rejected": the receiver (or the
    authority) refused it, the document stays in force. `authority_status` is the authority's own word
    for it (SAT: "En proceso", "Cancelado sin aceptación", "Plazo vencido"...)."""

    status: Literal["pending", "accepted", "rejected", "expired"]
    authority_status: str = ""
    messages: tuple[AuthorityMessage, ...] = ()


@dataclass(frozen=True)
class ExternalDocument:
    """A document another system built and signed, as the plugin read and checked it
    (`external_document`), ready for the service's checks against the issuer and to be stored as it
    is. Paths name the document's parts in error answers (e.g. "xml.Emisor.Rfc")."""

    prepared: PreparedDocument  # type, series, issue date, customer, totals, content, as `prepare` gives them
    number: str | None  # the number it is printed with (its own, not one Sello allocates); None if it has none
    tax_id: str  # the issuer's tax id as the document states it
    tax_id_path: str
    certificate: Any  # the certificate (cryptography x509) whose key signed it, verified to have signed it
    certificate_path: str
    signed_at: datetime  # the moment the document says it was signed (UTC)
    # What makes two sendings the same document (e.g. a hash of its signature): the natural key that
    # keeps the same document sent twice from being stored twice.
    key: str
