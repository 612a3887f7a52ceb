"""SAT's arithmetic for a CFDI 4.0, in one place: Decimal only, every rounding half up to the
currency's decimals (c_Moneda: MXN 2, JPY 0, KWD 3), and only where SAT's matrix expects it.

A line (Concepto):
- Importe = Cantidad × ValorUnitario, rounded to the currency's decimals; Descuento is given in them.
- Each tax has a Base and, unless exempt, an Importe = round(Base × TasaOCuota) (spec §2.3; the
  PAC's limits for the line's tax accept exactly the rounded product):
  - a rate (TipoFactor Tasa) on the line's amount, Importe − Descuento; for IVA that amount plus the
    line's IEPS (the IEPS is part of the value IVA is charged on);
  - a fee per unit (TipoFactor Cuota, IEPS) on the quantity: Base = Cantidad;
  - exempt IVA (TipoFactor Exento): the Base only, no TasaOCuota or Importe;
  - withholdings (ISR, IVA) at a rate on Importe − Descuento.

The summary (Comprobante/Impuestos):
- one Traslado per tax, TipoFactor and TasaOCuota, in order of first appearance, with the sum of
  the lines' Bases (rounded to the currency's decimals: a fee's Base is a quantity) and of their
  Importes (exempt groups have the Base only);
- one Retencion per tax with the sum of the lines' Importes;
- TotalImpuestosTrasladados: the sum of the non-exempt Traslados (absent when there are none);
  TotalImpuestosRetenidos: the sum of the Retenciones (absent when there are none);
- SubTotal = Σ Importe (CFDI40108), Descuento = Σ Descuento, Total = SubTotal − Descuento +
  TotalImpuestosTrasladados − TotalImpuestosRetenidos (CFDI40119).
Line values already have the currency's decimals, so every sum is exact."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

ISR, IVA, IEPS = "001", "002", "003"  # c_Impuesto
RATE, FEE, EXEMPT = "Tasa", "Cuota", "Exento"  # c_TipoFactor
ZERO = Decimal(0)
# t_Importe: at most 18 digits before the point and 6 after it.
MAX_INTEGER_DIGITS = 18
MAX_PLACES = 6
# Enough digits for any product of two values of 18 + 6 digits, exactly.
_PRECISION = 80


@dataclass(frozen=True)
class Tax:
    """A tax as a line asks for it: c_Impuesto, c_TipoFactor and TasaOCuota (a fraction with 6
    decimals, e.g. 0.160000; the fee per unit for a Cuota; None when exempt)."""

    tax: str
    factor: str
    rate: Decimal | None
    withholding: bool = False


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    taxes: tuple[Tax, ...] = ()


@dataclass(frozen=True)
class LineTax:
    tax: str
    factor: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal | None  # None when exempt
    withholding: bool


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal  # Importe
    discount: Decimal
    transfers: tuple[LineTax, ...]
    withholdings: tuple[LineTax, ...]

    @property
    def net(self) -> Decimal:
        """Importe − Descuento."""
        return self.amount - self.discount


@dataclass(frozen=True)
class TransferTotal:
    tax: str
    factor: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal | None  # None for an exempt group


@dataclass(frozen=True)
class WithholdingTotal:
    tax: str
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # SubTotal: Σ Importe, before discounts
    discount: Decimal
    transfers: tuple[TransferTotal, ...]
    withholdings: tuple[WithholdingTotal, ...]
    total_transferred: Decimal | None  # TotalImpuestosTrasladados
    total_withheld: Decimal | None  # TotalImpuestosRetenidos
    total: Decimal


def unit(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_to(value: Decimal | int | str, places: int) -> Decimal:
    """The value rounded half up (away from zero) to `places` decimals: 0.125 -> 0.13."""
    with localcontext(prec=_PRECISION):
        return Decimal(value).quantize(unit(places), rounding=ROUND_HALF_UP)


def fmt(value: Decimal | int | str, places: int) -> str:
    """As the CFDI writes an amount: exactly `places` decimals (none and no point when 0)."""
    return format(round_to(value, places), "f")


def fmt_plain(value: Decimal | int | str, *, at_least: int = 0) -> str:
    """A quantity, unit price or fee as written: its own decimals without trailing zeros (at most
    6), but at least `at_least`: 2.50 -> "2.5", 100 -> "100"; with at_least=2, 100 -> "100.00"."""
    exact = round_to(value, MAX_PLACES).normalize()
    places = max(at_least, -exact.as_tuple().exponent, 0)
    return fmt(exact, places)


def fmt_rate(rate: Decimal) -> str:
    """TasaOCuota: always 6 decimals, 0.160000."""
    return fmt(rate, MAX_PLACES)


def fits(value: Decimal) -> bool:
    """Whether the value fits t_Importe: at most 18 digits before the point."""
    return abs(value) < Decimal(10) ** MAX_INTEGER_DIGITS


def decimals(value: Decimal) -> int:
    """How many decimals the value is written with (2.50 -> 2, 3 -> 0)."""
    return max(0, -Decimal(value).as_tuple().exponent)


def _product(a: Decimal, b: Decimal, places: int) -> Decimal:
    with localcontext(prec=_PRECISION):
        return round_to(a * b, places)


def line(item: Line, places: int) -> LineAmounts:
    """A line's Importe and its taxes (see the module docstring). IEPS is computed before IVA,
    whatever the order the line gives them in; the taxes keep that order otherwise."""
    amount = _product(item.quantity, item.unit_price, places)
    discount = round_to(item.discount, places)
    net = amount - discount
    ieps = ZERO
    results: dict[int, LineTax] = {}
    # IEPS first: IVA's base includes it.
    order = sorted(range(len(item.taxes)), key=lambda i: item.taxes[i].tax != IEPS)
    for i in order:
        tax = item.taxes[i]
        if tax.withholding:
            base = net
        elif tax.factor == FEE:
            base = item.quantity
        elif tax.tax == IVA:
            base = net + ieps
        else:
            base = net
        value = None if tax.factor == EXEMPT else _product(base, tax.rate, places)
        if tax.tax == IEPS and not tax.withholding and value is not None:
            ieps += value
        results[i] = LineTax(tax.tax, tax.factor, tax.rate, base, value, tax.withholding)
    taxes = [results[i] for i in range(len(item.taxes))]
    return LineAmounts(amount=amount, discount=discount,
                       transfers=tuple(t for t in taxes if not t.withholding),
                       withholdings=tuple(t for t in taxes if t.withholding))


def summarize(lines: Sequence[LineAmounts], places: int) -> Totals:
    """The document's summary and totals from its lines (see the module docstring)."""
    transfers: dict[tuple, list[LineTax]] = {}
    withholdings: dict[str, list[LineTax]] = {}
    for amounts in lines:
        for tax in amounts.transfers:
            transfers.setdefault((tax.tax, tax.factor, tax.rate), []).append(tax)
        for tax in amounts.withholdings:
            withholdings.setdefault(tax.tax, []).append(tax)
    transfer_totals = tuple(
        TransferTotal(tax=key[0], factor=key[1], rate=key[2],
                      base=round_to(_sum(t.base for t in group), places),
                      amount=None if key[1] == EXEMPT else _sum(t.amount for t in group))
        for key, group in transfers.items())
    withholding_totals = tuple(WithholdingTotal(tax=key, amount=_sum(t.amount for t in group))
                               for key, group in withholdings.items())
    charged = [t.amount for t in transfer_totals if t.amount is not None]
    total_transferred = _sum(charged) if charged else None
    total_withheld = _sum(t.amount for t in withholding_totals) if withholding_totals else None
    subtotal = _sum(a.amount for a in lines)
    discount = _sum(a.discount for a in lines)
    total = subtotal - discount + (total_transferred or ZERO) - (total_withheld or ZERO)
    return Totals(subtotal=subtotal, discount=discount, transfers=transfer_totals,
                  withholdings=withholding_totals, total_transferred=total_transferred,
                  total_withheld=total_withheld, total=total)


def compute(items: Iterable[Line], places: int) -> tuple[list[LineAmounts], Totals]:
    lines = [line(item, places) for item in items]
    return lines, summarize(lines, places)


def _sum(values: Iterable[Decimal]) -> Decimal:
    with localcontext(prec=_PRECISION):
        return sum(values, ZERO)
