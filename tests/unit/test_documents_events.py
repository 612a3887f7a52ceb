"""The sample events in events/documents reach the documents function, cover its routes, and its
routes document their answers and the status filter's values."""

from __future__ import annotations

import json
import re

import pytest

from sello import catalog
from sello.models.documents import DOCUMENT_STATUSES
from tests.helpers import EVENTS, load_event

SAMPLES = sorted(p.name for p in (EVENTS / "documents").glob("*.json"))


def openapi_paths() -> dict:
    from functions.api.documents import app

    return json.loads(app.get_openapi_json_schema())["paths"]


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_reach_the_documents_function_with_an_authorizer_context(name):
    event = load_event(f"documents/{name}")
    assert catalog.function_for_path(event["path"]).name == "documents"
    assert not catalog.is_public(event["httpMethod"], event["path"])
    assert event["requestContext"]["authorizer"]["environment"] in ("test", "live")
    assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{event['path']}"
    assert event["requestContext"]["resourcePath"] == event["resource"]
    query = event["queryStringParameters"] or {}
    assert event["multiValueQueryStringParameters"] == ({k: [v] for k, v in query.items()} or None)


def test_there_is_a_sample_for_every_route_and_one_with_a_status_filter():
    routes = {(method.upper(), path) for path, operations in openapi_paths().items() for method in operations}
    samples = set()
    for name in SAMPLES:
        event = load_event(f"documents/{name}")
        samples.add((event["httpMethod"], re.sub(r"/doc_[a-z0-9]{20}$", "/{document_id}", event["path"])))
    assert samples == routes == {("GET", "/v1/documents"), ("GET", "/v1/documents/{document_id}")}
    filtered = [load_event(f"documents/{n}")["queryStringParameters"] for n in SAMPLES]
    assert any(q and q.get("status") in DOCUMENT_STATUSES for q in filtered)


def test_routes_document_their_errors_and_the_status_values():
    paths = openapi_paths()
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    listing, single = paths["/v1/documents"]["get"], paths["/v1/documents/{document_id}"]["get"]
    for operation in (listing, single):
        assert "requestBody" not in operation
        assert {"200", "401", "403", "422"} <= set(operation["responses"])
        for code, response in operation["responses"].items():
            if code[0] in "45":
                assert response["content"]["application/json"]["schema"] == error_ref, code
    assert "document_not_found" in single["responses"]["404"]["description"]
    assert "invalid_cursor" in listing["responses"]["400"]["description"]
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert status["in"] == "query" and status["required"] is False
    assert status["schema"]["enum"] == list(DOCUMENT_STATUSES)
