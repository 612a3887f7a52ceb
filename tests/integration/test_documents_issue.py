"""Issuing documents through the documents function, on the emulator: POST /v1/documents with its
Idempotency-Key, numbering (also under 200 concurrent requests, and when a write fails), the start of
the workflow (and its scheduled restart when Step Functions could not be reached), downloads of the XML and PDF, emailing a document again, and the signing task's warm
key cache. The country is fake ("ZZ", Testland) so these tests do not depend on any real country's
rules; it validates a little, numbers deterministically and is authorized at once."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from pydantic import BaseModel
from werkzeug.test import Client

from local import certs
from local.gateway import Gateway
from local.lambdas import context_for
from local.lambdas import invoke as invoke_function
from local.stack import serialize_dynamodb
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters.blobs import S3Blobs, document_key
from sello.adapters.documents_repo import DynamoDocumentsRepo, DynamoIdempotency
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.sequences import DynamoSequences, SequenceKey
from sello.countries import NumberedDocument, PreparedDocument
from sello.countries.outcomes import PollOutcome, SubmitOutcome
from sello.errors import SelloError, Unprocessable
from sello.ids import new_id
from sello.models.certificate_api import UploadCertificateRequest
from sello.models.certificates import CertificateSummary
from sello.models.document_request import CreateDocumentRequest
from sello.models.documents import Document
from sello.models.issuers import EmissionPoint, Establishment, Issuer
from sello.services import documents as documents_service
from sello.services.documents import DocumentService, request_hash
from sello.settings import get_settings
from tests.helpers import api_event, authorizer_context, followed, install_country, load_event, response_json

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
RESTART = next(s for s in catalog.SCHEDULED_FUNCTIONS if s.name == "workflow_restart")
ACCOUNT = {"account_id": "acct_issue00000000000000001", "environment": "test", "key_id": "key_issue"}
LIVE = {**ACCOUNT, "environment": "live", "key_id": "key_issue_live"}
OTHER = {"account_id": "acct_issue00000000000000002", "environment": "test", "key_id": "key_other"}
CUSTOMER_EMAIL = "compras@example.com"
LEGAL_NAME = "Comercial Demo S.A."


# A fake country -------------------------------------------------------------------------------------

class NoFlags(BaseModel):
    pass


class CountryZZ:
    """Country "ZZ": checks the establishment and the customer's tax id, numbers "<series>-<9 digits>",
    and its authority takes and authorizes everything at once."""

    code, name, authority, tax_id_name = "ZZ", "Testland", "TTA", "TIN"
    issuer_flags_model = NoFlags

    def __init__(self):
        self.fail_numbering = False
        self.trusts = True  # what certificate_trusted answers for every certificate
        self.prepared = 0
        self.signed: list[tuple[str, object]] = []  # (document number, key) of every signature

    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        return tax_id

    def certificate_tax_ids(self, certificate) -> set[str]:
        return {"TT-100"}

    def certificate_matches(self, certificate, tax_id: str) -> bool:
        return True

    def certificate_trusted(self, certificate, chain, *, now, extra_authorities=()) -> bool:
        return self.trusts

    def signature_size(self, certificate) -> int:
        return 100

    def document_title(self, document_type: str) -> str:
        return {"invoice": "Factura", "credit_note": "Nota de crédito"}.get(document_type, document_type)

    def prepare(self, request, issuer, environment, now) -> PreparedDocument:
        self.prepared += 1
        if request.establishment not in {e.code for e in issuer.establishments}:
            raise Unprocessable("No such establishment.", code="unknown_establishment", path="establishment")
        if request.customer.tax_id == "0000000000":
            raise Unprocessable("Bad check digit.", code="invalid_tax_id", path="customer.tax_id")
        subtotal = sum((i.quantity * i.unit_price - i.discount for i in request.items), Decimal(0))
        tax = (subtotal * Decimal("0.15")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        customer = request.customer
        return PreparedDocument(
            type=request.type, series=f"{request.establishment}-{request.emission_point}",
            issue_date=request.issue_date or now.date(),
            customer={"name": customer.name, "tax_id": customer.tax_id, "email": customer.email},
            totals={"currency": request.currency, "subtotal": subtotal, "discount": Decimal(0), "tax": tax,
                    "total": subtotal + tax},
            content={"lines": [[i.description, str(i.quantity), str(i.unit_price)] for i in request.items]})

    def number(self, prepared, sequence, document_id, environment) -> NumberedDocument:
        if self.fail_numbering:
            raise ValueError("numbering failed")
        return NumberedDocument(f"{prepared.series}-{sequence:09d}",
                                f"TT{'1' if environment == 'test' else '2'}{sequence:09d}{document_id[-6:]}")

    def sign(self, document, key, cert) -> bytes:
        self.signed.append((document["number"], key))
        return f"<signed number='{document['number']}'/>".encode()

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        return SubmitOutcome("received")

    def poll(self, document, environment: str) -> PollOutcome:
        key = document["access_key"]
        return PollOutcome("authorized", number=key, authorized_at="2026-03-02T10:15:00-05:00",
                           document=f"<autorizacion numero='{key}'>ñ</autorizacion>".encode())

    def render(self, document, authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        return b"%PDF-1.4\n\x00\xff binary " + document["number"].encode()


@pytest.fixture
def testland(aws, monkeypatch):
    """Registers Testland as "ZZ", gives the sign task fake credentials, makes the waits between polls
    zero, and at the end waits for every workflow the test started."""
    plugin = CountryZZ()
    install_country(monkeypatch, plugin)
    yield plugin
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    get_settings.cache_clear()


def settle(state_machine_arn: str, timeout: float = 60.0) -> list[dict]:
    """Waits until no execution of the state machine is running; returns them all."""
    sfn = aws_clients.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        executions = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
        if all(e["status"] != "RUNNING" for e in executions):
            return executions
        if time.monotonic() > deadline:
            raise AssertionError("executions still running")
        time.sleep(0.05)


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    """One DynamoDB request at a time, as in the local stack (local.stack.serialize_dynamodb)."""
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)  # undone after the test
    serialize_dynamodb()


def store() -> DynamoStore:
    return DynamoStore(get_settings().table_name)


def make_issuer(principal: dict = ACCOUNT, *, certificate: bool = True, expired: bool = False,
                trusted: bool = True) -> Issuer:
    now = datetime.now(UTC).replace(microsecond=0)
    summary = CertificateSummary(serial="5BAA8268", subject="CN=ANA PEREZ",
                                 valid_from=now - timedelta(days=400),
                                 valid_to=now + timedelta(days=-1 if expired else 365), trusted=trusted)
    issuer = Issuer(
        id=new_id("iss"), account_id=principal["account_id"], country="ZZ", tax_id=new_id("tin"),
        legal_name=LEGAL_NAME, head_office_address="Av. Amazonas N34-451, Quito",
        establishments=[Establishment(
            code="001", address="Av. Amazonas N34-451, Quito",
            emission_points=[EmissionPoint(code="001"), EmissionPoint(code="002")])],
        flags={}, certificate=summary if certificate else None, created_at=now, updated_at=now)
    assert DynamoIssuersRepo(store()).create_issuer(issuer)
    return issuer


def invoice(issuer: Issuer, **changes) -> dict:
    body = {
        "type": "invoice", "issuer_id": issuer.id, "establishment": "001", "emission_point": "001",
        "customer": {"id_type": "tax_id", "tax_id": "1790016919001", "name": "Importadora Andina Cía. Ltda.",
                     "email": CUSTOMER_EMAIL},
        "items": [{"description": "Café de altura 500 g", "quantity": 2, "unit_price": "6.75",
                   "taxes": [{"type": "vat", "rate": "15"}]}],
    }
    return {**body, **changes}


def call(event: dict) -> dict:
    from functions.api import documents

    return documents.handler(event, context_for(DOCUMENTS))


def request(method: str, path: str, body=None, principal: dict = ACCOUNT, key: str | None = None, **kwargs):
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Idempotency-Key"] = key
    response = call(api_event(method, path, body, principal=principal, headers=headers, **kwargs))
    return response["statusCode"], response_json(response) if not response.get("isBase64Encoded") else None


def header(response: dict, name: str) -> str | None:
    """A header of a proxy result (Powertools answers REST events with multiValueHeaders)."""
    values = (response.get("multiValueHeaders") or {}).get(name)
    return values[-1] if values else None


def create(issuer: Issuer, key: str | None = None, principal: dict = ACCOUNT, **changes) -> dict:
    status, doc = request("POST", "/v1/documents", invoice(issuer, **changes), principal=principal, key=key)
    assert status == 201, doc
    return doc


def items(prefix: str) -> list[dict]:
    table = aws_clients.resource("dynamodb").Table(get_settings().table_name)
    return [i for i in table.scan()["Items"] if i["sk"].startswith(prefix)]


def counter(issuer: Issuer, series: str = "001-001", principal: dict = ACCOUNT) -> dict | None:
    key = SequenceKey(principal["account_id"], issuer.id, principal["environment"], "invoice", series)
    return store().get(*key.keys().values())


def service(**overrides) -> DocumentService:
    """The real service with the real adapters, parts replaceable."""
    base = documents_service.default_service()
    parts = {name: getattr(base, name) for name in ("issuers", "sequences", "claims", "starter", "files",
                                                     "mailer", "clock")}
    return DocumentService(base.repo, **{**parts, **overrides})


class RecordingStarter:
    """Stands in for Step Functions where the test is about something else (200 executions would
    only slow it down)."""

    def __init__(self):
        self.started: list[str] = []

    def start(self, account_id: str, document_id: str, round_: int = 0) -> str:
        self.started.append(document_id)
        return document_id


def parsed(issuer: Issuer, **changes) -> CreateDocumentRequest:
    return CreateDocumentRequest.model_validate(invoice(issuer, **changes))


def issue_without_workflow(issuer: Issuer, environment: str = "test"):
    return service(starter=RecordingStarter()).create(ACCOUNT["account_id"], environment,
                                                      parsed(issuer)).document


def error_of(response: dict) -> tuple[int, str]:
    return response["statusCode"], response_json(response)["error"]["code"]


# Issuing --------------------------------------------------------------------------------------------

def test_issuing_numbers_stores_and_starts_the_workflow(aws, testland):
    issuer = make_issuer()
    status, doc = request("POST", "/v1/documents", invoice(issuer))
    assert status == 201, doc
    assert doc["id"].startswith("doc_") and doc["status"] == "processing"
    assert (doc["type"], doc["country"], doc["environment"], doc["issuer_id"]) == (
        "invoice", "ZZ", "test", issuer.id)
    assert doc["number"] == "001-001-000000001"
    assert doc["issue_date"] == datetime.now(UTC).date().isoformat()
    assert doc["authority"]["access_key"] == f"TT1000000001{doc['id'][-6:]}"
    assert doc["customer"] == {"name": "Importadora Andina Cía. Ltda.", "tax_id": "1790016919001",
                               "email": CUSTOMER_EMAIL}
    assert doc["totals"] == {"currency": "USD", "subtotal": "13.50", "discount": "0", "tax": "2.03",
                             "total": "15.53"}

    item = store().get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{doc['id']}")
    assert item["content"] == {"lines": [["Café de altura 500 g", "2", "6.75"]]}
    assert (item["series"], int(item["sequence"]), item["title"], item["issuer_name"]) == (
        "001-001", 1, "Factura", LEGAL_NAME)
    assert item["workflow_started"] is True

    executions = settle(aws["SELLO_STATE_MACHINE_ARN"])
    assert [(e["name"], e["status"]) for e in executions] == [(doc["id"], "SUCCEEDED")]
    status, done = request("GET", f"/v1/documents/{doc['id']}")
    assert done["status"] == "authorized"
    assert done["number"] == "001-001-000000001"
    assert done["authority"]["authorization_number"] == doc["authority"]["access_key"]
    assert done["authority"]["authorized_at"] == "2026-03-02T10:15:00-05:00"
    assert testland.signed == [("001-001-000000001", f"key-of-{issuer.id}")]


def test_each_series_and_environment_counts_on_its_own(aws, testland):
    issuer = make_issuer()
    numbers = [create(issuer)["number"], create(issuer)["number"],
               create(issuer, emission_point="002")["number"], create(issuer, principal=LIVE)["number"],
               create(issuer)["number"]]
    assert numbers == ["001-001-000000001", "001-001-000000002", "001-002-000000001", "001-001-000000001",
                       "001-001-000000003"]


def test_the_sample_create_events_reach_validation(aws, testland):
    """The sample events are well-formed requests: they get past the request model to the issuer lookup."""
    for name in ("create_invoice", "create_credit_note", "create_debit_note", "create_delivery_guide",
                 "create_withholding", "create_purchase_settlement"):
        event = load_event(f"documents/{name}.json")
        event["requestContext"]["authorizer"] = authorizer_context(ACCOUNT)
        response = call(event)
        body = response_json(response)
        assert (response["statusCode"], body["error"]["code"]) == (404, "issuer_not_found"), (name, body)


@pytest.mark.parametrize("case, change, status, code, path", [
    ("unknown issuer", {"issuer_id": "iss_" + "0" * 20}, 404, "issuer_not_found", "issuer_id"),
    ("malformed issuer id", {"issuer_id": "nope"}, 404, "issuer_not_found", "issuer_id"),
    ("the plugin's own check", {"establishment": "009"}, 422, "unknown_establishment", "establishment"),
    ("the plugin's nested path",
     {"customer": {"id_type": "national_id", "tax_id": "0000000000", "name": "X"}},
     422, "invalid_tax_id", "customer.tax_id"),
    ("the request model", {"items": [{"description": "x", "unit_price": "-1", "taxes": [{"type": "vat"}]}]},
     422, "invalid_value", "items.0.unit_price"),
    ("an unknown field", {"colour": "red"}, 422, "unknown_field", "colour"),
])
def test_a_rejected_request_writes_nothing(aws, testland, case, change, status, code, path):
    issuer = make_issuer()
    got, body = request("POST", "/v1/documents", invoice(issuer, **change), key="key-rejected")
    assert (got, body["error"]["code"], body["error"]["path"]) == (status, code, path), body
    assert items("DOC#") == [] and items("SEQ#") == [] and items("IDEM#") == []
    # The next good request is number 1.
    assert create(issuer, key="key-rejected")["number"] == "001-001-000000001"


@pytest.mark.parametrize("certificate, expired, code", [(False, False, "certificate_required"),
                                                        (True, True, "certificate_expired")])
def test_an_issuer_that_cannot_sign_cannot_issue(aws, testland, certificate, expired, code):
    issuer = make_issuer(certificate=certificate, expired=expired)
    status, body = request("POST", "/v1/documents", invoice(issuer))
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, "issuer_id")
    assert testland.prepared == 0 and items("DOC#") == [] and items("SEQ#") == []


def test_a_certificate_for_tests_only_issues_test_documents_but_no_live_one(aws, testland):
    issuer = make_issuer(trusted=False)
    status, body = request("POST", "/v1/documents", invoice(issuer), principal=LIVE)
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "certificate_not_trusted", "issuer_id")
    assert testland.prepared == 0 and items("DOC#") == [] and items("SEQ#") == []
    # The same issuer's test documents go ahead, and a live key with a trusted certificate too.
    assert create(issuer)["number"] == "001-001-000000001"
    assert create(make_issuer(trusted=True), principal=LIVE)["number"] == "001-001-000000001"


def test_another_accounts_issuer_is_not_found(aws, testland):
    theirs = make_issuer(OTHER)
    status, body = request("POST", "/v1/documents", invoice(theirs))
    assert (status, body["error"]["code"]) == (404, "issuer_not_found")


def test_a_document_too_large_to_store_is_refused_before_numbering(aws, testland, monkeypatch):
    monkeypatch.setattr(documents_service, "MAX_CONTENT_BYTES", 50)
    issuer = make_issuer()
    lines = [{"description": f"Line {n}", "unit_price": "1", "taxes": [{"type": "vat"}]} for n in range(5)]
    status, body = request("POST", "/v1/documents", invoice(issuer, items=lines))
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "document_too_large", "body")
    assert body["error"]["limit"] == 50 and body["error"]["size"] > 50
    assert str(body["error"]["size"]) in body["error"]["message"]
    assert items("SEQ#") == []


def test_a_body_that_is_not_json_is_refused(aws, testland):
    event = api_event("POST", "/v1/documents", principal=ACCOUNT, headers={"Content-Type": "text/plain"})
    response = call(event | {"body": "type=invoice"})
    assert error_of(response) == (415, "unsupported_media_type")


# Idempotency ----------------------------------------------------------------------------------------

def test_the_same_key_and_body_answer_the_same_document(aws, testland):
    issuer = make_issuer()
    body = invoice(issuer)
    first = call(api_event("POST", "/v1/documents", body, principal=ACCOUNT,
                           headers={"Idempotency-Key": "k-1"}))
    assert first["statusCode"] == 201 and header(first, "Idempotent-Replayed") is None
    # The same document in another key order and spacing, with a default spelled out, and the header
    # name in other case.
    same = json.dumps({**dict(reversed(list(body.items()))), "currency": "USD"}, indent=2)
    event = api_event("POST", "/v1/documents", principal=ACCOUNT,
                      headers={"Content-Type": "application/json", "idempotency-key": "k-1"}) | {"body": same}
    again = call(event)
    assert again["statusCode"] == 200
    assert header(again, "Idempotent-Replayed") == "true"
    assert response_json(again)["id"] == response_json(first)["id"]
    assert response_json(again)["number"] == "001-001-000000001"
    assert len(items("DOC#")) == 1
    assert int(counter(issuer)["last"]) == 1
    # Another key is another document.
    assert create(issuer, key="k-2")["number"] == "001-001-000000002"


def test_the_same_key_with_another_body_is_a_conflict(aws, testland):
    issuer = make_issuer()
    create(issuer, key="k-reused")
    other = invoice(issuer, items=[{"description": "Otro", "unit_price": "1", "taxes": [{"type": "vat"}]}])
    status, body = request("POST", "/v1/documents", other, key="k-reused")
    assert (status, body["error"]["code"], body["error"]["path"]) == (409, "idempotency_key_reused",
                                                                      "Idempotency-Key")
    assert len(items("DOC#")) == 1 and int(counter(issuer)["last"]) == 1


def test_keys_are_scoped_to_the_account_and_environment(aws, testland):
    issuer, theirs = make_issuer(), make_issuer(OTHER)
    ids = {create(issuer, key="shared")["id"], create(issuer, key="shared", principal=LIVE)["id"],
           create(theirs, key="shared", principal=OTHER)["id"]}
    assert len(ids) == 3


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_refused(aws, testland, key):
    issuer = make_issuer()
    status, body = request("POST", "/v1/documents", invoice(issuer), key=key)
    assert (status, body["error"]["code"], body["error"]["path"]) == (400, "invalid_idempotency_key",
                                                                      "Idempotency-Key")
    assert items("DOC#") == [] and items("IDEM#") == []


def test_the_longest_key_and_any_printable_character_are_fine(aws, testland):
    issuer = make_issuer()
    key = ("~ !#$%&'()*+,-./:;<=>?@[]^_`{|}" * 10)[:255]
    first, again = create(issuer, key=key), request("POST", "/v1/documents", invoice(issuer), key=key)
    assert again == (200, first)


def test_fifty_concurrent_identical_requests_make_one_document(aws, testland, atomic_dynamodb):
    issuer = make_issuer()
    request_ = parsed(issuer)
    barrier = threading.Barrier(50)

    def issue(_):
        barrier.wait()
        return service().create(ACCOUNT["account_id"], "test", request_, "k-concurrent")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(issue, range(50)))
    assert len({r.document.id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 49
    assert len(items("DOC#")) == 1 and len(items("IDEM#")) == 1
    assert int(counter(issuer)["last"]) == 1
    assert [e["name"] for e in settle(aws["SELLO_STATE_MACHINE_ARN"])] == [results[0].document.id]


def test_a_request_waits_for_the_one_that_holds_the_key_then_gives_up(aws, testland):
    issuer = make_issuer()
    request_ = parsed(issuer)
    now = int(datetime.now(UTC).timestamp())
    held, _ = DynamoIdempotency(store()).claim(ACCOUNT["account_id"], "test", "k-held",
                                              document_id=new_id("doc"), request_hash=request_hash(request_),
                                              now=now, ttl=3600)
    assert held
    clock = [0.0]
    waiting = service(monotonic=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                      wait_seconds=0.5)
    with pytest.raises(SelloError) as err:
        waiting.create(ACCOUNT["account_id"], "test", request_, "k-held")
    assert (err.value.status, err.value.code) == (409, "idempotency_key_in_use")
    assert clock[0] >= 0.5  # it did wait
    assert items("DOC#") == [] and counter(issuer) is None


def test_a_claim_whose_holder_died_is_taken_over_with_the_same_document_id(aws, testland):
    issuer = make_issuer()
    request_ = parsed(issuer)
    long_ago = int(datetime.now(UTC).timestamp()) - documents_service.CLAIM_LEASE_SECONDS - 1
    orphan = new_id("doc")
    DynamoIdempotency(store()).claim(ACCOUNT["account_id"], "test", "k-orphan", document_id=orphan,
                                     request_hash=request_hash(request_), now=long_ago, ttl=3600)
    issued = service(starter=RecordingStarter()).create(ACCOUNT["account_id"], "test", request_, "k-orphan")
    assert (issued.document.id, issued.replayed, issued.document.number) == (
        orphan, False, "001-001-000000001")
    again = service().create(ACCOUNT["account_id"], "test", request_, "k-orphan")
    assert (again.document.id, again.replayed) == (orphan, True)


def test_a_key_expires_after_a_day(aws, testland):
    issuer = make_issuer()
    first = service(starter=RecordingStarter()).create(ACCOUNT["account_id"], "test", parsed(issuer), "k-day")
    later = timedelta(hours=24, seconds=1)
    tomorrow = service(starter=RecordingStarter(), clock=lambda: datetime.now(UTC) + later)
    other = parsed(issuer, items=[{"description": "Otro", "unit_price": "1", "taxes": [{"type": "vat"}]}])
    second = tomorrow.create(ACCOUNT["account_id"], "test", other, "k-day")
    assert second.document.id != first.document.id and not second.replayed
    assert second.document.number == "001-001-000000002"


# Numbering ------------------------------------------------------------------------------------------

def test_two_hundred_concurrent_documents_are_numbered_1_to_200(aws, testland, atomic_dynamodb):
    issuer = make_issuer()
    starter = RecordingStarter()
    request_ = parsed(issuer)
    barrier = threading.Barrier(50)

    def issue(n):
        if n < 50:
            barrier.wait()  # the first fifty start at the same moment
        return service(starter=starter).create(ACCOUNT["account_id"], "test", request_).document

    with ThreadPoolExecutor(50) as pool:
        issued = list(pool.map(issue, range(200)))
    assert sorted(d.number for d in issued) == [f"001-001-{n:09d}" for n in range(1, 201)]
    assert len({d.id for d in issued}) == 200 and sorted(starter.started) == sorted(d.id for d in issued)
    assert int(counter(issuer)["last"]) == 200 and "free" not in counter(issuer)


def test_a_number_whose_document_was_not_written_goes_to_the_next_document(aws, testland, monkeypatch):
    issuer = make_issuer()
    assert create(issuer)["number"] == "001-001-000000001"
    real_put = DynamoDocumentsRepo.put_new
    failures = iter([RuntimeError("DynamoDB is down")])

    def failing_put(self, doc):
        error = next(failures, None)
        if error:
            raise error
        return real_put(self, doc)

    monkeypatch.setattr(DynamoDocumentsRepo, "put_new", failing_put)
    status, body = request("POST", "/v1/documents", invoice(issuer), key="k-failed")
    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert counter(issuer)["free"] == {2} and items("IDEM#") == []  # the number returned, the key given up
    assert len(items("DOC#")) == 1
    # The retry with the same key gets the returned number; so does nothing else after it.
    assert create(issuer, key="k-failed")["number"] == "001-001-000000002"
    assert "free" not in counter(issuer)
    assert create(issuer)["number"] == "001-001-000000003"


def test_a_failure_in_the_plugins_numbering_returns_the_number(aws, testland):
    issuer = make_issuer()
    testland.fail_numbering = True
    status, _ = request("POST", "/v1/documents", invoice(issuer), key="k-numbering")
    assert status == 500
    assert counter(issuer)["free"] == {1} and items("DOC#") == [] and items("IDEM#") == []
    testland.fail_numbering = False
    assert create(issuer, key="k-numbering")["number"] == "001-001-000000001"


def test_returned_numbers_are_reused_smallest_first_and_once(aws, atomic_dynamodb):
    sequences = DynamoSequences(store())
    series = SequenceKey("acct_x", "iss_x", "test", "invoice", "001-001")
    assert [sequences.allocate(series) for _ in range(5)] == [1, 2, 3, 4, 5]
    sequences.release(series, 4)
    sequences.release(series, 2)
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: sequences.allocate(series), range(8)))
    assert sorted(taken) == [2, 4, 6, 7, 8, 9, 10, 11]
    assert sequences.allocate(SequenceKey("acct_x", "iss_x", "test", "invoice", "001-002")) == 1


# The workflow ---------------------------------------------------------------------------------------

def workflow_down(monkeypatch, aws) -> None:
    """Points the functions at a state machine that does not exist, as when Step Functions cannot be reached."""
    monkeypatch.setenv("SELLO_STATE_MACHINE_ARN", aws["SELLO_STATE_MACHINE_ARN"].replace(":sello-test-",
                                                                                        ":sello-gone-"))
    get_settings.cache_clear()


def workflow_up(monkeypatch, aws) -> None:
    monkeypatch.setenv("SELLO_STATE_MACHINE_ARN", aws["SELLO_STATE_MACHINE_ARN"])
    get_settings.cache_clear()


def pending() -> list[str]:
    """Sort keys of the pending-start marks."""
    table = aws_clients.resource("dynamodb").Table(get_settings().table_name)
    return sorted(i["sk"] for i in table.scan()["Items"] if i["pk"] == "WORKFLOW#PENDING")


def restart() -> dict:
    """One run of the scheduled workflow_restart function, on its sample event."""
    from functions.scheduled import workflow_restart

    return workflow_restart.handler(load_event("scheduled/workflow_restart.json"), context_for(RESTART))


def test_when_the_workflow_cannot_start_the_document_is_left_for_the_scheduled_restart(aws, testland,
                                                                                        monkeypatch):
    issuer = make_issuer()
    workflow_down(monkeypatch, aws)
    status, doc = request("POST", "/v1/documents", invoice(issuer))  # no Idempotency-Key
    assert status == 201, doc
    assert (doc["status"], doc["number"]) == ("processing", "001-001-000000001")
    item = store().get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{doc['id']}")
    assert item["workflow_started"] is False
    assert pending() == [f"{ACCOUNT['account_id']}#{doc['id']}"]

    # Still down: the run fails (so alarms fire) and the document stays pending.
    with pytest.raises(RuntimeError, match="1 document workflow"):
        restart()
    assert pending() == [f"{ACCOUNT['account_id']}#{doc['id']}"]

    workflow_up(monkeypatch, aws)
    assert restart() == {"started": 1, "failed": 0}
    assert pending() == []
    assert store().get(item["pk"], item["sk"])["workflow_started"] is True
    executions = settle(aws["SELLO_STATE_MACHINE_ARN"])
    assert [(e["name"], e["status"]) for e in executions] == [(doc["id"], "SUCCEEDED")]
    assert request("GET", f"/v1/documents/{doc['id']}")[1]["status"] == "authorized"
    assert restart() == {"started": 0, "failed": 0}
    assert len(items("DOC#")) == 1 and int(counter(issuer)["last"]) == 1


def test_a_replay_still_starts_an_unstarted_document_at_once(aws, testland, monkeypatch):
    issuer = make_issuer()
    workflow_down(monkeypatch, aws)
    doc = create(issuer, key="k-later")
    assert request("POST", "/v1/documents", invoice(issuer), key="k-later")[0] == 200  # still down, still pending
    assert len(pending()) == 1

    workflow_up(monkeypatch, aws)
    status, replayed = request("POST", "/v1/documents", invoice(issuer), key="k-later")
    assert (status, replayed["id"]) == (200, doc["id"])
    assert store().get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{doc['id']}")["workflow_started"] is True
    # The restart then finds it started: it still runs once, and the mark goes.
    assert restart() == {"started": 1, "failed": 0}
    assert pending() == []
    assert [e["name"] for e in settle(aws["SELLO_STATE_MACHINE_ARN"])] == [doc["id"]]


def test_a_document_that_still_cannot_start_keeps_its_mark_and_does_not_hold_up_the_others(aws, testland,
                                                                                           monkeypatch):
    issuer = make_issuer()
    workflow_down(monkeypatch, aws)
    first, second = create(issuer), create(issuer)
    workflow_up(monkeypatch, aws)

    class FailsForFirst(RecordingStarter):
        def start(self, account_id: str, document_id: str, round_: int = 0) -> str:
            if document_id == first["id"]:
                raise RuntimeError("throttled")
            return super().start(account_id, document_id, round_)

    starter = FailsForFirst()
    report = service(starter=starter).start_pending()
    assert (report.started, report.failed) == (1, 1)
    assert starter.started == [second["id"]]
    assert pending() == [f"{ACCOUNT['account_id']}#{first['id']}"]
    started = {d["id"]: store().get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{d['id']}")["workflow_started"]
               for d in (first, second)}
    assert started == {first["id"]: False, second["id"]: True}


def test_when_neither_the_workflow_nor_its_mark_can_be_written_the_answer_is_503(aws, testland, monkeypatch):
    issuer = make_issuer()
    workflow_down(monkeypatch, aws)

    def mark_fails(self, account_id, document_id, now):
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(DynamoDocumentsRepo, "mark_pending_start", mark_fails)
    status, body = request("POST", "/v1/documents", invoice(issuer), key="k-unstarted")
    assert (status, body["error"]["code"]) == (503, "workflow_unavailable")
    [item] = items("DOC#")
    document_id = item["sk"].removeprefix("DOC#")
    assert document_id in body["error"]["message"]
    assert item["status"] == "processing" and item["workflow_started"] is False
    assert item["number"] == "001-001-000000001" and pending() == []
    # Still down: the same answer, and still one document.
    assert request("POST", "/v1/documents", invoice(issuer), key="k-unstarted")[0] == 503

    workflow_up(monkeypatch, aws)
    status, doc = request("POST", "/v1/documents", invoice(issuer), key="k-unstarted")
    assert (status, doc["id"], doc["number"]) == (200, document_id, "001-001-000000001")
    assert store().get(item["pk"], item["sk"])["workflow_started"] is True
    assert [e["name"] for e in settle(aws["SELLO_STATE_MACHINE_ARN"])] == [document_id]
    assert int(counter(issuer)["last"]) == 1


# Downloads ------------------------------------------------------------------------------------------

def authorized_document(aws, issuer: Issuer) -> dict:
    doc = create(issuer, key=new_id("k"))
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    status, done = request("GET", f"/v1/documents/{doc['id']}")
    assert done["status"] == "authorized", done
    return done


def download(document_id: str, kind: str, principal: dict = ACCOUNT, headers: dict | None = None) -> dict:
    return call(api_event("GET", f"/v1/documents/{document_id}/{kind}", principal=principal, headers=headers))


def test_xml_and_pdf_downloads(aws, testland):
    doc = authorized_document(aws, make_issuer())
    xml = followed(download(doc["id"], "xml"), "001-001-000000001.xml", "application/xml")
    assert xml.decode() == f"<autorizacion numero='{doc['authority']['access_key']}'>ñ</autorizacion>"
    pdf = followed(download(doc["id"], "pdf"), "001-001-000000001.pdf", "application/pdf")
    assert pdf == b"%PDF-1.4\n\x00\xff binary 001-001-000000001"


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/pdf", "text/html"])
def test_the_files_come_whatever_the_accept_header(aws, testland, accept):
    doc = authorized_document(aws, make_issuer())
    headers = {"Accept": accept} if accept else None
    pdf = followed(download(doc["id"], "pdf", headers=headers), "001-001-000000001.pdf", "application/pdf")
    assert pdf == b"%PDF-1.4\n\x00\xff binary 001-001-000000001"
    xml = followed(download(doc["id"], "xml", headers=headers), "001-001-000000001.xml", "application/xml")
    assert xml.startswith(b"<autorizacion")


def signed_document(aws, number: str, **fields) -> str:
    """The id of a stored document that was signed (its signed XML in the bucket) and not authorized."""
    document_id = new_id("doc")
    signed = document_key(ACCOUNT["account_id"], document_id, "signed.xml")
    S3Blobs(aws["SELLO_BUCKET_NAME"]).put(signed, b"<signed/>", "application/xml")
    DynamoDocumentsRepo(store()).put_new(Document(
        id=document_id, account_id=ACCOUNT["account_id"], environment="test", type="invoice", country="ZZ",
        issuer_id=make_issuer().id, number=number, signed_key=signed, created_at=datetime.now(UTC), **fields))
    return document_id


def test_before_the_authorization_the_xml_is_the_signed_one_and_there_is_no_pdf(aws, testland):
    document_id = signed_document(aws, "001-001-000000007")
    assert followed(download(document_id, "xml"), "001-001-000000007.xml", "application/xml") == b"<signed/>"
    assert error_of(download(document_id, "pdf")) == (409, "document_not_ready")


def test_a_new_document_has_no_files_yet(aws, testland):
    doc = issue_without_workflow(make_issuer())
    for kind in ("xml", "pdf"):
        assert error_of(download(doc.id, kind)) == (409, "document_not_ready")


@pytest.mark.parametrize("status", ["rejected", "failed"])
def test_a_document_that_ended_unauthorized_never_has_files(aws, testland, status):
    """Not "not ready" (ask again later) but "not authorized" (it will not come), with the status."""
    document_id = signed_document(aws, "001-001-000000008", status=status)
    for kind, name in (("xml", "XML"), ("pdf", "PDF")):
        response = download(document_id, kind, headers={"Accept-Language": "en"})
        error = json.loads(response["body"])["error"]
        assert (response["statusCode"], error["code"], error["status"]) == (409, "document_not_authorized", status)
        assert f"so its {name} does not exist" in error["message"]
        assert ("retried" in error["message"]) is (status == "failed")
        spanish = json.loads(download(document_id, kind)["body"])["error"]  # the default language
        assert (spanish["code"], spanish["status"]) == ("document_not_authorized", status)
        assert f"su {name} no existe" in spanish["message"]


@pytest.mark.parametrize("kind", ["xml", "pdf"])
def test_files_of_unknown_or_foreign_documents_are_not_found(aws, testland, kind):
    doc = authorized_document(aws, make_issuer())
    cases = ((doc["id"], OTHER), (doc["id"], LIVE), (new_id("doc"), ACCOUNT), ("x", ACCOUNT))
    for document_id, principal in cases:
        assert error_of(download(document_id, kind, principal)) == (404, "document_not_found")


def test_the_local_gateway_passes_the_redirect_on_whatever_the_accept_header(aws, testland):
    doc = authorized_document(aws, make_issuer())

    def invoke(name: str, event: dict):
        if name == "authorizer":
            return {"principalId": ACCOUNT["account_id"], "context": ACCOUNT, "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                               "Resource": [event["methodArn"]]}]}}
        return invoke_function(name, event)

    client = Client(Gateway(invoke=invoke))
    for accept in (None, "application/json", "*/*", "application/pdf"):
        headers = {"Authorization": "Bearer sk_test_x", **({"Accept": accept} if accept else {})}
        for kind, content in (("pdf", b"%PDF-1.4\n\x00\xff binary 001-001-000000001"), ("xml", "ñ".encode())):
            answer = client.get(f"/v1/documents/{doc['id']}/{kind}", headers=headers)
            assert answer.status_code == 303, (accept, kind, answer.data)
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.json["url"] == answer.headers["Location"]
            assert content in requests.get(answer.headers["Location"], timeout=10).content


# Email ----------------------------------------------------------------------------------------------

def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_the_workflow_emails_the_customer_and_the_email_can_be_sent_again(aws, testland, outbox):
    doc = authorized_document(aws, make_issuer())
    [first] = outbox()
    assert first["To"] == CUSTOMER_EMAIL
    assert first["Subject"] == f"Factura 001-001-000000001 - {LEGAL_NAME}"
    assert f"{LEGAL_NAME} le envió este comprobante: Factura 001-001-000000001." in first.get_body().get_content()
    assert first.get_body(("html",)) is not None
    files = attachments(first)
    assert set(files) == {"001-001-000000001.xml", "001-001-000000001.pdf"}

    status, sent = request("POST", f"/v1/documents/{doc['id']}/email", {})
    assert status == 202 and sent["to"] == CUSTOMER_EMAIL and sent["sent_at"]
    status, sent = request("POST", f"/v1/documents/{doc['id']}/email", {"to": "contabilidad@example.com"})
    assert (status, sent["to"]) == (202, "contabilidad@example.com")
    _, again, other = outbox()
    assert again["To"] == CUSTOMER_EMAIL and other["To"] == "contabilidad@example.com"
    assert again["Subject"] == other["Subject"] == first["Subject"]  # one template
    assert attachments(again) == attachments(other) == files


def test_email_without_a_body_goes_to_the_customer(aws, testland, outbox):
    doc = authorized_document(aws, make_issuer())
    status, sent = request("POST", f"/v1/documents/{doc['id']}/email")
    assert (status, sent["to"]) == (202, CUSTOMER_EMAIL)
    assert len(outbox()) == 2


def test_email_errors(aws, testland, outbox, monkeypatch):
    issuer = make_issuer()
    no_email = invoice(issuer, customer={"id_type": "final_consumer"})
    created = request("POST", "/v1/documents", no_email, key="k-anon")[1]
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    status, body = request("POST", f"/v1/documents/{created['id']}/email", {})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "email_required", "to")

    pending = issue_without_workflow(issuer)
    status, body = request("POST", f"/v1/documents/{pending.id}/email", {"to": "x@example.com"})
    assert (status, body["error"]["code"]) == (409, "document_not_ready")
    status, body = request("POST", f"/v1/documents/{new_id('doc')}/email", {})
    assert (status, body["error"]["code"]) == (404, "document_not_found")
    status, body = request("POST", f"/v1/documents/{created['id']}/email", {"to": "not an address"})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "invalid_value", "to")
    status, body = request("POST", f"/v1/documents/{created['id']}/email", {"to": "a@example.com", "cc": "b"})
    assert (status, body["error"]["code"]) == (422, "unknown_field")

    monkeypatch.setenv("SELLO_SENDER_EMAIL", "unverified@elsewhere.test")
    get_settings.cache_clear()
    status, body = request("POST", f"/v1/documents/{created['id']}/email", {"to": "a@example.com"})
    assert (status, body["error"]["code"]) == (503, "email_unavailable")
    assert outbox() == []


# The signing task's key cache -----------------------------------------------------------------------

def use_real_signing_credentials(monkeypatch) -> None:
    """The signing task with the real credentials (the fixture installed fake ones) and an empty cache."""
    import functions.workflow.sign as sign_task
    from sello.services import certificates

    monkeypatch.setattr(sign_task, "credentials",
                        lambda: sign_task.CachedCredentials(certificates.default_service()))
    monkeypatch.setattr(sign_task, "_KEYS", {})


def upload_certificate(issuer: Issuer, slot: int) -> None:
    from sello.services import certificates

    p12 = certs.make_p12(password="pw", key_slot=slot)
    request_ = UploadCertificateRequest(p12_base64=base64.b64encode(p12).decode(), password="pw")
    certificates.default_service().upload(ACCOUNT["account_id"], issuer.id, request_, "test")

def test_the_signing_task_decrypts_a_key_once_and_follows_a_new_certificate(aws, testland, monkeypatch):
    import functions.workflow.sign as sign_task

    use_real_signing_credentials(monkeypatch)
    issuer = make_issuer(certificate=False)

    def upload(slot: int) -> None:
        upload_certificate(issuer, slot)

    decrypts = []
    aws_clients.client("kms").meta.events.register("before-call.kms.Decrypt",
                                                   lambda **kwargs: decrypts.append(1))

    def sign_new_document() -> object:
        doc = issue_without_workflow(issuer)
        assert sign_task.handler({"account_id": ACCOUNT["account_id"], "document_id": doc.id}, None) == {
            "status": "signed"}
        return testland.signed[-1][1]

    upload(slot=1)
    first, second = sign_new_document(), sign_new_document()
    assert len(decrypts) == 1
    assert first is second
    assert first.private_numbers() == certs.rsa_key(1).private_numbers()

    upload(slot=2)  # a new certificate: its key is decrypted on the next signature, then kept
    third, fourth = sign_new_document(), sign_new_document()
    assert len(decrypts) == 2
    assert third.private_numbers() == certs.rsa_key(2).private_numbers() and fourth is third
    assert len(sign_task._KEYS) == 1  # the replaced certificate's key is not kept


def test_a_live_document_is_not_signed_with_a_certificate_for_tests_uploaded_after_it(aws, testland,
                                                                                       monkeypatch):
    """The certificate was trusted when the live document was created, then replaced (with a test key)
    by one that is not: the signing task refuses, and the document ends failed with the reason."""
    import functions.workflow.sign as sign_task
    from sello.services import certificates
    from sello.services.workflow import DocumentWorkflow, FinishInput

    use_real_signing_credentials(monkeypatch)
    issuer = make_issuer(certificate=False)

    def upload(slot: int) -> None:
        upload_certificate(issuer, slot)

    upload(slot=1)
    live = issue_without_workflow(issuer, "live")
    test = issue_without_workflow(issuer, "test")
    testland.trusts = False
    upload(slot=2)
    task = {"account_id": ACCOUNT["account_id"], "document_id": live.id}
    with pytest.raises(certificates.CertificateNotTrusted):
        sign_task.handler(task, None)
    assert testland.signed == []
    # The key cache does not get around it, nor does a run that finds the key cached.
    assert sign_task.handler({**task, "document_id": test.id}, None) == {"status": "signed"}
    with pytest.raises(certificates.CertificateNotTrusted):
        sign_task.handler(task, None)
    with pytest.raises(certificates.CertificateNotTrusted):  # the service checks on its own as well
        certificates.default_service().load_signing_key(ACCOUNT["account_id"], issuer.id, "live")
    # What the state machine's Catch hands to finish becomes the document's error.
    DocumentWorkflow.from_settings().finish(FinishInput(**task, status="failed",
                                                        error={"Error": "CertificateNotTrusted"}))
    item = store().get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{live.id}")
    assert item["status"] == "failed" and item["error"]["code"] == "certificate_not_trusted"
