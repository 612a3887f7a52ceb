"""A second country through the real API functions and the real workflow on the emulator: Tierra Nueva
(tests/second_country.py), registered only here, with its own issuer body, document body, certificate
files and rules, and an authority that stamps documents in its answer to the submission. Nothing in
the services, handlers or models knows it: every difference comes through its plugin, while Ecuador
answers as before."""

from __future__ import annotations

import base64
import json
import time

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters.dynamo import DynamoStore
from sello.settings import get_settings
from tests import second_country as xn
from tests.helpers import api_event, install_country, load_event, response_json

FUNCTIONS = {spec.name: spec for spec in catalog.API_FUNCTIONS}
ACCOUNT = {"account_id": "acct_xn000000000000000000001", "environment": "test", "key_id": "key_xn"}
NOTICES = "it@valle.example.com"


@pytest.fixture
def country(aws, monkeypatch):
    plugin = xn.TierraNueva()
    install_country(monkeypatch, plugin, code=xn.CODE)
    yield plugin
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    get_settings.cache_clear()


def settle(state_machine_arn: str, timeout: float = 60.0) -> None:
    sfn = aws_clients.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while any(e["status"] == "RUNNING"
              for e in sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]):
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.05)


def call(function: str, method: str, path: str, body=None, headers: dict | None = None, **kwargs):
    from importlib import import_module

    event = api_event(method, path, body, principal=ACCOUNT, headers=headers, **kwargs)
    response = import_module(f"functions.api.{function}").handler(event, context_for(FUNCTIONS[function]))
    return response["statusCode"], response_json(response)


def issuer(**changes) -> dict:
    status, body = call("issuers", "POST", "/v1/issuers", {**xn.ISSUER_BODY, **changes})
    assert status == 201, body
    return body


def multipart(fields: dict[str, bytes | str], boundary: str = "xn-boundary") -> tuple[bytes, dict]:
    chunks = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            head = f'Content-Disposition: form-data; name="{name}"; filename="{name}.bin"\r\n'
        else:
            head, value = f'Content-Disposition: form-data; name="{name}"\r\n', value.encode()
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + value + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload(issuer_id: str, cer: bytes, key: bytes, password: str = xn.PASSWORD, *, form: bool = False,
           **more):
    path = f"/v1/issuers/{issuer_id}/certificate"
    if form:
        body, headers = multipart({"cer": cer, "key": key, "password": password, **more})
        return call("issuers", "PUT", path, body, headers=headers)
    return call("issuers", "PUT", path, {"cer_base64": base64.b64encode(cer).decode(),
                                         "key_base64": base64.b64encode(key).decode(), "password": password,
                                         **more})


def ready_issuer() -> dict:
    """An issuer of Tierra Nueva with its certificate."""
    created = issuer()
    status, view = upload(created["id"], *xn.make_pair())
    assert status == 200, view
    return created


def items(prefix: str) -> list[dict]:
    table = aws_clients.resource("dynamodb").Table(get_settings().table_name)
    return [i for i in table.scan()["Items"] if i["sk"].startswith(prefix)]


# Issuers ---------------------------------------------------------------------------------------------

def test_an_issuer_with_the_countrys_own_fields_is_created_read_and_listed(country):
    created = issuer()
    assert (created["country"], created["tax_id"], created["object"]) == (xn.CODE, xn.TAX_ID, "issuer")
    assert (created["tax_regime"], created["zip_code"], created["employees"], created["share_abroad"]) == (
        "601", "06000", 12, 0.25)
    assert created["branches"] == xn.ISSUER_BODY["branches"]
    # None of the neutral issuer's fields, not even empty.
    assert not {"head_office_address", "establishments", "flags"} & set(created)

    status, fetched = call("issuers", "GET", f"/v1/issuers/{created['id']}")
    assert status == 200 and fetched == created
    ecuador = call("issuers", "POST", "/v1/issuers", load_event("issuers/create_issuer.body.json"))[1]
    status, page = call("issuers", "GET", "/v1/issuers")
    assert status == 200
    assert {i["id"]: i for i in page["data"]} == {created["id"]: created, ecuador["id"]: ecuador}
    assert {"head_office_address", "establishments", "flags"} <= set(ecuador)
    assert not {"tax_regime", "branches"} & set(ecuador)

    [stored] = [i for i in items("ISSUER#") if i["id"] == created["id"]]
    assert stored["branches"][1]["series"] == {"invoice": "B"}
    assert "establishments" not in stored and "flags" not in stored


