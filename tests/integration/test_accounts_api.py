"""The accounts function end to end in process: REST proxy events (the samples in events/accounts)
through the real handler, DynamoDB, SES and the authorizer, all emulated by moto."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.ids import sha256_hex
from sello.settings import get_settings
from tests.helpers import api_event, authorizer_context, load_event, response_json

CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.M)
EMAIL = "ana.torres@example.com"
ACCOUNTS = next(s for s in catalog.API_FUNCTIONS if s.name == "accounts")


def call(event: dict) -> tuple[int, dict | None]:
    from functions.api import accounts

    response = accounts.handler(event, context_for(ACCOUNTS))
    return response["statusCode"], response_json(response)


def authorize(key: str) -> dict:
    """What the authorizer returns for this key (as the gateway calls it)."""
    from functions.api import authorizer

    event = load_event("accounts/authorizer_request.json")
    event["headers"]["Authorization"] = f"Bearer {key}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {key}"]
    return authorizer.handler(event, context_for(catalog.AUTHORIZER))


def with_body(sample: str, **fields) -> dict:
    """A sample event from events/accounts with fields of its body replaced."""
    event = load_event(f"accounts/{sample}.json")
    event["body"] = json.dumps({**json.loads(event["body"]), **fields})
    return event


def as_caller(sample: str, key: str, path: str | None = None, **fields) -> dict:
    """A sample event as API Gateway passes it after the authorizer allowed `key`."""
    event = with_body(sample, **fields) if fields else load_event(f"accounts/{sample}.json")
    if path:
        event["path"] = path
        event["pathParameters"] = {"proxy": path.split("/v1/api-keys/", 1)[1]}
    event["headers"]["Authorization"] = f"Bearer {key}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {key}"]
    event["requestContext"]["authorizer"] = authorizer_context(authorize(key)["context"])
    return event


def items() -> list[dict]:
    from sello.adapters import aws

    return aws.resource("dynamodb").Table(get_settings().table_name).scan()["Items"]


def account_item(account_id: str) -> dict:
    return next(i for i in items() if i["pk"] == f"ACCOUNT#{account_id}" and i["sk"] == "META")


def last_code(outbox) -> str:
    return CODE.search(outbox()[-1].get_content()).group(1)


def account_of(email: str) -> dict:
    """The account item of an email (the sign-up answer does not say)."""
    email_item = next(i for i in items() if i["pk"] == f"EMAIL#{email.lower()}")
    return account_item(email_item["account_id"])


def signed_up(outbox, email: str = EMAIL) -> tuple[dict, str]:
    status, body = call(with_body("sign_up", email=email))
    assert status == 202 and body["email"] == email
    return account_of(email), last_code(outbox)


def confirmed(outbox, email: str = EMAIL) -> tuple[str, str]:
    """(account id, plaintext test key) of a new active account."""
    _, code = signed_up(outbox, email)
    status, body = call(with_body("confirm", email=email, code=code))
    assert status == 200
    return body["account"]["id"], body["api_key"]["key"]


def gone_live(outbox, test_key: str, name: str | None = None) -> dict:
    """The account of `test_key` taken live through the two live-activation routes, the owner reading
    the code from the email: the first live key as answered."""
    status, sent = call(as_caller("request_live_activation", test_key))
    assert status == 202, sent
    status, live = call(as_caller("confirm_live_activation", test_key, code=last_code(outbox), name=name))
    assert status == 201, live
    return live


@pytest.fixture
def logs(caplog, capsys):
    """Everything logged or printed during the test, extra fields included."""
    caplog.set_level(logging.DEBUG, logger="sello")

    def text() -> str:
        return caplog.text + "".join(repr(r.__dict__) for r in caplog.records) + "".join(capsys.readouterr())

    return text


# Sign-up ---------------------------------------------------------------------------------------

def test_sign_up_stores_a_pending_account_with_a_unique_email_and_mails_the_code(aws, outbox):
    status, body = call(load_event("accounts/sign_up.json"))

    assert status == 202
    sample = load_event("accounts/sign_up.body.json")
    assert body["email"] == sample["email"] and "POST /v1/accounts/confirm" in body["message"]
    message = outbox()[-1]
    assert message["To"] == sample["email"] and "confirm" in message["Subject"].lower()
    code = last_code(outbox)
    account = account_of(sample["email"])
    assert (account["status"], account["company_name"]) == ("pending_confirmation", sample["company_name"])
    assert account["code_hash"] == sha256_hex(code) and account["code_attempts"] == 0
    assert {"code_expires_at", "code_sent_at"} <= account.keys() and "expires_at" not in account
    email_item = next(i for i in items() if i["pk"] == f"EMAIL#{sample['email'].lower()}")
    assert (email_item["sk"], email_item["account_id"]) == ("META", account["id"])
    assert code not in json.dumps(body) and code not in repr(items())


def test_sign_up_answers_alike_whether_or_not_the_email_has_an_account(aws, outbox):
    from functions.api import accounts

    def raw(email: str) -> dict:
        response = accounts.handler(with_body("sign_up", email=email, company_name="Otra S.A."),
                                    context_for(ACCOUNTS))
        body = json.loads(response["body"])
        return {"status": response["statusCode"], "headers": response.get("multiValueHeaders"),
                "body": {**body, "email": body["email"].replace(email, "<email>")}}

    confirmed(outbox, "active@example.com")
    signed_up(outbox, "pending@example.com")
    before = items()

    answers = [raw(e) for e in ("nobody@example.com", "ACTIVE@example.com", "pending@example.com")]

    assert answers[0] == answers[1] == answers[2] and answers[0]["status"] == 202
    after = {(i["pk"], i["sk"]): i for i in items()}
    active = account_of("active@example.com")
    assert (active["status"], active["company_name"]) == ("active", "Comercial Andina S.A.")
    assert len([i for i in after.values() if i["pk"].startswith("EMAIL#")]) == 3
    notice = outbox()[-1]
    assert notice["To"] == "active@example.com" and "intento de registro" in notice["Subject"].lower()
    assert not CODE.search(notice.get_content())
    assert len(before) < len(after)  # only the new email got an account


def _oversize() -> dict:
    event = load_event("accounts/sign_up.json")
    event["body"] = json.dumps({"company_name": "x" * (6 * 1024 * 1024), "email": EMAIL})
    return event


def _raw(body: str, content_type: str | None = "application/json") -> dict:
    event = load_event("accounts/sign_up.json")
    event["body"] = body
    event["headers"].pop("Content-Type")
    if content_type:
        event["headers"]["content-type"] = content_type
    return event


def _bytes(data: bytes, content_type: str = "application/json") -> dict:
    """A body API Gateway passes base64-encoded, as it does with bytes that are not UTF-8 text."""
    event = _raw("", content_type)
    event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
    return event


LATIN1_BODY = json.dumps({"company_name": "Panadería Niño", "email": EMAIL},
                         ensure_ascii=False).encode("latin-1")

BAD_SIGN_UPS = {
    "malformed json": (lambda: _raw('{"company_name": "Acme", "email": '), 400, "invalid_json", "body"),
    "latin-1 body": (lambda: _bytes(LATIN1_BODY), 400, "invalid_json", "body"),
    "latin-1 body declared": (lambda: _bytes(LATIN1_BODY, "application/json; charset=latin-1"),
                              400, "invalid_json", "body"),
    "nested 100k deep": (lambda: _raw("[" * 100_000), 400, "invalid_json", "body"),
    "deep in a field": (lambda: _raw('{"company_name": ' + "[" * 5000 + "]" * 5000
                                     + f', "email": "{EMAIL}"}}'), 400, "invalid_json", "body"),
    "integer of 5000 digits": (lambda: _raw('{"company_name": ' + "7" * 5000 + f', "email": "{EMAIL}"}}'),
                               400, "invalid_json", "body"),
    "NaN": (lambda: _raw(f'{{"company_name": NaN, "email": "{EMAIL}"}}'), 400, "invalid_json", "body"),
    "NUL in company": (lambda: with_body("sign_up", company_name="Acme\x00 S.A."), 422, "invalid_character",
                       "company_name"),
    "line break in company": (lambda: with_body("sign_up", company_name="Acme\r\nBcc: x@example.com"),
                              422, "invalid_value", "company_name"),
    "DEL in company": (lambda: with_body("sign_up", company_name="Acme\x7f"), 422, "invalid_value",
                       "company_name"),
    "unknown field": (lambda: with_body("sign_up", plan="gold"), 422, "unknown_field", "plan"),
    "missing field": (lambda: _raw(json.dumps({"company_name": "Acme"})), 422, "missing_field", "email"),
    "invalid email": (lambda: with_body("sign_up", email="not-an-email"), 422, "invalid_value", "email"),
    "blank company": (lambda: with_body("sign_up", company_name="   "), 422, "invalid_value", "company_name"),
    "wrong content type": (lambda: _raw(json.dumps(load_event("accounts/sign_up.body.json")), "text/plain"),
                           415, "unsupported_media_type", None),
    "form body": (lambda: _raw("company_name=Acme&email=ana%40example.com",
                               "application/x-www-form-urlencoded"), 415, "unsupported_media_type", None),
    "no content type": (lambda: _raw(json.dumps(load_event("accounts/sign_up.body.json")), None),
                        415, "unsupported_media_type", None),
    "over 6 MB": (_oversize, 413, "payload_too_large", None),
}


@pytest.mark.parametrize("case", BAD_SIGN_UPS, ids=list(BAD_SIGN_UPS))
def test_bad_sign_ups_get_a_clear_4xx_and_store_nothing(aws, outbox, case):
    make, status_wanted, code, path = BAD_SIGN_UPS[case]

    status, body = call(make())

    assert status == status_wanted
    assert body["error"]["code"] == code and body["error"]["message"]
    assert not body["error"]["message"].startswith("Value error")
    assert body["error"].get("path") == path
    assert items() == [] and outbox() == []


def test_control_characters_are_refused_with_a_plain_message(aws, outbox):
    status, body = call(with_body("sign_up", company_name="Acme\nS.A."))

    assert (status, body["error"]["path"]) == (422, "company_name")
    assert body["error"]["message"] == ("Quite de este texto los caracteres de control (saltos de línea, "
                                        "tabulaciones, NUL).")
    assert items() == [] and outbox() == []


@pytest.fixture
def use_sender(aws, monkeypatch):
    """Switches the sender address; SES rejects every message from an address it has not verified."""

    def use(sender: str) -> None:
        monkeypatch.setenv("SELLO_SENDER_EMAIL", sender)
        get_settings.cache_clear()

    return use


UNVERIFIED = "no-reply@unverified.test"


def test_a_sign_up_ses_rejects_keeps_nothing_and_can_be_retried(aws, outbox, use_sender):
    use_sender(UNVERIFIED)

    status, body = call(load_event("accounts/sign_up.json"))

    assert (status, body["error"]["code"]) == (503, "email_not_sent")
    assert body["error"]["message"] == (
        "No pudimos enviar el correo de confirmación; no se guardó nada, intente de nuevo.")
    assert items() == [] and outbox() == []
    use_sender(aws["SELLO_SENDER_EMAIL"])
    account, code = signed_up(outbox)
    assert account_item(account["id"])["code_hash"] == sha256_hex(code)


def test_a_resend_ses_rejects_keeps_the_code_and_can_be_retried_at_once(aws, outbox, use_sender):
    from sello.adapters import aws as clients

    account, old = signed_up(outbox)
    # The first code went out long enough ago for a new one to be due.
    sent_long_ago = {**account_item(account["id"]), "code_sent_at": "2020-01-01T00:00:00Z"}
    clients.resource("dynamodb").Table(get_settings().table_name).put_item(Item=sent_long_ago)
    use_sender(UNVERIFIED)

    status, body = call(load_event("accounts/resend_confirmation.json"))

    assert (status, body["error"]["code"]) == (503, "email_not_sent")
    assert account_item(account["id"]) == sent_long_ago
    use_sender(aws["SELLO_SENDER_EMAIL"])
    assert call(load_event("accounts/resend_confirmation.json")) == (202, {})
    assert last_code(outbox) != old and len(outbox()) == 2


# Confirmation ------------------------------------------------------------------------------------

def test_confirming_returns_the_account_and_a_test_key_stored_only_as_a_hash(aws, outbox):
    account, code = signed_up(outbox)

    status, body = call(with_body("confirm", code=code))

    assert status == 200
    assert body["account"]["id"] == account["id"] and body["account"]["status"] == "active"
    new_key = body["api_key"]
    assert re.fullmatch(r"sk_test_[A-Za-z0-9]{40}", new_key["key"])
    assert {"id", "key", "environment", "created_at"} <= new_key.keys() and new_key["environment"] == "test"
    stored = {(i["pk"], i["sk"]): i for i in items()}
    lookup = stored[(f"APIKEY#{sha256_hex(new_key['key'])}", "META")]
    listing = stored[(f"ACCOUNT#{account['id']}", f"APIKEY#{new_key['id']}")]
    for item in (lookup, listing):
        assert (item["account_id"], item["id"], item["environment"], item["status"]) == (
            account["id"], new_key["id"], "test", "active")
    assert new_key["key"] not in repr(stored)
    assert account_item(account["id"])["status"] == "active"


def test_a_reused_code_is_a_conflict(aws, outbox):
    _, code = signed_up(outbox)
    assert call(with_body("confirm", code=code))[0] == 200
    before = items()

    status, body = call(with_body("confirm", code=code))

    assert (status, body["error"]["code"]) == (409, "already_confirmed")
    assert items() == before


def test_wrong_codes_are_counted_then_refused(aws, outbox):
    account, code = signed_up(outbox)
    limit = get_settings().confirmation_max_attempts
    for attempt in range(1, limit + 1):
        status, body = call(with_body("confirm", code="W" * 40))
        assert status == 422
        assert (body["error"]["code"], body["error"]["path"]) == ("invalid_confirmation_code", "code")
        assert account_item(account["id"])["code_attempts"] == attempt

    status, body = call(with_body("confirm", code=code))

    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert account_item(account["id"])["status"] == "pending_confirmation"
    assert not any(i["pk"].startswith("APIKEY#") for i in items())


def test_an_expired_code_is_gone(aws, outbox):
    from sello.adapters import aws as clients

    account, code = signed_up(outbox)
    clients.resource("dynamodb").Table(get_settings().table_name).update_item(
        Key={"pk": f"ACCOUNT#{account['id']}", "sk": "META"},
        UpdateExpression="SET code_expires_at = :past",
        ExpressionAttributeValues={":past": "2020-01-01T00:00:00Z"})

    status, body = call(with_body("confirm", code=code))

    assert (status, body["error"]["code"]) == (410, "confirmation_code_expired")
    assert account_item(account["id"])["status"] == "pending_confirmation"


def test_an_unknown_email_is_answered_like_a_wrong_code(aws, outbox):
    signed_up(outbox)
    wrong = call(with_body("confirm", code="W" * 40))
    unknown = call(with_body("confirm", email="nobody@example.com", code="W" * 40))
    assert unknown == wrong


def test_resending_sends_a_new_code_and_the_old_one_stops_working(aws, outbox, monkeypatch):
    monkeypatch.setenv("SELLO_CONFIRMATION_RESEND_INTERVAL_SECONDS", "0")
    get_settings.cache_clear()
    _, old = signed_up(outbox)

    status, body = call(load_event("accounts/resend_confirmation.json"))

    assert (status, body) == (202, {})
    new = last_code(outbox)
    assert new != old and len(outbox()) == 2
    assert call(with_body("confirm", code=old))[1]["error"]["code"] == "invalid_confirmation_code"
    assert call(with_body("confirm", code=new))[0] == 200


def test_resending_too_soon_sends_nothing_and_answers_like_an_unknown_email(aws, outbox):
    signed_up(outbox)
    status, body = call(load_event("accounts/resend_confirmation.json"))
    assert (status, body) == (202, {})  # the same answer as for an unknown email: nothing to learn
    assert len(outbox()) == 1


def test_resending_for_an_unknown_email_says_nothing_and_sends_nothing(aws, outbox):
    status, body = call(with_body("resend_confirmation", email="nobody@example.com"))
    assert (status, body) == (202, {})
    assert outbox() == [] and items() == []


# The caller's account and API keys ------------------------------------------------------------

def test_me_reports_the_account_and_the_environment_of_the_key(aws, outbox):
    account_id, test_key = confirmed(outbox)
    live = gone_live(outbox, test_key)

    for key, environment in ((test_key, "test"), (live["key"], "live")):
        status, body = call(as_caller("get_me", key))
        assert status == 200
        assert (body["account"]["id"], body["environment"]) == (account_id, environment)


def test_routes_behind_the_authorizer_refuse_events_without_its_context(aws):
    status, body = call(api_event("GET", "/v1/accounts/me"))
    assert (status, body["error"]["code"]) == (401, "missing_api_key")


def test_keys_are_created_listed_revoked_and_rotated(aws, outbox):
    account_id, test_key = confirmed(outbox)
    first_live = gone_live(outbox, test_key)
    live_key = first_live["key"]

    status, created = call(as_caller("create_api_key", live_key, environment="live"))
    assert status == 201
    sample = load_event("accounts/create_api_key.body.json")
    assert (created["environment"], created["name"]) == ("live", sample["name"])
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", created["key"])

    status, listed = call(as_caller("list_api_keys", live_key))
    assert status == 200
    by_id = {k["id"]: k for k in listed["data"]}
    assert set(by_id) == {created["id"], first_live["id"]}  # live keys only
    assert by_id[created["id"]]["hint"] == f"sk_live_…{created['key'][-4:]}"
    assert {k["status"] for k in listed["data"]} == {"active"}
    assert set(by_id[created["id"]]) == {"id", "name", "environment", "status", "hint", "created_at",
                                         "revoked_at"}

    status, rotated = call(as_caller("rotate_api_key", live_key, f"/v1/api-keys/{created['id']}/rotate"))
    assert status == 201
    assert (rotated["environment"], rotated["name"]) == ("live", sample["name"])
    assert authorize(rotated["key"])["context"]["key_id"] == rotated["id"]
    assert authorize(created["key"])["context"]["error_code"] == "api_key_revoked"

    status, revoked = call(as_caller("revoke_api_key", live_key, f"/v1/api-keys/{rotated['id']}"))
    assert (status, revoked["id"], revoked["status"]) == (200, rotated["id"], "revoked")
    assert revoked["revoked_at"]
    assert authorize(rotated["key"])["context"]["error_code"] == "api_key_revoked"

    status, body = call(as_caller("rotate_api_key", live_key, f"/v1/api-keys/{created['id']}/rotate"))
    assert (status, body["error"]["code"]) == (409, "api_key_revoked")

    status, listed = call(as_caller("list_api_keys", live_key))
    statuses = {k["id"]: k["status"] for k in listed["data"]}
    assert statuses == {created["id"]: "revoked", rotated["id"]: "revoked", first_live["id"]: "active"}
    test_key_id = authorize(test_key)["context"]["key_id"]
    lookups = {i["id"]: i["status"] for i in items() if i["pk"].startswith("APIKEY#")}
    assert lookups == {**statuses, test_key_id: "active"}  # both items of every key changed together


def test_a_test_key_cannot_mint_list_revoke_or_rotate_live_keys(aws, outbox):
    _, test_key = confirmed(outbox)
    live = gone_live(outbox, test_key)
    before = items()

    status, body = call(as_caller("create_api_key", test_key, environment="live"))
    error = body["error"]
    assert (status, error["code"], error["path"]) == (403, "environment_mismatch", "environment")
    for name, path in (("revoke_api_key", f"/v1/api-keys/{live['id']}"),
                       ("rotate_api_key", f"/v1/api-keys/{live['id']}/rotate")):
        status, body = call(as_caller(name, test_key, path))
        assert (status, body["error"]["code"]) == (404, "api_key_not_found")
    status, listed = call(as_caller("list_api_keys", test_key))
    assert [k["environment"] for k in listed["data"]] == ["test"]
    assert items() == before and authorize(live["key"])["context"]["environment"] == "live"


def test_a_live_key_manages_only_live_keys(aws, outbox):
    _, test_key = confirmed(outbox)
    live = gone_live(outbox, test_key)
    test_key_id = authorize(test_key)["context"]["key_id"]
    before = items()

    status, body = call(as_caller("create_api_key", live["key"], environment="test"))
    assert (status, body["error"]["code"]) == (403, "environment_mismatch")
    status, body = call(as_caller("revoke_api_key", live["key"], f"/v1/api-keys/{test_key_id}"))
    assert (status, body["error"]["code"]) == (404, "api_key_not_found")
    assert items() == before


def test_without_an_environment_a_key_of_the_callers_environment_is_created(aws, outbox):
    _, test_key = confirmed(outbox)
    event = as_caller("create_api_key", test_key)
    event["body"] = "{}"
    status, created = call(event)
    assert (status, created["environment"], created["name"]) == (201, "test", None)


# Live activation ---------------------------------------------------------------------------------

def test_the_first_live_key_is_minted_only_with_the_code_emailed_to_the_owner(aws, outbox):
    account_id, test_key = confirmed(outbox)

    status, sent = call(as_caller("request_live_activation", test_key))

    assert (status, sent["sent_to"]) == (202, EMAIL) and sent["expires_at"]
    mail = outbox()[-1]
    assert mail["To"] == EMAIL and "live" in mail["Subject"].lower()
    code = last_code(outbox)
    assert account_item(account_id)["live_code_hash"] == sha256_hex(code)
    assert not any(i.get("environment") == "live" for i in items())

    status, body = call(as_caller("confirm_live_activation", test_key, code="W" * 40))
    error = body["error"]
    assert (status, error["code"], error["path"]) == (422, "invalid_confirmation_code", "code")
    assert account_item(account_id)["live_code_attempts"] == 1

    status, live = call(as_caller("confirm_live_activation", test_key, code=code, name="Tienda"))

    assert status == 201 and re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", live["key"])
    assert (live["environment"], live["name"]) == ("live", "Tienda")
    assert authorize(live["key"])["context"]["environment"] == "live"
    account = account_item(account_id)
    assert account["live_enabled_at"] and not any(k.startswith("live_code_") for k in account)
    status, me = call(as_caller("get_me", live["key"]))
    assert me["account"]["live_enabled_at"] == account["live_enabled_at"]
    status, body = call(as_caller("confirm_live_activation", test_key, code=code))
    assert (status, body["error"]["code"]) == (409, "live_already_enabled")
    status, body = call(as_caller("request_live_activation", test_key))
    assert (status, body["error"]["code"]) == (409, "live_already_enabled")


def test_asking_again_too_soon_is_429_with_retry_after(aws, outbox):
    from functions.api import accounts

    _, test_key = confirmed(outbox)
    assert call(as_caller("request_live_activation", test_key))[0] == 202

    response = accounts.handler(as_caller("request_live_activation", test_key), context_for(ACCOUNTS))

    assert response["statusCode"] == 429
    assert response_json(response)["error"]["code"] == "too_many_requests"
    retry_after = int(response["multiValueHeaders"]["Retry-After"][0])
    assert 1 <= retry_after <= get_settings().confirmation_resend_interval_seconds
    assert len(outbox()) == 2  # the confirmation and one live-activation code


def test_the_last_active_key_cannot_be_revoked_until_there_is_another(aws, outbox):
    _, key = confirmed(outbox)
    key_id = authorize(key)["context"]["key_id"]
    before = items()

    status, body = call(as_caller("revoke_api_key", key, f"/v1/api-keys/{key_id}"))

    assert (status, body["error"]["code"], body["error"]["path"]) == (409, "last_active_key", "key_id")
    assert body["error"]["message"] == (
        "Esta es la última clave de API de test activa de la cuenta. Cree primero otra clave.")
    assert items() == before and authorize(key)["context"]["key_id"] == key_id
    status, spare = call(as_caller("create_api_key", key))
    assert status == 201
    status, revoked = call(as_caller("revoke_api_key", key, f"/v1/api-keys/{key_id}"))  # the caller's own key
    assert (status, revoked["id"], revoked["status"]) == (200, key_id, "revoked")
    status, body = call(as_caller("revoke_api_key", spare["key"], f"/v1/api-keys/{spare['id']}"))
    assert (status, body["error"]["code"]) == (409, "last_active_key")


@pytest.mark.parametrize("body,code,path", [
    ({"environment": "prod"}, "invalid_value", "environment"),
    ({"environment": "test", "scopes": ["all"]}, "unknown_field", "scopes"),
    ({"environment": "test", "name": "x" * 101}, "invalid_value", "name"),
    ({"environment": "test", "name": "ERP\tmain"}, "invalid_value", "name"),
])
def test_bad_key_requests_are_refused_and_store_nothing(aws, outbox, body, code, path):
    _, key = confirmed(outbox)
    before = items()
    event = as_caller("create_api_key", key)
    event["body"] = json.dumps(body)

    status, answer = call(event)

    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, code, path)
    assert items() == before


def test_another_accounts_keys_are_not_found(aws, outbox):
    _, key_a = confirmed(outbox, "a@example.com")
    b_id, key_b = confirmed(outbox, "b@example.com")
    b_key_id = authorize(key_b)["context"]["key_id"]
    before = items()

    for name, path in (("revoke_api_key", f"/v1/api-keys/{b_key_id}"),
                       ("rotate_api_key", f"/v1/api-keys/{b_key_id}/rotate"),
                       ("revoke_api_key", "/v1/api-keys/key_doesnotexist0000000")):
        status, body = call(as_caller(name, key_a, path))
        assert (status, body["error"]["code"]) == (404, "api_key_not_found")

    status, listed = call(as_caller("list_api_keys", key_a))
    assert b_key_id not in {k["id"] for k in listed["data"]}
    assert items() == before
    assert authorize(key_b)["context"]["account_id"] == b_id


def test_unknown_routes_are_404(aws):
    status, body = call(api_event("GET", "/v1/accounts/nope"))
    assert (status, body["error"]["code"]) == (404, "route_not_found")


# Secrets ---------------------------------------------------------------------------------------

def test_secrets_appear_only_in_the_one_response_that_hands_them_over_and_never_in_logs(aws, outbox, logs,
                                                                                         monkeypatch):
    monkeypatch.setenv("SELLO_CONFIRMATION_RESEND_INTERVAL_SECONDS", "0")
    get_settings.cache_clear()
    responses = []

    def record(event):
        responses.append(call(event))
        return responses[-1]

    record(load_event("accounts/sign_up.json"))
    record(with_body("confirm", code="W" * 40))
    record(load_event("accounts/resend_confirmation.json"))
    code = last_code(outbox)
    _, confirmation = record(with_body("confirm", code=code))
    key = confirmation["api_key"]["key"]
    record(as_caller("request_live_activation", key))
    record(as_caller("confirm_live_activation", key, code="W" * 40))
    _, first_live = record(as_caller("confirm_live_activation", key, code=last_code(outbox)))
    _, live = record(as_caller("create_api_key", first_live["key"], environment="live"))
    _, rotated = record(as_caller("rotate_api_key", first_live["key"], f"/v1/api-keys/{live['id']}/rotate"))
    record(as_caller("list_api_keys", key))
    record(as_caller("list_api_keys", first_live["key"]))
    record(as_caller("get_me", key))
    record(as_caller("revoke_api_key", first_live["key"], f"/v1/api-keys/{rotated['id']}"))
    authorize(rotated["key"])
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize("sk_test_" + "Z" * 40)

    codes = [CODE.search(m.get_content()).group(1) for m in outbox()]
    secrets = [*codes, key, first_live["key"], live["key"], rotated["key"]]
    secrets += [sha256_hex(s) for s in secrets]
    handed_over = {key: confirmation, first_live["key"]: first_live, live["key"]: live,
                   rotated["key"]: rotated}
    text = logs()
    for event in ("account confirmed", "account live", "api key rotated"):
        assert event in text  # the flow was logged, without secrets
    for secret in secrets:
        assert secret not in text
        shown_in = [body for _, body in responses if secret in json.dumps(body, ensure_ascii=False)]
        assert shown_in == ([handed_over[secret]] if secret in handed_over else [])
