"""Locale-aware numbers, dates and terms (sello.formatting), checked against Babel's own formatting
and against the conventions written out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st
from sello.formatting import formats

decimals = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False,
                       allow_infinity=False, places=None).filter(lambda d: d.as_tuple().exponent >= -8)


@pytest.mark.parametrize("locale", ["es_EC", "es", "en", "de", "fr_CA", "de_CH", "sv", "en_IN"])
@given(value=decimals)
def test_amounts_are_what_babel_writes_with_at_least_two_decimals(locale, value):
    f = formats(locale)
    assert f.amount(value) == format_decimal(value, format="#,##0.00", locale=f.locale,
                                             decimal_quantization=False)


@given(value=decimals)
def test_ecuadorian_amounts_group_thousands_with_dots_and_keep_every_significant_decimal(value):
    text = formats().amount(value)
    integer, fraction = text.split(",")
    groups = integer.lstrip("-").split(".")
    assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    assert len(fraction) == 2 or not fraction.endswith("0")
    assert Decimal(text.replace(".", "").replace(",", ".")) == value


@pytest.mark.parametrize("locale, value, expected", [
    ("es_EC", "1234567.5", "1.234.567,50"),
    ("es_EC", "0.660000", "0,66"),
    ("es_EC", "0.123456", "0,123456"),
    ("es", "-3", "-3,00"),
    ("en", "1234567.5", "1,234,567.50"),
    ("en", "12", "12.00"),
])
def test_amounts(locale, value, expected):
    assert formats(locale).amount(value) == expected


def test_text_that_is_not_a_number_is_left_as_it_is():
    f = formats()
    assert f.amount("n/a") == "n/a" and f.number("NaN") == "NaN" and f.percent("x") == "x"
    assert f.duration("unos", "días") == "unos días"


@pytest.mark.parametrize("locale, value, expected", [
    ("es_EC", "30.00", "30"), ("es_EC", "1.750", "1,75"), ("es_EC", "100", "100"), ("en", "1.5", "1.5"),
])
def test_numbers_show_only_the_decimals_they_need(locale, value, expected):
    assert formats(locale).number(value) == expected


@pytest.mark.parametrize("locale, value, expected", [
    ("es_EC", "15.00", "15%"), ("es_EC", "1.75", "1,75%"), ("en", "1.75", "1.75%"), ("de", "12", "12\xa0%"),
])
def test_percentages_follow_the_locale(locale, value, expected):
    assert formats(locale).percent(value) == expected


@pytest.mark.parametrize("locale, amount, unit, expected", [
    ("es", "30.00", "dias", "30 días"),
    ("es", "30", "DÍAS", "30 días"),
    ("es", "1", "dia", "1 día"),
    ("es", "2", "meses", "2 meses"),
    ("es", "1.5", "meses", "1,5 meses"),
    ("es", "3", "semanas", "3 semanas"),
    ("es", "1", "año", "1 año"),
    ("en", "30", "dias", "30 days"),
    ("en", "1", "days", "1 day"),
    ("es", "2", "quincenas", "2 quincenas"),  # a unit it does not know stays as written
    ("es", "45", "", "45"),
])
def test_terms_name_their_unit_in_the_locale(locale, amount, unit, expected):
    assert formats(locale).duration(amount, unit) == expected


@given(day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_dates_are_day_month_year_in_spanish_and_month_day_year_in_english(day):
    assert formats("es").date(day) == f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    assert formats("en").date(day) == f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def test_other_locales_keep_their_order_and_separator():
    day = date(2026, 11, 5)
    assert formats("de").date(day) == "05.11.2026"
    assert formats("ja").date(day) == "2026/11/05"


def test_times_are_on_24_hours_as_stated_without_conversion():
    moment = datetime(2026, 11, 21, 22, 5, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert formats().datetime(moment) == "21/11/2026 22:05:30"
    assert formats("en").datetime(moment) == "11/21/2026 22:05:30"


def test_locale_codes_are_read_in_every_usual_form_and_completed_with_the_country():
    assert {formats(code, "EC").code for code in (None, "", "es", "es_EC", "es-EC", "ES-ec")} == {"es_EC"}
    assert formats("es").code == "es"
    assert formats("en", "EC").code == "en"  # CLDR has no en_EC: English as it is
    assert formats("es_MX", "EC").code == "es_MX"  # a locale that names its country keeps it


def test_an_unknown_locale_falls_back_to_spanish(caplog):
    formats.cache_clear()
    assert formats("xx_YY", "EC").code == "es_EC"
    assert formats("not a locale").code == "es"
    assert "unknown locale" in caplog.text
