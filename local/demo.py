"""`make demo`: the main job against a fresh local stack, over HTTP, one step at a time.

Signs up a company, reads the confirmation code from the local outbox, confirms the account (which
hands over a test API key), registers an issuer of the country (`--country`, `make demo COUNTRY=MX`;
Ecuador by default), generates its signing certificate (Ecuador: a PKCS#12 for the demo RUC; Mexico: a
CSD, .cer and .key, for the demo RFC), uploads it and reads its metadata back, then issues a 10-line
invoice, follows it until the authority's simulator authorizes it (SRI's, or the PAC's that stamps
CFDIs), and saves its XML and PDF under .local/demo/. Exits non-zero at the first unexpected answer."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before the handlers create their loggers

import httpx  # noqa: E402

from local.certs import DEMO_PASSWORD, DEMO_RFC, DEMO_RFC_NAME, DEMO_RUC, make_csd, make_p12  # noqa: E402
from local.stack import start_stack  # noqa: E402

EVENTS = Path(__file__).resolve().parent.parent / "events"
OUT_DIR = Path(".local") / "demo"
EMAIL = "owner@andina.example.com"
CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.MULTILINE)


class DemoFailed(Exception):
    pass


def _p12_files() -> dict:
    return {"certificate": ("demo.p12", make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD), "application/x-pkcs12")}


def _csd_files() -> dict:
    cer, key = make_csd(rfc=DEMO_RFC, name=DEMO_RFC_NAME, password=DEMO_PASSWORD)
    return {"cer": ("demo.cer", cer, "application/pkix-cert"), "key": ("demo.key", key, "application/octet-stream")}


# What differs by country: the sample bodies, the certificate files and what the steps call things.
COUNTRIES = {
    "EC": {"issuer": "create_issuer.body.json", "invoice": "create_invoice.body.json", "files": _p12_files,
           "certificate": f"a signing certificate (PKCS#12) for RUC {DEMO_RUC}", "authority": "SRI's simulator",
           "tax_id": "RUC", "pdf": "RIDE"},
    "MX": {"issuer": "create_issuer_mx.body.json", "invoice": "create_invoice_mx.body.json", "files": _csd_files,
           "certificate": f"a CSD (.cer + .key) for RFC {DEMO_RFC}", "authority": "the PAC simulator",
           "tax_id": "RFC", "pdf": "printed CFDI"},
}


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


def run(api: httpx.Client, email: str = EMAIL, out_dir: Path = OUT_DIR,
        country: str = "EC") -> tuple[str, str, list[Path]]:
    """The walk-through; returns the test API key, the issuer id and the files it saved."""
    demo = COUNTRIES[country]
    out_dir.mkdir(parents=True, exist_ok=True)
    step(1, "Sign up")
    show(api.post("/v1/accounts", json={"company_name": "Comercial Andina S.A.", "email": email}), "email")

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

    step(4, f"Register the issuer ({demo['tax_id']} checked for format and check digit)")
    body = json.loads((EVENTS / "issuers" / demo["issuer"]).read_text())
    issuer = show(api.post("/v1/issuers", json=body), "id", "tax_id", "legal_name")

    step(5, f"Generate {demo['certificate']} and upload it")
    show(api.put(f"/v1/issuers/{issuer['id']}/certificate", files=demo["files"](),
                 data={"password": DEMO_PASSWORD, "notification_email": email}),
         "serial", "number", "status", "valid_to")

    step(6, "Read the certificate's metadata back (never any key material)")
    show(api.get(f"/v1/issuers/{issuer['id']}/certificate"), "subject", "issuer", "status")

    step(7, f"Issue a 10-line factura (validated, numbered, then signed and sent to {demo['authority']})")
    invoice = {**json.loads((EVENTS / "documents" / demo["invoice"]).read_text()),
               "issuer_id": issuer["id"]}
    created = show(api.post("/v1/documents", json=invoice, headers={"Idempotency-Key": "demo-order-1"}),
                   "id", "number", "status", "totals.total", "authority.access_key")

    step(8, "Poll until the authority has decided")
    url = f"/v1/documents/{created['id']}"
    deadline = time.monotonic() + 60
    while (document := api.get(url).json())["status"] == "processing":
        if time.monotonic() > deadline:
            raise DemoFailed("the factura was still processing after 60 s")
        time.sleep(0.2)
    print(f"    status: {document['status']}")
    if document["status"] != "authorized":
        raise DemoFailed(json.dumps(document))
    for name in ("authorization_number", "authorized_at"):
        print(f"    authority.{name}: {document['authority'][name]}")

    step(9, f"Download the authorized XML and the {demo['pdf']} (PDF); the customer got both by email")
    saved = []
    for kind in ("xml", "pdf"):
        response = api.get(f"{url}/{kind}", follow_redirects=True)  # to a short-lived link of the file
        if response.status_code != 200:
            raise DemoFailed(response.text)
        target = out_dir / f"{document['number']}.{kind}"
        target.write_bytes(response.content)
        saved.append(target)
        print(f"    GET {url}/{kind} -> 200, {len(response.content)} bytes saved to {target}")
    to = invoice["customer"]["email"]
    mail = [m for m in api.get("/_local/outbox").json() if m["to"] == to][-1]
    print(f"    email to {to}: {mail['subject']!r} with {', '.join(mail['attachments'])}")
    return key, issuer["id"], saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help=f"where the XML and PDF go ({OUT_DIR})")
    parser.add_argument("--country", type=str.upper, choices=sorted(COUNTRIES), default="EC",
                        help="the issuer's country (default EC)")
    args = parser.parse_args(argv)
    stack = start_stack(seed=False, outbox_dir=None, access_log=False)
    print(f"Local stack up at {stack.api_url} in {stack.startup_seconds:.1f} s")
    try:
        with httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False) as api:
            run(api, out_dir=args.out_dir, country=args.country)
    except DemoFailed as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print("\nDone: the account is active, its issuer signs with its certificate, and the factura is "
          "authorized, rendered and delivered.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
