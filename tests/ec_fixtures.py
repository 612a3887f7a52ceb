"""Shared set-up of the Ecuador tests: the SRI schema folder setting (off unless a test asks for
the schemas), the issuer of the sample events, and edits of request bodies."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from sello.models.issuers import Issuer
from sello.settings import get_settings
from tests.conftest import DATA
from tests.helpers import load_event

NOW = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)  # still 2025-06-30 in Ecuador (UTC−5)
TODAY = date(2025, 6, 30)
XSD_DIR = DATA / "ec" / "xsd"


def _schema_folder(monkeypatch, folder: str):
    monkeypatch.setenv("SELLO_SRI_XSD_DIR", folder)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def no_schema_folder(monkeypatch):
    """prepare() skips the XSD check (a module that imports this fixture gets it for every test)."""
    yield from _schema_folder(monkeypatch, "")


@pytest.fixture
def schemas(monkeypatch):
    """prepare() checks documents against SRI's schemas in the shared fixtures."""
    yield from _schema_folder(monkeypatch, str(XSD_DIR))


def make_issuer(**flags) -> Issuer:
    """The issuer of events/issuers/create_issuer.body.json, with `flags` overriding its flags."""
    body = load_event("issuers/create_issuer.body.json")
    body["flags"] = body["flags"] | flags
    return Issuer(id="iss_demo0000000000000000", account_id="acc_1", created_at=NOW, updated_at=NOW, **body)


DELETE = object()  # with_path's value that removes the key


def with_path(data: dict, path: str, value) -> dict:
    """A deep copy of `data` with the dotted `path` (numbers index lists) set to `value`, or removed
    when `value` is DELETE."""
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key = int(last) if last.isdigit() else last
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return data
