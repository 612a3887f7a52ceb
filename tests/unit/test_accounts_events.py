"""The sample events in events/accounts agree with the route table and with their sample bodies."""

from __future__ import annotations

import json
import re

import pytest

from local.gateway import match
from sello import catalog
from tests.helpers import EVENTS, load_event

PROXY_EVENTS = sorted(p.name for p in (EVENTS / "accounts").glob("*.json")
                      if not p.name.endswith(".body.json") and p.name != "authorizer_request.json")
BODIES = sorted(p.name for p in (EVENTS / "accounts").glob("*.body.json"))


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_proxy_events_reach_the_accounts_function_and_carry_an_authorizer_context_unless_public(name):
    event = load_event(f"accounts/{name}")
    route = match(event["path"])
    assert route.function.name == "accounts"
    assert (event["resource"], event["pathParameters"]) == (route.resource, route.path_parameters)
    assert event["requestContext"]["resourcePath"] == event["resource"]
    public = catalog.is_public(event["httpMethod"], event["path"])
    assert ("authorizer" in event["requestContext"]) is not public
    assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{event['path']}"


@pytest.mark.parametrize("name", BODIES)
def test_each_sample_body_is_the_body_of_its_sample_event(name):
    event = load_event(f"accounts/{name.replace('.body.json', '.json')}")
    assert event["headers"]["Content-Type"] == "application/json"
    assert json.loads(event["body"]) == load_event(f"accounts/{name}")


def test_there_is_a_sample_for_every_route():
    from functions.api.accounts import app

    paths = json.loads(app.get_openapi_json_schema())["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    samples = set()
    for name in PROXY_EVENTS:
        event = load_event(f"accounts/{name}")
        samples.add((event["httpMethod"], re.sub(r"/key_[a-z0-9]+", "/{key_id}", event["path"])))
    assert samples == routes


def test_every_route_documents_its_success_body_and_the_error_shape():
    from functions.api.accounts import app

    paths = json.loads(app.get_openapi_json_schema())["paths"]
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = [code for code in responses if code.startswith("2")]
            assert len(success) == 1, (method, path)
            assert responses[success[0]]["content"]["application/json"]["schema"], (method, path)
            errors = {code: r for code, r in responses.items() if code[0] in "45"}
            assert "422" in errors, (method, path)
            for code, response in errors.items():
                assert response["content"]["application/json"]["schema"] == error_ref, (method, path, code)
            assert ("401" in errors) is not catalog.is_public(method, path), (method, path)
            assert ("400" in errors) is ("requestBody" in operation), (method, path)
