"""The local stack under load: starts `python -m local` in its own process, drives N requests of a
client's everyday mix through its API, and reports the stack's memory before and after and how long
it takes to stop once told to (SIGTERM, as `make up`'s Ctrl-C or a process manager would).

The mix, repeated every 20 requests: 2 document creations (each one also runs its whole workflow in
the stack: sign, SRI simulator, RIDE, email), 10 reads of a recent document, 4 lists (2 filtered by
status or type), 1 call for the account, 1 for the issuers, and 1 API key created and 1 revoked (both
DynamoDB transactions). `python -m bench.localload --requests 2000` runs it alone and prints the JSON.

What it reports: throughput over the whole run and per window of WINDOW_SECONDS (their median, and the
first and last window, as the stack slows down when it holds more), request latency (p50, p95, p99,
max), the answers by status (5xx counted apart), the stack's CPU time per request, the resident memory
of the whole stack (its process and any it starts, sampled every second: the peak of their sum, and
each process's own peak), and how long it takes to stop once told to."""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import itertools
import json
import math
import os
import signal
import statistics
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
WINDOW_SECONDS = 30
MEMORY_SAMPLE_SECONDS = 1.0
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


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:  # the task ended meanwhile
                pass
    return found


def stack_memory(pid: int) -> dict[str, int]:
    """Resident memory of the whole stack now (the sum over its processes) and the processes' own peaks."""
    total, peaks = 0, {}
    for member in process_tree(pid):
        try:
            rss = rss_bytes(member)
        except (OSError, KeyError):  # ended meanwhile
            continue
        total += rss["rss"]
        peaks[member] = rss["peak"]
    return {"rss": total, "processes": len(peaks), "peak_sum": sum(peaks.values())}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and of its children that have ended (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def percentile(samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile of seconds, in ms."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return round(ordered[rank - 1] * 1000, 1)


class MemoryWatch:
    """Samples the stack's memory every MEMORY_SAMPLE_SECONDS in a thread, keeping the peak of the sum."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.processes = pid, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)

    def sample(self) -> dict[str, int]:
        now = stack_memory(self.pid)
        self.peak = max(self.peak, now["rss"], 0)
        self.processes = max(self.processes, now["processes"])
        return now

    def _run(self) -> None:
        while not self.done.wait(MEMORY_SAMPLE_SECONDS):
            try:
                self.sample()
            except OSError:
                return

    def __enter__(self) -> MemoryWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


class LocalStackProcess:
    """`python -m local` on free ports, its output in files under `workdir`."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
        env.update(extra_env or {})
        # every port free, the PAC simulator's too: two stacks (a benchmark and a test) can run at once
        command = [sys.executable, "-m", "local", "--api-port", "0", "--moto-port", "0", "--sri-port", "0",
                   "--pac-port", "0", "--json-ready", "--outbox-dir", str(workdir / "outbox")]
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

    def __init__(self, api_url: str, key: str, issuer_id: str, requests: int, clients: int,
                 progress: bool = False):
        self.api_url, self.requests, self.clients, self.progress = api_url, requests, clients, progress
        self.headers = {"Authorization": f"Bearer {key}"}
        self.invoice = {**json.loads((EVENTS / "documents" / "create_invoice.body.json").read_text()),
                        "issuer_id": issuer_id}
        self.next = itertools.count()
        self.lock = threading.Lock()
        self.documents: collections.deque[str] = collections.deque([], maxlen=200)
        self.keys: collections.deque[str] = collections.deque()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self.latencies: list[float] = []  # seconds, of every request that was answered
        self.windows: list[float] = []  # requests per second in each full window

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
                started = time.perf_counter()
                try:
                    response = self._request(client, op)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.statuses["transport_error"] += 1
                        if len(self.failures) < 5:
                            self.failures.append(f"{op}: {exc!r}")
                    continue
                took = time.perf_counter() - started
                with self.lock:
                    self.latencies.append(took)
                    self.statuses[str(response.status_code)] += 1
                    if not response.is_success and len(self.failures) < 5:
                        self.failures.append(f"{op}: {response.status_code} {response.text[:200]}")
                    if response.status_code == 201 and op == "create":
                        self.documents.append(response.json()["id"])
                    elif response.status_code == 201:
                        self.keys.append(response.json()["id"])

    def done(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def run(self, memory: MemoryWatch | None = None) -> float:
        started = time.perf_counter()
        threads = [threading.Thread(target=self._worker, name=f"load-{i}") for i in range(self.clients)]
        for t in threads:
            t.start()
        window_start, window_done = started, 0
        while any(t.is_alive() for t in threads):
            for t in threads:  # until the window ends or every client is done
                t.join(timeout=max(0.0, window_start + WINDOW_SECONDS - time.perf_counter()))
            now, done = time.perf_counter(), self.done()
            if now - window_start >= WINDOW_SECONDS:  # a full window (a last, partial one is left out)
                self.windows.append(round((done - window_done) / (now - window_start), 2))
                window_start, window_done = now, done
                if self.progress:
                    memory_now = f", stack {mib(memory.peak):.0f} MiB at most" if memory else ""
                    print(f"{done}/{self.requests} requests, {self.windows[-1]:.1f}/s in the last "
                          f"{WINDOW_SECONDS} s{memory_now}", file=sys.stderr, flush=True)
        return time.perf_counter() - started


def run(requests: int | None = None, clients: int = DEFAULT_CLIENTS, workdir: Path | None = None, *,
        progress: bool = False) -> dict:
    """The figures as one JSON-able dict."""
    requests = int(os.environ.get("SELLO_BENCH_LOAD_REQUESTS", DEFAULT_REQUESTS)) if requests is None \
        else requests
    workdir = workdir or Path(tempfile.mkdtemp(prefix="sello-load-"))
    stack = LocalStackProcess(workdir)
    try:
        key, issuer_id = _set_up(stack.ready["api_url"], workdir / "demo")
        load = Load(stack.ready["api_url"], key, issuer_id, requests, clients, progress=progress)
        with MemoryWatch(stack.pid) as memory:
            before = memory.sample()
            cpu_before = cpu_seconds(stack.pid)
            seconds = load.run(memory)
            cpu = cpu_seconds(stack.pid) - cpu_before
            after = memory.sample()
        peak_process = rss_bytes(stack.pid)["peak"]
    except BaseException:
        stack.kill()
        raise
    stopped = stack.stop()
    done = sum(load.statuses.values())
    server_errors = sum(n for status, n in load.statuses.items() if status.startswith("5"))
    return {
        "requests": done,
        "clients": clients,
        "mix": "per 20 requests: 2 document creations, 10 document reads, 4 lists, 2 account/issuer reads, "
               "1 API key created, 1 revoked",
        "seconds": round(seconds, 1),
        "requests_per_second": round(done / seconds, 1) if seconds else None,
        "window_seconds": WINDOW_SECONDS,
        "requests_per_second_windows": {
            "median": statistics.median(load.windows) if load.windows else None,
            "first": load.windows[0] if load.windows else None,
            "last": load.windows[-1] if load.windows else None,
            "count": len(load.windows)},
        "latency_ms": {"p50": percentile(load.latencies, 50), "p95": percentile(load.latencies, 95),
                       "p99": percentile(load.latencies, 99), "max": percentile(load.latencies, 100)},
        "statuses": dict(sorted(load.statuses.items())),
        "server_errors": server_errors,
        "failures": load.failures,
        "stack_cpu_seconds": round(cpu, 1),
        "stack_cpu_ms_per_request": round(cpu * 1000 / max(done, 1), 1),
        "stack_processes": memory.processes,
        "rss_before_mib": mib(before["rss"]),
        "rss_after_mib": mib(after["rss"]),
        "rss_peak_mib": mib(max(memory.peak, peak_process)),
        "rss_growth_bytes_per_request": round((after["rss"] - before["rss"]) / max(done, 1)),
        "under_1_gib": max(memory.peak, peak_process) < 2**30,
        **stopped,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.localload", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None,
                        help=f"how many (default: $SELLO_BENCH_LOAD_REQUESTS or {DEFAULT_REQUESTS})")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="concurrent clients")
    parser.add_argument("--progress", action="store_true",
                        help=f"a line on stderr every {WINDOW_SECONDS} s with the count so far")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.requests, args.clients, progress=args.progress), indent=2))


if __name__ == "__main__":
    main()
