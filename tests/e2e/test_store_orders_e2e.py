"""Store orders end to end over HTTP against the local stack: a store connected with
POST /v1/integrations delivers its signed webhooks to the integration's public inbound URL (no API
key; the store's HMAC signature over the raw body), and each paid order becomes one document however
often the store delivers it.

- Ecuador, Shopify `orders/paid` delivered twice: one invoice, authorized by the SRI simulator, and
  one `document.authorized` event for it at the account's endpoint, signed so the README's code
  verifies it. A forged signature is 401 and records nothing.
- Mexico, Shopify `orders/paid` then `refunds/create` (twice): the invoice and one CFDI de egreso
  related to it, both stamped by the PAC simulator; the order ends `credited` with both ids.
- Ecuador, WooCommerce `order.updated` without the buyer's cédula on an integration that does not
  invoice to the consumidor final: `not_invoiceable` with its reason until the integration allows it
  and the order is retried.

The local stack has no queue: each delivery is processed within the inbound request, so the orders
list shows the outcome as soon as the store's request is answered."""

from __future__ import annotations

import copy
import json
import time

import httpx
import pytest
from lxml import etree

from sello.stores import signature
from tests.e2e.conftest import LocalStack, wait_final
from tests.e2e.test_mx_documents_e2e import CFDI, download
from tests.helpers import load_event
from tests.unit.test_webhook_signing import readme_verify
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOPIFY_SECRET = "shpss_e2e_3b1f0c9e8d7a6c5b"
WOO_SECRET = "wc_e2e_9a8b7c6d5e4f3a2b"


def connect(client: httpx.Client, **settings) -> dict:
    """A store integration created over the API (201), as its owner creates it."""
    created = client.post("/v1/integrations", json=settings)
    assert created.status_code == 201, created.text
    integration = created.json()
    assert integration["inbound_path"] == f"/v1/integrations/{integration['id']}/inbound"
    assert "webhook_secret" not in integration
    return integration


def shopify_delivery(client: httpx.Client, integration: dict, payload: dict, topic: str,
                     secret: str = SHOPIFY_SECRET) -> httpx.Response:
    """POST of a Shopify webhook to the inbound URL, without the API key, signed as Shopify signs it:
    base64 HMAC-SHA256 of the raw body with the shared secret."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(integration["inbound_path"], content=body, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body), "X-Shopify-Shop-Domain": integration["store_domain"]})


def woocommerce_delivery(client: httpx.Client, integration: dict, payload: dict,
                         topic: str = "order.updated") -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(integration["inbound_path"], content=body, headers={
        "Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": signature(WOO_SECRET, body), "X-WC-Webhook-Source": "https://tienda.example/"})


def received(response: httpx.Response) -> None:
    assert (response.status_code, response.json()) == (200, {"status": "received"}), response.text


def orders(client: httpx.Client, integration: dict) -> dict[str, dict]:
    """The integration's orders by id, as GET /v1/integrations/{id}/orders lists them."""
    listed = client.get(f"/v1/integrations/{integration['id']}/orders")
    assert listed.status_code == 200, listed.text
    return {order["id"]: order for order in listed.json()["data"]}


def documents(client: httpx.Client) -> list[dict]:
    listed = client.get("/v1/documents")
    assert listed.status_code == 200, listed.text
    return listed.json()["data"]


@pytest.fixture(scope="module")
def mexico(local_stack: LocalStack) -> tuple[str, str]:
    """(test API key, issuer id): a Mexican issuer of this module's own account with a CSD."""
    key, issuer, _ = local_stack.new_mexican_issuer("Tienda Kemper E2E")
    return key, issuer["id"]


@pytest.fixture
def pac(local_stack: LocalStack):
    """The PAC simulator at its defaults (any issuing CA, as the stack starts it)."""
    admin = local_stack.pac_url + "/_sim/pac/"
    with httpx.Client(timeout=10, trust_env=False) as client:
        client.post(admin + "reset").raise_for_status()
        client.post(admin + "config", json={"accept_any_issuer": True}).raise_for_status()
    yield


