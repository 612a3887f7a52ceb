"""What the certificate routes take and answer: the upload bodies of the neutral format (a PKCS#12 file;
which files an upload takes is the country's, see models.certificate_files) and the certificate's view,
which never carries key material. Apart from the stored records (models.certificates), which every
function that reads an issuer loads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from sello.models.certificates import (
    CA_EXAMPLE,
    NUMBER_DESCRIPTION,
    SERIAL_EXAMPLE,
    SUBJECT_EXAMPLE,
    CertificateStatus,
    Password,
)
from sello.models.common import EmailStr, Model, RequestBody, absent


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


class CertificateHistoryEntry(Model):
    serial: str = Field(examples=["3E1F0A77C2D94B10"])
    number: str | None = absent(description=NUMBER_DESCRIPTION, examples=["30001000000500003416"])
    subject: str = Field(examples=[SUBJECT_EXAMPLE])
    issuer: str = Field(examples=[CA_EXAMPLE])
    valid_from: datetime
    valid_to: datetime
    status: Literal["replaced"] = "replaced"
    uploaded_at: datetime
    replaced_at: datetime | None = None


class CertificateView(Model):
    """Public metadata of the issuer's active certificate: never the key or the password."""

    object: str = "certificate"
    issuer_id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    serial: str = Field(description="Serial number, hexadecimal.", examples=[SERIAL_EXAMPLE])
    number: str | None = absent(description=NUMBER_DESCRIPTION, examples=["30001000000500003416"])
    subject: str = Field(examples=[SUBJECT_EXAMPLE])
    issuer: str = Field(description="The certification authority that issued it.", examples=[CA_EXAMPLE])
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
