"""Paging cursors of DynamoStore.query: the ones it hands out lead to the next page and show nothing
of the table's keys; anything else (altered in any byte, made for another account's partition, another
prefix or filter, forged, not a cursor at all) is a 400 before DynamoDB is asked."""

from __future__ import annotations

import base64
import json

import pytest
from boto3.dynamodb.conditions import Attr

from sello.adapters.cursors import CursorSealer, key_from_secret
from sello.adapters.dynamo import DynamoStore
from sello.errors import BadRequest

OWN, OTHER = "ACCOUNT#acct_own", "ACCOUNT#acct_other"


@pytest.fixture
def store(aws):
    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    for pk in (OWN, OTHER):
        for i in range(5):
            store.put({"pk": pk, "sk": f"ISSUER#{i}", "gsi1pk": f"DAY#{pk}", "gsi1sk": f"ISSUER#{i}",
                       "color": "red" if i % 2 else "blue"})
        store.put({"pk": pk, "sk": "META"})
    return store


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(call) -> BadRequest:
    with pytest.raises(BadRequest) as err:
        call()
    assert (err.value.code, err.value.path, err.value.status) == ("invalid_cursor", "cursor", 400)
    return err.value


@pytest.mark.parametrize("index", [False, True], ids=["table", "index"])
def test_the_cursors_handed_out_walk_every_page(store, index):
    pk = f"DAY#{OWN}" if index else OWN
    seen, next_cursor = [], None
    while True:
        page, next_cursor = store.query(pk, "ISSUER#", limit=2, cursor=next_cursor, index=index)
        seen += [item["sk"] for item in page]
        if not next_cursor:
            break
    assert seen == [f"ISSUER#{i}" for i in range(5)]


@pytest.mark.parametrize("index", [False, True], ids=["table", "index"])
def test_a_cursor_shows_no_key_and_no_account(store, index):
    pk = f"DAY#{OWN}" if index else OWN
    _, cursor = store.query(pk, "ISSUER#", limit=2, index=index)
    assert cursor
    decoded = raw(cursor)
    # (Tokens of six characters or more: random bytes hold a short one now and then.)
    for text in ("acct_own", "ACCOUNT#", "ISSUER#", "DAY#ACC", '"gsi1pk"', '"sk":'):
        assert text.encode() not in decoded and text not in cursor
    with pytest.raises(ValueError):
        json.loads(decoded)
    # Two cursors for the same place differ (a fresh nonce each time), so they cannot be compared.
    assert store.query(pk, "ISSUER#", limit=2, index=index)[1] != cursor


def test_every_altered_byte_or_character_is_refused(store):
    _, cursor = store.query(OWN, "ISSUER#", limit=2)
    assert store.query(OWN, "ISSUER#", limit=2, cursor=cursor)[0]  # the untouched one works
    data = raw(cursor)
    for i in range(len(data)):
        for flip in (0x01, 0x80):
            altered = bytearray(data)
            altered[i] ^= flip
            refused(lambda c=encode(bytes(altered)): store.query(OWN, "ISSUER#", cursor=c))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, char in enumerate(cursor):
        other = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        refused(lambda c=cursor[:i] + other + cursor[i + 1:]: store.query(OWN, "ISSUER#", cursor=c))
    for cut in (cursor[:-1], cursor[1:], cursor + "A", cursor + "=", ""):
        if cut:
            refused(lambda c=cut: store.query(OWN, "ISSUER#", cursor=c))


def test_another_accounts_cursor_is_refused(store):
    _, theirs = store.query(OTHER, "ISSUER#", limit=2)
    refused(lambda: store.query(OWN, "ISSUER#", cursor=theirs))
    _, theirs = store.query(f"DAY#{OTHER}", limit=2, index=True)
    refused(lambda: store.query(f"DAY#{OWN}", cursor=theirs, index=True))


def test_a_cursor_only_serves_the_query_it_came_from(store):
    red = Attr("color").eq("red")
    _, cursor = store.query(OWN, "ISSUER#", limit=2, where=red)
    assert store.query(OWN, "ISSUER#", limit=2, where=red, cursor=cursor)[0]  # its own query goes on
    others = {
        "another filter": dict(where=Attr("color").eq("blue")),
        "no filter": dict(where=None),
        "another prefix": dict(sk_prefix="ISSUER#1"),
        "the other order": dict(forward=False),
        "a sort key range": dict(sk_prefix="", sk_range=("ISSUER#0", "ISSUER#9")),
        "the index": dict(index=True),
    }
    for name, change in others.items():
        query = {"sk_prefix": "ISSUER#", "where": red, **change}
        prefix = query.pop("sk_prefix")
        refused(lambda q=query, p=prefix: store.query(OWN, p, cursor=cursor, **q))


def test_a_cursor_sealed_with_another_key_is_refused(store):
    foreign = CursorSealer(key_from_secret("another deployment's secret"))
    _, cursor = DynamoStore(store.table_name, foreign).query(OWN, "ISSUER#", limit=2)
    refused(lambda: store.query(OWN, "ISSUER#", cursor=cursor))


def plain(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


FORGED = {
    "not base64": "%%%",
    "padding only": "====",
    "the old plain form": plain({"pk": OWN, "sk": "ISSUER#1"}),
    "a list of keys": plain([OWN, "ISSUER#1"]),
    "not JSON": encode(b"\xff\xfe"),
    "version byte and nonce only": encode(b"\x01" + bytes(12)),
    "deeply nested": encode(b"[" * 50_000),
    "a huge integer": encode(b"9" * 5000),
    "very long": "A" * 100_000,
}


@pytest.mark.parametrize("name", FORGED, ids=list(FORGED))
def test_forged_cursors_are_refused(store, name):
    refused(lambda: store.query(OWN, "ISSUER#", cursor=FORGED[name]))


def test_cursor_after_an_item_goes_on_right_after_it(store):
    page, _ = store.query(OWN, "ISSUER#", limit=3)
    cursor = store.cursor_after(page[1], OWN, "ISSUER#")
    after, _ = store.query(OWN, "ISSUER#", limit=10, cursor=cursor)
    assert [item["sk"] for item in after] == ["ISSUER#2", "ISSUER#3", "ISSUER#4"]
    refused(lambda: store.query(OTHER, "ISSUER#", cursor=cursor))
