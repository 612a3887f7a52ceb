"""What the simulated PAC checks of a CFDI de pago (TipoDeComprobante P, Pagos 2.0) beyond the schema,
written from the XML alone (apart from Sello's payments.py, so a mistake there is caught here, not
mirrored). The rules are the ones SAT's Pagos 2.0 filling guide states; the codes are this simulator's
own labels (CRP and the attribute), as SAT's matrix spreadsheet was not at hand:

- the host CFDI: SubTotal 0, Total 0, Moneda XXX, no FormaPago or MetodoPago, UsoCFDI CP01;
- per Pago: MonedaP is not XXX; TipoCambioP is 1 exactly when MonedaP is MXN; Monto is at least
  Σ ImpPagado / EquivalenciaDR of its documents, rounded half up to MonedaP's decimals;
- per DoctoRelacionado: ImpPagado > 0, ImpSaldoInsoluto = ImpSaldoAnt − ImpPagado and not negative,
  EquivalenciaDR 1 when MonedaDR is MonedaP, ImpuestosDR exactly when ObjetoImpDR is 02;
- ImpuestosP: per tax, factor and rate (transfers) or tax (withholdings), the documents' BaseDR and
  ImporteDR divided by their EquivalenciaDR, summed and rounded half up to MonedaP's decimals;
- Totales: MontoTotalPagos and the totals by tax (IVA 16/8/0/exento, withholdings by tax) are the
  payments' Monto and ImpuestosP times TipoCambioP, summed and rounded half up to 2 decimals."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from local.pac import sat
from local.pac.registry import Finding

NS = {"cfdi": sat.CFDI_NS, "pago20": sat.PAGOS_NS}
ZERO = Decimal(0)
VAT_RATES = {"0.160000": "IVA16", "0.080000": "IVA8", "0.000000": "IVA0"}
WITHHELD = {"001": "TotalRetencionesISR", "002": "TotalRetencionesIVA", "003": "TotalRetencionesIEPS"}


def _amount(element: etree._Element, name: str) -> Decimal | None:
    text = element.get(name)
    try:
        return Decimal(text.strip()) if text and text.strip() else None
    except InvalidOperation:
        return None  # the schema refuses it first


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def differences(root: etree._Element) -> list[Finding]:
    """Every rule above the payment CFDI breaks, in order; empty when all hold (or it is no payment)."""
    if root.get("TipoDeComprobante") != "P":
        return []
    found: list[Finding] = []
    receptor = root.find("cfdi:Receptor", NS)
    for name, expected in (("SubTotal", ZERO), ("Total", ZERO)):
        if _amount(root, name) != expected:
            found.append(Finding(f"CRP{name}", f"Un CFDI de pago lleva {name}=\"0\"."))
    if root.get("Moneda") != "XXX":
        found.append(Finding("CRPMoneda", "Un CFDI de pago lleva Moneda=\"XXX\"."))
    for name in ("FormaPago", "MetodoPago"):
        if root.get(name) is not None:
            found.append(Finding(f"CRP{name}", f"Un CFDI de pago no lleva {name}."))
    if receptor is None or receptor.get("UsoCFDI") != "CP01":
        found.append(Finding("CRPUsoCFDI", "Un CFDI de pago lleva UsoCFDI=\"CP01\"."))
    pagos = root.find("cfdi:Complemento/pago20:Pagos", NS)
    if pagos is None:
        found.append(Finding("CRPPagos", "Un CFDI de pago lleva el complemento de pagos 2.0."))
        return found
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for index, pago in enumerate(pagos.findall("pago20:Pago", NS), start=1):
        found += _pago(pago, index, totals)
    written = {name: Decimal(value) for name, value in pagos.find("pago20:Totales", NS).attrib.items()}
    expected = {name: _round(value, 2) for name, value in totals.items()}
    if written != expected:
        found.append(Finding("CRPTotales", f"Totales {written} ≠ suma de los pagos por su TipoCambioP {expected}."))
    return found


def _pago(pago: etree._Element, index: int, totals: dict[str, Decimal]) -> list[Finding]:
    found: list[Finding] = []
    currency = pago.get("MonedaP", "")
    places = sat.currency_decimals(currency)
    rate = _amount(pago, "TipoCambioP") or ZERO
    if currency == "XXX":
        found.append(Finding("CRPMonedaP", f"Pago {index}: MonedaP no puede ser XXX."))
    if (currency == "MXN") != (pago.get("TipoCambioP") == "1"):
        found.append(Finding("CRPTipoCambioP", f"Pago {index}: TipoCambioP es \"1\" si y sólo si MonedaP es MXN."))
    exact = ZERO
    transfers: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    withheld: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for related in pago.findall("pago20:DoctoRelacionado", NS):
        label = f"Pago {index}, documento {related.get('IdDocumento')}"
        before, paid, after = (_amount(related, k) or ZERO for k in ("ImpSaldoAnt", "ImpPagado", "ImpSaldoInsoluto"))
        if paid <= 0:
            found.append(Finding("CRPImpPagado", f"{label}: ImpPagado debe ser mayor que 0."))
        if after != before - paid or after < 0:
            found.append(Finding("CRPImpSaldoInsoluto", f"{label}: ImpSaldoInsoluto {after} ≠ ImpSaldoAnt − "
                                                        f"ImpPagado = {before - paid}, o es negativo."))
        equivalence = _amount(related, "EquivalenciaDR") or Decimal(1)
        if related.get("MonedaDR") == currency and equivalence != 1:
            found.append(Finding("CRPEquivalenciaDR", f"{label}: EquivalenciaDR es 1 en la moneda del pago."))
        if (related.find("pago20:ImpuestosDR", NS) is not None) != (related.get("ObjetoImpDR") == "02"):
            found.append(Finding("CRPObjetoImpDR", f"{label}: ImpuestosDR va con ObjetoImpDR 02, y sólo con él."))
        exact += paid / equivalence
        for tax in related.findall("pago20:ImpuestosDR/pago20:TrasladosDR/pago20:TrasladoDR", NS):
            group = transfers[(tax.get("ImpuestoDR"), tax.get("TipoFactorDR"), tax.get("TasaOCuotaDR"))]
            group[0] += (_amount(tax, "BaseDR") or ZERO) / equivalence
            group[1] += (_amount(tax, "ImporteDR") or ZERO) / equivalence
        for tax in related.findall("pago20:ImpuestosDR/pago20:RetencionesDR/pago20:RetencionDR", NS):
            withheld[tax.get("ImpuestoDR")] += (_amount(tax, "ImporteDR") or ZERO) / equivalence
    monto = _amount(pago, "Monto") or ZERO
    if monto < _round(exact, places):
        found.append(Finding("CRPMonto", f"Pago {index}: Monto {monto} < suma de ImpPagado / EquivalenciaDR "
                                         f"{_round(exact, places)}."))
    totals["MontoTotalPagos"] += monto * rate
    written = {(t.get("ImpuestoP"), t.get("TipoFactorP"), t.get("TasaOCuotaP")):
               (_amount(t, "BaseP"), _amount(t, "ImporteP"))
               for t in pago.findall("pago20:ImpuestosP/pago20:TrasladosP/pago20:TrasladoP", NS)}
    expected = {(tax, factor, None if factor == "Exento" else rate_):
                (_round(base, places), None if factor == "Exento" else _round(amount, places))
                for (tax, factor, rate_), (base, amount) in transfers.items()}
    if written != expected:
        found.append(Finding("CRPTrasladosP", f"Pago {index}: TrasladosP {written} ≠ suma de los TrasladosDR "
                                              f"{expected}."))
    retained = {t.get("ImpuestoP"): _amount(t, "ImporteP")
                for t in pago.findall("pago20:ImpuestosP/pago20:RetencionesP/pago20:RetencionP", NS)}
    if retained != {tax: _round(value, places) for tax, value in withheld.items()}:
        found.append(Finding("CRPRetencionesP", f"Pago {index}: RetencionesP ≠ suma de las RetencionesDR."))
    for (tax, factor, rate_), (base, amount) in written.items():
        if tax != "002":
            continue
        if factor == "Exento":
            totals["TotalTrasladosBaseIVAExento"] += (base or ZERO) * rate
        elif rate_ in VAT_RATES:
            totals[f"TotalTrasladosBase{VAT_RATES[rate_]}"] += (base or ZERO) * rate
            totals[f"TotalTrasladosImpuesto{VAT_RATES[rate_]}"] += (amount or ZERO) * rate
    for tax, amount in retained.items():
        if tax in WITHHELD:
            totals[WITHHELD[tax]] += (amount or ZERO) * rate
    return found
