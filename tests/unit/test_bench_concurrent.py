"""`make bench`'s concurrent creations (bench/concurrent_create.py) run against the service layer as
it is today: a handful of creations, in a fresh process, hand out numbers 1..N."""

from __future__ import annotations

from bench import concurrent_create


def test_a_few_concurrent_creations_run_and_number_1_to_n():
    result = concurrent_create.run(creations=4)
    assert result["creations"] == 4
    assert result["numbers_are_1_to_n"] is True