@pytest.mark.parametrize("change, code, path", [
    ({"zip_code": "6000"}, "invalid_value", "zip_code"),
    ({"branches": [{"code": "MTZ", "name": "Matriz", "zip_code": "06000", "series": {"receipt": "R"}}]},
     "invalid_value", "branches.0.series.receipt.[key]"),
    ({"branches": []}, "invalid_value", "branches"),
    ({"tax_regime": None}, "invalid_value", "tax_regime"),
    ({"tax_id": "1799999990001"}, "invalid_tax_id", "tax_id"),
    # Ecuador's fields are not this country's.
    ({"establishments": [{"code": "001", "address": "Quito", "emission_points": [{"code": "001"}]}]},
     "unknown_field", "establishments"),
])
def test_the_countrys_issuer_body_refuses_what_it_does_not_take(country, change, code, path):
    status, body = call("issuers", "POST", "/v1/issuers", {**xn.ISSUER_BODY, **change})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, path), body
    assert items("ISSUER#") == []


def test_an_unknown_field_is_answered_with_the_countrys_fields(country):
    body = {**xn.ISSUER_BODY, "tax_regimen": "601", "head_office_address": "Calle 5"}
    del body["tax_regime"]
    status, answer = call("issuers", "POST", "/v1/issuers", body, headers={"Accept-Language": "en"})
    problems = {(d["code"], d["path"]): d["message"] for d in answer["error"]["details"]}
    assert problems[("unknown_field", "tax_regimen")] == "Not a field here; did you mean `tax_regime`?"
    assert problems[("unknown_field", "head_office_address")] == (
        "Not a field here; the fields allowed are `country`, `tax_id`, `legal_name`, `trade_name`, `email`, "
        "`language`, `tax_regime`, `zip_code`, `branches`, `employees`, `share_abroad`.")
    assert ("missing_field", "tax_regime") in problems


def test_the_country_is_read_first(country):
    body = {key: value for key, value in xn.ISSUER_BODY.items() if key != "country"}
    status, answer = call("issuers", "POST", "/v1/issuers", body)
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "missing_field", "country")
    assert [d["path"] for d in answer["error"]["details"]] == ["country"]
    status, answer = call("issuers", "POST", "/v1/issuers", {**xn.ISSUER_BODY, "country": "QQ"})
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (
        422, "unsupported_country", "country")


# Certificates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", [False, True], ids=["json", "multipart"])
def test_the_certificate_and_key_are_uploaded_as_two_files(country, outbox, form):
    created = issuer()
    status, view = upload(created["id"], *xn.make_pair(), form=form, notification_email=NOTICES)
    assert status == 200, view
    assert view["number"] == "30001000000500003416"
    assert view["tax_ids"] == [xn.TAX_ID] and view["trusted"] is False
    assert [w["code"] for w in view["warnings"]] == ["certificate_test_only"]
    status, again = call("issuers", "GET", f"/v1/issuers/{created['id']}/certificate")
    assert status == 200 and again["number"] == view["number"]
    status, shown = call("issuers", "GET", f"/v1/issuers/{created['id']}")
    assert shown["certificate"]["number"] == view["number"]
    [stored] = items("CERT#")
    assert stored["number"] == view["number"] and "private_key" in stored
    [notice] = outbox()
    assert notice["To"] == NOTICES and "aceptado" in notice["Subject"]
    assert xn.TAX_ID in notice.get_body().get_content()


def test_an_ecuadorian_certificate_has_no_number(country):
    from local import certs

    ecuador = call("issuers", "POST", "/v1/issuers", load_event("issuers/create_issuer.body.json"))[1]
    p12 = certs.make_p12(password="pw")
    status, view = call("issuers", "PUT", f"/v1/issuers/{ecuador['id']}/certificate",
                        {"p12_base64": base64.b64encode(p12).decode(), "password": "pw"})
    assert status == 200, view
    assert "number" not in view and "number" not in call("issuers", "GET", f"/v1/issuers/{ecuador['id']}")[1][
        "certificate"]
    # Ecuador's upload takes its PKCS#12, not Tierra Nueva's files.
    status, body = upload(ecuador["id"], *xn.make_pair())
    assert status == 422 and {(d["code"], d["path"]) for d in body["error"]["details"]} == {
        ("missing_field", "p12_base64"), ("unknown_field", "cer_base64"), ("unknown_field", "key_base64")}


