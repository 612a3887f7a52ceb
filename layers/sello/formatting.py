"""Numbers, dates and durations as people of a locale write them, with Babel (CLDR data): what printed
documents show. Codes, field paths and the documents' own XML never go through here.

`formats(locale)` is the one entry point: it takes a locale code ("es", "es_EC", "es-EC", "en") and
returns its formatter, cached per process. Spanish is the default; a bare language is completed with
the country of the document when CLDR has that combination ("es" for Ecuador is es_EC: 1.234,56).
Dates are always day, month and year in two, two and four digits, in the locale's order and with its
separator (es: 21/11/2026, en: 11/21/2026), and times always on 24 hours, as tax authorities print
them.

Importing this module loads Babel: only code that prints documents imports it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "es"
# At least two decimals, more only when the value has them (a unit price of 0.123456 stays whole).
AMOUNT_PATTERN = "#,##0.00"
NUMBER_PATTERN = "#,##0.##"
# What a free-text time unit (SRI unidadTiempo: "dias", "meses", …) means, once lower-cased and
# stripped of accents and a plural ending; anything else is printed as it was written.
_UNITS = {
    "dia": "duration-day", "day": "duration-day",
    "semana": "duration-week", "week": "duration-week",
    "mes": "duration-month", "month": "duration-month",
    "ano": "duration-year", "year": "duration-year",
}


def _unit_key(text: str) -> str:
    folded = text.strip().lower().translate(str.maketrans("áéíóúñ", "aeioun"))
    for suffix in ("es", "s"):
        if folded.endswith(suffix) and folded[:-len(suffix)] in _UNITS:
            return folded[:-len(suffix)]
    return folded


def _as_decimal(value: str | int | Decimal) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _trimmed(number: Decimal) -> Decimal:
    """The number without trailing zeros (30.00 -> 30, 1.750 -> 1.75), never in exponent form."""
    number = number.normalize()
    return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number


@dataclass(frozen=True)
class Formats:
    locale: Locale

    @property
    def code(self) -> str:
        return str(self.locale)

    @cached_property
    def _symbols(self) -> dict[int, str] | None:
        """How Python's own "," and "." map to the locale's symbols, when the locale groups by
        threes in Latin digits (most do): then `amount` needs no pattern machinery, which a document
        with hundreds of amounts notices. None for the others (Babel formats those)."""
        system = self.locale.default_numbering_system
        if system != "latn" or self.locale.decimal_formats[None].grouping != (3, 3):
            return None
        symbols = self.locale.number_symbols[system]
        return {ord(","): symbols["group"], ord("."): symbols["decimal"]}

    def amount(self, value: str | int | Decimal) -> str:
        """Money or a quantity: grouped thousands, at least two decimals, more only where the value has
        more significant ones (0.660000 -> 0,66; 0.123456 stays whole: nothing is rounded away). Text
        that is not a number is returned as it is."""
        number = _as_decimal(value)
        if number is None:
            return str(value)
        if self._symbols is not None:
            places = max(2, -number.normalize().as_tuple().exponent)
            return format(number, f",.{places}f").translate(self._symbols)
        return format_decimal(number, format=AMOUNT_PATTERN, locale=self.locale, decimal_quantization=False)

    def number(self, value: str | int | Decimal) -> str:
        """A count or a rate: only the decimals it needs (30, 1,75)."""
        number = _as_decimal(value)
        if number is None:
            return str(value)
        return format_decimal(_trimmed(number), format=NUMBER_PATTERN, locale=self.locale,
                              decimal_quantization=False)

    def percent(self, value: str | int | Decimal) -> str:
        """A rate given in percent ("12", "1.75"), with the locale's percent sign and spacing."""
        number = _as_decimal(value)
        if number is None:
            return str(value)
        return format_percent(_trimmed(number) / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: date) -> str:
        return value.strftime(self._date_pattern)

    def datetime(self, value: datetime) -> str:
        """The date and the time on 24 hours, as the value states it (no time-zone conversion)."""
        return f"{self.date(value)} {value:%H:%M:%S}"

    def duration(self, amount: str | int | Decimal, unit: str) -> str:
        """A term such as SRI's plazo and unidadTiempo: "30 días" (es), "30 days" (en). An unknown
        unit is kept as written after the number."""
        number = _as_decimal(amount)
        measure = _UNITS.get(_unit_key(unit))
        if number is None or measure is None:
            text = self.number(amount) if number is not None else str(amount)
            return " ".join(v for v in (text, unit.strip()) if v)
        text = format_unit(_trimmed(number), measure, length="long", locale=self.locale,
                           format=NUMBER_PATTERN)
        # A locale without the unit's long form answers with the unit's id: keep the unit as written.
        return text if measure not in text else f"{self.number(number)} {unit.strip()}"

    @property
    def _date_pattern(self) -> str:
        return _strftime_pattern(self.code)


@lru_cache(maxsize=32)
def _strftime_pattern(code: str) -> str:
    """The locale's short date pattern (d/M/yy, M/d/yy, dd.MM.yy, y/MM/dd, …) with two-digit day and
    month and a four-digit year, as a strftime pattern."""
    pattern = Locale.parse(code).date_formats["short"].pattern
    fields = {"d": "%d", "M": "%m", "L": "%m", "y": "%Y"}
    out = []
    for match in re.finditer(r"([dMLy])\1*|'[^']*'|[^dMLy']+", pattern):
        token = match.group(0)
        if match.group(1):
            out.append(fields[match.group(1)])
        else:  # a literal: the separators, or quoted text
            out.append(token.strip("'").replace("%", "%%"))
    return "".join(out)


def _parse(code: str | None, territory: str | None) -> Locale:
    if not code:
        code = DEFAULT_LANGUAGE
    locale = Locale.parse(code.replace("-", "_"))
    if territory and not locale.territory:
        try:
            return Locale.parse(f"{locale.language}_{territory.upper()}")
        except (UnknownLocaleError, ValueError):
            pass
    return locale


@lru_cache(maxsize=32)
def formats(locale: str | None = None, territory: str | None = None) -> Formats:
    """The formatter of `locale` (default Spanish), completed with `territory` (an ISO 3166 country
    code) when the locale names none and CLDR has the pair. An unknown or malformed locale falls back
    to the default, with a warning: a printed document is never refused over its language."""
    try:
        return Formats(_parse(locale, territory))
    except (UnknownLocaleError, ValueError, TypeError):
        log.warning("unknown locale %r; formatting with %r", locale, DEFAULT_LANGUAGE)
        return Formats(_parse(DEFAULT_LANGUAGE, territory))
