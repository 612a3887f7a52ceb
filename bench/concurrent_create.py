"""Concurrent document creations through the service layer, as concurrent Lambda invocations run them:
N threads (default 200), each with its own boto3 session and clients as a separate function container
has, call the documents service's create path (idempotency claim, number allocation, write, workflow
start) for one issuer's series at the same moment, against the emulator in server mode as the local
stack runs it (DynamoDB one request at a time; executions recorded, not run). Reports throughput and
latency percentiles, and checks that the numbers handed out are exactly 1..N.

`run()` measures in a fresh process (`python -m bench.concurrent_create [--creations N]`), so the
emulator's state and the process environment stay out of the caller."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
DEFAULT_CREATIONS = 200


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile, in ms."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1] * 1000, 1)


def _thread_local_clients():
    """Makes sello.adapters.aws hand each thread its own session's clients (as each Lambda container
    has its own), instead of the process-wide ones."""
    import boto3

    from sello.adapters import aws

    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session, local.clients, local.resources = boto3.session.Session(), {}, {}
        return local.session

    def client(service: str):
        s = session()
        if service not in local.clients:
            local.clients[service] = s.client(service, config=aws._CONFIG)
        return local.clients[service]

    def resource(service: str):
        s = session()
        if service not in local.resources:
            local.resources[service] = s.resource(service, config=aws._CONFIG)
        return local.resources[service]

    aws.client, aws.resource = client, resource


def measure(creations: int) -> dict:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from local import emulator, resources
    from local.certs import DEMO_PASSWORD, DEMO_RUC, make_p12
    from local.stack import HOST, _set_environment, serialize_dynamodb
    from sello.adapters import aws
    from sello.models.certificate_api import UploadCertificateRequest
    from sello.models.document_request import CreateDocumentRequest
    from sello.models.issuer_api import CreateIssuerRequest
    from sello.services import accounts, certificates, documents, issuers
    from sello.settings import get_settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    emulator.install()
    serialize_dynamodb()
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        port = server.get_host_and_port()[1]
        _set_environment(f"http://{HOST}:{port}", port)
        aws.reset()
        os.environ.update(resources.create_resources("bench", "no-reply@sello.local"))
        get_settings.cache_clear()

        account, _ = accounts.seed_account("Bench S.A.", "bench@example.com")
        issuer = issuers.default_service().create(account["id"], CreateIssuerRequest.model_validate_json(
            (EVENTS / "issuers" / "create_issuer.body.json").read_text()))
        p12 = base64.b64encode(make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD)).decode()
        certificates.default_service().upload(account["id"], issuer.id, UploadCertificateRequest(
            p12_base64=p12, password=DEMO_PASSWORD), "test")
        body = json.loads((EVENTS / "documents" / "create_invoice.body.json").read_text())
        request = CreateDocumentRequest.model_validate({**body, "issuer_id": issuer.id})

        _thread_local_clients()
        ready = threading.Barrier(creations + 1)
        latencies: list[float] = []
        numbers: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()

        def create(n: int) -> None:
            try:
                service = documents.default_service()
                service.issuers.get_issuer(account["id"], issuer.id)  # connect, as a warm container is
            except Exception as exc:  # the barrier must still be reached
                with lock:
                    failures.append(f"set-up: {exc!r}")
                ready.wait()
                return
            ready.wait()
            started = time.perf_counter()
            try:
                issued = service.create(account["id"], "test", request, idempotency_key=f"bench-{n}")
            except Exception as exc:
                with lock:
                    failures.append(repr(exc))
                return
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                numbers.append(issued.document.number)

        threads = [threading.Thread(target=create, args=(n,), name=f"create-{n}") for n in range(creations)]
        for t in threads:
            t.start()
        ready.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
    finally:
        server.stop()

    sequences = sorted(int(number.rsplit("-", 1)[-1]) for number in numbers)
    return {
        "creations": creations,
        "succeeded": len(latencies),
        "failures": failures[:5],
        "seconds": round(seconds, 2),
        "creations_per_second": round(len(latencies) / seconds, 1) if seconds else None,
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                       "max": round(max(latencies) * 1000, 1),
                       "mean": round(statistics.mean(latencies) * 1000, 1)} if latencies else None,
        "numbers_are_1_to_n": sequences == list(range(1, creations + 1)),
    }


def run(creations: int | None = None) -> dict:
    """The figures, measured in a fresh process."""
    creations = creations or int(os.environ.get("SELLO_BENCH_CONCURRENT_CREATIONS", DEFAULT_CREATIONS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    out = subprocess.run([sys.executable, "-m", "bench.concurrent_create", "--creations", str(creations)],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    lines = [line for line in out.stdout.splitlines() if line.startswith('{"creations"')]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the concurrent creation benchmark failed:\n{out.stderr[-4000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrent_create",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--creations", type=int, default=DEFAULT_CREATIONS)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.creations)), flush=True)


if __name__ == "__main__":
    main()
