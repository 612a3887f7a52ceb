"""The conditional writes of the DynamoDB accounts repository (against the emulator): each holds only
in the state it was meant for and otherwise changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sello.adapters.accounts_repo import DynamoAccountsRepo
from sello.adapters.dynamo import DynamoStore
from sello.ids import new_id, sha256_hex
from sello.models.accounts import Account, ApiKey, Confirmation

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(aws):
    return DynamoStore(aws["SELLO_TABLE_NAME"])


@pytest.fixture
def repo(store):
    return DynamoAccountsRepo(store)


def everything(store) -> list[dict]:
    return store.table.scan()["Items"]


def confirmation(code: str, sent_at: datetime = NOW) -> Confirmation:
    return Confirmation(code_hash=sha256_hex(code), expires_at=sent_at + timedelta(hours=1), sent_at=sent_at)


def pending(email: str = "ana@example.com") -> Account:
    return Account(id=new_id("acct"), company_name="Comercial Andina S.A.", email=email,
                   status="pending_confirmation", created_at=NOW, confirmation=confirmation("first"))


def key(account_id: str, name: str) -> ApiKey:
    return ApiKey(id=new_id("key"), account_id=account_id, name=name, environment="test",
                  key_hash=sha256_hex(name + account_id), hint="sk_test_…abcd", status="active",
                  created_at=NOW)


def test_a_pending_account_is_discarded_with_its_email(repo, store):
    account = pending()
    other = pending("luis@example.com")
    assert repo.create_account(account) and repo.create_account(other)

    assert repo.discard_pending(account) is True

    assert repo.get_account(account.id) is None and repo.find_account_id(account.email) is None
    assert repo.get_account(other.id) == other
    assert repo.create_account(replace(account, id=new_id("acct")))  # the email is free again


@pytest.mark.parametrize("change", ["activated", "new code"])
def test_an_account_that_changed_is_not_discarded(repo, store, change):
    account = pending()
    repo.create_account(account)
    if change == "activated":
        assert repo.activate(account.id, account.confirmation.code_hash, 5, NOW, key(account.id, "Default"))
    else:
        assert repo.replace_code(account.id, confirmation("second", NOW + timedelta(minutes=1)),
                                 account.confirmation)
    before = everything(store)

    assert repo.discard_pending(account) is False

    assert everything(store) == before


def test_a_code_is_replaced_only_while_it_is_the_current_one(repo):
    account = pending()
    repo.create_account(account)
    second = confirmation("second", NOW + timedelta(minutes=1))

    assert repo.replace_code(account.id, second, account.confirmation) is True
    assert repo.replace_code(account.id, confirmation("third"), account.confirmation) is False
    assert repo.replace_code(account.id, account.confirmation, second) is True  # put back
    assert repo.get_account(account.id).confirmation == account.confirmation


def test_a_key_is_revoked_only_while_its_spare_is_active(repo, store):
    account = pending()
    repo.create_account(account)
    first, second, third = (key(account.id, n) for n in ("first", "second", "third"))
    for k in (first, second, third):
        repo.add_key(k)
    assert repo.revoke_key(second, NOW, spare=third) is True
    before = everything(store)

    assert repo.revoke_key(first, NOW, spare=second) is False

    assert everything(store) == before
    assert repo.get_key(account.id, first.id).status == "active"
    assert repo.key_by_hash(first.key_hash).status == "active"
