"""The local stack under load: starts `python -m local` in its own process, drives N requests of a
client's everyday mix through its API, and reports the stack's memory before and after and how long
it takes to stop once told to (SIGTERM, as `make up`'s Ctrl-C or a process manager would).

The mix, repeated every 20 requests: 2 document creations (each one also runs its whole workflow in
the stack: sign, SRI simulator, RIDE, email), 10 reads of a recent document, 4 lists (2 filtered by
status or type), 1 call for the account, 1 for the issuers, and 1 API key created and 1 revoked (both
DynamoDB transactions). `python -m bench.localload --requests 2000` runs it alone and prints the JSON."""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
DEFAULT_REQUESTS = 20_000
DEFAULT_CLIENTS = 4
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 120
MIX = ("create", "get", "list", "get", "me", "get", "get", "list_authorized", "key_create", "get",
       "create", "get", "list", "get", "issuers", "get", "get", "list_invoices", "key_revoke", "get")


def rss_bytes(pid: int) -> dict[str, int]:
    """Resident memory of a process now and at its peak (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


def mib(n: int) -> float:
    return round(n / 2**20, 1)


class LocalStackProcess:
    """`python -m local` on free ports, its output in files under `workdir`."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
        env.update(extra_env or {})
        command = [sys.executable, "-m", "local", "--api-port", "0", "--moto-port", "0", "--sri-port", "0",
                   "--json-ready", "--outbox-dir", str(workdir / "outbox")]
        self.stdout, self.stderr = workdir / "stdout.log", workdir / "stderr.log"
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.ready = self._wait_ready()

    def _wait_ready(self) -> dict:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            for line in self.stdout.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"sello_local": "ready"' in line:
                    return json.loads(line)
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                tail = self.stderr.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"the local stack did not start; its stderr:\n{tail}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> dict:
        """SIGTERM, then the time until the process has exited (killed after `timeout`)."""
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
            killed = False
        except subprocess.TimeoutExpired:
            self.kill()
            code, killed = self.proc.returncode, True
        return {"stop_seconds": round(time.perf_counter() - started, 3), "exit_code": code,
                "killed_after_timeout": killed}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _set_up(api_url: str, out_dir: Path) -> tuple[str, str]:
    """An account with a confirmed key and an issuer with its certificate (`make demo`'s steps)."""
    from local import demo

    with (httpx.Client(base_url=api_url, timeout=60, trust_env=False) as api,
          contextlib.redirect_stdout(io.StringIO())):
        key, issuer_id, _ = demo.run(api, email="load@example.com", out_dir=out_dir)
    return key, issuer_id


class Load:
    """N requests of MIX from `clients` threads, each with its own connection."""

    def __init__(self, api_url: str, key: str, issuer_id: str, requests: int, clients: int):
        self.api_url, self.requests, self.clients = api_url, requests, clients
        self.headers = {"Authorization": f"Bearer {key}"}
        self.invoice = {**json.loads((EVENTS / "documents" / "create_invoice.body.json").read_text()),
                        "issuer_id": issuer_id}
        self.next = itertools.count()
        self.lock = threading.Lock()
        self.documents: collections.deque[str] = collections.deque([], maxlen=200)
        self.keys: collections.deque[str] = collections.deque()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []

    def _request(self, client: httpx.Client, op: str) -> httpx.Response:
        with self.lock:
            recent = self.documents[-1] if self.documents else None
            key_id = self.keys.popleft() if op == "key_revoke" and self.keys else None
        if op == "create":
            return client.post("/v1/documents", json=self.invoice)
        if op == "get" and recent:
            return client.get(f"/v1/documents/{recent}")
        if op in ("list", "get"):
            return client.get("/v1/documents", params={"limit": 20})
        if op == "list_authorized":
            return client.get("/v1/documents", params={"limit": 20, "status": "authorized"})
        if op == "list_invoices":
            return client.get("/v1/documents", params={"limit": 20, "type": "invoice"})
        if op == "me":
            return client.get("/v1/accounts/me")
        if op == "issuers":
            return client.get("/v1/issuers")
        if op == "key_create" or key_id is None:
            return client.post("/v1/api-keys", json={"environment": "test", "name": "load"})
        return client.delete(f"/v1/api-keys/{key_id}")

    def _worker(self) -> None:
        with httpx.Client(base_url=self.api_url, headers=self.headers, timeout=60, trust_env=False) as client:
            while (n := next(self.next)) < self.requests:
                op = MIX[n % len(MIX)]
                try:
                    response = self._request(client, op)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.statuses["transport_error"] += 1
                        if len(self.failures) < 5:
                            self.failures.append(f"{op}: {exc!r}")
                    continue
                with self.lock:
                    self.statuses[str(response.status_code)] += 1
                    if not response.is_success and len(self.failures) < 5:
                        self.failures.append(f"{op}: {response.status_code} {response.text[:200]}")
                    if response.status_code == 201 and op == "create":
                        self.documents.append(response.json()["id"])
                    elif response.status_code == 201:
                        self.keys.append(response.json()["id"])

    def run(self) -> float:
        started = time.perf_counter()
        threads = [threading.Thread(target=self._worker, name=f"load-{i}") for i in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started


def run(requests: int | None = None, clients: int = DEFAULT_CLIENTS, workdir: Path | None = None) -> dict:
    """The figures as one JSON-able dict."""
    requests = int(os.environ.get("SELLO_BENCH_LOAD_REQUESTS", DEFAULT_REQUESTS)) if requests is None \
        else requests
    workdir = workdir or Path(tempfile.mkdtemp(prefix="sello-load-"))
    stack = LocalStackProcess(workdir)
    try:
        key, issuer_id = _set_up(stack.ready["api_url"], workdir / "demo")
        before = rss_bytes(stack.pid)
        load = Load(stack.ready["api_url"], key, issuer_id, requests, clients)
        seconds = load.run()
        after = rss_bytes(stack.pid)
    except BaseException:
        stack.kill()
        raise
    stopped = stack.stop()
    done = sum(load.statuses.values())
    return {
        "requests": done,
        "clients": clients,
        "mix": "per 20 requests: 2 document creations, 10 document reads, 4 lists, 2 account/issuer reads, "
               "1 API key created, 1 revoked",
        "seconds": round(seconds, 1),
        "requests_per_second": round(done / seconds, 1) if seconds else None,
        "statuses": dict(sorted(load.statuses.items())),
        "failures": load.failures,
        "rss_before_mib": mib(before["rss"]),
        "rss_after_mib": mib(after["rss"]),
        "rss_peak_mib": mib(after["peak"]),
        "rss_growth_bytes_per_request": round((after["rss"] - before["rss"]) / max(done, 1)),
        **stopped,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.localload", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None,
                        help=f"how many (default: $SELLO_BENCH_LOAD_REQUESTS or {DEFAULT_REQUESTS})")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="concurrent clients")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.requests, args.clients), indent=2))


if __name__ == "__main__":
    main()
