"""What every function's cold start does first, laid out as Lambda lays it out (handler "api.documents.handler"
with functions/ as the code folder and the layer's python/ folder on the path)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sello.catalog import API_FUNCTIONS, AUTHORIZER, EVENT_FUNCTIONS, SCHEDULED_FUNCTIONS, STORE_FUNCTIONS
from sello.catalog import WORKFLOW_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
SPECS = (*API_FUNCTIONS, AUTHORIZER, *SCHEDULED_FUNCTIONS, *STORE_FUNCTIONS, *EVENT_FUNCTIONS, *WORKFLOW_FUNCTIONS)
PACKAGES = sorted({spec.handler.split(".")[0] for spec in SPECS})

CHECK = """
import gc, sys
default = gc.get_threshold()[0]
import {package}
young = gc.get_threshold()[0]
from sello import YOUNG_GENERATION
assert young == YOUNG_GENERATION > default, (young, default)
loaded = sorted(name for name in ("boto3", "botocore", "pydantic", "aws_lambda_powertools") if name in sys.modules)
assert not loaded, loaded
"""


@pytest.mark.parametrize("package", PACKAGES)
def test_the_collector_is_set_before_any_library_loads(package):
    """Loading a function's libraries allocates objects that are never garbage; the young generation is
    raised before the first of them loads (the package of the handler is imported first), not after."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "layers")])}
    done = subprocess.run([sys.executable, "-c", CHECK.format(package=package)], env=env, cwd=ROOT / "functions",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_handler_is_in_a_package_that_sets_the_collector():
    assert PACKAGES == ["api", "events", "integrations", "scheduled", "workflow"]
