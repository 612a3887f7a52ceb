"""SAT's arithmetic (amounts.py): worked examples, then properties over random documents: every
equality and limit a PAC checks holds (Concepto Importe, each tax's Importe within SAT's limits,
CFDI40108 SubTotal, CFDI40119 Total, the summary equal to the lines' sums as the 402xx rules ask),
and every value fits the schema's decimals."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sello.countries.mx import amounts
from sello.countries.mx.amounts import EXEMPT, FEE, IEPS, ISR, IVA, RATE, Line, Tax

D = Decimal
VAT16 = Tax(IVA, RATE, D("0.160000"))


def test_a_line_with_vat():
    line = amounts.line(Line(D("2.5"), D("850.00"), D("125.00"), (VAT16,)), 2)
    assert (line.amount, line.discount, line.net) == (D("2125.00"), D("125.00"), D("2000.00"))
    assert [(t.base, t.amount) for t in line.transfers] == [(D("2000.00"), D("320.00"))]


def test_rounding_is_half_up_to_the_currency():
    assert amounts.line(Line(D(1), D("0.125")), 2).amount == D("0.13")
    assert amounts.line(Line(D(1), D("100.5")), 0).amount == D(101)  # JPY
    assert amounts.line(Line(D(3), D("0.3335")), 3).amount == D("1.001")  # KWD: 1.0005 -> 1.001
    # 0.03 × 16 % = 0.0048: each line rounds on its own.
    lines, totals = amounts.compute([Line(D(1), D("0.03"), taxes=(VAT16,))] * 4, 2)
    assert [line.transfers[0].amount for line in lines] == [D("0.00")] * 4
    assert totals.total_transferred == D("0.00") and totals.total == D("0.12")


def test_ieps_at_a_rate_is_part_of_the_vat_base():
    # IEPS 8 % of 100.00 = 8.00; IVA 16 % of 108.00 = 17.28 (whatever order the taxes come in).
    line = amounts.line(Line(D(1), D(100), taxes=(VAT16, Tax(IEPS, RATE, D("0.080000")))), 2)
    assert [(t.tax, t.base, t.amount) for t in line.transfers] == [(IVA, D("108.00"), D("17.28")),
                                                                    (IEPS, D("100.00"), D("8.00"))]
    assert amounts.summarize([line], 2).total == D("125.28")


def test_ieps_per_unit_is_charged_on_the_quantity():
    # 10 units at 20.00, IEPS 0.5911 per unit: Base 10, Importe 5.911 -> 5.91;
    # IVA on 205.91 = 32.9456 -> 32.95.
    line = amounts.line(Line(D(10), D("20.00"), taxes=(Tax(IEPS, FEE, D("0.591100")), VAT16)), 2)
    ieps, vat = line.transfers
    assert (ieps.factor, ieps.base, ieps.amount) == (FEE, D(10), D("5.91"))
    assert (vat.base, vat.amount) == (D("205.91"), D("32.95"))
    assert amounts.summarize([line], 2).total == D("238.86")


def test_withholdings_of_professional_fees():
    # Honorarios of 1000.00: IVA 160.00, ISR withheld 10 % = 100.00,
    # IVA withheld 2/3 of 16 % = 106.667 -> 106.67.
    line = amounts.line(Line(D(1), D(1000), taxes=(VAT16, Tax(ISR, RATE, D("0.100000"), withholding=True),
                                                   Tax(IVA, RATE, D("0.106667"), withholding=True))), 2)
    totals = amounts.summarize([line], 2)
    assert [(w.tax, w.amount) for w in totals.withholdings] == [(ISR, D("100.00")), (IVA, D("106.67"))]
    assert (totals.total_transferred, totals.total_withheld, totals.total) == (D("160.00"), D("206.67"),
                                                                                D("953.33"))


def test_exempt_lines_are_summarised_with_their_base_only():
    exempt = Tax(IVA, EXEMPT, None)
    lines, totals = amounts.compute([Line(D(2), D("50.00"), taxes=(exempt,)),
                                     Line(D(1), D("10.00"), taxes=(exempt,))], 2)
    assert lines[0].transfers[0].amount is None
    summary = [(t.factor, t.rate, t.base, t.amount) for t in totals.transfers]
    assert summary == [(EXEMPT, None, D("110.00"), None)]
    # Only exempt transfers: no TotalImpuestosTrasladados at all.
    assert totals.total_transferred is None and totals.total == D("110.00")


def test_summary_groups_by_tax_factor_and_rate_in_order_of_appearance():
    zero = Tax(IVA, RATE, D("0.000000"))
    _, totals = amounts.compute([Line(D(1), D(100), taxes=(zero,)), Line(D(1), D(50), taxes=(VAT16,)),
                                 Line(D(1), D(25), taxes=(zero,))], 2)
    assert [(t.rate, t.base, t.amount) for t in totals.transfers] == [(D("0.000000"), D("125.00"), D("0.00")),
                                                                       (VAT16.rate, D("50.00"), D("8.00"))]


def test_formats():
    assert amounts.fmt(D("3"), 2) == "3.00"
    assert amounts.fmt(D("1234.5"), 0) == "1235"
    assert amounts.fmt_plain(D("2.500000")) == "2.5"
    assert amounts.fmt_plain(D("100")) == "100" and amounts.fmt_plain(D("1E+2")) == "100"
    assert amounts.fmt_plain(D("100"), at_least=2) == "100.00"
    assert amounts.fmt_plain(D("0.1234567")) == "0.123457"
    assert amounts.fmt_rate(D("0.16")) == "0.160000"


# Properties ------------------------------------------------------------------------------------------

def _decimal(max_value: int, places: int, min_value: int = 0):
    """Decimals from min_value to max_value units of 10^-places, written with their own decimals."""
    return st.integers(min_value, max_value).map(lambda n: (D(n).scaleb(-places)))


def decimals_written(value: str) -> int:
    return len(value.partition(".")[2])


vat = st.sampled_from([Tax(IVA, RATE, D("0.160000")), Tax(IVA, RATE, D("0.080000")),
                       Tax(IVA, RATE, D("0.000000")), Tax(IVA, EXEMPT, None)])
ieps = st.one_of(
    st.sampled_from([D(r) for r in ("0.030000", "0.060000", "0.080000", "0.265000", "0.530000",
                                    "1.600000")]).map(lambda rate: Tax(IEPS, RATE, rate)),
    _decimal(100_000_000, 6, 1).map(lambda fee: Tax(IEPS, FEE, fee)))
isr_withheld = st.integers(0, 350_000).map(lambda n: Tax(ISR, RATE, D(n).scaleb(-6), withholding=True))
vat_withheld = st.integers(0, 160_000).map(lambda n: Tax(IVA, RATE, D(n).scaleb(-6), withholding=True))


@st.composite
def line_inputs(draw, places: int):
    quantity = draw(st.one_of(_decimal(1000, 0, 1), _decimal(10 ** 9, 6, 1), _decimal(10 ** 6, 3, 1)))
    unit_price = draw(st.one_of(_decimal(10 ** 6, 2), _decimal(10 ** 10, 6), _decimal(10 ** 4, 0)))
    amount = amounts.round_to(quantity * unit_price, places)
    discount = draw(st.one_of(st.just(D(0)), _decimal(int(amount.scaleb(places)), places)))
    taxes = [draw(tax) for tax in (vat, ieps, isr_withheld, vat_withheld) if draw(st.booleans())]
    if amount - discount <= 0:  # a line with nothing left to tax carries no rated tax
        taxes = [t for t in taxes if t.factor == FEE]
    return Line(quantity, unit_price, discount, tuple(taxes))


@st.composite
def documents(draw):
    places = draw(st.sampled_from([2, 2, 0, 3]))
    return places, draw(st.lists(line_inputs(places), min_size=1, max_size=6))


def _bounds(value: Decimal, written: str) -> tuple[Decimal, Decimal]:
    half = D(1).scaleb(-decimals_written(written)) / 2
    return value - half, value + half


def _within(amount: Decimal, low: Decimal, high: Decimal, places: int) -> bool:
    """SAT's limit check: the amount between the lower limit truncated and the upper limit rounded up
    to the amount's decimals."""
    step = D(1).scaleb(-places)
    return low.quantize(step, rounding=ROUND_FLOOR) <= amount <= high.quantize(step, rounding=ROUND_CEILING)