BAD_PAIRS = {
    "wrong password": (lambda: xn.make_pair(), "not the password", "wrong_certificate_password", "password"),
    "damaged certificate": (lambda: (b"\x30\x03junk", xn.make_pair()[1]), xn.PASSWORD,
                            "invalid_certificate_file", "cer"),
    "damaged key": (lambda: (xn.make_pair()[0], xn.make_pair()[1][:-40]), xn.PASSWORD,
                    "invalid_certificate_file", "key"),
    "key of another certificate": (lambda: xn.make_pair(other_key_slot=42), xn.PASSWORD,
                                   "certificate_key_mismatch", "cer"),
    "login certificate": (lambda: xn.make_pair(login=True), xn.PASSWORD, "certificate_login_only", "cer"),
    "another tax id": (lambda: xn.make_pair(tax_id="OTR010101AB1"), xn.PASSWORD,
                       "certificate_tax_id_mismatch", "cer"),
}


@pytest.mark.made_up_country_codes
@pytest.mark.parametrize("case", sorted(BAD_PAIRS))
@pytest.mark.parametrize("form", [False, True], ids=["json", "multipart"])
def test_each_bad_pair_has_its_code_at_its_files_path_and_stores_nothing(country, outbox, case, form):
    created = issuer()
    build, password, code, path = BAD_PAIRS[case]
    status, body = upload(created["id"], *build(), password, form=form, notification_email=NOTICES)
    if not form and path != "password":
        path += "_base64"
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, path), body
    assert items("CERT#") == []
    [notice] = outbox()
    assert "no aceptado" in notice["Subject"] and code in notice.get_body().get_content()
    assert password not in json.dumps(body) and password not in notice.get_body().get_content()


def test_the_upload_bodies_are_the_countrys(country):
    created = issuer()
    cer, key = xn.make_pair()
    status, body = call("issuers", "PUT", f"/v1/issuers/{created['id']}/certificate",
                        {"cer_base64": base64.b64encode(cer).decode(), "password": xn.PASSWORD})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "missing_field", "key_base64")
    form, headers = multipart({"cer": cer, "password": xn.PASSWORD, "certificate": key})
    status, body = call("issuers", "PUT", f"/v1/issuers/{created['id']}/certificate", form, headers=headers)
    problems = {(d["code"], d["path"]) for d in body["error"]["details"]}
    assert status == 422 and problems == {("missing_field", "key"), ("unknown_field", "certificate")}
    status, body = upload(created["id"], b"", key)
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "invalid_value", "cer_base64")


# Documents -------------------------------------------------------------------------------------------

def test_a_document_is_numbered_in_its_branchs_series_and_stamped_in_the_answer(aws, country, outbox):
    created = ready_issuer()
    status, doc = call("documents", "POST", "/v1/documents", xn.document_body(created["id"]),
                       headers={"Idempotency-Key": "xn-1"})
    assert status == 201, doc
    assert (doc["country"], doc["type"], doc["number"], doc["status"]) == (
        xn.CODE, "invoice", "A-1", "processing")
    assert doc["totals"]["total"] == "348.00" and doc["customer"]["tax_id"] == "XAXX010101000"
    assert call("documents", "POST", "/v1/documents", xn.document_body(created["id"], branch="NTE"))[1][
        "number"] == "B-1"
    status, replay = call("documents", "POST", "/v1/documents", xn.document_body(created["id"]),
                          headers={"Idempotency-Key": "xn-1"})
    assert (status, replay["id"]) == (200, doc["id"])

    settle(aws["SELLO_STATE_MACHINE_ARN"])
    status, done = call("documents", "GET", f"/v1/documents/{doc['id']}")
    assert done["status"] == "authorized", done
    assert done["authority"]["authorization_number"] == country.stamps["A-1"]
    assert done["authority"]["authorized_at"] == xn.STAMPED_AT and done["authority"]["received_at"]
    # Stamped in the answer to the submission: never polled.
    assert country.calls["submit"] == 2 and country.calls["poll"] == 0 and country.calls["render"] == 2
    mails = {m["Subject"]: m for m in outbox() if m["To"] == "buyer@example.com"}
    first = "Factura A-1 - Comercializadora del Valle"
    assert sorted(mails) == [first, "Factura B-1 - Comercializadora del Valle"]
    files = {part.get_filename(): part.get_content() for part in mails[first].iter_attachments()}
    assert files["A-1.xml"] == f"<Timbre UUID='{country.stamps['A-1']}' Folio='A-1'/>".encode()
    assert files["A-1.pdf"].startswith(b"%PDF-1.7 A-1 <Timbre")


