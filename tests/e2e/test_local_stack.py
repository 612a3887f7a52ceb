"""The local stack over HTTP, as a newcomer uses it after `make up`."""

from __future__ import annotations

import re
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from sello import catalog

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CODE = re.compile(r"\b[A-Za-z0-9]{40}\b")


def _error_code(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]["code"]


def test_health(local_stack):
    with local_stack.client() as client:
        response = client.get("/_local/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_the_address_make_up_prints_answers_with_the_apis_index(local_stack, path):
    with local_stack.client() as client:  # no key
        index = client.get(path)
        assert index.status_code == 200 and index.headers["content-type"] == "application/json"
        body = index.json()
        assert body["name"] == "Sello API" and body["version"]
        links = body["links"]
        assert links["docs"] == f"{local_stack.api_url}/docs"
        assert links["openapi"] == f"{local_stack.api_url}/openapi.json"
        assert client.get(links["docs"]).status_code == 200
        assert client.get(links["openapi"]).json()["servers"] == [{"url": "/"}]
        for name in ("api_keys", "issuers", "documents"):
            assert client.get(links[name]).status_code == 401  # there, behind the API key
        # Other methods on these paths are protected like any route that is not public.
        assert client.post(path).status_code == 401


def test_openapi_is_one_spec_for_every_api_function(local_stack):
    with local_stack.client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Sello API"
    scheme = spec["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"apiKey": []}]
    paths = spec["paths"]
    for function in catalog.API_FUNCTIONS:
        for prefix in function.prefixes:
            assert any(p == prefix or p.startswith(prefix + "/") for p in paths), f"{prefix} not in the spec"
    assert paths["/v1/accounts"]["post"]["security"] == []  # sign-up needs no key
    assert paths["/v1/api-keys"]["get"].get("security") != []  # needs a key


def test_swagger_ui_is_served_without_a_cdn(local_stack):
    with local_stack.client() as client:
        page = client.get("/docs")
        script = client.get("/docs/swagger-ui-bundle.min.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '"/openapi.json"' in page.text
    assert "://" not in page.text  # every asset comes from the local stack
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text


def test_unknown_routes_are_json_404(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        for path in ("/v1/no-such-thing", "/nothing-here"):
            response = client.get(path)
            assert response.status_code == 404
            assert _error_code(response) == "route_not_found"


def test_protected_route_needs_a_valid_key(local_stack):
    with local_stack.client() as client:
        missing = client.get("/v1/api-keys")
    with local_stack.client("sk_test_" + "x" * 40) as client:
        bad = client.get("/v1/api-keys")
    for response in (missing, bad):
        assert response.status_code == 401
        assert response.json() == {
            "error": {"code": "unauthorized", "message": "A valid API key is required."}}


def _raw_get(api_url: str, path: str, header_lines: list[str]) -> int:
    """The status of a GET sent byte for byte (clients normalize or refuse odd header values)."""
    url = urlsplit(api_url)
    head = [f"GET {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close", *header_lines, "", ""]
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall("\r\n".join(head).encode())
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_authorization_header_variants_on_the_wire(local_stack):
    key = local_stack.api_key
    cases = {
        (f"authorization: bearer {key}",): 200,
        (f"Authorization: BEARER   {key}",): 200,
        (f"Authorization: Bearer {key}   ",): 200,
        (f"Authorization:\tBearer {key}\t",): 200,
        (f"Authorization: Bearer\t{key}",): 401,
        (f"Authorization: {key}",): 401,
        (f"Authorization: Bearer {key} {key}",): 401,
        (f"Authorization: Bearer {key}", f"Authorization: Bearer {key}"): 401,
    }
    seen = {lines: _raw_get(local_stack.api_url, "/v1/accounts/me", list(lines)) for lines in cases}
    assert seen == cases


def test_seeded_key_reaches_the_handler_with_the_authorizer_context(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        me = client.get("/v1/accounts/me")
        keys = client.get("/v1/api-keys")
    assert me.status_code == 200, me.text
    assert me.json()["account"]["id"] == local_stack.account["id"]
    assert me.json()["environment"] == "test"
    assert keys.status_code == 200, keys.text
    assert local_stack.api_key not in keys.text  # keys are listed without the secret


def test_payload_over_the_api_gateway_limit_is_413(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        response = client.post("/v1/api-keys", content=b"x" * (10 * 1024 * 1024 + 1),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert _error_code(response) == "payload_too_large"


def test_sign_up_email_lands_in_the_outbox_and_its_code_confirms_the_account(local_stack):
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    with local_stack.client() as client:
        created = client.post("/v1/accounts", json={"company_name": "E2E Company", "email": email})
        assert created.status_code == 202, created.text
        message = local_stack.mail_to(email)
        codes = CODE.findall(message["text"])
        assert len(codes) == 1, message["text"]
        raw = client.get(message["eml"])
        confirmed = client.post("/v1/accounts/confirm", json={"email": email, "code": codes[0]})

    assert raw.status_code == 200 and raw.headers["content-type"] == "message/rfc822"
    assert codes[0].encode() in raw.content
    eml_files = [p for p in local_stack.outbox_dir.glob("*.eml") if codes[0].encode() in p.read_bytes()]
    assert len(eml_files) == 1

    assert confirmed.status_code == 200, confirmed.text
    new_key = re.search(r"sk_test_[A-Za-z0-9]+", confirmed.text).group(0)
    with local_stack.client(new_key) as client:
        me = client.get("/v1/accounts/me")
    assert me.status_code == 200, me.text
    assert me.json()["account"]["email"] == email
