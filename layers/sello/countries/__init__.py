"""Country plugins. The API and the workflow pick a plugin by the issuer's country and never branch
on the country otherwise. Adding a country means adding a package here (its plugin, and the examples of
its errors for the OpenAPI document: `error_examples`, see below) and one line in _PLUGINS."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from sello.errors import Unprocessable
from sello.i18n import _l

# ISO 3166 alpha-2 code -> module that defines `plugin`.
_PLUGINS = {"EC": "sello.countries.ec"}


class AuthorityUnavailable(Exception):
    """The authority could not be reached or answered with a temporary failure (transport error, HTTP
    5xx, its own "internal error, try again"). The same call may be repeated later: the workflow
    retries a submission with backoff, and keeps polling until its deadline."""


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
    # the document must be polled, never sent again.
    status: Literal["received", "rejected"]
    messages: tuple[AuthorityMessage, ...] = ()


@dataclass(frozen=True)
class PollOutcome:
    # "unknown": the authority has no document with that key (not received, or not listed yet).
    status: Literal["authorized", "processing", "rejected", "unknown"]
    number: str = ""  # authorization number (authorized only)
    authorized_at: str = ""  # ISO 8601, as the authority states it (authorized only)
    document: bytes = b""  # the authorized document to archive and deliver (authorized only)
    messages: tuple[AuthorityMessage, ...] = ()


@dataclass(frozen=True)
class PreparedDocument:
    """A document request the plugin has validated and computed, ready to be numbered and stored.
    Nothing in it depends on the number yet, so a request that fails validation consumes none."""

    type: str  # the neutral type, e.g. "invoice"
    series: str  # the numbering series within (issuer, environment, type); Ecuador: "001-001" (estab-ptoEmi)
    issue_date: date  # in the authority's time zone
    customer: dict[str, Any]  # name, tax_id, email (what models.documents.CustomerSummary shows)
    totals: dict[str, Any]  # currency, subtotal, discount, tax, total (Decimal)
    # Everything the plugin needs later to build the document (an issuer snapshot included), JSON-ready:
    # amounts as strings, dates as ISO strings. Stored with the document as it is.
    content: dict[str, Any]


@dataclass(frozen=True)
class NumberedDocument:
    number: str  # the printed document number, e.g. "001-001-000000042"
    access_key: str  # the authority's key for the document (Ecuador: clave de acceso); "" if none


class CountryPlugin(Protocol):
    code: str  # "EC"
    name: str  # "Ecuador"
    authority: str  # "SRI"
    tax_id_name: str  # what the tax id is called in messages: "RUC"
    # Authority-specific issuer flags (e.g. Ecuador's obligado a llevar contabilidad); validated on registration.
    issuer_flags_model: type[BaseModel]

    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        """Returns the tax id in canonical form or raises Unprocessable(code="invalid_tax_id", path=path)."""

    def certificate_tax_ids(self, certificate: Any) -> set[str]:
        """Tax ids a signing certificate (cryptography x509.Certificate) is issued to, as this country encodes them."""

    def certificate_matches(self, certificate: Any, tax_id: str) -> bool:
        """Whether the certificate may sign for the issuer with this tax id."""

    def certificate_trusted(self, certificate: Any, chain: Iterable[Any], *, now: datetime,
                            extra_authorities: Iterable[Any] = ()) -> bool:
        """Whether the certificate chains, through `chain` (the other certificates that came with it),
        to a certification authority this country recognises, or to one of `extra_authorities` (the
        operator's additions), every link valid at `now` (sello.countries.trust.chains_to). Only such
        a certificate signs live documents."""

    def signature_size(self, certificate: Any) -> int:
        """At most how many bytes signing a document with this certificate adds to it, in the
        authority's format (computed once, when the certificate is uploaded; `prepare` uses it to
        check the signed document's size before it is numbered)."""

    def prepare(self, request: Any, issuer: Any, environment: str, now: datetime) -> PreparedDocument:
        """Validates a CreateDocumentRequest (models.document_request) for the issuer (models.issuers.Issuer)
        and computes its amounts; raises Unprocessable with a stable code and the request's field path."""

    def document_title(self, document_type: str) -> str:
        """What the document type is called where it is issued (emails, file names), e.g. "Factura"."""

    def number(self, prepared: PreparedDocument, sequence: int, document_id: str,
               environment: str) -> NumberedDocument:
        """The document's number and authority key for the sequence allocated to it. Deterministic: the
        same arguments always give the same result, so a retried document keeps its key."""

    # Document lifecycle, one call per workflow task (services/workflow.py). `document` is the stored
    # document item; `environment` is "test" or "live" (the API key's environment).
    def sign(self, document: Mapping[str, Any], key: Any, cert: Any) -> bytes:
        """The document in the authority's format, signed with the issuer's private key and certificate.
        `document` carries `content`, `number`, `access_key` and `environment` as stored."""

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        """Sends the signed document; raises AuthorityUnavailable when the call may simply be repeated."""

    def poll(self, document: Mapping[str, Any], environment: str) -> PollOutcome:
        """What the authority has done with the document, asked by its key: its decision, "processing",
        or "unknown" when it has no such document. Also asked before a document is sent again, so
        that one the authority already has is never sent twice. Raises AuthorityUnavailable like submit."""

    def render(self, document: Mapping[str, Any], authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        """The printable PDF of an authorized document (`authorized` is PollOutcome.document), with the
        issuer's `logo` (PNG or JPEG bytes, as services.logos stores it) when it has one, its labels,
        numbers and dates in `language` (the issuer's; the authority's own legends stay as the authority
        wrote them)."""


def supported_countries() -> tuple[str, ...]:
    return tuple(_PLUGINS)


def get_plugin(country: str, *, path: str = "country") -> CountryPlugin:
    module = _PLUGINS.get((country or "").upper())
    if module is None:
        raise Unprocessable(_l("Country {country} is not supported; supported: {supported}.",
                               country=repr(country), supported=", ".join(_PLUGINS)),
                            code="unsupported_country", path=path)
    return importlib.import_module(module).plugin


# The errors each plugin raises, for the OpenAPI document: `<plugin module>.error_examples` holds
# TAX_ID_CODES (normalize_tax_id), DOCUMENT_CODES (prepare) and `examples()`
# (sello.error_examples.ErrorExample). The modules hold data only, so reading them loads no plugin.

def error_example_modules() -> tuple[str, ...]:
    return tuple(f"{module}.error_examples" for module in _PLUGINS.values())


def _codes(name: str) -> tuple[str, ...]:
    codes: dict[str, None] = {}
    for module in error_example_modules():
        codes.update(dict.fromkeys(getattr(importlib.import_module(module), name)))
    return tuple(codes)


def tax_id_error_codes() -> tuple[str, ...]:
    """The codes an issuer's tax id check (`normalize_tax_id`) answers in any country."""
    return _codes("TAX_ID_CODES")


def document_error_codes() -> tuple[str, ...]:
    """The codes a document request's checks (`prepare`) answer in any country."""
    return _codes("DOCUMENT_CODES")
