"""The merged OpenAPI document: every route's tag is one the document lists, in the order newcomers meet them;
the documents body is a schema per document type, each with its required parts and an example."""

from __future__ import annotations

import json
from functools import cache

import pytest
from pydantic import TypeAdapter

from functions.api.docs import TAG_ORDER, merged_spec
from sello.models.document_request import VARIANTS, DocumentVariant
from sello.models.documents import DOCUMENT_TYPES


def test_every_operation_tag_is_listed_in_order():
    document = json.loads(merged_spec())
    used = {tag for operations in document["paths"].values() for op in operations.values() for tag in op["tags"]}
    assert [t["name"] for t in document["tags"]] == list(TAG_ORDER)
    assert used == set(TAG_ORDER)


def test_printable_text_fields_state_their_rule():
    schemas = json.loads(merged_spec())["components"]["schemas"]
    for model, field in (("SignUpRequest", "company_name"), ("CreateIssuerRequest", "legal_name")):
        pattern = schemas[model]["properties"][field]["pattern"]
        assert pattern == r"^[^\u0000-\u001f\u007f\ufffe\uffff]*$", (model, field)


# POST /v1/documents: one schema per document type --------------------------------------------------

# What every type's variant requires, then what each type needs besides (its own parts).
COMMON_REQUIRED = ["type", "issuer_id", "establishment", "emission_point", "customer"]
NEEDS = {"invoice": ["items"], "credit_note": ["items", "reference"], "debit_note": ["items", "reference"],
         "delivery_guide": ["shipment"], "withholding": ["withholding"], "purchase_settlement": ["items"]}
PARTS = {"items", "payments", "reference", "shipment", "withholding"}


@cache
def _document() -> dict:
    return json.loads(merged_spec())


def document_schemas() -> tuple[dict, dict]:
    """(the request body schema of POST /v1/documents, the document's component schemas)."""
    document = _document()
    body = document["paths"]["/v1/documents"]["post"]["requestBody"]
    return body["content"]["application/json"]["schema"], document["components"]["schemas"]


def resolve(ref: str, schemas: dict) -> dict:
    assert ref.startswith("#/components/schemas/"), ref
    return schemas[ref.removeprefix("#/components/schemas/")]


def test_the_documents_body_is_one_of_a_schema_per_type_discriminated_by_type():
    body, schemas = document_schemas()
    assert body["discriminator"]["propertyName"] == "type"
    mapping = body["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(DOCUMENT_TYPES) == sorted(NEEDS)
    assert sorted(option["$ref"] for option in body["oneOf"]) == sorted(mapping.values())
    for kind, ref in mapping.items():
        variant = resolve(ref, schemas)
        assert variant["properties"]["type"]["const"] == kind
        assert variant["additionalProperties"] is False


@pytest.mark.parametrize("kind", list(NEEDS))
def test_each_type_requires_its_parts_and_shows_no_other_types_parts(kind):
    body, schemas = document_schemas()
    variant = resolve(body["discriminator"]["mapping"][kind], schemas)
    assert variant["required"] == COMMON_REQUIRED + NEEDS[kind]
    shown = PARTS & set(variant["properties"])
    assert set(NEEDS[kind]) <= shown
    takes_payments = kind in ("invoice", "debit_note", "purchase_settlement")
    assert shown == set(NEEDS[kind]) | ({"payments"} if takes_payments else set())
    if "items" in NEEDS[kind]:
        assert variant["properties"]["items"]["minItems"] == 1
    assert variant["title"] and variant["description"]
    assert variant["properties"]["customer"]["description"]


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("kind", list(NEEDS))
def test_each_type_shows_an_example_of_its_own_that_the_api_takes(kind):
    body, schemas = document_schemas()
    variant = resolve(body["discriminator"]["mapping"][kind], schemas)
    [example] = variant["examples"]
    assert example["type"] == kind
    assert set(variant["required"]) <= set(example)
    assert not {"string", ""} & set(_strings(example))
    assert type(TypeAdapter(DocumentVariant).validate_python(example)) is VARIANTS[kind]
