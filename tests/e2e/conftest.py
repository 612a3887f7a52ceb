"""The local stack (`python -m local`) in a subprocess on free ports, once per test session, so its
environment and emulator state stay out of every other test."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from local import certs
from tests.conftest import REPO_ROOT
from tests.helpers import load_event

STARTUP_TIMEOUT_S = 30
# The states a document ends in.
FINAL = ("authorized", "rejected", "failed")
# The confirmation email shows the code on a line of its own, indented four spaces.
CONFIRMATION_CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.MULTILINE)


@dataclass(frozen=True)
class LocalStack:
    api_url: str
    moto_url: str
    sri_url: str
    pac_url: str
    api_key: str
    account: dict
    outbox_dir: Path

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30, trust_env=False)

    def outbox(self) -> list[dict]:
        """Every message in /_local/outbox, oldest first (numbered from 1 in `n`)."""
        with self.client() as client:
            response = client.get("/_local/outbox")
        response.raise_for_status()
        return response.json()

    def mail_to(self, to: str, *, after: int = 0, timeout: float = 10) -> dict:
        """The first message to `to` numbered above `after`, waiting for it to show up."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.outbox():
                if message["n"] > after and message["to"] == to:
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {to} after message {after} within {timeout} s")
            time.sleep(0.1)

    def sri(self, action: str = "state", **config) -> dict:
        """The SRI simulator's admin endpoint: "state" (GET), "config" or "reset" (POST)."""
        admin = self.sri_url.removesuffix("/comprobantes-electronicos-ws") + "/_sim/sri/" + action
        with httpx.Client(timeout=10, trust_env=False) as client:
            response = client.get(admin) if action == "state" else client.post(admin, json=config)
        response.raise_for_status()
        return response.json()

    def new_account(self, company_name: str) -> tuple[dict, str]:
        """A new account (unique email), signed up and confirmed over HTTP as a client does it:
        (the account, its test API key)."""
        email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        with self.client() as client:
            created = client.post("/v1/accounts", json={"company_name": company_name, "email": email})
            assert created.status_code == 202, created.text
            code = CONFIRMATION_CODE.search(self.mail_to(email)["text"]).group(1)
            confirmed = client.post("/v1/accounts/confirm", json={"email": email, "code": code})
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        return body["account"], body["api_key"]["key"]

    def new_issuer(self, company_name: str) -> tuple[str, str]:
        """(test API key, issuer id) of a new account with the sample issuer and a demo signing
        certificate uploaded, as a client sets them up."""
        _, key = self.new_account(company_name)
        with self.client(key) as client:
            created = client.post("/v1/issuers", json=load_event("issuers/create_issuer.body.json"))
            assert created.status_code == 201, created.text
            issuer_id = created.json()["id"]
            p12 = certs.make_p12(ruc=certs.DEMO_RUC, password=certs.DEMO_PASSWORD)
            uploaded = client.put(f"/v1/issuers/{issuer_id}/certificate",
                                  files={"certificate": ("firma.p12", p12, "application/x-pkcs12")},
                                  data={"password": certs.DEMO_PASSWORD})
            assert uploaded.status_code == 200, uploaded.text
        return key, issuer_id

    def new_mexican_issuer(self, company_name: str) -> tuple[str, dict, dict]:
        """(test API key, the issuer, the certificate upload's answer) of a new account with the sample
        Mexican issuer and a CSD made by local.certs (the local PAC takes any issuing CA for test
        documents), as a client sets them up."""
        _, key = self.new_account(company_name)
        with self.client(key) as client:
            created = client.post("/v1/issuers", json=load_event("issuers/create_issuer_mx.body.json"))
            assert created.status_code == 201, created.text
            issuer = created.json()
            cer, key_file = certs.make_csd(rfc=issuer["tax_id"], name=issuer["legal_name"], password="clave-csd")
            uploaded = client.put(f"/v1/issuers/{issuer['id']}/certificate",
                                  files={"cer": ("csd.cer", cer, "application/pkix-cert"),
                                         "key": ("csd.key", key_file, "application/octet-stream")},
                                  data={"password": "clave-csd"})
            assert uploaded.status_code == 200, uploaded.text
        return key, issuer, uploaded.json()

    def go_live(self, account: dict, test_key: str) -> dict:
        """The account's first live key, as its owner gets it: a test key asks, the code arrives by
        email, the code confirms. The answer of the confirmation (the key in `key`)."""
        before = max((m["n"] for m in self.outbox()), default=0)
        with self.client(test_key) as client:
            asked = client.post("/v1/accounts/live-activation")
            assert asked.status_code == 202, asked.text
            code = CONFIRMATION_CODE.search(self.mail_to(account["email"], after=before)["text"]).group(1)
            confirmed = client.post("/v1/accounts/live-activation/confirm", json={"code": code})
        assert confirmed.status_code == 201, confirmed.text
        return confirmed.json()


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
    # A held SRI connection (an injected timeout) costs the client this long, not the default 20 s.
    env["SELLO_SRI_TIMEOUT_SECONDS"] = "2"
    # Waits for SRI grow to 2 s at most, so that outages of many attempts pass in seconds.
    env["SELLO_POLL_MAX_WAIT_SECONDS"] = "2"
    command = [sys.executable, "-m", "local", "--api-port", "0", "--moto-port", "0", "--sri-port", "0", "--pac-port", "0",
               "--json-ready", "--outbox-dir", str(outbox)]
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
        yield LocalStack(api_url=ready["api_url"], moto_url=ready["moto_url"],
                         sri_url=ready["sri_url"], pac_url=ready["pac_url"], api_key=ready["api_key"],
                         account=ready["account"], outbox_dir=Path(ready["outbox_dir"]))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def issue(client: httpx.Client, body: dict, **headers: str) -> dict:
    response = client.post("/v1/documents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def wait_final(client: httpx.Client, document_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        document = client.get(f"/v1/documents/{document_id}").json()
        if document["status"] in FINAL:
            return document
        if time.monotonic() > deadline:
            raise AssertionError(f"document {document_id} still {document['status']} after {timeout} s")
        time.sleep(0.25)
