"""What the API's address answers without an API key: its index (`GET /` and `GET /v1`: name,
version, links), one OpenAPI document for the whole API (`GET /openapi.json`, built from the routes of
every API function, the same routers their handlers resolve) and the Swagger UI that shows it
(`GET /docs`, with the Swagger UI assets Powertools ships: no CDN).

Links are built from the request, so they hold at an execute-api address (whose paths start with the
stage, `/dev/docs`), behind a custom domain and locally alike."""

from __future__ import annotations

import importlib
import json
from functools import cache
from html import escape
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from pydantic import Field

import sello
from sello import catalog
from sello.http import make_app, request_translator, route_responses
from sello.i18n import _l
from sello.models.common import Model
from sello.version import VERSION

TITLE = "Sello API"
SECURITY_SCHEME = "apiKey"
DESCRIPTION = (
    "Electronic invoicing API. Authenticate with an API key as a bearer token: "
    "`Authorization: Bearer sk_test_...`. Keys starting with `sk_test_` act on test data only, "
    "`sk_live_` keys on live data."
)
TAG_ORDER = ("API", "Accounts", "API keys", "Issuers", "Certificates", "Logos", "Documents", "Webhooks",
             "Store integrations")
_ASSETS = Path(swagger_ui.__file__).parent
_ASSET_TYPES = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}

router = Router()


# The index's texts for people, in the request's language (Accept-Language, else Spanish).
INDEX_DESCRIPTION = _l("Electronic invoicing API.")
INDEX_AUTHENTICATION = _l("Authorization: Bearer <API key> (sk_test_… or sk_live_…); sign-up (POST /v1/accounts) "
                          "and its confirmation need none.")


class ApiIndex(Model):
    name: str = Field(examples=[TITLE])
    version: str = Field(examples=[VERSION])
    description: str = Field(description="What the API is, in the request's language (Accept-Language, else "
                                         "Spanish).", examples=[str(INDEX_DESCRIPTION)])
    authentication: str = Field(description="How to send an API key, in the request's language.",
                                examples=[str(INDEX_AUTHENTICATION)])
    links: dict[str, str] = Field(description="Absolute URLs: `self`, `docs` (Swagger UI), `openapi` (this "
                                              "document), `sign_up`, `account`, `api_keys`, `issuers`, "
                                              "`documents`.",
                                  examples=[{name: f"https://api.example.com{path}" for name, path in (
                                      ("self", "/v1"), ("docs", "/docs"), ("openapi", "/openapi.json"),
                                      ("sign_up", "/v1/accounts"), ("account", "/v1/accounts/me"),
                                      ("api_keys", "/v1/api-keys"), ("issuers", "/v1/issuers"),
                                      ("documents", "/v1/documents"))}])


def base_path() -> str:
    """The part of the request's path before the route's own: `/<stage>` at an execute-api address
    (API Gateway puts the path the client asked for in requestContext.path), a custom domain's base
    path, or nothing."""
    event = router.current_event
    asked = (event.request_context.raw_event or {}).get("path") or event.path
    return asked[:-len(event.path)].rstrip("/") if asked.endswith(event.path) else ""


def base_url() -> str:
    headers = router.current_event.headers
    host = headers.get("host") or router.current_event.request_context.domain_name
    scheme = (headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    return f"{scheme}://{host}{base_path()}"


def _index() -> ApiIndex:
    base = base_url()
    links = {"self": base + router.current_event.path.rstrip("/"), "docs": f"{base}/docs",
             "openapi": f"{base}/openapi.json", "sign_up": f"{base}/v1/accounts",
             "account": f"{base}/v1/accounts/me", "api_keys": f"{base}/v1/api-keys",
             "issuers": f"{base}/v1/issuers", "documents": f"{base}/v1/documents"}
    t = request_translator(router.current_event)
    return ApiIndex(name=TITLE, version=VERSION, description=t.text(INDEX_DESCRIPTION),
                    authentication=t.text(INDEX_AUTHENTICATION), links=links)


_INDEX = {"summary": "The API's index", "tags": ["API"],
          "description": "The API's name and version, and links to its documentation and its collections. "
                         "No API key needed.",
          "responses": route_responses(200, "The index", public=True)}


@router.get("/", **_INDEX)
def root() -> ApiIndex:
    return _index()


@router.get("/v1", **_INDEX)
def v1() -> ApiIndex:
    return _index()


@router.get("/openapi.json", include_in_schema=False)
def openapi_document():
    document = json.loads(merged_spec())
    document["servers"] = [{"url": base_path() or "/"}]
    return Response(status_code=200, content_type="application/json", body=json.dumps(document))


@router.get("/docs", include_in_schema=False)
def docs():
    base = base_path()
    return Response(status_code=200, content_type="text/html; charset=utf-8",
                    body=swagger_html(f"{base}/openapi.json", f"{base}/docs"))


def _asset(name: str) -> Response:
    return Response(status_code=200, content_type=f"{_ASSET_TYPES[name]}; charset=utf-8",
                    body=swagger_asset(name).decode("utf-8"),
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs/swagger-ui-bundle.min.js", include_in_schema=False)
def swagger_script():
    return _asset("swagger-ui-bundle.min.js")


@router.get("/docs/swagger-ui.min.css", include_in_schema=False)
def swagger_style():
    return _asset("swagger-ui.min.css")


def _routers():
    """The router of every API function, this one included, imported as this module was: `api.<name>`
    in Lambda (functions/ is the code's root), `functions.api.<name>` locally."""
    for spec in catalog.API_FUNCTIONS:
        if not spec.handler.startswith("api."):  # the stores' inbound URL: no router, not part of the API
            continue
        module = spec.handler.rpartition(".")[0].rpartition(".")[2]
        yield importlib.import_module(f"{__package__}.{module}").router


@cache
def merged_spec() -> str:
    """The OpenAPI document as JSON. Public routes (no API key) are marked with an empty security list."""
    app = make_app()
    for routes in _routers():
        app.include_router(routes)
    document = json.loads(app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={SECURITY_SCHEME: HTTPBearer(description="An API key (sk_test_... or sk_live_...)")},
        security=[{SECURITY_SCHEME: []}],
        tags=list(TAG_ORDER),  # the order a newcomer meets them in
    ))
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and catalog.is_public(method, path):
                operation["security"] = []
    return json.dumps(document, indent=2)


def swagger_html(spec_url: str, assets_url: str) -> str:
    spec_url, assets_url = escape(spec_url, quote=True), escape(assets_url, quote=True)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE}</title>
  <link rel="stylesheet" href="{assets_url}/swagger-ui.min.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets_url}/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{spec_url}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
    }});
  </script>
</body>
</html>
"""


@cache
def swagger_asset(name: str) -> bytes:
    return (_ASSETS / name).read_bytes()


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
