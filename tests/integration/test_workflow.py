"""The document workflow on the emulator: the real ASL file, executed by the emulator's Step Functions
engine, dispatching to the real task handlers, which work against the emulated DynamoDB, S3 and SES.
Only the country is fake: an authority that answers from a script, so every path can be driven."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from sello.adapters import aws as aws_clients
from sello.adapters.blobs import S3Blobs, document_key
from sello.adapters.dynamo import DynamoStore
from sello.adapters.workflow import StepFunctionsStarter
from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage, CancellationOutcome, CancelOutcome, PollOutcome, SubmitOutcome
from sello.services import workflow
from sello.services.logos import logo_key
from sello.services.workflow import poll_wait_seconds
from sello.settings import Settings, get_settings
from tests.helpers import install_country

ACCOUNT = "acc_workflow00000000000001"
CUSTOMER = "buyer@example.com"
RECEIVED = SubmitOutcome("received")
PROCESSING = PollOutcome("processing")
UNKNOWN = PollOutcome("unknown")


def authorized(number: str = "1234567890") -> PollOutcome:
    return PollOutcome("authorized", number=number, authorized_at="2026-03-02T10:15:00-05:00",
                       document=f"<authorization number='{number}'/>".encode(),
                       messages=(AuthorityMessage("60", "AMBIENTE DE PRUEBAS", warning=True),))


class ScriptedAuthority:
    """A country plugin whose authority gives the scripted answers in turn (the last one repeats).
    An exception in a script is raised instead of answered."""

    code, name, authority = "ZZ", "Testland", "TTA"

    def __init__(self):
        self.submit_script: list = [RECEIVED]
        self.poll_script: list = [authorized()]
        self.calls: Counter[str] = Counter()
        self.accepted: list[bytes] = []  # documents the authority took in
        self.fail_signing = False
        self.cancel_script: list = [CancelOutcome("requested", receipt=b"<acuse/>")]
        self.cancellation_script: list = [CancellationOutcome("accepted", "Cancelled")]

    @staticmethod
    def _next(script: list):
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sign(self, document, key, cert) -> bytes:
        self.calls["sign"] += 1
        if self.fail_signing:
            raise ValueError("the builder cannot express this document")
        return f"<document id='{document['sk']}' signed-by='{cert}' key='{key}'/>".encode()

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        self.calls["submit"] += 1
        outcome = self._next(self.submit_script)
        if outcome.status == "received":
            self.accepted.append(signed_xml)
        return outcome

    def poll(self, document, environment: str) -> PollOutcome:
        self.calls["poll"] += 1
        return self._next(self.poll_script)

    def render(self, document, authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        shown = b" logo " + logo if logo else b""
        cancelled = b" CANCELLED" if document.get("cancellation_status") in ("accepted", "expired") else b""
        return b"%PDF-1.7 " + document["authorization_number"].encode() + b" " + authorized + shown + cancelled

    def cancel(self, document, request, key, cert, environment: str) -> CancelOutcome:
        self.calls["cancel"] += 1
        assert (key, cert) == (f"key-of-{document['issuer_id']}", f"cert-of-{document['issuer_id']}")
        return self._next(self.cancel_script)

    def cancellation_status(self, document, environment: str) -> CancellationOutcome:
        self.calls["cancellation_status"] += 1
        return self._next(self.cancellation_script)


@pytest.fixture
def authority(aws, monkeypatch):
    """Registers the scripted country as "ZZ", hands the sign task fake credentials and makes the
    waits between polls zero seconds."""
    plugin = ScriptedAuthority()
    install_country(monkeypatch, plugin)
    yield plugin
    get_settings.cache_clear()


@pytest.fixture
def run(aws):
    """Inserts a document item, starts its execution and waits for it; returns (execution, item)."""
    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    starter = StepFunctionsStarter(aws["SELLO_STATE_MACHINE_ARN"])

    def _run(document_id: str, **fields):
        store.put({"pk": f"ACCOUNT#{ACCOUNT}", "sk": f"DOC#{document_id}", "country": "ZZ",
                   "environment": "test", "status": "processing", "issuer_id": "iss_1",
                   "number": "001-001-000000007", "title": "Invoice",
                   "customer": {"name": "Buyer", "email": CUSTOMER}, **fields})
        arn = starter.start(ACCOUNT, document_id)
        return wait_for(arn), store.get(f"ACCOUNT#{ACCOUNT}", f"DOC#{document_id}")

    return _run


def wait_for(execution_arn: str, timeout: float = 20.0) -> dict:
    sfn = aws_clients.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=execution_arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.05)
    raise AssertionError(f"execution still running after {timeout} s")


def blob(aws, document_id: str, filename: str) -> bytes | None:
    return S3Blobs(aws["SELLO_BUCKET_NAME"]).get(document_key(ACCOUNT, document_id, filename))


def test_authorized_after_a_failed_submission_and_an_undecided_and_an_unreachable_authority(
        aws, authority, run, outbox):
    authority.submit_script = [AuthorityUnavailable("HTTP 503"), RECEIVED]
    # The first answer is to the question asked before sending again: the authority has no such document.
    authority.poll_script = [UNKNOWN, PROCESSING, AuthorityUnavailable("read timeout"), authorized("0203202601")]

    execution, item = run("doc_happy")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "authorized"
    assert item["authority_status"] == "authorized"
    assert item["authorization_number"] == "0203202601"
    assert item["authorized_at"] == "2026-03-02T10:15:00-05:00"
    assert int(item["poll_count"]) == 2
    assert item["authority_messages"] == [{"code": "60", "message": "AMBIENTE DE PRUEBAS", "detail": "",
                                           "warning": True, "reason": ""}]
    assert "error" not in item and "delivery_error" not in item
    # Two calls, one of which failed in transit: the authority took the document in exactly once.
    assert authority.calls["submit"] == 2
    assert authority.accepted == [blob(aws, "doc_happy", "signed.xml")]
    assert b"signed-by='cert-of-iss_1'" in authority.accepted[0]
    assert authority.calls["poll"] == 4
    assert "authority_unreachable_since" not in item and "next_attempt_at" not in item
    assert blob(aws, "doc_happy", "authorized.xml") == b"<authorization number='0203202601'/>"
    pdf = blob(aws, "doc_happy", "document.pdf")
    assert pdf.startswith(b"%PDF") and b"0203202601" in pdf

    [mail] = outbox()
    assert mail["To"] == CUSTOMER
    assert mail["Subject"] == "Invoice 001-001-000000007"
    files = {part.get_filename(): (part.get_content_type(), part.get_content())
             for part in mail.iter_attachments()}
    assert files == {"001-001-000000007.xml": ("application/xml", b"<authorization number='0203202601'/>"),
                     "001-001-000000007.pdf": ("application/pdf", pdf)}


def test_the_pdf_and_the_email_show_the_issuers_logo_as_it_is_when_rendered(aws, authority, run, outbox):
    def inline_images(mail):
        return [(part["Content-ID"], part.get_content()) for part in mail.walk() if part["Content-ID"]]

    logo = b"\x89PNG\r\n\x1a\n(the issuer's logo)"
    S3Blobs(aws["SELLO_BUCKET_NAME"]).put(logo_key(ACCOUNT, "iss_1"), logo, "image/png")
    execution, item = run("doc_logo")
    assert (execution["status"], item["status"]) == ("SUCCEEDED", "authorized")
    assert blob(aws, "doc_logo", "document.pdf").endswith(b" logo " + logo)
    [mail] = outbox()
    assert inline_images(mail) == [("<logo>", logo)]
    assert 'src="cid:logo"' in mail.get_body(("html",)).get_content()

    S3Blobs(aws["SELLO_BUCKET_NAME"]).delete(logo_key(ACCOUNT, "iss_1"))
    execution, item = run("doc_no_logo")
    assert item["status"] == "authorized" and b" logo " not in blob(aws, "doc_no_logo", "document.pdf")
    assert inline_images(outbox()[-1]) == []


def test_tasks_run_again_change_nothing(aws, authority, run, outbox):
    from local.lambdas import invoke

    execution, _ = run("doc_again")
    assert execution["status"] == "SUCCEEDED"
    ids = {"account_id": ACCOUNT, "document_id": "doc_again"}

    assert invoke("sign", ids) == {"status": "signed"}
    assert invoke("submit", ids)["status"] == "received"
    assert invoke("poll", ids)["status"] == "authorized"
    assert invoke("notify", ids) == {"status": "sent"}
    assert invoke("finish", {**ids, "status": "failed", "error": {"Error": "Transient"}}) == {
        "status": "authorized"}
    # Starting the document's workflow again finds the execution it already had.
    assert StepFunctionsStarter(aws["SELLO_STATE_MACHINE_ARN"]).start(ACCOUNT, "doc_again") == \
        execution["executionArn"]

    assert authority.calls == Counter({"sign": 1, "submit": 1, "poll": 1})
    assert len(outbox()) == 1
    item = DynamoStore(aws["SELLO_TABLE_NAME"]).get(f"ACCOUNT#{ACCOUNT}", "DOC#doc_again")
    assert item["status"] == "authorized" and "error" not in item
    executions = aws_clients.client("stepfunctions").list_executions(
        stateMachineArn=aws["SELLO_STATE_MACHINE_ARN"])["executions"]
    assert [e["name"] for e in executions] == ["doc_again"]


def test_a_document_the_authority_already_has_is_polled_not_submitted(aws, authority, run):
    S3Blobs(aws["SELLO_BUCKET_NAME"]).put(document_key(ACCOUNT, "doc_resumed", "signed.xml"), b"<signed/>",
                                          "application/xml")

    execution, item = run("doc_resumed", signed_key=document_key(ACCOUNT, "doc_resumed", "signed.xml"),
                          received_at="2026-03-02T15:00:00Z", authority_status="received")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "authorized"
    assert authority.calls["sign"] == 0 and authority.calls["submit"] == 0
    assert authority.calls["poll"] == 1


def test_rejected_on_submission(aws, authority, run, outbox):
    authority.submit_script = [SubmitOutcome("rejected", messages=(
        AuthorityMessage("35", "DOCUMENTO INVALIDO", detail="fechaEmision is expected",
                         reason="schema_violation"),))]

    execution, item = run("doc_returned")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "rejected"
    assert item["authority_messages"] == [{"code": "35", "message": "DOCUMENTO INVALIDO",
                                           "detail": "fechaEmision is expected", "warning": False,
                                           "reason": "schema_violation"}]
    assert item["error"] == {"code": "schema_violation", "message": "The tax authority refused the document: "
                                                                    "35 DOCUMENTO INVALIDO (fechaEmision is expected)"}
    assert "received_at" not in item
    assert authority.calls["poll"] == 0
    assert blob(aws, "doc_returned", "document.pdf") is None
    assert outbox() == []


def test_a_flood_of_authority_messages_is_stored_bounded(aws, authority, run):
    # Warnings first and far too many, each longer than a field may be, in 4-byte characters.
    warnings = tuple(AuthorityMessage(f"W{i}", "AVISO " + "𝄞" * 400, detail="𝄞" * 5000, warning=True)
                     for i in range(30))
    authority.submit_script = [SubmitOutcome("rejected", messages=(
        *warnings, AuthorityMessage("35", "DOCUMENTO INVALIDO", detail="x" * 5000)))]

    execution, item = run("doc_flooded")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "rejected"
    stored = item["authority_messages"]
    assert len(stored) == workflow.MAX_STORED_MESSAGES
    assert stored[0]["code"] == "35" and not stored[0]["warning"]  # the error is kept, ahead of warnings
    assert all(len(m["message"]) <= 300 and len(m["detail"]) <= 1000 for m in stored)
    assert stored[1]["detail"].endswith("…")
    assert len(json.dumps(stored, ensure_ascii=False).encode()) < 45_000
    assert item["error"]["message"].startswith("The tax authority refused the document: 35")
    assert len(item["error"]["message"]) < 1400


def test_rejected_by_the_authorization(aws, authority, run, outbox):
    authority.poll_script = [PROCESSING, PollOutcome("rejected", messages=(
        AuthorityMessage("39", "FIRMA INVALIDA"),))]

    execution, item = run("doc_denied")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "rejected"
    assert [m["code"] for m in item["authority_messages"]] == ["39"]
    assert item["error"]["code"] == "rejected_by_authority"  # the fake authority names no reason
    assert authority.calls["submit"] == 1 and authority.calls["poll"] == 2
    assert blob(aws, "doc_denied", "authorized.xml") is None
    assert outbox() == []


def test_failed_when_signing_fails(aws, authority, run, outbox):
    authority.fail_signing = True

    execution, item = run("doc_unsigned")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "Sello.DocumentFailed"
    assert item["status"] == "failed"
    assert item["error"] == {"code": "processing_failed", "message": "The document could not be processed."}
    assert authority.calls["sign"] == 1  # not a retryable error
    assert authority.calls["submit"] == 0
    assert blob(aws, "doc_unsigned", "signed.xml") is None
    assert outbox() == []


def test_failed_when_the_authority_does_not_decide_within_the_window(aws, authority, run, monkeypatch):
    monkeypatch.setenv("SELLO_POLL_FIRST_WAIT_SECONDS", "1")
    monkeypatch.setenv("SELLO_RETRY_WINDOW_SECONDS", "1")
    get_settings.cache_clear()
    authority.poll_script = [PROCESSING]

    execution, item = run("doc_undecided")

    assert execution["status"] == "FAILED"
    assert item["status"] == "failed"
    assert item["error"]["code"] == "authorization_timed_out"
    assert "POST /v1/documents/doc_undecided/retry" in item["error"]["message"]
    assert item["authority_status"] == "received"
    assert authority.calls["submit"] == 1 and authority.calls["poll"] >= 1


def test_failed_as_unreachable_when_polls_get_no_answer_for_the_window(aws, authority, run, monkeypatch):
    monkeypatch.setenv("SELLO_POLL_FIRST_WAIT_SECONDS", "1")
    monkeypatch.setenv("SELLO_RETRY_WINDOW_SECONDS", "1")
    get_settings.cache_clear()
    authority.poll_script = [AuthorityUnavailable("connection refused")]

    execution, item = run("doc_unanswered")

    assert execution["status"] == "FAILED"
    assert item["error"]["code"] == "authority_unreachable"
    assert item["authority_status"] == "received"  # it is received: never sent again
    assert authority.calls["submit"] == 1


class OutageAuthority(ScriptedAuthority):
    """An authority that knows what it received: the first submission is taken in but its answer is
    lost, then reception is down for `outage` calls; the authorization service answers for what it has."""

    def __init__(self, outage: int):
        super().__init__()
        self.outage = outage
        self.received: set[str] = set()
        self.lost_answer_given = False

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        self.calls["submit"] += 1
        if not self.lost_answer_given:
            self.lost_answer_given = True
            self.accepted.append(signed_xml)
            self.received.add(signed_xml.decode())
            raise AuthorityUnavailable("connection reset before the answer")
        if self.outage > 0:
            self.outage -= 1
            raise AuthorityUnavailable("HTTP 503")
        self.accepted.append(signed_xml)
        self.received.add(signed_xml.decode())
        return RECEIVED

    def poll(self, document, environment: str) -> PollOutcome:
        self.calls["poll"] += 1
        signed = blob_of(document)
        return authorized() if signed in self.received else UNKNOWN


def blob_of(document) -> str:
    return S3Blobs(get_settings().bucket_name).get(document["signed_key"]).decode()


def test_a_lost_answer_then_an_outage_longer_than_any_retry_budget(aws, monkeypatch, run, outbox):
    """The answer to the first submission is lost, and reception stays down for 12 more attempts
    (more than the 8 the workflow once allowed): the document the authority did receive is found by
    asking for it, never sent again; one it did not receive is sent once reception is back."""
    authority = OutageAuthority(outage=12)
    install_country(monkeypatch, authority)

    first, item = run("doc_lost_answer")
    assert first["status"] == "SUCCEEDED" and item["status"] == "authorized"
    assert authority.calls["submit"] == 1  # received with the lost answer: asked for, not sent again
    assert "authority_unreachable_since" not in item

    second, item = run("doc_outage")
    assert second["status"] == "SUCCEEDED" and item["status"] == "authorized"
    assert authority.calls["submit"] == 1 + 13
    assert len(authority.accepted) == 2 == len(set(authority.accepted))  # each document received once
    assert int(item["submit_attempts"]) == 13
    get_settings.cache_clear()


def test_an_unreachable_authority_is_waited_for_and_shown(aws, monkeypatch, run):
    """While reception is down the document stays processing, showing since when and the next try."""
    authority = OutageAuthority(outage=10_000)
    authority.lost_answer_given = True
    install_country(monkeypatch, authority)
    monkeypatch.setenv("SELLO_POLL_FIRST_WAIT_SECONDS", "1")
    monkeypatch.setenv("SELLO_POLL_MAX_WAIT_SECONDS", "1")
    get_settings.cache_clear()
    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    store.put({"pk": f"ACCOUNT#{ACCOUNT}", "sk": "DOC#doc_waiting", "country": "ZZ", "environment": "test",
               "status": "processing", "issuer_id": "iss_1", "number": "001-001-000000009"})
    arn = StepFunctionsStarter(aws["SELLO_STATE_MACHINE_ARN"]).start(ACCOUNT, "doc_waiting")
    deadline = time.monotonic() + 15
    while authority.calls["submit"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    item = store.get(f"ACCOUNT#{ACCOUNT}", "DOC#doc_waiting")
    assert aws_clients.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert item["status"] == "processing"
    assert item["authority_unreachable_since"] <= item["next_attempt_at"]
    assert authority.accepted == []
    aws_clients.client("stepfunctions").stop_execution(executionArn=arn)
    get_settings.cache_clear()


def test_a_document_signed_with_a_certificate_that_expired_meanwhile_fails_with_that_reason(
        aws, authority, run):
    authority.submit_script = [AuthorityUnavailable("HTTP 503"), RECEIVED]
    authority.poll_script = [UNKNOWN]

    execution, item = run("doc_expired", certificate_valid_to="2020-01-01T00:00:00Z", submit_attempts=1,
                          signed_key=document_key(ACCOUNT, "doc_expired", "signed.xml"))

    assert execution["status"] == "FAILED"
    assert item["error"]["code"] == "certificate_expired"
    assert authority.calls["poll"] == 1  # asked first: the authority did not have it
    assert authority.calls["submit"] == 0


def test_a_failed_email_leaves_the_document_authorized(aws, authority, run, outbox, monkeypatch):
    monkeypatch.setenv("SELLO_SENDER_EMAIL", "unverified@elsewhere.test")
    get_settings.cache_clear()

    execution, item = run("doc_unmailed")

    assert execution["status"] == "SUCCEEDED"
    assert item["status"] == "authorized"
    assert item["delivery_error"]["code"] == "delivery_failed"
    assert "notified_at" not in item
    assert blob(aws, "doc_unmailed", "document.pdf") is not None
    assert outbox() == []


def test_poll_waits_grow_to_the_cap():
    settings = Settings(poll_first_wait_seconds=5, poll_backoff_rate=2, poll_max_wait_seconds=30)
    assert [poll_wait_seconds(settings, n) for n in range(6)] == [5, 10, 20, 30, 30, 30]
    assert poll_wait_seconds(settings, 10_000) == 30
