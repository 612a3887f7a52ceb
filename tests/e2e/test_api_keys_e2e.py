"""API keys over HTTP against the local stack, in accounts of this module's own (the seeded demo key
stays untouched): create, revoke and rotate keys and see the gateway's authorizer honour it at once;
bad request bodies get their 4xx through the gateway. The last active key of an account cannot be
revoked (409 last_active_key), so every other revocation here leaves the account another active key."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

KEY = re.compile(r"sk_(test|live)_[A-Za-z0-9]{40}")


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


def me(local_stack, key: str) -> httpx.Response:
    with local_stack.client(key) as client:
        return client.get("/v1/accounts/me")


def assert_revoked(local_stack, key: str) -> None:
    response = me(local_stack, key)
    assert response.status_code == 403, response.text
    assert error_of(response)["code"] == "api_key_revoked"


@pytest.fixture(scope="module")
def account(local_stack) -> tuple[dict, str]:
    """(account, its first key). The first key is never revoked here."""
    return local_stack.new_account("API Keys E2E")


@pytest.fixture
def first(local_stack, account):
    with local_stack.client(account[1]) as client:
        yield client


def create_key(client: httpx.Client, name: str, environment: str = "test") -> dict:
    response = client.post("/v1/api-keys", json={"environment": environment, "name": name})
    assert response.status_code == 201, response.text
    created = response.json()
    assert KEY.fullmatch(created["key"]) and created["key"].startswith(f"sk_{environment}_")
    return created


def test_a_second_key_works_and_once_revoked_the_gateway_refuses_it(local_stack, account, first):
    second = create_key(first, "second")

    using_it = me(local_stack, second["key"])
    assert using_it.status_code == 200, using_it.text
    assert using_it.json()["account"]["id"] == account[0]["id"]
    assert (using_it.json()["key_id"], using_it.json()["environment"]) == (second["id"], "test")

    revoked = first.delete(f"/v1/api-keys/{second['id']}")
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["id"], revoked.json()["status"]) == (second["id"], "revoked")
    assert revoked.json()["revoked_at"]

    assert_revoked(local_stack, second["key"])
    with local_stack.client(second["key"]) as client:
        assert error_of(client.get("/v1/api-keys"))["code"] == "api_key_revoked"
    assert me(local_stack, account[1]).status_code == 200  # the key that revoked it still works


def test_a_test_key_alone_cannot_get_a_live_key_the_owners_code_can(local_stack):
    account, test_key = local_stack.new_account("Live Keys E2E")
    with local_stack.client(test_key) as client:
        refused = client.post("/v1/api-keys", json={"environment": "live", "name": "live"})
        assert refused.status_code == 403, refused.text
        assert error_of(refused)["code"] == "environment_mismatch"
        guessed = client.post("/v1/accounts/live-activation/confirm", json={"code": "W" * 40})
        assert guessed.status_code == 422 and error_of(guessed)["code"] == "invalid_confirmation_code"

    live = local_stack.go_live(account, test_key)

    response = me(local_stack, live["key"])
    assert response.status_code == 200, response.text
    assert response.json()["environment"] == "live" and response.json()["account"]["live_enabled_at"]
    with local_stack.client(live["key"]) as client:
        more = create_key(client, "second live", environment="live")
        assert {k["id"] for k in client.get("/v1/api-keys").json()["data"]} == {live["id"], more["id"]}
    with local_stack.client(test_key) as client:
        listed = client.get("/v1/api-keys").json()["data"]
        assert {k["environment"] for k in listed} == {"test"}
        assert client.delete(f"/v1/api-keys/{live['id']}").status_code == 404
    assert me(local_stack, live["key"]).status_code == 200


def test_rotating_a_key_revokes_it_and_hands_over_a_working_one(local_stack, account, first):
    old = create_key(first, "to rotate")
    with local_stack.client(old["key"]) as client:  # a key can rotate itself
        rotated = client.post(f"/v1/api-keys/{old['id']}/rotate")
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert KEY.fullmatch(new["key"]) and new["key"] != old["key"] and new["id"] != old["id"]
    assert (new["name"], new["environment"]) == ("to rotate", "test")

    assert_revoked(local_stack, old["key"])
    using_new = me(local_stack, new["key"])
    assert using_new.status_code == 200, using_new.text
    assert using_new.json()["key_id"] == new["id"]
    assert using_new.json()["account"]["id"] == account[0]["id"]

    again = first.post(f"/v1/api-keys/{old['id']}/rotate")
    assert again.status_code == 409
    assert error_of(again)["code"] == "api_key_revoked"


def test_listed_keys_never_show_a_full_key(local_stack, account, first):
    issued = [account[1], create_key(first, "listed")["key"]]

    listed = first.get("/v1/api-keys")

    assert listed.status_code == 200, listed.text
    keys = listed.json()["data"]
    assert len(keys) >= 2
    assert not KEY.search(listed.text)
    for key in issued:
        assert key not in listed.text and key[8:] not in listed.text
    for key in keys:
        assert not {"key", "key_hash"} & set(key)
        assert re.fullmatch(r"sk_(test|live)_…[A-Za-z0-9]{4}", key["hint"]), key["hint"]
    hints = {key["hint"] for key in keys}
    assert all(f"{key[:8]}…{key[-4:]}" in hints for key in issued)


@pytest.mark.parametrize(("content", "content_type", "status", "code", "path"), [
    (b'{"environment": "test"}', "text/plain", 415, "unsupported_media_type", None),
    (b'environment=test', "application/x-www-form-urlencoded", 415, "unsupported_media_type", None),
    (b'{"environment": "test",', "application/json", 400, "invalid_json", "body"),
    (b'{"environment": "test", "colour": "blue"}', "application/json", 422, "unknown_field", "colour"),
    (b'{"environment": "staging"}', "application/json", 422, "invalid_value", "environment"),
])
def test_bad_bodies_get_their_4xx_through_the_gateway_and_create_nothing(first, content, content_type,
                                                                         status, code, path):
    count = len(first.get("/v1/api-keys").json()["data"])

    response = first.post("/v1/api-keys", content=content, headers={"Content-Type": content_type})

    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code
    assert error.get("path") == path
    assert error["message"]
    assert len(first.get("/v1/api-keys").json()["data"]) == count


@pytest.mark.parametrize("path", ["/v1/api-keys", "/v1/accounts"])
def test_a_multipart_content_type_without_a_boundary_is_a_client_error(local_stack, account, path):
    with local_stack.client(account[1]) as client:
        response = client.post(path, content=b"environment=test",
                               headers={"Content-Type": "multipart/form-data"})

    assert 400 <= response.status_code < 500, response.text
    assert error_of(response)["code"] != "internal_error"


def test_the_last_active_key_cannot_be_revoked(local_stack):
    """The last-active-key rule: revoking an account's only active key would lock it out, so it is
    refused with 409 last_active_key and the key keeps working; rotating it stays possible."""
    _, only = local_stack.new_account("Single Key E2E")
    with local_stack.client(only) as client:
        [key] = client.get("/v1/api-keys").json()["data"]

        refused = client.delete(f"/v1/api-keys/{key['id']}")

        assert refused.status_code == 409, refused.text
        assert error_of(refused)["code"] == "last_active_key"
        assert me(local_stack, only).status_code == 200
        rotated = client.post(f"/v1/api-keys/{key['id']}/rotate")
    assert rotated.status_code == 201, rotated.text
    assert me(local_stack, rotated.json()["key"]).status_code == 200
    assert_revoked(local_stack, only)
