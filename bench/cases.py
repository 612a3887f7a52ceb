"""What `make bench` measures. Cold imports run in fresh interpreters; warm cases run in this one."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import UTC, datetime

# (name, module, target in ms or None). A cold start pays for these imports before the first request.
# The baselines are what any Python function on this stack pays anyway (bench/baseline_runtime.py);
# each function's figure is also reported as a ratio to it, which carries over between machines
# better than milliseconds do.
BASELINES = (
    ("baseline_boto3", "boto3"),
    ("baseline_runtime", "bench.baseline_runtime"),
)
COLD_IMPORTS = (
    ("api_accounts", "functions.api.accounts", 300),
    ("api_issuers", "functions.api.issuers", 300),
    ("api_documents", "functions.api.documents", 300),
    ("authorizer", "functions.api.authorizer", 300),
    ("workflow_sign", "functions.workflow.sign", 700),
    ("certificate_expiry", "functions.scheduled.certificate_expiry", None),
)


def warm_cases():
    """(name, callable, runs, target in ms or None) for code paths that run on every request or upload."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from local.certs import DEMO_PASSWORD, DEMO_RUC, make_p12, rsa_key
    from sello.countries import get_plugin
    from sello.services.certificates import check_p12

    p12 = make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD)
    plugin = get_plugin("EC")
    now = datetime.now(UTC)
    pkcs8 = rsa_key().private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())

    def upload_checks():
        check_p12(p12, DEMO_PASSWORD, tax_id=DEMO_RUC, plugin=plugin, now=now)

    def key_load_checked():
        load_der_private_key(pkcs8, None)

    def key_load_unchecked():
        load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)

    cases = [
        # Once per certificate upload: open the PKCS#12, check the key in full, validity, usage, RUC.
        ("certificate_upload_checks", upload_checks, 15, None),
        # What the signing task would pay per cold start if it re-checked the key, and what it pays instead.
        ("private_key_load_checked", key_load_checked, 15, None),
        ("private_key_load_unchecked", key_load_unchecked, 200, 1),
    ]
    cases += _over_http()
    return cases


def _over_http():
    """The main job of this release over HTTP against the local stack: sign up, confirm, register an
    issuer, upload its certificate. Includes the emulator and the API Gateway adapter."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import atexit
    import itertools

    import httpx

    from local import demo
    from local.stack import start_stack

    stack = start_stack(seed=True, outbox_dir=None, access_log=False)
    atexit.register(stack.stop)
    counter = itertools.count()
    client = httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False)
    authed = {"Authorization": f"Bearer {stack.api_key}"}

    def authorized_get():
        client.get("/v1/accounts/me", headers=authed).raise_for_status()

    def main_job():
        # The demo's step-by-step output is kept out of the benchmark's JSON.
        with (httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False) as api,
              contextlib.redirect_stdout(io.StringIO())):
            demo.run(api, email=f"bench{next(counter)}@example.com")

    return [
        ("local_authorized_get", authorized_get, 50, None),
        ("local_signup_to_certificate", main_job, 5, None),
    ]

