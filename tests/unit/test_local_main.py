"""`python -m local`'s main: Ctrl-C or SIGTERM while the stack starts abandons the start-up at once,
with what was started stopped again."""

from __future__ import annotations

import os
import signal
import time

import pytest

import local.__main__ as cli


@pytest.fixture
def restore_signals():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_signal_while_starting_stops_the_start_up(monkeypatch, restore_signals, capsys, signum):
    stopped = []

    def slow_start(**_kwargs):
        """A start-up that would take a minute, and stops what it started when abandoned; the signal
        arrives while it runs."""
        try:
            os.kill(os.getpid(), signum)
            for _ in range(600):
                time.sleep(0.1)
        finally:
            stopped.append(True)
        raise AssertionError("the start-up was not interrupted")

    monkeypatch.setattr(cli, "start_stack", slow_start)
    assert cli.main(["--api-port", "0", "--moto-port", "0", "--sri-port", "0"]) == 128 + signum
    assert stopped == [True]
    assert "Interrupted while starting; stopped." in capsys.readouterr().err


def test_ports_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SELLO_LOCAL_PORT", "3100")
    monkeypatch.setenv("SELLO_MOTO_PORT", "5150")
    monkeypatch.setenv("SELLO_SRI_PORT", "3101")
    args = cli.parse_args([])
    assert (args.api_port, args.moto_port, args.sri_port) == (3100, 5150, 3101)
    assert cli.parse_args(["--moto-port", "0"]).moto_port == 0


def test_a_bad_port_in_the_environment_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("SELLO_MOTO_PORT", "fifty")
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args([])
    assert exit_.value.code == 2
    assert "SELLO_MOTO_PORT='fifty' is not a port" in capsys.readouterr().err
