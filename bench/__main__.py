"""Benchmarks: `make bench` writes bench/results.json (and prints it). Every figure is a median over
repeated runs on this machine in this run; targets are stated next to the figure they judge."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results.json"


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def cold_import(modules: str, runs: int = 7) -> dict:
    """Time to import modules (comma-separated) in a fresh interpreter: what a Lambda cold start pays
    before the handler runs."""
    imports = "; ".join(f"importlib.import_module({m.strip()!r})" for m in modules.split(","))
    code = f"import time, importlib; t = time.perf_counter(); {imports}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "true",
           "AWS_DEFAULT_REGION": "us-east-1"}
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                             check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return {"median_ms": median_ms(samples), "runs": runs}


def timed(fn, runs: int) -> dict:
    fn()  # warm
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return {"median_ms": median_ms(samples), "runs": runs}


def main() -> None:
    from bench import cases, concurrent_create, localload

    results = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "cold_import": {},
        "warm": {},
    }
    for name, modules in cases.BASELINES:
        results["cold_import"][name] = cold_import(modules)
    runtime = results["cold_import"]["baseline_runtime"]["median_ms"]
    for name, module, target_ms in cases.COLD_IMPORTS:
        r = cold_import(module)
        r["ratio_to_baseline_runtime"] = round(r["median_ms"] / runtime, 2)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        results["cold_import"][name] = r
    for name, fn, runs, target_ms in cases.warm_cases():
        r = timed(fn, runs)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        results["warm"][name] = r
    results["concurrent_create"] = concurrent_create.run()
    results["local_load"] = localload.run()
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
