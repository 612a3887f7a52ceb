"""Ecuador delivery guide (guía de remisión 1.1.0): the shipment model's limits, SRI's rules in
guide.prepare (each failure a 422 with a stable code and the field's path), and the XML xml.build
writes, checked against SRI's schema when the shared fixtures are present."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest
from lxml import etree
from pydantic import ValidationError

from sello.countries.ec import documents, guide, xml, xsd
from sello.errors import Unprocessable
from sello.models.document_request import CreateDocumentRequest
from tests.conftest import needs_data
from tests.ec_fixtures import (  # noqa: F401 (fixtures)
    DELETE, NOW, TODAY, make_issuer, no_schema_folder, schemas, with_path)
from tests.helpers import load_event


def body() -> dict:
    return load_event("documents/create_delivery_guide.body.json")


def prepare(data: dict, issue_date: date = TODAY):
    return guide.prepare(CreateDocumentRequest.model_validate(data), make_issuer(), issue_date)


def built(data: dict | None = None) -> tuple[bytes, etree._Element]:
    prepared = prepare(data or body())
    numbered = documents.number(prepared, 42, "doc_guide", "test")
    raw = xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                    environment="test")
    return raw, etree.fromstring(raw)


def failure(data: dict, issue_date: date = TODAY) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data, issue_date)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


def changed(edit) -> dict:
    data = copy.deepcopy(body())
    edit(data)
    return data


# prepare -------------------------------------------------------------------------------------------

def test_the_sample_guide_prepares_without_amounts():
    prepared = prepare(body())
    assert prepared.type == "delivery_guide"
    assert prepared.series == "001-001"
    assert prepared.issue_date == TODAY
    assert prepared.totals == {"currency": "USD"}
    assert prepared.customer == {"name": "Importadora Andina Cía. Ltda.", "tax_id": "1790016919001",
                                 "email": "bodega@importadora-andina.example.com"}
    shipment = prepared.content["shipment"]
    assert shipment["carrier"]["id_type_code"] == "05"
    assert (shipment["start_date"], shipment["end_date"]) == ("2025-06-30", "2025-07-01")
    first, second = shipment["destinations"]
    assert first["reference"] == {"type": "01", "number": "001-002-000000154", "issue_date": "2025-06-30",
                                  "authorization": "3006202501179999999000120010020000001544821337718"}
    assert [item["quantity"] for item in first["items"]] == ["120.00", "4.00"]
    assert first["items"][1]["details"] == [{"name": "Serie", "value": "ME-2291 a ME-2294"}]
    assert second["reference"] is None and second["establishment_code"] == "002"
    assert second["items"][0]["quantity"] == "250.50"
    assert prepared.content["issuer"]["ruc"] == "1799999990001"
    # The customer's email travels as an additional field.
    assert prepared.content["additional_info"][-1] == {"name": "Email",
                                                       "value": "bodega@importadora-andina.example.com"}


def test_the_content_is_json_ready():
    prepared = prepare(body())
    numbered = documents.number(prepared, 1, "doc_guide", "test")
    stored = json.loads(json.dumps(prepared.content))
    number = {"number": numbered.number, "access_key": numbered.access_key, "environment": "test"}
    assert xml.build(stored, **number) == xml.build(prepared.content, **number)


def test_a_transport_may_start_on_the_issue_date_and_end_the_same_day():
    def same_day(data):
        data["shipment"]["end_date"] = data["shipment"]["start_date"] = "2025-06-30"

    assert prepare(changed(same_day)).content["shipment"]["end_date"] == "2025-06-30"




def location(path: str) -> tuple:
    """A dotted path as pydantic's error location."""
    return tuple(int(part) if part.isdigit() else part for part in path.split("."))


@pytest.mark.parametrize(("path", "value", "code", "error_path"), [
    ("shipment.carrier.tax_id", "1710034066", "invalid_tax_id", "shipment.carrier.tax_id"),
    ("shipment.carrier.id_type", "tax_id", "invalid_tax_id", "shipment.carrier.tax_id"),
    ("shipment.destinations.1.recipient.tax_id", "1799999991001", "invalid_tax_id",
     "shipment.destinations.1.recipient.tax_id"),
    ("shipment.start_date", "2025-06-29", "invalid_transport_dates", "shipment.start_date"),
    ("shipment.end_date", "2025-06-29", "invalid_transport_dates", "shipment.end_date"),
    ("shipment", DELETE, "shipment_required", "shipment"),
    ("shipment.destinations.0.reference.type", "receipt", "unknown_document_type",
     "shipment.destinations.0.reference.type"),
    ("shipment.destinations.0.reference.issue_date", "2025-07-01", "invalid_issue_date",
     "shipment.destinations.0.reference.issue_date"),
    ("customer.id_type", "final_consumer", "final_consumer_not_allowed", "customer.id_type"),
    ("customer.tax_id", "1790016919000", "invalid_tax_id", "customer.tax_id"),
    ("establishment", "003", "unknown_establishment", "establishment"),
    ("emission_point", "009", "unknown_emission_point", "emission_point"),
    ("items", [{"description": "x", "unit_price": 1, "taxes": [{"type": "vat", "rate": 15}]}],
     "field_not_allowed", "items"),
    ("payments", [{"method": "cash", "amount": 1}], "field_not_allowed", "payments"),
    ("reference", {"number": "001-001-000000001", "issue_date": "2025-06-01"}, "field_not_allowed",
     "reference"),
])
def test_prepare_refuses(path, value, code, error_path):
    assert failure(with_path(body(), path, value)) == (code, error_path)


