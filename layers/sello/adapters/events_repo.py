"""Events and their delivery attempts in the single table, kept 30 days (the table's TTL).

| item     | pk           | sk                                                       |
|----------|--------------|----------------------------------------------------------|
| event    | ACCOUNT#<id> | EVENT#<environment>#<event id>                           |
| attempt  | ACCOUNT#<id> | DLV#<environment>#<endpoint id>#<event id>#<attempt, 3 digits> |

Event ids begin with their creation time (sello.services.events.new_event_id), so both lists come
back in time order from the sort key alone. An event keeps its body as the exact JSON text every
delivery sends and signs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sello.adapters.dynamo import PK, SK, DynamoStore, account_pk
from sello.table import TABLE
from sello.ids import iso

RETENTION = timedelta(days=30)


def event_sk(environment: str, event_id: str = "") -> str:
    return f"EVENT#{environment}#{event_id}"


def attempt_sk(environment: str, endpoint_id: str, event_id: str = "", attempt: int | None = None) -> str:
    suffix = f"{event_id}#{attempt:03d}" if attempt is not None else event_id
    return f"DLV#{environment}#{endpoint_id}#{suffix}"


def _expires(created: datetime) -> int:
    return int((created + RETENTION).timestamp())


class DynamoEventsRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    def put_event(self, account_id: str, environment: str, event_id: str, event_type: str, created: datetime,
                  body: str) -> None:
        self.store.put({PK: account_pk(account_id), SK: event_sk(environment, event_id), "type": "event",
                        "id": event_id, "event_type": event_type, "created": iso(created), "body": body,
                        TABLE.ttl_attribute: _expires(created)})

    def get_event(self, account_id: str, environment: str, event_id: str) -> dict | None:
        return self.store.get(account_pk(account_id), event_sk(environment, event_id))

    def list_events(self, account_id: str, environment: str, limit: int,
                    cursor: str | None) -> tuple[list[dict], str | None]:
        return self.store.query(account_pk(account_id), event_sk(environment), limit=limit, cursor=cursor,
                                forward=False)

    def put_attempt(self, account_id: str, environment: str, attempt: dict) -> None:
        sk = attempt_sk(environment, attempt["endpoint_id"], attempt["event_id"], attempt["attempt"])
        self.store.put({PK: account_pk(account_id), SK: sk, "type": "delivery_attempt", **attempt,
                        TABLE.ttl_attribute: _expires(datetime.fromisoformat(attempt["attempted_at"]))})

    def list_attempts(self, account_id: str, environment: str, endpoint_id: str, limit: int,
                      cursor: str | None) -> tuple[list[dict], str | None]:
        return self.store.query(account_pk(account_id), attempt_sk(environment, endpoint_id), limit=limit,
                                cursor=cursor, forward=False)
