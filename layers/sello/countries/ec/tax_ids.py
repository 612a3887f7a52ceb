"""Ecuadorian identification numbers: the cédula (natural persons) and the RUC (every taxpayer).

Cédula: 10 digits; province 01–24 or 30 (Ecuadorians registered abroad); third digit 0–5; the tenth
digit is a módulo-10 check over the first nine with coefficients 2,1,2,1,… (products over 9 lose 9).

RUC: 13 digits, same province rule, and the third digit says who holds it:
- 0–5 natural person: the holder's cédula followed by an establishment number 001…999;
- 6 public entity: módulo-11 check at the 9th digit (weights 3,2,7,6,5,4,3,2), then 0001…9999;
- 9 private company: módulo-11 check at the 10th digit (weights 4,3,2,7,6,5,4,3,2), then 001…999.
In módulo 11 the check digit is 11 − (sum mod 11), with 11 → 0; a result of 10 never yields a valid number.
"""

from __future__ import annotations

from enum import StrEnum

from sello.errors import Unprocessable
from sello.i18n import TranslatedValueError, _l

PROVINCES = frozenset([f"{n:02d}" for n in range(1, 25)] + ["30"])
_PUBLIC_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
_PRIVATE_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2)


class RucKind(StrEnum):
    NATURAL = "natural_person"
    PUBLIC = "public_entity"
    PRIVATE = "private_company"


class InvalidTaxId(TranslatedValueError):
    """The number breaks a rule; the message (`text`, translatable) says which."""


def _modulo10(digits: str) -> int:
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def _modulo11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The check digit, or None when no digit can satisfy the check (11 − r = 10)."""
    rest = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    if rest == 11:
        return 0
    return None if rest == 10 else rest


def _digits(value: str, length: int, name: str) -> str:
    if not isinstance(value, str) or len(value) != length or not value.isascii() or not value.isdigit():
        raise InvalidTaxId(_l("A {name} has exactly {length} digits.", name=name, length=length))
    if value[:2] not in PROVINCES:
        raise InvalidTaxId(_l("A {name} starts with a province code 01–24 or 30, not {start}.", name=name,
                              start=value[:2]))
    return value


def check_cedula(value: str) -> str:
    """Returns the cédula or raises InvalidTaxId."""
    cedula = _digits(value, 10, "cédula")
    if cedula[2] > "5":
        raise InvalidTaxId(_l("The third digit of a cédula is 0–5."))
    if _modulo10(cedula[:9]) != int(cedula[9]):
        raise InvalidTaxId(_l("The cédula's check digit is wrong."))
    return cedula


def ruc_kind(value: str) -> RucKind:
    """Validates a RUC and says who holds it; raises InvalidTaxId."""
    ruc = _digits(value, 13, "RUC")
    third = ruc[2]
    if third <= "5":
        try:
            check_cedula(ruc[:10])
        except InvalidTaxId as exc:
            raise InvalidTaxId(_l("A natural person's RUC starts with a valid cédula: {reason}",
                                  reason=exc.text)) from None
        if ruc[10:] == "000":
            raise InvalidTaxId(_l("A RUC ends with an establishment number 001 or higher."))
        return RucKind.NATURAL
    if third == "6":
        if _modulo11(ruc[:8], _PUBLIC_WEIGHTS) != int(ruc[8]):
            raise InvalidTaxId(_l("The RUC's check digit is wrong."))
        if ruc[9:] == "0000":
            raise InvalidTaxId(_l("A public entity's RUC ends with 0001 or higher."))
        return RucKind.PUBLIC
    if third == "9":
        if _modulo11(ruc[:9], _PRIVATE_WEIGHTS) != int(ruc[9]):
            raise InvalidTaxId(_l("The RUC's check digit is wrong."))
        if ruc[10:] == "000":
            raise InvalidTaxId(_l("A RUC ends with an establishment number 001 or higher."))
        return RucKind.PRIVATE
    raise InvalidTaxId(_l("The third digit of a RUC is 0–6 or 9."))


def is_valid_ruc(value: str) -> bool:
    try:
        ruc_kind(value)
    except InvalidTaxId:
        return False
    return True


def is_valid_cedula(value: str) -> bool:
    try:
        check_cedula(value)
    except InvalidTaxId:
        return False
    return True


def validate_ruc(value: str, *, path: str = "tax_id") -> str:
    """The RUC without surrounding blanks, or Unprocessable(code="invalid_tax_id")."""
    ruc = (value or "").strip()
    try:
        ruc_kind(ruc)
    except InvalidTaxId as exc:
        raise Unprocessable(_l("{value} is not a valid RUC. {reason}", value=repr(ruc), reason=exc.text),
                            code="invalid_tax_id", path=path) from None
    return ruc


def validate_cedula(value: str, *, path: str = "cedula") -> str:
    """The cédula without surrounding blanks, or Unprocessable(code="invalid_cedula")."""
    cedula = (value or "").strip()
    try:
        check_cedula(cedula)
    except InvalidTaxId as exc:
        raise Unprocessable(_l("{value} is not a valid cédula. {reason}", value=repr(cedula), reason=exc.text),
                            code="invalid_cedula",
                            path=path) from None
    return cedula
