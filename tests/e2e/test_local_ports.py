"""`python -m local` when a port it needs is taken: it ends at once, non-zero, and says which flag or
environment variable chooses another port (it used to wait for ever, deaf to Ctrl-C)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local.__main__ import PORTS
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# Far longer than the start-up's imports take; a stack that waits for its port never ends by itself.
TIMEOUT_S = 60


@pytest.fixture
def taken_port():
    """A port something else listens on (127.0.0.1, where the stack binds)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def run_local(outbox: Path, ports: dict[str, int], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m local` with the given ports (by service); every other port is a free one (0) unless
    `env` sets its variable."""
    env = env or {}
    command = [sys.executable, "-m", "local", "--no-seed", "--json-ready", "--outbox-dir", str(outbox)]
    for service, (_, flag, variable, _) in PORTS.items():
        if service in ports or variable not in env:
            command += [flag, str(ports.get(service, 0))]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    return subprocess.run(command, cwd=REPO_ROOT, env={**base, **env}, capture_output=True, text=True,
                          timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("service", list(PORTS))
def test_a_taken_port_ends_the_start_at_once_naming_its_flag(taken_port, service, tmp_path):
    what, flag, variable, _ = PORTS[service]
    done = run_local(tmp_path, {service: taken_port})
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"port {taken_port} for {what} is in use" in done.stderr
    assert flag in done.stderr and variable in done.stderr
    assert "Traceback" not in done.stderr
    assert '"sello_local": "ready"' not in done.stdout


def test_the_environment_variable_is_named_too(taken_port, tmp_path):
    done = run_local(tmp_path, {}, env={"SELLO_MOTO_PORT": str(taken_port)})
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"port {taken_port} for the AWS emulator is in use" in done.stderr
    assert "--moto-port" in done.stderr and "SELLO_MOTO_PORT" in done.stderr
