"""Payment receipts (CFDI de pago with the Pagos 2.0 complement) prepared, built and sealed by Sello
with SAT's 2023 test CSD of EKU9003173C9, checked independently of Sello's code: against cfdv40.xsd and
Pagos20.xsd (satcfdi's bundled schema tree, compiled here), the sello against the cadena original that
the shared SAT XSLT tree (cadenaoriginal_4_0.xslt, which includes Pagos20.xslt) gives for the bytes as
built, SAT's rules on the complement recomputed from the XML itself, and a tampered copy failing. The
shared Pagos samples (*pago20*) pass the same verifier."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from lxml import etree

from sello.countries.mx import cfdi, documents, payments, requests
from sello.countries.mx.issuer import validate_issuer
from sello.models.documents import Document
from tests.conformance.test_mx_sealed_cfdi import CSD, MORAL, NOW, XSLT, csd, verify_sello
from tests.conftest import DATA, needs_data

pytestmark = [needs_data("mx", "csd", CSD.name + ".cer"), needs_data("mx", "csd", CSD.name + ".key"),
              needs_data("mx", "xslt", "sat_tree")]

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4", "pago20": "http://www.sat.gob.mx/Pagos20"}
D = Decimal
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                  "series": {"invoice": "A", "credit_note": "NC", "payment": "P"}}]})
CUSTOMER = {k: v for k, v in MORAL.items() if k != "cfdi_use"}


def _line(price: str, *taxes: dict, **changes) -> dict:
    return {"product_code": "84111506", "description": "Servicio", "unit_code": "E48", "unit_price": price,
            "taxes": list(taxes)} | changes


VAT16, VAT0, EXEMPT = {"type": "vat", "rate": "16"}, {"type": "vat", "rate": "0"}, {"type": "vat", "exempt": True}
ISR10 = {"type": "isr", "withholding": True, "rate": "10"}
VAT_WITHHELD = {"type": "vat", "withholding": True, "rate": "10.6667"}


def invoice(doc_id: str, *lines: dict, currency: str = "MXN") -> Document:
    data = {"type": "invoice", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": MORAL, "currency": currency,
            "exchange_rate": None if currency == "MXN" else "18.50", "payment_method": "PPD", "items": list(lines)}
    prepared = documents.prepare(requests.MexicoDocumentRequest.model_validate(data), ISSUER, "test", NOW)
    return Document(id=doc_id, account_id="acc_x", environment="test", type="invoice", country="MX",
                    issuer_id="iss_x", status="authorized", number=f"A-{doc_id[-2:]}", content=prepared.content,
                    authorization_number=f"A1B2C3D4-0000-4000-8000-0000000000{doc_id[-2:]}", balance=prepared.balance,
                    created_at=NOW)


INVOICES = {doc.id: doc for doc in (
    invoice("doc_aaaaaaaaaaaaaaaaaa01", _line("1000.00", VAT16, ISR10), _line("333.33", VAT0), _line("250.00", EXEMPT)),
    invoice("doc_aaaaaaaaaaaaaaaaaa02", _line("12000.00", VAT16, ISR10, VAT_WITHHELD)),
    invoice("doc_aaaaaaaaaaaaaaaaaa03", _line("2500.00", VAT16), currency="USD"),
)}
ONE, TWO, USD = INVOICES


def paid(document: str, amount: str, **more) -> dict:
    return {"document": document, "amount": amount, **more}


CASES = {
    "partial, IVA 16/0/exempt and ISR": [
        {"paid_at": "2025-06-28", "payment_form": "03", "documents": [paid(ONE, "700.00")]}],
    "two invoices and a second payment": [
        {"paid_at": "2025-06-28T10:30:00", "payment_form": "03", "operation_number": "SPEI-7731",
         "documents": [paid(ONE, "100.00"), paid(TWO, "5000.00")]},
        {"paid_at": "2025-06-29", "payment_form": "02", "documents": [paid(TWO, "4000.00")]}],
    "dollars paid in pesos, pesos paid in dollars": [
        {"paid_at": "2025-06-29", "payment_form": "03", "documents": [paid(USD, "1000.00", equivalence="0.0540")]},
        {"paid_at": "2025-06-29", "payment_form": "03", "currency": "USD", "exchange_rate": "18.3456",
         "documents": [paid(ONE, "300.00")]}],
    "invoice issued elsewhere, paid in full": [
        {"paid_at": "2025-06-29", "payment_form": "01", "amount": "1200.00", "documents": [
            paid("5FB2822E-396D-4725-8521-CDC4BDD20CCF", "1160.00", currency="MXN", total="1160.00",
                 previous_balance="1160.00", installment=1, series="F", folio="1021",
                 taxes=[{"type": "vat", "rate": "16", "base": "1000.00", "amount": "160.00"}])]}],
}


@cache
def built(name: str) -> tuple[object, bytes]:
    data = {"type": "payment", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": CUSTOMER,
            "payments": copy.deepcopy(CASES[name])}
    request = payments.resolve(requests.MexicoDocumentRequest.model_validate(data), INVOICES)
    prepared = documents.prepare(request, ISSUER, "test", NOW)
    number = documents.number(prepared, 77, "doc_test", "test")
    return prepared, cfdi.build_signed(prepared.content, number.number, *csd())


@cache
def schema() -> etree.XMLSchema:
    """cfdv40.xsd and Pagos20.xsd of satcfdi's copy of SAT's schema tree (full catalogs), compiled here."""
    root = cfdi.schema_path().parent.parent
    wrapper = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
               f'<xs:import namespace="{NS["cfdi"]}" schemaLocation="{(root / "4" / "cfdv40.xsd").as_uri()}"/>'
               f'<xs:import namespace="{NS["pago20"]}" schemaLocation="'
               f'{(root / "Pagos" / "Pagos20.xsd").as_uri()}"/></xs:schema>')
    return etree.XMLSchema(etree.fromstring(wrapper))


def _round(value: D, places: int) -> D:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _places(currency: str) -> int:
    return {"MXN": 2, "USD": 2}[currency]


@pytest.mark.parametrize("name", list(CASES))
def test_the_payment_cfdi_matches_the_schemas_and_its_sello_verifies(name):
    prepared, xml = built(name)
    root = etree.fromstring(xml)
    assert schema().validate(root), schema().error_log
    verify_sello(xml)
    # The host CFDI of a payment (spec §2.4).
    assert {k: root.get(k) for k in ("TipoDeComprobante", "SubTotal", "Moneda", "Total", "Exportacion")} == {
        "TipoDeComprobante": "P", "SubTotal": "0", "Moneda": "XXX", "Total": "0", "Exportacion": "01"}
    assert root.get("FormaPago") is None and root.get("MetodoPago") is None
    (concepto,) = root.findall("cfdi:Conceptos/cfdi:Concepto", NS)
    assert dict(concepto.attrib) == {"ClaveProdServ": "84111506", "Cantidad": "1", "ClaveUnidad": "ACT",
                                     "Descripcion": "Pago", "ValorUnitario": "0", "Importe": "0", "ObjetoImp": "01"}
    assert root.find("cfdi:Receptor", NS).get("UsoCFDI") == "CP01"
    assert payments.estimated_size(prepared.content) >= len(xml)


@pytest.mark.parametrize("name", list(CASES))
def test_a_changed_amount_breaks_the_sello(name):
    _, xml = built(name)
    monto = etree.fromstring(xml).find("cfdi:Complemento/pago20:Pagos/pago20:Pago", NS).get("Monto")
    tampered = xml.replace(f'Monto="{monto}"'.encode(), f'Monto="{D(monto) + D("0.01")}"'.encode(), 1)
    assert tampered != xml
    with pytest.raises(InvalidSignature):
        verify_sello(tampered)


@pytest.mark.parametrize("name", list(CASES))
def test_sats_rules_on_the_complement_hold_in_the_xml(name):
    _, xml = built(name)
    pagos = etree.fromstring(xml).find("cfdi:Complemento/pago20:Pagos", NS)
    totals = {"MontoTotalPagos": D(0)}
    for pago in pagos.findall("pago20:Pago", NS):
        currency, places = pago.get("MonedaP"), _places(pago.get("MonedaP"))
        rate = D(pago.get("TipoCambioP"))
        assert (currency == "MXN") == (pago.get("TipoCambioP") == "1")
        exact, groups, withheld = D(0), {}, {}
        for related in pago.findall("pago20:DoctoRelacionado", NS):
            before, amount, after = (D(related.get(k)) for k in ("ImpSaldoAnt", "ImpPagado", "ImpSaldoInsoluto"))
            assert after == before - amount >= 0 and amount > 0
            equivalence = D(related.get("EquivalenciaDR"))
            assert (related.get("MonedaDR") == currency) == (equivalence == 1)
            exact += amount / equivalence
            taxes = related.find("pago20:ImpuestosDR", NS)
            assert (taxes is not None) == (related.get("ObjetoImpDR") == "02")
            for tax in related.findall("pago20:ImpuestosDR/pago20:TrasladosDR/pago20:TrasladoDR", NS):
                key = (tax.get("ImpuestoDR"), tax.get("TipoFactorDR"), tax.get("TasaOCuotaDR"))
                group = groups.setdefault(key, [D(0), D(0)])
                group[0] += D(tax.get("BaseDR")) / equivalence
                group[1] += D(tax.get("ImporteDR") or 0) / equivalence
                if tax.get("TipoFactorDR") == "Tasa":  # each share of the tax: its base times the rate, ±1 cent
                    assert abs(D(tax.get("BaseDR")) * D(tax.get("TasaOCuotaDR")) - D(tax.get("ImporteDR"))) <= D("0.01")
            for tax in related.findall("pago20:ImpuestosDR/pago20:RetencionesDR/pago20:RetencionDR", NS):
                withheld[tax.get("ImpuestoDR")] = (withheld.get(tax.get("ImpuestoDR"), D(0))
                                                   + D(tax.get("ImporteDR")) / equivalence)
        # Monto: at least Σ ImpPagado / EquivalenciaDR (rounded to the payment's currency).
        assert D(pago.get("Monto")) >= _round(exact, places)
        totals["MontoTotalPagos"] += D(pago.get("Monto")) * rate
        transfers = {(t.get("ImpuestoP"), t.get("TipoFactorP"), t.get("TasaOCuotaP")): t
                     for t in pago.findall("pago20:ImpuestosP/pago20:TrasladosP/pago20:TrasladoP", NS)}
        assert set(transfers) == {(tax, factor, rate_ if factor != "Exento" else None)
                                  for tax, factor, rate_ in groups}
        for (tax, factor, rate_), (base, amount) in groups.items():
            node = transfers[(tax, factor, rate_ if factor != "Exento" else None)]
            assert D(node.get("BaseP")) == _round(base, places)
            if factor == "Exento":  # no TasaOCuotaP nor ImporteP (CfdiUtils PR #128)
                assert node.get("ImporteP") is None and node.get("TasaOCuotaP") is None
                name = "TotalTrasladosBaseIVAExento"
                totals[name] = totals.get(name, D(0)) + D(node.get("BaseP")) * rate
                continue
            assert D(node.get("ImporteP")) == _round(amount, places)
            suffix = {"0.160000": "IVA16", "0.080000": "IVA8", "0.000000": "IVA0"}[rate_]
            for total, value in ((f"TotalTrasladosBase{suffix}", node.get("BaseP")),
                                 (f"TotalTrasladosImpuesto{suffix}", node.get("ImporteP"))):
                totals[total] = totals.get(total, D(0)) + D(value) * rate
        retained = {r.get("ImpuestoP"): D(r.get("ImporteP"))
                    for r in pago.findall("pago20:ImpuestosP/pago20:RetencionesP/pago20:RetencionP", NS)}
        assert retained == {tax: _round(value, places) for tax, value in withheld.items()}
        for tax, value in retained.items():
            name = {"001": "TotalRetencionesISR", "002": "TotalRetencionesIVA"}[tax]
            totals[name] = totals.get(name, D(0)) + value * rate
    written = {name: D(value) for name, value in pagos.find("pago20:Totales", NS).attrib.items()}
    assert written == {name: _round(value, 2) for name, value in totals.items()}


def test_the_second_payment_continues_the_installments():
    pagos = etree.fromstring(built("two invoices and a second payment")[1]).find("cfdi:Complemento/pago20:Pagos", NS)
    second = [(d.get("IdDocumento"), d.get("NumParcialidad"), d.get("ImpSaldoAnt"), d.get("ImpSaldoInsoluto"))
              for p in pagos.findall("pago20:Pago", NS) for d in p.findall("pago20:DoctoRelacionado", NS)]
    total = INVOICES[TWO].content["totals"]["total"]
    uuid = INVOICES[TWO].authorization_number
    assert second[1:] == [(uuid, "1", total, str(D(total) - 5000)), (uuid, "2", str(D(total) - 5000),
                                                                     str(D(total) - 9000))]


SAMPLES = sorted(p.name for p in (DATA / "mx" / "samples").glob("*pago20*") if "UNSIGNED" not in p.name)


@needs_data("mx", "samples")
@pytest.mark.parametrize("sample", SAMPLES)
def test_the_shared_pagos_samples_verify(sample):
    xml = (DATA / "mx" / "samples" / sample).read_bytes()
    root = etree.fromstring(xml)
    assert root.find("cfdi:Complemento/pago20:Pagos", NS) is not None
    assert schema().validate(root), schema().error_log
    cfdi.validate(xml)  # Sello's own check of a CFDI takes them too
    verify_sello(xml)
    with pytest.raises(InvalidSignature):
        verify_sello(xml.replace(b'Version="2.0"', b'Version="2.1"', 1))


def test_the_xslt_tree_includes_pagos20():
    text = Path(XSLT).read_text(encoding="utf-8")
    assert "Pagos/Pagos20.xslt" in text