def test_a_lost_answer_is_recovered_by_asking_and_the_document_is_stamped_once(aws, country, outbox):
    created = ready_issuer()
    country.lose_answers = 1
    status, doc = call("documents", "POST", "/v1/documents", xn.document_body(created["id"]))
    assert status == 201, doc
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    status, done = call("documents", "GET", f"/v1/documents/{doc['id']}")
    assert done["status"] == "authorized", done
    # Sent once (its answer lost), then asked for before sending again: the stamp made then is the one.
    assert country.calls["submit"] == 1 and country.calls["poll"] == 1
    assert list(country.stamps) == ["A-1"]
    assert done["authority"]["authorization_number"] == country.stamps["A-1"]
    item = DynamoStore(get_settings().table_name).get(f"ACCOUNT#{ACCOUNT['account_id']}", f"DOC#{doc['id']}")
    assert int(item["submit_attempts"]) == 1 and "authority_unreachable_since" not in item
    assert [m["To"] for m in outbox()] == ["buyer@example.com"]


def test_the_submit_and_poll_tasks_run_again_after_a_stamp_ask_nothing(aws, country):
    from local.lambdas import invoke

    created = ready_issuer()
    doc = call("documents", "POST", "/v1/documents", xn.document_body(created["id"]))[1]
    settle(aws["SELLO_STATE_MACHINE_ARN"])
    calls = dict(country.calls)
    ids = {"account_id": ACCOUNT["account_id"], "document_id": doc["id"]}
    assert invoke("submit", ids)["status"] == "received"  # then the poll task, which finds the stamp stored
    assert invoke("poll", ids) == {"status": "authorized", "wait_seconds": 0}
    assert dict(country.calls) == calls


@pytest.mark.made_up_country_codes
@pytest.mark.parametrize("change, code, path", [
    ({"branch": "SUR"}, "unknown_branch", "branch"),
    ({"type": "credit_note", "branch": "NTE"}, "series_required", "type"),
    ({"type": "credit_note"}, "related_required", "related"),
    ({"lines": [{"description": "x", "unit_price": "1", "product_key": "123"}]}, "invalid_value",
     "lines.0.product_key"),
    ({"type": "debit_note"}, "invalid_value", "type"),
    # Ecuador's fields are not this country's.
    ({"establishment": "001"}, "unknown_field", "establishment"),
])
def test_the_countrys_own_document_rules_and_nothing_is_written(aws, country, change, code, path):
    created = ready_issuer()
    status, body = call("documents", "POST", "/v1/documents", xn.document_body(created["id"], **change),
                        headers={"Idempotency-Key": "xn-bad"})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, path), body
    assert items("DOC#") == [] and items("SEQ#") == [] and items("IDEM#") == []


def test_an_unknown_issuer_is_404_for_a_body_some_country_takes_and_422_for_one_none_takes(aws, country):
    unknown = "iss_" + "0" * 20
    status, body = call("documents", "POST", "/v1/documents", xn.document_body(unknown))
    assert (status, body["error"]["code"]) == (404, "issuer_not_found")
    ecuador = load_event("documents/create_invoice.body.json") | {"issuer_id": unknown}
    assert call("documents", "POST", "/v1/documents", ecuador)[1]["error"]["code"] == "issuer_not_found"
    # Closest to Tierra Nueva's body: its problems, at its paths.
    status, body = call("documents", "POST", "/v1/documents",
                        xn.document_body(unknown, lines=[{"description": "x", "unit_price": "-1",
                                                          "product_key": "80101500"}]))
    assert (status, body["error"]["code"], body["error"]["path"]) == (
        422, "invalid_value", "lines.0.unit_price")
    # Closest to Ecuador's: its problems, at its paths.
    status, body = call("documents", "POST", "/v1/documents", ecuador | {"establishment": "1"})
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "invalid_value", "establishment")
