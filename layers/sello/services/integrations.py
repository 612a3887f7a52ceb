"""Store integrations: an account connects a Shopify or WooCommerce store to one of its issuers, and
each order the store reports is recorded with what became of it (invoiced, credited, not invoiceable
with its reason, or pending).

Items (single table):

| item        | pk                 | sk                | gsi1pk                                       |
|-------------|--------------------|-------------------|----------------------------------------------|
| integration | INTEGRATION#<id>   | INTEGRATION       | ACCOUNT#<account>#INTEGRATIONS#<environment> |
| order       | INTEGRATION#<id>   | ORDER#<order id>  |                                              |

An integration is keyed by its own id because the store's deliveries name only that (the inbound URL
carries no API key); the account's list goes through the index. An integration belongs to the
environment of the key that connected it (its orders become documents of that environment), and every
read or change on behalf of a caller checks the account and the environment, so another account's
integration, or one of the other environment, is simply not found. The store's webhook secret
is sealed with KMS (bound to the integration and account) and never returned or logged."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from sello.adapters.dynamo import PK, SK, DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.kms import KmsKeystore, Sealed, wipe
from sello.table import TABLE
from sello.countries import get_plugin
from sello.errors import NotFound, Unprocessable
from sello.i18n import _l
from sello.ids import is_id, iso, new_id, utcnow
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.integrations import (
    CreateIntegrationRequest,
    IntegrationList,
    IntegrationView,
    StoreOrderList,
    StoreOrderView,
    UpdateIntegrationRequest,
)
from sello.services.issuers import find_issuer
from sello.settings import get_settings
from sello.stores import StoreSettings
from sello.validation import validate_body

logger = Logger(service="sello")

GSI_PK, GSI_SK = TABLE.gsi_partition_key, TABLE.gsi_sort_key
INTEGRATION_SK = "INTEGRATION"
# The settings fields as stored, and their defaults when the body leaves them out.
DEFAULTS: dict[str, Any] = {"establishment": None, "emission_point": None, "branch": None,
                            "tax_id_field": "tax_id", "tax_regime_field": "tax_regime",
                            "cfdi_use_field": "cfdi_use", "allow_anonymous": True, "default_vat_rate": None,
                            "codes": {}}


def integration_pk(integration_id: str) -> str:
    return f"INTEGRATION#{integration_id}"


def integrations_index(account_id: str, environment: str) -> str:
    return f"ACCOUNT#{account_id}#INTEGRATIONS#{environment}"


def inbound_path(integration_id: str) -> str:
    return f"/v1/integrations/{integration_id}/inbound"


def integration_not_found() -> NotFound:
    return NotFound(_l("No integration with this id."), code="integration_not_found", path="integration_id")


def _context(item: Mapping[str, Any]) -> dict[str, str]:
    return {"purpose": "store-webhook-secret", "integration_id": item["id"], "account_id": item["account_id"]}


def store_settings(item: Mapping[str, Any]) -> StoreSettings:
    """What the integration says about the documents its orders become (sello.stores)."""
    rate = item.get("default_vat_rate")
    return StoreSettings(issuer_id=item["issuer_id"], establishment=item.get("establishment"),
                         emission_point=item.get("emission_point"), branch=item.get("branch"),
                         tax_id_field=item["tax_id_field"], tax_regime_field=item["tax_regime_field"],
                         cfdi_use_field=item["cfdi_use_field"], allow_anonymous=bool(item["allow_anonymous"]),
                         default_vat_rate=Decimal(str(rate)) if rate is not None else None,
                         codes=dict(item.get("codes") or {}))


def view(item: Mapping[str, Any]) -> IntegrationView:
    return IntegrationView(
        id=item["id"], kind=item["kind"], store_domain=item["store_domain"], issuer_id=item["issuer_id"],
        **{name: item.get(name, default) for name, default in DEFAULTS.items()},
        inbound_path=inbound_path(item["id"]), environment=item["environment"],
        created_at=datetime.fromisoformat(item["created_at"]), updated_at=datetime.fromisoformat(item["updated_at"]))


def order_documents(item: Mapping[str, Any]) -> list[str]:
    """The ids of the documents issued for an order: its invoice, then its credit notes in the order of
    their refunds' ids (the stores number refunds upwards)."""
    invoice = [item["invoice"]["document_id"]] if item.get("invoice") else []
    credited = sorted((item.get("credited") or {}).items(), key=lambda entry: (len(entry[0]), entry[0]))
    return invoice + [document_id for _, document_id in credited]


