"""Mexico's request bodies beyond the documents' (requests.py): the issuer (what every issuer has,
and Mexico's régimen, fiscal zip and branches) and the certificate upload (the SAT pair: .cer and
.key, as two files in a form or base64 in JSON, with the key's password)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from sello.countries.mx.issuer import MexicoIssuerFields, validate_issuer
from sello.models.certificate_files import CertificateFile, CertificateUpload
from sello.models.certificates import Password
from sello.models.common import EmailStr, RequestBody
from sello.models.issuer_api import IssuerFields

ISSUER_EXAMPLE = {
    "country": "MX", "tax_id": "EKU9003173C9", "legal_name": "ESCUELA KEMPER URGATE",
    "trade_name": "Kemper Urgate", "email": "facturacion@example.com", "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                  "series": {"invoice": "A", "credit_note": "NC"}}],
}


class MexicoIssuerRequest(IssuerFields, MexicoIssuerFields):
    """A Mexican issuer: its RFC (check digit included), its legal name as registered with SAT (without
    the capital regime, e.g. no "SA DE CV"), its régimen fiscal, its fiscal zip code and its branches,
    each issuing from its own zip code (LugarExpedicion) with a series per document type."""

    model_config = ConfigDict(title="México", json_schema_extra={"examples": [ISSUER_EXAMPLE]})

    @model_validator(mode="after")
    def _sat_rules(self) -> MexicoIssuerRequest:
        """SAT's rules on the whole issuer (catalogs, the régimen for the RFC's person type, the name):
        Unprocessable with the field's path."""
        checked = validate_issuer(self.tax_id, self.legal_name, self)
        self.tax_id = checked.tax_id
        return self


_NOTIFICATION = "Receives the result of this upload and the expiry warnings."


class CsdJson(RequestBody):
    """The CSD (Certificado de Sello Digital) as SAT delivers it, each file base64-encoded."""

    cer_base64: str = Field(min_length=1, description="The certificate (.cer, DER), base64-encoded.")
    key_base64: str = Field(min_length=1, description="The private key (.key, PKCS#8 DER encrypted with the "
                                                      "CSD's password), base64-encoded.")
    password: Password
    notification_email: EmailStr | None = Field(default=None, description=_NOTIFICATION)


class CsdForm(RequestBody):
    """The CSD (Certificado de Sello Digital) as SAT delivers it: two files and the key's password."""

    cer: bytes = Field(description="The certificate (.cer, DER).")
    key: bytes = Field(description="The private key (.key, PKCS#8 DER encrypted with the CSD's password).")
    password: Password
    notification_email: EmailStr | None = Field(default=None, description=_NOTIFICATION)


CSD_UPLOAD = CertificateUpload(title="CSD (.cer + .key)",
                               files=(CertificateFile("cer", "cer_base64"), CertificateFile("key", "key_base64")),
                               json_model=CsdJson, form_model=CsdForm)
