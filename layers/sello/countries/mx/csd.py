"""SAT certificates: the CSD pair an issuer uploads, and what Mexico reads from a certificate.

SAT issues two kinds of certificate to a taxpayer. The e.firma (FIEL) identifies the person before
SAT; invoices are sealed with a CSD (Certificado de Sello Digital), which the taxpayer requests with
the e.firma in SAT's Certifica application. Both come as a pair of files: the certificate (`.cer`,
X.509 DER) and its private key (`.key`, PKCS#8 DER encrypted with the password chosen when it was
requested). `load_pair` reads them as SAT delivers them, and also as PEM, and a certificate as the
base64 text of its DER (how a CFDI carries it in `Certificado`).

What a SAT certificate carries:
- the holder's RFC in the subject's x500UniqueIdentifier (OID 2.5.4.45), written "RFC / RFC of the
  legal representative" for a company; only the first one is the holder's (`certificate_rfcs`);
- the certificate number (NoCertificado, 20 digits) as the ASCII bytes of its serial number;
- the registered name in the organisation name; a company's CFDI uses it without the capital regime
  ("SA DE CV"), which `legal_name` drops;
- the kind: a FIEL also allows encipherment and key agreement and carries an extended key usage
  (e-mail protection, client authentication) and a Netscape certificate type; a CSD allows digital
  signature and non-repudiation only, with no other extension than basicConstraints (`is_fiel`).
  A CSD's organisational unit names the branch it was requested for, but not every CSD has one, so
  the unit is not used to tell them apart.

A CSD may seal live documents only when it chains to one of SAT's production certification
authorities: the ones satcfdi ships (`satcfdi/transform/CertsProd.zip`, read in place, once per
process), plus any the operator adds (settings.trusted_ca_path). Certificates of SAT's test CA
(AC UAT, the test CSDs PAC sandboxes accept) are not trusted: they sign test documents only."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_private_key,
    load_pem_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sello.countries import trust
from sello.errors import Unprocessable
from sello.i18n import _l

MIN_RSA_BITS = 2048
NETSCAPE_CERT_TYPE = x509.ObjectIdentifier("2.16.840.1.113730.1.1")
# Extended key usages of a FIEL (a CSD has no extended key usage at all).
FIEL_KEY_PURPOSES = frozenset({ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH})
# RFC: 3 letters (company) or 4 (person), the date yymmdd, a 3-character homoclave. Ñ and & are letters.
RFC_PATTERN = re.compile(r"^[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}$")
COMPANY_RFC_LENGTH = 12
# Capital regimes a company's registered name ends with, and which CFDI 4.0 names leave out. Each may
# be followed by "DE CV" (capital variable); a bare "S" only so.
_REGIMES = ("SA", "SAB", "SAPI", "SAPIB", "SAS", "SC", "AC", "S DE RL", "S EN C", "S EN C POR A", "S EN NC",
            "SPR DE RL", "SPR DE RI")
_REGIME_SUFFIXES = sorted({*_REGIMES, *(f"{r} DE CV" for r in _REGIMES), "S DE CV"}, key=len, reverse=True)
_REGIME_AT_END = re.compile(r"^(?P<name>.*\S)\s+(?:" + "|".join(re.escape(s) for s in _REGIME_SUFFIXES)
                            + r")$")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")

PRODUCTION_CA_BUNDLE = ("transform", "CertsProd.zip")  # inside the satcfdi package


# Reading the pair ---------------------------------------------------------------------------------

def _pem_label(data: bytes) -> str | None:
    found = _PEM_BLOCK.search(data[:4096])
    return found.group(1).decode("ascii") if found else None


def _base64_der(data: bytes) -> bytes | None:
    try:
        decoded = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded[:1] == b"\x30" else None


def _is_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    return True


def _looks_like_private_key(data: bytes) -> bool:
    label = _pem_label(data)
    if label is not None:
        return "PRIVATE KEY" in label
    try:
        load_der_private_key(data, None)
    except TypeError:  # an encrypted key
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def read_certificate(data: bytes, *, path: str = "certificate") -> x509.Certificate:
    """The certificate of a `.cer` file: DER, PEM, or the base64 text of the DER."""
    if not data.strip():
        raise Unprocessable(_l("The certificate file (.cer) is empty."), code="invalid_certificate_file",
                            path=path)
    label = _pem_label(data)
    try:
        if label == "CERTIFICATE":
            return x509.load_pem_x509_certificate(data)
        if label is None:
            der = data if data[:1] == b"\x30" else _base64_der(data)
            if der is not None:
                return x509.load_der_x509_certificate(der)
    except ValueError:
        pass
    if _looks_like_private_key(data):
        raise Unprocessable(_l("This file is a private key (.key), not the certificate (.cer): send each "
                               "file of the pair in its own field."),
                            code="invalid_certificate_file", path=path)
    raise Unprocessable(_l("The file is not a certificate (.cer), or it is damaged."),
                        code="invalid_certificate_file", path=path)


def read_private_key(data: bytes, password: str, *, path: str = "private_key",
                     password_path: str = "password") -> rsa.RSAPrivateKey:
    """The private key of a `.key` file: PKCS#8 DER encrypted with `password`, as SAT delivers it;
    also PEM (PKCS#8, or OpenSSL's traditional RSA form) and an unencrypted key (the password is then
    not needed).

    A wrong password and a damaged file are told apart where the file allows it: the key's structure
    is read first without the password (a file that is not a key at all fails there), then decrypted.
    What fails after that is reported on the password: a wrong password mostly breaks the decryption's
    padding check, but about one time in 256 the padding happens to check and it decrypts to something
    that is not a key, which is also what damage inside the encrypted part does; nothing in the file
    tells those apart without the right password, so that answer names both."""

    def not_a_key(message=None) -> Unprocessable:
        return Unprocessable(message or _l("The file is not a private key (.key), or it is damaged."),
                             code="invalid_key_file", path=path)

    def wrong_password() -> Unprocessable:
        return Unprocessable(_l("The password does not open this private key (.key)."),
                             code="wrong_certificate_password", path=password_path)

    unreadable = _l("The private key (.key) is encrypted in a way this service cannot read.")
    if not data.strip():
        raise not_a_key(_l("The private key file (.key) is empty."))
    label = _pem_label(data)
    if label is not None and "PRIVATE KEY" not in label:
        if label == "CERTIFICATE":
            raise not_a_key(_l("This file is a certificate (.cer), not the private key (.key): send each "
                               "file of the pair in its own field."))
        raise not_a_key()
    load = load_pem_private_key if label is not None else load_der_private_key
    try:
        key = load(data, None)  # reads the structure; an encrypted key stops here asking for the password
    except TypeError:
        if not password:
            raise Unprocessable(_l("The private key (.key) is protected by a password; send it."),
                                code="wrong_certificate_password", path=password_path) from None
        try:
            key = load(data, password.encode())
        except ValueError as exc:
            # cryptography: "Incorrect password, could not decrypt key" when the padding check fails,
            # "Invalid private key" when it decrypts to something that is not a key (see above).
            if "password" in str(exc).lower():
                raise wrong_password() from None
            raise Unprocessable(_l("The password does not open this private key (.key), or the file is "
                                   "damaged."), code="wrong_certificate_password", path=password_path) from None
        except UnsupportedAlgorithm:
            raise not_a_key(unreadable) from None
    except UnsupportedAlgorithm:
        raise not_a_key(unreadable) from None
    except ValueError:
        if label is None and _is_certificate(_base64_der(data) or data):
            raise not_a_key(_l("This file is a certificate (.cer), not the private key (.key): send each "
                               "file of the pair in its own field.")) from None
        raise not_a_key() from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise Unprocessable(_l("The private key (.key) must be RSA of at least {bits} bits.",
                               bits=MIN_RSA_BITS), code="certificate_key_unsupported", path=path)
    return key


def _spki(public_key) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def load_pair(cer: bytes, key: bytes, password: str, *, cer_path: str = "certificate",
              key_path: str = "private_key", password_path: str = "password",
              ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The private key and certificate of a SAT pair, checked to belong together; Unprocessable with
    the code and path of the first problem: `invalid_certificate_file` (cer_path),
    `invalid_key_file` or `certificate_key_unsupported` (key_path), `wrong_certificate_password`
    (password_path), `certificate_key_mismatch` (key_path). The password is never repeated in a
    message. Whether the certificate is a CSD, its RFC, validity and issuer are checked apart."""
    certificate = read_certificate(cer, path=cer_path)
    private_key = read_private_key(key, password, path=key_path, password_path=password_path)
    try:
        matches = _spki(certificate.public_key()) == _spki(private_key.public_key())
    except (ValueError, UnsupportedAlgorithm):
        matches = False
    if not matches:
        raise Unprocessable(_l("The private key (.key) does not belong to this certificate (.cer): send the "
                               "two files SAT issued together."),
                            code="certificate_key_mismatch", path=key_path)
    return private_key, certificate


