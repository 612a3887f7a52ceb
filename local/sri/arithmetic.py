"""The sums SRI recomputes at autorización, whose failure is error 52 ERROR EN DIFERENCIAS, checked on a
comprobante as received: `differences(root)` lists every one that does not hold, in Spanish as SRI
writes its messages; an empty list means none.

Written from the XML alone, apart from Sello's own arithmetic (layers/sello/countries/ec/amounts.py),
so a mistake there is caught here rather than mirrored. For a factura, nota de crédito, nota de
débito and liquidación de compra (other comprobantes have no such sums here):
- per tax and rate (codigo, codigoPorcentaje) the header's baseImponible and valor are the sums of the
  lines' (facturas, notas de crédito, liquidaciones: the detalles carry their taxes);
- IVA and ICE (codigo 2 and 3, both a percentage): the header's valor is its baseImponible × tarifa /
  100 rounded half up to cents, and each line's valor is within a cent of its own baseImponible ×
  tarifa / 100; a line's IVA base is its precioTotalSinImpuesto plus its ICE;
- totalSinImpuestos is the sum of the lines' precioTotalSinImpuesto (the motivos' valor on a nota de
  débito), totalDescuento the sum of their descuento, and the document's total (importeTotal,
  valorModificacion, valorTotal) is totalSinImpuestos plus every tax's valor (and the propina)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

CENT = Decimal("0.01")
VAT, ICE = "2", "3"
PERCENT_TAXES = (VAT, ICE)
# Root element -> (info element, header tax path in it, total element, lines path, line amount element).
SHAPES = {
    "factura": ("infoFactura", "totalConImpuestos/totalImpuesto", "importeTotal", "detalles/detalle",
                "precioTotalSinImpuesto"),
    "liquidacionCompra": ("infoLiquidacionCompra", "totalConImpuestos/totalImpuesto", "importeTotal",
                          "detalles/detalle", "precioTotalSinImpuesto"),
    "notaCredito": ("infoNotaCredito", "totalConImpuestos/totalImpuesto", "valorModificacion",
                    "detalles/detalle", "precioTotalSinImpuesto"),
    "notaDebito": ("infoNotaDebito", "impuestos/impuesto", "valorTotal", "motivos/motivo", "valor"),
}
# What a total adds besides the taxes, when present.
EXTRA_CHARGES = ("propina",)


@dataclass
class _Sum:
    """The lines' taxes of one code and rate, added up."""

    base: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    rate: Decimal | None = None


class Unreadable(ValueError):
    """An amount that is not a number (the schema check, when on, refuses it first)."""


def _amount(element: etree._Element, name: str, default: Decimal | None = None) -> Decimal | None:
    text = element.findtext(name)
    if text is None or not text.strip():
        return default
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise Unreadable(f"{name} {text.strip()!r} no es un número") from None


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _key(tax: etree._Element) -> tuple[str, str]:
    return (tax.findtext("codigo") or "").strip(), (tax.findtext("codigoPorcentaje") or "").strip()


def differences(root: etree._Element) -> list[str]:
    """Every sum of the comprobante that does not add up (empty when all do, or when its type has
    none)."""
    name = etree.QName(root).localname
    if name not in SHAPES:
        return []
    info_name, header_path, total_name, lines_path, line_amount = SHAPES[name]
    info = root.find(info_name)
    if info is None:
        return []
    try:
        return _differences(root, info, header_path, total_name, lines_path, line_amount)
    except Unreadable as exc:
        return [str(exc)]


def _differences(root, info, header_path: str, total_name: str, lines_path: str,
                 line_amount: str) -> list[str]:
    found: list[str] = []
    lines = root.findall(lines_path)
    headers = info.findall(header_path)

    # Lines: their own taxes.
    line_groups: dict[tuple[str, str], _Sum] = {}
    for n, line in enumerate(lines, start=1):
        taxes = line.findall("impuestos/impuesto")
        ice = sum((_amount(t, "valor", Decimal(0)) for t in taxes if _key(t)[0] == ICE), Decimal(0))
        for tax in taxes:
            key = _key(tax)
            base, value = _amount(tax, "baseImponible", Decimal(0)), _amount(tax, "valor", Decimal(0))
            rate = _amount(tax, "tarifa")
            group = line_groups.setdefault(key, _Sum(rate=rate))
            group.base += base
            group.value += value
            if key[0] in PERCENT_TAXES and rate is not None:
                exact = base * rate / 100
                if abs(value - exact) > CENT:
                    found.append(f"detalle {n}, impuesto {key[0]}/{key[1]}: valor {value} a más de un "
                                 f"centavo de baseImponible × tarifa / 100 = {exact}")
            if key[0] == VAT:
                expected = _amount(line, line_amount, Decimal(0)) + ice
                if base != expected:
                    found.append(f"detalle {n}: baseImponible del IVA {base} ≠ precioTotalSinImpuesto más "
                                 f"ICE {expected}")

    # Header: per tax and rate, against the lines and against its own base.
    taxes_total = Decimal(0)
    header_keys = set()
    for tax in headers:
        key = _key(tax)
        header_keys.add(key)
        base, value = _amount(tax, "baseImponible", Decimal(0)), _amount(tax, "valor", Decimal(0))
        taxes_total += value
        label = f"impuesto {key[0]}/{key[1]}"
        rate = _amount(tax, "tarifa")
        if key in line_groups:
            lines_sum = line_groups[key]
            rate = rate if rate is not None else lines_sum.rate
            if base != lines_sum.base:
                found.append(f"{label}: baseImponible {base} ≠ suma de los detalles {lines_sum.base}")
            if value != lines_sum.value:
                found.append(f"{label}: valor {value} ≠ suma de los detalles {lines_sum.value}")
        elif line_groups:
            found.append(f"{label}: ningún detalle lleva este impuesto")
        if key[0] in PERCENT_TAXES and rate is not None and value != _half_up(base * rate / 100):
            found.append(f"{label}: valor {value} ≠ baseImponible × tarifa / 100 redondeado "
                         f"{_half_up(base * rate / 100)}")
    for key in line_groups.keys() - header_keys:
        found.append(f"impuesto {key[0]}/{key[1]} de los detalles falta en los totales")

    # Document totals.
    subtotal = _amount(info, "totalSinImpuestos")
    lines_subtotal = sum((_amount(line, line_amount, Decimal(0)) for line in lines), Decimal(0))
    if subtotal is not None and lines and subtotal != lines_subtotal:
        found.append(f"totalSinImpuestos {subtotal} ≠ suma de los detalles {lines_subtotal}")
    discount = _amount(info, "totalDescuento")
    lines_discount = sum((_amount(line, "descuento", Decimal(0)) for line in lines), Decimal(0))
    if discount is not None and lines and discount != lines_discount:
        found.append(f"totalDescuento {discount} ≠ suma de los descuentos {lines_discount}")
    total = _amount(info, total_name)
    if subtotal is not None and total is not None:
        extras = sum((_amount(info, name, Decimal(0)) for name in EXTRA_CHARGES), Decimal(0))
        expected = subtotal + taxes_total + extras
        if total != expected:
            found.append(f"{total_name} {total} ≠ totalSinImpuestos más impuestos {expected}")
    return found
