"""Errors raised for real through the API functions are the ones the OpenAPI document lists for their
operation and status, with an example of the same shape. (tests/conftest.py checks the same of every
error any test gets from a function; this module shows that the check holds, and sees it fail.)"""

from __future__ import annotations

import json

import pytest
from sello import catalog
from sello.http import ErrorBody

from local.lambdas import context_for
from tests.conftest import documented_errors, undocumented_error
from tests.helpers import api_event, load_event, response_json

FUNCTIONS = {s.name: s for s in catalog.API_FUNCTIONS}
ACCOUNT = {"account_id": "acct_e0000000000000000000", "environment": "test", "key_id": "key_e"}
NO_ISSUER = "iss_00000000000000000000"


def answer(function: str, method: str, path: str, body=None, **kwargs) -> tuple[dict, dict]:
    from importlib import import_module

    event = api_event(method, path, body, principal=ACCOUNT, **kwargs)
    return event, import_module(f"functions.api.{function}").handler(event, context_for(FUNCTIONS[function]))


def documented(method: str, path: str, status: int) -> set[str]:
    return next(codes.get(str(status), set()) for pattern, verb, codes in documented_errors()
                if verb == method and pattern.match(path))


def invoice(**changes) -> dict:
    return {**load_event("documents/create_invoice.body.json"), **changes}


CASES = [
    ("issuers", "GET", f"/v1/issuers/{NO_ISSUER}", None, {}, 404, "issuer_not_found"),
    ("issuers", "GET", f"/v1/issuers/{NO_ISSUER}/logo", None, {}, 404, "issuer_not_found"),
    ("issuers", "GET", f"/v1/issuers/{NO_ISSUER}/certificate", None, {}, 404, "issuer_not_found"),
    ("issuers", "GET", "/v1/issuers", None, {"query": {"cursor": "not-a-cursor"}}, 400, "invalid_cursor"),
    ("issuers", "POST", "/v1/issuers", {**load_event("issuers/create_issuer.body.json"), "tax_id": "1799999980001"},
     {}, 422, "invalid_tax_id"),
    ("issuers", "POST", "/v1/issuers", {**load_event("issuers/create_issuer.body.json"), "country": "PE"}, {}, 422,
     "unsupported_country"),
    ("issuers", "PUT", f"/v1/issuers/{NO_ISSUER}/logo", b"GIF89a", {"headers": {"Content-Type": "image/gif"}}, 415,
     "unsupported_media_type"),
    ("documents", "GET", "/v1/documents/doc_00000000000000000000", None, {}, 404, "document_not_found"),
    ("documents", "GET", "/v1/documents/doc_00000000000000000000/pdf", None, {}, 404, "document_not_found"),
    ("documents", "GET", "/v1/documents", None, {"query": {"status": "lost"}}, 422, "invalid_status"),
    ("documents", "GET", "/v1/documents", None, {"query": {"from": "yesterday"}}, 422, "invalid_date"),
    ("documents", "POST", "/v1/documents", invoice(issuer_id=NO_ISSUER), {}, 404, "issuer_not_found"),
    ("documents", "POST", "/v1/documents", invoice(), {"headers": {"Idempotency-Key": "é"}}, 400,
     "invalid_idempotency_key"),
    ("documents", "POST", "/v1/documents", invoice(currency=7), {}, 422, "invalid_value"),
    ("documents", "POST", "/v1/documents", "{not json", {"headers": {"Content-Type": "application/json"}}, 400,
     "invalid_json"),
    ("accounts", "DELETE", "/v1/api-keys/key_nope", None, {}, 404, "account_not_found"),
    ("accounts", "POST", "/v1/accounts/confirm", {"email": "nadie@example.com", "code": "x" * 40}, {}, 422,
     "invalid_confirmation_code"),
]


@pytest.mark.parametrize("function, method, path, body, kwargs, status, code", CASES,
                         ids=[f"{c[1]} {c[2]} {c[6]}" for c in CASES])
def test_a_real_error_is_documented_for_its_operation_and_status(aws, function, method, path, body, kwargs,
                                                                 status, code):
    event, response = answer(function, method, path, body, **kwargs)
    error = response_json(response)["error"]
    assert (response["statusCode"], error["code"]) == (status, code), error
    assert code in documented(method, path, status)
    assert undocumented_error(event, response) is None
    ErrorBody.model_validate(response_json(response))  # the documented shape


def test_an_error_the_document_does_not_list_is_reported(aws):
    event, response = answer("issuers", "GET", f"/v1/issuers/{NO_ISSUER}/logo")
    assert response["statusCode"] == 404
    body = response_json(response)
    body["error"]["code"] = "document_not_found"  # not an error of this operation
    problem = undocumented_error(event, {**response, "body": json.dumps(body)})
    assert problem and "document_not_found" in problem and "/logo" in problem
    assert undocumented_error(event, {**response, "statusCode": 409}) is not None  # nor with this status
    assert undocumented_error({**event, "path": "/v1/nothing-here"}, response) is None  # not an API route
