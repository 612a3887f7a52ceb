"""The DynamoDB single table behind every repository. Items are plain dicts; keys follow catalog.TABLE."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from sello.adapters import aws
from sello.adapters.cursors import CursorSealer, default_sealer
from sello.table import TABLE
from sello.errors import BadRequest
from sello.i18n import _l

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


def _scope(pk: str, sk_prefix: str, index: bool, forward: bool, where: ConditionBase | None,
           sk_range: tuple[str | None, str | None]) -> str:
    """What a cursor is bound to: the query's partition (which names the account), sort key prefix
    and range, index, order and filter (as DynamoDB receives it)."""
    condition = None
    if where is not None:
        from boto3.dynamodb.conditions import ConditionExpressionBuilder

        built = ConditionExpressionBuilder().build_expression(where)
        condition = [built.condition_expression, built.attribute_name_placeholders,
                     built.attribute_value_placeholders]
    return json.dumps([pk, sk_prefix, list(sk_range), index, forward, condition], sort_keys=True, default=str,
                      separators=(",", ":"))


def _invalid_cursor() -> BadRequest:
    return BadRequest(_l("The cursor is not one this API returned."), code="invalid_cursor", path="cursor")


def _check_start(start: dict, keys: tuple[str, ...], partition: str, sk_prefix: str,
                 sk_range: tuple[str | None, str | None] = (None, None)) -> dict:
    """Only a key the query could have returned is accepted: exactly the `keys` attributes (the queried
    partition and sort keys first, then the table's for an index), all non-empty strings, in the
    queried partition and within the queried sort key prefix and range."""
    if not (isinstance(start, dict) and sorted(start) == sorted(keys)
            and all(isinstance(v, str) and v for v in start.values())
            and start[keys[0]] == partition and start[keys[1]].startswith(sk_prefix)
            and (sk_range[0] is None or start[keys[1]] >= sk_range[0])
            and (sk_range[1] is None or start[keys[1]] <= sk_range[1])):
        raise _invalid_cursor()
    return start


class DynamoStore:
    def __init__(self, table_name: str, cursors: CursorSealer | None = None):
        self.table_name = table_name
        self.table = aws.resource("dynamodb").Table(table_name)
        self._cursors = cursors  # the default one (settings.cursor_key_secret) is read when first needed

    @property
    def cursors(self) -> CursorSealer:
        if self._cursors is None:
            self._cursors = default_sealer()
        return self._cursors

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

    def page(self, pk: str, sk_prefix: str = "", *, limit: int = 50, start: dict | None = None,
             index: bool = False, forward: bool = True, where: ConditionBase | None = None,
             sk_range: tuple[str | None, str | None] = (None, None),
             attributes: Iterable[str] = ()) -> tuple[list[dict], dict | None]:
        """One page and the key it ended at (DynamoDB's LastEvaluatedKey, None at the end), for use
        inside the service; `start` is such a key. With `where` (a FilterExpression), DynamoDB reads
        `limit` items and returns those that match, so a page may be short, or empty, while more items
        follow. `sk_range` (low, high), either end optional and both inclusive, limits the sort key
        instead of `sk_prefix`. `attributes`: only these come back (the read costs the same, the answer
        is smaller to send and to parse); the keys must be among them for the page's end to be a
        cursor."""
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
        if start:
            kwargs["ExclusiveStartKey"] = start
        out = self.table.query(**kwargs)
        return out.get("Items", []), out.get("LastEvaluatedKey") or None

    def query(self, pk: str, sk_prefix: str = "", *, limit: int = 50, cursor: str | None = None,
              index: bool = False, forward: bool = True, where: ConditionBase | None = None,
              sk_range: tuple[str | None, str | None] = (None, None),
              attributes: Iterable[str] = ()) -> tuple[list[dict], str | None]:
        """One page, as page() reads it, for a client: `cursor` and the cursor returned (None at the
        end) are sealed (adapters/cursors.py) and bound to this query. A cursor that does not open for
        this query is 400 invalid_cursor, before DynamoDB is asked."""
        scope = _scope(pk, sk_prefix, index, forward, where, sk_range)
        start = self._open(cursor, scope, pk, sk_prefix, index=index, sk_range=sk_range)
        items, last = self.page(pk, sk_prefix, limit=limit, start=start, index=index, forward=forward,
                                where=where, sk_range=sk_range, attributes=attributes)
        return items, self._seal(last, scope, index)

    def cursor_after(self, item: dict, pk: str, sk_prefix: str = "", *, index: bool = False,
                     forward: bool = True, where: ConditionBase | None = None,
                     sk_range: tuple[str | None, str | None] = (None, None)) -> str:
        """The cursor of a page of that query that ends with `item` (one the query returned): the next
        page goes on right after it, as with the cursor of DynamoDB's own page end."""
        return self._seal({k: item[k] for k in _cursor_keys(index)},
                          _scope(pk, sk_prefix, index, forward, where, sk_range), index)

    def _open(self, cursor: str | None, scope: str, pk: str, sk_prefix: str, *, index: bool,
              sk_range: tuple[str | None, str | None]) -> dict | None:
        if not cursor:
            return None
        keys = _cursor_keys(index)
        values = self.cursors.open(cursor, scope)
        if values is None or len(values) != len(keys):
            raise _invalid_cursor()
        return _check_start(dict(zip(keys, values, strict=True)), keys, pk, sk_prefix, sk_range)

    def _seal(self, key: dict | None, scope: str, index: bool) -> str | None:
        if not key:
            return None
        return self.cursors.seal([key[k] for k in _cursor_keys(index)], scope)

    def query_all(self, pk: str, sk_prefix: str = "", *, index: bool = False) -> list[dict]:
        """Every item the query finds, read page after page."""
        items, start = [], None
        while True:
            page, start = self.page(pk, sk_prefix, limit=100, start=start, index=index)
            items += page
            if not start:
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
