"""Webhook endpoints in the single table, beside the account's other items.

| item     | pk           | sk                              |
|----------|--------------|---------------------------------|
| endpoint | ACCOUNT#<id> | WHEP#<environment>#<endpoint id> |

The endpoint item holds its signing secret (and, for a day after a roll, the previous one): the
sender needs them in clear to sign, so they rest under the table's customer-managed KMS key, like
every item, and no view, log or error ever shows more than a hint of them."""

from __future__ import annotations

from sello.adapters.dynamo import PK, SK, DynamoStore, account_pk
from sello.ids import iso
from sello.models.webhooks import WebhookEndpoint


def endpoint_sk(environment: str, endpoint_id: str = "") -> str:
    return f"WHEP#{environment}#{endpoint_id}"


def _item(endpoint: WebhookEndpoint) -> dict:
    item = endpoint.model_dump(mode="json", exclude_none=True)
    item.update({PK: account_pk(endpoint.account_id), SK: endpoint_sk(endpoint.environment, endpoint.id),
                 "type": "webhook_endpoint", "created_at": iso(endpoint.created_at),
                 "updated_at": iso(endpoint.updated_at)})
    return item


def _endpoint(item: dict) -> WebhookEndpoint:
    return WebhookEndpoint.model_validate({k: v for k, v in item.items() if k not in (PK, SK, "type")})


class DynamoWebhooksRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    def put_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.store.put(_item(endpoint))

    def get_endpoint(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self.store.get(account_pk(account_id), endpoint_sk(environment, endpoint_id))
        return _endpoint(item) if item else None

    def list_endpoints(self, account_id: str, environment: str) -> list[WebhookEndpoint]:
        return [_endpoint(item) for item in self.store.query_all(account_pk(account_id), endpoint_sk(environment))]

    def delete_endpoint(self, account_id: str, environment: str, endpoint_id: str) -> None:
        self.store.table.delete_item(Key={PK: account_pk(account_id), SK: endpoint_sk(environment, endpoint_id)})
