"""The sums a PAC recomputes on a CFDI 4.0, each a SAT CFDI 4.0 rule code, written from the XML alone
(apart from whatever Sello computes, so a mistake there is caught here, not mirrored). Amounts at the
document level are compared at the currency's decimals (c_Moneda: MXN 2, XXX 0), half up, the way the
concepts' amounts (up to 6 decimals) are rounded into them:

- CFDI40108: SubTotal is the sum of the conceptos' Importe;
- per Comprobante/Impuestos/Traslados/Traslado (impuesto, tipo factor, tasa o cuota): its Base is the
  sum of the conceptos' traslados' Base for the same three (CFDI40215), its Importe the sum of their
  Importe (CFDI40221);
- CFDI40205: TotalImpuestosTrasladados is the sum of the document's traslados' Importe;
  CFDI40203: TotalImpuestosRetenidos the sum of its retenciones' Importe;
- CFDI40119: Total is SubTotal − Descuento + TotalImpuestosTrasladados − TotalImpuestosRetenidos.

CFDI40108 and CFDI40119 are numbered as in SAT's matrix quoted by PAC answers; 40203/40205/40215/40221
as public integrator notes number them (SAT's own matrix spreadsheet was not at hand)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from local.pac import sat
from local.pac.registry import Finding

NS = {"cfdi": sat.CFDI_NS}
ZERO = Decimal(0)
LINE_TRASLADOS = "cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado"


def _amount(element: etree._Element, name: str) -> Decimal | None:
    text = element.get(name)
    if text is None or not text.strip():
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None  # the schema refuses it first


def differences(root: etree._Element) -> list[Finding]:
    """Every sum of the document that does not hold, in the order above; empty when all hold."""
    decimals = sat.currency_decimals(root.get("Moneda", "MXN"))
    step = Decimal(1).scaleb(-decimals)

    def rounded(value: Decimal) -> Decimal:
        return value.quantize(step, rounding=ROUND_HALF_UP)

    found: list[Finding] = []
    conceptos = root.findall("cfdi:Conceptos/cfdi:Concepto", NS)
    subtotal = _amount(root, "SubTotal") or ZERO
    lines = rounded(sum((_amount(c, "Importe") or ZERO for c in conceptos), ZERO))
    if subtotal != lines:
        found.append(Finding("CFDI40108", f"SubTotal {subtotal} ≠ suma de los Importe de los conceptos "
                                          f"redondeada {lines}."))

    line_bases: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    line_amounts: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for traslado in root.findall(LINE_TRASLADOS, NS):
        key = _key(traslado)
        line_bases[key] += _amount(traslado, "Base") or ZERO
        line_amounts[key] += _amount(traslado, "Importe") or ZERO

    impuestos = root.find("cfdi:Impuestos", NS)
    transferred = withheld = ZERO
    total_transferred = total_withheld = None
    if impuestos is not None:
        for traslado in impuestos.findall("cfdi:Traslados/cfdi:Traslado", NS):
            key = _key(traslado)
            label = "/".join(v for v in key if v)
            base, amount = _amount(traslado, "Base") or ZERO, _amount(traslado, "Importe")
            if base != rounded(line_bases[key]):
                found.append(Finding("CFDI40215", f"Impuestos/Traslado {label}: Base {base} ≠ suma de las "
                                                  f"bases de los conceptos {rounded(line_bases[key])}."))
            if amount is not None:
                transferred += amount
                if amount != rounded(line_amounts[key]):
                    found.append(Finding("CFDI40221", f"Impuestos/Traslado {label}: Importe {amount} ≠ suma "
                                                      f"de los importes de los conceptos "
                                                      f"{rounded(line_amounts[key])}."))
        retenciones = impuestos.findall("cfdi:Retenciones/cfdi:Retencion", NS)
        withheld = sum((_amount(r, "Importe") or ZERO for r in retenciones), ZERO)
        total_transferred = _amount(impuestos, "TotalImpuestosTrasladados")
        if total_transferred is not None and total_transferred != rounded(transferred):
            found.append(Finding("CFDI40205", f"TotalImpuestosTrasladados {total_transferred} ≠ suma de los "
                                              f"traslados {rounded(transferred)}."))
        total_withheld = _amount(impuestos, "TotalImpuestosRetenidos")
        if total_withheld is not None and total_withheld != rounded(withheld):
            found.append(Finding("CFDI40203", f"TotalImpuestosRetenidos {total_withheld} ≠ suma de las "
                                              f"retenciones {rounded(withheld)}."))
    discount = _amount(root, "Descuento") or ZERO
    total = _amount(root, "Total") or ZERO
    expected = rounded(subtotal - discount
                       + (total_transferred if total_transferred is not None else rounded(transferred))
                       - (total_withheld if total_withheld is not None else rounded(withheld)))
    if total != expected:
        found.append(Finding("CFDI40119", f"Total {total} ≠ SubTotal − Descuento + traslados − retenciones "
                                          f"= {expected}."))
    return found


def _key(traslado: etree._Element) -> tuple[str, str, str]:
    rate = _amount(traslado, "TasaOCuota")
    return (traslado.get("Impuesto", ""), traslado.get("TipoFactor", ""),
            str(rate.normalize()) if rate is not None else "")
