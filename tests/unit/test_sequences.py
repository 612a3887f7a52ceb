"""Document numbers on the emulated table: a counter per series, and returned numbers reused first,
each once. (Many requests at once: tests/integration/test_documents_issue.py.)"""

from __future__ import annotations

import pytest

from sello.adapters.dynamo import DynamoStore
from sello.adapters.sequences import DynamoSequences, SequenceKey

SERIES = SequenceKey("acct_1", "iss_1", "test", "invoice", "001-001")


@pytest.fixture
def store(aws) -> DynamoStore:
    return DynamoStore(aws["SELLO_TABLE_NAME"])


@pytest.fixture
def sequences(store) -> DynamoSequences:
    return DynamoSequences(store)


def test_each_series_counts_from_one_in_its_own_item(store, sequences):
    assert [sequences.allocate(SERIES) for _ in range(3)] == [1, 2, 3]
    others = [SequenceKey("acct_1", "iss_1", "live", "invoice", "001-001"),
              SequenceKey("acct_1", "iss_1", "test", "credit_note", "001-001"),
              SequenceKey("acct_1", "iss_1", "test", "invoice", "001-002"),
              SequenceKey("acct_1", "iss_2", "test", "invoice", "001-001"),
              SequenceKey("acct_2", "iss_1", "test", "invoice", "001-001")]
    assert [sequences.allocate(key) for key in others] == [1] * len(others)
    item = store.get("ACCOUNT#acct_1", "SEQ#iss_1#test#invoice#001-001")
    assert (item["type"], item["last"]) == ("sequence", 3)


def test_returned_numbers_come_first_smallest_first_each_once(store, sequences):
    for _ in range(6):
        sequences.allocate(SERIES)
    sequences.release(SERIES, 5)
    sequences.release(SERIES, 2)
    sequences.release(SERIES, 5)  # returned twice is still one number
    assert store.get(*SERIES.keys().values())["free"] == {2, 5}
    assert [sequences.allocate(SERIES) for _ in range(4)] == [2, 5, 7, 8]
    assert "free" not in store.get(*SERIES.keys().values())


def test_a_returned_number_taken_by_another_request_meanwhile_is_skipped(store, sequences, monkeypatch):
    for _ in range(4):
        sequences.allocate(SERIES)
    sequences.release(SERIES, 2)
    sequences.release(SERIES, 3)
    other = DynamoSequences(store)
    take = DynamoSequences._take
    raced: list[int] = []

    def racing(self, key, number):
        if self is not other and not raced:  # another request takes this very number first
            raced.append(other.allocate(key))
        return take(self, key, number)

    monkeypatch.setattr(DynamoSequences, "_take", racing)
    assert sequences.allocate(SERIES) == 3
    assert raced == [2]
    assert sequences.allocate(SERIES) == 5
    assert "free" not in store.get(*SERIES.keys().values())
