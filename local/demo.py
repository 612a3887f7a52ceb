"""`make demo`: the main job against a fresh local stack, over HTTP, one step at a time.

Signs up a company, reads the confirmation code from the local outbox, confirms the account (which
hands over a test API key), registers an Ecuadorian issuer, generates a signing certificate for the
demo RUC, uploads it and reads its metadata back. Exits non-zero at the first unexpected answer."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before the handlers create their loggers

import httpx  # noqa: E402

from local.certs import DEMO_PASSWORD, DEMO_RUC, make_p12  # noqa: E402
from local.stack import start_stack  # noqa: E402

EVENTS = Path(__file__).resolve().parent.parent / "events"
EMAIL = "owner@andina.example.com"
CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.MULTILINE)


class DemoFailed(Exception):
    pass


def step(n: int, title: str) -> None:
    print(f"\n[{n}] {title}", flush=True)


def show(response: httpx.Response, *fields: str) -> dict:
    request = response.request
    print(f"    {request.method} {request.url.path} -> {response.status_code}")
    body = response.json()
    if not response.is_success:
        raise DemoFailed(json.dumps(body))
    for name in fields:
        value = body
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        print(f"    {name}: {value}")
    return body


def run(api: httpx.Client, email: str = EMAIL) -> None:
    step(1, "Sign up")
    show(api.post("/v1/accounts", json={"company_name": "Comercial Andina S.A.", "email": email}),
         "id", "status")

    step(2, "Read the confirmation code from the local outbox")
    mail = [m for m in api.get("/_local/outbox").json() if m["to"] == email][-1]
    match = CODE.search(mail["text"])
    if not match:
        raise DemoFailed("no confirmation code in the email")
    code = match.group(1)
    print(f"    email: {mail['subject']!r} to {mail['to']} (code of {len(code)} characters)")

    step(3, "Confirm the account: the response hands over a test API key, once")
    confirmed = show(api.post("/v1/accounts/confirm", json={"email": email, "code": code}),
                     "account.status", "api_key.environment")
    key = confirmed["api_key"]["key"]
    print(f"    api_key: {key[:12]}… (use it as 'Authorization: Bearer <key>')")
    api.headers["Authorization"] = f"Bearer {key}"

    step(4, "Register the issuer (RUC checked for format and check digit)")
    body = json.loads((EVENTS / "issuers" / "create_issuer.body.json").read_text())
    issuer = show(api.post("/v1/issuers", json=body), "id", "tax_id", "legal_name")

    step(5, f"Generate a signing certificate for RUC {DEMO_RUC} and upload it")
    p12 = make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD)
    show(api.put(f"/v1/issuers/{issuer['id']}/certificate",
                 files={"certificate": ("demo.p12", p12, "application/x-pkcs12")},
                 data={"password": DEMO_PASSWORD, "notification_email": email}),
         "serial", "status", "valid_to")

    step(6, "Read the certificate's metadata back (never any key material)")
    show(api.get(f"/v1/issuers/{issuer['id']}/certificate"), "subject", "issuer", "status")

    step(7, "The notice about the certificate in the outbox")
    notices = [m for m in api.get("/_local/outbox").json() if m["to"] == email]
    print(f"    {len(notices)} emails to {email}: " + "; ".join(repr(m["subject"]) for m in notices))


def main() -> int:
    stack = start_stack(seed=False, outbox_dir=None, access_log=False)
    print(f"Local stack up at {stack.api_url} in {stack.startup_seconds:.1f} s")
    try:
        with httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False) as api:
            run(api)
    except DemoFailed as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print("\nDone: the account is active, the issuer is registered and its certificate is stored.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
