"""Store deliveries in, documents out.

`receive` is the inbound endpoint's whole job, quick enough for the store's timeout (Shopify: 5 s):
find the integration, check the store's signature over the raw body (401 `invalid_signature`, nothing
stored), record the order's payload as pending and queue it. `process` is the worker's: it issues the
order's invoice (and a credit note per refund) through DocumentService.create with the order's id in
the Idempotency-Key, and records the outcome on the order. Both the order's record (a document already
issued is not issued again) and the idempotency key (a delivery processed twice at once) keep a
duplicate delivery or a retry from issuing a second document."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from sello.countries import get_plugin
from sello.errors import SelloError
from sello.services.integrations import IntegrationService, store_settings
from sello.services.issuers import find_issuer
from sello.stores import (
    InvoiceRef,
    NotInvoiceable,
    credit_note_request,
    invoice_request,
    shopify,
    verify_signature,
    woocommerce,
)

logger = Logger(service="sello")

STORES = {"shopify": shopify, "woocommerce": woocommerce}


def idempotency_key(integration_id: str, order_id: str, refund_id: str | None = None) -> str:
    key = f"store:{integration_id}:order:{order_id}"
    return f"{key}:refund:{refund_id}" if refund_id else key


class StoreOrders:
    def __init__(self, integrations: IntegrationService, documents: Callable[[], Any],
                 enqueue: Callable[[dict[str, str]], None]):
        self.integrations = integrations
        self.documents = documents  # the DocumentService, made when first needed
        self.enqueue = enqueue

    def receive(self, integration_id: str, headers: Mapping[str, str], body: bytes) -> int:
        """The HTTP status to answer a store's delivery with: 200 when taken (or ignored: a topic Sello
        does not act on, WooCommerce's ping), 401 when the signature does not match, 404 for an
        unknown integration."""
        integration = self.integrations.get(integration_id)
        if integration is None:
            return 404
        store = STORES[integration["kind"]]
        headers = {key.lower(): value for key, value in headers.items()}
        if store is woocommerce and woocommerce.is_ping(body, headers):
            return 200
        if not verify_signature([self.integrations.secret(integration)], body, headers.get(store.SIGNATURE_HEADER)):
            logger.warning("store delivery with an invalid signature", integration_id=integration_id)
            return 401
        try:
            payload = json.loads(body)
        except ValueError:
            return 400
        target = store.classify(headers.get(store.TOPIC_HEADER, ""), payload) if isinstance(payload, dict) else None
        if target is None:
            return 200
        kind, order_id = target
        if kind == "refund":
            self.integrations.record_refund(integration_id, order_id, str(payload.get("id", "")), payload)
        else:
            self.integrations.record_order(integration_id, order_id, status="pending", payload=payload,
                                           keep_status=True)
        self.enqueue({"integration_id": integration_id, "order_id": order_id})
        return 200

    def process(self, message: Mapping[str, str]) -> None:
        """Issues what an order still lacks: its invoice, then a credit note per refund. Errors of the
        request (4xx) are recorded as the order's reason; others raise, for the queue to retry."""
        integration = self.integrations.get(message["integration_id"])
        if integration is None:
            return
        order = self.integrations.order(integration["id"], message["order_id"])
        if order is None or "payload" not in order:
            return
        try:
            if not order.get("invoice"):
                order = self._invoice(integration, order)
            order = self._refunds(integration, order)
            # also when nothing was missing (a retry, a late duplicate): the order is not left pending
            done = "credited" if order.get("credited") else "invoiced"
            if order["status"] != done:
                self.integrations.record_order(integration["id"], order["order_id"], status=done)
        except NotInvoiceable as exc:
            self._not_invoiceable(integration, order, exc.to_dict())
        except SelloError as exc:
            if exc.status >= 500:
                raise
            self._not_invoiceable(integration, order, {"code": exc.code, "message": exc.message,
                                                       "path": exc.path or ""})

    def _not_invoiceable(self, integration: Mapping[str, Any], order: Mapping[str, Any], reason: dict) -> None:
        logger.info("store order not invoiceable", integration_id=integration["id"], reason=reason["code"])
        self.integrations.record_order(integration["id"], order["order_id"], status="not_invoiceable",
                                       reason=reason)

    def _plugin(self, integration: Mapping[str, Any]) -> Any:
        issuer = find_issuer(self.integrations.issuers, integration["account_id"], integration["issuer_id"])
        return get_plugin(issuer.country)

    def _invoice(self, integration: Mapping[str, Any], order: Mapping[str, Any]) -> dict[str, Any]:
        settings = store_settings(integration)
        parsed = STORES[integration["kind"]].parse_order(json.loads(order["payload"]), settings)
        body = invoice_request(self._plugin(integration), parsed, settings)
        issued = self.documents().create(integration["account_id"], integration["environment"], body,
                                         idempotency_key=idempotency_key(integration["id"], parsed.id))
        document = issued.document
        invoice = {"document_id": document.id, "number": document.number or "",
                   "issue_date": (document.issue_date or date.today()).isoformat(), "customer": body["customer"]}
        logger.info("store order invoiced", integration_id=integration["id"], document_id=document.id)
        return self.integrations.record_order(integration["id"], order["order_id"], status="invoiced",
                                              invoice=invoice)

    def _refunds(self, integration: Mapping[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        """Issues a credit note for each refund not credited yet; the order's record as it is then."""
        settings = store_settings(integration)
        if integration["kind"] == "woocommerce":
            refunds = woocommerce.parse_refunds(json.loads(order["payload"]), settings)
        else:
            taxes_included = bool(json.loads(order["payload"]).get("taxes_included"))
            refunds = [shopify.parse_refund(json.loads(raw), settings, taxes_included=taxes_included)
                       for raw in (order.get("refunds") or {}).values()]
        credited = order.get("credited") or {}
        stored = order["invoice"]
        invoice = InvoiceRef(document_id=stored["document_id"], number=stored["number"],
                             issue_date=date.fromisoformat(stored["issue_date"]), customer=stored["customer"])
        for refund in refunds:
            if refund.id in credited:
                continue
            body = credit_note_request(self._plugin(integration), refund, invoice, settings)
            issued = self.documents().create(integration["account_id"], integration["environment"], body,
                                             idempotency_key=idempotency_key(integration["id"], order["order_id"],
                                                                             refund.id))
            order = self.integrations.record_credit(integration["id"], order["order_id"], refund.id,
                                                    issued.document.id)
        return order


def sqs_enqueue(queue_url: str) -> Callable[[dict[str, str]], None]:
    """Sends each order to the worker through the SQS queue."""
    from sello.adapters import aws

    def send(message: dict[str, str]) -> None:
        aws.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message, sort_keys=True))

    return send


def default_service() -> StoreOrders:
    """With the queue when the settings name one; without, each order is processed as it is received
    (the worker's work done in the same call), which keeps a stack without a queue correct, if slower."""
    from sello.services import documents
    from sello.services.integrations import default_service as integrations_service
    from sello.settings import get_settings

    queue_url = get_settings().store_orders_queue_url
    service = StoreOrders(integrations_service(), documents.default_service, lambda message: None)
    service.enqueue = sqs_enqueue(queue_url) if queue_url else service.process
    return service
