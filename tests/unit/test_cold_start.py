"""What every function's cold start does with the cyclic collector (sello/__init__.py), laid out as Lambda
lays it out: handler "api.documents.handler" with functions/ as the code folder and the layer's python/
folder on the path."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sello.catalog import API_FUNCTIONS, AUTHORIZER, EVENT_FUNCTIONS, SCHEDULED_FUNCTIONS, STORE_FUNCTIONS
from sello.catalog import WORKFLOW_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
SPECS = (*API_FUNCTIONS, AUTHORIZER, *SCHEDULED_FUNCTIONS, *STORE_FUNCTIONS, *EVENT_FUNCTIONS, *WORKFLOW_FUNCTIONS)
HANDLER_MODULES = sorted({spec.handler.removesuffix(".handler") for spec in SPECS})
PACKAGES = sorted({module.split(".")[0] for module in HANDLER_MODULES})

ON_LAMBDA = """
import gc, importlib, sys
default = gc.get_threshold()[0]
import {package}
paused, young = not gc.isenabled(), gc.get_threshold()[0]
loaded = sorted(name for name in ("boto3", "botocore", "pydantic", "aws_lambda_powertools") if name in sys.modules)
importlib.import_module("{module}")
from sello import YOUNG_GENERATION
assert paused and young == YOUNG_GENERATION > default, (paused, young, default)
assert not loaded, loaded
assert gc.isenabled() and gc.get_threshold()[0] == YOUNG_GENERATION
assert gc.get_freeze_count() > 20_000, gc.get_freeze_count()  # what was loaded, out of the collector's way
"""

ELSEWHERE = """
import gc
import {module}
from sello import YOUNG_GENERATION
assert gc.isenabled() and gc.get_threshold()[0] == YOUNG_GENERATION
assert gc.get_freeze_count() == 0, gc.get_freeze_count()
"""


def _run(code: str, *, lambda_name: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "layers")]),
           "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    if lambda_name:
        env["AWS_LAMBDA_FUNCTION_NAME"] = lambda_name
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT / "functions", capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_on_lambda_the_collector_is_paused_while_the_function_loads(module):
    """Before the first library loads (the handler's package imports sello first) the collector stops,
    and the handler module's last line starts it again, with a young generation of 50,000 and what
    was loaded frozen: a handler that forgot that line would run with no cyclic collection at all."""
    done = _run(ON_LAMBDA.format(package=module.split(".")[0], module=module), lambda_name="sello-test-fn")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["api.documents", "workflow.sign"])
def test_elsewhere_the_collector_is_never_paused(module):
    """Tests, the local stack and scripts import handlers without Lambda's environment: the collector
    keeps running (with the larger young generation) and nothing is frozen."""
    done = _run(ELSEWHERE.format(module=module), lambda_name=None)
    assert done.returncode == 0, done.stderr


def test_every_handler_is_in_a_package_that_imports_sello_first():
    assert PACKAGES == ["api", "events", "integrations", "scheduled", "workflow"]
    for package in PACKAGES:
        code = (ROOT / "functions" / package / "__init__.py").read_text()
        assert [line for line in code.splitlines() if line and not line.startswith("#")] == [
            "import sello  # noqa: F401"]
