"""POST /v1/integrations/{integration_id}/inbound: a store's webhook delivery. No API key: the store's
signature over the raw body authenticates it, so the body is read exactly as it came (base64 when API
Gateway passed it so) and never re-serialised. The answer is quick and bodiless apart from a short
JSON status, since the store only reads the status code (Shopify gives up after 5 s)."""

from __future__ import annotations

import base64
import json

from sello.services.store_orders import default_service

_ANSWERS = {200: "received", 400: "invalid_body", 401: "invalid_signature", 404: "integration_not_found"}


def handler(event, context):
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    integration_id = (event.get("pathParameters") or {}).get("integration_id", "")
    status = default_service().receive(integration_id, event.get("headers") or {}, raw)
    payload = {"status": "received"} if status == 200 else {"error": {"code": _ANSWERS[status]}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}
