"""A second country, made up for the tests ("XN", Tierra Nueva), shaped the way Mexico differs from
Ecuador: its own issuer body (a tax regime, a fiscal zip code, branches with their own zip code and a
series per document type; no head office, establishments or flags), its own document body (a branch
instead of establishment and emission point, its own lines), its own certificate files (a DER
certificate and an encrypted PKCS#8 key, as two files), a certificate rule of its own and a certificate
number, numbers "<series>-<folio>", and an authority that stamps a document in its answer to the
submission. Registered only in the tests (tests.helpers.install_country), it proves that services and
handlers need no branch on the country: everything that differs comes through the plugin."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_der_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ConfigDict, Field, StringConstraints

from local import certs
from sello.countries import AuthorityUnavailable, NumberedDocument, PreparedDocument
from sello.countries.outcomes import PollOutcome, SubmitOutcome
from sello.errors import Unprocessable
from sello.models.certificate_files import CertificateFile, CertificateUpload, UploadedFile
from sello.models.certificates import Password
from sello.models.common import EmailStr, RequestBody, text
from sello.models.issuer_api import IssuerFields

CODE, NAME = "XN", "Tierra Nueva"
TAX_ID = "TNA010101AB1"
PASSWORD = "clave-de-prueba"
STAMPED_AT = "2026-03-02T10:15:00-06:00"

ZipCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
SeriesName = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}$")]
DocumentType = Literal["invoice", "credit_note"]


# Issuers ---------------------------------------------------------------------------------------------

class Branch(RequestBody):
    code: text(10) = Field(description="The branch's own code.")
    name: text(100)
    zip_code: ZipCode = Field(description="Where its documents are issued.")
    series: dict[DocumentType, SeriesName] = Field(min_length=1, description="Series per document type.")


class TierraNuevaIssuer(IssuerFields):
    """An issuer of Tierra Nueva: its regime, its fiscal zip code and its branches."""

    tax_regime: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
    zip_code: ZipCode
    branches: list[Branch] = Field(min_length=1, max_length=20)
    # Numbers too (kept as JSON numbers): what the authority registered of the issuer's size.
    employees: int = Field(default=1, ge=1)
    share_abroad: float = Field(default=0.0, ge=0, le=1)


ISSUER_BODY = {
    "country": CODE, "tax_id": TAX_ID, "legal_name": "Comercializadora del Valle",
    "email": "it@valle.example.com",
    "tax_regime": "601", "zip_code": "06000", "employees": 12, "share_abroad": 0.25,
    "branches": [{"code": "MTZ", "name": "Matriz", "zip_code": "06000",
                  "series": {"invoice": "A", "credit_note": "NC"}},
                 {"code": "NTE", "name": "Norte", "zip_code": "64000", "series": {"invoice": "B"}}],
}


# Documents -------------------------------------------------------------------------------------------

class Line(RequestBody):
    description: text(100)
    quantity: Annotated[Decimal, Field(gt=0, decimal_places=3)] = Decimal(1)
    unit_price: Annotated[Decimal, Field(ge=0, decimal_places=2)]
    product_key: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]


class Customer(RequestBody):
    tax_id: text(13)
    name: text(100)
    email: EmailStr | None = None


class TierraNuevaDocument(RequestBody):
    """A document of Tierra Nueva: its branch, not an establishment and an emission point."""

    type: DocumentType
    issuer_id: text(64)
    branch: text(10)
    customer: Customer
    lines: list[Line] = Field(min_length=1, max_length=50)
    related: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]] = Field(default_factory=list)


def document_body(issuer_id: str, **changes) -> dict:
    return {"type": "invoice", "issuer_id": issuer_id, "branch": "MTZ",
            "customer": {"tax_id": "XAXX010101000", "name": "Público en general",
                         "email": "buyer@example.com"},
            "lines": [{"description": "Consultoría", "quantity": "2", "unit_price": "150.00",
                       "product_key": "80101500"}], **changes}


class TierraNuevaInvoice(TierraNuevaDocument):
    model_config = ConfigDict(title=f"{NAME} · invoice",
                              json_schema_extra={"examples": [document_body("iss_3k9v0c2m1x7q8w4e5r6t")]})

    type: Literal["invoice"]


class TierraNuevaCreditNote(TierraNuevaDocument):
    model_config = ConfigDict(title=f"{NAME} · credit_note", json_schema_extra={"examples": [document_body(
        "iss_3k9v0c2m1x7q8w4e5r6t", type="credit_note", related=["5f2c8e0a-1b3d-4e6f-8a9b-0c1d2e3f4a5b"])]})

    type: Literal["credit_note"]


# Certificates ----------------------------------------------------------------------------------------

class PairJson(RequestBody):
    """The certificate and its key, each base64-encoded."""

    cer_base64: str = Field(min_length=1, description="The certificate (.cer, DER), base64-encoded.")
    key_base64: str = Field(min_length=1,
                            description="The private key (.key, encrypted PKCS#8 DER), base64-encoded.")
    password: Password
    notification_email: EmailStr | None = None


class PairForm(RequestBody):
    cer: bytes = Field(description="The certificate (.cer, DER).")
    key: bytes = Field(description="The private key (.key, encrypted PKCS#8 DER).")
    password: Password
    notification_email: EmailStr | None = None


PAIR_UPLOAD = CertificateUpload(title="certificate and key (.cer + .key)",
                                files=(CertificateFile("cer", "cer_base64"),
                                       CertificateFile("key", "key_base64")),
                                json_model=PairJson, form_model=PairForm)
TAX_ID_OID = x509.ObjectIdentifier("2.5.4.45")  # x500UniqueIdentifier, where its CA writes the tax id


def make_pair(*, tax_id: str = TAX_ID, key_slot: int = 41, password: str = PASSWORD, login: bool = False,
              other_key_slot: int | None = None, days: int = 700) -> tuple[bytes, bytes]:
    """(certificate DER, encrypted PKCS#8 DER key) issued by the local mini-CA; `login` makes a
    certificate meant for logging in (extended key usage clientAuth), which Tierra Nueva refuses for
    signing documents; `other_key_slot` certifies another key than the one returned."""
    key = certs.rsa_key(key_slot)
    certified = certs.rsa_key(other_key_slot) if other_key_slot is not None else key
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "COMERCIALIZADORA DEL VALLE"),
                                 x509.NameAttribute(TAX_ID_OID, tax_id)]))
        .issuer_name(certs.local_ca().certificate.subject).public_key(certified.public_key())
        .serial_number(int("3330303031303030303030353030303033343136", 16))
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
    )
    if login:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                        critical=False)
    certificate = builder.sign(certs.local_ca().key, hashes.SHA256())
    return (certificate.public_bytes(Encoding.DER),
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, BestAvailableEncryption(password.encode())))


def certificate_number(certificate: x509.Certificate) -> str:
    """Tierra Nueva numbers a certificate by the ASCII its serial spells (as Mexico's NoCertificado)."""
    raw = certificate.serial_number.to_bytes((certificate.serial_number.bit_length() + 7) // 8, "big")
    return raw.decode("ascii")


# The plugin --------------------------------------------------------------------------------------------

class TierraNueva:
    """The plugin: every member of its own where it differs from the neutral country; it inherits
    nothing (sello.countries fills in nothing it needs)."""

    code, name, authority, tax_id_name = CODE, NAME, "Servicio de Timbrado", "RFC"
    issuer_request_model = TierraNuevaIssuer
    document_request_model = TierraNuevaDocument
    document_request_variants = {"invoice": TierraNuevaInvoice, "credit_note": TierraNuevaCreditNote}
    certificate_upload = PAIR_UPLOAD

    def __init__(self):
        self.calls: Counter[str] = Counter()
        self.stamps: dict[str, str] = {}  # what the authority stamped: document number -> stamp number
        self.lose_answers = 0  # answers to submissions that are lost on the way back (after stamping)
        self.trusts = False

    # Issuers and certificates
    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        value = tax_id.strip().upper()
        if not re.fullmatch(r"[A-Z&Ñ]{3,4}[0-9]{6}[A-Z0-9]{3}", value):
            raise Unprocessable("Not an RFC.", code="invalid_tax_id", path=path)
        return value

    def certificate_tax_ids(self, certificate) -> set[str]:
        return {a.value for a in certificate.subject.get_attributes_for_oid(TAX_ID_OID)}

    def certificate_matches(self, certificate, tax_id: str) -> bool:
        return tax_id in self.certificate_tax_ids(certificate)

    def certificate_trusted(self, certificate, chain, *, now, extra_authorities=()) -> bool:
        return self.trusts

    def signature_size(self, certificate) -> int:
        return 400

    def load_credentials(self, files: Mapping[str, UploadedFile], password: str, *,
                         password_path: str = "password"):
        cer, key = files["cer"], files["key"]
        try:
            certificate = x509.load_der_x509_certificate(cer.data)
        except ValueError:
            raise Unprocessable("Not a DER certificate.", code="invalid_certificate_file",
                                path=cer.path) from None
        try:
            private_key = load_der_private_key(key.data, password.encode())
        except ValueError as exc:
            if "password" in str(exc).lower():
                raise Unprocessable("Wrong password.", code="wrong_certificate_password",
                                    path=password_path) from None
            raise Unprocessable("Not an encrypted PKCS#8 key.", code="invalid_certificate_file",
                                path=key.path) from None
        except TypeError:  # not encrypted: the authority issues keys only encrypted
            raise Unprocessable("The key is not encrypted.", code="invalid_certificate_file",
                                path=key.path) from None
        return private_key, certificate, []

    def check_certificate(self, certificate, *, path: str) -> None:
        try:
            usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return
        if ExtendedKeyUsageOID.CLIENT_AUTH in usages:
            raise Unprocessable("A login certificate does not sign documents.", code="certificate_login_only",
                                path=path)

    def certificate_number(self, certificate) -> str:
        return certificate_number(certificate)

    # Documents
    def document_title(self, document_type: str) -> str:
        return {"invoice": "Factura", "credit_note": "Nota de crédito"}[document_type]

    def prepare(self, request: TierraNuevaDocument, issuer, environment: str,
                now: datetime) -> PreparedDocument:
        self.calls["prepare"] += 1
        branches = {b["code"]: b for b in issuer.country_fields["branches"]}
        branch = branches.get(request.branch)
        if branch is None:
            raise Unprocessable("No such branch.", code="unknown_branch", path="branch")
        series = branch["series"].get(request.type)
        if series is None:
            raise Unprocessable("The branch has no series for this type.", code="series_required",
                                path="type")
        if request.type == "credit_note" and not request.related:
            raise Unprocessable("A credit note names what it credits.", code="related_required",
                                path="related")
        subtotal = sum((line.quantity * line.unit_price for line in request.lines), Decimal(0))
        tax = (subtotal * Decimal("0.16")).quantize(Decimal("0.01"))
        return PreparedDocument(
            type=request.type, series=series, issue_date=now.date(),
            customer=request.customer.model_dump(), totals={"currency": "MXN", "subtotal": subtotal,
                                                            "tax": tax, "total": subtotal + tax},
            content={"branch": branch["code"], "zip_code": branch["zip_code"],
                     "regime": issuer.country_fields["tax_regime"],
                     "lines": [line.model_dump(mode="json") for line in request.lines]})

    def number(self, prepared: PreparedDocument, sequence: int, document_id: str,
               environment: str) -> NumberedDocument:
        return NumberedDocument(f"{prepared.series}-{sequence}", "")

    def sign(self, document, key, cert) -> bytes:
        self.calls["sign"] += 1
        return f"<Comprobante Serie-Folio='{document['number']}' Sello='{key}'/>".encode()

    # An authority that stamps at once, and stamps a document once: a resubmission of what it has
    # stamped is answered with the same stamp.
    def _stamped(self, number: str) -> PollOutcome:
        stamp = self.stamps[number]
        return PollOutcome("authorized", number=stamp, authorized_at=STAMPED_AT,
                           document=f"<Timbre UUID='{stamp}' Folio='{number}'/>".encode())

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        self.calls["submit"] += 1
        number = re.search(rb"Serie-Folio='([^']+)'", signed_xml).group(1).decode()
        self.stamps.setdefault(number, f"{len(self.stamps) + 1:08d}-0000-4000-8000-000000000000")
        if self.lose_answers:
            self.lose_answers -= 1
            raise AuthorityUnavailable("the answer to the stamp was lost")
        stamped = self._stamped(number)
        return SubmitOutcome("authorized", number=stamped.number, authorized_at=stamped.authorized_at,
                             document=stamped.document)

    def poll(self, document, environment: str) -> PollOutcome:
        self.calls["poll"] += 1
        number = document["number"]
        return self._stamped(number) if number in self.stamps else PollOutcome("unknown")

    def render(self, document, authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        self.calls["render"] += 1
        return b"%PDF-1.7 " + document["number"].encode() + b" " + authorized