def test_a_shopify_order_delivered_twice_is_one_authorized_invoice_and_one_event(local_stack):
    # A new account numbers from 1 with the demo RUC, which the simulator may already know from
    # another test: it starts afresh (as test_webhooks_e2e does).
    local_stack.sri("reset")
    key, issuer_id = local_stack.new_issuer("Café Andino E2E S.A.")
    order = load_event("stores/shopify_orders_paid_ec.json")
    order_id = str(order["id"])
    with Receiver(lifetime=120) as receiver, local_stack.client(key) as client, local_stack.client() as store:
        endpoint = client.post("/v1/webhook-endpoints",
                               json={"url": receiver.url, "enabled_events": ["document.authorized"]})
        assert endpoint.status_code == 201, endpoint.text
        endpoint = endpoint.json()
        integration = connect(client, kind="shopify", store_domain="cafe-andino.myshopify.com",
                              webhook_secret=SHOPIFY_SECRET, issuer_id=issuer_id, establishment="001",
                              emission_point="001", tax_id_field="ruc", allow_anonymous=False)

        forged = shopify_delivery(store, integration, order, "orders/paid", secret="not-the-store-secret")
        assert (forged.status_code, forged.json()["error"]["code"]) == (401, "invalid_signature")
        assert orders(client, integration) == {} and documents(client) == []

        received(shopify_delivery(store, integration, order, "orders/paid"))
        received(shopify_delivery(store, integration, order, "orders/paid"))  # Shopify's retry

        listed = orders(client, integration)
        assert list(listed) == [order_id]
        assert listed[order_id]["status"] == "invoiced" and listed[order_id]["reason"] is None
        [document_id] = listed[order_id]["document_ids"]
        assert [d["id"] for d in documents(client)] == [document_id]
        document = wait_final(client, document_id)
        assert document["status"] == "authorized", document
        assert (document["type"], document["customer"]["tax_id"], document["totals"]["total"]) == \
            ("invoice", "1790016919001", "37.15")

        events = receiver.wait_for(1, timeout=60)
        time.sleep(3)  # long enough for the poller to send a second event, if it were to send one
        assert len(receiver.received) == 1, [r.body for r in receiver.received]
        [delivery] = events
        assert readme_verify()(endpoint["secret"], delivery.headers, delivery.body)
        event = json.loads(delivery.body)
        assert (event["type"], event["data"]["id"], event["data"]["status"]) == \
            ("document.authorized", document_id, "authorized")
        listed_events = client.get("/v1/events")
        assert listed_events.status_code == 200, listed_events.text
        assert [e["id"] for e in listed_events.json()["data"]
                if e["type"] == "document.authorized" and e["data"]["id"] == document_id] == [event["id"]]

        # a late duplicate, after the invoice was authorized, changes nothing
        received(shopify_delivery(store, integration, order, "orders/paid"))
        assert orders(client, integration)[order_id]["document_ids"] == [document_id]
        assert len(documents(client)) == 1


