"""Ecuador withholding receipt (comprobante de retención 2.0.0): the model's limits, SRI's rules in
withholding.prepare (each failure a 422 with a stable code and the field's path), the amounts
withheld, and its XML, checked against SRI's schema when the shared fixtures are present."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from sello.countries.ec import documents, withholding, xml, xsd
from sello.errors import Unprocessable
from sello.models.document_request import CreateDocumentRequest
from tests.conftest import needs_data
from tests.ec_fixtures import (  # noqa: F401 (fixtures)
    DELETE, NOW, TODAY, make_issuer, no_schema_folder, schemas, with_path)
from tests.helpers import load_event

D = Decimal
DOC0 = "withholding.support_documents.0"
DOC1 = "withholding.support_documents.1"


def body() -> dict:
    return load_event("documents/create_withholding.body.json")


def support(**changes) -> dict:
    """A 100.00 purchase at 15 % VAT, paid by transfer, with 2 % income tax withheld."""
    return {
        "type": "01", "support_code": "01", "number": "001-001-000000777", "issue_date": "2025-06-15",
        "authorization": "1506202501179001691900120010010000007771234567811",
        "subtotal": "100.00", "total": "115.00",
        "taxes": [{"type": "vat", "rate": 15, "base": "100.00"}],
        "withholdings": [{"tax": "income", "code": "3440", "base": "100.00", "rate": 2}],
        "payments": [{"method": "other_financial", "amount": "115.00"}],
    } | changes


def with_support(*docs: dict, **info) -> dict:
    data = body()
    data["withholding"] = {"fiscal_period": "06/2025", "support_documents": list(docs)} | info
    return data


def prepare(data: dict, issue_date: date = TODAY):
    return withholding.prepare(CreateDocumentRequest.model_validate(data), make_issuer(), issue_date)


def built(data: dict | None = None) -> tuple[bytes, etree._Element]:
    prepared = prepare(data or body())
    numbered = documents.number(prepared, 42, "doc_withholding", "test")
    raw = xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                    environment="test")
    return raw, etree.fromstring(raw)


def failure(data: dict, issue_date: date = TODAY) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data, issue_date)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


# prepare: amounts ----------------------------------------------------------------------------------

def test_the_sample_withholding_on_two_documents():
    prepared = prepare(body())
    assert prepared.type == "withholding" and prepared.series == "001-001" and prepared.issue_date == TODAY
    first, second = prepared.content["withholding"]["support_documents"]
    # 1200 × 1.75 % = 21.00 (given and right), 180 × 30 % = 54.00;
    # 350 × 2.75 % = 9.625 → 9.63 (half up), 30 × 20 % = 6.00.
    assert [(w["tax_code"], w["code"], w["rate"], w["amount"]) for w in first["withholdings"]] == [
        ("1", "312", "1.75", "21.00"), ("2", "1", "30.00", "54.00")]
    assert [(w["tax_code"], w["code"], w["rate"], w["amount"]) for w in second["withholdings"]] == [
        ("1", "3440", "2.75", "9.63"), ("2", "10", "20.00", "6.00")]
    # Support taxes: codes resolved from the rate, amounts computed when omitted.
    assert [(t["tax_code"], t["rate_code"], t["base"], t["amount"]) for t in second["taxes"]] == [
        ("2", "4", "200.00", "30.00"), ("2", "0", "150.00", "0.00")]
    assert prepared.totals == {"currency": "USD", "tax": D("90.63"), "total": D("90.63")}
    assert prepared.content["totals"] == {"tax": "90.63", "total": "90.63"}
    assert prepared.customer == {"name": "Importadora Andina Cía. Ltda.", "tax_id": "1790016919001",
                                 "email": "contabilidad@importadora-andina.example.com"}
    assert prepared.content["withholding"]["fiscal_period"] == "06/2025"
    assert prepared.content["withholding"]["subject_type"] is None
    assert first["payment_residence"] == "01" and first["payments"] == [{"method": "20", "amount": "1380.00"}]
    assert first["accounting_date"] == "2025-06-28" and second["accounting_date"] is None


@pytest.mark.parametrize(("base", "rate", "amount"), [
    ("100.00", "1.75", "1.75"),
    ("350.00", "2.75", "9.63"),  # 9.625, half up
    ("0.50", "1", "0.01"),  # 0.005, half up
    ("33.33", "30", "10.00"),  # 9.999
    ("10.00", "0", "0.00"),
])
def test_the_amount_withheld_is_base_times_rate_rounded_half_up(base, rate, amount):
    doc = support(subtotal=base, total=base, taxes=[{"type": "vat", "rate": 0, "base": base}],
                  payments=[{"method": "cash", "amount": base}],
                  withholdings=[{"tax": "income", "code": "343", "base": base, "rate": rate}])
    prepared = prepare(with_support(doc))
    assert prepared.content["withholding"]["support_documents"][0]["withholdings"][0]["amount"] == amount
    assert prepared.totals["total"] == D(amount)


def test_a_given_amount_that_is_right_is_kept():
    doc = support(withholdings=[{"tax": "income", "code": "3440", "base": "100", "rate": "2", "amount": 2}])
    assert prepare(with_support(doc)).totals["total"] == D("2.00")


def test_ice_is_part_of_the_vat_base():
    doc = support(subtotal="100.00", total="172.50",
                  taxes=[{"type": "ice", "code": "3031", "rate": 50, "base": "100.00"},
                         {"type": "vat", "rate": 15, "base": "150.00"}],
                  payments=[{"method": "cash", "amount": "172.50"}])
    taxes = prepare(with_support(doc)).content["withholding"]["support_documents"][0]["taxes"]
    assert [(t["tax_code"], t["rate_code"], t["amount"]) for t in taxes] == [("3", "3031", "50.00"),
                                                                            ("2", "4", "22.50")]


def test_a_supplier_abroad():
    doc = support(payment_residence="foreign", authorization=None,
                  foreign_payment={"regime": "tax_haven", "country": "249", "double_taxation_treaty": False,
                                   "subject_to_withholding": True},
                  taxes=[{"type": "vat", "code": "6", "base": "100.00"}], total="100.00",
                  payments=[{"method": "other_financial", "amount": "100.00"}],
                  withholdings=[{"tax": "income", "code": "411", "base": "100.00", "rate": 25},
                                {"tax": "isd", "code": "4580", "base": "100.00", "rate": 5}])
    data = with_support(doc, subject_type="company")
    data["customer"] = {"id_type": "foreign_id", "tax_id": "US-98-7654321", "name": "Acme Cloud Inc."}
    prepared = prepare(data)
    assert prepared.content["withholding"]["subject_type"] == "02"
    content = prepared.content["withholding"]["support_documents"][0]
    assert content["payment_residence"] == "02"
    assert content["foreign_payment"] == {"regime": "02", "country": "249", "double_taxation_treaty": "NO",
                                          "subject_to_withholding": "SI", "preferential_regime_payment": None}
    assert prepared.totals["total"] == D("30.00")
    assert prepared.customer["email"] is None


# prepare: refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "value", "code", "error_path"), [
    ("withholding", DELETE, "withholding_required", "withholding"),
    ("withholding.fiscal_period", "07/2025", "invalid_fiscal_period", "withholding.fiscal_period"),
    ("withholding.fiscal_period", "01/2026", "invalid_fiscal_period", "withholding.fiscal_period"),
    ("withholding.subject_type", "company", "field_not_allowed", "withholding.subject_type"),
    ("customer.id_type", "final_consumer", "final_consumer_not_allowed", "customer.id_type"),
    ("customer.tax_id", "1790016918001", "invalid_tax_id", "customer.tax_id"),
    ("establishment", "004", "unknown_establishment", "establishment"),
    ("items", [{"description": "x", "unit_price": 1, "taxes": [{"type": "vat", "rate": 15}]}],
     "field_not_allowed", "items"),
    ("payments", [{"method": "cash", "amount": 1}], "field_not_allowed", "payments"),
    ("shipment", {"carrier": {"id_type": "passport", "tax_id": "X1", "name": "X"}, "plate": "P",
                  "origin_address": "A", "start_date": "2025-06-30", "end_date": "2025-06-30",
                  "destinations": [{"recipient": {"id_type": "passport", "tax_id": "X1", "name": "X"},
                                    "address": "B", "reason": "C",
                                    "items": [{"code": "1", "description": "D", "quantity": 1}]}]},
     "field_not_allowed", "shipment"),
    # Withholding codes and rates.
    (f"{DOC0}.withholdings.1.code", "5", "unknown_withholding_code", f"{DOC0}.withholdings.1.code"),
    (f"{DOC0}.withholdings.1.rate", "20", "invalid_withholding_rate", f"{DOC0}.withholdings.1.rate"),
    (f"{DOC1}.withholdings.1.code", "1", "invalid_withholding_rate", f"{DOC1}.withholdings.1.rate"),
    (f"{DOC0}.withholdings.0.code", "31", "unknown_withholding_code", f"{DOC0}.withholdings.0.code"),
    (f"{DOC0}.withholdings.0.tax", "isd", "unknown_withholding_code", f"{DOC0}.withholdings.0.code"),
    (f"{DOC0}.withholdings.0.rate", "10.25", "invalid_withholding_rate", f"{DOC0}.withholdings.0.rate"),
    (f"{DOC0}.withholdings.0.amount", "21.01", "withholding_amount_mismatch",
     f"{DOC0}.withholdings.0.amount"),
    (f"{DOC0}.withholdings.0.base", "1200.01", "invalid_withholding_base", f"{DOC0}.withholdings.0.base"),
    (f"{DOC0}.withholdings.1.base", "180.01", "invalid_withholding_base", f"{DOC0}.withholdings.1.base"),
    # The supporting document's own totals.
    (f"{DOC0}.total", "1380.01", "support_total_mismatch", f"{DOC0}.total"),
    (f"{DOC0}.taxes.0.amount", "179.00", "support_total_mismatch", f"{DOC0}.total"),
    (f"{DOC1}.taxes.1.base", "149.00", "support_subtotal_mismatch", f"{DOC1}.taxes"),
    (f"{DOC0}.payments.0.amount", "1379.99", "payments_mismatch", f"{DOC0}.payments"),
    (f"{DOC0}.payments.0.method", "02", "unknown_payment_method", f"{DOC0}.payments.0.method"),
    (f"{DOC0}.taxes.0.rate", "16", "invalid_tax_rate", f"{DOC0}.taxes.0.rate"),
    (f"{DOC0}.taxes.0.code", "9", "unknown_tax_code", f"{DOC0}.taxes.0.code"),
    # Dates and foreign payments.
    (f"{DOC1}.issue_date", "2025-07-01", "invalid_issue_date", f"{DOC1}.issue_date"),
    (f"{DOC0}.accounting_date", "2025-06-26", "invalid_issue_date", f"{DOC0}.accounting_date"),
    (f"{DOC0}.payment_residence", "foreign", "missing_field", f"{DOC0}.foreign_payment"),
    (f"{DOC0}.foreign_payment", {"regime": "general", "country": "593"}, "field_not_allowed",
     f"{DOC0}.foreign_payment"),
])
def test_prepare_refuses(path, value, code, error_path):
    assert failure(with_path(body(), path, value)) == (code, error_path)


def test_a_foreign_supplier_needs_a_subject_type():
    data = body()
    data["customer"] = {"id_type": "foreign_id", "tax_id": "DE811907980", "name": "Muster GmbH"}
    assert failure(data) == ("missing_field", "withholding.subject_type")


def test_irbpnr_on_a_supporting_document_needs_its_amount():
    doc = support(taxes=[{"type": "vat", "rate": 15, "base": "100.00"},
                         {"type": "irbpnr", "code": "5001", "base": "100.00"}])
    assert failure(with_support(doc)) == ("missing_field", f"{DOC0}.taxes.1.amount")


def test_a_fiscal_period_of_an_earlier_month_is_fine():
    prepared = prepare(with_path(body(), "withholding.fiscal_period", "12/2024"))
    assert prepared.content["withholding"]["fiscal_period"] == "12/2024"


@pytest.mark.parametrize(("path", "value"), [
    ("withholding.fiscal_period", "6/2025"),
    ("withholding.fiscal_period", "13/2025"),
    ("withholding.fiscal_period", "2025-06"),
    ("withholding.support_documents", []),
    (f"{DOC0}.withholdings", []),
    (f"{DOC0}.number", "002-001-4512"),
    (f"{DOC0}.authorization", "12345678901"),
    (f"{DOC0}.withholdings.0.tax", "ice"),
    (f"{DOC0}.withholdings.0.rate", "100.01"),
    (f"{DOC0}.withholdings.0.base", "-1"),
    (f"{DOC0}.withholdings.0.amount", "21.001"),
    (f"{DOC0}.subtotal", "NaN"),
    (f"{DOC0}.payment_residence", "abroad"),
    (f"{DOC0}.payments.0.method", "bitcoin"),
    ("withholding.withheld", "1"),
])
def test_the_model_refuses(path, value):
    """Refused by the request model, with the field's own path."""
    with pytest.raises(ValidationError) as caught:
        CreateDocumentRequest.model_validate(with_path(body(), path, value))
    loc = tuple(int(part) if part.isdigit() else part for part in path.split("."))
    assert [error["loc"] for error in caught.value.errors()] == [loc]


