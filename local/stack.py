"""The local stack in one process, everything on 127.0.0.1: moto in server mode (DynamoDB, S3, KMS,
Secrets Manager, SES, Step Functions executing the real ASL, Lambda tasks dispatched to the real
handlers), the resources the CDK app declares, the API Gateway adapter, the outbox, the SRI
simulator (local.sri.simulator) that both SRI environments point at, and the PAC simulator
(local.pac.simulator) that both environments of the SW Sapien adapter point at.

`start_stack()` sets the process environment (AWS endpoint, fake credentials, SELLO_* names) so the
handlers running in this process talk to the emulator; run one stack per process. Unless
SELLO_TRUSTED_CA_PATH is set, the stack trusts the mini-CA of local.certs, so that its certificates
can be uploaded with a live key and sign live documents (sent to the simulator); self-signed ones
still cannot."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local import certs, emulator, gateway, lambdas, resources
from local.deliveries import DeliveryPoller
from local.limits import RequestLimits
from local.outbox import Outbox
from local.pac.simulator import DEFAULT_PASSWORD as PAC_PASSWORD
from local.pac.simulator import DEFAULT_USER as PAC_USER
from local.pac.simulator import STATUS_PATH as PAC_STATUS_PATH
from local.pac.simulator import PacSimulator
from local.sri.simulator import SriSimulator
from sello.adapters import aws
from sello.services.accounts import seed_account
from sello.settings import get_settings

HOST = "127.0.0.1"
STAGE = "local"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTBOX = REPO_ROOT / ".local" / "outbox"
DEFAULT_SENDER = "no-reply@sello.local"
DEMO_COMPANY = "Demo Company S.A."
DEMO_EMAIL = "demo@example.com"
# moto runs Step Functions executions for real and, without Docker, Lambda invocations through its
# simple backend, which lambdas.install() points at the real handlers.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
SHARED_DATA = Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT / ".." / "shared" / "data"))


class PortUnavailable(OSError):
    """A port of the stack could not be had. `service` is "api", "moto", "sri" or "pac"."""

    def __init__(self, service: str, port: int, reason: str):
        super().__init__(f"{service}: port {port}: {reason}")
        self.service, self.port, self.reason = service, port, reason


@dataclass
class Stack:
    api_url: str
    moto_url: str
    env: dict[str, str]
    outbox_dir: Path | None
    sri_url: str = ""
    pac_url: str = ""
    account: dict | None = None
    api_key: str | None = None
    startup_seconds: float = 0.0
    _stops: list = field(default_factory=list, repr=False)

    def stop(self) -> None:
        """Stops the API, the outbox poller and the emulator, last started first (each one also
        when stopping an earlier one failed)."""
        failures = []
        while self._stops:
            try:
                self._stops.pop()()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _set_environment(moto_url: str, moto_port: int) -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": resources.REGION,
        "AWS_REGION": resources.REGION,
        "AWS_ENDPOINT_URL": moto_url,
        # moto's Step Functions engine calls the other services at localhost:$MOTO_PORT
        "MOTO_PORT": str(moto_port),
    })
    os.environ.pop("AWS_PROFILE", None)
    for name, value in (("POWERTOOLS_TRACE_DISABLED", "true"), ("POWERTOOLS_METRICS_NAMESPACE", "Sello"),
                        ("POWERTOOLS_SERVICE_NAME", "sello"), ("POWERTOOLS_LOG_LEVEL", "WARNING"),
                        # The simulator decides at once unless told otherwise: poll soon, and not
                        # minutes apart as against the real SRI.
                        ("SELLO_POLL_FIRST_WAIT_SECONDS", "1"), ("SELLO_POLL_MAX_WAIT_SECONDS", "10")):
        os.environ.setdefault(name, value)


def sri_xsd_dir() -> str:
    """SRI's schemas for the simulator and the handlers: $SELLO_SRI_XSD_DIR if set (empty: no XSD
    checks), else the shared conformance data's ec/xsd folder if it is there."""
    if "SELLO_SRI_XSD_DIR" in os.environ:
        return os.environ["SELLO_SRI_XSD_DIR"]
    default = (SHARED_DATA / "ec" / "xsd").resolve()
    return str(default) if default.is_dir() else ""


def serialize_dynamodb() -> None:
    """DynamoDB applies writes to one item one after another; moto reads, checks and writes items in
    Python, so its request threads can interleave a conditional update or an ADD and, say, hand out one
    sequence number twice. One DynamoDB request at a time restores the guarantee the code relies on."""
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    if getattr(call_action, "serialized", False):
        return
    lock = threading.Lock()

    def one_at_a_time(self):
        with lock:
            return call_action(self)

    one_at_a_time.serialized = True
    DynamoHandler.call_action = one_at_a_time


def _trust_local_ca(stack: Stack) -> str:
    """Writes the mini-CA's certificate to a temporary file, removed when the stack stops."""
    folder = tempfile.mkdtemp(prefix="sello-trust-")
    path = Path(folder) / "sello-test-ca.pem"
    path.write_bytes(certs.pem(certs.local_ca().certificate))

    def remove() -> None:
        if os.environ.get("SELLO_TRUSTED_CA_PATH") == str(path):
            del os.environ["SELLO_TRUSTED_CA_PATH"]
        shutil.rmtree(folder, ignore_errors=True)

    stack._stops.append(remove)
    return str(path)


def _serve(server: BaseWSGIServer, name: str) -> None:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True).start()


def _reason(exc: OSError) -> str:
    return "in use by another program" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))


