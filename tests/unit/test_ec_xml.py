"""The unsigned SRI XML of invoices and credit and debit notes: element order, formats, optional
fields, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from sello.countries.ec import documents, xml
from sello.models.document_request import CreateDocumentRequest
from sello.models.issuers import Issuer
from tests.ec_fixtures import no_schema_folder  # noqa: F401 (fixture)
from tests.helpers import load_event

NOW = datetime(2025, 7, 1, 15, 0, tzinfo=UTC)


def issuer(**flags) -> Issuer:
    body = load_event("issuers/create_issuer.body.json")
    body["flags"] = {"obligado_contabilidad": False} | flags
    body["legal_name"] = "Comercial Andina & Hijos S.A."
    return Issuer(id="iss_demo0000000000000000", account_id="acc_1", created_at=NOW, updated_at=NOW, **body)


def built(kind: str, the_issuer: Issuer | None = None, environment: str = "test", **changes):
    data = load_event(f"documents/create_{kind}.body.json") | changes
    prepared = documents.prepare(
        CreateDocumentRequest.model_validate(data), the_issuer or issuer(), environment, NOW
    )
    numbered = documents.number(prepared, 42, "doc_1", environment)
    raw = xml.build(
        prepared.content, number=numbered.number, access_key=numbered.access_key, environment=environment
    )
    return raw, etree.fromstring(raw), numbered


def children(element) -> list[str]:
    return [child.tag for child in element]


def test_the_root_has_id_version_and_no_namespace():
    raw, root, _ = built("invoice")
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == "factura" and dict(root.attrib) == {"id": "comprobante", "version": "1.1.0"}
    assert root.nsmap == {} and b"xmlns" not in raw
    assert children(root) == ["infoTributaria", "infoFactura", "detalles", "infoAdicional"]


def test_info_tributaria_in_schema_order_with_the_number_and_clave():
    _, root, numbered = built("invoice", environment="live")
    info = root.find("infoTributaria")
    assert children(info) == [
        "ambiente",
        "tipoEmision",
        "razonSocial",
        "nombreComercial",
        "ruc",
        "claveAcceso",
        "codDoc",
        "estab",
        "ptoEmi",
        "secuencial",
        "dirMatriz",
    ]
    assert [
        info.findtext(tag) for tag in ("ambiente", "tipoEmision", "codDoc", "estab", "ptoEmi", "secuencial")
    ] == ["2", "1", "01", "001", "002", "000000042"]
    assert info.findtext("claveAcceso") == numbered.access_key
    assert info.findtext("razonSocial") == "Comercial Andina & Hijos S.A."


def test_ampersands_are_escaped():
    raw, _, _ = built("invoice")
    assert b"Comercial Andina &amp; Hijos S.A." in raw


def test_optional_issuer_fields_only_when_set():
    _, root, _ = built(
        "invoice", issuer(agente_retencion="12", rimpe="emprendedor", contribuyente_especial="5368")
    )
    info = root.find("infoTributaria")
    assert children(info)[-2:] == ["agenteRetencion", "contribuyenteRimpe"]
    assert info.findtext("contribuyenteRimpe") == "CONTRIBUYENTE RÉGIMEN RIMPE"
    assert root.find("infoFactura").findtext("contribuyenteEspecial") == "5368"
    _, plain, _ = built("invoice")
    assert plain.find("infoTributaria/agenteRetencion") is None
    assert plain.find("infoFactura/contribuyenteEspecial") is None
    assert plain.findtext("infoFactura/obligadoContabilidad") == "NO"


def test_info_factura_order_totals_and_payments():
    _, root, _ = built("invoice")
    info = root.find("infoFactura")
    assert children(info) == [
        "fechaEmision",
        "dirEstablecimiento",
        "obligadoContabilidad",
        "tipoIdentificacionComprador",
        "razonSocialComprador",
        "identificacionComprador",
        "direccionComprador",
        "totalSinImpuestos",
        "totalDescuento",
        "totalConImpuestos",
        "importeTotal",
        "moneda",
        "pagos",
    ]
    assert info.findtext("fechaEmision") == "01/07/2025"
    assert (
        info.findtext("totalSinImpuestos"),
        info.findtext("totalDescuento"),
        info.findtext("importeTotal"),
    ) == ("418.85", "8.83", "467.77")
    groups = [[child.text for child in group] for group in info.find("totalConImpuestos")]
    assert groups == [
        ["2", "4", "326.12", "15.00", "48.92"],
        ["2", "0", "56.73", "0.00", "0.00"],
        ["2", "7", "36.00", "0.00", "0.00"],
    ]
    pagos = [[child.text for child in pago] for pago in info.find("pagos")]
    assert pagos == [["19", "200.00"], ["20", "267.77", "30.00", "dias"]]
    assert info.findtext("moneda") == "DOLAR"


def test_detalle_order_formats_and_details():
    _, root, _ = built("invoice")
    detalles = root.find("detalles")
    assert len(detalles) == 10
    cups = detalles[5]
    assert children(cups) == [
        "codigoPrincipal",
        "descripcion",
        "unidadMedida",
        "cantidad",
        "precioUnitario",
        "descuento",
        "precioTotalSinImpuesto",
        "detallesAdicionales",
        "impuestos",
    ]
    assert (
        cups.findtext("cantidad"),
        cups.findtext("precioUnitario"),
        cups.findtext("precioTotalSinImpuesto"),
    ) == ("6.00", "8.333333", "50.00")
    assert [dict(d.attrib) for d in cups.find("detallesAdicionales")] == [
        {"nombre": "Color", "valor": "Azul"},
        {"nombre": "Taller", "valor": "Cuenca"},
    ]
    assert [child.tag for child in cups.find("impuestos/impuesto")] == [
        "codigo",
        "codigoPorcentaje",
        "tarifa",
        "baseImponible",
        "valor",
    ]
    assert children(detalles[0])[:2] == ["codigoPrincipal", "codigoAuxiliar"]


def test_info_adicional_keeps_request_order_then_the_email():
    _, root, _ = built("invoice")
    fields = [(field.get("nombre"), field.text) for field in root.find("infoAdicional")]
    assert fields == [
        ("Pedido", "PO-8812"),
        ("Vendedor", "María Quishpe"),
        ("Email", "compras@importadora-andina.example.com"),
    ]


def test_a_document_without_additional_info_has_no_info_adicional():
    data = load_event("documents/create_invoice.body.json")
    customer = {key: value for key, value in data["customer"].items() if key != "email"}
    _, root, _ = built("invoice", customer=customer, additional_info={})
    assert root.find("infoAdicional") is None


def test_credit_note_structure():
    _, root, _ = built("credit_note")
    assert root.tag == "notaCredito" and root.get("version") == "1.1.0"
    assert root.findtext("infoTributaria/codDoc") == "04"
    info = root.find("infoNotaCredito")
    assert children(info) == [
        "fechaEmision",
        "dirEstablecimiento",
        "tipoIdentificacionComprador",
        "razonSocialComprador",
        "identificacionComprador",
        "obligadoContabilidad",
        "codDocModificado",
        "numDocModificado",
        "fechaEmisionDocSustento",
        "totalSinImpuestos",
        "valorModificacion",
        "moneda",
        "totalConImpuestos",
        "motivo",
    ]
    assert (
        info.findtext("codDocModificado"),
        info.findtext("numDocModificado"),
        info.findtext("fechaEmisionDocSustento"),
        info.findtext("valorModificacion"),
    ) == ("01", "001-002-000000128", "02/06/2025", "22.15")
    assert children(info.find("totalConImpuestos/totalImpuesto")) == [
        "codigo",
        "codigoPorcentaje",
        "baseImponible",
        "valor",
    ]
    assert children(root.find("detalles/detalle")) == [
        "codigoInterno",
        "descripcion",
        "cantidad",
        "precioUnitario",
        "descuento",
        "precioTotalSinImpuesto",
        "impuestos",
    ]


def test_debit_note_structure():
    _, root, _ = built("debit_note")
    assert root.tag == "notaDebito" and root.get("version") == "1.0.0"
    assert root.findtext("infoTributaria/codDoc") == "05"
    assert children(root) == ["infoTributaria", "infoNotaDebito", "motivos", "infoAdicional"]
    info = root.find("infoNotaDebito")
    assert children(info) == [
        "fechaEmision",
        "dirEstablecimiento",
        "tipoIdentificacionComprador",
        "razonSocialComprador",
        "identificacionComprador",
        "obligadoContabilidad",
        "codDocModificado",
        "numDocModificado",
        "fechaEmisionDocSustento",
        "totalSinImpuestos",
        "impuestos",
        "valorTotal",
        "pagos",
    ]
    assert [[child.text for child in tax] for tax in info.find("impuestos")] == [
        ["2", "4", "15.00", "17.40", "2.61"]
    ]
    assert info.findtext("valorTotal") == "20.01"
    assert [(m.findtext("razon"), m.findtext("valor")) for m in root.find("motivos")] == [
        ("Intereses por mora, 30 días", "12.40"),
        ("Gastos de cobranza", "5.00"),
    ]


def test_building_twice_gives_the_same_bytes():
    first, _, _ = built("invoice")
    second, _, _ = built("invoice")
    assert first == second
