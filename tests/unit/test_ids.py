"""Ids: `is_id` accepts exactly what `new_id` produces for the same prefix."""

from __future__ import annotations

import pytest

from sello.ids import ID_LENGTH, is_id, new_id


@pytest.mark.parametrize("prefix", ["iss", "doc", "key", "acct"])
def test_new_ids_are_ids_of_their_prefix_only(prefix):
    value = new_id(prefix)
    assert len(value) == len(prefix) + 1 + ID_LENGTH
    assert is_id(value, prefix)
    assert not is_id(value, "other")


@pytest.mark.parametrize("value", [
    "iss_" + "a" * (ID_LENGTH - 1),  # too short
    "iss_" + "a" * (ID_LENGTH + 1),  # too long
    "iss_" + "A" * ID_LENGTH,  # upper case
    "iss_" + "a" * (ID_LENGTH - 1) + "-",
    "iss_" + "a" * (ID_LENGTH - 1) + "\n",
    "xiss_" + "a" * ID_LENGTH,
    "iss" + "a" * (ID_LENGTH + 1),
    "",
])
def test_anything_else_is_not_an_id(value):
    assert not is_id(value, "iss")


def test_the_prefix_is_taken_literally():
    assert not is_id("isxs_" + "a" * ID_LENGTH, "is.s")
    assert is_id("is.s_" + "a" * ID_LENGTH, "is.s")
