"""Arithmetic the way SRI checks it (error 52, "Error en diferencias"): Decimal only, every amount
rounded to cents half-up, and that rounding happens in exactly one place, `money`.

A tax of a whole document is rounded once, not line by line: `apportion` rounds the sum of the lines'
exact taxes to cents and splits that total over the lines, so the lines add up to it exactly and each
stays within a cent of its own exact tax (documents.tax_totals applies it to every tax and rate)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# Quantities and unit prices carry up to 6 decimals in factura 1.1.0 and notaCredito 1.1.0.
QUANTITY_PLACES = 6


def money(value: Decimal | int | str) -> Decimal:
    """The amount rounded to cents, half up (0.125 -> 0.13, -0.125 -> -0.13)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | int | str, places: int = 2) -> str:
    """The amount as SRI writes it: a dot and exactly `places` decimals, rounded half up."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def fmt_quantity(value: Decimal | int | str) -> str:
    """A quantity or unit price: as many decimals as it has (up to 6), at least 2: 3 -> "3.00",
    0.125 -> "0.125"."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-QUANTITY_PLACES), rounding=ROUND_HALF_UP).normalize()
    places = max(2, -exact.as_tuple().exponent)
    return fmt(exact, places)


def line_subtotal(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """precioTotalSinImpuesto: quantity x unit price, less the line discount."""
    return money(quantity * unit_price - discount)


def percent_of(base: Decimal, rate: Decimal) -> Decimal:
    """A tax at `rate` percent of `base` (valor of an impuesto)."""
    return money(base * rate / HUNDRED)


def total(values: Iterable[Decimal]) -> Decimal:
    return money(sum(values, Decimal(0)))


def apportion(exact: Sequence[Decimal]) -> tuple[Decimal, list[Decimal]]:
    """(total, shares): the sum of the exact amounts rounded to cents half up, and that total split
    into one share in cents per amount. The shares add up to the total exactly, and each is its amount
    rounded down or up to a cent, so less than a cent away from it: every amount is rounded down, and
    the cents the total still needs go to the amounts that lost most (largest remainder; on ties the
    earlier one). An amount already in cents keeps it, and the shares are as near their amounts, all
    together, as any split of that total into cents can be.

    Example: three lines taxed 0.015 each total 0.045 -> 0.05, shared as 0.02, 0.02, 0.01; rounded
    one by one they would be 0.02 each, 0.06, a cent more than the rounded total."""
    result = money(sum(exact, Decimal(0)))
    shares = [amount.quantize(CENT, rounding=ROUND_FLOOR) for amount in exact]
    # 0 <= missing <= the number of amounts with a remainder (the remainders add up to less than that
    # many cents, and rounding the total half up moves it by at most half a cent).
    missing = int((result - sum(shares, Decimal(0))) / CENT)
    by_remainder = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[:missing]:
        shares[i] += CENT
    return result, shares
