"""The clave de acceso: SRI's 49-digit key of a document, which in the offline scheme is also its
authorization number (ficha técnica §5.2, Tabla 1).

    ddmmaaaa | codDoc | RUC (13) | ambiente | serie estab+ptoEmi (6) | secuencial (9) |
    código numérico (8) | tipo de emisión | dígito verificador

The check digit is módulo 11 over the first 48 digits, weighted 2, 3, 4, 5, 6, 7, 2, 3, … from the
rightmost digit leftwards; d = 11 − (sum mod 11), with 11 → 0 and 10 → 1."""

from __future__ import annotations

from datetime import date

from sello.countries.ec.catalogs import EMISSION_TYPE

LENGTH = 49
# Field name -> slice of the key.
FIELDS = {
    "issue_date": slice(0, 8),
    "doc_code": slice(8, 10),
    "ruc": slice(10, 23),
    "ambiente": slice(23, 24),
    "series": slice(24, 30),
    "sequence": slice(30, 39),
    "numeric_code": slice(39, 47),
    "emission_type": slice(47, 48),
    "check_digit": slice(48, 49),
}


def _digits(value: str, length: int, name: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise ValueError(f"{name} must be {length} digits, not {value!r}")
    return value


def check_digit(key48: str) -> int:
    """The módulo-11 check digit of the first 48 digits of a clave."""
    _digits(key48, LENGTH - 1, "The key without its check digit")
    total, weight = 0, 2
    for ch in reversed(key48):
        total += int(ch) * weight
        weight = 2 if weight == 7 else weight + 1
    digit = 11 - total % 11
    return 0 if digit == 11 else 1 if digit == 10 else digit


def access_key(issue_date: date, doc_code: str, ruc: str, ambiente: str, series6: str, sequence: int,
               numeric_code: str) -> str:
    """The 49-digit clave of a document; raises ValueError when a part has the wrong shape."""
    if not 1 <= sequence <= 999_999_999:
        raise ValueError(f"The secuencial must be 1 to 999999999, not {sequence}")
    key48 = "".join((
        issue_date.strftime("%d%m%Y"),
        _digits(doc_code, 2, "codDoc"),
        _digits(ruc, 13, "The RUC"),
        _digits(ambiente, 1, "The ambiente"),
        _digits(series6, 6, "The series"),
        f"{sequence:09d}",
        _digits(numeric_code, 8, "The código numérico"),
        EMISSION_TYPE,
    ))
    return key48 + str(check_digit(key48))


def parse(clave: str) -> dict:
    """The fields of a well-formed clave (strings; `issue_date` as a date); raises ValueError when it is
    not 49 digits or its date is impossible. The check digit is returned, not verified (see is_valid)."""
    _digits(clave, LENGTH, "A clave de acceso")
    fields: dict = {name: clave[part] for name, part in FIELDS.items()}
    raw = fields["issue_date"]
    fields["issue_date"] = date(int(raw[4:]), int(raw[2:4]), int(raw[:2]))
    return fields


def is_valid(clave: str) -> bool:
    """Whether the clave is 49 digits with a possible date and the right check digit."""
    try:
        parse(clave)
    except (TypeError, ValueError):
        return False
    return check_digit(clave[:48]) == int(clave[48])
