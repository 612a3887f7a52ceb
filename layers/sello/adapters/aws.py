"""boto3 clients, created once per warm function. boto3 honours AWS_ENDPOINT_URL, which is how the
local stack and the tests point every client at the emulator without a code path of their own."""

from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20)


@cache
def client(service: str):
    return boto3.client(service, config=_CONFIG)


@cache
def resource(service: str):
    return boto3.resource(service, config=_CONFIG)


@cache
def presigner(service: str):
    """A client that presigns URLs with Signature Version 4, which every region accepts (botocore
    would pick the older version 2 for S3 in some)."""
    return boto3.client(service, config=_CONFIG.merge(Config(signature_version="s3v4")))


def reset() -> None:
    """Forget cached clients (tests that switch endpoints or credentials call this)."""
    client.cache_clear()
    resource.cache_clear()
    presigner.cache_clear()
