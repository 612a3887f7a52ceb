"""The limit on guesses at a code holds under concurrent requests: against the emulated table, many
threads guess at once, and at most settings.confirmation_max_attempts guesses are ever compared.

The repository below holds every thread after its first read of the account until all of them have
read it (with no attempts used): the widest window concurrent requests can have. The emulator
handles one request at a time here (`atomic_emulator`), as DynamoDB applies each request atomically."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from sello.adapters.accounts_repo import DynamoAccountsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.mailer import SesMailer
from sello.errors import SelloError
from sello.models.accounts import SignUpRequest
from sello.services.accounts import AccountService
from sello.settings import get_settings

THREADS = 30
EMAIL = "ana.torres@example.com"
WRONG = "W" * 40


class AllReadFirst(DynamoAccountsRepo):
    """While `barrier` is set, each thread waits after its first account read for the others."""

    def __init__(self, store):
        super().__init__(store)
        self.barrier: threading.Barrier | None = None
        self.local = threading.local()

    def get_account(self, account_id):
        account = super().get_account(account_id)
        if self.barrier is not None and not getattr(self.local, "waited", False):
            self.local.waited = True
            self.barrier.wait(timeout=60)
        return account


@pytest.fixture
def service(aws, atomic_emulator):
    return AccountService(AllReadFirst(DynamoStore(get_settings().table_name)), SesMailer())


def all_at_once(service, guesses: list, attempt) -> Counter:
    """Runs attempt(guess) for every guess in its own thread, all having read the account before any
    goes on; counts the outcomes (an error's code, or "ok")."""
    service.repo.barrier = threading.Barrier(len(guesses))

    def one(guess):
        try:
            attempt(guess)
        except SelloError as exc:
            return exc.code
        return "ok"

    try:
        with ThreadPoolExecutor(len(guesses)) as pool:
            return Counter(pool.map(one, guesses))
    finally:
        service.repo.barrier = None


def code_of(outbox) -> str:
    return re.search(r"^ {4}([A-Za-z0-9]{40})$", outbox()[-1].get_content(), re.M).group(1)


def test_concurrent_wrong_codes_use_up_exactly_the_attempts_then_the_right_code_is_refused(service, outbox):
    limit = get_settings().confirmation_max_attempts
    service.sign_up(SignUpRequest(company_name="Comercial Andina S.A.", email=EMAIL))
    code = code_of(outbox)

    outcomes = all_at_once(service, [WRONG] * THREADS, lambda guess: service.confirm(EMAIL, guess))

    assert outcomes == {"invalid_confirmation_code": limit, "too_many_attempts": THREADS - limit}
    account = service.repo.get_account(service.repo.find_account_id(EMAIL))
    assert account.confirmation.attempts == limit
    with pytest.raises(SelloError) as err:
        service.confirm(EMAIL, code)
    assert err.value.code == "too_many_attempts"
    assert service.repo.get_account(account.id).status == "pending_confirmation"
    assert service.repo.list_keys(account.id) == []


def test_the_right_code_among_concurrent_guesses_counts_as_one_of_the_attempts(service, outbox):
    limit = get_settings().confirmation_max_attempts
    service.sign_up(SignUpRequest(company_name="Comercial Andina S.A.", email=EMAIL))
    code = code_of(outbox)

    guesses = [WRONG] * (THREADS - 1) + [code]
    outcomes = all_at_once(service, guesses, lambda guess: service.confirm(EMAIL, guess))

    compared = outcomes["invalid_confirmation_code"] + outcomes["ok"]
    assert compared == limit and outcomes["too_many_attempts"] == THREADS - limit
    account = service.repo.get_account(service.repo.find_account_id(EMAIL))
    assert account.status == ("active" if outcomes["ok"] else "pending_confirmation")
    assert len(service.repo.list_keys(account.id)) == outcomes["ok"]


def test_concurrent_guesses_at_the_live_activation_code_are_limited_too(service, outbox):
    limit = get_settings().confirmation_max_attempts
    service.sign_up(SignUpRequest(company_name="Comercial Andina S.A.", email=EMAIL))
    account_id = service.confirm(EMAIL, code_of(outbox)).account.id
    service.request_live_activation(account_id)
    code = code_of(outbox)

    outcomes = all_at_once(service, [WRONG] * THREADS,
                           lambda guess: service.confirm_live_activation(account_id, guess))

    assert outcomes == {"invalid_confirmation_code": limit, "too_many_attempts": THREADS - limit}
    with pytest.raises(SelloError) as err:
        service.confirm_live_activation(account_id, code)
    assert err.value.code == "too_many_attempts"
    assert [k.environment for k in service.repo.list_keys(account_id)] == ["test"]
