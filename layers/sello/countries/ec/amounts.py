"""Arithmetic the way SRI checks it (error 52, "Error en diferencias"): Decimal only, every amount
rounded to cents half-up, and that rounding happens in exactly one place, `money`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

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