def test_a_mexican_order_and_its_refund_become_an_invoice_and_one_related_credit_note(local_stack, mexico, pac):
    key, issuer_id = mexico
    order = load_event("stores/shopify_orders_paid_mx.json")
    refund = load_event("stores/shopify_refund_mx.json")
    order_id = str(order["id"])
    with local_stack.client(key) as client, local_stack.client() as store:
        integration = connect(client, kind="shopify", store_domain="kemper-tienda.myshopify.com",
                              webhook_secret=SHOPIFY_SECRET, issuer_id=issuer_id, branch="MATRIZ",
                              tax_id_field="rfc", tax_regime_field="regimen_fiscal", cfdi_use_field="uso_cfdi",
                              allow_anonymous=False)
        received(shopify_delivery(store, integration, order, "orders/paid"))
        listed = orders(client, integration)[order_id]
        assert listed["status"] == "invoiced", listed
        [invoice_id] = listed["document_ids"]
        invoice = wait_final(client, invoice_id)
        assert invoice["status"] == "authorized", invoice
        assert (invoice["type"], invoice["customer"]["tax_id"], invoice["totals"]["total"]) == \
            ("invoice", "XIA190128J61", "921.50")

        received(shopify_delivery(store, integration, refund, "refunds/create"))
        received(shopify_delivery(store, integration, refund, "refunds/create"))  # delivered again
        listed = orders(client, integration)[order_id]
        assert listed["status"] == "credited", listed
        assert listed["document_ids"][0] == invoice_id and len(listed["document_ids"]) == 2
        note_id = listed["document_ids"][1]
        note = wait_final(client, note_id)
        assert note["status"] == "authorized", note
        # the refund's transaction amount, to the cent
        assert (note["type"], note["totals"]["total"]) == ("credit_note", "179.10")
        xml = etree.fromstring(download(client, note_id, "xml"))
        assert xml.get("TipoDeComprobante") == "E"
        related = xml.find(f"{{{CFDI}}}CfdiRelacionados")
        assert related.get("TipoRelacion") == "01"
        assert [r.get("UUID") for r in related] == [invoice["authority"]["authorization_number"].upper()]
        assert [d["id"] for d in documents(client) if d["issuer_id"] == issuer_id and d["type"] == "credit_note"] \
            == [note_id]


def test_a_woocommerce_order_without_the_cedula_is_not_invoiceable_until_allowed_and_retried(local_stack):
    local_stack.sri("reset")
    key, issuer_id = local_stack.new_issuer("Chocolates Cuenca E2E S.A.")
    order = copy.deepcopy(load_event("stores/woocommerce_order_ec.json"))
    order["meta_data"] = [meta for meta in order["meta_data"] if meta["key"] != "_billing_cedula"]
    order_id = str(order["id"])
    with local_stack.client(key) as client, local_stack.client() as store:
        integration = connect(client, kind="woocommerce", store_domain="chocolates-cuenca.example",
                              webhook_secret=WOO_SECRET, issuer_id=issuer_id, establishment="001",
                              emission_point="001", tax_id_field="billing_cedula", allow_anonymous=False)
        # the unsigned ping WooCommerce sends when the webhook is created
        ping = store.post(integration["inbound_path"], content=b"webhook_id=12",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert ping.status_code == 200, ping.text
        received(woocommerce_delivery(store, integration, order))

        listed = orders(client, integration)[order_id]
        assert (listed["status"], listed["document_ids"]) == ("not_invoiceable", [])
        assert (listed["reason"]["code"], listed["reason"]["path"]) == ("customer_tax_id_missing", "billing_cedula")
        assert "consumidor final" in listed["reason"]["message"]
        assert documents(client) == []

        changed = client.patch(f"/v1/integrations/{integration['id']}", json={"allow_anonymous": True})
        assert changed.status_code == 200 and changed.json()["allow_anonymous"] is True, changed.text
        retried = client.post(f"/v1/integrations/{integration['id']}/orders/{order_id}/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json()["id"] == order_id

        listed = orders(client, integration)[order_id]
        assert listed["status"] == "invoiced" and listed["reason"] is None, listed
        [document_id] = listed["document_ids"]
        document = wait_final(client, document_id)
        assert document["status"] == "authorized", document
        assert (document["customer"]["tax_id"], document["totals"]["total"]) == ("9999999999999", "15.87")
        assert [d["id"] for d in documents(client)] == [document_id]

        # retrying an order already invoiced issues nothing and leaves it invoiced
        again = client.post(f"/v1/integrations/{integration['id']}/orders/{order_id}/retry")
        assert (again.status_code, again.json()["status"]) == (202, "invoiced"), again.text
        assert orders(client, integration)[order_id]["status"] == "invoiced"
        assert [d["id"] for d in documents(client)] == [document_id]

        unknown = client.post(f"/v1/integrations/{integration['id']}/orders/404404/retry")
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "store_order_not_found")
