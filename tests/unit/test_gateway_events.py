"""The local API Gateway adapter builds the REST proxy events API Gateway builds: fed to a Powertools
resolver (the same `make_app` the API functions use), routes see what they would see in AWS."""

from __future__ import annotations

import base64
import io
import json
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from werkzeug.test import Client

from local import resources
from local.gateway import (
    API_ID,
    MAX_EVENT_BYTES,
    MAX_PAYLOAD_BYTES,
    Gateway,
    encode_body,
    event_size,
    match,
    proxy_event,
    to_response,
)
from local.lambdas import LambdaContext
from sello import catalog
from sello.http import make_app, principal

GOOD, REVOKED, CRASH, GARBAGE = "sk_test_good", "sk_test_revoked", "sk_test_crash", "sk_test_garbage"
router = Router()


@router.get("/v1/issuers/<issuer_id>/certificate")
def certificate(issuer_id: str, tag: Annotated[list[str] | None, Query()] = None):
    event = router.current_event
    caller = principal(router)
    return {
        "issuer_id": issuer_id,
        "tag": tag,
        "query": event.query_string_parameters,
        "resource": event.resource,
        "path_parameters": event.path_parameters,
        "custom_header": event.headers.get("x-custom"),
        "caller": [caller.account_id, caller.environment, caller.key_id],
        "context": {k: event.request_context.raw_event[k]
                    for k in ("stage", "path", "resourcePath", "apiId")},
        "source_ip": event.request_context.identity.source_ip,
        "request_id": event.request_context.request_id,
    }


@router.put("/v1/issuers/<issuer_id>/certificate")
def upload(issuer_id: str):
    event = router.current_event
    return {"base64": event.is_base64_encoded, "body": event.body,
            "content_type": event.headers.get("content-type")}


@router.post("/v1/accounts")
def sign_up():
    event = router.current_event
    return Response(201, "application/json", json.dumps({
        "base64": event.is_base64_encoded, "json": event.json_body,
        "authorizer": event.request_context.raw_event.get("authorizer")}))


@router.get("/v1/accounts/cookies")
def cookies():
    return Response(200, "image/png", b"\x89PNG\x00\xff", headers={"Set-Cookie": ["a=1", "b=2"]})


api = make_app(router, multipart_paths=(r"/v1/issuers/[^/]+/certificate",))


class Functions:
    """Stands in for the deployed functions: a Powertools authorizer and the resolver above."""

    def __init__(self):
        self.authorizer_events: list[dict] = []
        self.called: list[str] = []

    def __call__(self, name: str, event: dict):
        self.called.append(name)
        if name != "authorizer":
            return api.resolve(event, LambdaContext(name))
        self.authorizer_events.append(event)
        token = event["headers"].get("Authorization", "").removeprefix("Bearer ")
        if token == GOOD:
            policy = APIGatewayAuthorizerResponse.from_route_arn(
                event["methodArn"], principal_id="acct_1",
                context={"account_id": "acct_1", "environment": "test", "key_id": "key_1"})
            policy.allow_all_routes()
            return policy.asdict()
        if token == REVOKED:
            policy = APIGatewayAuthorizerResponse.from_route_arn(
                event["methodArn"], principal_id="denied",
                context={"error_code": "api_key_revoked", "error_message": "This API key was revoked."})
            policy.deny_all_routes()
            return policy.asdict()
        if token == CRASH:
            raise KeyError("table")  # a bug, not a verdict on the key
        if token == GARBAGE:
            return {"allowed": True}  # not a policy
        raise Exception("Unauthorized")


@pytest.fixture
def functions():
    return Functions()


@pytest.fixture
def client(functions):
    return Client(Gateway(invoke=functions))


def test_proxy_resource_path_parameters_query_and_headers(client):
    response = client.get("/v1/issuers/iss_1/certificate?tag=a&tag=b&x=%C3%B1",
                          headers={"Authorization": f"Bearer {GOOD}", "X-Custom": "yes"})
    assert response.status_code == 200, response.text
    seen = response.json
    assert seen["issuer_id"] == "iss_1"
    assert seen["tag"] == ["a", "b"]  # multi-value query string
    assert seen["query"] == {"tag": "b", "x": "ñ"}  # single-value: the last one, decoded
    assert seen["resource"] == "/v1/issuers/{proxy+}"
    assert seen["path_parameters"] == {"proxy": "iss_1/certificate"}
    assert seen["custom_header"] == "yes"
    assert seen["caller"] == ["acct_1", "test", "key_1"]  # the authorizer context, via sello.http.principal
    assert seen["context"] == {"stage": "local", "path": "/v1/issuers/iss_1/certificate",
                               "resourcePath": "/v1/issuers/{proxy+}", "apiId": API_ID}
    assert seen["source_ip"] == "127.0.0.1"
    assert len(seen["request_id"]) == 36


