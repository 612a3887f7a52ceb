"""Mexico documents.prepare / number: every offline rule before a number is taken (each failure a
422 with a stable code and the request's path), the customer kinds, the global invoice, the credit
note, the date and time zone, the amounts as the content keeps them, and the numbering."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sello.countries.mx import documents, requests
from sello.countries.mx.issuer import validate_issuer
from sello.errors import Unprocessable

D = Decimal
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # 12:00 in Pachuca (42501, UTC−6), 11:00 in Tijuana (UTC−7)
BRANCHES = [
    {"code": "MATRIZ", "name": "Matriz", "zip": "42501", "series": {"invoice": "A", "credit_note": "NC"}},
    {"code": "TIJ", "name": "Tijuana", "zip": "22000", "series": {"invoice": "T"}},  # región fronteriza
]
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {"regime": "601", "zip": "42501",
                                                                    "branches": BRANCHES})
ONE_BRANCH = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {"regime": "601", "zip": "42501",
                                                                        "branches": BRANCHES[:1]})
CUSTOMER = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601", "zip": "76343",
            "cfdi_use": "G03"}


def item(**changes) -> dict:
    return {"product_code": "84111506", "description": "Servicio", "unit_code": "E48", "unit_price": "100.00",
            "taxes": [{"type": "vat", "rate": "16"}]} | changes


def invoice(**changes) -> dict:
    return {"type": "invoice", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": dict(CUSTOMER),
            "items": [item()], "payment_form": "03"} | changes


def global_invoice(**changes) -> dict:
    line = item(product_code="01010101", unit_code="ACT", description="Venta", code="T-1")
    return invoice(customer={"tax_id": "XAXX010101000"}, items=[line], payment_form="01",
                   global_information={"periodicity": "monthly", "months": "05", "year": 2025}) | changes


def credit_note(**changes) -> dict:
    return invoice(type="credit_note", related=["5fb2822e-396d-4725-8521-cdc4bdd20ccf"],
                   customer=CUSTOMER | {"cfdi_use": "G02"}) | changes


def prepare(data: dict, issuer=ISSUER, now: datetime = NOW, environment: str = "test"):
    request = requests.MexicoDocumentRequest.model_validate(data)
    return documents.prepare(request, issuer, environment, now)


def failure(data: dict, issuer=ISSUER, now: datetime = NOW) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data, issuer, now)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


def customer(**changes) -> dict:
    return {k: v for k, v in (CUSTOMER | changes).items() if v is not None}


# What prepare gives ------------------------------------------------------------------------------------

@pytest.mark.parametrize("example", [requests.INVOICE_EXAMPLE, requests.GLOBAL_INVOICE_EXAMPLE,
                                     requests.CREDIT_NOTE_EXAMPLE,
                                     requests.INVOICE_EXAMPLE | {"customer": requests.FOREIGN_CUSTOMER_EXAMPLE,
                                                                 "currency": "USD", "exchange_rate": "17.2345"}])
def test_the_schema_examples_are_valid_documents(example):
    prepared = prepare(copy.deepcopy(example), issuer=ONE_BRANCH)
    assert prepared.type == example["type"]


def test_an_invoice():
    prepared = prepare(invoice(items=[item(quantity="2.5", unit_price="850", discount="125"),
                                      item(unit_price="0.125", taxes=[])]))
    assert (prepared.type, prepared.series, prepared.issue_date) == ("invoice", "A", date(2025, 6, 30))
    # SubTotal 2125.00 + 0.13 (0.125 rounded half up); discount 125.00; IVA 16 % of 2000.00.
    assert prepared.totals == {"currency": "MXN", "subtotal": D("2000.13"), "discount": D("125.00"),
                               "tax": D("320.00"), "total": D("2320.13")}
    assert prepared.customer == {"name": "XENON INDUSTRIAL ARTICLES", "tax_id": "XIA190128J61", "email": None}
    content = prepared.content
    assert content["cfdi_type"] == "I" and content["fecha"] == "2025-06-30T12:00:00"
    assert content["issuer"] == {"rfc": "EKU9003173C9", "name": "ESCUELA KEMPER URGATE", "regime": "601",
                                 "fiscal_zip": "42501", "branch": "MATRIZ", "zip": "42501",
                                 "time_zone": "America/Mexico_City"}
    first, second = content["lines"]
    assert (first["quantity"], first["unit_price"], first["amount"], first["discount"]) == ("2.5", "850.00",
                                                                                              "2125.00", "125.00")
    assert first["transfers"] == [{"tax": "002", "factor": "Tasa", "rate": "0.160000", "base": "2000.00",
                                   "amount": "320.00"}]
    assert (second["tax_object"], second["amount"], second["transfers"]) == ("01", "0.13", [])
    assert content["taxes"]["transfers"] == [{"tax": "002", "factor": "Tasa", "rate": "0.160000",
                                              "base": "2000.00", "amount": "320.00"}]
    assert content["totals"] == {"subtotal": "2125.13", "discount": "125.00", "total": "2320.13"}
    assert (content["payment_form"], content["payment_method"], content["export"]) == ("03", "PUE", "01")


def test_the_issue_time_is_the_branchs_local_time():
    assert prepare(invoice(branch="TIJ")).content["fecha"] == "2025-06-30T11:00:00"
    # 03:30 UTC on 1 July is still 30 June, 21:30, in Pachuca.
    late = prepare(invoice(), now=datetime(2025, 7, 1, 3, 30, tzinfo=UTC))
    assert (late.content["fecha"], late.issue_date) == ("2025-06-30T21:30:00", date(2025, 6, 30))


def test_an_issue_date_up_to_two_days_back_keeps_the_time_of_day():
    prepared = prepare(invoice(issue_date="2025-06-28"))
    assert (prepared.content["fecha"], prepared.issue_date) == ("2025-06-28T12:00:00", date(2025, 6, 28))
    assert failure(invoice(issue_date="2025-06-27")) == ("invalid_issue_date", "issue_date")
    assert failure(invoice(issue_date="2025-07-01")) == ("invalid_issue_date", "issue_date")


def test_preparing_again_gives_the_same_document():
    assert prepare(invoice()) == prepare(invoice())


@pytest.mark.parametrize("environment", ["staging", ""])
def test_an_unknown_environment_is_a_bug(environment):
    with pytest.raises(ValueError):
        prepare(invoice(), environment=environment)


# Branch and series --------------------------------------------------------------------------------------

def test_the_branch():
    assert prepare(invoice(branch=None), issuer=ONE_BRANCH).series == "A"
    assert failure(invoice(branch=None)) == ("missing_field", "branch")
    assert failure(invoice(branch="GDL")) == ("unknown_branch", "branch")
    assert failure(credit_note(branch="TIJ")) == ("series_not_configured", "branch")
    assert prepare(credit_note()).series == "NC"


# Currency, export --------------------------------------------------------------------------------------

def test_currencies():
    usd = prepare(invoice(currency="usd", exchange_rate="17.234500"))
    assert (usd.content["currency"], usd.content["exchange_rate"], usd.totals["total"]) == ("USD", "17.2345",
                                                                                           D("116.00"))
    yen = prepare(invoice(currency="JPY", exchange_rate="0.1189", items=[item(unit_price="1000.5")]))
    assert (yen.content["lines"][0]["amount"], yen.content["totals"]["total"]) == ("1001", "1161")
    assert yen.content["lines"][0]["unit_price"] == "1000.5"
    assert failure(invoice(currency="USD")) == ("missing_field", "exchange_rate")
    assert failure(invoice(exchange_rate="17")) == ("field_not_allowed", "exchange_rate")
    assert prepare(invoice(exchange_rate="1")).content["exchange_rate"] is None
    assert failure(invoice(currency="ABC")) == ("unknown_currency", "currency")
    assert failure(invoice(currency="XXX")) == ("unsupported_currency", "currency")
    assert failure(invoice(items=[item(discount="1.005")])) == ("invalid_amount", "items.0.discount")
    assert failure(invoice(currency="JPY", exchange_rate="0.1", items=[item(discount="1.5")])) == (
        "invalid_amount", "items.0.discount")


def test_export():
    assert prepare(invoice(export="04")).content["export"] == "04"
    assert failure(invoice(export="02")) == ("unsupported_export", "export")
    assert failure(invoice(export="05")) == ("unknown_export", "export")


# Customers ------------------------------------------------------------------------------------------------

def test_a_persona_fisica_customer():
    prepared = prepare(invoice(customer={"tax_id": "xiqb891116qe4", "name": "Ñandú & Cía", "tax_regime": "612",
                                         "zip": "06300", "cfdi_use": "D01", "email": "ana@example.com"}))
    assert prepared.content["customer"] == {
        "kind": "fisica", "tax_id": "XIQB891116QE4", "name": "Ñandú & Cía", "tax_regime": "612", "zip": "06300",
        "cfdi_use": "D01", "country": None, "foreign_tax_id": None, "email": "ana@example.com"}


@pytest.mark.parametrize(("change", "expected"), [
    ({"tax_id": "XIA190128J62"}, ("invalid_tax_id", "customer.tax_id")),
    ({"name": None}, ("missing_field", "customer.name")),
    ({"tax_regime": None}, ("missing_field", "customer.tax_regime")),
    ({"zip": None}, ("missing_field", "customer.zip")),
    ({"cfdi_use": None}, ("missing_field", "customer.cfdi_use")),
    ({"name": "XENON INDUSTRIAL ARTICLES, S.A. de C.V."}, ("invalid_legal_name", "customer.name")),
    ({"tax_regime": "612"}, ("tax_regime_not_allowed", "customer.tax_regime")),  # a persona física's
    ({"tax_regime": "999"}, ("unknown_tax_regime", "customer.tax_regime")),
    ({"zip": "00001"}, ("unknown_zip", "customer.zip")),
    ({"cfdi_use": "G09"}, ("unknown_cfdi_use", "customer.cfdi_use")),
    ({"cfdi_use": "D01"}, ("cfdi_use_not_allowed", "customer.cfdi_use")),  # personal deductions: físicas only
    ({"cfdi_use": "CP01"}, ("cfdi_use_not_allowed", "customer.cfdi_use")),
    ({"country": "USA"}, ("field_not_allowed", "customer.country")),
    ({"foreign_tax_id": "123"}, ("field_not_allowed", "customer.foreign_tax_id")),
])
def test_a_customer_with_an_rfc(change, expected):
    assert failure(invoice(customer=customer(**change))) == expected


def test_the_capital_regime_message_names_the_fix():
    with pytest.raises(Unprocessable) as caught:
        prepare(invoice(customer=customer(name="Xenon Industrial Articles SA de CV")))
    assert "XENON INDUSTRIAL ARTICLES" in caught.value.message and "SA DE CV" in caught.value.message


def test_a_persona_fisica_regime_must_suit_its_uses():
    fisica = {"tax_id": "XIQB891116QE4", "name": "ANA", "zip": "06300"}
    assert failure(invoice(customer=fisica | {"tax_regime": "601", "cfdi_use": "G03"})) == (
        "tax_regime_not_allowed", "customer.tax_regime")
    assert failure(invoice(customer=fisica | {"tax_regime": "605", "cfdi_use": "G03"})) == (
        "cfdi_use_not_allowed", "customer.cfdi_use")
    assert prepare(invoice(customer=fisica | {"tax_regime": "605", "cfdi_use": "D01"}))


def test_a_buyer_without_rfc_on_an_individual_invoice():
    content = prepare(invoice(customer={"tax_id": "XAXX010101000", "name": "Juan Pérez"}, branch="TIJ")).content
    assert {k: content["customer"][k] for k in ("kind", "name", "tax_regime", "cfdi_use", "zip")} == {
        "kind": "general_public", "name": "Juan Pérez", "tax_regime": "616", "cfdi_use": "S01", "zip": "22000"}
    public = {"tax_id": "XAXX010101000", "name": "Juan Pérez"}
    assert failure(invoice(customer={"tax_id": "XAXX010101000"})) == ("global_information_required",
                                                                      "global_information")
    assert failure(invoice(customer={"tax_id": "XAXX010101000", "name": "Publico en General"})) == (
        "global_information_required", "global_information")
    assert failure(invoice(customer=public | {"tax_regime": "601"})) == ("tax_regime_not_allowed",
                                                                         "customer.tax_regime")
    assert failure(invoice(customer=public | {"cfdi_use": "G03"})) == ("cfdi_use_not_allowed", "customer.cfdi_use")
    assert failure(invoice(customer=public | {"zip": "76343"})) == ("invalid_zip", "customer.zip")
    assert prepare(invoice(customer=public | {"tax_regime": "616", "cfdi_use": "S01", "zip": "42501"}))


def test_a_foreign_customer():
    foreign = {"tax_id": "XEXX010101000", "name": "ACME TRADING LLC", "country": "usa",
               "foreign_tax_id": "98-7654321"}
    content = prepare(invoice(customer=foreign, currency="USD", exchange_rate="18.5")).content
    fields = ("kind", "country", "foreign_tax_id", "tax_regime", "cfdi_use", "zip")
    assert {k: content["customer"][k] for k in fields} == {
        "kind": "foreign", "country": "USA", "foreign_tax_id": "98-7654321", "tax_regime": "616",
        "cfdi_use": "S01", "zip": "42501"}
    for field in ("name", "country", "foreign_tax_id"):
        assert failure(invoice(customer={k: v for k, v in foreign.items() if k != field})) == (
            "missing_field", f"customer.{field}")
    assert failure(invoice(customer=foreign | {"country": "MEX"})) == ("invalid_country", "customer.country")
    assert failure(invoice(customer=foreign | {"country": "XYZ"})) == ("unknown_country", "customer.country")
    assert failure(invoice(customer=foreign | {"cfdi_use": "G01"})) == ("cfdi_use_not_allowed",
                                                                        "customer.cfdi_use")


# Payment ----------------------------------------------------------------------------------------------------

def test_payment_form_and_method():
    later = prepare(invoice(payment_method="PPD", payment_form=None)).content
    assert (later["payment_form"], later["payment_method"]) == ("99", "PPD")
    assert prepare(invoice(payment_method="PPD", payment_form="99")).content["payment_form"] == "99"
    assert failure(invoice(payment_method="PPD")) == ("invalid_payment_form", "payment_form")  # CFDI40105
    assert failure(invoice(payment_form=None)) == ("missing_field", "payment_form")
    assert failure(invoice(payment_form="99")) == ("invalid_payment_form", "payment_form")
    assert failure(invoice(payment_form="18")) == ("unknown_payment_form", "payment_form")
    # A CFDI 3.3 form that CFDI 4.0's catalog dropped.
    assert failure(invoice(payment_form="16")) == ("unknown_payment_form", "payment_form")
    assert failure(credit_note(payment_method="PPD", payment_form=None)) == ("invalid_payment_method",
                                                                             "payment_method")


# The global invoice -----------------------------------------------------------------------------------------

def test_a_global_invoice():
    content = prepare(global_invoice()).content
    assert content["global_information"] == {"periodicity": "04", "months": "05", "year": 2025}
    assert {k: content["customer"][k] for k in ("tax_id", "name", "tax_regime", "cfdi_use", "zip")} == {
        "tax_id": "XAXX010101000", "name": "PUBLICO EN GENERAL", "tax_regime": "616", "cfdi_use": "S01",
        "zip": "42501"}
    bimester = {"periodicity": "bimonthly", "months": "15", "year": 2025}  # May–June, issued in June
    content = prepare(global_invoice(global_information=bimester)).content
    assert content["global_information"]["periodicity"] == "05"
    last_year = {"periodicity": "daily", "months": "12", "year": 2024}
    assert prepare(global_invoice(global_information=last_year))


@pytest.mark.parametrize(("change", "expected"), [
    ({"customer": CUSTOMER}, ("invalid_tax_id", "customer.tax_id")),
    ({"customer": {"tax_id": "XAXX010101000", "name": "Juan Pérez"}}, ("invalid_name", "customer.name")),
    ({"payment_method": "PPD", "payment_form": None}, ("invalid_payment_method", "payment_method")),
    ({"payment_form": "99"}, ("invalid_payment_form", "payment_form")),
    ({"payment_terms": "30 días"}, ("field_not_allowed", "payment_terms")),
    ({"global_information": {"periodicity": "monthly", "months": "13", "year": 2025}},
     ("invalid_global_information", "global_information.months")),
    ({"global_information": {"periodicity": "bimonthly", "months": "05", "year": 2025}},
     ("invalid_global_information", "global_information.months")),
    ({"global_information": {"periodicity": "monthly", "months": "07", "year": 2025}},
     ("invalid_global_information", "global_information.months")),  # after the issue date
    ({"global_information": {"periodicity": "bimonthly", "months": "16", "year": 2025}},
     ("invalid_global_information", "global_information.months")),  # July–August
    ({"global_information": {"periodicity": "monthly", "months": "05", "year": 2023}},
     ("invalid_global_information", "global_information.year")),
    ({"items": [item(unit_code="ACT", description="Venta", code="T-1")]},
     ("invalid_global_line", "items.0.product_code")),
    ({"items": [item(product_code="01010101", description="Venta", code="T-1")]},
     ("invalid_global_line", "items.0.unit_code")),
    ({"items": [item(product_code="01010101", unit_code="ACT", description="Ventas", code="T-1")]},
     ("invalid_global_line", "items.0.description")),
    ({"items": [item(product_code="01010101", unit_code="ACT", description="Venta", code="T-1", quantity=2)]},
     ("invalid_global_line", "items.0.quantity")),
    ({"items": [item(product_code="01010101", unit_code="ACT", description="Venta")]},
     ("missing_field", "items.0.code")),
])
def test_global_invoice_rules(change, expected):
    assert failure(global_invoice(**change)) == expected


def test_only_an_invoice_is_global():
    assert failure(credit_note(global_information={"periodicity": "monthly", "months": "05", "year": 2025})) == (
        "field_not_allowed", "global_information")


# The credit note ----------------------------------------------------------------------------------------------

def test_a_credit_note():
    prepared = prepare(credit_note(related=["5fb2822e-396d-4725-8521-cdc4bdd20ccf", "doc_0123456789abcdefghij"]))
    content = prepared.content
    assert (content["cfdi_type"], content["payment_method"]) == ("E", "PUE")
    assert content["related"] == {"type": "01", "documents": [{"uuid": "5FB2822E-396D-4725-8521-CDC4BDD20CCF"},
                                                              {"document_id": "doc_0123456789abcdefghij"}]}
    assert documents.related_document_ids(content) == ["doc_0123456789abcdefghij"]
    uuid = "a1b2c3d4-0000-4000-8000-000000000001"
    resolved = documents.resolve_related(content, {"doc_0123456789abcdefghij": uuid})
    assert resolved["related"]["documents"][1] == {"document_id": "doc_0123456789abcdefghij",
                                                   "uuid": "A1B2C3D4-0000-4000-8000-000000000001"}
    assert documents.related_document_ids(resolved) == []
    assert "uuid" not in content["related"]["documents"][1]  # the content itself is left as it was
    with pytest.raises(KeyError):
        documents.resolve_related(content, {})


def test_credit_note_rules():
    assert failure(credit_note(related=[])) == ("related_required", "related")
    uuid = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
    assert failure(credit_note(related=[uuid, uuid.lower()])) == ("duplicate_related", "related.1")
    assert failure(invoice(related=[uuid])) == ("field_not_allowed", "related")


# Lines and taxes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "expected"), [
    (item(product_code="84111599"), ("unknown_product_code", "items.0.product_code")),
    (item(unit_code="ZZZ"), ("unknown_unit_code", "items.0.unit_code")),
    (item(tax_object="02", taxes=[]), ("taxes_required", "items.0.taxes")),
    (item(tax_object="01"), ("taxes_not_allowed", "items.0.taxes")),
    (item(tax_object="03"), ("taxes_not_allowed", "items.0.taxes")),
    (item(tax_object="05"), ("unsupported_tax_object", "items.0.tax_object")),
    (item(tax_object="09"), ("unknown_tax_object", "items.0.tax_object")),
    (item(taxes=[{"type": "vat", "rate": "16"}, {"type": "vat", "rate": "0"}]),
     ("duplicate_tax", "items.0.taxes.1")),
    (item(taxes=[{"type": "vat", "rate": "16", "exempt": True}]), ("invalid_tax", "items.0.taxes.0")),
    (item(taxes=[{"type": "vat"}]), ("invalid_tax", "items.0.taxes.0")),
    (item(taxes=[{"type": "vat", "per_unit": "1"}]), ("invalid_tax", "items.0.taxes.0")),
    (item(taxes=[{"type": "vat", "rate": "15"}]), ("invalid_tax_rate", "items.0.taxes.0.rate")),
    (item(taxes=[{"type": "vat", "rate": "8"}]), ("invalid_tax_rate", "items.0.taxes.0.rate")),  # not a border zip
    (item(taxes=[{"type": "ieps", "rate": "5"}]), ("invalid_tax_rate", "items.0.taxes.0.rate")),
    (item(taxes=[{"type": "ieps", "exempt": True}]), ("invalid_tax", "items.0.taxes.0.exempt")),
    (item(taxes=[{"type": "ieps", "rate": "8", "withholding": True}]),
     ("tax_not_allowed", "items.0.taxes.0.type")),
    (item(taxes=[{"type": "isr", "rate": "10"}]), ("tax_not_allowed", "items.0.taxes.0.withholding")),
    (item(taxes=[{"type": "isr", "rate": "36", "withholding": True}]),
     ("invalid_tax_rate", "items.0.taxes.0.rate")),
    (item(taxes=[{"type": "vat", "rate": "16.5", "withholding": True}]),
     ("invalid_tax_rate", "items.0.taxes.0.rate")),
    (item(taxes=[{"type": "vat", "exempt": True, "withholding": True}]), ("invalid_tax", "items.0.taxes.0")),
    (item(discount="100.01"), ("invalid_discount", "items.0.discount")),
    (item(discount="100.00"), ("invalid_tax_base", "items.0.taxes")),
    (item(unit_price="0"), ("invalid_tax_base", "items.0.taxes")),
    (item(quantity="999999999999", unit_price="99999999999"), ("amount_too_large", "items.0")),
])
def test_line_rules(line, expected):
    assert failure(invoice(items=[item(), line])) == (expected[0], expected[1].replace("items.0", "items.1"))


def test_unit_keys_are_written_as_the_catalog_writes_them():
    lines = [item(unit_code="e48"), item(unit_code="ohm"), item(unit_code="X1W")]
    assert [line["unit_code"] for line in prepare(invoice(items=lines)).content["lines"]] == ["E48", "Ohm", "X1w"]


def test_taxes_of_every_kind():
    lines = [
        item(taxes=[{"type": "vat", "rate": "8"}]),
        item(quantity=10, unit_price="20",
             taxes=[{"type": "ieps", "per_unit": "0.5911"}, {"type": "vat", "rate": "16"}]),
        item(taxes=[{"type": "ieps", "rate": "26.5"}, {"type": "vat", "rate": "16"}]),
        item(taxes=[{"type": "vat", "exempt": True}]),
        item(unit_price="1000", taxes=[{"type": "vat", "rate": "16"},
                                       {"type": "isr", "withholding": True, "rate": "10"},
                                       {"type": "vat", "withholding": True, "rate": "10.6667"}]),
        item(unit_price="0", taxes=[]),  # a free line, not subject to tax
    ]
    content = prepare(invoice(branch="TIJ", items=lines)).content
    fee = content["lines"][1]["transfers"]
    assert fee == [{"tax": "003", "factor": "Cuota", "rate": "0.591100", "base": "10", "amount": "5.91"},
                   {"tax": "002", "factor": "Tasa", "rate": "0.160000", "base": "205.91", "amount": "32.95"}]
    assert content["lines"][3]["transfers"] == [{"tax": "002", "factor": "Exento", "rate": None, "base": "100.00",
                                                 "amount": None}]
    assert content["lines"][4]["withholdings"] == [
        {"tax": "001", "factor": "Tasa", "rate": "0.100000", "base": "1000.00", "amount": "100.00"},
        {"tax": "002", "factor": "Tasa", "rate": "0.106667", "base": "1000.00", "amount": "106.67"}]
    summary = content["taxes"]
    assert [(t["tax"], t["factor"], t["rate"], t["base"], t["amount"]) for t in summary["transfers"]] == [
        ("002", "Tasa", "0.080000", "100.00", "8.00"),
        ("003", "Cuota", "0.591100", "10.00", "5.91"),
        ("002", "Tasa", "0.160000", "1332.41", "213.19"),  # 205.91 + 126.50 + 1000.00; 32.95 + 20.24 + 160.00
        ("003", "Tasa", "0.265000", "100.00", "26.50"),
        ("002", "Exento", None, "100.00", None)]
    assert summary["withholdings"] == [{"tax": "001", "amount": "100.00"}, {"tax": "002", "amount": "106.67"}]
    assert (summary["total_transferred"], summary["total_withheld"]) == ("253.60", "206.67")
    # 100 + 200 + 100 + 100 + 1000 + 0 = 1500.00; + 253.60 − 206.67.
    assert content["totals"] == {"subtotal": "1500.00", "discount": "0.00", "total": "1546.93"}


def test_a_document_too_large_for_sello_is_refused_before_numbering():
    long_line = item(description="Tornillo & tuerca " * 55, code="&" * 100)
    with pytest.raises(Unprocessable) as caught:
        prepare(invoice(items=[long_line] * requests.MAX_ITEMS))
    error = caught.value
    assert (error.code, error.path, error.extra["limit"]) == ("document_too_large", "items",
                                                              documents.MAX_DOCUMENT_BYTES)
    assert error.extra["size"] > documents.MAX_DOCUMENT_BYTES


# Numbering ---------------------------------------------------------------------------------------------

def test_number():
    prepared = prepare(invoice())
    assert documents.number(prepared, 42, "doc_a", "test").number == "A-42"
    assert documents.number(prepared, 42, "doc_b", "live") == documents.number(prepared, 42, "doc_a", "test")
    assert documents.number(prepared, 1, "doc_a", "test").access_key == ""
    assert documents.split_number("NC-1000") == ("NC", "1000")
    with pytest.raises(ValueError):
        documents.number(prepared, 0, "doc_a", "test")
    with pytest.raises(ValueError):
        documents.split_number("42")
