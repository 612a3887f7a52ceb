"""The REQUEST authorizer against keys in the emulated table: the contract the CDK app and the
local gateway rely on (401 by raising "Unauthorized", Deny with an error context, stage-wide Allow)."""

from __future__ import annotations

import logging
import re

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.ids import sha256_hex
from sello.models.accounts import CreateApiKeyRequest
from sello.settings import get_settings
from tests.helpers import (
    ACCEPTED_FORMS,
    REFUSED_FORMS,
    api_event,
    authorizer_context,
    load_event,
    response_json,
)

STAGE_WIDE = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/test/*/*"


def authorize(headers: dict | None, multi: dict | None = None) -> dict:
    """The authorizer's answer to a request with these headers (`multi`: multiValueHeaders, by
    default one value per header as API Gateway builds it)."""
    from functions.api import authorizer

    if multi is None and headers is not None:
        multi = {k: [v] for k, v in headers.items()}
    event = {**load_event("accounts/authorizer_request.json"), "headers": headers, "multiValueHeaders": multi}
    return authorizer.handler(event, context_for(catalog.AUTHORIZER))


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def service(aws):
    from sello.services.accounts import default_service

    return default_service()


@pytest.fixture
def seeded(service):
    """An active account and its test key."""
    account, key = service.seed_account("Comercial Andina S.A.", "ana.torres@example.com")
    return account, key


def test_a_valid_key_is_allowed_on_the_whole_stage_with_the_callers_context(seeded):
    account, key = seeded

    policy = authorize(bearer(key))

    assert policy["principalId"] == account["id"]
    assert policy["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [STAGE_WIDE]}]
    context = policy["context"]
    assert set(context) == {"account_id", "environment", "key_id", "language"}
    assert context["language"] == "es"  # the account's, Spanish unless it chose English
    assert (context["account_id"], context["environment"]) == (account["id"], "test")
    assert context["key_id"].startswith("key_")


def test_the_allow_context_is_what_the_functions_read_as_the_principal(seeded):
    from functions.api import accounts

    account, key = seeded
    event = api_event("GET", "/v1/accounts/me", headers=bearer(key),
                      principal=authorizer_context(authorize(bearer(key))["context"]))

    response = accounts.handler(event, context_for(catalog.API_FUNCTIONS[0]))

    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["account"]["id"], body["environment"]) == (account["id"], "test")


def test_a_live_key_carries_the_live_environment(service, seeded, outbox):
    account, _ = seeded
    service.request_live_activation(account["id"])
    code = re.search(r"^ {4}([A-Za-z0-9]{40})$", outbox()[-1].get_content(), re.M).group(1)
    live = service.confirm_live_activation(account["id"], code)
    assert authorize(bearer(live.key))["context"]["environment"] == "live"


@pytest.mark.parametrize("header", ["authorization", "AUTHORIZATION", "Authorization"])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_header_name_and_scheme_are_case_insensitive(seeded, header, scheme):
    account, key = seeded
    assert authorize({header: f"{scheme} {key}"})["principalId"] == account["id"]


@pytest.mark.parametrize("headers", [
    None,
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "sk_test_" + "a" * 40},
    {"Authorization": "Bearer sk_test_short"},
    {"Authorization": "Bearer sk_prod_" + "a" * 40},
    {"Authorization": "Bearer sk_test_" + "a" * 40},  # well formed, unknown
    {"Authorization": "Bearer sk_live_" + "b" * 40},
    {"X-Api-Key": "sk_test_" + "a" * 40},
], ids=lambda h: repr(h)[:40])
def test_missing_malformed_or_unknown_keys_are_unauthorized(seeded, headers):
    with pytest.raises(Exception) as err:
        authorize(headers)
    assert type(err.value) is Exception and str(err.value) == "Unauthorized"


@pytest.mark.parametrize("form", list(ACCEPTED_FORMS.values()), ids=list(ACCEPTED_FORMS))
def test_documented_variants_of_the_header_are_accepted(seeded, form):
    account, key = seeded
    assert authorize({"Authorization": form.format(key=key)})["principalId"] == account["id"]


@pytest.mark.parametrize("form", list(REFUSED_FORMS.values()), ids=list(REFUSED_FORMS))
def test_other_shapes_of_the_header_are_unauthorized(seeded, form):
    _, key = seeded
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize({"Authorization": form.format(key=key)})


def test_two_authorization_headers_are_unauthorized_even_with_the_same_key(seeded):
    _, key = seeded
    # API Gateway keeps the last value in `headers` and both in `multiValueHeaders`.
    for values in ([f"Bearer {key}", f"Bearer {key}"], ["Bearer sk_test_" + "a" * 40, f"Bearer {key}"]):
        with pytest.raises(Exception, match="^Unauthorized$"):
            authorize({"Authorization": values[-1]}, {"Authorization": values})
    with pytest.raises(Exception, match="^Unauthorized$"):  # the same header under two name cases
        authorize({"authorization": f"Bearer {key}"},
                  {"Authorization": [f"Bearer {key}"], "authorization": [f"Bearer {key}"]})


def test_a_revoked_key_is_denied_with_an_error_context(service, seeded):
    account, key = seeded
    key_id = authorize(bearer(key))["context"]["key_id"]
    service.create_key(account["id"], "test", CreateApiKeyRequest())  # the last key stays
    service.revoke_key(account["id"], "test", key_id)

    policy = authorize(bearer(key))

    assert policy["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [STAGE_WIDE]}]
    assert policy["context"]["error_code"] == "api_key_revoked"
    assert policy["context"]["error_message"]
    assert "account_id" not in policy["context"]


def test_a_key_of_an_inactive_account_is_denied(seeded):
    from sello.adapters import aws

    account, key = seeded
    aws.resource("dynamodb").Table(get_settings().table_name).update_item(
        Key={"pk": f"ACCOUNT#{account['id']}", "sk": "META"},
        UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "suspended"})

    policy = authorize(bearer(key))

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert policy["context"]["error_code"] == "account_inactive"


def test_keys_never_reach_the_logs(service, seeded, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="sello")
    account, key = seeded
    authorize(bearer(key))
    unknown = "sk_test_" + "Q" * 40
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(bearer(unknown))
    service.create_key(account["id"], "test", CreateApiKeyRequest())  # the last key stays
    service.revoke_key(account["id"], "test", authorize(bearer(key))["context"]["key_id"])
    authorize(bearer(key))

    logged = caplog.text + "".join(repr(r.__dict__) for r in caplog.records) + "".join(capsys.readouterr())
    assert "api key denied" in logged  # the denial was logged, without the key
    for secret in (key, unknown, sha256_hex(key), sha256_hex(unknown)):
        assert secret not in logged
