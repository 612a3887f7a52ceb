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


def cold_imports() -> dict:
    from bench import cases

    results = {}
    compile_sources()
    # Each case with bytecode (what Lambda runs) and compiled from source (what it ran before the layer
    # shipped bytecode), each run beside a run of the baseline measured the same way.
    for name, modules in cases.BASELINES:
        r = cold_import(modules)
        r["from_source"] = cold_import(modules, from_source=True)
        results[name] = r
    baseline = dict(cases.BASELINES)["baseline_runtime"]
    for name, module, target_ms in cases.COLD_IMPORTS:
        r = cold_import_against(module, baseline)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        r["from_source"] = cold_import_against(module, baseline, from_source=True)
        r["bytecode_to_source"] = round(r["median_ms"] / r["from_source"]["median_ms"], 2)
        results[name] = r
    # Models build their validators on first use, not on import: what that first use adds.
    for name, modules, then in cases.FIRST_USE:
        results[name] = cold_import_against(modules, baseline, then=then)
    return results


def warm() -> dict:
    from bench import cases

    results = {}
    for name, fn, runs, target_ms in cases.warm_cases():
        r = timed(fn, runs)
        r["target_ms"] = target_ms
        r["meets_target"] = target_ms is None or r["median_ms"] < target_ms
        results[name] = r
    # Mexico's signing path against satcfdi's own build and sign, measured in this run (aim: no slower).
    results["build_seal_validate_10_concept_cfdi"]["ratio_to_satcfdi"] = round(
        results["build_seal_validate_10_concept_cfdi"]["median_ms"]
        / results["satcfdi_build_and_sign_10_concept_cfdi"]["median_ms"], 2)
    return results


def _concurrent_create() -> dict:
    from bench import concurrent_create

    return concurrent_create.run()


def _local_load() -> dict:
    from bench import localload

    return localload.run()


SECTIONS = {"cold_import": cold_imports, "warm": warm, "concurrent_create": _concurrent_create,
            "local_load": _local_load}


def main(argv: list[str]) -> None:
    """`python -m bench` runs every section; `python -m bench cold_import warm` only those, keeping the
    other sections of results.json as they were. Each section says when and where it ran (`runs`): the
    figures compared within a section always come from the same run."""
    unknown = [name for name in argv if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")
    chosen = argv or list(SECTIONS)
    results = json.loads(OUT.read_text()) if argv and OUT.exists() else {}
    machine = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    runs = results.setdefault("runs", {})
    earlier = results.pop("machine", None)  # files written before sections said where they ran
    for name in SECTIONS:
        if earlier and name in results:
            runs.setdefault(name, earlier)
    for name in chosen:
        results[name] = SECTIONS[name]()
        runs[name] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **machine}
    results = {"runs": runs, **{name: results[name] for name in SECTIONS if name in results}}
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
