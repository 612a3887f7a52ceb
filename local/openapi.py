"""One OpenAPI document for the whole API, built from the routes of every API function (the same
routers their handlers resolve), and the Swagger UI page that shows it, with the Swagger UI assets
Powertools ships (no CDN)."""

from __future__ import annotations

import importlib
import json
from functools import cache
from html import escape
from importlib.metadata import version
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from sello import catalog
from sello.http import make_app

TITLE = "Sello API"
SECURITY_SCHEME = "apiKey"
DESCRIPTION = (
    "Electronic invoicing API. Authenticate with an API key as a bearer token: "
    "`Authorization: Bearer sk_test_...`. Keys starting with `sk_test_` act on test data only, "
    "`sk_live_` keys on live data."
)
TAG_ORDER = ("Accounts", "API keys", "Issuers", "Certificates", "Logos", "Documents")
_ASSETS = Path(swagger_ui.__file__).parent


def merged_app() -> APIGatewayRestResolver:
    app = make_app()
    for spec in catalog.API_FUNCTIONS:
        module = importlib.import_module(f"functions.{spec.handler.rpartition('.')[0]}")
        app.include_router(module.router)
    return app


def merged_spec() -> str:
    """The OpenAPI document as JSON. Public routes (no API key) are marked with an empty security list."""
    document = json.loads(merged_app().get_openapi_json_schema(
        title=TITLE,
        version=version("sello"),
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
