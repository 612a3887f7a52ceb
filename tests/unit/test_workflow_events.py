"""The sample events in events/workflow (one per task) are what the state machine hands each task, and
each task handler, run on its sample against a document in the state that task expects, answers what
the state machine reads from it (infra/workflow.asl.json: ResultSelector and Choice states). The
country is the scripted one of the workflow integration tests; DynamoDB, S3 and SES are emulated."""

from __future__ import annotations

import importlib
import json
import sys
import types
from datetime import UTC, datetime

import pytest

from local.resources import ASL_FILE
from sello import catalog, countries
from sello.adapters.blobs import S3Blobs, document_key
from sello.adapters.dynamo import DynamoStore
from sello.services.cancellation import CancellationFinishInput
from sello.services.workflow import FinishInput, TaskInput, document_keys
from tests.helpers import EVENTS, FakeCredentials, load_event
from tests.integration.test_workflow import ScriptedAuthority, authorized

TASKS = sorted(p.stem for p in (EVENTS / "workflow").glob("*.json"))
ORDER = tuple(spec.name for spec in catalog.WORKFLOW_FUNCTIONS)  # the order the state machine runs them
ASL = json.loads(ASL_FILE.read_text())
COUNTRY = ScriptedAuthority.code
ISSUER = "iss_1"
CUSTOMER = "buyer@example.com"
SIGNED = b"<signed document/>"
AUTHORIZED = authorized().document  # what the scripted authority hands back on authorization


def task_states(task: str) -> list[dict]:
    """The ASL Task states that invoke this task's function."""
    return [s for s in ASL["States"].values()
            if s["Type"] == "Task" and s["Parameters"]["FunctionName"] == f"${{fn_{task}}}"]


def choice_values(result_path: str) -> set[str]:
    """The `status` values the Choice states expect in a task's result stored at `result_path`."""
    return {rule["StringEquals"] for s in ASL["States"].values() if s["Type"] == "Choice"
            for rule in s["Choices"] if rule.get("Variable") == f"{result_path}.status"}


def payload_fields(state: dict) -> dict:
    """The Payload a state sends by field name: its static value, or None when taken from the state."""
    return {k.removesuffix(".$"): (None if k.endswith(".$") else v)
            for k, v in state["Parameters"]["Payload"].items()}


@pytest.fixture
def country(aws, monkeypatch):
    """The scripted country registered for the documents here, and fake credentials for the sign task."""
    import functions.workflow.sign as sign_task

    plugin = ScriptedAuthority()
    module = types.ModuleType("scripted_country")
    module.__path__ = []
    plugin_module = types.ModuleType("scripted_country.plugin")
    plugin_module.plugin = plugin
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(sys.modules, plugin_module.__name__, plugin_module)
    monkeypatch.setitem(countries._PLUGINS, COUNTRY, module.__name__)
    monkeypatch.setattr(sign_task, "credentials", FakeCredentials)
    return plugin


def test_there_is_one_sample_per_workflow_task():
    assert TASKS == sorted(ORDER)


@pytest.mark.parametrize("task", TASKS)
def test_each_sample_is_the_payload_a_state_of_the_state_machine_sends_its_task(task):
    event = load_event(f"workflow/{task}.json")
    model = {"finish": FinishInput, "cancellation_finish": CancellationFinishInput}.get(task, TaskInput)
    model.model_validate(event)

    payloads = [payload_fields(state) for state in task_states(task)]
    assert payloads, f"no state invokes ${{fn_{task}}}"
    assert any(set(fields) == set(event) and all(v is None or event[k] == v for k, v in fields.items())
               for fields in payloads), f"{task}.json matches none of {payloads}"


