"""Ecuador documents.prepare / number: the request model's limits, SRI's rules (each failure a 422
with a stable code and the field's path), the arithmetic, the issue date and the numbering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from sello.countries.ec import clave, documents, xml
from sello.errors import Unprocessable
from sello.models.certificates import CertificateSummary
from sello.models.document_request import MAX_ITEMS, CreateDocumentRequest
from sello.models.issuers import Issuer
from tests.conftest import needs_data
from tests.ec_fixtures import (  # noqa: F401 (fixtures)
    DELETE, NOW, TODAY, make_issuer, no_schema_folder, schemas, with_path)
from tests.helpers import load_event

D = Decimal


def body(kind: str = "invoice") -> dict:
    return load_event(f"documents/create_{kind}.body.json")


def invoice(**changes) -> dict:
    """A small invoice: one 10.00 line at 15 %."""
    return {
        "type": "invoice",
        "issuer_id": "iss_demo0000000000000000",
        "establishment": "001",
        "emission_point": "001",
        "customer": {
            "id_type": "national_id",
            "tax_id": "1710034065",
            "name": "Juan Pérez",
            "email": "juan@example.com",
        },
        "items": [
            {
                "code": "A1",
                "description": "Servicio",
                "quantity": 1,
                "unit_price": "10.00",
                "taxes": [{"type": "vat", "rate": 15}],
            }
        ],
    } | changes


def prepare(data: dict, issuer: Issuer | None = None, environment: str = "test", now: datetime = NOW):
    request = CreateDocumentRequest.model_validate(data)
    return documents.prepare(request, issuer or make_issuer(), environment, now)


def failure(data: dict, issuer: Issuer | None = None, now: datetime = NOW) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data, issuer, now=now)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


def line(**changes) -> dict:
    return {
        "description": "Item",
        "quantity": 1,
        "unit_price": "1.00",
        "taxes": [{"type": "vat", "rate": 15}],
    } | changes


# The request model --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "NaN"),
        ("quantity", "Infinity"),
        ("quantity", "0"),
        ("quantity", "-1"),
        ("quantity", "1.0000001"),
        ("unit_price", "1.1234567"),
        ("unit_price", "-0.01"),
        ("discount", "0.001"),
        ("discount", -1),
        ("unit_price", True),
        ("quantity", "1e30"),
    ],
)
def test_the_model_refuses_bad_numbers_with_the_field_path(field, value):
    data = invoice(items=[line(**{field: value})])
    with pytest.raises(ValidationError) as caught:
        CreateDocumentRequest.model_validate(data)
    assert caught.value.errors()[0]["loc"][:3] == ("items", 0, field)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")  # digits, but not the ones SRI's schemas take


@pytest.mark.parametrize("kind, path, value", [
    ("credit_note", "reference.number", "001-001-000000123"),
    ("credit_note", "reference.type", "01"),
    ("delivery_guide", "shipment.destinations.0.reference.number", "001-001-000000123"),
    ("delivery_guide", "shipment.destinations.0.reference.authorization", "1234567890"),
    ("delivery_guide", "shipment.destinations.0.establishment_code", "001"),
    ("withholding", "withholding.fiscal_period", "06/2025"),
    ("withholding", "withholding.support_documents.0.type", "01"),
    ("withholding", "withholding.support_documents.0.support_code", "01"),
    ("withholding", "withholding.support_documents.0.number", "001-001-000000123"),
    ("withholding", "withholding.support_documents.0.authorization", "1234567890"),
])
def test_digits_of_other_scripts_are_refused_before_they_reach_the_xml(kind, path, value):
    data = with_path(body(kind), path, value.translate(ARABIC_INDIC))
    with pytest.raises((ValidationError, Unprocessable)) as caught:
        prepare(data)
    if isinstance(caught.value, ValidationError):
        assert ".".join(str(p) for p in caught.value.errors()[0]["loc"]) == path
    else:
        assert (caught.value.code, caught.value.path) == ("unknown_document_type", path)


def test_the_model_takes_numbers_and_decimal_strings_as_exact_decimals():
    request = CreateDocumentRequest.model_validate(
        invoice(items=[line(quantity=2.5, unit_price="0.1"), line(quantity="3", unit_price=0.1)])
    )
    assert [item.quantity for item in request.items] == [D("2.5"), D(3)]
    assert all(isinstance(item.unit_price, Decimal) and item.unit_price == D("0.1") for item in request.items)


def test_the_model_limits_items_details_and_additional_info():
    assert len(CreateDocumentRequest.model_validate(invoice(items=[line()] * 700)).items) == 700
    with pytest.raises(ValidationError, match="700"):
        CreateDocumentRequest.model_validate(invoice(items=[line()] * 701))
    with pytest.raises(ValidationError):
        CreateDocumentRequest.model_validate(invoice(items=[line(details={str(i): "x" for i in range(4)})]))
    with pytest.raises(ValidationError):
        CreateDocumentRequest.model_validate(invoice(additional_info={str(i): "x" for i in range(16)}))
    with pytest.raises(ValidationError):
        CreateDocumentRequest.model_validate(invoice(items=[line(description="x" * 301)]))
    with pytest.raises(ValidationError):
        CreateDocumentRequest.model_validate(invoice(items=[line(code="x" * 26)]))
    with pytest.raises(ValidationError):
        CreateDocumentRequest.model_validate(invoice(unknown="field"))


# The sample bodies and the arithmetic -----------------------------------------------------------


def test_the_ten_line_invoice_totals_by_rate():
    prepared = prepare(body("invoice"))
    content = prepared.content
    assert len(content["lines"]) == 10
    # 15 %: 81.00 + 72.96 + 50.00 + 44.91 + 12.25 + 15.00 + 50.00; line taxes 12.15 + 10.94 + 7.50 + 6.74
    # + 1.84 + 2.25 + 7.50. 0 %: 15.73 (18.5 × 0.85 = 15.725) + 41.00. Exempt (code 7): 36.00.
    assert [(g["rate_code"], g["rate"], g["base"], g["amount"]) for g in content["tax_totals"]] == [
        ("4", "15.00", "326.12", "48.92"),
        ("0", "0.00", "56.73", "0.00"),
        ("7", "0.00", "36.00", "0.00"),
    ]
    assert content["totals"] == {"subtotal": "418.85", "discount": "8.83", "tax": "48.92", "total": "467.77"}
    assert prepared.totals == {
        "currency": "USD",
        "subtotal": D("418.85"),
        "discount": D("8.83"),
        "tax": D("48.92"),
        "total": D("467.77"),
    }
    # Totals are the sums of the lines.
    assert sum(D(line["subtotal"]) for line in content["lines"]) == D(content["totals"]["subtotal"])
    assert sum(D(t["amount"]) for line in content["lines"] for t in line["taxes"]) == D(
        content["totals"]["tax"]
    )
    assert prepared.series == "001-002" and prepared.issue_date == TODAY and prepared.type == "invoice"
    assert prepared.customer == {
        "name": "Importadora Andina Cía. Ltda.",
        "tax_id": "1790016919001",
        "email": "compras@importadora-andina.example.com",
    }


def test_lines_keep_quantities_prices_and_details_as_given():
    lines = prepare(body("invoice")).content["lines"]
    cups = lines[5]
    assert (cups["quantity"], cups["unit_price"], cups["subtotal"]) == ("6.00", "8.333333", "50.00")
    assert cups["details"] == [{"name": "Color", "value": "Azul"}, {"name": "Taller", "value": "Cuenca"}]
    assert lines[2]["quantity"] == "18.50" and lines[2]["subtotal"] == "15.73"


def test_many_lines_sum_exactly():
    prepared = prepare(invoice(items=[line(unit_price="0.10")] * 700))
    # Each line: 0.10 at 15 %, 0.015 exactly. Header: 70.00 × 15 % = 10.50, rounded once (rounding each
    # line first would make it 700 × 0.02 = 14.00); the lines share it out, each within a cent of 0.015.
    assert prepared.content["tax_totals"][0] == {
        "tax_code": "2",
        "rate_code": "4",
        "rate": "15.00",
        "base": "70.00",
        "amount": "10.50",
    }
    line_taxes = [D(line["taxes"][0]["amount"]) for line in prepared.content["lines"]]
    assert sum(line_taxes) == D("10.50")
    assert set(line_taxes) == {D("0.01"), D("0.02")}
    assert prepared.totals["total"] == D("80.50")


def test_credit_and_debit_notes_from_the_samples():
    credit = prepare(body("credit_note"))
    assert credit.content["reference"] == {
        "type": "01",
        "number": "001-002-000000128",
        "issue_date": "2025-06-02",
        "reason": "Devolución de mercadería en mal estado",
    }
    assert credit.content["payments"] == []
    assert credit.totals["total"] == D("22.15")  # 16.67 + 2.50 + 2.98
    debit = prepare(body("debit_note"))
    assert debit.totals["total"] == D("20.01")  # (12.40 + 5.00) × 1.15
    assert {"name": "Motivo", "value": "Pago fuera de plazo"} in debit.content["additional_info"]


def test_ice_is_part_of_the_vat_base_and_irbpnr_is_per_unit():
    item = line(
        quantity=10,
        unit_price="10.00",
        taxes=[
            {"type": "ice", "code": "3031", "rate": 15},
            {"type": "vat", "rate": 15},
            {"type": "irbpnr", "code": "5001"},
        ],
    )
    taxes = prepare(invoice(items=[item])).content["lines"][0]["taxes"]
    assert [(t["tax_code"], t["rate_code"], t["rate"], t["base"], t["amount"]) for t in taxes] == [
        ("3", "3031", "15.00", "100.00", "15.00"),
        ("2", "4", "15.00", "115.00", "17.25"),
        ("5", "5001", "0.02", "100.00", "0.20"),
    ]


def test_vat_by_code_for_exempt_and_not_subject_and_rate_matches():
    items = [
        line(taxes=[{"type": "vat", "code": "6"}]),
        line(taxes=[{"type": "vat", "code": "4", "rate": "15.00"}]),
        line(taxes=[{"type": "vat", "rate": 5}]),
        line(taxes=[{"type": "vat", "rate": "12"}]),
        line(taxes=[{"type": "vat", "rate": 13}]),
    ]
    groups = prepare(invoice(items=items)).content["tax_totals"]
    assert [(g["rate_code"], g["rate"]) for g in groups] == [
        ("6", "0.00"),
        ("4", "15.00"),
        ("5", "5.00"),
        ("2", "12.00"),
        ("10", "13.00"),
    ]


def test_payments_default_to_one_cash_payment_of_the_total():
    payments = prepare(invoice()).content["payments"]
    assert payments == [{"method": "01", "amount": "11.50", "term": None, "term_unit": None}]


def test_payments_map_methods_and_terms():
    payments = prepare(
        invoice(
            payments=[{"method": "credit_card", "amount": "5.50"}, {"method": "20", "amount": 6, "term": 30}]
        )
    ).content["payments"]
    assert payments == [
        {"method": "19", "amount": "5.50", "term": None, "term_unit": None},
        {"method": "20", "amount": "6.00", "term": "30.00", "term_unit": "dias"},
    ]


def test_final_consumer_up_to_50_dollars():
    data = invoice(customer={"id_type": "final_consumer"}, items=[line(unit_price="43.47")])  # 43.47 + 6.52
    customer = prepare(data).content["customer"]
    assert customer["tax_id"] == "9999999999999" and customer["name"] == "CONSUMIDOR FINAL"
    assert customer["id_type_code"] == "07"


def test_the_customers_email_is_added_to_additional_info_once():
    assert prepare(invoice()).content["additional_info"] == [{"name": "Email", "value": "juan@example.com"}]
    info = prepare(invoice(additional_info={"email": "otro@example.com"})).content["additional_info"]
    assert info == [{"name": "email", "value": "otro@example.com"}]
    full = {str(i): "x" for i in range(15)}
    assert prepare(invoice(additional_info=full)).content["additional_info"] == [
        {"name": name, "value": "x"} for name in full
    ]


def test_the_issuer_snapshot_carries_the_flags():
    issuer = prepare(invoice(), make_issuer(rimpe="emprendedor")).content["issuer"]
    assert issuer == {
        "ruc": "1799999990001",
        "legal_name": "Comercial Andina S.A.",
        "trade_name": "Andina Store",
        "head_office_address": "Av. Amazonas N34-451 y Av. Atahualpa, Quito",
        "establishment": "001",
        "emission_point": "001",
        "establishment_address": "Av. Amazonas N34-451 y Av. Atahualpa, Quito",
        "obligado_contabilidad": True,
        "contribuyente_especial": "5368",
        "agente_retencion": "1",
        "rimpe": "CONTRIBUYENTE RÉGIMEN RIMPE",
    }


# SRI's rules: each failure has its code and path ------------------------------------------------


NOTE_REFERENCE = {"number": "001-001-000000001", "issue_date": "2025-06-01", "reason": "Devolución"}


@pytest.mark.parametrize(
    ("data", "code", "path"),
    [
        (with_path(invoice(), "customer.tax_id", "1790016919002"), "invalid_tax_id", "customer.tax_id"),
        (with_path(invoice(), "customer.tax_id", "1710034066"), "invalid_tax_id", "customer.tax_id"),
        (
            with_path(invoice(), "customer", {"id_type": "tax_id", "tax_id": "1710034065", "name": "X"}),
            "invalid_tax_id",
            "customer.tax_id",
        ),
        (
            with_path(invoice(), "customer", {"id_type": "final_consumer", "tax_id": "1710034065"}),
            "invalid_tax_id",
            "customer.tax_id",
        ),
        (
            invoice(customer={"id_type": "final_consumer"}, items=[line(unit_price="43.49")]),
            "final_consumer_limit",
            "customer.id_type",
        ),
        (
            invoice(type="credit_note", customer={"id_type": "final_consumer"}, reference=NOTE_REFERENCE),
            "final_consumer_not_allowed",
            "customer.id_type",
        ),
        (
            invoice(type="debit_note", customer={"id_type": "final_consumer"}, reference=NOTE_REFERENCE),
            "final_consumer_not_allowed",
            "customer.id_type",
        ),
        (with_path(invoice(), "customer.name", DELETE), "missing_field", "customer.name"),
        (invoice(customer={"id_type": "passport", "name": "John Doe"}), "missing_field", "customer.tax_id"),
        (
            invoice(items=[line(), line(taxes=[{"type": "vat", "rate": 16}])]),
            "invalid_tax_rate",
            "items.1.taxes.0.rate",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "code": "9"}])]),
            "unknown_tax_code",
            "items.0.taxes.0.code",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "code": "4", "rate": 12}])]),
            "invalid_tax_rate",
            "items.0.taxes.0.rate",
        ),
        (invoice(items=[line(taxes=[{"type": "vat"}])]), "missing_field", "items.0.taxes.0.rate"),
        (
            invoice(items=[line(taxes=[{"type": "ice", "code": "3031", "rate": 15}])]),
            "missing_vat",
            "items.0.taxes",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "rate": 15}, {"type": "vat", "rate": 0}])]),
            "duplicate_tax",
            "items.0.taxes.1",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "rate": 15}, {"type": "ice", "rate": 15}])]),
            "missing_field",
            "items.0.taxes.1.code",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "rate": 15}, {"type": "ice", "code": "3031"}])]),
            "missing_field",
            "items.0.taxes.1.rate",
        ),
        (
            invoice(
                items=[line(taxes=[{"type": "vat", "rate": 15}, {"type": "ice", "code": "5001", "rate": 5}])]
            ),
            "unknown_tax_code",
            "items.0.taxes.1.code",
        ),
        (
            invoice(items=[line(taxes=[{"type": "vat", "rate": 15}, {"type": "irbpnr", "code": "5002"}])]),
            "unknown_tax_code",
            "items.0.taxes.1.code",
        ),
        (
            invoice(
                items=[
                    line(taxes=[{"type": "vat", "rate": 15}, {"type": "ice", "code": "3031", "rate": 15}]),
                    line(taxes=[{"type": "vat", "rate": 15}, {"type": "ice", "code": "3031", "rate": 30}]),
                ]
            ),
            "invalid_tax_rate",
            "items.1.taxes.1.rate",
        ),
        (
            invoice(items=[line(quantity=2, unit_price="1.00", discount="2.01")]),
            "invalid_discount",
            "items.0.discount",
        ),
        (
            invoice(items=[line(quantity="999999999999", unit_price="999999999999")]),
            "amount_too_large",
            "items.0",
        ),
        (invoice(items=[]), "missing_field", "items"),
        (invoice(type="credit_note"), "reference_required", "reference"),
        (invoice(type="debit_note"), "reference_required", "reference"),
        (
            invoice(type="credit_note", reference=NOTE_REFERENCE | {"reason": None}),
            "missing_field",
            "reference.reason",
        ),
        (
            invoice(
                type="credit_note",
                reference=NOTE_REFERENCE | {"issue_date": "2025-07-01", "reason": "x"},
                issue_date="2025-06-30",
            ),
            "invalid_issue_date",
            "reference.issue_date",
        ),
        (
            invoice(type="credit_note", reference=NOTE_REFERENCE | {"type": "receipt"}),
            "unknown_document_type",
            "reference.type",
        ),
        (
            invoice(
                type="credit_note", reference=NOTE_REFERENCE, payments=[{"method": "cash", "amount": "11.50"}]
            ),
            "field_not_allowed",
            "payments",
        ),
        (invoice(reference=NOTE_REFERENCE), "field_not_allowed", "reference"),
        (invoice(establishment="003"), "unknown_establishment", "establishment"),
        (invoice(emission_point="003"), "unknown_emission_point", "emission_point"),
        (invoice(establishment="002", emission_point="002"), "unknown_emission_point", "emission_point"),
        (invoice(currency="EUR"), "unsupported_currency", "currency"),
        (invoice(issue_date="2025-07-01"), "invalid_issue_date", "issue_date"),
        (invoice(issue_date="2025-03-31"), "invalid_issue_date", "issue_date"),  # 91 days back
        (invoice(payments=[{"method": "cash", "amount": "11.49"}]), "payments_mismatch", "payments"),
        (
            invoice(payments=[{"method": "cash", "amount": "5"}, {"method": "cash", "amount": "6.51"}]),
            "payments_mismatch",
            "payments",
        ),
        (
            invoice(payments=[{"method": "05", "amount": "11.50"}]),
            "unknown_payment_method",
            "payments.0.method",
        ),
        (
            invoice(payments=[{"method": "cash", "amount": "11.50", "term_unit": "days"}]),
            "missing_field",
            "payments.0.term",
        ),
    ],
)
def test_rule_violations_have_a_code_and_a_path(data, code, path):
    assert failure(data) == (code, path)


def test_the_issue_date_window_edges_are_accepted():
    assert prepare(invoice(issue_date="2025-06-30")).issue_date == TODAY
    assert prepare(invoice(issue_date="2025-04-01")).issue_date == date(2025, 4, 1)  # 90 days back


def test_the_default_issue_date_is_today_in_ecuador():
    assert prepare(invoice(), now=datetime(2025, 7, 1, 4, 59, tzinfo=UTC)).issue_date == date(2025, 6, 30)
    assert prepare(invoice(), now=datetime(2025, 7, 1, 5, 0, tzinfo=UTC)).issue_date == date(2025, 7, 1)


# check_party, used by every type ----------------------------------------------------------------


def test_check_party_returns_the_document_view():
    from sello.models.document_request import Party

    party = Party(id_type="tax_id", tax_id=" 1790016919001 ", name="Importadora", email="a@example.com")
    assert documents.check_party(party, path="customer", allow_final_consumer=False) == {
        "id_type": "tax_id",
        "id_type_code": "04",
        "tax_id": "1790016919001",
        "name": "Importadora",
        "email": "a@example.com",
        "address": None,
        "phone": None,
    }
    foreign = Party(id_type="foreign_id", tax_id="X12345678", name="Acme Inc.")
    assert (
        documents.check_party(foreign, path="shipment.carrier", allow_final_consumer=False)["id_type_code"]
        == "08"
    )


def test_check_party_paths_are_prefixed():
    from sello.models.document_request import Party

    with pytest.raises(Unprocessable) as caught:
        documents.check_party(
            Party(id_type="final_consumer"),
            path="shipment.destinations.0.recipient",
            allow_final_consumer=False,
        )
    assert caught.value.path == "shipment.destinations.0.recipient.id_type"


# Numbering ----------------------------------------------------------------------------------------


def test_number_gives_the_number_and_a_clave_consistent_with_the_document():
    prepared = prepare(body("credit_note"))
    numbered = documents.number(prepared, 42, "doc_abc", "live")
    assert numbered.number == "001-002-000000042"
    fields = clave.parse(numbered.access_key)
    assert clave.is_valid(numbered.access_key)
    assert fields["issue_date"] == TODAY and fields["doc_code"] == "04" and fields["ruc"] == "1799999990001"
    assert fields["ambiente"] == "2" and fields["series"] == "001002" and fields["sequence"] == "000000042"
    assert fields["numeric_code"] == documents.numeric_code("doc_abc") and fields["emission_type"] == "1"


def test_number_is_deterministic_per_document_id():
    prepared = prepare(invoice())
    first = documents.number(prepared, 7, "doc_1", "test")
    assert documents.number(prepared, 7, "doc_1", "test") == first
    assert documents.number(prepared, 7, "doc_2", "test").access_key != first.access_key
    assert first.access_key[23] == "1"
    codes = {documents.numeric_code(f"doc_{i}") for i in range(1000)}
    assert all(len(code) == 8 and code.isdigit() for code in codes) and len(codes) > 990


def test_number_refuses_a_sequence_past_nine_digits():
    prepared = prepare(invoice())
    assert documents.number(prepared, 999_999_999, "d", "test").number == "001-001-999999999"
    with pytest.raises(Unprocessable) as caught:
        documents.number(prepared, 1_000_000_000, "d", "test")
    assert caught.value.code == "sequence_exhausted"


# SRI's size limit, checked inside prepare --------------------------------------------------------

def with_certificate(issuer: Issuer, signature_size: int | None) -> Issuer:
    summary = CertificateSummary(serial="5BAA8268", subject="CN=ANA PEREZ", valid_from=NOW, valid_to=NOW,
                                 signature_size=signature_size)
    return issuer.model_copy(update={"certificate": summary})


def unsigned_size(data: dict) -> int:
    return len(documents.unsigned_xml(prepare(data, with_certificate(make_issuer(), 0)), "test"))


@pytest.mark.parametrize("kind, path", [("invoice", "items"), ("credit_note", "items"),
                                        ("debit_note", "items"), ("delivery_guide", "shipment.destinations"),
                                        ("withholding", "withholding.support_documents")])
def test_a_document_over_sris_size_once_signed_is_refused_with_the_limit_and_its_size(kind, path):
    data = body(kind)
    room = documents.catalogs.MAX_DOCUMENT_BYTES - unsigned_size(data)
    # Up to the limit with the certificate's signature, the document is fine.
    assert prepare(data, with_certificate(make_issuer(), room))
    with pytest.raises(Unprocessable) as caught:
        prepare(data, with_certificate(make_issuer(), room + 1))
    error = caught.value
    assert (error.status, error.code, error.path) == (422, "document_too_large", path)
    assert error.extra == {"limit": 320_000, "size": 320_001}
    assert "320001" in error.message and "320000" in error.message


def test_the_size_is_that_of_the_xml_the_signing_task_builds():
    prepared = prepare(body("invoice"))
    numbered = documents.number(prepared, 123_456_789, "doc_any", "live")
    built = xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                      environment="live")
    assert len(built) == len(documents.unsigned_xml(prepared, "live"))


def test_an_issuer_whose_signature_size_is_unknown_gets_a_generous_one():
    assert documents.signature_size(with_certificate(make_issuer(), None)) == documents.UNKNOWN_SIGNATURE_SIZE
    assert documents.signature_size(make_issuer()) == documents.UNKNOWN_SIGNATURE_SIZE
    # Lines grow the XML linearly: enough of them to leave room for a 2048-bit certificate's signature
    # (about 4.5 KB) but not for the size assumed for an unknown certificate.
    lines = [line(code="SKU-1", description="D" * 150)]
    first, second = unsigned_size(invoice(items=lines)), unsigned_size(invoice(items=lines * 2))
    count = 1 + (documents.catalogs.MAX_DOCUMENT_BYTES - 10_000 - first) // (second - first)
    data = invoice(items=lines * count)
    room = documents.catalogs.MAX_DOCUMENT_BYTES - unsigned_size(data)
    assert 5_000 < room < documents.UNKNOWN_SIGNATURE_SIZE
    assert prepare(data, with_certificate(make_issuer(), 5_000))
    code, path = failure(data, with_certificate(make_issuer(), None))
    assert (code, path) == ("document_too_large", "items")


def test_the_most_lines_fit_when_they_are_short():
    """MAX_ITEMS short lines (a code, a description, one VAT rate) fit, even with the signature size
    assumed for an unknown certificate."""
    lines = [line(code=f"{n:06d}", description="Servicio") for n in range(MAX_ITEMS)]
    assert prepare(invoice(items=lines), make_issuer()).type == "invoice"
    credit_note = body("credit_note") | {"items": lines}
    assert prepare(credit_note, make_issuer()).type == "credit_note"


# The schema check inside prepare ----------------------------------------------------------------


@needs_data("ec", "xsd")
def test_prepare_checks_the_schema_when_a_folder_is_set(schemas):
    assert prepare(body("invoice")).totals["total"] == D("467.77")
    # The issuer flags allow a contribuyente especial number with a dash; SRI's schema does not.
    code, path = failure(invoice(), make_issuer(contribuyente_especial="123-45"))
    assert (code, path) == ("schema_violation", "/factura/infoFactura/contribuyenteEspecial")


def test_the_openapi_example_is_a_valid_invoice():
    example = CreateDocumentRequest.model_json_schema()["examples"][0]
    prepared = prepare(example)
    assert sum(D(payment["amount"]) for payment in example["payments"]) == prepared.totals["total"]
