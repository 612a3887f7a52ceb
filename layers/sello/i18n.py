"""Languages: who reads what in which language, and the texts themselves.

Everything Sello writes for people (emails, the printable documents, error messages) comes from
gettext catalogs under `locale/<language>/LC_MESSAGES/<domain>.mo`, compiled from the `.po` files
beside them (`make messages` extracts, updates and compiles them). Two domains:

- `sello`: emails and API messages, written in English in the code; `es` has a catalog.
- `ride`: the labels of the printable documents, written in Spanish in the code (the tax authorities'
  own words); `en` has a catalog.

Spanish (`es`) is the default; `en` is available. A regional tag (`es-EC`, later `es-MX`, `es-CO`)
uses its own catalog when there is one and its language's otherwise, and Babel's data for that
region formats numbers and dates. Codes and field paths never change with the language.

Messages that are decided before the reader's language is known (an error raised deep in a service)
are kept as `Message` objects (`_l`, `_ln`) and rendered when the answer is written."""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

Language = Literal["es", "en"]
LANGUAGES: tuple[str, ...] = ("es", "en")
DEFAULT_LANGUAGE: Language = "es"
# The language each domain's source texts are written in: it needs no catalog.
DOMAINS = {"sello": "en", "ride": "es"}

_TAG = re.compile(r"^([A-Za-z]{1,8})(?:[-_]([A-Za-z0-9]{1,8}))*$")
_REGION = re.compile(r"^[A-Za-z]{2}$|^[0-9]{3}$")


def parse_tag(tag: str | None) -> tuple[str, str | None] | None:
    """("es", "EC") for "es-EC" or "es_ec", ("en", None) for "en"; None for what is not a tag."""
    if not tag or not _TAG.match(tag.strip()):
        return None
    parts = re.split(r"[-_]", tag.strip())
    region = next((p.upper() for p in parts[1:] if _REGION.match(p)), None)
    return parts[0].lower(), region


def language_of(tag: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The supported language a tag belongs to ("es-EC" -> "es"), else `default`."""
    parsed = parse_tag(tag)
    return parsed[0] if parsed and parsed[0] in LANGUAGES else default


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The supported language an Accept-Language header (RFC 9110 §12.5.4) prefers: the highest
    q-value wins (ties: the first listed), `*` stands for `default`, q=0 excludes. `default` when
    the header is absent or names nothing supported."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    excluded: set[str] = set()
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0 <= quality <= 1:
                    quality = 0.0
        language = default if tag == "*" else language_of(tag, default="")
        if not language:
            continue
        if quality <= 0:
            excluded.add(language)
            continue
        ranked.append((-quality, position, language))
    for _, _, language in sorted(ranked):
        if language not in excluded:
            return language
    return default


@lru_cache(maxsize=64)
def _catalog(domain: str, language: str, region: str | None) -> _gettext.NullTranslations:
    if language == DOMAINS[domain]:
        return _gettext.NullTranslations()
    names = ([f"{language}_{region}"] if region else []) + [language]
    return _gettext.translation(domain, LOCALE_DIR, languages=names, fallback=True)


@dataclass(frozen=True)
class Translator:
    """Texts and formats for one reader: `language` ("es", "en"), `region` (an ISO country code, for
    the formats and a regional catalog) and the catalog `domain`."""

    language: str = DEFAULT_LANGUAGE
    region: str | None = None
    domain: str = "sello"
    _catalog: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_catalog", _catalog(self.domain, self.language, self.region))

    @property
    def locale(self) -> str:
        """Babel's locale identifier, e.g. "es_EC"; the language's own when the region has no data."""
        return _babel_locale(self.language, self.region)

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def text(self, message: str | Message, **params: Any) -> str:
        """A `Message` (or a plain source text with `params`) rendered in this language."""
        if isinstance(message, Message):
            return message.render(self)
        return Message(message, params=params).render(self)

    def domain_of(self, domain: str) -> Translator:
        return Translator(self.language, self.region, domain)

    # Formats (Babel, CLDR data of the locale) -----------------------------------------------------

    def number(self, value: Decimal | int | float, places: int | None = None) -> str:
        from babel.numbers import format_decimal

        if places is None:
            return format_decimal(value, locale=self.locale)
        return format_decimal(value, format=f"#,##0.{'0' * places}" if places else "#,##0",
                              locale=self.locale, decimal_quantization=True)

    def money(self, value: Decimal | int | float, currency: str = "USD") -> str:
        from babel.numbers import format_currency

        return format_currency(value, currency, locale=self.locale)

    def date(self, value: date, format: str = "long") -> str:
        from babel.dates import format_date

        return format_date(value, format=format, locale=self.locale)

    def datetime(self, value: datetime, format: str = "medium", tz: str | None = None) -> str:
        from babel.dates import format_datetime

        return format_datetime(value, format=format, tzinfo=tz, locale=self.locale)


@lru_cache(maxsize=64)
def _babel_locale(language: str, region: str | None) -> str:
    if region:
        from babel import Locale, UnknownLocaleError

        try:
            Locale(language, region)
            return f"{language}_{region}"
        except (UnknownLocaleError, ValueError):
            pass
    return language


@lru_cache(maxsize=64)
def translator(language: str | None = None, region: str | None = None, domain: str = "sello") -> Translator:
    """The translator for a language tag ("es", "es-EC", "en"); an unsupported or missing one gives
    Spanish. `region` (e.g. the issuer's country) applies when the tag names none."""
    parsed = parse_tag(language)
    lang = parsed[0] if parsed and parsed[0] in LANGUAGES else DEFAULT_LANGUAGE
    tag_region = parsed[1] if parsed else None
    return Translator(lang, (tag_region or region or None) and (tag_region or region).upper(), domain)


SOURCE = Translator(DOMAINS["sello"], None, "sello")  # the texts as written in the code (English)


# Deferred messages -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """A text to translate once the reader is known: gettext's msgid (and plural form), with named
    `{placeholders}` filled from `params` after translation. A param may itself be a Message."""

    msgid: str
    plural: str | None = None
    n: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, t: Translator) -> str:
        if self.plural is not None:
            template = t.ngettext(self.msgid, self.plural, self.n or 0)
        else:
            template = t.gettext(self.msgid) if self.msgid else ""
        values = {k: (v.render(t) if isinstance(v, Message) else v) for k, v in self.params.items()}
        if self.n is not None:
            values.setdefault("n", self.n)
        for text in (template, self.msgid):  # a translation with a wrong placeholder: the source
            try:
                return text.format_map(values) if values or "{" in text else text
            except (KeyError, IndexError, ValueError, AttributeError):
                continue
        return self.msgid

    def __str__(self) -> str:
        return self.render(SOURCE)


class TranslatedValueError(ValueError):
    """A validator's ValueError whose message is a Message: pydantic keeps str() (the source text),
    the API answers with the message in the caller's language (sello.validation)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.text = message


def _l(msgid: str, **params: Any) -> Message:
    """A message translated later (extracted by `make messages`)."""
    return Message(msgid, params=params)


def _ln(singular: str, plural: str, n: int, **params: Any) -> Message:
    """A message with plural forms, translated later; `{n}` is the count."""
    return Message(singular, plural, n, params)
