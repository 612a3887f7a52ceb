"""The Mexican request models: shape and limits (SAT's schema), one schema per type with its
examples, a description and an example for every field, and errors in the caller's terms."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from sello import validation
from sello.countries.mx import requests
from sello.countries.mx.issuer import MexicoIssuerFields
from sello.i18n import translator

ITEM = {"product_code": "84111506", "description": "Servicio", "unit_code": "E48", "unit_price": "100",
        "taxes": [{"type": "vat", "rate": "16"}]}


def body(**changes) -> dict:
    return copy.deepcopy(requests.INVOICE_EXAMPLE) | changes


def errors(data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        requests.MexicoDocumentRequest.model_validate(data)
    return caught.value.errors()


def test_the_examples_validate_as_their_variant_and_as_the_neutral_model():
    for variant, examples in ((requests.MexicoInvoiceRequest, [requests.INVOICE_EXAMPLE,
                                                               requests.GLOBAL_INVOICE_EXAMPLE]),
                              (requests.MexicoCreditNoteRequest, [requests.CREDIT_NOTE_EXAMPLE])):
        for example in examples:
            assert variant.model_validate(example).type == example["type"]
            assert requests.MexicoDocumentRequest.model_validate(example).type == example["type"]
    assert TypeAdapter(requests.MexicoDocumentBody).validate_python(requests.CREDIT_NOTE_EXAMPLE).related


def test_normalised_values():
    request = requests.MexicoDocumentRequest.model_validate(body(
        currency="usd", customer={"tax_id": "XEXX010101000", "name": "ACME  TRADING   LLC", "country": "usa",
                                  "foreign_tax_id": "1", "cfdi_use": "s01"},
        items=[ITEM | {"unit_code": "e48", "description": "  Dos   espacios  "}],
        related=["5fb2822e-396d-4725-8521-cdc4bdd20ccf"]))
    assert (request.currency, request.customer.country, request.customer.cfdi_use) == ("USD", "USA", "S01")
    assert request.customer.name == "ACME TRADING LLC"
    # Unit keys keep their case here (a few are mixed case, e.g. Ohm): prepare finds the catalog's.
    assert (request.items[0].unit_code, request.items[0].description) == ("e48", "Dos espacios")
    assert request.related == ["5FB2822E-396D-4725-8521-CDC4BDD20CCF"]
    assert (request.payment_method, request.export, request.items[0].quantity) == ("PUE", "01", Decimal(1))


@pytest.mark.parametrize(("changes", "location"), [
    ({"items": [ITEM | {"description": "Tornillo | tuerca"}]}, ("items", 0, "description")),
    ({"items": [ITEM | {"description": "x" * 1001}]}, ("items", 0, "description")),
    ({"items": [ITEM | {"unit": "x" * 21}]}, ("items", 0, "unit")),
    ({"items": [ITEM | {"code": "x" * 101}]}, ("items", 0, "code")),
    ({"items": [ITEM | {"quantity": "0"}]}, ("items", 0, "quantity")),
    ({"items": [ITEM | {"unit_price": "1.1234567"}]}, ("items", 0, "unit_price")),
    ({"items": [ITEM | {"unit_price": "-1"}]}, ("items", 0, "unit_price")),
    ({"items": [ITEM | {"unit_price": "1" + "0" * 18}]}, ("items", 0, "unit_price")),
    ({"items": [ITEM | {"product_code": "8411150"}]}, ("items", 0, "product_code")),
    ({"items": [ITEM | {"unit_code": "E-48"}]}, ("items", 0, "unit_code")),
    ({"items": [ITEM | {"taxes": [{"type": "vat", "rate": "16.12345"}]}]}, ("items", 0, "taxes", 0, "rate")),
    ({"items": [ITEM | {"taxes": [{"type": "iva", "rate": "16"}]}]}, ("items", 0, "taxes", 0, "type")),
    ({"items": [ITEM | {"taxes": [{"type": "vat", "rate": "16"}] * 5}]}, ("items", 0, "taxes")),
    ({"items": []}, ("items",)),
    ({"items": [ITEM] * (requests.MAX_ITEMS + 1)}, ("items",)),
    ({"customer": {"name": "X"}}, ("customer", "tax_id")),
    ({"customer": {"tax_id": "EKU9003173C9", "zip": "4250"}}, ("customer", "zip")),
    ({"customer": {"tax_id": "EKU9003173C9", "country": "US"}}, ("customer", "country")),
    ({"customer": {"tax_id": "EKU9003173C9", "name": "A|B"}}, ("customer", "name")),
    ({"exchange_rate": "0"}, ("exchange_rate",)),
    ({"payment_method": "PPE"}, ("payment_method",)),
    ({"payment_form": "3"}, ("payment_form",)),
    ({"related": ["123"]}, ("related", 0)),
    ({"global_information": {"periodicity": "yearly", "months": "01", "year": 2025}},
     ("global_information", "periodicity")),
    ({"global_information": {"periodicity": "monthly", "months": "01", "year": 2020}},
     ("global_information", "year")),
    ({"type": "debit_note"}, ("type",)),
    ({"reference": {}}, ("reference",)),
])
def test_shape_errors_and_their_location(changes, location):
    assert location in [tuple(error["loc"]) for error in errors(body(**changes))]


def test_our_validators_answer_in_the_callers_language():
    [error] = errors(body(items=[ITEM | {"description": "a|b"}]))
    message = validation.message(error)
    assert "|" in message.render(translator("en"))
    assert message.render(translator("es")) != message.render(translator("en"))


# The schemas ------------------------------------------------------------------------------------------

def schema() -> dict:
    return TypeAdapter(requests.MexicoDocumentBody).json_schema()


def definitions() -> dict:
    return schema()["$defs"]


def test_one_schema_per_type_discriminated_by_type():
    document = schema()
    assert document["discriminator"]["propertyName"] == "type"
    assert set(document["discriminator"]["mapping"]) == {"invoice", "credit_note", "payment"}
    invoice, credit_note = definitions()["MexicoInvoiceRequest"], definitions()["MexicoCreditNoteRequest"]
    assert (invoice["title"], credit_note["title"]) == ("Mexico invoice", "Mexico credit note")
    assert "related" not in invoice["properties"] and "global_information" in invoice["properties"]
    assert "global_information" not in credit_note["properties"]
    assert "related" in credit_note["required"] and credit_note["properties"]["related"]["minItems"] == 1
    assert [e["type"] for e in invoice["examples"]] == ["invoice", "invoice"]
    assert invoice["examples"][1]["global_information"]["periodicity"] == "monthly"
    assert "items" in invoice["required"] and "items" in credit_note["required"]
    payment = definitions()["MexicoPaymentRequest"]
    assert payment["title"] == "Mexico payment" and "payments" in payment["required"]
    assert not {"items", "currency", "payment_form", "related"} & set(payment["properties"])
    assert [e["type"] for e in payment["examples"]] == ["payment"]


def _leaves(schemas: dict):
    for name, model in schemas.items():
        for field, prop in model.get("properties", {}).items():
            yield name, field, prop


def test_every_field_has_a_description_and_every_value_an_example():
    schemas = definitions() | TypeAdapter(MexicoIssuerFields).json_schema()["$defs"] | {
        "MexicoIssuerFields": TypeAdapter(MexicoIssuerFields).json_schema()}
    for model, field, prop in _leaves(schemas):
        assert prop.get("description"), (model, field)
        options = prop.get("anyOf", [prop])
        scalar = any(o.get("type") in ("string", "number", "integer") or "pattern" in o for o in options)
        if scalar and "enum" not in prop and "const" not in prop and not any("enum" in o for o in options):
            assert prop.get("examples") or prop.get("default") not in (None, ""), (model, field)


def test_every_pattern_is_described_for_people():
    def patterns(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node["pattern"]
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    printable = r"^[^\u0000-\u001f\u007f\ufffe\uffff]*$"
    found = set(patterns(schema())) | set(patterns(TypeAdapter(MexicoIssuerFields).json_schema()))
    assert found
    for pattern in found - {printable}:
        assert validation.pattern_description(pattern) is not None, pattern
