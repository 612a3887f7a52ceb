"""Whether a signing certificate chains to a trusted certification authority.

Each country plugin keeps the authorities it recognises (Ecuador: PEM files in countries/ec/trust/)
and asks `chains_to`; the operator may add more with settings.trusted_ca_path (`load_authorities`).

A trusted authority may be a root or an intermediate: a chain is accepted as soon as it reaches one.
The path is built from the certificates that came with the signing certificate (the PKCS#12 file's
other certificates) and the trusted ones, and checked link by link: each issuer's signature over the
certificate below it, and each issuer (the trusted one included) valid at the time, a CA by its
basicConstraints, within its pathLenConstraint and, when it has a keyUsage, allowed keyCertSign.
Revocation (CRL, OCSP) is not checked, nor is the signing certificate's own validity (the upload
checks that separately)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

# Longest chain looked at, trusted authority included: real ones have two or three certificates.
MAX_CHAIN = 6
PEM_SUFFIXES = (".pem", ".crt", ".cer")


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


def _extension(certificate: x509.Certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def can_issue(authority: x509.Certificate, now: datetime, below: int = 0) -> bool:
    """Whether `authority` may have issued a certificate now, with `below` CA certificates between
    that certificate and the signing certificate."""
    if not authority.not_valid_before_utc <= now < authority.not_valid_after_utc:
        return False
    try:
        constraints = _extension(authority, x509.BasicConstraints)
        usage = _extension(authority, x509.KeyUsage)
    except ValueError:  # an extension it carries cannot be read
        return False
    if constraints is None or not constraints.ca:
        return False
    if constraints.path_length is not None and constraints.path_length < below:
        return False
    return usage is None or usage.key_cert_sign


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def chains_to(certificate: x509.Certificate, chain: Iterable[x509.Certificate],
              authorities: Iterable[x509.Certificate], now: datetime) -> bool:
    """Whether `certificate` is issued, directly or through certificates of `chain`, by one of the
    trusted `authorities`, every link checked as the module says."""
    trusted = {_der(a): a for a in authorities}
    pool = [*trusted.items(), *((_der(c), c) for c in chain)]

    def reaches(current: x509.Certificate, below: int, seen: frozenset[bytes]) -> bool:
        for der, issuer in pool:
            if (issuer.subject != current.issuer or der in seen or not can_issue(issuer, now, below)
                    or not _signed_by(current, issuer)):
                continue
            if der in trusted:
                return True
            if len(seen) + 1 < MAX_CHAIN and reaches(issuer, below + 1, seen | {der}):
                return True
        return False

    return reaches(certificate, 0, frozenset({_der(certificate)}))


def read_pem_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file; ValueError when it holds none or one cannot be read."""
    certificates = x509.load_pem_x509_certificates(path.read_bytes())
    if not certificates:
        raise ValueError(f"{path} holds no PEM certificate")
    return certificates


def load_authorities(spec: str) -> tuple[x509.Certificate, ...]:
    """The certificates named by settings.trusted_ca_path: PEM files, or folders whose .pem, .crt
    and .cer files are read, several separated by the path separator (":"). Empty: none. A path that
    does not exist or a file without a readable certificate is a configuration error (ValueError)."""
    found: list[x509.Certificate] = []
    for part in filter(None, (p.strip() for p in spec.split(os.pathsep))):
        path = Path(part)
        if path.is_dir():
            files: Sequence[Path] = sorted(p for p in path.iterdir()
                                           if p.is_file() and p.suffix.lower() in PEM_SUFFIXES)
        elif path.is_file():
            files = [path]
        else:
            raise ValueError(f"trusted_ca_path: {path} does not exist")
        for file in files:
            try:
                found += read_pem_certificates(file)
            except ValueError as exc:
                raise ValueError(f"trusted_ca_path: {file} is not a PEM certificate file ({exc})") from None
    return tuple(found)
