"""Where Ecuadorian certification authorities put the holder's RUC and cédula in a certificate.

Each accredited CA has a private OID arc whose field 1 is the holder's cédula (or passport) and
field 11 the RUC; most write them as certificate extensions, some (Uanataca, Eclipsoft, Consejo de
la Judicatura) as otherName entries of the subjectAltName. The arcs below are the ones the
government's own signing tool (FirmaEC) reads. Besides those, the standard subject attributes
serialNumber, UID, x500UniqueIdentifier and organizationIdentifier, and the common name, are read
for any 13-digit (RUC) or 10-digit (cédula) number they contain.

A certificate may sign for a RUC when it carries that RUC, or, for a natural person's RUC
(cédula + establishment number), when it carries the holder's cédula.

It may sign live documents only when it chains to a certification authority accredited in Ecuador:
the roots and intermediates in trust/ (trust/README.md lists each one with its source and
fingerprint), plus any the operator adds (settings.trusted_ca_path)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from sello.countries import trust
from sello.countries.ec.tax_ids import RucKind, is_valid_cedula, is_valid_ruc, ruc_kind

TRUST_DIR = Path(__file__).resolve().parent / "trust"

# CA -> OID arc of its certificate fields (<arc>.1 cédula/passport, <arc>.11 RUC).
CA_FIELD_ARCS = {
    "Security Data": "1.3.6.1.4.1.37746.3",
    "Banco Central del Ecuador": "1.3.6.1.4.1.37947.3",
    "ANF AC": "1.3.6.1.4.1.18332.3",
    "Consejo de la Judicatura": "1.3.6.1.4.1.43745.1.3",
    "Uanataca": "1.3.6.1.4.1.47286.102.3",
    "Eclipsoft": "1.3.6.1.4.1.57153.102.3",
    "Datil": "1.3.6.1.4.1.52643.3",
    "Alpha Technologies": "1.3.6.1.4.1.56105.3",
    "CorpNewBest": "1.3.6.1.4.1.34380.3",
}
TAX_ID_OIDS = frozenset(f"{arc}.{field}" for arc in CA_FIELD_ARCS.values() for field in (1, 11))
SUBJECT_ATTRIBUTES = (
    NameOID.SERIAL_NUMBER,
    NameOID.USER_ID,
    NameOID.X500_UNIQUE_IDENTIFIER,
    NameOID.ORGANIZATION_IDENTIFIER,
    NameOID.COMMON_NAME,
)

_NUMBER = re.compile(r"(?<!\d)(\d{13}|\d{10})(?!\d)")
# DER tags of the string types CAs use for these values.
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def der_text(raw: bytes) -> str:
    """The text of a DER-encoded string value; raw bytes that are not one are read as text as-is."""
    if len(raw) >= 2 and raw[0] in _STRING_TAGS:
        length, start = raw[1], 2
        if length & 0x80:
            size = length & 0x7F
            length, start = int.from_bytes(raw[2:2 + size], "big"), 2 + size
        if start + length == len(raw):
            return raw[start:].decode(_STRING_TAGS[raw[0]], errors="replace")
    return raw.decode("utf-8", errors="replace")


def _texts(certificate: x509.Certificate) -> list[str]:
    texts = [str(attribute.value) for oid in SUBJECT_ATTRIBUTES
             for attribute in certificate.subject.get_attributes_for_oid(oid)]
    for extension in certificate.extensions:
        value = extension.value
        if extension.oid.dotted_string in TAX_ID_OIDS and isinstance(value, x509.UnrecognizedExtension):
            texts.append(der_text(value.value))
        elif isinstance(value, x509.SubjectAlternativeName):
            texts += [der_text(name.value) for name in value
                      if isinstance(name, x509.OtherName) and name.type_id.dotted_string in TAX_ID_OIDS]
    return texts


def certificate_tax_ids(certificate: x509.Certificate) -> set[str]:
    """Every valid RUC and cédula the certificate carries."""
    found = {number for text in _texts(certificate) for number in _NUMBER.findall(text)}
    return {n for n in found if (len(n) == 13 and is_valid_ruc(n)) or (len(n) == 10 and is_valid_cedula(n))}


def certificate_matches(certificate: x509.Certificate, ruc: str) -> bool:
    tax_ids = certificate_tax_ids(certificate)
    if ruc in tax_ids:
        return True
    return ruc_kind(ruc) is RucKind.NATURAL and ruc[:10] in tax_ids


@cache
def bundled_authorities() -> tuple[x509.Certificate, ...]:
    """The certification authorities shipped in trust/ (read once per process)."""
    return tuple(c for path in sorted(TRUST_DIR.glob("*.pem")) for c in trust.read_pem_certificates(path))


def certificate_trusted(certificate: x509.Certificate, chain: Iterable[x509.Certificate], now: datetime,
                        extra_authorities: Iterable[x509.Certificate] = ()) -> bool:
    return trust.chains_to(certificate, chain, (*bundled_authorities(), *extra_authorities), now)
