"""Documents, the idempotency keys of their creation and the documents whose workflow is still to
be started, in the single table.

| item          | pk               | sk                    | gsi1pk                  | gsi1sk                |
|---------------|------------------|-----------------------|-------------------------|-----------------------|
| document      | ACCOUNT#<id>     | DOC#<doc id>          | DOCS#<account id>#<env> | <created_at>#<doc id> |
| idempotency   | ACCOUNT#<id>     | IDEM#<env>#<key hash> |                         |                       |
| pending start | WORKFLOW#PENDING | <account id>#<doc id> |                         |                       |

`<env>` is the environment (test or live), `<created_at>` the creation time in ISO 8601 (UTC) and
`<key hash>` the SHA-256 of the Idempotency-Key header.

The index lists an account's documents of one environment, newest first, so a test key never pages
through live documents and the other way round; its sort key starts with the creation time, so a
date range is a key condition (only the range is read), not a filter. The item's `type` says what
kind of item it is, as everywhere in the table; the document's own type is kept in `document_type`.

An idempotency item records which document a key stands for (see services/documents.py): the hash
of the request that claimed it, the id the document gets, who holds the claim and since when, and
`expires_at` (epoch seconds), after which DynamoDB's TTL deletes it; until then an expired item
counts as absent.

A pending-start item marks a stored document whose workflow could not be started when it was issued;
the scheduled workflow_restart function starts it and deletes the item. They all share one
partition, which only ever holds the few documents issued while Step Functions was unreachable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from functools import reduce

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from sello.adapters.dynamo import (
    PK,
    SK,
    ConditionFailed,
    DynamoStore,
    account_pk,
    condition_failed,
    item_at_failure,
)
from sello.table import TABLE
from sello.ids import iso, random_token, sha256_hex
from sello.models.documents import Document, DocumentFilter

GSI_PK, GSI_SK = TABLE.gsi_partition_key, TABLE.gsi_sort_key
ITEM_TYPE = "document"
PENDING_PK = "WORKFLOW#PENDING"
# A filtered list reads the index first as many items as the page holds (enough when most match),
# then this many at a time, and at most MAX_QUERIES times for one page; a page that is still not full
# then ends early, with a cursor to go on from.
FILTERED_BATCH = 100
MAX_QUERIES = 10
# What a list reads of each document: everything but the prepared content (most of the item), which
# only the workflow uses.
LISTED = (PK, SK, GSI_PK, GSI_SK, "document_type",
          *(name for name in Document.model_fields if name not in ("type", "content")))


def document_keys(account_id: str, document_id: str) -> tuple[str, str]:
    return account_pk(account_id), f"DOC#{document_id}"


def list_pk(account_id: str, environment: str) -> str:
    return f"DOCS#{account_id}#{environment}"


def _item(doc: Document) -> dict:
    item = doc.model_dump(mode="json", exclude_none=True, exclude={"type"})
    pk, sk = document_keys(doc.account_id, doc.id)
    created_at = iso(doc.created_at)
    item.update({PK: pk, SK: sk, "type": ITEM_TYPE, "document_type": doc.type, "created_at": created_at,
                 "updated_at": iso(doc.updated_at or doc.created_at),
                 GSI_PK: list_pk(doc.account_id, doc.environment), GSI_SK: f"{created_at}#{doc.id}"})
    return item


def _document(item: dict) -> Document:
    data = {k: v for k, v in item.items() if k not in (PK, SK, GSI_PK, GSI_SK, "type", "document_type")}
    data.setdefault("id", item[SK].removeprefix("DOC#"))
    data.setdefault("account_id", item[PK].removeprefix("ACCOUNT#"))
    return Document.model_validate({**data, "type": item.get("document_type")})


def _settling(doc: Document, records: list[tuple[str, int, dict, str]]) -> list[dict]:
    """The transaction's updates that record the payment document `doc` on each document it pays:
    (paid document id, its payments_version as read, the entry, its new balance), each conditional on
    that version."""
    updates = []
    for paid_id, version, entry, balance in records:
        names = {"#payments": "payments", "#version": "payments_version", "#balance": "balance", "#pk": PK}
        values: dict = {":balance": balance, ":next": version + 1}
        if version == 0:  # no payment recorded yet: the map may not exist
            expression = "SET #payments = :map, #balance = :balance, #version = :next"
            condition = "attribute_exists(#pk) AND (attribute_not_exists(#version) OR #version = :zero)"
            values.update({":map": {doc.id: entry}, ":zero": 0})
        else:
            expression = "SET #payments.#id = :entry, #balance = :balance, #version = :next"
            condition = "attribute_exists(#pk) AND #version = :read"
            names["#id"] = doc.id
            values.update({":entry": entry, ":read": version})
        updates.append({"Key": dict(zip((PK, SK), document_keys(doc.account_id, paid_id), strict=True)),
                        "UpdateExpression": expression, "ConditionExpression": condition,
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values})
    return updates


class DynamoDocumentsRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    def put_new(self, doc: Document) -> bool:
        """Stores a new document; False when one with its id already exists."""
        try:
            self.store.put(_item(doc), unique=True)
        except ConditionFailed:
            return False
        return True

    def put_new_settling(self, doc: Document, records: list[tuple[str, int, dict, str]]) -> bool:
        """Stores a new payment document and records it on each document it pays, in one transaction:
        `records` holds (paid document id, its payments_version as read, the entry, its new balance).
        True; raises services.settlements.SettlementConflict when the document exists already or a paid
        document's version is not the one read (nothing is written then)."""
        from sello.services.settlements import SettlementConflict

        try:
            self.store.transact(unique_puts=[_item(doc)], updates=_settling(doc, records))
        except ConditionFailed:
            raise SettlementConflict(doc.id) from None
        return True

    def reclaim_settlements(self, doc: Document, records: list[tuple[str, int, dict, str]]) -> None:
        """Records a stored payment document on the documents it pays again (`records` as for
        put_new_settling), in one transaction; SettlementConflict when a version is not the one read."""
        from sello.services.settlements import SettlementConflict

        try:
            self.store.transact(updates=_settling(doc, records))
        except ConditionFailed:
            raise SettlementConflict(doc.id) from None

    def get(self, account_id: str, document_id: str) -> Document | None:
        item = self.store.get(*document_keys(account_id, document_id))
        return _document(item) if item else None

    def set_workflow_started(self, account_id: str, document_id: str) -> None:
        self.store.update(*document_keys(account_id, document_id), set_={"workflow_started": True})

    def mark_pending_start(self, account_id: str, document_id: str, now: datetime, round_: int = 0) -> None:
        """Records that the document's workflow (of that round, see reopen) is still to be started."""
        self.store.put({PK: PENDING_PK, SK: f"{account_id}#{document_id}", "type": "pending_start",
                        "account_id": account_id, "document_id": document_id, "round": round_,
                        "created_at": iso(now)})

    def pending_starts(self, limit: int) -> list[tuple[str, str, int]]:
        """(account id, document id, round) of at most `limit` documents whose workflow is still to be
        started."""
        items, _ = self.store.page(PENDING_PK, limit=limit)
        return [(item["account_id"], item["document_id"], int(item.get("round", 0))) for item in items]

    def reopen(self, account_id: str, document_id: str, now: datetime, *, resign: bool) -> int | None:
        """Turns a failed document back to processing for another round of its workflow and returns that
        round's number; None when the document is not failed (any more). What the failed round left
        behind goes: the error, the waits, and with `resign` the signed file (signed again). The count
        of attempts to send it stays, so the workflow asks the authority for it before sending again."""
        remove = ["error", "finished_at", "poll_count", "unreachable_count",
                  "authority_unreachable_since", "next_attempt_at"]
        if resign:
            remove += ["signed_key", "signed_at", "certificate_valid_to"]
        try:
            item = self.store.update(
                *document_keys(account_id, document_id),
                set_={"status": "processing", "retried_at": iso(now), "updated_at": iso(now),
                      "workflow_started": False},
                add={"workflow_round": 1}, remove=remove,
                condition="#status = :failed", values={":failed": "failed"})
        except ConditionFailed:
            return None
        return int(item["workflow_round"])

    def clear_pending_start(self, account_id: str, document_id: str) -> None:
        self.store.table.delete_item(Key={PK: PENDING_PK, SK: f"{account_id}#{document_id}"})

    def list(self, account_id: str, environment: str, *, limit: int, cursor: str | None = None,
             where: DocumentFilter = DocumentFilter()) -> tuple[list[Document], str | None]:
        """A page of the environment's documents, newest first.

        The creation range narrows the index query itself. Without other filters, one query of
        `limit` items is the page. With status, type or customer, DynamoDB filters each query's items
        (FilterExpression), so a query may return fewer than it read; queries go on from where the
        last one stopped until the page is full. When a query returns more matches than the page has
        room for, the page ends at its last item and the cursor is built from that item's keys, so
        the next page starts right after it: nothing is skipped or repeated."""
        wanted = (("status", where.status), ("document_type", where.type),
                  ("customer.tax_id", where.customer_tax_id))
        conditions = [Attr(name).eq(value) for name, value in wanted if value is not None]
        condition = reduce(lambda a, b: a & b, conditions) if conditions else None
        # Sort keys are "<created_at>#<id>": every key of a document created at or after `created_from`
        # sorts at or after its ISO time, and every key of one created before `created_before` sorts
        # before that time's ISO string.
        sk_range = (iso(where.created_from) if where.created_from else None,
                    iso(where.created_before) if where.created_before else None)
        batch_size = limit
        pk = list_pk(account_id, environment)
        query = {"index": True, "forward": False, "where": condition, "sk_range": sk_range}
        page: list[dict] = []
        for _ in range(MAX_QUERIES):
            batch, cursor = self.store.query(pk, limit=batch_size, cursor=cursor, attributes=LISTED, **query)
            if condition is not None:
                batch_size = max(limit, FILTERED_BATCH)
            room = limit - len(page)
            if len(batch) > room:
                page += batch[:room]
                return [_document(i) for i in page], self.store.cursor_after(page[-1], pk, **query)
            page += batch
            if len(page) == limit or not cursor:
                break
        return [_document(i) for i in page], cursor


