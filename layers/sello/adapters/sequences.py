"""Document numbers: one counter per numbering series, in the single table.

| item    | pk           | sk                                         | attributes                    |
|---------|--------------|--------------------------------------------|-------------------------------|
| counter | ACCOUNT#<id> | SEQ#<issuer>#<environment>#<type>#<series> | `last` (number), `free` (set) |

A series is what the authority numbers on its own; for Ecuador it is establishment and emission
point ("001-001"), so each (issuer, environment, document type, establishment, emission point) counts
from 1.

Numbers must be unique and must not be skipped, also when many documents are created at once:

- `allocate` takes the next number with one atomic update, `ADD last 1`, which DynamoDB applies to
  the item one request after another, so two requests never get the same number. The caller
  allocates only once the request has been validated and its idempotency key claimed, so a rejected
  or duplicate request consumes no number.
- A number can still be allocated to a document that then fails to be written. The caller hands it
  back with `release`, which adds it to `free`, a number set on the counter item. While `free` holds
  numbers, the `ADD` is refused (its condition is that `free` does not exist; DynamoDB drops a set
  when its last element is deleted) and the next allocation takes the smallest free number instead,
  deleting it from the set under the condition that it is still there, so two requests never take
  the same one. A returned number therefore goes to the very next document of the series.
- What this cannot cover is a process that dies between `allocate` and the write that follows it
  (the function is killed at that exact moment): the number is then neither used nor returned.
  Both calls are a few milliseconds apart in one invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botocore.exceptions import ClientError

from sello.adapters.dynamo import PK, SK, DynamoStore, account_pk, condition_failed, item_at_failure

ITEM_TYPE = "sequence"
# Each failed attempt means another request took a number meanwhile, so the loop always makes
# progress; the bound only guards against a table that keeps refusing.
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class SequenceKey:
    account_id: str
    issuer_id: str
    environment: str
    document_type: str
    series: str

    def keys(self) -> dict[str, str]:
        return {PK: account_pk(self.account_id),
                SK: f"SEQ#{self.issuer_id}#{self.environment}#{self.document_type}#{self.series}"}


class SequenceExhausted(Exception):
    """No number could be allocated after MAX_ATTEMPTS tries."""


class DynamoSequences:
    def __init__(self, store: DynamoStore):
        self.table = store.table

    def allocate(self, key: SequenceKey) -> int:
        """The series' next number: a returned one if there is any (the smallest), else last + 1."""
        for _ in range(MAX_ATTEMPTS):
            try:
                out = self.table.update_item(
                    Key=key.keys(), UpdateExpression="ADD #last :one SET #type = :type",
                    ConditionExpression="attribute_not_exists(#free)",
                    ExpressionAttributeNames={"#last": "last", "#free": "free", "#type": "type"},
                    ExpressionAttributeValues={":one": 1, ":type": ITEM_TYPE},
                    ReturnValues="UPDATED_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return int(out["Attributes"]["last"])
            except ClientError as exc:
                if not condition_failed(exc):
                    raise
                free = (item_at_failure(exc) or {}).get("free", set())
            for number in sorted(free):
                if self._take(key, number):
                    return int(number)
        raise SequenceExhausted(str(key))

    def _take(self, key: SequenceKey, number: Decimal) -> bool:
        try:
            self.table.update_item(
                Key=key.keys(), UpdateExpression="DELETE #free :taken",
                ConditionExpression="contains(#free, :number)",
                ExpressionAttributeNames={"#free": "free"},
                ExpressionAttributeValues={":taken": {number}, ":number": number})
        except ClientError as exc:
            if condition_failed(exc):
                return False  # another request took it first
            raise
        return True

    def release(self, key: SequenceKey, number: int) -> None:
        """Hands back a number whose document was not written; the next allocation takes it."""
        self.table.update_item(
            Key=key.keys(), UpdateExpression="ADD #free :number",
            ExpressionAttributeNames={"#free": "free"},
            ExpressionAttributeValues={":number": {Decimal(number)}})
