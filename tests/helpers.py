"""Builders for the events Lambda functions receive, and a stand-in country for workflow tests,
shared by the tests."""

from __future__ import annotations

import ast
import base64
import json
import sys
import time
import types
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.gateway import match

EVENTS = Path(__file__).resolve().parent.parent / "events"
STAGE = "test"
REGION = "us-east-1"
AWS_ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"

# The documented form is `Authorization: Bearer <key>`: the scheme in any case, one or more spaces,
# the key; whitespace around the value is ignored. Every other shape is a 401.
ACCEPTED_FORMS = {
    "lower-case scheme": "bearer {key}",
    "upper-case scheme": "BEARER {key}",
    "two spaces": "Bearer  {key}",
    "leading and trailing spaces": "  Bearer {key}  ",
    "surrounding tabs": "\tBearer {key}\t",
    "trailing newline": "Bearer {key}\n",
    "trailing CRLF": "Bearer {key}\r\n",
}
REFUSED_FORMS = {
    "no scheme": "{key}",
    "tab between scheme and key": "Bearer\t{key}",
    "newline between scheme and key": "Bearer\n{key}",
    "no separator": "Bearer{key}",
    "colon after scheme": "Bearer: {key}",
    "another scheme": "Token {key}",
    "two keys": "Bearer {key} {key}",
    "two keys with a comma": "Bearer {key}, Bearer {key}",
    "trailing text": "Bearer {key} x",
    # Two Authorization headers, as the local stack's HTTP server joins them.
    "two headers": "Bearer {key},Bearer {key}",
}


def load_event(name: str) -> dict:
    """A sample event or body from events/, e.g. load_event("accounts/sign_up.json")."""
    return json.loads((EVENTS / name).read_text())


def _resource(path: str) -> tuple[str, dict | None]:
    """The API Gateway resource a path reaches and its path parameters, routed as the local gateway
    routes it (a public route is a fixed resource; other paths are a prefix or {proxy+} below it)."""
    route = match(path)
    return (route.resource, route.path_parameters) if route else (path, None)


def authorizer_context(principal: Any) -> dict:
    """requestContext.authorizer as API Gateway passes on an Allow of our authorizer (values as strings)."""
    values = principal if isinstance(principal, dict) else {
        "account_id": principal.account_id, "environment": principal.environment, "key_id": principal.key_id}
    return {**{k: str(v) for k, v in values.items()}, "principalId": str(values["account_id"]),
            "integrationLatency": 0}


def api_event(method: str, path: str, body: Any = None, headers: dict | None = None, principal: Any = None,
              query: dict | None = None) -> dict:
    """A REST API (v1) Lambda proxy event. Dicts and lists are sent as JSON with its content type;
    bytes are base64-encoded; `principal` (a sello.http.Principal or a dict) becomes the authorizer
    context."""
    headers = dict(headers or {})
    is_base64 = False
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    elif isinstance(body, bytes):
        body, is_base64 = base64.b64encode(body).decode(), True
    headers.setdefault("Host", f"{API_ID}.execute-api.{REGION}.amazonaws.com")
    headers.setdefault("User-Agent", "pytest")
    resource, path_parameters = _resource(path)
    now = time.time()
    context = {
        "accountId": AWS_ACCOUNT,
        "apiId": API_ID,
        "domainName": headers["Host"],
        "httpMethod": method,
        "identity": {"sourceIp": "203.0.113.10", "userAgent": headers["User-Agent"], "accessKey": None,
                     "accountId": None, "caller": None, "user": None, "userArn": None},
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": "abc123",
        "resourcePath": resource,
        "stage": STAGE,
    }
    if principal is not None:
        context["authorizer"] = authorizer_context(principal)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def method_arn(method: str, path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{AWS_ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"


def authorizer_event(method: str, path: str, headers: dict | None = None) -> dict:
    """A REST API Lambda REQUEST authorizer event."""
    proxy = api_event(method, path, headers=headers)
    return {"type": "REQUEST", "methodArn": method_arn(method, path),
            **{k: proxy[k] for k in ("resource", "path", "httpMethod", "headers", "multiValueHeaders",
                                     "queryStringParameters", "multiValueQueryStringParameters",
                                     "pathParameters", "stageVariables", "requestContext")}}


def header(response: dict, name: str) -> str | None:
    """A header of a proxy result (Powertools answers REST events with multiValueHeaders)."""
    values = (response.get("multiValueHeaders") or {}).get(name)
    return values[-1] if values else None


def followed(response: dict, filename: str, content_type: str) -> bytes:
    """The file a download's redirect (a function's proxy result) leads to, after checking the
    redirect (303, Location, its JSON body, a short-lived SigV4 URL) and the file's headers; the
    emulator answers the presigned URL."""
    import requests
    from sello.settings import get_settings

    assert response["statusCode"] == 303, response
    location = header(response, "Location")
    assert header(response, "Cache-Control") == "no-store"
    body = json.loads(response["body"])
    assert (body["url"], body["filename"], body["content_type"]) == (location, filename, content_type)
    assert datetime.fromisoformat(body["expires_at"]).tzinfo is not None
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == [str(get_settings().download_url_ttl_seconds)]  # short-lived, signed (v4)
    file = requests.get(location, timeout=10)
    assert file.status_code == 200
    assert file.headers["Content-Type"] == content_type
    assert file.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    return file.content


def response_json(response: dict) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


class FakeCredentials:
    def load_signing_key(self, account_id: str, issuer_id: str, environment: str = "test"):
        return f"key-of-{issuer_id}", f"cert-of-{issuer_id}"


def only_countries(monkeypatch, *codes: str) -> None:
    """Registers only these of the supported countries (e.g. Ecuador alone, as before Mexico), until
    the test ends."""
    from sello import countries

    monkeypatch.setattr(countries, "_PLUGINS", {code: countries._PLUGINS[code] for code in codes})


def install_country(monkeypatch, plugin: Any, code: str = "ZZ") -> None:
    """Registers `plugin` as the country `code`, hands the sign task fake credentials and makes the
    waits between polls zero seconds (settings are re-read; the caller clears them again at the end)."""
    import functions.workflow.sign as sign_task
    from sello import countries
    from sello.settings import get_settings

    module = types.ModuleType(f"country_{code.lower()}")
    module.__path__ = []  # a package, so that its plugin and (empty) error examples import as a country's do
    plugin_module = types.ModuleType(f"{module.__name__}.plugin")
    plugin_module.plugin = plugin
    examples = types.ModuleType(f"{module.__name__}.error_examples")
    examples.TAX_ID_CODES, examples.DOCUMENT_CODES, examples.examples = (), (), lambda: ()
    for each in (module, plugin_module, examples):
        monkeypatch.setitem(sys.modules, each.__name__, each)
    monkeypatch.setitem(countries._PLUGINS, code, module.__name__)
    monkeypatch.setattr(sign_task, "credentials", FakeCredentials)
    monkeypatch.setenv("SELLO_POLL_FIRST_WAIT_SECONDS", "0")
    get_settings.cache_clear()


def parse_source(path: str | Path) -> ast.Module:
    """The module at `path` as an AST. CPython 3.11 keeps the depth counter of its AST conversion per
    interpreter rather than per thread, so a parse that runs while another thread compiles (a server
    thread of another test importing a module from source) may fail with a spurious SystemError
    ("AST constructor recursion depth mismatch"); the same parse then succeeds."""
    source = Path(path).read_text(encoding="utf-8")
    for _ in range(4):
        try:
            return ast.parse(source, str(path))
        except SystemError:
            time.sleep(0.05)
    return ast.parse(source, str(path))
