"""The local stack in one process, everything on 127.0.0.1: moto in server mode (DynamoDB, S3, KMS,
Secrets Manager, SES, Step Functions executing the real ASL, Lambda tasks dispatched to the real
handlers), the resources the CDK app declares, the API Gateway adapter, and the outbox.

`start_stack()` sets the process environment (AWS endpoint, fake credentials, SELLO_* names) so the
handlers running in this process talk to the emulator; run one stack per process."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server

from local import gateway, lambdas, resources
from local.outbox import Outbox
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


@dataclass
class Stack:
    api_url: str
    moto_url: str
    env: dict[str, str]
    outbox_dir: Path | None
    account: dict | None = None
    api_key: str | None = None
    startup_seconds: float = 0.0
    _stops: list = field(default_factory=list, repr=False)

    def stop(self) -> None:
        """Stops the API, the outbox poller and the emulator, last started first."""
        while self._stops:
            self._stops.pop()()

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
                        ("POWERTOOLS_SERVICE_NAME", "sello"), ("POWERTOOLS_LOG_LEVEL", "WARNING")):
        os.environ.setdefault(name, value)


def _serve(server: BaseWSGIServer, name: str) -> None:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True).start()


def start_stack(api_port: int = 0, moto_port: int = 0, *, seed: bool = True,
                outbox_dir: Path | None = DEFAULT_OUTBOX, access_log: bool = True) -> Stack:
    """Starts everything and returns once the API answers. Port 0 picks a free port."""
    started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log; the API logs its own
    stack = Stack(api_url="", moto_url="", env={}, outbox_dir=outbox_dir)
    try:
        moto = ThreadedMotoServer(ip_address=HOST, port=moto_port, verbose=False)
        moto.start()
        stack._stops.append(moto.stop)
        moto_port = moto.get_host_and_port()[1]
        stack.moto_url = f"http://{HOST}:{moto_port}"
        _set_environment(stack.moto_url, moto_port)
        # The configuration decides which Step Functions backend keeps the state machine: set it first.
        httpx.post(f"{stack.moto_url}/moto-api/config", json=MOTO_CONFIG, trust_env=False).raise_for_status()
        lambdas.install(STAGE)

        app = gateway.Gateway(outbox=Outbox(outbox_dir), health={"moto_url": stack.moto_url})
        server = make_server(HOST, api_port, app, threaded=True,
                             request_handler=gateway.AccessLog if access_log else gateway.QuietLog)
        stack._stops.append(server.server_close)
        stack.api_url = f"http://{HOST}:{server.server_port}"

        aws.reset()
        sender = os.environ.get("SELLO_SENDER_EMAIL", DEFAULT_SENDER)
        stack.env = resources.create_resources(STAGE, sender)
        os.environ.update(stack.env)
        get_settings.cache_clear()
        aws.resource("dynamodb")  # create the shared clients before request threads race for them

        app.outbox.start()
        stack._stops.append(app.outbox.stop)
        _serve(server, "api")
        stack._stops.append(server.shutdown)

        if seed:
            stack.account, stack.api_key = seed_account(DEMO_COMPANY, DEMO_EMAIL)
    except BaseException:
        stack.stop()
        raise
    stack.startup_seconds = time.perf_counter() - started
    return stack
