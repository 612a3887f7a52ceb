"""The local stack (`python -m local`) in a subprocess on free ports, once per test session, so its
environment and emulator state stay out of every other test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT

STARTUP_TIMEOUT_S = 30


@dataclass(frozen=True)
class LocalStack:
    api_url: str
    moto_url: str
    api_key: str
    account: dict
    outbox_dir: Path

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30, trust_env=False)


def _ready_line(stdout: Path) -> dict | None:
    for line in stdout.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"sello_local": "ready"' in line:
            return json.loads(line)
    return None


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory) -> LocalStack:
    workdir = tmp_path_factory.mktemp("local-stack")
    stdout, stderr, outbox = workdir / "stdout.log", workdir / "stderr.log", workdir / "outbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    command = [sys.executable, "-m", "local", "--api-port", "0", "--moto-port", "0", "--json-ready",
               "--outbox-dir", str(outbox)]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        ready = None
        while ready is None:
            ready = _ready_line(stdout)
            if ready is None and (proc.poll() is not None or time.monotonic() > deadline):
                state = f"exited with {proc.returncode}" if proc.poll() is not None else \
                    f"not ready after {STARTUP_TIMEOUT_S} s"
                log = stderr.read_text(errors="replace")[-6000:]
                pytest.fail(f"the local stack {state}; its stderr:\n{log}")
            time.sleep(0.05)
        yield LocalStack(api_url=ready["api_url"], moto_url=ready["moto_url"], api_key=ready["api_key"],
                         account=ready["account"], outbox_dir=Path(ready["outbox_dir"]))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
