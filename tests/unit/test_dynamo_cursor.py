"""Paging cursors of DynamoStore.query: the ones it hands out lead to the next page, anything else
(tampered, another partition, outside the queried prefix, not a cursor at all) is a 400 before
DynamoDB is asked."""

from __future__ import annotations

import base64
import json

import pytest

from sello.adapters.dynamo import DynamoStore
from sello.errors import BadRequest

OWN, OTHER = "ACCOUNT#acct_own", "ACCOUNT#acct_other"


@pytest.fixture
def store(aws):
    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    for pk in (OWN, OTHER):
        for i in range(5):
            store.put({"pk": pk, "sk": f"ISSUER#{i}", "gsi1pk": f"DAY#{pk}", "gsi1sk": f"ISSUER#{i}"})
        store.put({"pk": pk, "sk": "META"})
    return store


def cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


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


TABLE_KEY = {"pk": OWN, "sk": "ISSUER#1"}
INDEX_KEY = {"pk": OWN, "sk": "ISSUER#1", "gsi1pk": f"DAY#{OWN}", "gsi1sk": "ISSUER#1"}

FORGED = {
    "not base64": "%%%",
    "not JSON": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "a list": cursor([OWN, "ISSUER#1"]),
    "partition key only": cursor({"pk": OWN}),
    "an extra attribute": cursor({**TABLE_KEY, "status": "active"}),
    "index keys on the table": cursor(INDEX_KEY),
    "a number": cursor({"pk": OWN, "sk": 1}),
    "an empty sort key": cursor({"pk": OWN, "sk": ""}),
    "another partition": cursor({"pk": OTHER, "sk": "ISSUER#1"}),
    "outside the prefix": cursor({"pk": OWN, "sk": "META"}),
    "deeply nested": base64.urlsafe_b64encode(b"[" * 50_000).decode(),
    "a huge integer": base64.urlsafe_b64encode(b"9" * 5000).decode(),
}


@pytest.mark.parametrize("name", FORGED, ids=list(FORGED))
def test_forged_table_cursors_are_refused(store, name):
    with pytest.raises(BadRequest) as err:
        store.query(OWN, "ISSUER#", cursor=FORGED[name])
    assert (err.value.code, err.value.path, err.value.status) == ("invalid_cursor", "cursor", 400)


@pytest.mark.parametrize("key", [
    TABLE_KEY,  # the table's keys without the index's
    {"gsi1pk": f"DAY#{OWN}", "gsi1sk": "ISSUER#1"},  # the index's without the table's
    {**INDEX_KEY, "gsi1pk": f"DAY#{OTHER}"},
    {**INDEX_KEY, "extra": "x"},
], ids=["table keys only", "index keys only", "another partition", "an extra attribute"])
def test_forged_index_cursors_are_refused(store, key):
    with pytest.raises(BadRequest) as err:
        store.query(f"DAY#{OWN}", cursor=cursor(key), index=True)
    assert err.value.code == "invalid_cursor"