# Idempotency keys ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """Who holds an idempotency key and for which document."""

    request_hash: str
    document_id: str
    holder: str  # a random token of the request that holds the claim
    claimed_at: int  # epoch seconds
    expires_at: int  # epoch seconds


def _claim(item: dict) -> Claim:
    return Claim(request_hash=item["request_hash"], document_id=item["document_id"], holder=item["holder"],
                 claimed_at=int(item["claimed_at"]), expires_at=int(item["expires_at"]))


def idempotency_keys(account_id: str, environment: str, key: str) -> dict[str, str]:
    return {PK: account_pk(account_id), SK: f"IDEM#{environment}#{sha256_hex(key)}"}


class DynamoIdempotency:
    """Claims on idempotency keys, scoped to (account, environment); see services/documents.py."""

    def __init__(self, store: DynamoStore):
        self.table = store.table

    def claim(self, account_id: str, environment: str, key: str, *, request_hash: str, document_id: str,
              now: int, ttl: int) -> tuple[bool, Claim | None]:
        """Claims the key for a new document; (True, the claim) when this call got it, otherwise
        (False, the claim that holds it, or None if that was given up in the meantime). An expired
        claim counts as none."""
        mine = Claim(request_hash=request_hash, document_id=document_id, holder=random_token(24),
                     claimed_at=now, expires_at=now + ttl)
        try:
            self.table.put_item(
                Item={**idempotency_keys(account_id, environment, key), "type": "idempotency_key",
                      **asdict(mine)},
                ConditionExpression="attribute_not_exists(#pk) OR #expires_at <= :now",
                ExpressionAttributeNames={"#pk": PK, "#expires_at": "expires_at"},
                ExpressionAttributeValues={":now": now},
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            old = item_at_failure(exc)
            return False, _claim(old) if old else None
        return True, mine

    def get(self, account_id: str, environment: str, key: str, *, now: int) -> Claim | None:
        item = self.table.get_item(Key=idempotency_keys(account_id, environment, key),
                                   ConsistentRead=True).get("Item")
        claim = _claim(item) if item else None
        return claim if claim and claim.expires_at > now else None

    def take_over(self, account_id: str, environment: str, key: str, claim: Claim, *,
                  now: int) -> Claim | None:
        """Takes over a claim whose holder is presumed gone (it held it past the lease without writing
        the document); the new claim keeps the document id. None when another request took it first."""
        taken = Claim(request_hash=claim.request_hash, document_id=claim.document_id,
                      holder=random_token(24), claimed_at=now, expires_at=claim.expires_at)
        try:
            self.table.update_item(
                Key=idempotency_keys(account_id, environment, key),
                UpdateExpression="SET #holder = :new, #claimed_at = :now",
                ConditionExpression="#holder = :old",
                ExpressionAttributeNames={"#holder": "holder", "#claimed_at": "claimed_at"},
                ExpressionAttributeValues={":new": taken.holder, ":now": now, ":old": claim.holder})
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return taken

    def release(self, account_id: str, environment: str, key: str, claim: Claim) -> None:
        """Gives the key up (its request failed before the document was written), unless another
        request has taken the claim over meanwhile."""
        try:
            self.table.delete_item(Key=idempotency_keys(account_id, environment, key),
                                   ConditionExpression="#holder = :mine",
                                   ExpressionAttributeNames={"#holder": "holder"},
                                   ExpressionAttributeValues={":mine": claim.holder})
        except ClientError as exc:
            if not condition_failed(exc):
                raise
