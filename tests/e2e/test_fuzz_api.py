"""Generated requests against the whole API, from its own OpenAPI document: whatever a client sends,
the answer is never a server error. Schemathesis draws the requests (fixed seed, bounded count, so
the run is repeatable); revoking and rotating keys are left out so the account keeps its key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_no_generated_request_gets_a_server_error(local_stack, tmp_path):
    _, key = local_stack.new_account("Fuzz S.A.")
    command = [
        str(SCHEMATHESIS), "run", f"{local_stack.api_url}/openapi.json", "--url", local_stack.api_url,
        "-H", f"Authorization: Bearer {key}",
        "--checks", "not_a_server_error",
        "--exclude-path-regex", r"^/v1/api-keys/\{",
        "--max-examples", "15", "--seed", "20261121", "--workers", "1",
        "--request-timeout", "30",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated, report
    assert int(generated[1]) >= 100 and generated[1] == generated[2], report
