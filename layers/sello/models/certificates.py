"""Signing certificates: the upload bodies of the neutral format (a PKCS#12 file; which files an upload
takes is the country's, see models.certificate_files), the stored record (public metadata plus the
private key sealed with a KMS data key) and the views, which never carry key material."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from sello.adapters.kms import Sealed
from sello.models.common import EmailStr, Model, RequestBody, absent

# A certificate within this many days of its end is `expiring`; uploading one is accepted with a warning.
EXPIRING_DAYS = 30
MAX_PASSWORD_LENGTH = 1024

CertificateStatus = Literal["active", "expiring", "expired"]
Password = Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH,
                                description="The file's password; it is never stored.",
                                examples=["clave-del-certificado"])]


def certificate_status(valid_to: datetime, now: datetime) -> CertificateStatus:
    if now >= valid_to:
        return "expired"
    if valid_to - now <= timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "active"


# Request bodies --------------------------------------------------------------------------------

class UploadCertificateRequest(RequestBody):
    """The JSON form of PUT /v1/issuers/{id}/certificate."""

    model_config = ConfigDict(defer_build=True)  # built by the first upload, not by every function

    p12_base64: str = Field(min_length=1, description="The PKCS#12 file (.p12/.pfx), base64-encoded.",
                            examples=["MIIKYQIBAzCCChcGCSqGSIb3DQEHAaCCCggEggoEMIIKADCCBLcGCSqGSIb3DQEHBqCCBKgw..."])
    password: Password
    notification_email: EmailStr | None = Field(
        default=None, description="Receives the result of this upload and the expiry warnings.")


class UploadCertificateForm(RequestBody):
    """The multipart/form-data form of PUT /v1/issuers/{id}/certificate."""

    model_config = ConfigDict(defer_build=True)

    certificate: bytes = Field(description="The PKCS#12 file (.p12/.pfx).")
    password: Password
    notification_email: EmailStr | None = Field(
        default=None, description="Receives the result of this upload and the expiry warnings.")


# Records ---------------------------------------------------------------------------------------

@dataclass
class Certificate:
    """A certificate as stored. `private_key` is None once the certificate has been replaced."""

    account_id: str
    issuer_id: str
    serial: str  # hexadecimal, upper case
    subject: str
    issuer: str
    valid_from: datetime
    valid_to: datetime
    fingerprint_sha256: str
    tax_ids: list[str]
    certificate_der: bytes
    status: Literal["active", "replaced"]
    uploaded_at: datetime
    notification_email: str | None = None
    private_key: Sealed | None = None
    replaced_at: datetime | None = None
    warnings_sent: set[int] = field(default_factory=set)  # expiry warnings already emailed (days before)
    # Chains to a certification authority the country recognises (checked on upload); only then does
    # it sign live documents. Records stored before the check existed read as False.
    trusted: bool = False
    # At most how many bytes the authority's signature with this certificate adds to a document (the
    # country plugin's signature_size); None for certificates stored before it was recorded.
    signature_size: int | None = None
    # The number the authority knows the certificate by (the plugin's certificate_number), when the
    # country has one; None otherwise.
    number: str | None = None


# Views -----------------------------------------------------------------------------------------

class CertificateWarning(Model):
    code: str = Field(examples=["certificate_expiring"])
    message: str = Field(examples=[("The certificate expires on 2026-04-30 (in 28 days); upload its replacement "
                                    "before then.")])
    _text: Any = PrivateAttr(default=None)  # the message as a sello.i18n.Message, to translate

    @classmethod
    def of(cls, code: str, text: Any) -> CertificateWarning:
        warning = cls(code=code, message=str(text))
        warning._text = text
        return warning

    def localized(self, translator: Any) -> str:
        return translator.text(self._text) if self._text is not None else self.message

    def in_language(self, translator: Any) -> CertificateWarning:
        return self.model_copy(update={"message": self.localized(translator)})


_SERIAL, _SUBJECT = "5BAA826812650BCC", "CN=ANA PEREZ,O=COMERCIAL DEMO S.A.,C=EC"
_CA = ("CN=AUTORIDAD DE CERTIFICACION SUBCA-2 SECURITY DATA,OU=ENTIDAD DE CERTIFICACION DE INFORMACION,"
       "O=SECURITY DATA S.A. 2,C=EC")
_NUMBER = ("The number the tax authority knows the certificate by, where it is not the serial (Mexico: "
           "NoCertificado); absent otherwise.")


class CertificateSummary(Model):
    serial: str = Field(description="Serial number, hexadecimal.", examples=[_SERIAL])
    subject: str = Field(examples=[_SUBJECT])
    valid_from: datetime
    valid_to: datetime
    status: CertificateStatus = "active"
    trusted: bool = Field(
        default=False, description="Whether the certificate chains to a certification authority recognised "
        "in the issuer's country. Only such a certificate signs live documents; any signs test documents.")
    # Kept with the issuer for the size check of its documents (Certificate.signature_size); not shown.
    signature_size: int | None = Field(default=None, exclude=True)
    number: str | None = absent(description=_NUMBER, examples=["30001000000500003416"])

    def at(self, now: datetime) -> CertificateSummary:
        return self.model_copy(update={"status": certificate_status(self.valid_to, now)})


class CertificateHistoryEntry(Model):
    serial: str = Field(examples=["3E1F0A77C2D94B10"])
    number: str | None = absent(description=_NUMBER, examples=["30001000000500003416"])
    subject: str = Field(examples=[_SUBJECT])
    issuer: str = Field(examples=[_CA])
    valid_from: datetime
    valid_to: datetime
    status: Literal["replaced"] = "replaced"
    uploaded_at: datetime
    replaced_at: datetime | None = None


class CertificateView(Model):
    """Public metadata of the issuer's active certificate: never the key or the password."""

    object: str = "certificate"
    issuer_id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    serial: str = Field(description="Serial number, hexadecimal.", examples=[_SERIAL])
    number: str | None = absent(description=_NUMBER, examples=["30001000000500003416"])
    subject: str = Field(examples=[_SUBJECT])
    issuer: str = Field(description="The certification authority that issued it.", examples=[_CA])
    valid_from: datetime
    valid_to: datetime
    status: CertificateStatus
    tax_ids: list[str] = Field(description="Tax ids (RUC, cédula) the certificate carries.",
                               examples=[["1790016919001"]])
    trusted: bool = Field(
        default=False, description="Whether the certificate chains to a certification authority recognised "
        "in the issuer's country. Only such a certificate signs live documents; any signs test documents.")
    fingerprint_sha256: str = Field(examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    notification_email: str | None = Field(default=None, examples=["facturacion@example.com"])
    uploaded_at: datetime
    warnings: list[CertificateWarning] = Field(default_factory=list)
    history: list[CertificateHistoryEntry] = Field(
        default_factory=list, description="Certificates this one replaced, newest first.")