# What a certificate says ----------------------------------------------------------------------------

def _extension(certificate: x509.Certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def is_fiel(certificate: x509.Certificate) -> bool:
    """Whether the certificate is an e.firma (FIEL) rather than a CSD (see the module's notes)."""
    try:
        purposes = _extension(certificate, x509.ExtendedKeyUsage)
        usage = _extension(certificate, x509.KeyUsage)
        netscape = any(e.oid == NETSCAPE_CERT_TYPE for e in certificate.extensions)
    except ValueError:  # an extension that cannot be read: not the CSD SAT issues either
        return True
    if purposes is not None and FIEL_KEY_PURPOSES.intersection(purposes):
        return True
    if usage is not None and (usage.key_encipherment or usage.data_encipherment or usage.key_agreement):
        return True
    return netscape


def require_csd(certificate: x509.Certificate, *, path: str = "certificate") -> None:
    """Refuses an e.firma (FIEL) with its own code, and a certificate whose serial is not a SAT
    certificate number (a CFDI cannot name it in NoCertificado)."""
    if is_fiel(certificate):
        raise Unprocessable(_l(
            "This is an e.firma (FIEL) certificate. The e.firma identifies you before SAT; invoices are "
            "sealed with a CSD (Certificado de Sello Digital), a different certificate that you request with "
            "your e.firma in SAT's Certifica application. Upload the CSD's .cer and .key files."),
            code="certificate_is_fiel", path=path)
    try:
        certificate_number(certificate)
    except ValueError:
        raise Unprocessable(_l("The certificate's serial number is not a SAT certificate number "
                               "(NoCertificado): upload a CSD issued by SAT."),
                            code="certificate_not_from_sat", path=path) from None


def _subject_values(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in certificate.subject.get_attributes_for_oid(oid)]


def normalize_rfc(value: str) -> str:
    return "".join(value.split()).upper()


def certificate_rfcs(certificate: x509.Certificate) -> set[str]:
    """The RFC the certificate is issued to (the first RFC of its x500UniqueIdentifier): the only one it
    may seal for. A company's certificate also names its legal representative's RFC after a slash;
    that one is left out (it is a person's, and the certificate does not seal for that person)."""
    found = set()
    for value in _subject_values(certificate, NameOID.X500_UNIQUE_IDENTIFIER):
        holder = normalize_rfc(value.split("/")[0])
        if RFC_PATTERN.match(holder):
            found.add(holder)
    return found


def certificate_matches(certificate: x509.Certificate, rfc: str) -> bool:
    return normalize_rfc(rfc) in certificate_rfcs(certificate)


def certificate_number(certificate: x509.Certificate) -> str:
    """NoCertificado: SAT writes the 20-digit certificate number as the ASCII bytes of the serial
    (serial 0x3330303031… is 30001…). ValueError when the serial is not written so."""
    serial = certificate.serial_number
    raw = serial.to_bytes((serial.bit_length() + 7) // 8 or 1, "big")
    if len(raw) != 20 or not all(0x30 <= b <= 0x39 for b in raw):
        raise ValueError("the serial number is not a SAT certificate number")
    return raw.decode("ascii")


def legal_name(certificate: x509.Certificate) -> str | None:
    """The holder's name as a CFDI 4.0 writes it: the registered name (organisation name), without the
    capital regime for a company ("ESCUELA KEMPER URGATE SA DE CV" → "ESCUELA KEMPER URGATE")."""
    names = (_subject_values(certificate, NameOID.ORGANIZATION_NAME)
             or _subject_values(certificate, NameOID.NAME)
             or _subject_values(certificate, NameOID.COMMON_NAME))
    if not names:
        return None
    name = " ".join(names[0].split())
    if any(len(rfc) == COMPANY_RFC_LENGTH for rfc in certificate_rfcs(certificate)):
        found = _REGIME_AT_END.match(name)
        if found:
            return found.group("name")
    return name


# Trust ------------------------------------------------------------------------------------------------

def authorities_in_zip(source: str | Path | bytes) -> tuple[x509.Certificate, ...]:
    """The certificates in a zip of CA certificates as SAT publishes them (DER or PEM files); entries
    that are not certificates are skipped."""
    found: list[x509.Certificate] = []
    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith("/"):
                continue
            data = archive.read(name)
            try:
                if _pem_label(data) == "CERTIFICATE":
                    found.extend(x509.load_pem_x509_certificates(data))
                else:
                    found.append(x509.load_der_x509_certificate(data))
            except ValueError:
                continue
    return tuple(found)


def production_bundle_path() -> Path:
    """Where satcfdi keeps SAT's production CA certificates (found without importing satcfdi)."""
    spec = importlib.util.find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("satcfdi is not installed: SAT's production CA certificates come with it")
    return Path(next(iter(spec.submodule_search_locations)), *PRODUCTION_CA_BUNDLE)


@cache
def sat_authorities() -> tuple[x509.Certificate, ...]:
    """SAT's production certification authorities (read once per process, never written)."""
    return authorities_in_zip(production_bundle_path())


def certificate_trusted(certificate: x509.Certificate, chain: Iterable[x509.Certificate], now: datetime,
                        extra_authorities: Iterable[x509.Certificate] = ()) -> bool:
    """Whether the certificate chains to a SAT production CA (or one of `extra_authorities`), every
    link valid at `now` (sello.countries.trust)."""
    return trust.chains_to(certificate, chain, (*sat_authorities(), *extra_authorities), now)
