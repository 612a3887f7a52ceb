"""A test key never changes what the live environment uses, route by route, on the emulator with a
real account taken live by its owner:

- API keys: a test key cannot create, list, revoke or rotate live keys (test_accounts_api.py);
- accounts: the first live key needs the code emailed to the owner; `me` only reads;
- issuers, certificates and logos, shared by both environments: test keys set them up until the
  account is live; from then on a test key cannot register an issuer, replace a certificate (which
  would change what live documents are signed with) or change a logo, and reading stays open;
- documents: a test key does not see, download or email live documents; what it issues is a test
  document, numbered and idempotent in the test environment only (test_documents_issue.py), and it
  cannot cancel one (test_documents_cancel.py);
- store integrations, webhook endpoints and events belong to one environment: a test key does not see
  or change the live ones (test_integrations_api.py, test_webhooks_api.py, test_events_api.py)."""

from __future__ import annotations

import base64
import re

import pytest

from local import certs
from local.lambdas import context_for
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.ids import new_id
from sello.models.documents import Document
from sello.settings import get_settings
from tests.helpers import api_event, load_event, response_json

PASSWORD = "Clave-de-prueba-2026"
CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.M)
FUNCTIONS = {s.name: s for s in catalog.API_FUNCTIONS}


def call(function: str, method: str, path: str, principal: dict, body=None) -> tuple[int, dict | None]:
    from functions.api import accounts, documents, issuers

    handler = {"accounts": accounts, "issuers": issuers, "documents": documents}[function].handler
    response = handler(api_event(method, path, body, principal=principal), context_for(FUNCTIONS[function]))
    return response["statusCode"], response_json(response)


def items() -> list[dict]:
    return aws_clients.resource("dynamodb").Table(get_settings().table_name).scan()["Items"]


# Live keys accept only certificates of a recognised authority: the local mini-CA's.
pytestmark = pytest.mark.usefixtures("trusted_mini_ca")


def upload(issuer_id: str, principal: dict, key_slot: int, **fields) -> tuple[int, dict]:
    body = {"p12_base64": base64.b64encode(certs.make_p12(password=PASSWORD, key_slot=key_slot)).decode(),
            "password": PASSWORD, **fields}
    return call("issuers", "PUT", f"/v1/issuers/{issuer_id}/certificate", principal, body)


@pytest.fixture
def account(aws, outbox):
    """An account set up with its test key (an issuer with a certificate), not live yet:
    (test principal, the issuer)."""
    from sello.services.accounts import default_service

    view, key = default_service().seed_account("Comercial Andina S.A.", "owner@andina.example.com")
    test = {"account_id": view["id"], "environment": "test",
            "key_id": default_service().authenticate(key).id}
    body = load_event("issuers/create_issuer.body.json")
    status, issuer = call("issuers", "POST", "/v1/issuers", test, body)
    assert status == 201, issuer
    status, certificate = upload(issuer["id"], test, key_slot=1)
    assert status == 200, certificate
    return test, issuer


def go_live(test: dict, outbox) -> dict:
    """The owner confirms the first live key; the live principal."""
    status, _ = call("accounts", "POST", "/v1/accounts/live-activation", test)
    assert status == 202
    code = CODE.search(outbox()[-1].get_content()).group(1)
    status, live = call("accounts", "POST", "/v1/accounts/live-activation/confirm", test, {"code": code})
    assert status == 201, live
    return {"account_id": test["account_id"], "environment": "live", "key_id": live["id"]}


def test_before_going_live_test_keys_set_up_issuers_and_certificates(account):
    test, issuer = account
    status, replaced = upload(issuer["id"], test, key_slot=2)
    assert status == 200 and len(replaced["history"]) == 1