# build ---------------------------------------------------------------------------------------------

def test_the_withholding_has_the_schema_order():
    raw, root = built()
    assert root.tag == "comprobanteRetencion"
    assert dict(root.attrib) == {"id": "comprobante", "version": "2.0.0"}
    assert b"xmlns" not in raw
    assert [child.tag for child in root] == ["infoTributaria", "infoCompRetencion", "docsSustento",
                                             "infoAdicional"]
    assert root.findtext("infoTributaria/codDoc") == "07"
    info = root.find("infoCompRetencion")
    assert [child.tag for child in info] == [
        "fechaEmision", "dirEstablecimiento", "contribuyenteEspecial", "obligadoContabilidad",
        "tipoIdentificacionSujetoRetenido", "parteRel", "razonSocialSujetoRetenido",
        "identificacionSujetoRetenido", "periodoFiscal"]
    assert (info.findtext("fechaEmision"), info.findtext("parteRel"), info.findtext("periodoFiscal")) == (
        "30/06/2025", "NO", "06/2025")
    first, second = root.findall("docsSustento/docSustento")
    assert [child.tag for child in first] == [
        "codSustento", "codDocSustento", "numDocSustento", "fechaEmisionDocSustento", "fechaRegistroContable",
        "numAutDocSustento", "pagoLocExt", "totalSinImpuestos", "importeTotal", "impuestosDocSustento",
        "retenciones", "pagos"]
    assert first.findtext("numDocSustento") == "002001000004512"
    assert first.findtext("fechaRegistroContable") == "28/06/2025"
    assert second.find("fechaRegistroContable") is None
    assert [child.tag for child in first.find("impuestosDocSustento/impuestoDocSustento")] == [
        "codImpuestoDocSustento", "codigoPorcentaje", "baseImponible", "tarifa", "valorImpuesto"]
    assert [child.tag for child in first.find("retenciones/retencion")] == [
        "codigo", "codigoRetencion", "baseImponible", "porcentajeRetener", "valorRetenido"]
    assert [(r.findtext("codigo"), r.findtext("codigoRetencion"), r.findtext("valorRetenido"))
            for r in root.iter("retencion")] == [("1", "312", "21.00"), ("2", "1", "54.00"),
                                                 ("1", "3440", "9.63"), ("2", "10", "6.00")]


