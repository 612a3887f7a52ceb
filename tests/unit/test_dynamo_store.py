"""DynamoStore beyond one page and one kind of update: query_all reads every page, update takes
SET, ADD, REMOVE and DELETE (set elements) together."""

from __future__ import annotations

import pytest

from sello.adapters.dynamo import ConditionFailed, DynamoStore

OWN, OTHER = "ACCOUNT#acct_own", "ACCOUNT#acct_other"


@pytest.fixture
def store(aws):
    return DynamoStore(aws["SELLO_TABLE_NAME"])


def test_query_all_reads_past_the_first_page_and_stays_in_its_partition_and_prefix(store):
    with store.table.batch_writer() as batch:
        for i in range(230):  # more than two pages of 100
            batch.put_item(Item={"pk": OWN, "sk": f"CERT#{i:03d}", "gsi1pk": "DAY#1", "gsi1sk": f"{i:03d}"})
        batch.put_item(Item={"pk": OWN, "sk": "ISSUER#1"})
        batch.put_item(Item={"pk": OTHER, "sk": "CERT#999"})
    items = store.query_all(OWN, "CERT#")
    assert [i["sk"] for i in items] == [f"CERT#{i:03d}" for i in range(230)]
    assert len(store.query_all("DAY#1", index=True)) == 230
    assert store.query_all("ACCOUNT#nobody") == []


def test_update_sets_adds_removes_and_deletes_set_elements_in_one_write(store):
    store.put({"pk": OWN, "sk": "CERT#1", "status": "active", "note": "x", "warnings_sent": {30, 15}})
    item = store.update(OWN, "CERT#1", set_={"status": "replaced"}, add={"polls": 1}, remove=["note"],
                        delete={"warnings_sent": {15}}, condition="#status = :active",
                        values={":active": "active"})
    assert item == {"pk": OWN, "sk": "CERT#1", "status": "replaced", "polls": 1, "warnings_sent": {30}}
    assert store.update(OWN, "CERT#1", delete={"warnings_sent": {30}}) == {
        "pk": OWN, "sk": "CERT#1", "status": "replaced", "polls": 1}  # an emptied set is no attribute
    with pytest.raises(ConditionFailed):
        store.update(OWN, "CERT#1", delete={"warnings_sent": {7}}, condition="#status = :active",
                     values={":active": "active"})