def _arrange(task: str, blobs: S3Blobs, account_id: str, document_id: str) -> dict:
    """The item fields (and files) the tasks before `task` leave on a document that went well."""
    def stored(name: str, data: bytes, mime: str) -> str:
        key = document_key(account_id, document_id, name)
        blobs.put(key, data, mime)
        return key

    done = ORDER[:ORDER.index(task)]
    now = datetime.now(UTC).isoformat()
    fields: dict = {}
    if "sign" in done:
        fields |= {"signed_key": stored("signed.xml", SIGNED, "application/xml"), "signed_at": now}
    if "submit" in done:
        fields |= {"received_at": now, "authority_status": "received"}
    if "poll" in done:
        fields |= {"authority_status": "authorized", "authorization_number": authorized().number,
                   "authorized_at": now,
                   "authorized_key": stored("authorized.xml", AUTHORIZED, "application/xml")}
    if "render" in done:
        fields |= {"pdf_key": stored("document.pdf", b"%PDF-1.7 sample", "application/pdf")}
    if "finish" in done:  # an authorized document whose cancellation was requested
        fields |= {"status": "authorized", "cancellation_status": "pending", "cancellation_motive": "02",
                   "cancellation_request": {"motive": "02"}, "cancellation_requested_at": now}
    if "cancel" in done:
        fields |= {"cancellation_sent_at": now,
                   "cancellation_receipt_key": stored("cancellation-receipt.xml", b"<acuse/>", "application/xml")}
    return fields


@pytest.mark.parametrize("task", TASKS)
def test_each_task_runs_on_its_sample_and_answers_what_the_state_machine_reads(aws, country, outbox, task):
    event = load_event(f"workflow/{task}.json")
    store, blobs = DynamoStore(aws["SELLO_TABLE_NAME"]), S3Blobs(aws["SELLO_BUCKET_NAME"])
    pk, sk = document_keys(event["account_id"], event["document_id"])
    store.put({"pk": pk, "sk": sk, "country": COUNTRY, "environment": "test", "status": "processing",
               "issuer_id": ISSUER, "customer": {"name": "Buyer", "email": CUSTOMER},
               **_arrange(task, blobs, event["account_id"], event["document_id"])})
    handler = importlib.import_module(f"functions.workflow.{task}").handler

    result = handler(event, None)

    for state in task_states(task):
        assert set(result) == {k.removesuffix(".$") for k in state["ResultSelector"]}, state
        expected = choice_values(state["ResultPath"])
        assert not expected or result["status"] in expected
    item = store.get(pk, sk)

    def file(field: str) -> bytes | None:
        return blobs.get(item[field])

    if task == "sign":
        assert result == {"status": "signed"}
        assert f"signed-by='cert-of-{ISSUER}'".encode() in file("signed_key")
    elif task == "submit":
        assert result["status"] == "received" and isinstance(result["wait_seconds"], int)
        assert item["authority_status"] == "received" and item["received_at"]
        assert country.accepted == [SIGNED]
    elif task == "poll":
        assert result == {"status": "authorized", "wait_seconds": 0}
        assert item["authority_status"] == "authorized"
        assert item["authorization_number"] == authorized().number
        assert file("authorized_key") == AUTHORIZED
    elif task == "render":
        assert result == {"status": "rendered"}
        pdf = file("pdf_key")
        assert pdf.startswith(b"%PDF") and AUTHORIZED in pdf
    elif task == "notify":
        assert result == {"status": "sent"}
        [mail] = outbox()
        assert mail["To"] == CUSTOMER
        assert sorted(part.get_filename() for part in mail.iter_attachments()) == [
            f"{event['document_id']}.pdf", f"{event['document_id']}.xml"]
    elif task == "cancel":
        assert result["status"] == "requested" and isinstance(result["wait_seconds"], int)
        assert file("cancellation_receipt_key") == b"<acuse/>" and item["cancellation_sent_at"]
    elif task == "cancellation_status":
        assert result == {"status": "accepted", "wait_seconds": 0}
        assert item["cancellation_authority_status"] == "Cancelled"
    elif task == "cancellation_finish":
        assert result == {"status": "accepted"}
        assert item["cancellation_status"] == "accepted" and item["cancellation_finished_at"]
        assert file("pdf_key").endswith(b"CANCELLED")
        [mail] = outbox()
        assert mail["To"] == CUSTOMER and len(list(mail.iter_attachments())) == 3
    else:
        assert result == {"status": event["status"]}
        assert item["status"] == event["status"] and item["finished_at"]
        assert item["error"]["code"] == "authority_unavailable"  # what a Transient failure tells the client
