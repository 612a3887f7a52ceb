"""The local stack under sustained load (bench/localload.py's mix, in a stack of its own): memory grows
with the data kept, not with the requests served, and the stack stops within seconds."""

from __future__ import annotations

import pytest

from bench import localload

# In the e2e group: one stack under load at a time, never while the shared stack starts.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

REQUESTS = 400
# Measured with this mix: about 0.07 MB per request now (the documents, their files and SRI's records,
# and the bounded histories filling up); over 0.4 MB per request when the emulator kept every table
# copy, execution and message, growing with every request served.
MAX_GROWTH_PER_REQUEST = 250 * 1024
MAX_STOP_SECONDS = 5


def test_memory_stays_bounded_and_the_stack_stops_within_seconds(tmp_path):
    result = localload.run(REQUESTS, workdir=tmp_path)
    assert result["requests"] == REQUESTS
    assert result["failures"] == [], result["failures"]
    assert set(result["statuses"]) <= {"200", "201"}, result["statuses"]
    assert result["server_errors"] == 0 and result["under_1_gib"], result
    assert result["latency_ms"]["p50"] is not None and result["stack_processes"] >= 1, result
    assert result["rss_growth_bytes_per_request"] < MAX_GROWTH_PER_REQUEST, result
    assert not result["killed_after_timeout"] and result["exit_code"] == 0, result
    assert result["stop_seconds"] < MAX_STOP_SECONDS, result
