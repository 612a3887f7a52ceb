"""Fixed-window counters in the single table, for limits on what a caller may make the service do
(emails, so far).

| item    | pk           | sk                                  |
|---------|--------------|-------------------------------------|
| counter | ACCOUNT#<id> | LIMIT#<name>#<window start, epoch s> |

One request counts against several limits at once (say, per document and per account) in one
transaction of conditional ADDs: either every counter still had room and each goes up by one, or
none changes. A counter expires (TTL) one window after its own ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sello.adapters.dynamo import PK, SK, ConditionFailed, DynamoStore, account_pk
from sello.table import TABLE

# A transaction can also fail because another one touched the same counter at the same moment;
# then it is tried again, this many times in all.
TRIES = 4


@dataclass(frozen=True)
class Limit:
    name: str  # unique within the account, e.g. "document_email#doc_…"
    max: int


def limit_sk(name: str, window_start: int) -> str:
    return f"LIMIT#{name}#{window_start}"


class DynamoRateLimiter:
    def __init__(self, store: DynamoStore):
        self.store = store

    def take(self, account_id: str, limits: Sequence[Limit], window_seconds: int, now: int) -> int | None:
        """Counts one event against every limit in the window holding `now` (epoch seconds). None
        when each had room; otherwise nothing is counted and the answer is the seconds until the
        window ends."""
        start = now - now % window_seconds
        end = start + window_seconds
        updates = [{
            "Key": {PK: account_pk(account_id), SK: limit_sk(limit.name, start)},
            "UpdateExpression": "ADD #count :one SET #expires = :expires",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :max",
            "ExpressionAttributeNames": {"#count": "count", "#expires": TABLE.ttl_attribute},
            "ExpressionAttributeValues": {":one": 1, ":max": limit.max, ":expires": end + window_seconds},
        } for limit in limits]
        for _ in range(TRIES):
            try:
                self.store.transact(updates=updates)
            except ConditionFailed:
                if self._full(account_id, limits, start):
                    return max(1, end - now)
                continue  # a concurrent transaction on a counter, not a full one
            return None
        return max(1, end - now)

    def _full(self, account_id: str, limits: Sequence[Limit], start: int) -> bool:
        for limit in limits:
            item = self.store.get(account_pk(account_id), limit_sk(limit.name, start))
            if item and int(item.get("count", 0)) >= limit.max:
                return True
        return False
