"""Mexico's payment receipts end to end over HTTP against the local stack and its PAC simulator: a PPD
invoice is issued and stamped, a partial payment and then a second one bring its balance to 0 (the
invoice's view shows both payments), each payment is a CFDI de pago stamped by the PAC and checked by
verifiers that share no code with Sello (cfdv40 + Pagos20 from satcfdi's schema tree, SAT's cadena XSLT
on the stored bytes, the TFD's SelloSAT), with its PDF; and what SAT refuses is a 422 at its path."""

from __future__ import annotations

import base64
import io
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree
from pypdf import PdfReader

from tests.e2e.conftest import issue, wait_final
from tests.e2e.test_mx_documents_e2e import (  # noqa: F401 (fixtures)
    CFDI,
    TFD,
    XSLT_TREE,
    body,
    cadena,
    download,
    mexico,
    pac,
    sat_certificate,
    tfd_cadena,
    verify,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"),
              pytest.mark.skipif(not XSLT_TREE.is_dir(), reason=f"shared conformance fixture not available: "
                                                                f"{XSLT_TREE}")]
PAGOS = "http://www.sat.gob.mx/Pagos20"
NS = {"cfdi": CFDI, "pago20": PAGOS}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    import satcfdi

    root = Path(satcfdi.__file__).parent / "transform" / "schemas" / "www.sat.gob.mx" / "sitio_internet" / "cfd"
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{path.as_uri()}"/>' for ns, path in (
        (CFDI, root / "4" / "cfdv40.xsd"), (PAGOS, root / "Pagos" / "Pagos20.xsd"),
        (TFD, root / "TimbreFiscalDigital" / "TimbreFiscalDigitalv11.xsd")))
    return etree.XMLSchema(etree.fromstring(f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}'
                                            f'</xs:schema>'))


def ppd_invoice(issuer_id: str) -> dict:
    invoice = body("create_invoice_mx", issuer_id)
    invoice.pop("payment_form", None)
    return invoice | {"payment_method": "PPD"}


def paying(issuer_id: str, invoice_id: str, amount: str) -> dict:
    payment = body("create_payment_mx", issuer_id)
    payment["payments"][0]["documents"] = [{"document": invoice_id, "amount": amount}]
    del payment["payments"][0]["paid_at"]  # received now: FechaPago is the receipt's Fecha
    return payment


def check_stamped(local_stack, schema, xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert schema.validate(root), schema.error_log
    certificate = x509.load_der_x509_certificate(base64.b64decode(root.get("Certificado")))
    verify(certificate, cadena(xml), root.get("Sello"))
    (tfd,) = root.iter(f"{{{TFD}}}TimbreFiscalDigital")
    verify(sat_certificate(local_stack), tfd_cadena(tfd), tfd.get("SelloSAT"))
    return root


def test_a_ppd_invoice_paid_in_two_installments_ends_with_balance_zero(local_stack, mexico, pac, schema):
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        invoice = wait_final(client, issue(client, ppd_invoice(issuer_id))["id"])
        assert invoice["status"] == "authorized", invoice
        total = Decimal(invoice["totals"]["total"])
        assert Decimal(invoice["balance"]) == total and invoice["payments"] == []
        first_amount = (total / 3).quantize(Decimal("0.01"))
        first = wait_final(client, issue(client, paying(issuer_id, invoice["id"], str(first_amount)))["id"])
        assert first["status"] == "authorized", first
        assert Decimal(client.get(f"/v1/documents/{invoice['id']}").json()["balance"]) == total - first_amount
        rest = str(total - first_amount)
        second = wait_final(client, issue(client, paying(issuer_id, invoice["id"], rest))["id"])
        assert second["status"] == "authorized", second
        paid = client.get(f"/v1/documents/{invoice['id']}").json()
        xml = download(client, second["id"], "xml")
        pdf = download(client, second["id"], "pdf")
        too_much = client.post("/v1/documents", json=paying(issuer_id, invoice["id"], "0.01"))
    assert Decimal(paid["balance"]) == 0
    assert [(p["document_id"], p["installment"], Decimal(p["amount"])) for p in paid["payments"]] == [
        (first["id"], 1, first_amount), (second["id"], 2, Decimal(rest))]
    assert (first["type"], first["number"].split("-")[0], first["totals"]["total"]) == ("payment", "P", str(first_amount))
    root = check_stamped(local_stack, schema, xml)
    (related,) = root.iterfind("cfdi:Complemento/pago20:Pagos/pago20:Pago/pago20:DoctoRelacionado", NS)
    assert related.get("IdDocumento").upper() == invoice["authority"]["authorization_number"].upper()
    assert (related.get("NumParcialidad"), Decimal(related.get("ImpSaldoAnt")), related.get("ImpSaldoInsoluto")) == (
        "2", Decimal(rest), "0.00")
    assert (related.get("Serie"), related.get("Folio")) == tuple(invoice["number"].split("-"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "RECIBO DE PAGO" in text and "DOCUMENTOS RELACIONADOS" in text
    assert too_much.status_code == 422, too_much.text
    assert (too_much.json()["error"]["code"], too_much.json()["error"]["path"]) == (
        "amount_exceeds_balance", "payments.0.documents.0.amount")


def test_a_pue_invoice_cannot_be_paid(local_stack, mexico, pac):
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        invoice = wait_final(client, issue(client, body("create_invoice_mx", issuer_id))["id"])
        refused = client.post("/v1/documents", json=paying(issuer_id, invoice["id"], "1.00"))
    assert "balance" not in invoice
    assert refused.status_code == 422, refused.text
    assert (refused.json()["error"]["code"], refused.json()["error"]["path"]) == (
        "invoice_not_payable", "payments.0.documents.0.document")


def test_a_payment_the_pac_rejects_gives_its_amount_back(local_stack, mexico, pac):
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        invoice = wait_final(client, issue(client, ppd_invoice(issuer_id))["id"])
        pac("config", reject_next=[{"code": "301"}])
        rejected = wait_final(client, issue(client, paying(issuer_id, invoice["id"], "100.00"))["id"])
        after = client.get(f"/v1/documents/{invoice['id']}").json()
    assert rejected["status"] == "rejected", rejected
    assert (after["balance"], after["payments"]) == (invoice["balance"], [])
