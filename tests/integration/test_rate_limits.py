"""Fixed-window counters on the emulated table (adapters/rate_limits.py), and the limits on emails
callers can make the service send: a document emailed again, certificate upload notices."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sello.adapters.dynamo import DynamoStore
from sello.adapters.rate_limits import DynamoRateLimiter, Limit
from sello.settings import get_settings

ACCOUNT = "acct_limits0000000000000"
HOUR = 3600
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, the start of a window


@pytest.fixture
def store(aws):
    return DynamoStore(aws["SELLO_TABLE_NAME"])


@pytest.fixture
def limiter(store):
    return DynamoRateLimiter(store)


def counter(store, name: str, start: int = T0) -> dict | None:
    return store.get(f"ACCOUNT#{ACCOUNT}", f"LIMIT#{name}#{start}")


def test_a_limit_allows_its_count_per_window_then_says_how_long_to_wait(limiter, store):
    narrow = [Limit("thing", 3)]
    assert [limiter.take(ACCOUNT, narrow, HOUR, T0 + i) for i in range(3)] == [None, None, None]

    assert limiter.take(ACCOUNT, narrow, HOUR, T0 + 600) == HOUR - 600
    assert limiter.take(ACCOUNT, narrow, HOUR, T0 + HOUR - 1) == 1
    assert limiter.take(ACCOUNT, narrow, HOUR, T0 + HOUR) is None  # the next window starts afresh
    item = counter(store, "thing")
    assert (item["count"], item["expires_at"]) == (3, T0 + 2 * HOUR)  # TTL: a window after its end


def test_several_limits_count_all_or_nothing(limiter, store):
    document = Limit("document_email#doc_1", 2)
    account = Limit("document_email#live", 3)
    assert limiter.take(ACCOUNT, [document, account], HOUR, T0) is None
    assert limiter.take(ACCOUNT, [document, account], HOUR, T0) is None
    assert limiter.take(ACCOUNT, [document, account], HOUR, T0) == HOUR  # the document's limit is full
    assert counter(store, "document_email#live")["count"] == 2  # and the account's did not count it
    other = Limit("document_email#doc_2", 2)
    assert limiter.take(ACCOUNT, [other, account], HOUR, T0) is None
    assert limiter.take(ACCOUNT, [other, account], HOUR, T0) == HOUR  # now the account's is full
    assert counter(store, "document_email#doc_2")["count"] == 1


def test_counters_are_per_account(limiter):
    limit = [Limit("thing", 1)]
    assert limiter.take(ACCOUNT, limit, HOUR, T0) is None
    assert limiter.take("acct_someoneelse0000000", limit, HOUR, T0) is None


def test_concurrent_requests_never_pass_a_limit(limiter, atomic_emulator):
    limits = [Limit("document_email#doc_1", 7), Limit("document_email#test", 100)]
    barrier = threading.Barrier(40)

    def take(_):
        barrier.wait()
        return limiter.take(ACCOUNT, limits, HOUR, T0)

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(take, range(40)))

    assert outcomes.count(None) == 7 and set(outcomes) == {None, HOUR}


# The routes ---------------------------------------------------------------------------------------

@pytest.fixture
def small_limits(monkeypatch):
    for name, value in (("DOCUMENT_EMAILS_PER_DOCUMENT", "2"), ("DOCUMENT_EMAILS_PER_ACCOUNT", "3"),
                        ("CERTIFICATE_EMAILS_PER_ISSUER", "2"), ("CERTIFICATE_EMAILS_PER_ACCOUNT", "3")):
        monkeypatch.setenv(f"SELLO_{name}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def proxy(function: str, method: str, path: str, principal: dict, body=None) -> dict:
    from functions.api import documents, issuers
    from local.lambdas import context_for
    from sello import catalog
    from tests.helpers import api_event

    module = {"documents": documents, "issuers": issuers}[function]
    spec = next(s for s in catalog.API_FUNCTIONS if s.name == function)
    return module.handler(api_event(method, path, body, principal=principal), context_for(spec))


def answer(response: dict) -> tuple[int, str | None, str | None]:
    from tests.helpers import response_json

    body = response_json(response) or {}
    retry_after = (response.get("multiValueHeaders") or {}).get("Retry-After", [None])[0]
    return response["statusCode"], (body.get("error") or {}).get("code"), retry_after


def test_emailing_a_document_again_is_limited_per_document_and_per_account_and_environment(
        aws, outbox, small_limits):
    from sello.adapters.blobs import S3Blobs
    from sello.adapters.documents_repo import DynamoDocumentsRepo
    from sello.ids import new_id
    from sello.models.documents import Document

    test = {"account_id": ACCOUNT, "environment": "test", "key_id": "key_t"}
    live = {**test, "environment": "live", "key_id": "key_l"}
    repo, blobs = DynamoDocumentsRepo(DynamoStore(aws["SELLO_TABLE_NAME"])), S3Blobs(aws["SELLO_BUCKET_NAME"])

    def document(principal: dict) -> str:
        doc_id = new_id("doc")
        for kind, data in (("xml", b"<x/>"), ("pdf", b"%PDF-1.4")):
            blobs.put(f"{doc_id}.{kind}", data, "application/octet-stream")
        assert repo.put_new(Document.model_validate({
            "id": doc_id, "account_id": ACCOUNT, "environment": principal["environment"], "type": "invoice",
            "country": "EC", "issuer_id": "iss_demo0000000000000000", "status": "authorized", "number": "1",
            "customer": {"name": "Cliente", "tax_id": "1710034065", "email": "buyer@example.com"},
            "authorized_key": f"{doc_id}.xml", "pdf_key": f"{doc_id}.pdf",
            "created_at": "2026-03-02T15:00:00Z"}))
        return doc_id

    def email(principal: dict, doc_id: str):
        return answer(proxy("documents", "POST", f"/v1/documents/{doc_id}/email", principal, {}))

    first, second, live_doc = document(test), document(test), document(live)
    assert [email(test, first)[0] for _ in range(2)] == [202, 202]

    status, code, retry_after = email(test, first)  # the document's limit (2)
    assert (status, code) == (429, "too_many_emails") and 1 <= int(retry_after) <= HOUR
    assert email(test, second)[0] == 202
    assert email(test, second)[:2] == (429, "too_many_emails")  # the test environment's limit (3)
    assert email(live, live_doc)[0] == 202  # live documents have their own
    assert len(outbox()) == 4


def test_certificate_notices_are_limited_per_issuer_and_per_account(aws, outbox, small_limits):
    from local import certs
    from tests.helpers import load_event

    principal = {"account_id": ACCOUNT, "environment": "test", "key_id": "key_t"}
    issuers = []
    for tax_id in (certs.DEMO_RUC, "1792060346001"):
        response = proxy("issuers", "POST", "/v1/issuers", principal,
                         {**load_event("issuers/create_issuer.body.json"), "tax_id": tax_id})
        issuers.append(response_id(response))
    p12 = base64.b64encode(certs.make_p12(password="Clave-2026")).decode()

    def upload(issuer_id: str, **fields):
        body = {"p12_base64": p12, "password": "Clave-2026", **fields}
        return answer(proxy("issuers", "PUT", f"/v1/issuers/{issuer_id}/certificate", principal, body))

    notify = {"notification_email": "ops@example.com"}
    assert [upload(issuers[0], **notify)[0] for _ in range(2)] == [200, 200]
    before = len(outbox())

    status, code, retry_after = upload(issuers[0], **notify)

    assert (status, code) == (429, "too_many_emails") and int(retry_after) >= 1
    assert len(outbox()) == before
    assert upload(issuers[0])[0] == 200  # without a notice there is nothing to limit
    assert upload(issuers[1], **{**notify, "password": "wrong"})[:2] == (422, "wrong_certificate_password")
    assert upload(issuers[1], **notify)[:2] == (429, "too_many_emails")  # the account's limit (3)
    assert len(outbox()) == before + 1  # the rejection notice of the wrong password


def response_id(response: dict) -> str:
    from tests.helpers import response_json

    assert response["statusCode"] == 201, response
    return response_json(response)["id"]
