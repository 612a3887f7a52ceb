"""Store deliveries on the emulator (moto): the inbound check of the store's signature, the order
recorded and queued, and the worker issuing exactly one document per order (and a credit note per
refund) however often the store delivers it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.ids import new_id
from sello.models.certificates import CertificateSummary
from sello.models.issuers import Issuer
from sello.services import documents, integrations
from sello.services.store_orders import StoreOrders
from sello.settings import get_settings
from sello.stores import signature
from tests.helpers import api_event, load_event

ACCOUNT = "acct_store0000000000000001"
SECRET = "shpss_3b1f0c9e8d7a6c5b"


@pytest.fixture
def queue() -> list[dict]:
    return []


@pytest.fixture
def orders(aws, queue) -> StoreOrders:
    return StoreOrders(integrations.default_service(), documents.default_service, queue.append)


@pytest.fixture
def integration(aws) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    body = load_event("issuers/create_issuer.body.json")
    issuer = Issuer(id=new_id("iss"), account_id=ACCOUNT, country="EC", created_at=now, updated_at=now,
                    certificate=CertificateSummary(serial="5BAA8268", subject="CN=ANA PEREZ",
                                                   valid_from=now - timedelta(days=400),
                                                   valid_to=now + timedelta(days=365), trusted=True),
                    **{k: v for k, v in body.items() if k != "country"})
    assert DynamoIssuersRepo(DynamoStore(get_settings().table_name)).create_issuer(issuer)
    created = integrations.default_service().create(ACCOUNT, "test", {
        "kind": "shopify", "store_domain": "cafe-andino.myshopify.com", "webhook_secret": SECRET,
        "issuer_id": issuer.id, "establishment": "001", "emission_point": "001", "tax_id_field": "ruc",
        "allow_anonymous": False})
    return created.model_dump()


def deliver(orders: StoreOrders, integration: dict, payload: dict, topic: str = "orders/paid",
            secret: str = SECRET) -> int:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature(secret, body),
               "X-Shopify-Shop-Domain": "cafe-andino.myshopify.com", "Content-Type": "application/json"}
    return orders.receive(integration["id"], headers, body)


def work(orders: StoreOrders, queue: list[dict]) -> None:
    while queue:
        orders.process(queue.pop(0))


def account_documents() -> list[dict]:
    return documents.default_service().list(ACCOUNT, "test").data


def test_an_invalid_signature_is_401_and_nothing_is_stored(orders, integration, queue):
    order = load_event("stores/shopify_orders_paid_ec.json")
    assert deliver(orders, integration, order, secret="not-the-secret") == 401
    assert queue == [] and integrations.default_service().order(integration["id"], str(order["id"])) is None
    assert orders.receive("int_00000000000000000000", {}, b"{}") == 404


def test_an_order_delivered_twice_issues_one_invoice(orders, integration, queue):
    order = load_event("stores/shopify_orders_paid_ec.json")
    assert deliver(orders, integration, order) == 200
    assert deliver(orders, integration, order) == 200  # Shopify's retry of the same delivery
    assert len(queue) == 2
    work(orders, queue)
    record = integrations.default_service().order(integration["id"], str(order["id"]))
    assert record["status"] == "invoiced" and len(integrations.order_documents(record)) == 1
    [document] = account_documents()
    assert [document.id] == integrations.order_documents(record) and document.totals.total == Decimal("37.15")
    assert deliver(orders, integration, order) == 200  # a late duplicate, after the invoice
    work(orders, queue)
    assert len(account_documents()) == 1
    assert integrations.default_service().order(integration["id"], str(order["id"]))["status"] == "invoiced"


def test_each_refund_becomes_one_credit_note_of_that_invoice(orders, integration, queue):
    order = load_event("stores/shopify_orders_paid_ec.json")
    assert deliver(orders, integration, order) == 200
    # the sample returns one unit of the first line; a second refund returns the second line
    first = load_event("stores/shopify_refund_ec.json")
    second = copy.deepcopy(first)
    second["id"] += 1
    second["refund_line_items"][0].update(line_item_id=order["line_items"][1]["id"], line_item=order["line_items"][1])
    for refund in (first, first, second):  # the first one delivered twice
        assert deliver(orders, integration, refund, topic="refunds/create") == 200
    work(orders, queue)
    record = integrations.default_service().order(integration["id"], str(order["id"]))
    invoice_id, *credit_ids = integrations.order_documents(record)
    assert record["status"] == "credited" and len(credit_ids) == 2 and set(record["credited"]) == {"930044556",
                                                                                              "930044557"}
    issued = {document.id: document for document in account_documents()}
    assert set(issued) == {invoice_id, *credit_ids}
    notes = [documents.default_service().get(ACCOUNT, "test", document_id) for document_id in credit_ids]
    assert {note.type for note in notes} == {"credit_note"}
    # each note names the invoice it corrects and returns one unit of its line: 6.75 less its half of the
    # line's 1.35 discount (0.68), plus 15 % VAT; 18.00 at 0 %
    assert [note.totals.total for note in notes] == [Decimal("6.98"), Decimal("18.00")]
    stored = DynamoDocumentsRepo(DynamoStore(get_settings().table_name))
    invoice = stored.get(ACCOUNT, invoice_id)
    assert [stored.get(ACCOUNT, note.id).content["reference"]["number"] for note in notes] == [invoice.number] * 2
    assert deliver(orders, integration, second, topic="refunds/create") == 200  # a late duplicate
    work(orders, queue)
    assert len(account_documents()) == 3


def test_an_order_without_the_tax_id_is_not_invoiceable_until_the_integration_allows_it(orders, integration, queue):
    order = copy.deepcopy(load_event("stores/shopify_orders_paid_ec.json"))
    order["note_attributes"] = []
    order["line_items"] = order["line_items"][1:]
    assert deliver(orders, integration, order) == 200
    work(orders, queue)
    service = integrations.default_service()
    [listed] = service.orders(ACCOUNT, "test", integration["id"]).data
    assert (listed.status, listed.reason.code, listed.reason.path) == ("not_invoiceable", "customer_tax_id_missing",
                                                                       "ruc")
    assert account_documents() == []
    service.update(ACCOUNT, "test", integration["id"], {"allow_anonymous": True})
    service.retry(ACCOUNT, "test", integration["id"], str(order["id"]))
    orders.process({"integration_id": integration["id"], "order_id": str(order["id"])})
    [listed] = service.orders(ACCOUNT, "test", integration["id"]).data
    assert listed.status == "invoiced" and listed.reason is None and len(account_documents()) == 1


def test_retrying_an_invoiced_order_leaves_it_invoiced(orders, integration, queue):
    order = load_event("stores/shopify_orders_paid_ec.json")
    assert deliver(orders, integration, order) == 200
    work(orders, queue)
    service = integrations.default_service()
    _, retried = service.retry(ACCOUNT, "test", integration["id"], str(order["id"]))
    assert retried["status"] == "invoiced"
    orders.process({"integration_id": integration["id"], "order_id": str(order["id"])})
    [listed] = service.orders(ACCOUNT, "test", integration["id"]).data
    assert (listed.status, len(listed.document_ids)) == ("invoiced", 1) and len(account_documents()) == 1


def test_other_topics_and_bad_json_are_not_queued(orders, integration, queue):
    assert deliver(orders, integration, {"id": 1}, topic="orders/create") == 200
    body = b"not json"
    assert orders.receive(integration["id"], {"X-Shopify-Hmac-Sha256": signature(SECRET, body)}, body) == 400
    assert queue == []


def test_the_inbound_function_and_the_worker(aws, integration, monkeypatch):
    """The inbound function answers from the raw body (base64 as API Gateway passes binary bodies); with
    a queue it only queues, and the worker's SQS batch issues the document."""
    from functions.integrations import inbound, worker
    from sello.adapters import aws as aws_clients

    sqs = aws_clients.client("sqs")
    queue_url = sqs.create_queue(QueueName="sello-test-store-orders")["QueueUrl"]
    monkeypatch.setenv("SELLO_STORE_ORDERS_QUEUE_URL", queue_url)
    get_settings.cache_clear()
    order = load_event("stores/shopify_orders_paid_ec.json")
    body = json.dumps(order, ensure_ascii=False).encode()
    path = f"/v1/integrations/{integration['id']}/inbound"
    event = api_event("POST", path, body, headers={"X-Shopify-Topic": "orders/paid",
                                                   "X-Shopify-Hmac-Sha256": signature(SECRET, body)})
    event["pathParameters"] = {"integration_id": integration["id"]}
    answer = inbound.handler(event, None)
    assert answer["statusCode"] == 200 and account_documents() == []
    forged = {**event, "headers": {**event["headers"], "X-Shopify-Hmac-Sha256": signature("forged", body)}}
    refused = inbound.handler(forged, None)
    error = json.loads(refused["body"])["error"]
    # the API's usual error: a stable code and a message, in Spanish unless the store asks otherwise
    assert (refused["statusCode"], error["code"]) == (401, "invalid_signature")
    assert error["message"].startswith("La firma no corresponde")
    english = inbound.handler({**forged, "headers": {**forged["headers"], "Accept-Language": "en"}}, None)
    assert json.loads(english["body"])["error"]["message"].startswith("The signature does not match")
    unknown = {**event, "pathParameters": {"integration_id": "int_00000000000000000000"}}
    assert json.loads(inbound.handler(unknown, None)["body"])["error"] == {
        "code": "integration_not_found", "message": "No hay ninguna integración con este id.",
        "path": "integration_id"}
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    batch = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]}
    assert worker.handler(batch, None) == {"batchItemFailures": []}
    assert worker.handler(batch, None) == {"batchItemFailures": []}  # SQS delivers at least once
    assert len(account_documents()) == 1
    assert worker.handler({"Records": [{"messageId": "m-1", "body": "{}"}]}, None) == \
        {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    get_settings.cache_clear()


def test_the_inbound_url_over_http_without_an_api_key(aws, integration, monkeypatch):
    """POST /v1/integrations/{id}/inbound through the local API Gateway: no Authorization header, the
    inbound function checks the store's signature over the bytes as sent (a JSON body reaches it as
    text, unchanged), records the order and queues it; a forged signature is 401. The integration's
    other routes below the same {integration_id} stay with the integrations function and its key."""
    from werkzeug.test import Client

    from local.gateway import Gateway
    from sello.adapters import aws as aws_clients
    from sello.services.accounts import seed_account

    sqs = aws_clients.client("sqs")
    queue_url = sqs.create_queue(QueueName="sello-test-store-orders")["QueueUrl"]
    monkeypatch.setenv("SELLO_STORE_ORDERS_QUEUE_URL", queue_url)
    get_settings.cache_clear()
    client = Client(Gateway())
    order = load_event("stores/shopify_orders_paid_ec.json")
    # as Shopify sends it: its own spacing and non-ASCII text, which a re-serialised body would not match
    body = json.dumps(order, ensure_ascii=False, indent=1).encode()
    path = f"/v1/integrations/{integration['id']}/inbound"

    def post(secret: str):
        return client.post(path, data=body, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Hmac-Sha256": signature(secret, body)})

    forged = post("forged")
    assert (forged.status_code, forged.json["error"]["code"]) == (401, "invalid_signature")
    assert integrations.default_service().order(integration["id"], str(order["id"])) is None
    answer = post(SECRET)
    assert (answer.status_code, answer.json) == (200, {"status": "received"})
    recorded = integrations.default_service().order(integration["id"], str(order["id"]))
    assert recorded["status"] == "pending" and json.loads(recorded["payload"]) == order
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [
        {"integration_id": integration["id"], "order_id": str(order["id"])}]

    # only POST is public there; the rest of /v1/integrations/{id} needs a key and reaches its function
    assert client.get(path).json["error"]["code"] == "route_not_found"
    assert client.get(f"/v1/integrations/{integration['id']}/orders").status_code == 401
    key = seed_account("Comercial Andina S.A.", "ana.torres@example.com")[1]
    other = client.get(f"/v1/integrations/{integration['id']}/orders", headers={"Authorization": f"Bearer {key}"})
    assert (other.status_code, other.json["error"]["code"]) == (404, "integration_not_found")  # another account's
    get_settings.cache_clear()
