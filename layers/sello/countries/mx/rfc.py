"""The RFC (Registro Federal de Contribuyentes), Mexico's tax id.

Shape: a name part of 3 letters for a persona moral (12 characters in all) or 4 for a persona física
(13), where `&` and `Ñ` count as letters; a date YYMMDD (incorporation or birth); a 2-character
homoclave; a check digit 0–9 or A. SAT's schema types (tdCFDI t_RFC) state the same pattern.

Check digit (módulo 11, as SAT computes it and as phpcfdi/rfc and satcfdi describe it): the RFC
without its last character, padded on the left with one space for a persona moral so that it always
has 12 positions, gives each character a value from the sequence 0–9, A–N, &, O–Z, space, Ñ (0 to 38);
the values are weighted 13, 12, …, 2 from left to right and added up. With r = sum mod 11, the check
digit is 0 when r is 0, A when r is 1, and 11 − r otherwise.

Two generic RFCs stand for a party without one: XAXX010101000 (público en general) and
XEXX010101000 (residente en el extranjero). SAT accepts them as they are: their check digits are not
checked (the first does not satisfy the rule above)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal

from sello.errors import Unprocessable
from sello.i18n import TranslatedValueError, _l

GENERAL_PUBLIC = "XAXX010101000"  # público en general
FOREIGN = "XEXX010101000"  # residente en el extranjero
GENERIC = frozenset({GENERAL_PUBLIC, FOREIGN})

PersonType = Literal["moral", "fisica"]

_VALUES = {char: value for value, char in enumerate("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ")}
_SHAPE = re.compile(r"([A-Z&Ñ]{3,4})([0-9]{6})([A-Z0-9]{2})([0-9A])")
# Blanks and hyphens people write between the parts ("EKU-900317-3C9"); never part of an RFC.
_SEPARATORS = re.compile(r"[\s\-]+")


class InvalidRfc(TranslatedValueError):
    """The value breaks a rule of the RFC; the message (`text`, translatable) says which."""


def canonical(value: str) -> str:
    """The value as an RFC is written: upper case, composed Ñ, without surrounding blanks or the
    blanks and hyphens people put between its parts."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFC", value or "").strip().upper())


def check_digit(rfc: str) -> str:
    """The check digit a whole RFC (12 or 13 characters of the RFC alphabet, canonical) should end
    with; its own last character is ignored."""
    total = sum(_VALUES[char] * (13 - position) for position, char in enumerate(rfc[:-1].rjust(12)))
    remainder = total % 11
    return "0" if remainder == 0 else "A" if remainder == 1 else str(11 - remainder)


def _valid_date(digits: str) -> bool:
    """YYMMDD names a day of 19YY or 20YY (29 February only in a year divisible by 4)."""
    year, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    try:
        date(2000 + year, month, day)  # 2000 + YY is a leap year exactly when YY is divisible by 4
    except ValueError:
        return False
    return True


def check(value: str) -> str:
    """The RFC in canonical form, or InvalidRfc saying what is wrong."""
    rfc = canonical(value)
    if rfc in GENERIC:
        return rfc
    if len(rfc) not in (12, 13):
        raise InvalidRfc(_l("An RFC has 12 characters (persona moral) or 13 (persona física), not {length}.",
                            length=len(rfc)))
    shape = _SHAPE.fullmatch(rfc)
    if shape is None:
        raise InvalidRfc(_l("An RFC is 3 letters (persona moral) or 4 (persona física), a date as YYMMDD, a "
                            "2-character homoclave and a check digit, e.g. EKU9003173C9."))
    if not _valid_date(shape[2]):
        raise InvalidRfc(_l("The date in an RFC is YYMMDD and {digits} is no date; check those 6 digits.",
                            digits=shape[2]))
    expected = check_digit(rfc)
    if rfc[-1] != expected:
        raise InvalidRfc(_l("Its check digit should be {expected}, not {found}: check it for a mistyped "
                            "character.", expected=expected, found=rfc[-1]))
    return rfc


def is_valid(value: str) -> bool:
    try:
        check(value)
    except InvalidRfc:
        return False
    return True


def normalize_rfc(value: str, *, path: str = "tax_id") -> str:
    """The RFC in canonical form (upper case, trimmed), or Unprocessable(code="invalid_tax_id") at
    `path` with what to fix."""
    try:
        return check(value)
    except InvalidRfc as exc:
        raise Unprocessable(_l("{value} is not a valid RFC. {reason}", value=repr(canonical(value)),
                               reason=exc.text), code="invalid_tax_id", path=path) from None


def person_type(rfc: str) -> PersonType:
    """"moral" for a 12-character RFC, "fisica" for a 13-character one (the generic RFCs have 13)."""
    return "moral" if len(canonical(rfc)) == 12 else "fisica"


def is_generic(rfc: str) -> bool:
    return canonical(rfc) in GENERIC