def test_once_live_a_test_key_cannot_register_issuers_or_replace_certificates(account, outbox):
    test, issuer = account
    live = go_live(test, outbox)
    before, mails = items(), len(outbox())

    status, body = call("issuers", "POST", "/v1/issuers", test,
                        {**load_event("issuers/create_issuer.body.json"), "tax_id": "1792060346001"})
    assert (status, body["error"]["code"]) == (403, "live_key_required")
    status, body = upload(issuer["id"], test, key_slot=2, notification_email="someone@example.com")
    assert (status, body["error"]["code"]) == (403, "live_key_required")
    assert "clave de API live" in body["error"]["message"]
    assert items() == before and len(outbox()) == mails  # nothing stored, nobody mailed

    for path in (f"/v1/issuers/{issuer['id']}", f"/v1/issuers/{issuer['id']}/certificate", "/v1/issuers"):
        assert call("issuers", "GET", path, test)[0] == 200  # reading stays open
    status, replaced = upload(issuer["id"], live, key_slot=2)
    assert status == 200 and len(replaced["history"]) == 1
    status, other = call("issuers", "POST", "/v1/issuers", live,
                         {**load_event("issuers/create_issuer.body.json"), "tax_id": "1792060346001"})
    assert status == 201, other


def test_a_test_key_neither_reads_downloads_nor_emails_live_documents(account, outbox, aws):
    test, issuer = account
    live = go_live(test, outbox)
    repo = DynamoDocumentsRepo(DynamoStore(aws["SELLO_TABLE_NAME"]))
    doc = Document.model_validate({
        "id": new_id("doc"), "account_id": test["account_id"], "environment": "live", "type": "invoice",
        "country": "EC", "issuer_id": issuer["id"], "status": "authorized",
        "customer": {"name": "Cliente", "tax_id": "1710034065", "email": "buyer@example.com"},
        "authorized_key": "x.xml", "pdf_key": "x.pdf", "created_at": "2026-03-02T15:00:00Z"})
    assert repo.put_new(doc)
    mails = len(outbox())

    for method, path in (("GET", f"/v1/documents/{doc.id}"), ("GET", f"/v1/documents/{doc.id}/xml"),
                         ("GET", f"/v1/documents/{doc.id}/pdf"), ("POST", f"/v1/documents/{doc.id}/email")):
        status, body = call("documents", method, path, test, {} if method == "POST" else None)
        assert (status, body["error"]["code"]) == (404, "document_not_found"), path
    status, page = call("documents", "GET", "/v1/documents", test)
    assert page["data"] == []
    assert len(outbox()) == mails
    assert call("documents", "GET", f"/v1/documents/{doc.id}", live)[0] == 200


def test_me_only_reads(account, outbox):
    test, _ = account
    before = items()
    status, me = call("accounts", "GET", "/v1/accounts/me", test)
    assert (status, me["environment"], me["account"]["live_enabled_at"]) == (200, "test", None)
    assert items() == before


def test_once_live_a_test_key_cannot_change_the_logo_but_still_reads_it(account, outbox):
    from functions.api import issuers
    from tests.integration.test_issuer_logos_api import image, stored_objects

    test, issuer = account
    path = f"/v1/issuers/{issuer['id']}/logo"

    def logo_call(method: str, principal: dict, data: bytes | None = None) -> int:
        event = api_event(method, path, data, principal=principal,
                          headers={"Content-Type": "image/png"} if data else None)
        return issuers.handler(event, context_for(FUNCTIONS["issuers"]))["statusCode"]

    assert logo_call("PUT", test, image()) == 200  # before going live, test keys set it up
    live = go_live(test, outbox)
    before = stored_objects()
    for method, data in (("PUT", image((50, 50))), ("DELETE", None)):
        headers = {"Content-Type": "image/png"} if data else None
        response = issuers.handler(api_event(method, path, data, principal=test, headers=headers),
                                   context_for(FUNCTIONS["issuers"]))
        code = response_json(response)["error"]["code"]
        assert (response["statusCode"], code) == (403, "live_key_required"), method
    assert stored_objects() == before
    assert logo_call("GET", test) == 303  # reading stays open (a redirect to the file)
    assert logo_call("PUT", live, image((50, 50))) == 200
    assert logo_call("DELETE", live) == 204 and stored_objects() == []
