"""Languages: the catalogs hold a translation of every text the code has, the language of a request
or a reader is chosen as documented, and texts and formats follow it."""

from __future__ import annotations

import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo

from sello import errors
from sello.i18n import (
    DEFAULT_LANGUAGE,
    DOMAINS,
    LANGUAGES,
    LOCALE_DIR,
    Message,
    _l,
    _ln,
    language_of,
    negotiate,
    parse_tag,
    translator,
)
from tools import messages
from tests.helpers import parse_source

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = [(domain, language) for domain, source in DOMAINS.items() for language in LANGUAGES
            if language != source]
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]*)\}(?!\})")


@pytest.fixture(scope="module")
def templates():
    return messages.extract()


def _catalog(domain: str, language: str):
    return messages.read_catalog(messages.catalog_path(LOCALE_DIR, language, domain), language, domain)


def _strings(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


# The catalogs ---------------------------------------------------------------------------------------

def test_there_is_a_catalog_for_each_domain_in_each_language_but_its_source():
    assert set(CATALOGS) == {("sello", "es"), ("ride", "en")}
    for domain, language in CATALOGS:
        assert messages.catalog_path(LOCALE_DIR, language, domain).is_file()
        assert messages.catalog_path(LOCALE_DIR, language, domain, ".mo").is_file()


def test_the_code_has_texts_in_both_domains(templates):
    # A broken extraction (wrong keywords, wrong mapping) would make the completeness test pass on nothing.
    assert len([m for m in templates["sello"] if m.id]) > 200
    assert len([m for m in templates["ride"] if m.id]) > 40
    assert "The API key is not valid." in templates["sello"]
    assert "Dirección Matriz:" in templates["ride"]


@pytest.mark.parametrize("domain,language", CATALOGS)
def test_every_extracted_text_has_a_translation(templates, domain, language):
    catalog = _catalog(domain, language)
    missing = []
    for message in templates[domain]:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None or translated.fuzzy or not all(_strings(translated)):
            missing.append(message.id)
        elif isinstance(message.id, tuple) and len(_strings(translated)) != catalog.num_plurals:
            missing.append(message.id)
    assert missing == [], f"untranslated in {domain}/{language} (fill them in, then make messages)"


@pytest.mark.parametrize("domain,language", CATALOGS)
def test_translations_keep_the_placeholders_of_their_text(domain, language):
    for message in _catalog(domain, language):
        if not message.id:
            continue
        wanted = {name for text in _ids(message) for name in PLACEHOLDER.findall(text)}
        for text in _strings(message):
            assert set(PLACEHOLDER.findall(text)) <= wanted | {"n"}, (message.id, text)
            # Every placeholder a singular text names is kept (a plural may leave out {n}).
            assert {p for p in PLACEHOLDER.findall(_ids(message)[0]) if p != "n"} <= set(
                PLACEHOLDER.findall(text)), (message.id, text)


def test_the_catalogs_and_their_compiled_files_are_up_to_date():
    """`make messages` was run after the last change of a text or a translation."""
    assert messages.main(["--check"]) == 0
    for domain, language in CATALOGS:
        with messages.catalog_path(LOCALE_DIR, language, domain, ".mo").open("rb") as f:
            compiled = {_ids(m): _strings(m) for m in read_mo(f) if m.id}
        source = {_ids(m): _strings(m) for m in _catalog(domain, language) if m.id}
        assert compiled == source


def test_no_error_is_raised_with_a_text_that_cannot_be_translated():
    """An API error's message is a sello.i18n.Message (`_l(...)`): a plain or formatted string in
    its place would reach every caller in English."""
    names = {n for n, o in vars(errors).items() if isinstance(o, type) and issubclass(o, Exception)}
    found = []
    for folder in ("layers/sello", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(parse_source(path)):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in names and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


# Choosing the language ------------------------------------------------------------------------------

@pytest.mark.parametrize("header,default,expected", [
    (None, "es", "es"),
    ("", "en", "en"),
    ("en", "es", "en"),
    ("en-US,en;q=0.9", "es", "en"),
    ("es-EC", "en", "es"),
    ("es-MX;q=0.8, en;q=0.9", "es", "en"),
    ("en;q=0.1, es;q=0.2", "en", "es"),
    ("fr, de;q=0.9", "en", "en"),  # nothing supported: the default
    ("fr, en;q=0.5", "es", "en"),
    ("*", "en", "en"),
    ("en;q=0, *;q=0.5", "es", "es"),  # English refused outright
    ("EN", "es", "en"),
    ("en;q=abc", "es", "es"),  # a malformed q counts as 0
    ("en;q=2", "es", "es"),
    ("pt-BR, es;q=0.3, en;q=0.3", "es", "es"),  # a tie: the first listed
    ("x@y, en", "es", "en"),
])
def test_accept_language_picks_the_best_supported_language(header, default, expected):
    assert negotiate(header, default) == expected


@pytest.mark.parametrize("tag,expected", [("es-EC", ("es", "EC")), ("es_mx", ("es", "MX")), ("en", ("en", None)),
                                          ("es-419", ("es", "419")), ("", None), ("es EC", None)])
def test_language_tags(tag, expected):
    assert parse_tag(tag) == expected


def test_an_unknown_or_missing_language_is_spanish():
    assert DEFAULT_LANGUAGE == "es"
    assert language_of(None) == language_of("fr") == language_of("xx-YY") == "es"
    assert translator("fr").language == translator(None).language == "es"


# Texts and formats ----------------------------------------------------------------------------------

def test_regional_spanish_falls_back_to_spanish():
    for tag in ("es", "es-EC", "es-MX", "es-CO"):
        assert translator(tag).gettext("The API key is not valid.") == "La clave de API no es válida."
    assert translator("en").gettext("The API key is not valid.") == "The API key is not valid."


def test_deferred_messages_render_in_each_language_with_their_values():
    message = _l("The certificate expired on {date}.", date="2026-01-02 00:00 UTC")
    assert str(message) == "The certificate expired on 2026-01-02 00:00 UTC."
    assert translator("es").text(message) == "El certificado venció el 2026-01-02 00:00 UTC."
    nested = _l("{what} is required here.", what=_l("The name"))
    assert translator("es").text(nested) == "Aquí es obligatorio indicar el nombre."
    assert translator("en").text(nested) == "The name is required here."


@pytest.mark.parametrize("n,es,en", [(1, "1 hora", "1 hour"), (2, "2 horas", "2 hours"), (0, "0 horas", "0 hours")])
def test_plural_forms(n, es, en):
    message = _ln("{n} hour", "{n} hours", n)
    assert (translator("es").text(message), translator("en").text(message)) == (es, en)


def test_a_translation_with_a_broken_placeholder_falls_back_to_the_source_text():
    class Broken:
        def gettext(self, _):
            return "Faltan {nada}"

    assert Message("Missing {what}", params={"what": "x"}).render(Broken()) == "Missing x"


def test_numbers_money_and_dates_follow_the_locale():
    es_ec, en = translator("es", "EC"), translator("en")
    assert es_ec.locale == "es_EC"
    assert es_ec.money(Decimal("1234.5"), "USD") == "$1.234,50"
    assert en.money(Decimal("1234.5"), "USD") == "$1,234.50"
    assert es_ec.number(Decimal("1234.5"), 2) == "1.234,50"
    assert es_ec.date(date(2026, 3, 2)) == "2 de marzo de 2026"
    assert en.date(date(2026, 3, 2)) == "March 2, 2026"
    assert translator("es", "ZZ").locale == "es"  # a region Babel has no data for: the language's


def test_the_ride_domain_is_written_in_spanish_and_translated_to_english():
    assert translator("es", domain="ride").gettext("Dirección Matriz:") == "Dirección Matriz:"
    assert translator("en", domain="ride").gettext("Dirección Matriz:") == "Head office address:"


def test_certificate_warnings_are_answered_in_the_request_language():
    from sello.models.certificate_api import CertificateWarning

    warning = CertificateWarning.of("certificate_expiring", _l(
        "The certificate expires on {date}; upload its replacement.", date="2026-05-01 00:00 UTC"))
    assert warning.message == "The certificate expires on 2026-05-01 00:00 UTC; upload its replacement."
    spanish = warning.in_language(translator("es"))
    assert spanish.message == "El certificado vence el 2026-05-01 00:00 UTC; suba su reemplazo."
    assert spanish.in_language(translator("en")).message == warning.message  # the text travels with it
    assert CertificateWarning(code="x", message="as stored").in_language(translator("es")).message == "as stored"