def test_authorizer_gets_a_request_authorizer_event(client, functions):
    client.get("/v1/issuers/iss_1/certificate?tag=a", headers={"Authorization": f"Bearer {GOOD}"})
    [raw] = functions.authorizer_events
    event = APIGatewayAuthorizerRequestEvent(raw)
    assert event.get_type == "REQUEST"
    assert event.method_arn == (f"arn:aws:execute-api:{resources.REGION}:{resources.ACCOUNT}:{API_ID}"
                                "/local/GET/v1/issuers/iss_1/certificate")
    assert (event.parsed_arn.stage, event.parsed_arn.http_method, event.parsed_arn.resource) == (
        "local", "GET", "v1/issuers/iss_1/certificate")
    assert event.resource == "/v1/issuers/{proxy+}"
    assert event.query_string_parameters == {"tag": "a"}
    assert event.request_context.stage == "local"


def test_multipart_body_is_base64_like_a_binary_media_type(client):
    blob = bytes(range(256))  # not UTF-8
    response = client.put("/v1/issuers/iss_1/certificate", headers={"Authorization": f"Bearer {GOOD}"},
                          data={"password": "secret", "file": (io.BytesIO(blob), "cert.p12")})
    seen = response.json
    assert response.status_code == 200, response.text
    assert seen["base64"] is True
    assert seen["content_type"].startswith("multipart/form-data; boundary=")
    body = base64.b64decode(seen["body"])
    assert blob in body and b'name="password"' in body


