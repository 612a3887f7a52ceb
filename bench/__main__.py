"""Benchmarks: `make bench` writes bench/results.json (and prints it). Every figure is a median over
repeated runs on this machine in this run; targets are stated next to the figure they judge."""

from __future__ import annotations

import compileall
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
COLD_RUNS = 9


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


# Run first in a fresh interpreter to measure imports as they were before the layer shipped bytecode:
# the standard library keeps its bytecode (the runtime's is compiled), every other module is compiled
# from its source, and nothing is written.
_FROM_SOURCE = """
import sys, sysconfig, _frozen_importlib_external as bootstrap
sys.dont_write_bytecode = True
_stdlib = sysconfig.get_paths()["stdlib"] + "/"
_cached = bootstrap.cache_from_source
def _no_bytecode(path, *args, **kwargs):
    if path.startswith(_stdlib) and "site-packages" not in path:
        return _cached(path, *args, **kwargs)
    raise NotImplementedError(path)
bootstrap.cache_from_source = _no_bytecode
"""


def compile_sources() -> None:
    """Bytecode for this repository's modules, as the layer ships it (the virtualenv's packages are
    compiled by `make install`). Timestamp-checked here, so an edited file is compiled again."""
    for folder in ("layers", "functions", "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def _cold_import_once(modules: str, *, from_source: bool = False, then: str = "pass") -> float:
    """Seconds to import modules (comma-separated) in a fresh interpreter: what a Lambda cold start pays
    before the handler runs. With bytecode (as the layer ships it), or `from_source` as before; `then`
    is code timed with the imports (a first request's work)."""
    imports = "; ".join(f"importlib.import_module({m.strip()!r})" for m in modules.split(","))
    code = (f"import time, importlib; t = time.perf_counter(); {imports}; {then}; "
            f"print(time.perf_counter() - t)")
    if from_source:
        code = _FROM_SOURCE + code
    # Lambda's own variables that change how a function loads: sello pauses the collector while a
    # function loads only where AWS_LAMBDA_FUNCTION_NAME is set (sello/__init__.py).
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "true",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "sello-bench"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_import(modules: str, runs: int = COLD_RUNS, *, from_source: bool = False) -> dict:
    samples = [_cold_import_once(modules, from_source=from_source) for _ in range(runs)]
    return {"median_ms": median_ms(samples), "runs": runs}


def cold_import_against(modules: str, baseline: str, runs: int = COLD_RUNS, *, from_source: bool = False,
                        then: str = "pass") -> dict:
    """The modules' cold import and the baseline's, one after the other in each run, so that both see the
    machine as it is at that moment: the medians of each, and the median of the runs' ratios."""
    case, base = [], []
    for _ in range(runs):
        base.append(_cold_import_once(baseline, from_source=from_source))
        case.append(_cold_import_once(modules, from_source=from_source, then=then))
    return {"median_ms": median_ms(case), "runs": runs, "baseline_median_ms": median_ms(base),
            "ratio_to_baseline_runtime": round(statistics.median(c / b for c, b in zip(case, base, strict=True)), 2)}


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
    compile_sources()
    # Each case with bytecode (what Lambda runs) and compiled from source (what it ran before the layer
    # shipped bytecode), each run beside a run of the baseline measured the same way.
    for name, modules in cases.BASELINES:
        r = cold_import(modules)
        r["from_source"] = cold_import(modules, from_source=True)
        results["cold_import"][name] = r
    baseline = dict(cases.BASELINES)["baseline_runtime"]
    for name, module, target_ms in cases.COLD_IMPORTS:
        r = cold_import_against(module, baseline)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        r["from_source"] = cold_import_against(module, baseline, from_source=True)
        r["bytecode_to_source"] = round(r["median_ms"] / r["from_source"]["median_ms"], 2)
        results["cold_import"][name] = r
    # Models build their validators on first use, not on import: what that first use adds.
    for name, modules, then in cases.FIRST_USE:
        results["cold_import"][name] = cold_import_against(modules, baseline, then=then)
    for name, fn, runs, target_ms in cases.warm_cases():
        r = timed(fn, runs)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        results["warm"][name] = r
    warm = results["warm"]
    # Mexico's signing path against satcfdi's own build and sign, measured in this run (aim: no slower).
    warm["build_seal_validate_10_concept_cfdi"]["ratio_to_satcfdi"] = round(
        warm["build_seal_validate_10_concept_cfdi"]["median_ms"]
        / warm["satcfdi_build_and_sign_10_concept_cfdi"]["median_ms"], 2)
    results["concurrent_create"] = concurrent_create.run()
    results["local_load"] = localload.run()
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