def order_view(item: Mapping[str, Any]) -> StoreOrderView:
    return StoreOrderView(id=item["order_id"], status=item["status"], reason=item.get("reason"),
                          document_ids=order_documents(item), updated_at=datetime.fromisoformat(item["updated_at"]))


class IntegrationService:
    def __init__(self, store: DynamoStore, issuers: Any, keystore: Any, clock: Callable[[], datetime] = utcnow):
        self.store = store
        self.issuers = issuers
        self.keystore = keystore
        self.clock = clock

    def _now(self) -> str:
        return iso(self.clock().replace(microsecond=0))

    def _settings_fields(self, body: Any, account_id: str, current: Mapping[str, Any]) -> dict[str, Any]:
        """The settings a body sets (the others as `current` has them), checked against the issuer: it
        must be the account's, of a country whose plugin maps store orders."""
        fields = {name: value for name, value in body.model_dump(mode="json", exclude_none=True).items()
                  if name in DEFAULTS or name == "issuer_id"}
        if "default_vat_rate" in fields:
            fields["default_vat_rate"] = str(body.default_vat_rate)
        issuer = find_issuer(self.issuers, account_id, fields.get("issuer_id", current.get("issuer_id", "")))
        plugin = get_plugin(issuer.country)
        if plugin.store_mapping is None:
            raise Unprocessable(_l("Orders from stores are not issued for issuers of {country} yet.",
                                   country=plugin.name), code="store_country_not_supported", path="issuer_id")
        return fields

    def create(self, account_id: str, environment: str, body: Any) -> IntegrationView:
        request = validate_body(CreateIntegrationRequest, body)
        fields = self._settings_fields(request, account_id, {})
        now, integration_id = self._now(), new_id("int")
        item = {**DEFAULTS, **fields, "id": integration_id, "account_id": account_id, "environment": environment,
                "kind": request.kind, "store_domain": request.store_domain, "created_at": now, "updated_at": now}
        item["webhook_secret"] = self.keystore.seal(request.webhook_secret.encode(), _context(item)).to_item()
        self.store.put(self._stored(item), unique=True)
        logger.info("integration created", account_id=account_id, integration_id=integration_id, kind=request.kind)
        return view(item)

    @staticmethod
    def _stored(item: dict[str, Any]) -> dict[str, Any]:
        stored = {key: value for key, value in item.items() if value is not None}
        stored.update({PK: integration_pk(item["id"]), SK: INTEGRATION_SK, "type": "integration",
                       GSI_PK: integrations_index(item["account_id"], item["environment"]),
                       GSI_SK: item["created_at"] + "#" + item["id"]})
        return stored

    def find(self, account_id: str, environment: str, integration_id: str) -> dict[str, Any]:
        item = self.get(integration_id)
        if item is None or (item["account_id"], item["environment"]) != (account_id, environment):
            raise integration_not_found()
        return item

    def get(self, integration_id: str) -> dict[str, Any] | None:
        """The integration with this id, whoever's (the inbound endpoint's look-up); None if none."""
        if not is_id(integration_id, "int"):
            return None
        return self.store.get(integration_pk(integration_id), INTEGRATION_SK)

    def view(self, account_id: str, environment: str, integration_id: str) -> IntegrationView:
        return view(self.find(account_id, environment, integration_id))

    def list(self, account_id: str, environment: str, limit: int = DEFAULT_PAGE_SIZE,
             cursor: str | None = None) -> IntegrationList:
        items, next_cursor = self.store.query(integrations_index(account_id, environment), limit=limit,
                                              cursor=cursor, index=True)
        return IntegrationList(data=[view(item) for item in items], next_cursor=next_cursor)

    def update(self, account_id: str, environment: str, integration_id: str, body: Any) -> IntegrationView:
        request = validate_body(UpdateIntegrationRequest, body)
        item = self.find(account_id, environment, integration_id)
        item.update(self._settings_fields(request, account_id, item))
        if request.store_domain:
            item["store_domain"] = request.store_domain
        if request.webhook_secret:
            item["webhook_secret"] = self.keystore.seal(request.webhook_secret.encode(), _context(item)).to_item()
        item["updated_at"] = self._now()
        self.store.put(self._stored({k: v for k, v in item.items() if k not in (PK, SK, GSI_PK, GSI_SK, "type")}))
        logger.info("integration updated", account_id=account_id, integration_id=integration_id)
        return view(item)

    def delete(self, account_id: str, environment: str, integration_id: str) -> None:
        """The integration and its orders' records; the documents issued stay."""
        self.find(account_id, environment, integration_id)
        pk = integration_pk(integration_id)
        for item in self.store.query_all(pk):
            self.store.table.delete_item(Key={PK: pk, SK: item[SK]})
        logger.info("integration deleted", account_id=account_id, integration_id=integration_id)

    def secret(self, item: Mapping[str, Any]) -> str:
        """The store's webhook secret, opened for one verification."""
        opened = self.keystore.open(Sealed.from_item(item["webhook_secret"]), _context(item))
        try:
            return opened.decode()
        finally:
            wipe(opened)

    # Orders -------------------------------------------------------------------------------------------

    def orders(self, account_id: str, environment: str, integration_id: str, limit: int = DEFAULT_PAGE_SIZE,
               cursor: str | None = None) -> StoreOrderList:
        self.find(account_id, environment, integration_id)
        items, next_cursor = self.store.query(integration_pk(integration_id), "ORDER#", limit=limit, cursor=cursor)
        return StoreOrderList(data=[order_view(item) for item in items], next_cursor=next_cursor)

    def order(self, integration_id: str, order_id: str) -> dict[str, Any] | None:
        return self.store.get(integration_pk(integration_id), f"ORDER#{order_id}")

    def record_order(self, integration_id: str, order_id: str, *, status: str, reason: dict | None = None,
                     payload: Mapping[str, Any] | None = None, keep_status: bool = False, **details: Any) -> dict:
        """What became of an order, with the store's payload when given (a retry reads it again) and
        `details` (the invoice issued). `keep_status`: a delivery of an order already recorded leaves
        its status as it is (the worker decides what it still lacks)."""
        values: dict[str, Any] = {"order_id": order_id, "updated_at": self._now(), "type": "store_order", **details}
        if not keep_status or self.order(integration_id, order_id) is None:
            values["status"] = status
        if payload is not None:
            values["payload"] = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        if reason:
            values["reason"] = reason
        return self.store.update(integration_pk(integration_id), f"ORDER#{order_id}", set_=values,
                                 remove=() if reason or keep_status else ("reason",))

    def _set_entry(self, integration_id: str, order_id: str, field: str, key: str, value: Any) -> dict:
        """Sets one entry of a map of the order's record (`refunds`, `credited`), the record and the map
        made first when missing; the other entries stay as they are, so two refunds recorded at the
        same moment are both kept. The record as it is now."""
        table, item_key = self.store.table, {PK: integration_pk(integration_id), SK: f"ORDER#{order_id}"}
        table.update_item(
            Key=item_key,
            UpdateExpression="SET #map = if_not_exists(#map, :empty), #status = if_not_exists(#status, :pending), "
                             "#order = :order, #type = :type",
            ExpressionAttributeNames={"#map": field, "#status": "status", "#order": "order_id", "#type": "type"},
            ExpressionAttributeValues={":empty": {}, ":pending": "pending", ":order": order_id,
                                       ":type": "store_order"})
        return table.update_item(
            Key=item_key, UpdateExpression="SET #map.#key = :value, #updated = :now", ReturnValues="ALL_NEW",
            ExpressionAttributeNames={"#map": field, "#key": key, "#updated": "updated_at"},
            ExpressionAttributeValues={":value": value, ":now": self._now()})["Attributes"]

    def record_refund(self, integration_id: str, order_id: str, refund_id: str, payload: Mapping[str, Any]) -> dict:
        """A refund the store reported for an order (Shopify's refunds/create), kept with the order."""
        return self._set_entry(integration_id, order_id, "refunds", refund_id,
                               json.dumps(payload, separators=(",", ":"), ensure_ascii=False))

    def record_credit(self, integration_id: str, order_id: str, refund_id: str, document_id: str) -> dict:
        """The credit note issued for one of the order's refunds."""
        return self._set_entry(integration_id, order_id, "credited", refund_id, document_id)

    def retry(self, account_id: str, environment: str, integration_id: str,
              order_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(integration, order) of an order recorded as not invoiceable, now pending again (the caller
        queues it). Any other order is returned as it is: queued again, it gets only what it lacks."""
        integration = self.find(account_id, environment, integration_id)
        item = self.order(integration_id, order_id) if len(order_id) <= 64 else None
        if item is None:
            raise NotFound(_l("No order with this id in this integration."), code="store_order_not_found",
                           path="order_id")
        if item.get("status") != "not_invoiceable":
            return integration, item
        return integration, self.record_order(integration_id, order_id, status="pending")


def default_service() -> IntegrationService:
    settings = get_settings()
    store = DynamoStore(settings.table_name)
    return IntegrationService(store, DynamoIssuersRepo(store), KmsKeystore(settings.key_id))
