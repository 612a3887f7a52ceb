"""Country plugins. The API and the workflow pick a plugin by the issuer's country and never branch
on the country otherwise. Adding a country means adding a package here (its `plugin` module, and the
examples of its errors for the OpenAPI document: `error_examples`, see below) and one line in _PLUGINS.
What an authority answers the workflow's steps is in `outcomes`.

A plugin owns everything that differs between countries: the shape of the requests (the document
body, the issuer body, the certificate files), the tax id, the certificate rules, and each step of
a document's life (prepare, number, sign, submit, poll, render, authority_status), the cancellation of
an authorized document (cancel_request_model, cancellation_references, prepare_cancellation, cancel,
cancellation_status), and reading a document signed elsewhere (external_document). Some members are
optional: a plugin
that leaves one out gets NeutralCountry's (the country-neutral models, PKCS#12 certificates, no
rules of its own), since get_plugin hands out every plugin with those defaults behind it."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from sello.errors import Unprocessable
from sello.i18n import Message, _l

if TYPE_CHECKING:
    from sello.countries.outcomes import (
        CancellationOutcome,
        CancelOutcome,
        ExternalDocument,
        PollOutcome,
        SubmitOutcome,
    )
    from sello.models.certificate_files import CertificateUpload, UploadedFile

# ISO 3166 alpha-2 code -> the country's package, whose `plugin` module defines `plugin` (loaded by
# get_plugin: reading a country's error examples, or another country's request, loads no plugin).
_PLUGINS = {"EC": "sello.countries.ec", "MX": "sello.countries.mx"}


class AuthorityUnavailable(Exception):
    """The authority could not be reached or answered with a temporary failure (transport error, HTTP
    5xx, its own "internal error, try again"). The same call may be repeated later: the workflow
    retries a submission with backoff, and keeps polling until its deadline."""


@dataclass(frozen=True)
class Settlement:
    """What a payment document applies to an earlier document of the same issuer (services.settlements
    records it on that document when the payment is stored, and frees it when the payment ends rejected,
    failed or cancelled)."""

    document_id: str  # the document paid
    amount: Decimal  # what is paid of it, in its currency
    balance: Decimal  # what is left to pay of it after this payment
    # The paid document's `payments_version` when the plugin read it: the payment is stored only if it is
    # still the same, so two payments computed from the same balance never both count.
    version: int
    # What the paid document's view shows of this payment besides the amount (JSON-ready), e.g.
    # {"installment": 2, "paid_at": "2025-07-15T12:00:00"}.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedDocument:
    """A document request the plugin has validated and computed, ready to be numbered and stored.
    Nothing in it depends on the number yet, so a request that fails validation consumes none."""

    type: str  # the neutral type, e.g. "invoice"
    # The numbering series within (issuer, environment, type), as the plugin computes it from the request
    # and the issuer: Ecuador "001-001" (estab-ptoEmi); a country with named series its own name (e.g. a
    # branch's series "A"). Numbers are counted per series, whatever the country.
    series: str
    issue_date: date  # in the authority's time zone
    customer: dict[str, Any]  # name, tax_id, email (what models.documents.CustomerSummary shows)
    totals: dict[str, Any]  # currency, subtotal, discount, tax, total (Decimal)
    # Everything the plugin needs later to build the document (an issuer snapshot included), JSON-ready:
    # amounts as strings, dates as ISO strings. Stored with the document as it is.
    content: dict[str, Any]
    # A document to be paid later (a Mexican PPD invoice): what is to be paid, its total; None otherwise.
    balance: Decimal | None = None
    # A payment document: what it pays of each earlier document.
    settles: tuple[Settlement, ...] = ()


@dataclass(frozen=True)
class NumberedDocument:
    number: str  # the printed document number, e.g. "001-001-000000042"
    access_key: str  # the authority's key for the document (Ecuador: clave de acceso); "" if none


class CountryPlugin(Protocol):
    code: str  # "EC"
    name: str  # "Ecuador"
    authority: str  # "SRI"
    tax_id_name: str  # what the tax id is called in messages: "RUC"

    # Request bodies (optional: NeutralCountry has the defaults). Each is validated with the same
    # error answer as any body (422, a code and a path per problem, in the caller's language).
    # The body of POST /v1/documents for this country's issuers: the API reads `issuer_id` first, finds
    # the issuer, then validates the whole body with this model (`type` included, each country listing
    # its own types); `prepare` gets the result.
    document_request_model: type[BaseModel]
    # The same body, one model per document type (type -> model, each with `type` as a literal and an
    # example, titled "<country> · <type>"): shown in the OpenAPI document only, never run.
    document_request_variants: Mapping[str, type[BaseModel]]
    # The body of POST /v1/issuers whose `country` is this one (models.issuer_api.IssuerFields and the
    # country's own fields). Its fields are stored with the issuer as validated (models.issuers.Issuer)
    # and shown by its view; `prepare` reads them back (a country's own with `issuer.country_fields`).
    issuer_request_model: type[BaseModel]
    # Authority-specific issuer flags of the neutral issuer model (e.g. Ecuador's obligado a llevar
    # contabilidad); validated on registration.
    issuer_flags_model: type[BaseModel]
    # The certificate files PUT /v1/issuers/{id}/certificate takes (models.certificate_files.CertificateUpload):
    # their form fields, their JSON fields (base64) and the two body models.
    certificate_upload: CertificateUpload

    def load_credentials(self, files: Mapping[str, UploadedFile], password: str, *,
                         password_path: str = "password") -> tuple[Any, Any, list[Any]]:
        """(private key or None, certificate or None, the other certificates that came with them), read
        from the uploaded files (keyed by their names in `certificate_upload`) with the password. Raises
        Unprocessable at the file's path (UploadedFile.path) with `invalid_certificate_file` for a file
        that cannot be read, or at `password_path` with `wrong_certificate_password`. The generic checks
        (key present and RSA, key and certificate matching, usage, validity, tax id, trust) follow in
        services.certificates. Optional: PKCS#12 by default."""

    def check_certificate(self, certificate: Any, *, path: str) -> None:
        """The country's own rules on a certificate that passed the generic checks of its key and usage
        (e.g. a kind of certificate the authority does not take for signing documents): raises
        Unprocessable with the country's code at `path`. Optional: no rules by default."""

    # What the authority calls the number it authorizes a document with, as emails label it (a Message,
    # sello.i18n). Optional: "Authorization number" by default.
    authorization_label: Any

    def referenced_documents(self, request: Any) -> tuple[tuple[str, str], ...]:
        """(Sello document id, the request's field path) of each document the request names by its Sello
        id (e.g. the invoices a credit note credits), which the service looks up before `prepare`.
        Optional: none by default."""

    def resolve_references(self, request: Any, documents: Mapping[str, Any]) -> Any:
        """The request with what `prepare` needs of the documents it names by Sello id
        (`documents`: id -> models.documents.Document, each of this issuer, in this environment and
        authorized): e.g. a credit note's invoices by the authority's number, a payment's invoices
        with their content, totals, balance and earlier payments. May raise Unprocessable (at the
        request's path of the document) for a document that cannot be referenced so. Optional: the
        request as it is by default."""

    def certificate_number(self, certificate: Any) -> str | None:
        """The number the authority knows the certificate by, when it is not simply its serial (stored
        with the certificate and shown in its views); None otherwise. Optional: None by default."""

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
        """Validates a request (an instance of `document_request_model`) for the issuer
        (models.issuers.Issuer) and computes its amounts and its numbering series; raises Unprocessable
        with a stable code and the request's field path."""

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
        """Sends the signed document; raises AuthorityUnavailable when the call may simply be repeated.
        An authority that decides at once answers "authorized" with the authorized document, and nothing
        polls it; one that decides later answers "received"."""

    def poll(self, document: Mapping[str, Any], environment: str) -> PollOutcome:
        """What the authority has done with the document, asked by its key: its decision, "processing",
        or "unknown" when it has no such document. Also asked before a document is sent again, so
        that one the authority already has is never sent twice (an authority that decides at once
        answers "authorized" with what it decided then). Raises AuthorityUnavailable like submit."""

    def authority_status(self, document: Mapping[str, Any], environment: str) -> dict[str, Any] | None:
        """What the authority says of an authorized document now (`document` is the stored item, its
        `authorization_number` set): {"status", "cancelable", "cancellation_status", "details"} in the
        authority's words (models.documents.DocumentAuthorityStatus), asked of the authority each time.
        Raises AuthorityUnavailable when it cannot answer now. Optional: None by default, for an
        authority Sello cannot ask (the API answers 409 authority_status_not_available)."""

    def external_document(self, data: bytes, now: datetime) -> ExternalDocument:
        """Reads a document built and signed by another system for the authority (POST
        /v1/documents/stamp) and checks everything it can without the issuer: safely parsed, the
        authority's schema and rules, a type Sello handles, its date within what the authority
        accepts at `now`, and its signature over its content with the certificate it carries. Raises
        Unprocessable with a stable code and path per check. The service then checks the tax id and
        the certificate against the issuer, stores `data` as the signed document and runs the usual
        workflow (the sign task skips signing). Optional: by default a country takes none (422
        external_documents_not_supported)."""

    def render(self, document: Mapping[str, Any], authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        """The printable PDF of an authorized document (`authorized` is PollOutcome.document), with the
        issuer's `logo` (PNG or JPEG bytes, as services.logos stores it) when it has one, its labels,
        numbers and dates in `language` (the issuer's; the authority's own legends stay as the authority
        wrote them). A document whose `cancellation_status` is "accepted" or "expired" is cancelled: its
        PDF says so plainly."""

    # Orders from online stores (sello.stores): a module with `invoice(order, settings)` and
    # `credit_note(refund, invoice, settings)`, each the body of POST /v1/documents for this country's
    # issuers or sello.stores.NotInvoiceable with the reason. Optional: None by default (a country
    # whose issuers cannot connect a store).
    store_mapping: Any

    # Cancellation of an authorized document (services/cancellation.py). All optional: a country whose
    # authority has no cancellation service Sello can call leaves `cancel_request_model` None, and the
    # API answers 409 cancellation_not_available.
    # The body of POST /v1/documents/{id}/cancel for this country's documents (422s at its fields).
    cancel_request_model: type[BaseModel] | None

    def cancellation_references(self, request: Any) -> tuple[tuple[str, str], ...]:
        """(Sello document id, the request's field path) of each document the cancellation request names
        by its Sello id (Mexico: the substitute of motive 01), which the service looks up (this
        issuer's, same environment, authorized) before `prepare_cancellation`. Optional: none."""

    def prepare_cancellation(self, document: Mapping[str, Any], request: Any,
                             references: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Checks a cancellation request (an instance of `cancel_request_model`) of the stored, authorized
        `document`, with the documents it names (`references`: id -> stored item), and returns what to
        record with the cancellation (JSON-ready, stored as `cancellation_request` and handed back to
        `cancel`). Raises Unprocessable with a stable code and the request's field path."""

    def cancel(self, document: Mapping[str, Any], request: Mapping[str, Any], key: Any, cert: Any,
               environment: str) -> CancelOutcome:
        """Asks the authority to cancel the document (`request`: what `prepare_cancellation` returned),
        signing the request with the issuer's key and certificate when the authority wants it signed.
        Repeating the call for the same document is harmless (an authority that already has the request
        answers as the first time). Raises AuthorityUnavailable when the call may simply be repeated."""

    def cancellation_status(self, document: Mapping[str, Any], environment: str) -> CancellationOutcome:
        """How far the document's requested cancellation has come at the authority. Raises
        AuthorityUnavailable like `cancel`."""


class NoFlags(BaseModel):
    """The issuer flags of a country that has none: an empty object."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class NeutralCountry:
    """The optional members of a plugin, as a country that uses the country-neutral shapes has them:
    documents as models.document_request (establishment and emission point, one variant per type),
    issuers as models.issuer_api.CreateIssuerRequest (head office, establishments, emission points, and
    `flags` by `issuer_flags_model`), the certificate as a PKCS#12 file, no certificate rules of its own
    and no certificate number. A plugin inherits it or not: get_plugin serves what a plugin leaves out
    from here. Models are imported when first asked for, so a function that needs none loads none."""

    issuer_flags_model: type[BaseModel] = NoFlags

    @property
    def document_request_model(self) -> type[BaseModel]:
        from sello.models.document_request import CreateDocumentRequest

        return CreateDocumentRequest

    @property
    def document_request_variants(self) -> Mapping[str, type[BaseModel]]:
        from sello.models.document_request import VARIANTS

        return VARIANTS

    @property
    def issuer_request_model(self) -> type[BaseModel]:
        from sello.models.issuer_api import CreateIssuerRequest

        return CreateIssuerRequest

    @property
    def certificate_upload(self) -> CertificateUpload:
        from sello.models.certificate_files import PKCS12_UPLOAD

        return PKCS12_UPLOAD

    def load_credentials(self, files: Mapping[str, UploadedFile], password: str, *,
                         password_path: str = "password") -> tuple[Any, Any, list[Any]]:
        from sello.services import pkcs12

        return pkcs12.load_credentials(files, password, password_path=password_path)

    def check_certificate(self, certificate: Any, *, path: str) -> None:
        return None

    @property
    def authorization_label(self) -> Message:
        return _l("Authorization number")

    def referenced_documents(self, request: Any) -> tuple[tuple[str, str], ...]:
        return ()

    def resolve_references(self, request: Any, documents: Mapping[str, Any]) -> Any:
        return request

    def certificate_number(self, certificate: Any) -> str | None:
        return None

    def authority_status(self, document: Mapping[str, Any], environment: str) -> dict[str, Any] | None:
        return None

    def external_document(self, data: bytes, now: datetime) -> ExternalDocument:
        raise Unprocessable(_l("Documents signed elsewhere cannot be stamped for this issuer's country; issue "
                               "them with POST /v1/documents."),
                            code="external_documents_not_supported", path="issuer_id")

    cancel_request_model: type[BaseModel] | None = None
    store_mapping: Any = None

    def cancellation_references(self, request: Any) -> tuple[tuple[str, str], ...]:
        return ()


_NEUTRAL = NeutralCountry()


class _WithDefaults:
    """A plugin as get_plugin hands it out: its own members, and NeutralCountry's for those it leaves
    out (a plugin object is never changed)."""

    __slots__ = ("plugin",)

    def __init__(self, plugin: Any):
        self.plugin = plugin

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self.plugin, name)
        except AttributeError:
            return getattr(_NEUTRAL, name)

    def __repr__(self) -> str:
        return f"<country plugin {self.plugin!r}>"


def supported_countries() -> tuple[str, ...]:
    return tuple(_PLUGINS)


def get_plugin(country: str, *, path: str = "country") -> CountryPlugin:
    module = _PLUGINS.get((country or "").upper())
    if module is None:
        raise Unprocessable(_l("Country {country} is not supported; supported: {supported}.",
                               country=repr(country), supported=", ".join(_PLUGINS)),
                            code="unsupported_country", path=path)
    plugin = importlib.import_module(f"{module}.plugin").plugin
    return plugin if isinstance(plugin, NeutralCountry) else _WithDefaults(plugin)


# The errors each plugin raises, for the OpenAPI document: `<plugin module>.error_examples` holds
# TAX_ID_CODES (normalize_tax_id), DOCUMENT_CODES (prepare), CANCELLATION_CODES (prepare_cancellation;
# optional, none by default) and `examples()`
# (sello.error_examples.ErrorExample). The modules hold data only, so reading them loads no plugin.

def error_example_modules() -> tuple[str, ...]:
    return tuple(f"{module}.error_examples" for module in _PLUGINS.values())


def _codes(name: str) -> tuple[str, ...]:
    codes: dict[str, None] = {}
    for module in error_example_modules():
        codes.update(dict.fromkeys(getattr(importlib.import_module(module), name, ())))
    return tuple(codes)


def tax_id_error_codes() -> tuple[str, ...]:
    """The codes an issuer's tax id check (`normalize_tax_id`) answers in any country."""
    return _codes("TAX_ID_CODES")


def document_error_codes() -> tuple[str, ...]:
    """The codes a document request's checks (`prepare`) answer in any country."""
    return _codes("DOCUMENT_CODES")


def external_document_error_codes() -> tuple[str, ...]:
    """The codes reading a document signed elsewhere (`external_document`) answers in any country (a
    module's EXTERNAL_CODES; none for a country that takes no such document)."""
    return _codes("EXTERNAL_CODES")


def cancellation_error_codes() -> tuple[str, ...]:
    """The codes a cancellation request's checks (`prepare_cancellation`) answer in any country."""
    return _codes("CANCELLATION_CODES")
