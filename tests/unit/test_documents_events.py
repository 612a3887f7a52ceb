"""The sample events in events/documents reach the documents function, agree with the route table
and with their sample bodies, cover its routes, and its routes document their answers, the
Idempotency-Key header and the list filters' values."""

from __future__ import annotations

import json
import re

import pytest

from local.gateway import match
from sello import catalog
from sello.countries import get_plugin, supported_countries
from sello.models.documents import DOCUMENT_STATUSES, DOCUMENT_TYPES, LISTED_TYPES
from tests.helpers import EVENTS, load_event

PROXY_EVENTS = sorted(p.name for p in (EVENTS / "documents").glob("*.json")
                      if not p.name.endswith(".body.json"))
BODIES = sorted(p.name for p in (EVENTS / "documents").glob("*.body.json"))
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def openapi_paths() -> dict:
    from functions.api.documents import app

    return json.loads(app.get_openapi_json_schema())["paths"]


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_samples_reach_the_documents_function_with_an_authorizer_context(name):
    event = load_event(f"documents/{name}")
    route = match(event["path"])
    assert route.function.name == "documents"
    assert (event["resource"], event["pathParameters"]) == (route.resource, route.path_parameters)
    assert not catalog.is_public(event["httpMethod"], event["path"])
    assert event["requestContext"]["authorizer"]["environment"] in ("test", "live")
    assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{event['path']}"
    assert event["requestContext"]["resourcePath"] == event["resource"]
    assert event["requestContext"]["httpMethod"] == event["httpMethod"]
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    query = event["queryStringParameters"] or {}
    assert event["multiValueQueryStringParameters"] == ({k: [v] for k, v in query.items()} or None)


@pytest.mark.parametrize("name", BODIES)
def test_each_sample_body_is_the_body_of_its_sample_event(name):
    event = load_event(f"documents/{name.replace('.body.json', '.json')}")
    assert event["headers"]["Content-Type"] == "application/json"
    assert json.loads(event["body"]) == load_event(f"documents/{name}")


def test_there_is_a_sample_for_every_route_and_every_document_type():
    routes = {(method.upper(), path) for path, operations in openapi_paths().items() for method in operations}
    samples = set()
    for name in PROXY_EVENTS:
        event = load_event(f"documents/{name}")
        samples.add((event["httpMethod"], re.sub(r"/doc_[a-z0-9]{20}", "/{document_id}", event["path"])))
    assert samples == routes
    created = {json.loads(load_event(f"documents/{n}")["body"])["type"] for n in PROXY_EVENTS
               if n.startswith("create_")}
    # Every type of the neutral model, and those a country issues with a model of its own (Mexico's payment).
    issued = {kind for country in supported_countries() for kind in get_plugin(country).document_request_variants}
    assert created == set(DOCUMENT_TYPES) | issued == set(LISTED_TYPES)
    for name in PROXY_EVENTS:
        if name.startswith("create_"):
            assert load_event(f"documents/{name}")["headers"]["Idempotency-Key"]
    filtered = [load_event(f"documents/{n}")["queryStringParameters"] for n in PROXY_EVENTS]
    assert any(q and q.get("status") in DOCUMENT_STATUSES for q in filtered)


def test_every_route_documents_its_answers_and_the_error_shape():
    for path, operations in openapi_paths().items():
        for method, operation in operations.items():
            assert operation["summary"] and operation["tags"] == ["Documents"], (method, path)
            responses = operation["responses"]
            assert len([code for code in responses if code[0] in "23"]) >= 1, (method, path)  # or a redirect
            errors = {code: r for code, r in responses.items() if code[0] in "45"}
            assert {"401", "403", "422"} <= set(errors), (method, path)
            for code, response in errors.items():
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
            takes_cursor = method == "get" and path == "/v1/documents"
            assert ("400" in errors) is ("requestBody" in operation or takes_cursor), (method, path)


def test_the_routes_name_their_error_codes_and_media_types():
    paths = openapi_paths()
    create, listing = paths["/v1/documents"]["post"], paths["/v1/documents"]["get"]
    responses = create["responses"]
    assert {"200", "201"} <= set(responses)
    for status in ("200", "201"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/DocumentView"}
    for status, codes in (("400", ["invalid_idempotency_key"]), ("404", ["issuer_not_found"]),
                          ("409", ["idempotency_key_reused", "idempotency_key_in_use"]),
                          ("422", ["certificate_required", "certificate_expired"]),
                          ("503", ["workflow_unavailable"])):
        for code in codes:
            assert code in responses[status]["description"], (status, code)
    (key,) = [p for p in create["parameters"] if p["in"] == "header"]
    assert key["name"].lower() == "idempotency-key" and key["required"] is False and key["description"]

    parameters = {p["name"]: p for p in listing["parameters"]}
    assert {"status", "type", "from", "to", "customer", "limit", "cursor"} == set(parameters)
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    assert parameters["status"]["schema"]["enum"] == list(DOCUMENT_STATUSES)
    assert parameters["type"]["schema"]["enum"] == list(LISTED_TYPES)
    for code in ("invalid_status", "invalid_type", "invalid_customer", "invalid_date", "invalid_date_range"):
        assert code in listing["responses"]["422"]["description"]
    assert "invalid_cursor" in listing["responses"]["400"]["description"]

    for kind, media_type in (("xml", "application/xml"), ("pdf", "application/pdf")):
        responses = paths[f"/v1/documents/{{document_id}}/{kind}"]["get"]["responses"]
        assert not [code for code in responses if code.startswith("2")]  # a redirect, never the bytes
        assert responses["303"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/FileDownload"}
        assert media_type in responses["303"]["headers"]["Location"]["description"]
        for code in ("document_not_ready", "document_not_authorized"):
            assert code in responses["409"]["description"]
        assert "document_not_found" in responses["404"]["description"]

    email = paths["/v1/documents/{document_id}/email"]["post"]["responses"]
    assert email["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DocumentEmail"}
    for status, code in (("409", "document_not_ready"), ("422", "email_required"),
                         ("503", "email_unavailable")):
        assert code in email[status]["description"]