@settings(max_examples=200, deadline=None)
@given(documents())
def test_every_equality_a_pac_checks_holds(document):
    places, items = document
    lines, totals = amounts.compute(items, places)
    step = D(1).scaleb(-places)
    for item, line in zip(items, lines, strict=True):
        # Concepto: Importe within the limits of Cantidad × ValorUnitario as written; Descuento ≤ Importe.
        quantity, price = amounts.fmt_plain(item.quantity), amounts.fmt_plain(item.unit_price, at_least=places)
        q_low, q_high = _bounds(D(quantity), quantity)
        p_low, p_high = _bounds(D(price), price)
        assert _within(line.amount, q_low * max(p_low, D(0)), q_high * p_high, places)
        assert line.amount == (item.quantity * item.unit_price).quantize(step, rounding="ROUND_HALF_UP")
        assert line.discount <= line.amount
        # Each tax: Importe within the limits of Base × TasaOCuota, Base as written and above zero.
        for tax in (*line.transfers, *line.withholdings):
            assert tax.base > 0
            if tax.amount is None:
                assert tax.factor == EXEMPT
                continue
            base = amounts.fmt_plain(tax.base) if tax.factor == FEE else amounts.fmt(tax.base, places)
            low, high = _bounds(D(base), base)
            assert _within(tax.amount, low * tax.rate, high * tax.rate, places)
    # The summary is the lines' sums, grouped (Traslado by Impuesto, TipoFactor, TasaOCuota; Retencion by
    # Impuesto).
    expected_transfers: dict[tuple, list] = {}
    expected_withholdings: dict[str, Decimal] = {}
    for line in lines:
        for tax in line.transfers:
            group = expected_transfers.setdefault((tax.tax, tax.factor, tax.rate), [D(0), D(0)])
            group[0] += tax.base
            group[1] += tax.amount or 0
        for tax in line.withholdings:
            expected_withholdings[tax.tax] = expected_withholdings.get(tax.tax, D(0)) + tax.amount
    assert {(t.tax, t.factor, t.rate): (t.base, t.amount) for t in totals.transfers} == {
        key: (base.quantize(step, rounding="ROUND_HALF_UP"), None if key[1] == EXEMPT else amount)
        for key, (base, amount) in expected_transfers.items()}
    assert {w.tax: w.amount for w in totals.withholdings} == expected_withholdings
    charged = [t.amount for t in totals.transfers if t.factor != EXEMPT]
    assert totals.total_transferred == (sum(charged, D(0)) if charged else None)
    withheld = sum(expected_withholdings.values(), D(0)) if expected_withholdings else None
    assert totals.total_withheld == withheld
    # CFDI40108, the discount, CFDI40119.
    assert totals.subtotal == sum((line.amount for line in lines), D(0))
    assert totals.discount == sum((line.discount for line in lines), D(0))
    assert totals.total == (totals.subtotal - totals.discount + (totals.total_transferred or 0)
                            - (totals.total_withheld or 0))
    # The schema's decimals: totals and the summary in the currency's, line values in at most 6.
    for value in (totals.subtotal, totals.discount, totals.total, totals.total_transferred or D(0),
                  totals.total_withheld or D(0), *(t.base for t in totals.transfers),
                  *(t.amount for t in totals.transfers if t.amount is not None),
                  *(w.amount for w in totals.withholdings)):
        assert value == value.quantize(step) and amounts.fits(value)
    for line in lines:
        for tax in (*line.transfers, *line.withholdings):
            assert decimals_written(amounts.fmt_plain(tax.base)) <= amounts.MAX_PLACES