def test_the_content_is_json_ready():
    prepared = prepare(body())
    numbered = documents.number(prepared, 1, "doc_withholding", "test")
    stored = json.loads(json.dumps(prepared.content))
    number = {"number": numbered.number, "access_key": numbered.access_key, "environment": "live"}
    assert xml.build(stored, **number) == xml.build(prepared.content, **number)


@needs_data("ec", "xsd", "ComprobanteRetencion_V2.0.0.xsd")
def test_the_sample_withholding_matches_the_schema(schemas):
    raw, _ = built()
    assert xsd.validate(raw, "comprobanteRetencion", "2.0.0") == []


@needs_data("ec", "xsd", "ComprobanteRetencion_V2.0.0.xsd")
def test_a_payment_abroad_with_ice_matches_the_schema(schemas):
    doc = support(payment_residence="foreign", authorization=None,
                  foreign_payment={"regime": "preferential", "country": "249", "double_taxation_treaty": True,
                                   "preferential_regime_payment": False},
                  subtotal="100.00", total="172.50",
                  taxes=[{"type": "ice", "code": "3031", "rate": 50, "base": "100.00"},
                         {"type": "vat", "rate": 15, "base": "150.00"}],
                  payments=[{"method": "other_financial", "amount": "172.50"}],
                  withholdings=[{"tax": "isd", "code": "4580", "base": "172.50", "rate": 5}])
    data = with_support(doc, subject_type="natural_person", related_party=True)
    data["customer"] = {"id_type": "foreign_id", "tax_id": "X-1234567", "name": "John Doe"}
    data.pop("additional_info")
    raw, root = built(data)
    info = root.find("infoCompRetencion")
    assert (info.findtext("tipoIdentificacionSujetoRetenido"), info.findtext("tipoSujetoRetenido"),
            info.findtext("parteRel")) == ("08", "01", "SI")
    sustento = root.find("docsSustento/docSustento")
    assert [(child.tag, child.text) for child in sustento][4:9] == [
        ("pagoLocExt", "02"), ("tipoRegi", "03"), ("paisEfecPago", "249"), ("aplicConvDobTrib", "SI"),
        ("pagoRegFis", "NO")]
    assert root.find("infoAdicional") is None
    assert xsd.validate(raw, "comprobanteRetencion", "2.0.0") == []


@needs_data("ec", "xsd", "ComprobanteRetencion_V2.0.0.xsd")
def test_documents_prepare_dispatches_withholdings_and_checks_their_schema(schemas):
    prepared = documents.prepare(CreateDocumentRequest.model_validate(body()), make_issuer(), "test", NOW)
    assert prepared.type == "withholding" and prepared.totals["total"] == D("90.63")
