"""Webhook endpoints through the real handler (REST proxy events, DynamoDB emulated by moto): the
secret shown once, scoping by account and environment, changes, deletion, the secret's roll and the
URL rules at registration."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from local.lambdas import context_for
from sello import catalog, webhook_signing
from tests.helpers import api_event, response_json

WEBHOOKS = next(s for s in catalog.API_FUNCTIONS if s.name == "webhooks")
TEST = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
LIVE = {**TEST, "environment": "live"}
OTHER = {"account_id": "acct_b0000000000000000000", "environment": "test", "key_id": "key_b"}
URL = "https://93.184.216.34/sello/events"  # a public address: no DNS needed
BODY = {"url": URL, "enabled_events": ["document.authorized", "document.rejected"], "description": "Tienda"}

pytestmark = pytest.mark.usefixtures("aws")


def request(method: str, path: str, body=None, principal: dict = TEST, query: dict | None = None
            ) -> tuple[int, dict | None]:
    from functions.api import webhooks

    response = webhooks.handler(api_event(method, path, body, principal=principal, query=query),
                                context_for(WEBHOOKS))
    return response["statusCode"], response_json(response)


def create(body=BODY, principal=TEST) -> dict:
    status, endpoint = request("POST", "/v1/webhook-endpoints", body, principal)
    assert status == 201, endpoint
    return endpoint


def test_the_secret_is_shown_at_creation_only():
    endpoint = create()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and endpoint["secret_hint"] == webhook_signing.secret_hint(secret)
    assert (endpoint["url"], endpoint["enabled_events"], endpoint["status"], endpoint["environment"]) == \
        (URL, BODY["enabled_events"], "enabled", "test")
    status, shown = request("GET", f"/v1/webhook-endpoints/{endpoint['id']}")
    assert status == 200 and "secret" not in shown and shown["secret_hint"] == endpoint["secret_hint"]
    status, listed = request("GET", "/v1/webhook-endpoints")
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]] and "secret" not in listed["data"][0]


def test_endpoints_belong_to_one_account_and_environment():
    endpoint = create()
    for principal in (LIVE, OTHER):
        status, error = request("GET", f"/v1/webhook-endpoints/{endpoint['id']}", principal=principal)
        assert (status, error["error"]["code"]) == (404, "webhook_endpoint_not_found")
        assert request("GET", "/v1/webhook-endpoints", principal=principal)[1]["data"] == []
        status, _ = request("DELETE", f"/v1/webhook-endpoints/{endpoint['id']}", principal=principal)
        assert status == 404
    assert request("GET", f"/v1/webhook-endpoints/{endpoint['id']}")[0] == 200


def test_update_changes_only_what_is_sent_and_disables():
    endpoint = create()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    status, changed = request("PATCH", path, {"enabled_events": ["certificate.expiring"], "disabled": True})
    assert status == 200, changed
    assert (changed["enabled_events"], changed["status"], changed["url"], changed["description"]) == \
        (["certificate.expiring"], "disabled", URL, "Tienda")
    status, changed = request("PATCH", path, {"disabled": False, "url": "https://[2606:4700::6810:84e5]/in"})
    assert (status, changed["status"], changed["url"]) == (200, "enabled", "https://[2606:4700::6810:84e5]/in")
    assert request("GET", path)[1] == changed


def test_delete():
    endpoint = create()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    status, _ = request("DELETE", path)
    assert status == 204
    assert request("GET", path)[0] == 404
    assert request("DELETE", path)[0] == 404


@pytest.mark.parametrize("url", ["http://93.184.216.34/in", "https://127.0.0.1/in", "https://10.0.0.5/in",
                                 "https://169.254.169.254/latest/meta-data/", "https://[::ffff:a00:1]/in",
                                 "https://u:p@93.184.216.34/in"])
def test_unsafe_urls_are_refused_at_registration_and_update(url):
    status, error = request("POST", "/v1/webhook-endpoints", {**BODY, "url": url})
    assert (status, error["error"]["code"], error["error"]["path"]) == (422, "webhook_url_not_allowed", "url")
    assert error["error"]["message"].startswith(("La URL", "El host"))  # Spanish by default
    endpoint = create()
    status, error = request("PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"url": url})
    assert (status, error["error"]["code"]) == (422, "webhook_url_not_allowed")
    assert request("GET", f"/v1/webhook-endpoints/{endpoint['id']}")[1]["url"] == URL


def test_unknown_event_types_and_fields_are_refused():
    status, error = request("POST", "/v1/webhook-endpoints", {**BODY, "enabled_events": ["document.created"]})
    assert status == 422 and error["error"]["details"][0]["path"] == "enabled_events.0"
    status, error = request("POST", "/v1/webhook-endpoints", {**BODY, "secret": "whsec_mine"})
    assert status == 422 and error["error"]["details"][0]["code"] == "unknown_field"
    status, error = request("POST", "/v1/webhook-endpoints", {**BODY, "enabled_events": []})
    assert status == 422


def test_an_environment_holds_a_limited_number_of_endpoints():
    from sello.models.webhooks import MAX_ENDPOINTS

    for _ in range(MAX_ENDPOINTS):
        create()
    status, error = request("POST", "/v1/webhook-endpoints", BODY)
    assert (status, error["error"]["code"]) == (409, "too_many_webhook_endpoints")
    create(principal=LIVE)  # the other environment has its own


def test_roll_secret_signs_with_both_secrets_for_a_day():
    from datetime import timedelta

    from sello.adapters.dynamo import DynamoStore
    from sello.adapters.webhooks_repo import DynamoWebhooksRepo
    from sello.ids import utcnow
    from sello.settings import get_settings

    endpoint = create()
    status, rolled = request("POST", f"/v1/webhook-endpoints/{endpoint['id']}/roll-secret")
    assert status == 200 and rolled["secret"] != endpoint["secret"] and "previous_secret_expires_at" in rolled
    stored = DynamoWebhooksRepo(DynamoStore(get_settings().table_name)).get_endpoint(
        TEST["account_id"], "test", endpoint["id"])
    now = utcnow()
    secrets = stored.signing_secrets(now)
    assert secrets == [rolled["secret"], endpoint["secret"]]
    body = json.dumps({"type": "document.authorized"}).encode()
    headers = webhook_signing.signed_headers(secrets, "evt_1", int(now.timestamp()), body)
    for secret in (endpoint["secret"], rolled["secret"]):
        assert Webhook(secret).verify(body, headers)
    assert stored.signing_secrets(now + timedelta(hours=24, seconds=1)) == [rolled["secret"]]
    status, shown = request("GET", f"/v1/webhook-endpoints/{endpoint['id']}")
    assert "secret" not in shown and shown["secret_hint"] == rolled["secret_hint"]
