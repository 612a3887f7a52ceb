"""What a PAC reads from the certificate embedded in a CFDI (its `Certificado`, base64 DER), written
from SAT's conventions with cryptography alone:

- the RFC is the first part of the subject's x500UniqueIdentifier (OID 2.5.4.45), which SAT writes
  as "RFC / RFC of the legal representative";
- NoCertificado is the serial number's bytes read as ASCII: 20 digits;
- a CSD (certificado de sello digital) is for sealing only: key usage digitalSignature and
  nonRepudiation, nothing else, and no extended key usage. A FIEL (e.firma) adds data encipherment,
  key agreement and an extended key usage (email protection, client authentication), four extensions
  where a CSD has two;
- the issuer is a SAT authority when the certificate verifies as directly issued by one of SAT's CA
  certificates (SAT issues CSDs directly, no intermediates)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SAT_ORGANIZATION = "SERVICIO DE ADMINISTRACION TRIBUTARIA"
# SAT's test authority (the issuer of SAT's public test CSDs); its certificates are not in satcfdi.
SAT_TEST_AUTHORITY = "AC UAT"


class Unreadable(ValueError):
    """The Certificado attribute is not a base64 X.509 certificate."""


def read(encoded: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(encoded.split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise Unreadable(f"el Certificado no es un certificado X.509 en base64: {exc}") from None


def rfc(certificate: x509.Certificate) -> str:
    """The holder's RFC; "" when the subject has no x500UniqueIdentifier."""
    values = certificate.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    if not values:
        return ""
    value = values[0].value
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return text.split("/")[0].strip()


def number(certificate: x509.Certificate) -> str:
    """NoCertificado: the serial number's bytes as ASCII (20 digits for SAT certificates)."""
    serial = certificate.serial_number
    raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return raw.hex()


def is_csd(certificate: x509.Certificate) -> bool:
    """True for a sealing certificate (CSD), False for a FIEL or anything else."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    try:
        certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        return False
    except x509.ExtensionNotFound:
        pass
    return (usage.digital_signature and usage.content_commitment and not usage.key_encipherment
            and not usage.data_encipherment and not usage.key_agreement and not usage.key_cert_sign)


def issued_by_any(certificate: x509.Certificate, authorities: Iterable[x509.Certificate]) -> bool:
    for authority in authorities:
        try:
            certificate.verify_directly_issued_by(authority)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def named_sat_test_authority(certificate: x509.Certificate) -> bool:
    """The issuer calls itself SAT's test authority (AC UAT): checked by name only."""
    common = [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)]
    organization = [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return common == [SAT_TEST_AUTHORITY] and organization == [SAT_ORGANIZATION]


def verify_sha256(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    """RSA PKCS#1 v1.5 with SHA-256, how SAT's sellos are made."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False
