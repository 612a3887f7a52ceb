"""Ecuador (SRI) behind the CountryPlugin interface: issuer-side parts."""

from __future__ import annotations

from cryptography import x509

from sello.countries.ec import certificates, tax_ids
from sello.countries.ec.issuer_flags import EcuadorIssuerFlags


class EcuadorPlugin:
    code = "EC"
    name = "Ecuador"
    authority = "SRI"
    tax_id_name = "RUC"
    issuer_flags_model = EcuadorIssuerFlags

    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        return tax_ids.validate_ruc(tax_id, path=path)

    def certificate_tax_ids(self, certificate: x509.Certificate) -> set[str]:
        return certificates.certificate_tax_ids(certificate)

    def certificate_matches(self, certificate: x509.Certificate, tax_id: str) -> bool:
        return certificates.certificate_matches(certificate, tax_id)


plugin = EcuadorPlugin()
