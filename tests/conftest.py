"""Shared test set-up: fake AWS credentials, the emulator in-process (moto) with every resource the
CDK app declares, and the location of the shared conformance fixtures."""

from __future__ import annotations

import os
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
