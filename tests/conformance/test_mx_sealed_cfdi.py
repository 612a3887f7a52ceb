"""CFDIs prepared, built and sealed by Sello with SAT's 2023 test CSD of EKU9003173C9, checked
independently of Sello's code: against cfdv40.xsd (lxml, satcfdi's bundled schema tree, compiled
here), the sello against the cadena original that the shared SAT XSLT tree gives for the bytes as
built (lxml + cryptography), SAT's sums recomputed from the XML itself, and a tampered copy failing.

Every kind of customer (persona moral, persona física, general public, global invoice, foreign),
MXN and USD, many lines of mixed rates and withholdings, and texts with accents, Ñ and &."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding, load_der_private_key
from lxml import etree

from sello.countries.mx import cfdi, documents, requests
from sello.countries.mx.issuer import validate_issuer
from tests.conftest import DATA, needs_data

CSD = DATA / "mx" / "csd" / "EKU9003173C9_2023_30001000000500003416"
XSLT = DATA.joinpath("mx", "xslt", "sat_tree", "www.sat.gob.mx", "sitio_internet", "cfd", "4",
                     "cadenaoriginal_4_0", "cadenaoriginal_4_0.xslt")
pytestmark = [needs_data("mx", "csd", CSD.name + ".cer"), needs_data("mx", "csd", CSD.name + ".key"),
              needs_data("mx", "xslt", "sat_tree")]

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4"}
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # within the CSD's validity (2023-05-18 to 2027-05-18)
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                  "series": {"invoice": "A", "credit_note": "NC"}},
                 {"code": "TIJ", "name": "Tijuana", "zip": "22000", "series": {"invoice": "T"}}]})
D = Decimal


@cache
def csd() -> tuple:
    password = (CSD.parent / (CSD.name + ".txt")).read_text().strip().encode()
    key = load_der_private_key((CSD.parent / (CSD.name + ".key")).read_bytes(), password)
    return key, x509.load_der_x509_certificate((CSD.parent / (CSD.name + ".cer")).read_bytes())


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(cfdi.schema_path())))


@cache
def transform() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(XSLT)))


def item(description="Servicio", price="100.00", taxes=({"type": "vat", "rate": "16"},), **changes) -> dict:
    return {"product_code": "84111506", "description": description, "unit_code": "E48", "unit_price": price,
            "taxes": list(taxes)} | changes


MIXED = [
    item("Licencia anual de software — facturación & nómina", "12000.00", code="LIC-Ñ-1", unit="Servicio"),
    item("Soporte técnico, horas \"en sitio\" <urgente>", "850.00", quantity="2.5", discount="125.00",
         taxes=({"type": "vat", "rate": "16"}, {"type": "isr", "withholding": True, "rate": "1.25"})),
    item("Honorarios de asesoría", "1000", taxes=({"type": "vat", "rate": "16"},
                                                  {"type": "isr", "withholding": True, "rate": "10"},
                                                  {"type": "vat", "withholding": True, "rate": "10.6667"})),
    item("Libros de texto (tasa 0 %)", "349.99", quantity=3, product_code="55101500", unit_code="H87",
         taxes=({"type": "vat", "rate": "0"},)),
    item("Consulta médica exenta", "750.00", taxes=({"type": "vat", "exempt": True},)),
    item("Bebida saborizada 600 ml", "18.50", quantity=24, product_code="50202306", unit_code="H87",
         taxes=({"type": "ieps", "per_unit": "1.6451"}, {"type": "vat", "rate": "16"})),
    item("Cerveza artesanal", "45.00", quantity=12, product_code="50202203", unit_code="H87",
         taxes=({"type": "ieps", "rate": "26.5"}, {"type": "vat", "rate": "16"})),
    item("Flete", "0.333333", quantity="7.125", taxes=({"type": "vat", "rate": "16"},
                                                        {"type": "vat", "withholding": True, "rate": "4"})),
    item("Cortesía", "0", taxes=()),
    item("Año de suscripción — Ñuñoa", "1.005", quantity="1000", discount="0.05"),
    item("Pieza sin objeto de impuesto", "10.10", taxes=(), tax_object="01"),
]
MORAL = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601", "zip": "76343",
         "cfdi_use": "G03"}
CASES = {
    "moral, many lines, mixed rates": {"customer": MORAL, "items": MIXED, "payment_form": "03"},
    "física, accents and symbols": {
        "customer": {"tax_id": "XIQB891116QE4", "name": "María Ñúñez & Hijos \"La Única\"", "tax_regime": "612",
                     "zip": "06300", "cfdi_use": "D01"},
        "items": [item("Consulta de ortodoncia — ajuste <brackets>", "1500.00")], "payment_form": "04",
        "payment_terms": "Pago con tarjeta; 3 meses sin intereses"},
    "público en general, individual": {
        "customer": {"tax_id": "XAXX010101000", "name": "Juan Pérez Ñandú"}, "items": MIXED[:3],
        "payment_form": "01"},
    "global invoice": {
        "customer": {"tax_id": "XAXX010101000"},
        "global_information": {"periodicity": "bimonthly", "months": "15", "year": 2025},
        "items": [item("Venta", price, product_code="01010101", unit_code="ACT", code=f"T-{n}")
                  for n, price in enumerate(["431.03", "86.21", "1250.00", "0.86"], start=1000)],
        "payment_form": "01"},
    "foreign customer, USD": {
        "customer": {"tax_id": "XEXX010101000", "name": "ACME TRADING LLC & SONS", "country": "USA",
                     "foreign_tax_id": "98-7654321"},
        "currency": "USD", "exchange_rate": "18.3456", "export": "04",
        "items": [item("Desarrollo de software a la medida", "2500.00", taxes=({"type": "vat", "rate": "0"},))],
        "payment_form": "03"},
    "PPD in the border region": {
        "branch": "TIJ", "customer": MORAL, "payment_method": "PPD",
        "items": [item("Mantenimiento", "5000.00", taxes=({"type": "vat", "rate": "8"},))]},
    "credit note": {
        "type": "credit_note", "customer": MORAL | {"cfdi_use": "G02"}, "payment_form": "15",
        "related": ["5FB2822E-396D-4725-8521-CDC4BDD20CCF", "A1B2C3D4-0000-4000-8000-000000000001"],
        "items": [item("Bonificación por volumen", "1000.00", product_code="84111506", unit_code="ACT")]},
}


def request(case: dict) -> requests.MexicoDocumentRequest:
    data = {"type": "invoice", "issuer_id": "iss_x", "branch": "MATRIZ"} | copy.deepcopy(case)
    return requests.MexicoDocumentRequest.model_validate(data)


@cache
def built(name: str) -> tuple[documents.PreparedDocument, bytes]:
    prepared = documents.prepare(request(CASES[name]), ISSUER, "test", NOW)
    number = documents.number(prepared, 1234, "doc_test", "test")
    return prepared, cfdi.build_signed(prepared.content, number.number, *csd())


def verify_sello(xml: bytes) -> None:
    """The sello against the cadena original the shared SAT XSLT gives for these bytes, with the
    public key of the certificate the CFDI carries."""
    root = etree.fromstring(xml)
    certificate = x509.load_der_x509_certificate(base64.b64decode(root.get("Certificado")))
    cadena = str(transform()(etree.fromstring(xml)))
    certificate.public_key().verify(base64.b64decode(root.get("Sello")), cadena.encode("utf-8"),
                                    padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("name", list(CASES))
def test_the_cfdi_matches_the_schema_and_its_sello_verifies(name):
    prepared, xml = built(name)
    document = etree.fromstring(xml)
    assert schema().validate(document), schema().error_log
    verify_sello(xml)
    key, certificate = csd()
    assert base64.b64decode(document.get("Certificado")) == certificate.public_bytes(Encoding.DER)
    # NoCertificado: the certificate's serial number, whose bytes are ASCII digits.
    serial = certificate.serial_number
    assert document.get("NoCertificado") == serial.to_bytes((serial.bit_length() + 7) // 8, "big").decode()
    assert (document.get("Serie"), document.get("Folio")) == (prepared.series, "1234")
    assert document.get("Fecha") == prepared.content["fecha"]
    assert documents.estimated_size(prepared.content) >= len(xml)


@pytest.mark.parametrize("name", list(CASES))
def test_a_changed_total_breaks_the_sello(name):
    _, xml = built(name)
    document = etree.fromstring(xml)
    total = D(document.get("Total"))
    tampered = xml.replace(f'Total="{total}"'.encode(), f'Total="{total + D("0.01")}"'.encode(), 1)
    assert tampered != xml
    with pytest.raises(InvalidSignature):
        verify_sello(tampered)


def _amount(element, name: str) -> D:
    value = element.get(name)
    return D(value) if value is not None else D(0)


@pytest.mark.parametrize("name", list(CASES))
def test_sats_sums_hold_in_the_xml(name):
    prepared, xml = built(name)
    root = etree.fromstring(xml)
    conceptos = root.findall("cfdi:Conceptos/cfdi:Concepto", NS)
    places = len(root.get("Total").partition(".")[2])
    step = D(1).scaleb(-places)
    # CFDI40108, the discount and CFDI40119.
    assert D(root.get("SubTotal")) == sum(D(c.get("Importe")) for c in conceptos)
    assert _amount(root, "Descuento") == sum(_amount(c, "Descuento") for c in conceptos)
    summary = root.find("cfdi:Impuestos", NS)
    transferred = _amount(summary, "TotalImpuestosTrasladados") if summary is not None else D(0)
    withheld = _amount(summary, "TotalImpuestosRetenidos") if summary is not None else D(0)
    assert D(root.get("Total")) == D(root.get("SubTotal")) - _amount(root, "Descuento") + transferred - withheld
    # Each line: Importe = Cantidad × ValorUnitario rounded; each rated tax Importe = Base × TasaOCuota rounded.
    groups: dict[tuple, list[D]] = {}
    retained: dict[str, D] = {}
    for concepto in conceptos:
        exact = D(concepto.get("Cantidad")) * D(concepto.get("ValorUnitario"))
        assert D(concepto.get("Importe")) == exact.quantize(step, rounding="ROUND_HALF_UP")
        assert (concepto.find("cfdi:Impuestos", NS) is not None) == (concepto.get("ObjetoImp") == "02")
        for tax in concepto.findall("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", NS):
            key = (tax.get("Impuesto"), tax.get("TipoFactor"), tax.get("TasaOCuota"))
            if tax.get("TipoFactor") != "Exento":
                assert D(tax.get("Importe")) == (D(tax.get("Base")) * D(tax.get("TasaOCuota"))).quantize(
                    step, rounding="ROUND_HALF_UP")
            group = groups.setdefault(key, [D(0), D(0)])
            group[0] += D(tax.get("Base"))
            group[1] += _amount(tax, "Importe")
        for tax in concepto.findall("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", NS):
            assert D(tax.get("Importe")) == (D(tax.get("Base")) * D(tax.get("TasaOCuota"))).quantize(
                step, rounding="ROUND_HALF_UP")
            retained[tax.get("Impuesto")] = retained.get(tax.get("Impuesto"), D(0)) + D(tax.get("Importe"))
    # The summary is the lines' sums (Traslado by Impuesto, TipoFactor, TasaOCuota; Retencion by Impuesto).
    summary_transfers = {} if summary is None else {
        (t.get("Impuesto"), t.get("TipoFactor"), t.get("TasaOCuota")): (D(t.get("Base")), _amount(t, "Importe"))
        for t in summary.findall("cfdi:Traslados/cfdi:Traslado", NS)}
    assert summary_transfers == {key: (base.quantize(step, rounding="ROUND_HALF_UP"), amount)
                                 for key, (base, amount) in groups.items()}
    summary_retained = {} if summary is None else {
        t.get("Impuesto"): D(t.get("Importe")) for t in summary.findall("cfdi:Retenciones/cfdi:Retencion", NS)}
    assert summary_retained == retained
    charged = [amount for (_, factor, _), (_, amount) in summary_transfers.items() if factor != "Exento"]
    assert (summary is not None and summary.get("TotalImpuestosTrasladados") is not None) == bool(charged)
    assert transferred == sum(charged, D(0))
    # And the totals Sello keeps are the CFDI's.
    assert prepared.totals["total"] == D(root.get("Total"))
    assert prepared.totals["subtotal"] == D(root.get("SubTotal")) - _amount(root, "Descuento")


def test_what_each_kind_of_customer_looks_like():
    receptor = {name: etree.fromstring(built(name)[1]).find("cfdi:Receptor", NS).attrib for name in CASES}
    assert dict(receptor["global invoice"]) == {"Rfc": "XAXX010101000", "Nombre": "PUBLICO EN GENERAL",
                                                "DomicilioFiscalReceptor": "42501", "RegimenFiscalReceptor": "616",
                                                "UsoCFDI": "S01"}
    foreign = receptor["foreign customer, USD"]
    assert dict(foreign) == {"Rfc": "XEXX010101000", "Nombre": "ACME TRADING LLC & SONS",
                             "DomicilioFiscalReceptor": "42501", "ResidenciaFiscal": "USA",
                             "NumRegIdTrib": "98-7654321", "RegimenFiscalReceptor": "616", "UsoCFDI": "S01"}
    assert receptor["física, accents and symbols"]["Nombre"] == "María Ñúñez & Hijos \"La Única\""
    root = etree.fromstring(built("global invoice")[1])
    information = dict(root.find("cfdi:InformacionGlobal", NS).attrib)
    assert information == {"Periodicidad": "05", "Meses": "15", "Año": "2025"}
    usd = etree.fromstring(built("foreign customer, USD")[1])
    assert (usd.get("Moneda"), usd.get("TipoCambio"), usd.get("Exportacion")) == ("USD", "18.3456", "04")
    ppd = etree.fromstring(built("PPD in the border region")[1])
    assert (ppd.get("MetodoPago"), ppd.get("FormaPago"), ppd.get("LugarExpedicion"), ppd.get("Fecha")) == (
        "PPD", "99", "22000", "2025-06-30T11:00:00")
    note = etree.fromstring(built("credit note")[1])
    assert note.get("TipoDeComprobante") == "E"
    assert [r.get("UUID") for r in note.findall("cfdi:CfdiRelacionados/cfdi:CfdiRelacionado", NS)] == [
        "5FB2822E-396D-4725-8521-CDC4BDD20CCF", "A1B2C3D4-0000-4000-8000-000000000001"]


@needs_data("mx", "samples", "generated_eku2023_global_signed.xml")
def test_sellos_validation_accepts_a_shared_sample_and_refuses_it_tampered():
    sample = (DATA / "mx" / "samples" / "generated_eku2023_global_signed.xml").read_bytes()
    cfdi.validate(sample)
    verify_sello(sample)
    with pytest.raises(cfdi.InvalidCfdi):
        cfdi.validate(sample.replace(b'Moneda="MXN"', b'Moneda="MXX"'))
