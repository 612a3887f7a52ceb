"""POST /v1/integrations/{integration_id}/inbound: a store's webhook delivery. No API key: the store's
signature over the raw body authenticates it, so the body is read exactly as it came (base64 when API
Gateway passed it so) and never re-serialised. The answer is quick and short, a JSON status or the
API's usual error (code, message in the request's language, Spanish by default, and path), since the
store reads the status code (Shopify gives up after 5 s) and a person may read its delivery log."""

from __future__ import annotations

import base64
import json

import sello
from sello.errors import BadRequest, SelloError, Unauthorized
from sello.i18n import _l, negotiate, translator
from sello.services.integrations import integration_not_found
from sello.services.store_orders import default_service


def _error(status: int) -> SelloError:
    if status == 400:
        return BadRequest(_l("The body is not JSON; the store sends its webhooks as JSON."), code="invalid_body",
                          path="body")
    if status == 401:
        return Unauthorized(_l("The signature does not match the body and this integration's secret: give Sello "
                               "the secret the store signs its webhooks with (webhook_secret)."),
                            code="invalid_signature")
    return integration_not_found()


def handler(event, context):
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = event.get("headers") or {}
    integration_id = (event.get("pathParameters") or {}).get("integration_id", "")
    status = default_service().receive(integration_id, headers, raw)
    if status == 200:
        payload = {"status": "received"}
    else:
        language = negotiate(next((v for k, v in headers.items() if k.lower() == "accept-language"), None))
        payload = {"error": _error(status).to_dict(translator(language))}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(payload, ensure_ascii=False)}


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