def test_json_body_is_text_and_public_routes_skip_the_authorizer(client, functions):
    response = client.post("/v1/accounts", json={"company_name": "Acme", "email": "a@example.com"})
    assert response.status_code == 201, response.text
    assert response.json == {"base64": False, "json": {"company_name": "Acme", "email": "a@example.com"},
                             "authorizer": None}
    assert functions.authorizer_events == []


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 401, "unauthorized"),
    ({"Authorization": "Bearer sk_test_unknown"}, 401, "unauthorized"),
    ({"Authorization": f"Bearer {REVOKED}"}, 403, "api_key_revoked"),
    # API Gateway answers 500 when the authorizer fails or answers something that is not a policy
    ({"Authorization": f"Bearer {CRASH}"}, 500, "authorizer_failure"),
    ({"Authorization": f"Bearer {GARBAGE}"}, 500, "authorizer_failure"),
])
def test_authorizer_outcomes_become_api_gateway_errors(client, functions, headers, status, code):
    response = client.get("/v1/api-keys", headers=headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert "accounts" not in functions.called


@pytest.mark.parametrize(("headers", "response_type"), [
    ({}, "UNAUTHORIZED"),
    ({"Authorization": f"Bearer {CRASH}"}, "AUTHORIZER_FAILURE"),
])
def test_gateway_errors_are_the_catalog_ones_the_cdk_app_declares(client, headers, response_type):
    status, code, message = catalog.GATEWAY_ERRORS[response_type]
    response = client.get("/v1/api-keys", headers=headers)
    assert (response.status_code, response.json) == (status, {"error": {"code": code, "message": message}})


def test_unknown_route_answers_like_the_functions_resolver(client):
    missing = client.get("/v1/nothing")
    status, code, message = catalog.GATEWAY_ERRORS["MISSING_AUTHENTICATION_TOKEN"]
    assert (missing.status_code, missing.json) == (status, {"error": {"code": code, "message": message}})
    # a path inside a function's prefix that no route of it serves: the resolver's own 404
    inside = client.get("/v1/accounts/nothing/here", headers={"Authorization": f"Bearer {GOOD}"})
    assert (inside.status_code, inside.json) == (missing.status_code, missing.json)
    assert client.get("/not-api").json == missing.json


def test_payload_over_api_gateways_10_mb(client, functions):
    big = client.post("/v1/accounts", data=b"x" * (MAX_PAYLOAD_BYTES + 1), content_type="application/json")
    assert (big.status_code, big.json["error"]["code"]) == (413, "payload_too_large")
    assert functions.called == []


def test_event_over_lambdas_6_mb_never_reaches_the_function(client, functions):
    """4.8 MB of multipart is 6.4 MB once base64-encoded in the event: Lambda refuses it."""
    upload = {"file": (io.BytesIO(b"\x00" * (4_800_000)), "cert.p12"), "password": "x"}
    response = client.put("/v1/issuers/iss_1/certificate", headers={"Authorization": f"Bearer {GOOD}"},
                          data=upload)
    assert (response.status_code, response.json["error"]["code"]) == (413, "payload_too_large")
    assert functions.called == ["authorizer"]  # as in AWS: authorized first, then the invocation fails
    # A JSON body of the same size fits: 4.8 MB of text is well under 6 MB of event.
    fits = client.post("/v1/accounts", json={"name": "x" * 4_800_000})
    assert fits.status_code == 201, fits.text


def test_event_size_counts_the_utf8_bytes_lambda_receives():
    from werkzeug.test import EnvironBuilder

    def size(text: str) -> int:
        request = EnvironBuilder(path="/v1/accounts", method="POST", content_type="application/json",
                                 headers={"X-Amzn-Trace-Id": "fixed"}).get_request()
        event = proxy_event(request, match("/v1/accounts"), text.encode())
        event["requestContext"].update(requestId="r", extendedRequestId="e")
        return event_size(event)

    assert size("ñ" * 1000) - size("a" * 1000) == 1000  # two bytes each, not a six-character escape
    assert MAX_EVENT_BYTES == 6_291_456


def test_proxy_response_with_multi_value_headers_and_binary_body(client):
    headers = {"Authorization": f"Bearer {GOOD}", "Accept": "application/octet-stream, */*"}
    response = client.get("/v1/accounts/cookies", headers=headers)
    assert response.status_code == 200
    assert response.data == b"\x89PNG\x00\xff"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("accept", [None, "image/gif", "*/*, application/octet-stream"])
def test_base64_result_stays_text_unless_the_first_accept_type_is_binary(client, accept):
    headers = {"Authorization": f"Bearer {GOOD}", **({"Accept": accept} if accept else {})}
    response = client.get("/v1/accounts/cookies", headers=headers)
    assert response.status_code == 200
    assert response.data == base64.b64encode(b"\x89PNG\x00\xff")


def test_malformed_function_result_is_502():
    response = to_response({"body": "no status code"})
    assert response.status_code == 502
    assert json.loads(response.data)["error"]["code"] == catalog.GATEWAY_ERRORS["DEFAULT_5XX"][1]


@pytest.mark.parametrize(("content_type", "data", "expected"), [
    ("application/json; charset=utf-8", b'{"a": 1}', ('{"a": 1}', False)),
    ("text/plain", "ñ".encode(), ("ñ", False)),
    # not a binary media type: text, whatever the bytes (invalid UTF-8 does not survive)
    ("application/json", b"\xff\xfe", ("\ufffd\ufffd", False)),
    ("image/gif", b"abc", ("abc", False)),
    (None, b"abc", ("abc", False)),
    # the API's binary media types: base64
    ("application/x-pkcs12", b"abc", ("YWJj", True)),
    ("Application/Octet-Stream", b"abc", ("YWJj", True)),
    ("image/png", b"abc", ("YWJj", True)),
    ("image/jpeg", b"abc", ("YWJj", True)),
    ("multipart/form-data; boundary=x", b"abc", ("YWJj", True)),
    (None, b"", (None, False)),
])
def test_body_encoding(content_type, data, expected):
    assert encode_body(data, content_type) == expected


def test_every_declared_binary_media_type_is_base64_encoded():
    for media_type in catalog.BINARY_MEDIA_TYPES:
        assert encode_body(b"\x00", media_type) == ("AA==", True)


def test_routes_come_from_the_catalog():
    assert match("/v1/accounts").resource == "/v1/accounts"
    assert match("/v1/api-keys/key_1").path_parameters == {"proxy": "key_1"}
    assert match("/v1/accounts/me").resource == "/v1/accounts/{proxy+}"
    # A public route is a fixed resource of its own beside {proxy+}, as the CDK app declares it.
    assert match("/v1/accounts/confirm").resource == "/v1/accounts/confirm"
    assert match("/v1/accounts/confirm").path_parameters is None
    assert match("/v1/accountsx") is None
    assert match("/v2/accounts") is None
