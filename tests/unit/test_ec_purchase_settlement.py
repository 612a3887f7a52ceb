"""Purchase settlements (SRI liquidación de compra, codDoc 03): the issuer buys, the request's
customer is the supplier. Prepared on the invoice's lines, totals and payments; the supplier rules;
the liquidacionCompra 1.1.0 XML, against SRI's schema; its RIDE."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
from lxml import etree
from pypdf import PdfReader

from sello.formatting import formats
from sello.countries.ec import clave, documents, ride, xml, xsd
from sello.countries.ec.plugin import plugin
from sello.errors import Unprocessable
from sello.models.document_request import CreateDocumentRequest
from tests.conftest import needs_data
from tests.ec_fixtures import (  # noqa: F401 (fixtures)
    DELETE, NOW, make_issuer, no_schema_folder, schemas, with_path)
from tests.helpers import load_event

D = Decimal
CENT = D("0.01")


def body(**changes) -> dict:
    return load_event("documents/create_purchase_settlement.body.json") | changes


def prepare(data: dict, issuer=None):
    return documents.prepare(CreateDocumentRequest.model_validate(data), issuer or make_issuer(), "test", NOW)


def failure(data: dict) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


def built(data: dict, environment: str = "test", issuer=None) -> tuple[bytes, etree._Element, str]:
    """(XML, its root, clave) of the prepared document numbered 42."""
    prepared = prepare(data, issuer)
    numbered = documents.number(prepared, 42, "doc_settlement", environment)
    raw = xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                    environment=environment)
    return raw, etree.fromstring(raw), numbered.access_key


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# Preparing: the invoice's arithmetic, the supplier ----------------------------------------------------

def test_the_sample_is_prepared_with_the_supplier_as_customer():
    prepared = prepare(body())
    assert prepared.type == "purchase_settlement"
    supplier = prepared.content["customer"]
    assert (supplier["id_type_code"], supplier["tax_id"], supplier["name"]) == (
        "05", "1710034065", "Rosa Elena Chicaiza Toapanta")
    assert prepared.customer["email"] == "rosa.chicaiza@example.com"


def test_totals_are_the_sum_of_the_lines():
    data = body()
    prepared = prepare(data)
    subtotals = [money(D(str(i["quantity"])) * D(i["unit_price"]) - D(i.get("discount", "0")))
                 for i in data["items"]]
    vat = [money(s * D(i["taxes"][0]["rate"]) / 100) for s, i in zip(subtotals, data["items"], strict=True)]
    assert prepared.totals["subtotal"] == sum(subtotals)
    assert prepared.totals["discount"] == sum(D(i.get("discount", "0")) for i in data["items"])
    assert prepared.totals["tax"] == sum(vat)
    assert prepared.totals["total"] == sum(subtotals) + sum(vat)
    assert sum(D(p["amount"]) for p in data["payments"]) == prepared.totals["total"]
    groups = {g["rate_code"]: (D(g["base"]), D(g["amount"])) for g in prepared.content["tax_totals"]}
    assert set(groups) == {"0", "4"}
    assert groups["0"] == (subtotals[0] + subtotals[1], D(0))
    assert groups["4"] == (subtotals[2], vat[2])


def test_lines_totals_and_payments_are_computed_as_an_invoices():
    """The same lines and payments give a purchase settlement exactly the invoice's figures: both go
    through one computation, so a change to how invoices are totalled applies to both."""
    data = body(items=[
        {"description": "Mora", "quantity": "3", "unit_price": "0.335",
         "taxes": [{"type": "vat", "rate": 15}]},
        {"description": "Maíz", "quantity": "7", "unit_price": "1.115", "discount": "0.05",
         "taxes": [{"type": "vat", "rate": 15}]},
        {"description": "Leña", "quantity": "2.25", "unit_price": "4.444",
         "taxes": [{"type": "vat", "rate": 5}]},
        {"description": "Papa", "unit_price": "9.99", "taxes": [{"type": "vat", "code": "7"}]},
    ], payments=[])
    settlement = prepare(data)
    sale = prepare(data | {"type": "invoice"})
    for part in ("lines", "tax_totals", "totals", "payments"):
        assert settlement.content[part] == sale.content[part], part
    assert settlement.totals == sale.totals


def test_without_payments_the_total_is_paid_in_cash():
    prepared = prepare(body(payments=[]))
    assert prepared.content["payments"] == [
        {"method": "01", "amount": str(prepared.totals["total"]), "term": None, "term_unit": None}]


@pytest.mark.parametrize("supplier", [
    {"id_type": "national_id", "tax_id": "1710034065", "name": "Rosa Chicaiza"},
    {"id_type": "passport", "tax_id": "AB123456", "name": "Jean Dupont"},
    {"id_type": "foreign_id", "tax_id": "X9981234", "name": "Andes Consulting LLC"},
    {"id_type": "tax_id", "tax_id": "1790016919001", "name": "Importadora Andina Cía. Ltda."},
])
def test_an_identified_supplier_is_accepted(supplier):
    assert prepare(body(customer=supplier)).content["customer"]["tax_id"] == supplier["tax_id"]


@pytest.mark.parametrize("data, code, path", [
    (body(customer={"id_type": "final_consumer"}), "final_consumer_not_allowed", "customer.id_type"),
    (body(customer={"id_type": "final_consumer", "name": "Pedro"}), "final_consumer_not_allowed",
     "customer.id_type"),
    (body(customer={"id_type": "passport", "tax_id": "9999999999999", "name": "Pedro"}),
     "final_consumer_not_allowed", "customer.tax_id"),
    (body(customer={"id_type": "national_id", "tax_id": "1710034066", "name": "Pedro"}), "invalid_tax_id",
     "customer.tax_id"),
    (body(customer={"id_type": "passport", "name": "Pedro"}), "missing_field", "customer.tax_id"),
    (with_path(body(), "customer.name", DELETE), "missing_field", "customer.name"),
    (body(items=[]), "missing_field", "items"),
    (with_path(body(), "items.1.taxes",
               [{"type": "vat", "rate": 0}, {"type": "ice", "code": "3031", "rate": 15}]),
     "tax_not_allowed", "items.1.taxes.1.type"),
    (with_path(body(), "items.2.taxes", [{"type": "irbpnr", "code": "5001"}, {"type": "vat", "rate": 15}]),
     "tax_not_allowed", "items.2.taxes.0.type"),
    (with_path(body(), "items.0.taxes", [{"type": "vat", "rate": 16}]), "invalid_tax_rate",
     "items.0.taxes.0.rate"),
    (body(payments=[{"method": "cash", "amount": "1000.00"}]), "payments_mismatch", "payments"),
    (body(reference={"number": "001-001-000000001", "issue_date": "2025-06-01"}), "field_not_allowed",
     "reference"),
    (body(shipment=load_event("documents/create_delivery_guide.body.json")["shipment"]), "field_not_allowed",
     "shipment"),
    (body(withholding=load_event("documents/create_withholding.body.json")["withholding"]),
     "field_not_allowed", "withholding"),
])
def test_rule_violations_have_a_code_and_a_path(data, code, path):
    assert failure(data) == (code, path)


def test_the_title_names_the_document():
    assert plugin.document_title("purchase_settlement") == "Liquidación de compra"


# The XML -----------------------------------------------------------------------------------------

def children(element) -> list[str]:
    return [child.tag for child in element]


def test_the_xml_is_a_liquidacion_de_compra_with_code_03():
    raw, root, access_key = built(body(), environment="live")
    assert (root.tag, dict(root.attrib)) == ("liquidacionCompra", {"id": "comprobante", "version": "1.1.0"})
    assert b"xmlns" not in raw
    assert children(root) == ["infoTributaria", "infoLiquidacionCompra", "detalles", "infoAdicional"]
    tributaria = root.find("infoTributaria")
    assert [tributaria.findtext(t) for t in ("ambiente", "codDoc", "estab", "ptoEmi", "secuencial")] == [
        "2", "03", "001", "002", "000000042"]
    assert tributaria.findtext("claveAcceso") == access_key
    parts = clave.parse(access_key)
    assert (parts["doc_code"], parts["ruc"], parts["ambiente"]) == ("03", "1799999990001", "2")


def test_the_supplier_fills_the_proveedor_fields_in_schema_order():
    _, root, _ = built(body())
    info = root.find("infoLiquidacionCompra")
    assert children(info) == [
        "fechaEmision", "dirEstablecimiento", "contribuyenteEspecial", "obligadoContabilidad",
        "tipoIdentificacionProveedor", "razonSocialProveedor", "identificacionProveedor",
        "direccionProveedor",
        "totalSinImpuestos", "totalDescuento", "totalConImpuestos", "importeTotal", "moneda", "pagos",
    ]
    supplier = body()["customer"]
    assert [info.findtext(t) for t in ("tipoIdentificacionProveedor", "razonSocialProveedor",
                                       "identificacionProveedor", "direccionProveedor")] == [
        "05", supplier["name"], supplier["tax_id"], supplier["address"]]
    assert root.find(".//razonSocialComprador") is None


def test_the_xml_amounts_are_the_prepared_ones():
    prepared = prepare(body())
    _, root, _ = built(body())
    info = root.find("infoLiquidacionCompra")
    assert D(info.findtext("totalSinImpuestos")) == prepared.totals["subtotal"]
    assert D(info.findtext("importeTotal")) == prepared.totals["total"]
    lines = root.findall("detalles/detalle")
    assert sum(D(d.findtext("precioTotalSinImpuesto")) for d in lines) == prepared.totals["subtotal"]
    line_vat = sum(D(v.text) for v in root.iterfind("detalles/detalle/impuestos/impuesto/valor"))
    header_vat = sum(D(v.text) for v in info.iterfind("totalConImpuestos/totalImpuesto/valor"))
    assert line_vat == header_vat == prepared.totals["tax"]
    assert [d.findtext("unidadMedida") for d in lines] == [i["unit"] for i in body()["items"]]
    assert [d.get("nombre") for d in info.getparent().iterfind("infoAdicional/campoAdicional")] == [
        "Orden de compra", "Lote", "Email"]


@needs_data("ec", "xsd")
@pytest.mark.usefixtures("schemas")
@pytest.mark.parametrize("environment", ["test", "live"])
def test_the_xml_is_valid_against_sris_schema(environment):
    raw, _, _ = built(body(), environment=environment)
    assert xsd.validate(raw, "liquidacionCompra", "1.1.0") == []


@needs_data("ec", "xsd")
@pytest.mark.usefixtures("schemas")
def test_a_schema_violation_is_reported_with_its_path():
    raw, _, _ = built(body())
    broken = raw.replace(b"<codigo>2</codigo>", b"<codigo>3</codigo>", 1)
    assert [path for path, _ in xsd.validate(broken, "liquidacionCompra", "1.1.0")] == [
        "/liquidacionCompra/infoLiquidacionCompra/totalConImpuestos/totalImpuesto[1]/codigo"]


# The RIDE ----------------------------------------------------------------------------------------

def authorized(raw: bytes, access_key: str) -> bytes:
    return (f"<autorizacion><estado>AUTORIZADO</estado><numeroAutorizacion>{access_key}</numeroAutorizacion>"
            "<fechaAutorizacion>2025-07-01T10:15:30-05:00</fechaAutorizacion><ambiente>PRUEBAS</ambiente>"
            f"<comprobante><![CDATA[{raw.decode()}]]></comprobante></autorizacion>").encode()


def test_the_ride_shows_the_document_the_supplier_and_the_totals():
    raw, _, access_key = built(body())
    pdf = ride.render(authorized(raw, access_key))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 1
    text = " ".join(pages[0].extract_text().split())
    prepared = prepare(body())
    assert "LIQUIDACIÓN DE COMPRA DE BIENES Y PRESTACIÓN DE SERVICIOS" in text
    assert "No. 001-002-000000042" in text
    assert f"Razón Social / Nombres y Apellidos (Proveedor): {body()['customer']['name']}" in text
    assert "Identificación (Proveedor): 1710034065 (CÉDULA)" in text
    assert f"Dirección (Proveedor): {body()['customer']['address']}" in text
    for item in body()["items"]:
        assert item["description"] in text
    spanish = formats("es").amount  # as the RIDE writes amounts by default (1.234,56)
    assert f"VALOR TOTAL {spanish(prepared.totals['total'])}" in text
    assert f"SUBTOTAL SIN IMPUESTOS {spanish(prepared.totals['subtotal'])}" in text
    assert f"IVA 15% {spanish(prepared.totals['tax'])}" in text
    assert "20 - OTROS CON UTILIZACIÓN DEL SISTEMA FINANCIERO" in text
    assert access_key in text


def test_the_ride_needs_the_settlements_info_element():
    raw, _, access_key = built(body())
    broken = raw.replace(b"infoLiquidacionCompra", b"infoFactura")
    with pytest.raises(ValueError, match="infoLiquidacionCompra"):
        ride.render(authorized(broken, access_key))

