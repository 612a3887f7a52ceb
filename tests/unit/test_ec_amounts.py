"""SRI arithmetic: Decimal only, cents rounded half up in one place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sello.countries.ec import amounts


D = Decimal


@pytest.mark.parametrize(("value", "expected"), [
    ("0.125", "0.13"), ("0.135", "0.14"), ("0.124999", "0.12"), ("2.675", "2.68"), ("1.005", "1.01"),
    ("-0.125", "-0.13"), ("10", "10.00"), ("0.005", "0.01"), ("0.0049", "0.00"),
])
def test_money_rounds_half_up_to_cents(value, expected):
    assert amounts.money(D(value)) == D(expected)
    assert str(amounts.money(D(value))) == expected


def test_money_of_a_float_representation_trap_is_exact_when_given_as_decimal():
    # 2.675 as a binary float is 2.67499999...; the API never sees floats, only decimal text.
    assert amounts.money(D("2.675")) == D("2.68")


@pytest.mark.parametrize(("value", "places", "expected"), [
    ("3", 2, "3.00"), ("15", 2, "15.00"), ("0.125", 2, "0.13"), ("1.5", 6, "1.500000"), ("0", 2, "0.00"),
])
def test_fmt_writes_a_dot_and_fixed_places(value, places, expected):
    assert amounts.fmt(D(value), places) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("3", "3.00"), ("2.5", "2.50"), ("0.125", "0.125"), ("8.333333", "8.333333"), ("1E+2", "100.00"),
    ("12.500000", "12.50"),
])
def test_fmt_quantity_keeps_up_to_6_decimals_and_at_least_2(value, expected):
    assert amounts.fmt_quantity(D(value)) == expected


def test_line_subtotal_rounds_once_after_the_discount():
    # 3 × 0.335 = 1.005 − 0 -> 1.01 (half up), not 3 × round(0.335) = 1.02.
    assert amounts.line_subtotal(D(3), D("0.335"), D(0)) == D("1.01")
    assert amounts.line_subtotal(D(6), D("8.333333"), D(0)) == D("50.00")
    assert amounts.line_subtotal(D("2.5"), D("4.10"), D("0.25")) == D("10.00")


@pytest.mark.parametrize(("base", "rate", "expected"), [
    ("10.00", "15", "1.50"), ("0.83", "15", "0.12"), ("0.90", "15", "0.14"),  # 0.1245 -> 0.12; 0.135 -> 0.14
    ("72.96", "15", "10.94"), ("44.91", "15", "6.74"), ("100.00", "0", "0.00"), ("33.33", "12", "4.00"),
])
def test_percent_of_rounds_the_tax_half_up(base, rate, expected):
    assert amounts.percent_of(D(base), D(rate)) == D(expected)


def test_totals_of_many_lines_are_exact():
    # 1000 lines of 0.10: a float sum would drift; Decimal gives exactly 100.00.
    assert amounts.total(D("0.10") for _ in range(1000)) == D("100.00")
    # Summing rounded line taxes is not rounding the summed base: 3 lines of 0.10 at 15 % tax
    # 0.015 -> 0.02 each (0.06), while 0.30 × 15 % = 0.045 -> 0.05.
    line_taxes = [amounts.percent_of(D("0.10"), D(15)) for _ in range(3)]
    assert amounts.total(line_taxes) == D("0.06")
    assert amounts.percent_of(D("0.30"), D(15)) == D("0.05")

