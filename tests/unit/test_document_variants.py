"""The body of POST /v1/documents: validated as the neutral model (errors at the fields' own paths,
unknown types listed, the plugin's codes for parts that do not fit the type), documented as one
variant per document type. A variant takes a body of its type exactly as the neutral model does
(the same values, the same hash for idempotency), and its example is a valid document of its
type."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest
from pydantic import TypeAdapter, ValidationError

from sello.countries import get_plugin
from sello.countries.ec import documents
from sello.errors import Unprocessable
from sello.models.country_bodies import DocumentBody
from sello.models.document_request import VARIANTS, CreateDocumentRequest, DocumentVariant
from sello.models.documents import DOCUMENT_TYPES
from sello.services.documents import request_hash
from tests.ec_fixtures import DELETE, NOW, make_issuer, no_schema_folder, with_path  # noqa: F401 (fixture)
from tests.helpers import load_event

BODY = TypeAdapter(get_plugin("EC").document_request_model)  # as the API validates an Ecuadorian body
BY_TYPE = TypeAdapter(DocumentVariant)  # as the OpenAPI document describes it


def sample(kind: str) -> dict:
    return load_event(f"documents/create_{kind}.body.json")


def locations(data) -> list[tuple]:
    with pytest.raises(ValidationError) as caught:
        BODY.validate_python(data)
    return [error["loc"] for error in caught.value.errors()]


def test_every_type_has_its_variant():
    assert list(VARIANTS) == list(DOCUMENT_TYPES)
    for kind, variant in VARIANTS.items():
        assert issubclass(variant, CreateDocumentRequest)
        assert get_args(variant.model_fields["type"].annotation) == (kind,)


@pytest.mark.parametrize("kind", DOCUMENT_TYPES)
def test_a_variant_takes_a_body_of_its_type_as_the_neutral_model_does(kind):
    variant = BY_TYPE.validate_python(sample(kind))
    neutral = BODY.validate_python(sample(kind))
    assert type(variant) is VARIANTS[kind]
    assert type(neutral) is CreateDocumentRequest
    assert variant.model_dump() == neutral.model_dump()
    # The same body keeps its idempotency hash whichever model parsed it.
    assert request_hash(variant) == request_hash(neutral)


@pytest.mark.parametrize("kind, path, value, location", [
    ("invoice", "items.0.unit_price", "-1", ("items", 0, "unit_price")),
    ("purchase_settlement", "items.1.quantity", "0", ("items", 1, "quantity")),
    ("credit_note", "reference.number", "1-1-1", ("reference", "number")),
    # The field has the type's name: still one `withholding` in the path.
    ("withholding", "withholding.fiscal_period", "13/2025", ("withholding", "fiscal_period")),
    ("delivery_guide", "shipment.plate", DELETE, ("shipment", "plate")),
    ("debit_note", "customer", DELETE, ("customer",)),
    ("debit_note", "colour", "red", ("colour",)),
])
def test_errors_are_at_the_fields_own_paths(kind, path, value, location):
    assert locations(with_path(sample(kind), path, value)) == [location]


@pytest.mark.parametrize("value", ["receipt", "Invoice", 3, None, ["invoice"]])
def test_an_unknown_type_is_an_error_at_type_listing_every_type(value):
    with pytest.raises(ValidationError) as caught:
        BODY.validate_python(sample("invoice") | {"type": value})
    [error] = caught.value.errors()
    assert error["loc"] == ("type",)
    assert all(f"'{kind}'" in error["msg"] for kind in DOCUMENT_TYPES)


def test_without_a_type_every_missing_field_is_listed():
    assert locations({}) == [("type",), ("issuer_id",), ("establishment",), ("emission_point",), ("customer",)]


def test_a_body_that_is_no_object_is_refused_as_a_whole():
    assert locations([sample("invoice")]) == [()]


def prepare(request: CreateDocumentRequest):
    return documents.prepare(request, make_issuer(), "test", NOW)


@pytest.mark.parametrize("data, code, path", [
    # A part another type needs, and a needed part that is missing: the plugin's codes, as before.
    (sample("invoice") | {"shipment": sample("delivery_guide")["shipment"]}, "field_not_allowed", "shipment"),
    (sample("delivery_guide") | {"items": sample("invoice")["items"]}, "field_not_allowed", "items"),
    (with_path(sample("credit_note"), "reference", DELETE), "reference_required", "reference"),
    (sample("purchase_settlement") | {"items": []}, "missing_field", "items"),
])
def test_parts_that_do_not_fit_the_type_get_the_plugins_codes(data, code, path):
    with pytest.raises(Unprocessable) as caught:
        prepare(BODY.validate_python(data))
    assert (caught.value.code, caught.value.path) == (code, path)


@pytest.mark.parametrize("kind", DOCUMENT_TYPES)
def test_each_variants_example_is_a_valid_document(kind):
    [example] = VARIANTS[kind].model_json_schema()["examples"]
    assert type(BY_TYPE.validate_python(example)) is VARIANTS[kind]
    prepared = prepare(BODY.validate_python(example))
    assert prepared.type == kind
    if "payments" in example:
        assert sum(Decimal(p["amount"]) for p in example["payments"]) == prepared.totals["total"]



def test_the_apis_body_validator_holds_no_variant():
    """The variants only shape the documentation: the validators the API runs are the body's (as sent)
    and the neutral model's, so a cold function compiles none of them (the union's validator holds all
    six)."""
    api = repr(BODY.validator) + repr(TypeAdapter(DocumentBody).validator)
    union = repr(BY_TYPE.validator)
    for variant in VARIANTS.values():
        assert variant.__name__ in union
        assert variant.__name__ not in api
