"""Signing certificates as stored: the record (public metadata plus the private key sealed with a KMS
data key) and the summary kept with the issuer, which every function that reads an issuer loads. What
the certificate routes take and answer is in models.certificate_api."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from sello.models.common import Model, absent

if TYPE_CHECKING:
    from sello.adapters.kms import Sealed

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

SERIAL_EXAMPLE, SUBJECT_EXAMPLE = "5BAA826812650BCC", "CN=ANA PEREZ,O=COMERCIAL DEMO S.A.,C=EC"
CA_EXAMPLE = ("CN=AUTORIDAD DE CERTIFICACION SUBCA-2 SECURITY DATA,OU=ENTIDAD DE CERTIFICACION DE INFORMACION,"
       "O=SECURITY DATA S.A. 2,C=EC")
NUMBER_DESCRIPTION = ("The number the tax authority knows the certificate by, where it is not the serial (Mexico: "
           "NoCertificado); absent otherwise.")


class CertificateSummary(Model):
    serial: str = Field(description="Serial number, hexadecimal.", examples=[SERIAL_EXAMPLE])
    subject: str = Field(examples=[SUBJECT_EXAMPLE])
    valid_from: datetime
    valid_to: datetime
    status: CertificateStatus = "active"
    trusted: bool = Field(
        default=False, description="Whether the certificate chains to a certification authority recognised "
        "in the issuer's country. Only such a certificate signs live documents; any signs test documents.")
    # Kept with the issuer for the size check of its documents (Certificate.signature_size); not shown.
    signature_size: int | None = Field(default=None, exclude=True)
    number: str | None = absent(description=NUMBER_DESCRIPTION, examples=["30001000000500003416"])

    def at(self, now: datetime) -> CertificateSummary:
        return self.model_copy(update={"status": certificate_status(self.valid_to, now)})
