"""The merged OpenAPI document: every route's tag is one the document lists, in the order newcomers meet them;
the documents body is a schema per document type, each with its required parts and an example."""

from __future__ import annotations

import json
import re
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
    body = document["paths"]["/v1/documents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if body.get("discriminator", {}).get("propertyName") != "type":  # one union per country: Ecuador's
        body = next(option for option in body["oneOf"] if option.get("title") == "Ecuador")
    return body, document["components"]["schemas"]


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


# Every error of every operation: its codes, each with an example answer -------------------------

def operations():
    document = _document()
    return [(method, path, operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def _codes_named(description: str, known: set[str]) -> set[str]:
    return {word for word in re.findall(r"`([a-z0-9_]+)`", description) if word in known}


def _answered() -> set[tuple[str, int]]:
    """(code, status) of every error the API answers: what the package raises (read from its
    source), API Gateway's own answers, and the resolver's (sello.http)."""
    from sello.catalog import GATEWAY_ERRORS
    from tests.unit.test_error_examples import raised

    gateway = {(code, status) for status, code, _ in GATEWAY_ERRORS.values() if status and code[0] != "$"}
    resolver = {("invalid_json", 400), ("payload_too_large", 413), ("unsupported_media_type", 415),
                ("missing_field", 422), ("unknown_field", 422), ("invalid_value", 422), ("internal_error", 500)}
    return set(raised()) | gateway | resolver


@pytest.mark.parametrize("method, path, operation", operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_error_response_lists_its_codes_each_with_an_example(method, path, operation):
    from sello.http import ErrorBody, ErrorDetail

    answered = _answered()
    known = {code for code, _ in answered}
    errors = {status: response for status, response in operation["responses"].items() if status[0] in "45"}
    assert errors, "an operation with no error documented"
    for status, response in errors.items():
        content = response["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, status
        examples = content["examples"]
        assert examples, status
        for name, item in examples.items():
            body = ErrorBody.model_validate(item["value"])
            assert set(item["value"]["error"]) <= set(ErrorDetail.model_fields)
            assert name == item["summary"] == body.error.code, (status, name)
            assert (name, int(status)) in answered, f"{name} is never answered with {status}"
            assert "{" not in body.error.message, body.error.message
        named = _codes_named(response["description"], known)
        assert named == set(examples), (status, response["description"])


# Every success response and request body shows a value for each field ----------------------------

# What Swagger UI shows for a string it has no example for, by format (its sample generator).
_FORMAT_SAMPLES = {"date-time": "2026-03-02T15:00:00Z", "date": "2026-03-02", "email": "user@example.com",
                   "uri": "https://example.com/", "binary": "<file>"}


def swagger_sample(schema: dict, schemas: dict, where: str, gaps: list[str], depth: int = 0):
    """The value Swagger UI fills in for `schema` (an example, const, enum or default first; the first
    option of a union other than null), recording in `gaps` each string it would show as "string"."""
    if depth > 20:
        return None
    if "$ref" in schema:
        return swagger_sample(resolve(schema["$ref"], schemas), schemas, where, gaps, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("const", "default"):
        if schema.get(key) is not None:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return swagger_sample(options[0], schemas, where, gaps, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        sample = {name: swagger_sample(sub, schemas, f"{where}.{name}", gaps, depth + 1)
                  for name, sub in schema.get("properties", {}).items()}
        if isinstance(schema.get("additionalProperties"), dict) and not sample:
            gaps.append(f"{where} (additionalProp1)")
        return sample
    if kind == "array":
        return [swagger_sample(schema.get("items", {}), schemas, f"{where}.0", gaps, depth + 1)]
    if kind == "string":
        if schema.get("format") in _FORMAT_SAMPLES:
            return _FORMAT_SAMPLES[schema["format"]]
        gaps.append(where or "(the body)")
        return "string"
    return {"integer": 0, "number": 0, "boolean": True}.get(kind)


def test_swagger_sample_finds_a_field_without_example():
    gaps: list[str] = []
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string", "examples": ["x"]},
                                               "c": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    assert swagger_sample(schema, {}, "", gaps) == {"a": "string", "b": "x", "c": "string"}
    assert gaps == [".a", ".c"]


@pytest.mark.parametrize("method, path, operation", operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_success_response_and_request_body_has_an_example(method, path, operation):
    schemas = _document()["components"]["schemas"]
    bodies = [(f"request {media}", content) for media, content in
              (operation.get("requestBody") or {}).get("content", {}).items()]
    bodies += [(f"{status} {media}", content) for status, response in operation["responses"].items()
               if status[0] in "23" for media, content in (response.get("content") or {}).items()]
    for what, content in bodies:
        if content.get("examples") or "example" in content:
            continue
        gaps: list[str] = []
        sample = swagger_sample(content["schema"], schemas, "", gaps)
        assert gaps == [], (what, gaps)
        assert "string" not in _strings(sample), what


@pytest.mark.parametrize("path, filename, content_type", [
    ("/v1/documents/{document_id}/xml", "001-001-000000001.xml", "application/xml"),
    ("/v1/documents/{document_id}/pdf", "001-001-000000001.pdf", "application/pdf"),
    ("/v1/issuers/{issuer_id}/logo", "logo.png", "image/png"),
])
def test_each_download_shows_its_own_file_in_the_redirects_example(path, filename, content_type):
    from sello.models.common import FileDownload

    content = _document()["paths"][path]["get"]["responses"]["303"]["content"]["application/json"]
    example = FileDownload.model_validate(content["example"])
    assert (example.filename, example.content_type) == (filename, content_type)
    assert example.url.split("?")[0].endswith(filename if "logo" not in path else "/logo")