def test_a_reference_may_use_the_sri_code():
    prepared = prepare(with_path(body(), "shipment.destinations.0.reference.type", "03"))
    assert prepared.content["shipment"]["destinations"][0]["reference"]["type"] == "03"


@pytest.mark.parametrize(("path", "value"), [
    ("shipment.plate", DELETE),
    ("shipment.plate", ""),
    ("shipment.plate", "X" * 21),
    ("shipment.destinations", []),
    ("shipment.destinations.0.items", []),
    ("shipment.destinations.1.items.0.quantity", "0"),
    ("shipment.destinations.1.items.0.quantity", "1.0000001"),
    ("shipment.destinations.0.items.1.details", {"a": "1", "b": "2", "c": "3", "d": "4"}),
    ("shipment.destinations.0.reference.number", "1-1-1"),
    ("shipment.destinations.0.reference.authorization", "12345"),
    ("shipment.destinations.1.establishment_code", "2"),
    ("shipment.carrier.id_type", "final_consumer"),
    ("shipment.carrier.nickname", "Lucho"),
    ("shipment.start_date", "30/06/2025"),
])
def test_the_model_refuses(path, value):
    """Refused by the request model, with the field's own path."""
    with pytest.raises(ValidationError) as caught:
        CreateDocumentRequest.model_validate(with_path(body(), path, value))
    assert [error["loc"] for error in caught.value.errors()] == [location(path)]


# build ---------------------------------------------------------------------------------------------

def test_the_guide_has_the_schema_order_and_no_issue_date_element():
    raw, root = built()
    assert root.tag == "guiaRemision" and dict(root.attrib) == {"id": "comprobante", "version": "1.1.0"}
    assert b"xmlns" not in raw
    assert [child.tag for child in root] == ["infoTributaria", "infoGuiaRemision", "destinatarios",
                                             "infoAdicional"]
    assert root.findtext("infoTributaria/codDoc") == "06"
    assert root.findtext("infoTributaria/secuencial") == "000000042"
    info = root.find("infoGuiaRemision")
    assert [child.tag for child in info] == [
        "dirEstablecimiento", "dirPartida", "razonSocialTransportista", "tipoIdentificacionTransportista",
        "rucTransportista", "obligadoContabilidad", "contribuyenteEspecial", "fechaIniTransporte",
        "fechaFinTransporte", "placa"]
    assert (info.findtext("fechaIniTransporte"), info.findtext("fechaFinTransporte")) == ("30/06/2025",
                                                                                          "01/07/2025")
    assert info.findtext("rucTransportista") == "1710034065"
    assert root.find(".//fechaEmision") is None


def test_every_destination_with_its_own_items():
    _, root = built()
    first, second = root.findall("destinatarios/destinatario")
    assert [child.tag for child in first] == [
        "identificacionDestinatario", "razonSocialDestinatario", "dirDestinatario", "motivoTraslado", "ruta",
        "codDocSustento", "numDocSustento", "numAutDocSustento", "fechaEmisionDocSustento", "detalles"]
    assert [child.tag for child in second] == [
        "identificacionDestinatario", "razonSocialDestinatario", "dirDestinatario", "motivoTraslado",
        "codEstabDestino", "ruta", "detalles"]
    assert first.findtext("numDocSustento") == "001-002-000000154"
    assert first.findtext("fechaEmisionDocSustento") == "30/06/2025"
    assert [d.findtext("codigoInterno") for d in first.findall("detalles/detalle")] == ["CAF-500", "MOL-ELE"]
    assert [child.tag for child in first.findall("detalles/detalle")[1]] == [
        "codigoInterno", "codigoAdicional", "descripcion", "cantidad", "detallesAdicionales"]
    assert first.find(".//detAdicional").attrib == {"nombre": "Serie", "valor": "ME-2291 a ME-2294"}
    assert [d.findtext("cantidad") for d in second.findall("detalles/detalle")] == ["250.50"]
    assert second.findtext("identificacionDestinatario") == "1799999990001"


@needs_data("ec", "xsd", "GuiaRemision_V1.1.0.xsd")
def test_the_sample_guide_matches_the_schema(schemas):
    raw, _ = built()
    assert xsd.validate(raw, "guiaRemision", "1.1.0") == []


@needs_data("ec", "xsd", "GuiaRemision_V1.1.0.xsd")
def test_a_minimal_guide_matches_the_schema(schemas):
    data = body()
    data.pop("additional_info")
    data["customer"].pop("email")
    data["shipment"]["destinations"] = [{
        "recipient": {"id_type": "passport", "tax_id": "AB123456", "name": "Jane Roe"},
        "address": "Calle Larga 7-42, Cuenca", "reason": "Devolución",
        "items": [{"code": "X1", "description": "Caja", "quantity": "1.5"}],
    }]
    raw, root = built(data)
    assert root.find("infoAdicional") is None
    assert xsd.validate(raw, "guiaRemision", "1.1.0") == []


@needs_data("ec", "xsd", "GuiaRemision_V1.1.0.xsd")
def test_documents_prepare_dispatches_guides_and_checks_their_schema(schemas):
    prepared = documents.prepare(CreateDocumentRequest.model_validate(body()), make_issuer(), "test", NOW)
    assert prepared.type == "delivery_guide" and prepared.issue_date == TODAY
    # Issued a day later, the same shipment would start before its guide.
    later = CreateDocumentRequest.model_validate(body() | {"issue_date": "2025-07-01"})
    with pytest.raises(Unprocessable) as caught:
        documents.prepare(later, make_issuer(), "test", datetime(2025, 7, 1, 15, tzinfo=UTC))
    assert (caught.value.code, caught.value.path) == ("invalid_transport_dates", "shipment.start_date")
