"""The PAC simulator's checks of a CFDI de pago (local.pac.payments): the receipts Sello builds pass,
the shared Pagos samples pass, and each rule refuses a receipt changed to break it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from local.pac import payments as checks
from local.pac import sat
from sello.countries.mx import cfdi, documents, requests
from sello.countries.mx.issuer import validate_issuer
from tests.conftest import DATA, needs_data

NS = {"cfdi": sat.CFDI_NS, "pago20": sat.PAGOS_NS}
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501", "series": {"invoice": "A", "payment": "P"}}]})
INVOICE = {"document": "5FB2822E-396D-4725-8521-CDC4BDD20CCF", "amount": "700.00", "currency": "MXN",
           "total": "1410.00", "previous_balance": "1410.00", "installment": 1,
           "taxes": [{"type": "vat", "rate": "16", "base": "1000.00", "amount": "160.00"},
                     {"type": "vat", "exempt": True, "base": "250.00"},
                     {"type": "isr", "withholding": True, "rate": "10", "base": "1000.00", "amount": "100.00"}]}


def receipt(**payment) -> etree._Element:
    data = {"type": "payment", "issuer_id": "iss_x", "branch": "MATRIZ",
            "customer": {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601",
                         "zip": "76343"},
            "payments": [{"paid_at": "2025-06-29", "payment_form": "03", "documents": [INVOICE]} | payment]}
    prepared = documents.prepare(requests.MexicoDocumentRequest.model_validate(data), ISSUER, "test", NOW)
    return etree.fromstring(cfdi.build_payment(prepared.content, serie="P", folio="1").xml_bytes())


def pago(root: etree._Element) -> etree._Element:
    return root.find("cfdi:Complemento/pago20:Pagos/pago20:Pago", NS)


def codes(root: etree._Element) -> list[str]:
    return [finding.code for finding in checks.differences(root)]


@pytest.mark.parametrize("payment", [{}, {"currency": "USD", "exchange_rate": "18.50", "amount": "40.00"}])
def test_sellos_receipts_pass(payment):
    assert codes(receipt(**payment)) == []


@needs_data("mx", "samples")
@pytest.mark.parametrize("name", ["cfdiutils_created-cfdi40-pago20-valid.xml", "generated_eku2023_pago20_signed.xml",
                                  "satcfdi_pago20_xiqb891116qe4_iva16_signed.xml"])
def test_the_shared_samples_pass(name):
    assert codes(etree.fromstring((DATA / "mx" / "samples" / name).read_bytes())) == []


def test_an_invoice_is_not_checked_here():
    root = receipt()
    root.set("TipoDeComprobante", "I")
    assert codes(root) == []


def _related(root):
    return pago(root).find("pago20:DoctoRelacionado", NS)


@pytest.mark.parametrize(("change", "code"), [
    (lambda r: r.set("Total", "1"), "CRPTotal"),
    (lambda r: r.set("Moneda", "MXN"), "CRPMoneda"),
    (lambda r: r.set("MetodoPago", "PPD"), "CRPMetodoPago"),
    (lambda r: r.find("cfdi:Receptor", NS).set("UsoCFDI", "G03"), "CRPUsoCFDI"),
    (lambda r: pago(r).set("TipoCambioP", "1.5"), "CRPTipoCambioP"),
    (lambda r: pago(r).set("Monto", "699.99"), "CRPMonto"),
    (lambda r: _related(r).set("ImpSaldoInsoluto", "710.01"), "CRPImpSaldoInsoluto"),
    (lambda r: _related(r).set("EquivalenciaDR", "2"), "CRPEquivalenciaDR"),
    (lambda r: _related(r).set("ObjetoImpDR", "01"), "CRPObjetoImpDR"),
    (lambda r: pago(r).find("pago20:ImpuestosP/pago20:TrasladosP/pago20:TrasladoP", NS).set("ImporteP", "79.44"),
     "CRPTrasladosP"),
    (lambda r: pago(r).find("pago20:ImpuestosP/pago20:RetencionesP/pago20:RetencionP", NS).set("ImporteP", "1.00"),
     "CRPRetencionesP"),
    (lambda r: r.find("cfdi:Complemento/pago20:Pagos/pago20:Totales", NS).set("MontoTotalPagos", "700.01"),
     "CRPTotales"),
])
def test_each_rule_refuses_a_receipt_that_breaks_it(change, code):
    root = receipt()
    change(root)
    assert code in codes(root)
