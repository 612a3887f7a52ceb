"""Outgoing events over HTTP on the local stack: an endpoint registered through the API, a document
issued through the API, and a receiver on 127.0.0.1 (which stops by itself) that gets
`document.authorized`, signed so the README's code verifies it; a receiver that fails twice is
retried until it answers 2xx; and an event is delivered again on request, with the same id."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import issue, wait_final
from tests.e2e.test_ec_documents_e2e import document_body
from tests.unit.test_webhook_signing import readme_verify
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def register(client, url: str) -> dict:
    created = client.post("/v1/webhook-endpoints", json={"url": url, "enabled_events": ["document.authorized"]})
    assert created.status_code == 201, created.text
    return created.json()


def test_an_authorized_document_is_delivered_signed_retried_and_redelivered(local_stack):
    # Like SRI, the simulator knows the numbers of the demo RUC whoever sent them: a new account's first
    # number would be refused (45) after another test's, so it starts from what it knows by default.
    local_stack.sri("reset")
    key, issuer_id = local_stack.new_issuer("Eventos E2E S.A.")
    with Receiver(statuses=[500, 503, 204, 204], lifetime=180) as receiver, local_stack.client(key) as client:
        endpoint = register(client, receiver.url)
        document = wait_final(client, issue(client, document_body("invoice", issuer_id))["id"])
        assert document["status"] == "authorized"
        received = receiver.wait_for(3, timeout=90)
        assert len(received) >= 3, [r.headers for r in received]
        verify = readme_verify()
        for request in received[:3]:
            assert verify(endpoint["secret"], request.headers, request.body)
        event = json.loads(received[2].body)
        assert (event["type"], event["data"]["id"], event["data"]["status"], event["environment"]) == \
            ("document.authorized", document["id"], "authorized", "test")
        assert {r.headers["webhook-id"] for r in received[:3]} == {event["id"]}

        deliveries = client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()["data"]
        assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in deliveries] == \
            [(3, 204, True), (2, 503, False), (1, 500, False)]
        assert deliveries[1]["next_retry_at"] and deliveries[0].get("next_retry_at") is None

        listed = client.get("/v1/events").json()["data"]
        assert event["id"] in [e["id"] for e in listed]
        again = client.post(f"/v1/events/{event['id']}/redeliver")
        assert again.status_code == 202 and again.json()["endpoint_ids"] == [endpoint["id"]]
        received = receiver.wait_for(4, timeout=60)
        assert len(received) == 4 and received[3].headers["webhook-id"] == event["id"]
        assert verify(endpoint["secret"], received[3].headers, received[3].body)


def test_a_private_url_cannot_be_registered_over_http(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        refused = client.post("/v1/webhook-endpoints", json={"url": "https://169.254.169.254/latest/meta-data",
                                                             "enabled_events": ["document.failed"]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "webhook_url_not_allowed"
