"""Shared test set-up: fake AWS credentials, the emulator in-process (moto) with every resource the
CDK app declares, and the location of the shared conformance fixtures."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT / ".." / "shared" / "data")).resolve()

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Sello",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

SENDER = "no-reply@sello.test"


def needs_data(*parts: str):
    """Skip unless the shared fixture (folder or file) is present."""
    path = DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"shared conformance fixture not available: {path}")


@pytest.fixture
def aws(monkeypatch):
    """moto in-process, with the table, bucket, KMS key, SES identity and state machine created."""
    from moto import mock_aws

    from local import lambdas, resources
    from sello.adapters import aws as aws_clients
    from sello.settings import get_settings

    aws_clients.reset()
    get_settings.cache_clear()
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        lambdas.install("test")
        env = resources.create_resources("test", SENDER)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        get_settings.cache_clear()
        yield env
    aws_clients.reset()
    get_settings.cache_clear()


@pytest.fixture
def outbox(aws):
    """Messages sent through SES, oldest first, as parsed email.message.Message objects."""
    from local.outbox import sent_messages

    return sent_messages


@pytest.fixture
def atomic_emulator(aws, monkeypatch):
    """The emulator's DynamoDB handling one request at a time, for tests with many threads: DynamoDB
    applies each request atomically, the emulator does not when threads share it (a failing
    transaction puts back a copy of the whole table taken before it ran, undoing concurrent writes)."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("get_item", "put_item", "update_item", "delete_item", "query", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args, _original=original, **kwargs):
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def trusted_mini_ca(monkeypatch, tmp_path):
    """The mini-CA of local.certs is trusted (settings.trusted_ca_path), as in the local stack; its
    certificates then sign live documents, and self-signed ones still do not."""
    from local import certs
    from sello.settings import get_settings

    path = tmp_path / "mini-ca.pem"
    path.write_bytes(certs.pem(certs.local_ca().certificate))
    monkeypatch.setenv("SELLO_TRUSTED_CA_PATH", str(path))
    get_settings.cache_clear()


# Every error the API functions answer in any test is one the OpenAPI document lists for that
# operation and status (functions/api/docs.py): the handlers' real answers check the documentation.

def documented_errors() -> list[tuple[re.Pattern, str, dict[str, set[str]]]]:
    """(path pattern, method, status -> documented codes) of every operation, static paths first."""
    global _DOCUMENTED
    if _DOCUMENTED is None:
        from functions.api.docs import merged_spec

        found = []
        for path, operations in json.loads(merged_spec())["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in operations.items():
                codes = {status: set(response.get("content", {}).get("application/json", {}).get("examples", {}))
                         for status, response in operation["responses"].items() if status[0] in "45"}
                found.append((pattern, method.upper(), codes, "{" in path))
        _DOCUMENTED = [entry[:3] for entry in sorted(found, key=lambda entry: entry[3])]
    return _DOCUMENTED


_DOCUMENTED = None


def undocumented_error(event, response) -> str | None:
    """What is wrong when `response` (a function's answer to the API event) is an error its operation
    does not document; None when it is documented, is no error, or the route is not the API's."""
    if not isinstance(event, dict) or not isinstance(response, dict) or response.get("statusCode", 0) < 400:
        return None
    try:
        code = json.loads(response.get("body") or "")["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    method, path = event.get("httpMethod", ""), event.get("path") or ""
    status = str(response["statusCode"])
    for pattern, operation_method, codes in documented_errors():
        if operation_method == method and pattern.match(path):
            if code not in codes.get(status, set()):
                return f"{method} {path} answered {status} {code}, which its OpenAPI entry does not list"
            return None
    return None  # a path or method the API does not have (API Gateway answers those), or a test router


@pytest.fixture(autouse=True)
def errors_are_documented(monkeypatch, request):
    """Every error a function answers is listed for its operation in the OpenAPI document; a test of a
    made-up country's own codes (which no deployed document lists) opts out with the marker
    `made_up_country_codes`."""
    from sello import http

    if request.node.get_closest_marker("made_up_country_codes"):
        yield
        return

    problems: list[str] = []
    resolve = http._Resolver.resolve

    def checked(self, event, context):
        response = resolve(self, event, context)
        problem = undocumented_error(event, response)
        if problem:
            problems.append(problem)
        return response

    monkeypatch.setattr(http._Resolver, "resolve", checked)
    yield
    assert not problems, "; ".join(dict.fromkeys(problems))
