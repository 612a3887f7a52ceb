"""The load bench's own arithmetic and process accounting (bench/localload.py), without a stack."""

from __future__ import annotations

import os
import subprocess
import sys

from bench import localload


def test_percentiles_are_nearest_rank_in_ms():
    samples = [n / 1000 for n in range(1, 101)]  # 1..100 ms
    assert [localload.percentile(samples, p) for p in (50, 95, 100)] == [50.0, 95.0, 100.0]
    assert localload.percentile([0.25], 95) == 250.0
    assert localload.percentile([], 50) is None


def test_the_stack_s_memory_counts_every_process_it_started():
    alone = localload.stack_memory(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in localload.process_tree(os.getpid())
        with_child = localload.stack_memory(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert alone["rss"] > 0 and alone["processes"] >= 1
    assert with_child["processes"] == alone["processes"] + 1
    assert localload.cpu_seconds(os.getpid()) > 0
