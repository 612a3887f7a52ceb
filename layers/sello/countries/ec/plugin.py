"""Ecuador (SRI) behind the CountryPlugin interface. Its request bodies are the neutral ones (it inherits
NeutralCountry): documents as models.document_request, issuers with establishments and emission points
and `flags` as EcuadorIssuerFlags, the certificate as a PKCS#12 file.

Each step lives in its own module and is imported when the step runs, so a function loads only what
it uses (the certificate checks, with cryptography's x509, only where certificates are uploaded): the API validates and numbers (documents, clave), the signing task builds and signs (xml,
xades), the submit and poll tasks talk to SRI (sri), the render task draws the RIDE (ride)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sello.countries import NeutralCountry, NumberedDocument, PreparedDocument
from sello.countries.ec import tax_ids
from sello.countries.ec.issuer_flags import EcuadorIssuerFlags
from sello.settings import get_settings

if TYPE_CHECKING:
    from cryptography import x509

    from sello.countries.outcomes import PollOutcome, SubmitOutcome


TITLES = {"invoice": "Factura", "credit_note": "Nota de crédito", "debit_note": "Nota de débito",
          "delivery_guide": "Guía de remisión", "withholding": "Comprobante de retención",
          "purchase_settlement": "Liquidación de compra"}

_client: list = []  # (settings, SriClient): one client per warm function, renewed when the settings change


def _sri():
    from sello.countries.ec.sri import SriClient

    settings = get_settings()
    if not _client or _client[0] is not settings:
        _client[:] = [settings, SriClient(settings)]
    return _client[1]


class EcuadorPlugin(NeutralCountry):
    code = "EC"
    name = "Ecuador"
    authority = "SRI"
    tax_id_name = "RUC"
    issuer_flags_model = EcuadorIssuerFlags

    @property
    def store_mapping(self):
        from sello.countries.ec import stores

        return stores

    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        return tax_ids.validate_ruc(tax_id, path=path)

    def certificate_tax_ids(self, certificate: x509.Certificate) -> set[str]:
        from sello.countries.ec import certificates

        return certificates.certificate_tax_ids(certificate)

    def certificate_matches(self, certificate: x509.Certificate, tax_id: str) -> bool:
        from sello.countries.ec import certificates

        return certificates.certificate_matches(certificate, tax_id)

    def certificate_trusted(self, certificate: x509.Certificate, chain: Iterable[x509.Certificate], *,
                            now: datetime, extra_authorities: Iterable[x509.Certificate] = ()) -> bool:
        from sello.countries.ec import certificates

        return certificates.certificate_trusted(certificate, chain, now, extra_authorities)

    def signature_size(self, certificate: x509.Certificate) -> int:
        from sello.countries.ec import xades

        return xades.signature_size(certificate)

    def document_title(self, document_type: str) -> str:
        return TITLES[document_type]

    def prepare(self, request: Any, issuer: Any, environment: str, now: datetime) -> PreparedDocument:
        from sello.countries.ec import documents

        return documents.prepare(request, issuer, environment, now)

    def number(self, prepared: PreparedDocument, sequence: int, document_id: str,
               environment: str) -> NumberedDocument:
        from sello.countries.ec import documents

        return documents.number(prepared, sequence, document_id, environment)

    def sign(self, document: Mapping[str, Any], key: Any, cert: Any) -> bytes:
        from sello.countries.ec import xades, xml

        unsigned = xml.build(document["content"], number=document["number"],
                             access_key=document["access_key"], environment=document["environment"])
        return xades.sign(unsigned, key, cert, algorithm=get_settings().sri_signature_algorithm)

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        return _sri().submit(signed_xml, environment)

    def poll(self, document: Mapping[str, Any], environment: str) -> PollOutcome:
        return _sri().authorize(document["access_key"], environment)

    def render(self, document: Mapping[str, Any], authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        from sello.countries.ec import ride

        return ride.render(authorized, logo=logo, language=language)


plugin = EcuadorPlugin()
