"""The docs function in process: what the API's address answers without a key (its index, the
OpenAPI document, the Swagger UI), with links that hold at an execute-api address (behind the
stage's path) and behind a custom domain."""

from __future__ import annotations

import json
import tomllib

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.version import VERSION
from tests.conftest import REPO_ROOT
from tests.helpers import api_event, response_json

DOCS = next(s for s in catalog.API_FUNCTIONS if s.name == "docs")
HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"  # tests.helpers' API at stage "test"


def get(path: str, *, custom_domain: bool = False) -> dict:
    from functions.api import docs

    event = api_event("GET", path)
    if custom_domain:  # API Gateway reports the path as the client asked for it: no stage in it
        event["headers"]["Host"] = event["requestContext"]["domainName"] = "api.example.com"
        event["requestContext"]["path"] = path
    return docs.handler(event, context_for(DOCS))


def test_the_version_is_the_projects():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert VERSION == project["version"]


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_the_index_names_the_api_and_links_its_documentation_and_collections(path):
    response = get(path)
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    index = response_json(response)
    assert (index["name"], index["version"]) == ("Sello API", VERSION)
    assert "Bearer" in index["authentication"]
    base = f"https://{HOST}/test"
    assert index["links"] == {
        "self": f"{base}{path.rstrip('/')}", "docs": f"{base}/docs", "openapi": f"{base}/openapi.json",
        "sign_up": f"{base}/v1/accounts", "account": f"{base}/v1/accounts/me",
        "api_keys": f"{base}/v1/api-keys", "issuers": f"{base}/v1/issuers", "documents": f"{base}/v1/documents"}


def po_translations(language: str) -> dict[str, str]:
    """The sello catalog of `language` as its .po file holds it (msgid -> msgstr)."""
    from babel.messages.pofile import read_po

    with (REPO_ROOT / "layers/sello/locale" / language / "LC_MESSAGES/sello.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_the_index_speaks_the_requests_language_spanish_by_default():
    from functions.api.docs import INDEX_AUTHENTICATION, INDEX_DESCRIPTION

    def index(language: str | None) -> tuple[dict, str]:
        from functions.api import docs

        event = api_event("GET", "/v1", headers={"Accept-Language": language} if language else None)
        response = docs.handler(event, context_for(DOCS))
        return response_json(response), response["multiValueHeaders"]["Content-Language"][-1]

    spanish = po_translations("es")
    texts = {}
    for language in (None, "es-EC", "en-US,en;q=0.9", "fr"):
        body, said = index(language)
        texts[language] = (body["description"], body["authentication"], said)
    english = (INDEX_DESCRIPTION.msgid, INDEX_AUTHENTICATION.msgid, "en")
    es = (spanish[INDEX_DESCRIPTION.msgid], spanish[INDEX_AUTHENTICATION.msgid], "es")
    assert texts == {None: es, "es-EC": es, "en-US,en;q=0.9": english, "fr": es}
    assert es[0] != english[0] and es[1] != english[1] and all(es)
    assert es[0] == "API de facturación electrónica."
    assert "Bearer" in es[1] and "Bearer" in english[1]  # the header's syntax is not translated


def test_behind_a_custom_domain_the_links_have_no_stage():
    index = response_json(get("/v1", custom_domain=True))
    assert index["links"]["docs"] == "https://api.example.com/docs"
    assert index["links"]["documents"] == "https://api.example.com/v1/documents"


def test_the_index_routes_are_public_and_every_other_docs_route_too():
    for path in DOCS.paths:
        assert catalog.is_public("GET", path), path
        assert catalog.function_for_path(path) is DOCS, path
    assert not catalog.is_public("POST", "/v1")


def test_the_openapi_document_covers_every_function_and_serves_from_the_stage():
    response = get("/openapi.json")
    assert response["statusCode"] == 200
    document = response_json(response)
    assert document["info"]["version"] == VERSION
    assert document["servers"] == [{"url": "/test"}]
    for spec in catalog.API_FUNCTIONS:
        for prefix in spec.prefixes:
            assert any(p == prefix or p.startswith(prefix + "/") for p in document["paths"]), prefix
    for path in ("/", "/v1"):
        assert document["paths"][path]["get"]["security"] == []
    assert "/docs" not in document["paths"] and "/openapi.json" not in document["paths"]
    assert response_json(get("/openapi.json", custom_domain=True))["servers"] == [{"url": "/"}]


def test_the_swagger_ui_loads_its_assets_and_the_document_from_the_api_itself():
    page = get("/docs")
    assert page["statusCode"] == 200
    assert page["multiValueHeaders"]["Content-Type"] == ["text/html; charset=utf-8"]
    html = page["body"]
    assert 'url: "/test/openapi.json"' in html
    assert 'href="/test/docs/swagger-ui.min.css"' in html and 'src="/test/docs/swagger-ui-bundle.min.js"' in html
    assert "://" not in html  # nothing from a CDN
    script, style = get("/docs/swagger-ui-bundle.min.js"), get("/docs/swagger-ui.min.css")
    assert script["statusCode"] == style["statusCode"] == 200
    assert "SwaggerUIBundle" in script["body"] and not script["isBase64Encoded"]
    assert script["multiValueHeaders"]["Content-Type"] == ["text/javascript; charset=utf-8"]
    assert ".swagger-ui" in style["body"]


def test_an_unknown_path_of_the_function_is_the_gateways_404():
    response = get("/docs/other.js")
    assert (response["statusCode"], json.loads(response["body"])["error"]["code"]) == (404, "route_not_found")