def listen(service: str, port: int) -> socket.socket:
    """A socket listening on HOST:port, bound here in the calling thread, so that a port in use fails
    at once with PortUnavailable. (Left to werkzeug, a port in use ends the server's thread with
    sys.exit, and whoever waits for that server to be ready waits for ever.)"""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP servers do
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(service, port, _reason(exc)) from None
    return sock


def wsgi_server(sock: socket.socket, app, handler: type[WSGIRequestHandler]) -> BaseWSGIServer:
    """A threaded werkzeug server on a socket from listen() (which it takes over)."""
    try:
        return make_server(HOST, sock.getsockname()[1], app, threaded=True, request_handler=handler,
                           fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own copy of the socket


def start_stack(api_port: int = 0, moto_port: int = 0, *, sri_port: int = 0, pac_port: int = 0, seed: bool = True,
                outbox_dir: Path | None = DEFAULT_OUTBOX, access_log: bool = True, limits: bool = False) -> Stack:
    """Starts everything and returns once the API answers. Port 0 picks a free port; the ports are
    taken first, and one that cannot be had raises PortUnavailable at once, with whatever was started
    stopped again. `limits`: the gateway throttles as API Gateway does (local/limits.py); off by
    default, so tests and benchmarks that send many requests with one key measure the functions, not
    the throttle."""
    started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log; the API logs its own
    stack = Stack(api_url="", moto_url="", env={}, outbox_dir=outbox_dir)
    sockets: list[socket.socket] = []
    try:
        xsd_dir = sri_xsd_dir()
        try:
            sri = SriSimulator(HOST, sri_port, xsd_dir=xsd_dir or None).start()
        except OSError as exc:
            raise PortUnavailable("sri", sri_port, _reason(exc)) from None
        stack._stops.append(sri.stop)
        stack.sri_url = sri.url
        try:
            # Any issuer: CSDs made with `python -m local.certs --rfc …` (by any process) stamp test documents.
            pac = PacSimulator(HOST, pac_port, accept_any_issuer=True).start()
        except OSError as exc:
            raise PortUnavailable("pac", pac_port, _reason(exc)) from None
        stack._stops.append(pac.stop)
        stack.pac_url = pac.url
        sockets.append(moto_socket := listen("moto", moto_port))
        sockets.append(api_socket := listen("api", api_port))

        emulator.install()
        moto = wsgi_server(moto_socket, DomainDispatcherApplication(create_backend_app), MotoRequestHandler)
        stack._stops.append(moto.server_close)
        _serve(moto, "moto")
        stack._stops.append(moto.shutdown)
        moto_port = moto.port
        stack.moto_url = f"http://{HOST}:{moto_port}"
        _set_environment(stack.moto_url, moto_port)
        # The configuration decides which Step Functions backend keeps the state machine: set it first.
        httpx.post(f"{stack.moto_url}/moto-api/config", json=MOTO_CONFIG, trust_env=False).raise_for_status()
        lambdas.install(STAGE)
        serialize_dynamodb()

        app = gateway.Gateway(outbox=Outbox(outbox_dir), health={"moto_url": stack.moto_url,
                                                                 "sri_url": stack.sri_url,
                                                                 "pac_url": stack.pac_url},
                              limits=RequestLimits() if limits else None)
        server = wsgi_server(api_socket, app, gateway.AccessLog if access_log else gateway.QuietLog)
        stack._stops.append(server.server_close)
        stack.api_url = f"http://{HOST}:{server.port}"

        aws.reset()
        sender = os.environ.get("SELLO_SENDER_EMAIL", DEFAULT_SENDER)
        stack.env = resources.create_resources(STAGE, sender)
        stack.env.update(SELLO_SRI_TEST_URL=sri.url, SELLO_SRI_LIVE_URL=sri.url, SELLO_SRI_XSD_DIR=xsd_dir)
        pac_credentials = f"{PAC_USER}:{PAC_PASSWORD}"
        stack.env.update(SELLO_SW_TEST_URL=pac.url, SELLO_SW_LIVE_URL=pac.url, SELLO_SW_TEST_API_URL=pac.url,
                         SELLO_SW_LIVE_API_URL=pac.url, SELLO_SW_TEST_CREDENTIALS=pac_credentials,
                         SELLO_SW_LIVE_CREDENTIALS=pac_credentials,
                         SELLO_SAT_STATUS_URL=f"{pac.url}{PAC_STATUS_PATH}")
        # Events may go to a receiver on this machine over plain http (deployed: public https only).
        stack.env["SELLO_WEBHOOK_ALLOW_LOOPBACK_HTTP"] = "true"
        if "SELLO_TRUSTED_CA_PATH" not in os.environ:
            stack.env["SELLO_TRUSTED_CA_PATH"] = _trust_local_ca(stack)
        os.environ.update(stack.env)
        get_settings.cache_clear()
        aws.resource("dynamodb")  # create the shared clients before request threads race for them

        app.outbox.start()
        stack._stops.append(app.outbox.stop)
        deliveries = DeliveryPoller(stack.env["SELLO_EVENTS_QUEUE_URL"]).start()
        stack._stops.append(deliveries.stop)
        _serve(server, "api")
        stack._stops.append(server.shutdown)

        if seed:
            stack.account, stack.api_key = seed_account(DEMO_COMPANY, DEMO_EMAIL)
    except BaseException:
        for sock in sockets:
            sock.close()  # not taken over by a server yet (closing twice does no harm)
        stack.stop()
        raise
    stack.startup_seconds = time.perf_counter() - started
    return stack
