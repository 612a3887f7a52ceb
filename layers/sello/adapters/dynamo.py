"""The DynamoDB single table behind every repository. Items are plain dicts; keys follow catalog.TABLE."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from sello.adapters import aws
from sello.catalog import TABLE
from sello.errors import BadRequest

PK, SK = TABLE.partition_key, TABLE.sort_key
# DynamoDB's item size limit, "400 KB", counted as 400,000 bytes (the smaller reading).
MAX_ITEM_BYTES = 400_000


def account_pk(account_id: str) -> str:
    """Every item of an account lives under this partition key: scoping is by construction."""
    return f"ACCOUNT#{account_id}"


def parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class ConditionFailed(Exception):
    """A conditional write did not hold (the item existed, or its state changed)."""


def condition_failed(exc: ClientError) -> bool:
    """Whether a write through the table resource failed on its condition."""
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def item_at_failure(exc: ClientError) -> dict | None:
    """The item as it was when a write's condition failed, for a write that asked for it with
    ReturnValuesOnConditionCheckFailure="ALL_OLD"; None when there was no item."""
    from boto3.dynamodb.types import TypeDeserializer

    raw = exc.response.get("Item")
    return {k: TypeDeserializer().deserialize(v) for k, v in raw.items()} if raw else None


def _encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode()


def _decode_cursor(cursor: str | None, keys: tuple[str, ...], partition: str, sk_prefix: str,
                   sk_range: tuple[str | None, str | None] = (None, None)) -> dict | None:
    """The start key a cursor carries. Only a key the query could have returned is accepted: exactly
    the `keys` attributes (the queried partition and sort keys first, then the table's for an index),
    all non-empty strings, in the queried partition and within the queried sort key prefix and range."""
    if not cursor:
        return None
    try:
        start = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, RecursionError):
        start = None
    if not (isinstance(start, dict) and sorted(start) == sorted(keys)
            and all(isinstance(v, str) and v for v in start.values())
            and start[keys[0]] == partition and start[keys[1]].startswith(sk_prefix)
            and (sk_range[0] is None or start[keys[1]] >= sk_range[0])
            and (sk_range[1] is None or start[keys[1]] <= sk_range[1])):
        raise BadRequest("The cursor is not one this API returned.", code="invalid_cursor", path="cursor")
    return start


class DynamoStore:
    def __init__(self, table_name: str):
        self.table_name = table_name
        self.table = aws.resource("dynamodb").Table(table_name)

    def get(self, pk: str, sk: str) -> dict | None:
        """A strongly consistent read."""
        return self.table.get_item(Key={PK: pk, SK: sk}, ConsistentRead=True).get("Item")

    def put(self, item: dict, *, unique: bool = False) -> None:
        kwargs: dict[str, Any] = {"Item": item}
        if unique:
            kwargs["ConditionExpression"] = "attribute_not_exists(#pk)"
            kwargs["ExpressionAttributeNames"] = {"#pk": PK}
        try:
            self.table.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed(item[PK]) from exc
            raise

    def update(self, pk: str, sk: str, *, set_: dict | None = None, add: dict | None = None,
               remove: Iterable[str] = (), delete: dict | None = None, condition: str | None = None,
               values: dict | None = None) -> dict:
        """SET / ADD / REMOVE / DELETE (elements from a set) in one call; `condition` may use :names
        from `values` and #names of fields."""
        names, vals, clauses = {}, dict(values or {}), []
        for action, tag, fields, form in (("SET", "s", set_, "{} = {}"), ("ADD", "a", add, "{} {}"),
                                          ("DELETE", "d", delete, "{} {}")):
            parts = []
            for i, (k, v) in enumerate((fields or {}).items()):
                names[f"#{tag}{i}"], vals[f":{tag}{i}"] = k, v
                parts.append(form.format(f"#{tag}{i}", f":{tag}{i}"))
            if parts:
                clauses.append(f"{action} " + ", ".join(parts))
        removes = list(remove)
        if removes:
            for i, k in enumerate(removes):
                names[f"#r{i}"] = k
            clauses.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes))))
        kwargs: dict[str, Any] = {"Key": {PK: pk, SK: sk}, "UpdateExpression": " ".join(clauses),
                                  "ReturnValues": "ALL_NEW"}
        if condition:
            kwargs["ConditionExpression"] = condition
            for token in _field_tokens(condition):
                names[f"#{token}"] = token
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if vals:
            kwargs["ExpressionAttributeValues"] = vals
        try:
            return self.table.update_item(**kwargs)["Attributes"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed(pk) from exc
            raise

    def query(self, pk: str, sk_prefix: str = "", *, limit: int = 50, cursor: str | None = None,
              index: bool = False, forward: bool = True, where: ConditionBase | None = None,
              sk_range: tuple[str | None, str | None] = (None, None),
              attributes: Iterable[str] = ()) -> tuple[list[dict], str | None]:
        """One page. With `where` (a FilterExpression), DynamoDB reads `limit` items and returns those
        that match, so a page may be short, or empty with a cursor, while more items follow.
        `sk_range` (low, high), either end optional and both inclusive, limits the sort key instead
        of `sk_prefix`. `attributes`: only these come back (the read costs the same, the answer is
        smaller to send and to parse); the keys must be among them for the page's end to be a cursor."""
        pk_name, sk_name = _key_names(index)
        cond = Key(pk_name).eq(pk)
        low, high = sk_range
        if sk_prefix:
            cond = cond & Key(sk_name).begins_with(sk_prefix)
        elif low is not None and high is not None:
            cond = cond & Key(sk_name).between(low, high)
        elif low is not None:
            cond = cond & Key(sk_name).gte(low)
        elif high is not None:
            cond = cond & Key(sk_name).lte(high)
        kwargs: dict[str, Any] = {"KeyConditionExpression": cond, "Limit": limit, "ScanIndexForward": forward}
        if index:
            kwargs["IndexName"] = TABLE.gsi_name
        if where is not None:
            kwargs["FilterExpression"] = where
        names = {f"#p{i}": name for i, name in enumerate(attributes)}
        if names:
            kwargs["ProjectionExpression"] = ", ".join(names)
            kwargs["ExpressionAttributeNames"] = names
        keys = _cursor_keys(index)
        start = _decode_cursor(cursor, keys, pk, sk_prefix, sk_range)
        if start:
            kwargs["ExclusiveStartKey"] = start
        out = self.table.query(**kwargs)
        return out.get("Items", []), _encode_cursor(out.get("LastEvaluatedKey"))

    def query_all(self, pk: str, sk_prefix: str = "", *, index: bool = False) -> list[dict]:
        """Every item the query finds, read page after page."""
        items, cursor = [], None
        while True:
            page, cursor = self.query(pk, sk_prefix, limit=100, cursor=cursor, index=index)
            items += page
            if not cursor:
                return items

    def transact(self, puts: Iterable[dict] = (), unique_puts: Iterable[dict] = (),
                 updates: Iterable[dict] = (), deletes: Iterable[dict] = (),
                 checks: Iterable[dict] = ()) -> None:
        """All or nothing. `updates`, `deletes` and `checks` (ConditionCheck) are raw operation dicts
        (Key, UpdateExpression / ConditionExpression, ...) without TableName."""
        ops = [{"Put": {"TableName": self.table_name, "Item": _ser(i)}} for i in puts]
        ops += [{"Put": {"TableName": self.table_name, "Item": _ser(i),
                         "ConditionExpression": "attribute_not_exists(#pk)",
                         "ExpressionAttributeNames": {"#pk": PK}}} for i in unique_puts]
        for kind, raw in (("Update", updates), ("Delete", deletes), ("ConditionCheck", checks)):
            for op in raw:
                op = dict(op)
                op["Key"] = _ser(op["Key"])
                if "ExpressionAttributeValues" in op:
                    op["ExpressionAttributeValues"] = _ser(op["ExpressionAttributeValues"])
                ops.append({kind: {"TableName": self.table_name, **op}})
        try:
            aws.client("dynamodb").transact_write_items(TransactItems=ops)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConditionFailed(str(exc.response.get("CancellationReasons", ""))) from exc
            raise


def _key_names(index: bool) -> tuple[str, str]:
    return (TABLE.gsi_partition_key, TABLE.gsi_sort_key) if index else (PK, SK)


def _cursor_keys(index: bool) -> tuple[str, ...]:
    """The attributes of a query's LastEvaluatedKey: the queried keys, then the table's for an index."""
    return (*_key_names(index), PK, SK) if index else (PK, SK)


def cursor_after(item: dict, *, index: bool = False) -> str:
    """The cursor of a page that ends with `item` (one a query returned): the next query goes on
    right after it, as with the cursor DynamoDB's own page end gives."""
    return _encode_cursor({k: item[k] for k in _cursor_keys(index)})


def _field_tokens(condition: str) -> set[str]:
    """Field names written as #name in a condition (the generated #s0/#a0/#r0/#d0 placeholders excluded)."""
    tokens = re.findall(r"#([A-Za-z_][A-Za-z0-9_]*)", condition)
    return {t for t in tokens if not re.fullmatch(r"[sard]\d+", t)}


def _ser(item: dict) -> dict:
    from boto3.dynamodb.types import TypeSerializer

    s = TypeSerializer()
    return {k: s.serialize(v) for k, v in item.items()}


def item_size(value: Any) -> int:
    """The size DynamoDB counts for a value, by its published rules: strings are their UTF-8 bytes,
    binary its bytes, numbers 1 byte plus 1 per two significant digits, null and booleans 1 byte,
    lists and maps 3 bytes plus 1 per element plus their elements (with the map's keys as UTF-8),
    sets their elements."""
    stack, total = [value], 0
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value.encode("utf-8", errors="surrogatepass"))
        elif isinstance(value, bytes | bytearray):
            total += len(value)
        elif value is None or isinstance(value, bool):
            total += 1
        elif isinstance(value, int | float | Decimal):
            digits = Decimal(value).normalize().as_tuple().digits
            total += 1 + (len(digits) + 1) // 2
        elif isinstance(value, dict):
            total += 3 + len(value) + sum(len(str(k).encode("utf-8", errors="surrogatepass")) for k in value)
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            total += 3 + len(value)
            stack.extend(value)
        elif isinstance(value, set | frozenset):
            stack.extend(value)
        else:
            raise TypeError(f"not a DynamoDB value: {type(value).__name__}")
    return total


def attributes_size(item: dict) -> int:
    """The size DynamoDB counts for an item (at most MAX_ITEM_BYTES): its attribute names and values."""
    return sum(len(name.encode("utf-8")) + item_size(v) for name, v in item.items())
