"""The accounts service with in-memory fakes for its ports: sign-up, confirmation codes, API keys,
the key check, and account scoping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sello.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from sello.ids import sha256_hex
from sello.models.accounts import ApiKeyView, CreateApiKeyRequest, SignUpRequest, email_key
from sello.services.accounts import AccountService
from sello.settings import Settings

CODE = re.compile(r"^ {4}([A-Za-z0-9]{40})$", re.M)
SETTINGS = Settings(confirmation_ttl_seconds=3600, confirmation_max_attempts=3,
                    confirmation_resend_interval_seconds=60)


class FakeRepo:
    """Keeps records in dicts and honours the same conditions as the DynamoDB repository."""

    def __init__(self):
        self.accounts, self.emails, self.keys = {}, {}, {}

    def create_account(self, account, key=None):
        if email_key(account.email) in self.emails:
            return False
        self.accounts[account.id] = account
        self.emails[email_key(account.email)] = account.id
        if key:
            self.keys[key.key_hash] = key
        return True

    def find_account_id(self, email):
        return self.emails.get(email_key(email))

    def get_account(self, account_id):
        return self.accounts.get(account_id)

    @staticmethod
    def _field(kind):
        return "confirmation" if kind == "confirmation" else "live_activation"

    def claim_attempt(self, account_id, kind, code_hash, max_attempts):
        account = self.accounts[account_id]
        c = getattr(account, self._field(kind))
        if c is None or c.code_hash != code_hash or c.attempts >= max_attempts:
            return False
        used = replace(c, attempts=c.attempts + 1)
        self.accounts[account_id] = replace(account, **{self._field(kind): used})
        return True

    def replace_code(self, account_id, confirmation, current, company_name=None, language=None):
        account = self.accounts[account_id]
        held = account.confirmation
        if account.status != "pending_confirmation" or (held.code_hash, held.sent_at) != (
                current.code_hash, current.sent_at):
            return False
        self.accounts[account_id] = replace(account, confirmation=confirmation,
                                            company_name=company_name or account.company_name,
                                            language=language or account.language)
        return True

    def set_language(self, account_id, language):
        if account_id not in self.accounts:
            return False
        self.accounts[account_id] = replace(self.accounts[account_id], language=language)
        return True

    def claim_signup_notice(self, account_id, at, current):
        account = self.accounts[account_id]
        if account.signup_notice_at != current:
            return False
        self.accounts[account_id] = replace(account, signup_notice_at=at)
        return True

    def discard_pending(self, account):
        held = self.accounts.get(account.id)
        if held is None or held.status != "pending_confirmation" or (
                held.confirmation.code_hash != account.confirmation.code_hash):
            return False
        del self.accounts[account.id]
        del self.emails[email_key(account.email)]
        return True

    def activate(self, account_id, code_hash, max_attempts, confirmed_at, key):
        account = self.accounts[account_id]
        c = account.confirmation
        if account.status != "pending_confirmation" or c.code_hash != code_hash or c.attempts > max_attempts:
            return False
        self.accounts[account_id] = replace(account, status="active", confirmed_at=confirmed_at)
        self.keys[key.key_hash] = key
        return True

    def replace_live_code(self, account_id, new, current):
        account = self.accounts[account_id]
        held = account.live_activation
        same = (held is None and current is None) or (
            held is not None and current is not None and (held.code_hash, held.sent_at) == (
                current.code_hash, current.sent_at))
        if account.status != "active" or account.live_enabled_at is not None or not same:
            return False
        self.accounts[account_id] = replace(account, live_activation=new)
        return True

    def enable_live(self, account_id, code_hash, max_attempts, at, key):
        account = self.accounts[account_id]
        c = account.live_activation
        if (account.status != "active" or account.live_enabled_at is not None or c is None
                or c.code_hash != code_hash or c.attempts > max_attempts):
            return False
        self.accounts[account_id] = replace(account, live_enabled_at=at, live_activation=None)
        self.keys[key.key_hash] = key
        return True

    def add_key(self, key):
        self.keys[key.key_hash] = key

    def get_key(self, account_id, key_id):
        return next((k for k in self.keys.values() if k.account_id == account_id and k.id == key_id), None)

    def list_keys(self, account_id):
        return [k for k in self.keys.values() if k.account_id == account_id]

    def key_by_hash(self, key_hash):
        return self.keys.get(key_hash)

    def revoke_key(self, key, at, spare=None):
        current = self.keys[key.key_hash]
        if current.status != "active" or (spare is not None and self.keys[spare.key_hash].status != "active"):
            return False
        self.keys[key.key_hash] = replace(current, status="revoked", revoked_at=at)
        return True

    def rotate_key(self, old, new, at):
        if not self.revoke_key(old, at):
            return False
        self.keys[new.key_hash] = new
        return True


class FakeMailer:
    def __init__(self):
        self.sent = []
        self.failure: Exception | None = None  # raised by send when set, as SES errors would be

    def send(self, mail):
        if self.failure:
            raise self.failure
        self.sent.append(mail)
        return f"msg-{len(self.sent)}"

    def last_code(self) -> str:
        return CODE.search(self.sent[-1].text).group(1)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def repo():
    return FakeRepo()


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def service(repo, mailer, clock):
    return AccountService(repo, mailer, clock=clock, settings=SETTINGS)


def sign_up(service, email="ana@example.com", company="Comercial Andina S.A."):
    """Signs up; returns the account stored for the email (the answer never says)."""
    answer = service.sign_up(SignUpRequest(company_name=company, email=email))
    assert answer.email == email
    return service.repo.get_account(service.repo.find_account_id(email))


def active_account(service, mailer, email="ana@example.com"):
    """Signs up and confirms; returns (account id, plaintext test key)."""
    sign_up(service, email)
    result = service.confirm(email, mailer.last_code())
    return result.account.id, result.api_key.key


def live_account(service, mailer, email="ana@example.com", name=None):
    """An active account taken live by its owner; returns (account id, test key, first live key view)."""
    account_id, test_key = active_account(service, mailer, email)
    service.request_live_activation(account_id)
    return account_id, test_key, service.confirm_live_activation(account_id, mailer.last_code(), name)


# Sign-up ---------------------------------------------------------------------------------------

def test_sign_up_creates_a_pending_account_and_mails_a_code_kept_only_as_a_hash(service, repo, mailer, clock):
    account = sign_up(service)

    assert account.status == "pending_confirmation"
    assert [m.to for m in mailer.sent] == ["ana@example.com"]
    code = mailer.last_code()
    stored = repo.accounts[account.id]
    assert stored.confirmation.code_hash == sha256_hex(code)
    assert stored.confirmation.expires_at == clock.now + timedelta(seconds=SETTINGS.confirmation_ttl_seconds)
    assert stored.confirmation.attempts == 0
    assert code not in repr(repo.accounts)


def test_codes_are_40_random_alphanumerics(service, mailer):
    for i in range(3):
        sign_up(service, f"user{i}@example.com")
    codes = [CODE.search(m.text).group(1) for m in mailer.sent]  # 40 characters each, or no match
    assert len(set(codes)) == 3
    # Drawn from the whole alphabet: a hex or single-case code misses a class (by chance: < 1e-9).
    pooled = "".join(codes)
    assert all(any(test(c) for c in pooled) for test in (str.isupper, str.islower, str.isdigit))


def answer(service, email="ana@example.com", company="Comercial Andina S.A."):
    return service.sign_up(SignUpRequest(company_name=company, email=email)).model_dump()


def test_sign_up_answers_the_same_for_a_new_a_pending_and_an_active_email(service, repo, mailer, clock):
    new = answer(service, "new@example.com")
    answer(service, "pending@example.com")
    active_account(service, mailer, "active@example.com")
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)

    pending = answer(service, "pending@example.com")
    active = answer(service, "active@example.com")

    assert pending == {**new, "email": "pending@example.com"}
    assert active == {**new, "email": "active@example.com"}
    assert set(new) == {"email", "message"}


def test_signing_up_with_an_active_accounts_email_mails_its_owner_a_notice_and_changes_nothing(
        service, repo, mailer, clock):
    account_id, key = active_account(service, mailer)
    before_keys = dict(repo.keys)

    answer(service, "ANA@Example.com", company="Otra S.A.")

    notice = mailer.sent[-1]
    assert notice.to == "ana@example.com" and "intento de registro" in notice.subject.lower()
    assert "Comercial Andina S.A." in notice.text and "Otra S.A." not in notice.text
    assert not CODE.search(notice.text)  # no code, no key: nothing to use
    account = repo.accounts[account_id]
    assert (account.status, account.company_name) == ("active", "Comercial Andina S.A.")
    assert repo.keys == before_keys and len(repo.accounts) == 1
    assert service.authenticate(key).account_id == account_id


def test_the_owner_gets_at_most_one_notice_per_resend_interval(service, repo, mailer, clock):
    active_account(service, mailer)
    for _ in range(3):
        answer(service)
    assert len(mailer.sent) == 2  # the confirmation code, one notice
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    answer(service)
    assert len(mailer.sent) == 3


def test_a_notice_whose_email_fails_is_503_and_can_be_retried_at_once(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    mailer.failure = ConnectionError("SES unreachable")
    with pytest.raises(ServiceUnavailable) as err:
        answer(service)
    assert err.value.code == "email_not_sent"
    assert repo.accounts[account_id].signup_notice_at is None
    mailer.failure = None
    answer(service)
    assert "intento de registro" in mailer.sent[-1].subject.lower()


def test_signing_up_again_while_pending_sends_a_new_code_under_the_new_company_name(service, repo, mailer,
                                                                                     clock):
    first = sign_up(service, company="Nombre Equivocado S.A.")
    old = mailer.last_code()

    answer(service, company="Comercial Andina S.A.")  # moments later: nothing is sent
    assert len(mailer.sent) == 1 and repo.accounts[first.id].confirmation == first.confirmation
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    answer(service, company="Comercial Andina S.A.")

    new = mailer.last_code()
    assert new != old and "Comercial Andina S.A." in mailer.sent[-1].text
    assert repo.accounts[first.id].company_name == "Comercial Andina S.A." and len(repo.accounts) == 1
    with pytest.raises(Unprocessable):
        service.confirm("ana@example.com", old)
    assert service.confirm("ana@example.com", new).account.company_name == "Comercial Andina S.A."


def test_a_pending_sign_up_whose_email_fails_keeps_the_previous_code_and_name(service, repo, mailer, clock):
    first = sign_up(service)
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    mailer.failure = ConnectionError("SES unreachable")
    with pytest.raises(ServiceUnavailable):
        answer(service, company="Otra S.A.")
    held = repo.accounts[first.id]
    assert (held.company_name, held.confirmation) == (first.company_name, first.confirmation)
    mailer.failure = None
    assert service.confirm("ana@example.com", mailer.last_code()).account.status == "active"


def test_a_sign_up_whose_email_fails_keeps_nothing_and_can_be_retried(service, repo, mailer):
    mailer.failure = ConnectionError("SES unreachable")
    with pytest.raises(ServiceUnavailable) as err:
        sign_up(service)
    assert (err.value.code, err.value.status) == ("email_not_sent", 503)
    assert "nothing was kept" in err.value.message
    assert (repo.accounts, repo.emails, mailer.sent) == ({}, {}, [])

    mailer.failure = None
    account = sign_up(service)

    assert repo.accounts[account.id].confirmation.code_hash == sha256_hex(mailer.last_code())
    assert service.confirm("ana@example.com", mailer.last_code()).account.status == "active"


# Confirmation ------------------------------------------------------------------------------------

def test_confirming_activates_the_account_and_hands_over_a_test_key_once(service, repo, mailer):
    sign_up(service)
    result = service.confirm("Ana@Example.com", mailer.last_code())

    assert result.account.status == "active" and result.account.confirmed_at is not None
    assert re.fullmatch(r"sk_test_[A-Za-z0-9]{40}", result.api_key.key)
    assert result.api_key.environment == "test"
    assert repo.accounts[result.account.id].status == "active"
    stored = repo.keys[sha256_hex(result.api_key.key)]
    assert (stored.account_id, stored.id, stored.status) == (result.account.id, result.api_key.id, "active")
    assert result.api_key.key not in repr(repo.keys)
    assert service.authenticate(result.api_key.key).id == result.api_key.id


def test_a_wrong_code_is_rejected_and_counted(service, repo, mailer):
    account = sign_up(service)
    with pytest.raises(Unprocessable) as err:
        service.confirm("ana@example.com", "x" * 40)
    assert (err.value.code, err.value.path, err.value.status) == ("invalid_confirmation_code", "code", 422)
    assert repo.accounts[account.id].confirmation.attempts == 1
    assert repo.accounts[account.id].status == "pending_confirmation"


def test_after_the_wrong_code_limit_even_the_right_code_is_refused(service, repo, mailer):
    account = sign_up(service)
    code = mailer.last_code()
    for _ in range(SETTINGS.confirmation_max_attempts):
        with pytest.raises(Unprocessable):
            service.confirm("ana@example.com", "wrong")
    with pytest.raises(TooManyRequests) as err:
        service.confirm("ana@example.com", code)
    assert (err.value.code, err.value.status) == ("too_many_attempts", 429)
    assert repo.accounts[account.id].status == "pending_confirmation"
    assert repo.keys == {}


def test_a_new_code_after_the_limit_works_again(service, mailer, clock):
    sign_up(service)
    for _ in range(SETTINGS.confirmation_max_attempts):
        with pytest.raises(Unprocessable):
            service.confirm("ana@example.com", "wrong")
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    service.resend_confirmation("ana@example.com")
    assert service.confirm("ana@example.com", mailer.last_code()).account.status == "active"


def test_an_expired_code_is_gone(service, repo, mailer, clock):
    account = sign_up(service)
    clock.advance(SETTINGS.confirmation_ttl_seconds)
    with pytest.raises(Gone) as err:
        service.confirm("ana@example.com", mailer.last_code())
    assert (err.value.code, err.value.status) == ("confirmation_code_expired", 410)
    assert repo.accounts[account.id].status == "pending_confirmation"


def test_a_wrong_code_for_an_expired_confirmation_says_only_that_it_is_wrong(service, mailer, clock):
    sign_up(service)
    clock.advance(SETTINGS.confirmation_ttl_seconds + 1)
    with pytest.raises(Unprocessable) as err:
        service.confirm("ana@example.com", "wrong")
    assert err.value.code == "invalid_confirmation_code"


def test_a_reused_code_is_already_confirmed(service, mailer):
    sign_up(service)
    code = mailer.last_code()
    service.confirm("ana@example.com", code)
    with pytest.raises(Conflict) as err:
        service.confirm("ana@example.com", code)
    assert (err.value.code, err.value.status) == ("already_confirmed", 409)
    with pytest.raises(Unprocessable):
        service.confirm("ana@example.com", "some other code")


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_code(service, mailer):
    sign_up(service)
    with pytest.raises(Unprocessable) as wrong:
        service.confirm("ana@example.com", "wrong")
    with pytest.raises(Unprocessable) as unknown:
        service.confirm("nobody@example.com", "wrong")
    assert unknown.value.to_dict() == wrong.value.to_dict()


# Re-sending the code -----------------------------------------------------------------------------

def test_resending_replaces_the_code_and_resets_the_attempts(service, repo, mailer, clock):
    account = sign_up(service)
    old = mailer.last_code()
    with pytest.raises(Unprocessable):
        service.confirm("ana@example.com", "wrong")
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)

    service.resend_confirmation("ANA@example.com")

    new = mailer.last_code()
    assert new != old and len(mailer.sent) == 2
    pending = repo.accounts[account.id].confirmation
    assert (pending.code_hash, pending.attempts, pending.sent_at) == (sha256_hex(new), 0, clock.now)
    with pytest.raises(Unprocessable):
        service.confirm("ana@example.com", old)
    assert service.confirm("ana@example.com", new).account.status == "active"


def test_resending_too_soon_sends_nothing_and_says_nothing(service, repo, mailer, clock):
    sign_up(service)
    before = repo.get_account(repo.find_account_id("ana@example.com")).confirmation
    clock.advance(SETTINGS.confirmation_resend_interval_seconds - 1)
    assert service.resend_confirmation("ana@example.com") is None
    assert len(mailer.sent) == 1
    assert repo.get_account(repo.find_account_id("ana@example.com")).confirmation == before


def test_a_resend_whose_email_fails_keeps_the_previous_code_and_can_be_retried_at_once(service, repo, mailer,
                                                                                     clock):
    account = sign_up(service)
    old = mailer.last_code()
    with pytest.raises(Unprocessable):
        service.confirm("ana@example.com", "wrong")
    before = repo.accounts[account.id].confirmation
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    mailer.failure = ConnectionError("SES unreachable")

    with pytest.raises(ServiceUnavailable) as err:
        service.resend_confirmation("ana@example.com")

    assert (err.value.code, err.value.status) == ("email_not_sent", 503)
    assert repo.accounts[account.id].confirmation == before  # same code, attempts and send time
    mailer.failure = None
    service.resend_confirmation("ana@example.com")  # no wait: the failed mail did not count
    new = mailer.last_code()
    assert new != old and len(mailer.sent) == 2
    assert service.confirm("ana@example.com", new).account.status == "active"


def test_the_previous_code_still_works_after_a_failed_resend(service, mailer, clock):
    sign_up(service)
    clock.advance(SETTINGS.confirmation_resend_interval_seconds)
    mailer.failure = ConnectionError("SES unreachable")
    with pytest.raises(ServiceUnavailable):
        service.resend_confirmation("ana@example.com")
    mailer.failure = None
    assert service.confirm("ana@example.com", mailer.last_code()).account.status == "active"


def test_resending_for_unknown_or_active_accounts_sends_nothing(service, mailer, clock):
    active_account(service, mailer)
    clock.advance(3600)
    service.resend_confirmation("nobody@example.com")
    service.resend_confirmation("ana@example.com")
    assert len(mailer.sent) == 1


# API keys ---------------------------------------------------------------------------------------

def test_a_key_is_created_and_listed_without_secrets(service, mailer, clock):
    account_id, test_key = active_account(service, mailer)
    clock.advance(5)
    new = service.create_key(account_id, "test", CreateApiKeyRequest(name="Web store"))

    assert re.fullmatch(r"sk_test_[A-Za-z0-9]{40}", new.key) and new.name == "Web store"
    assert new.environment == "test"  # the caller's environment by default
    listed = service.list_keys(account_id, "test")
    assert [k.id for k in listed][0] == new.id  # newest first
    views = [ApiKeyView.of(k).model_dump_json() for k in listed]
    hints = [ApiKeyView.of(k).hint for k in listed]
    assert hints == [f"sk_test_…{new.key[-4:]}", f"sk_test_…{test_key[-4:]}"]
    for secret in (new.key, test_key, sha256_hex(new.key), sha256_hex(test_key)):
        assert not any(secret in v for v in views)
    assert service.authenticate(new.key).environment == "test"


def test_a_test_key_cannot_create_a_live_key(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    before = dict(repo.keys)

    with pytest.raises(Forbidden) as err:
        service.create_key(account_id, "test", CreateApiKeyRequest(environment="live"))

    assert (err.value.code, err.value.status, err.value.path) == ("environment_mismatch", 403, "environment")
    assert "live-activation" in err.value.message
    assert repo.keys == before


def test_a_live_key_creates_live_keys_but_not_test_keys(service, mailer):
    account_id, _, live = live_account(service, mailer)

    new = service.create_key(account_id, "live", CreateApiKeyRequest(name="ERP"))

    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", new.key)
    assert service.authenticate(new.key).environment == "live"
    with pytest.raises(Forbidden) as err:
        service.create_key(account_id, "live", CreateApiKeyRequest(environment="test"))
    assert err.value.code == "environment_mismatch"
    assert {k.id for k in service.list_keys(account_id, "live")} == {live.id, new.id}


def test_each_environment_lists_and_manages_only_its_own_keys(service, repo, mailer):
    account_id, test_key, live = live_account(service, mailer)
    test_id = service.authenticate(test_key).id

    assert [k.id for k in service.list_keys(account_id, "test")] == [test_id]
    assert [k.id for k in service.list_keys(account_id, "live")] == [live.id]
    for environment, other in (("test", live.id), ("live", test_id)):
        for action in (service.revoke_key, service.rotate_key):
            with pytest.raises(NotFound) as err:
                action(account_id, environment, other)
            assert (err.value.code, err.value.status) == ("api_key_not_found", 404)
    assert {k.status for k in repo.keys.values()} == {"active"} and len(repo.keys) == 2


def test_a_revoked_key_is_refused_by_the_key_check(service, mailer, clock):
    account_id, key = active_account(service, mailer)
    key_id = service.authenticate(key).id
    service.create_key(account_id, "test", CreateApiKeyRequest())
    clock.advance(1)

    revoked = service.revoke_key(account_id, "test", key_id)

    assert (revoked.status, revoked.revoked_at) == ("revoked", clock.now)
    with pytest.raises(Forbidden) as err:
        service.authenticate(key)
    assert (err.value.code, err.value.status) == ("api_key_revoked", 403)
    assert service.revoke_key(account_id, "test", key_id).revoked_at == clock.now  # again changes nothing


def test_rotating_revokes_the_old_key_and_keeps_environment_and_name(service, mailer):
    account_id, _, live = live_account(service, mailer, name="ERP")

    new = service.rotate_key(account_id, "live", live.id)

    assert (new.environment, new.name) == ("live", "ERP") and new.key != live.key and new.id != live.id
    assert service.authenticate(new.key).id == new.id
    with pytest.raises(Forbidden):
        service.authenticate(live.key)
    with pytest.raises(Conflict) as err:
        service.rotate_key(account_id, "live", live.id)
    assert err.value.code == "api_key_revoked"


def test_the_last_active_key_of_an_environment_cannot_be_revoked_but_can_be_rotated(service, mailer):
    account_id, key, live = live_account(service, mailer)
    key_id = service.authenticate(key).id

    for environment, last in (("test", key_id), ("live", live.id)):
        with pytest.raises(Conflict) as err:
            service.revoke_key(account_id, environment, last)
        assert (err.value.code, err.value.status, err.value.path) == ("last_active_key", 409, "key_id")
        assert f"last active {environment} API key" in err.value.message
    assert service.authenticate(key).status == "active"
    rotated = service.rotate_key(account_id, "test", key_id)
    with pytest.raises(Conflict) as err:
        service.revoke_key(account_id, "test", rotated.id)
    assert err.value.code == "last_active_key"
    spare = service.create_key(account_id, "test", CreateApiKeyRequest())
    assert service.revoke_key(account_id, "test", rotated.id).status == "revoked"
    assert [k.id for k in service.list_keys(account_id, "test") if k.status == "active"] == [spare.id]


class RacingRepo(FakeRepo):
    """Revokes the spare just before the first revocation lands, as a concurrent request could."""

    def revoke_key(self, key, at, spare=None):
        if spare is not None and not getattr(self, "raced", False):
            self.raced = True
            super().revoke_key(spare, at)
        return super().revoke_key(key, at, spare)


@pytest.mark.parametrize("extra_keys,outcome", [(1, "last_active_key"), (2, "revoked")])
def test_a_spare_revoked_meanwhile_does_not_lock_the_account_out(mailer, clock, extra_keys, outcome):
    service = AccountService(RacingRepo(), mailer, clock=clock, settings=SETTINGS)
    account_id, key = active_account(service, mailer)
    for _ in range(extra_keys):
        clock.advance(1)
        service.create_key(account_id, "test", CreateApiKeyRequest())
    key_id = service.authenticate(key).id

    if outcome == "revoked":
        assert service.revoke_key(account_id, "test", key_id).status == "revoked"
    else:
        with pytest.raises(Conflict) as err:
            service.revoke_key(account_id, "test", key_id)
        assert err.value.code == outcome
    assert [k.status for k in service.list_keys(account_id, "test")].count("active") == 1


def test_another_accounts_keys_are_not_found(service, mailer):
    a_id, _ = active_account(service, mailer, "a@example.com")
    b_id, b_key = active_account(service, mailer, "b@example.com")
    b_key_id = service.authenticate(b_key).id

    for action in (service.revoke_key, service.rotate_key):
        with pytest.raises(NotFound) as err:
            action(a_id, "test", b_key_id)
        assert (err.value.code, err.value.status) == ("api_key_not_found", 404)
    assert b_key_id not in [k.id for k in service.list_keys(a_id, "test")]
    assert service.authenticate(b_key).status == "active"


@pytest.mark.parametrize("key_id", ["", "nope", "key_" + "a" * 2000, "KEY_ABC", "key_abc#META"])
def test_malformed_key_ids_are_not_found(service, mailer, key_id):
    account_id, _ = active_account(service, mailer)
    with pytest.raises(NotFound):
        service.revoke_key(account_id, "test", key_id)


def test_a_pending_account_cannot_manage_keys(service):
    account = sign_up(service)
    with pytest.raises(Forbidden) as err:
        service.create_key(account.id, "test", CreateApiKeyRequest(environment="test"))
    assert err.value.code == "account_inactive"


# Live activation -------------------------------------------------------------------------------

def test_the_first_live_key_needs_the_code_emailed_to_the_owner(service, repo, mailer, clock):
    account_id, test_key = active_account(service, mailer)

    sent = service.request_live_activation(account_id)

    mail = mailer.sent[-1]
    assert (mail.to, sent.sent_to) == ("ana@example.com", "ana@example.com")
    assert "live" in mail.subject.lower() and "/v1/accounts/live-activation/confirm" in mail.text
    assert sent.expires_at == clock.now + timedelta(seconds=SETTINGS.live_activation_ttl_seconds)
    code = mailer.last_code()
    assert repo.accounts[account_id].live_activation.code_hash == sha256_hex(code)
    assert code not in repr(repo.accounts) and code not in sent.model_dump_json()

    live = service.confirm_live_activation(account_id, code, "Web store")

    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", live.key) and (live.environment, live.name) == (
        "live", "Web store")
    assert service.authenticate(live.key).environment == "live"
    account = repo.accounts[account_id]
    assert (account.live_enabled_at, account.live_activation) == (clock.now, None)
    assert service.get_account(account_id).live_enabled_at == clock.now
    assert service.authenticate(test_key).environment == "test"  # test keys keep working


def test_a_wrong_live_code_mints_nothing_and_the_attempts_are_limited(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    service.request_live_activation(account_id)
    code = mailer.last_code()
    for attempt in range(1, SETTINGS.confirmation_max_attempts + 1):
        with pytest.raises(Unprocessable) as err:
            service.confirm_live_activation(account_id, "W" * 40)
        assert (err.value.code, err.value.path) == ("invalid_confirmation_code", "code")
        assert repo.accounts[account_id].live_activation.attempts == attempt

    with pytest.raises(TooManyRequests) as err:
        service.confirm_live_activation(account_id, code)

    assert err.value.code == "too_many_attempts"
    assert [k.environment for k in repo.keys.values()] == ["test"]
    assert repo.accounts[account_id].live_enabled_at is None


def test_confirming_without_a_request_or_after_expiry_is_refused(service, repo, mailer, clock):
    account_id, _ = active_account(service, mailer)
    with pytest.raises(Unprocessable) as err:
        service.confirm_live_activation(account_id, "W" * 40)
    assert err.value.code == "invalid_confirmation_code"
    service.request_live_activation(account_id)
    clock.advance(SETTINGS.live_activation_ttl_seconds)
    with pytest.raises(Gone) as err:
        service.confirm_live_activation(account_id, mailer.last_code())
    assert (err.value.code, err.value.status) == ("confirmation_code_expired", 410)
    assert [k.environment for k in repo.keys.values()] == ["test"]


def test_a_new_live_request_replaces_the_code_and_waits_the_resend_interval(service, mailer, clock):
    account_id, _ = active_account(service, mailer)
    service.request_live_activation(account_id)
    first = mailer.last_code()
    clock.advance(SETTINGS.confirmation_resend_interval_seconds - 10)

    with pytest.raises(TooManyRequests) as err:
        service.request_live_activation(account_id)

    assert (err.value.code, err.value.retry_after) == ("too_many_requests", 10)
    assert err.value.headers() == {"Retry-After": "10"}
    clock.advance(10)
    service.request_live_activation(account_id)
    with pytest.raises(Unprocessable):
        service.confirm_live_activation(account_id, first)
    assert service.confirm_live_activation(account_id, mailer.last_code()).environment == "live"


def test_a_live_request_whose_email_fails_keeps_the_previous_state(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    mailer.failure = ConnectionError("SES unreachable")
    with pytest.raises(ServiceUnavailable) as err:
        service.request_live_activation(account_id)
    assert err.value.code == "email_not_sent"
    assert repo.accounts[account_id].live_activation is None
    mailer.failure = None
    service.request_live_activation(account_id)  # at once: the failed mail did not count
    assert service.confirm_live_activation(account_id, mailer.last_code()).environment == "live"


def test_a_live_account_cannot_be_activated_again(service, repo, mailer):
    account_id, _, _ = live_account(service, mailer)
    sent = len(mailer.sent)
    for action in (lambda: service.request_live_activation(account_id),
                   lambda: service.confirm_live_activation(account_id, "W" * 40)):
        with pytest.raises(Conflict) as err:
            action()
        assert (err.value.code, err.value.status) == ("live_already_enabled", 409)
    assert len(mailer.sent) == sent


def test_issuers_and_certificates_change_with_test_keys_only_until_the_account_is_live(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    service.check_shared_change(account_id, "test")  # setting up: allowed
    service.request_live_activation(account_id)
    service.check_shared_change(account_id, "test")  # asked, not confirmed: still allowed
    service.confirm_live_activation(account_id, mailer.last_code())

    with pytest.raises(Forbidden) as err:
        service.check_shared_change(account_id, "test")

    assert (err.value.code, err.value.status) == ("live_key_required", 403)
    service.check_shared_change(account_id, "live")


def test_an_account_with_a_live_key_from_before_the_activation_counts_as_live(service, repo, mailer):
    account_id, _ = active_account(service, mailer)
    _, older = service._new_key(account_id, "live", "ERP", datetime(2025, 1, 1, tzinfo=UTC))
    repo.add_key(older)

    with pytest.raises(Forbidden):
        service.check_shared_change(account_id, "test")
    with pytest.raises(Conflict):
        service.request_live_activation(account_id)


# The key check ---------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["", "sk_test_", "sk_test_short", "sk_prod_" + "a" * 40,
                                   "pk_test_" + "a" * 40, "sk_test_" + "a" * 41, "sk_test_" + "-" * 40])
def test_malformed_keys_are_unauthorized(service, token):
    with pytest.raises(Unauthorized):
        service.authenticate(token)


def test_an_unknown_key_is_unauthorized(service, mailer):
    active_account(service, mailer)
    with pytest.raises(Unauthorized):
        service.authenticate("sk_test_" + "A" * 40)


def test_a_key_of_an_inactive_account_is_forbidden(service, repo, mailer):
    account_id, key = active_account(service, mailer)
    repo.accounts[account_id] = replace(repo.accounts[account_id], status="suspended")
    with pytest.raises(Forbidden) as err:
        service.authenticate(key)
    assert err.value.code == "account_inactive"


# Seeding (local stack) -----------------------------------------------------------------------

def test_seeding_creates_an_active_account_and_is_idempotent_per_email(service, repo, mailer):
    account, key = service.seed_account("Demo S.A.", "demo@example.com")
    again, other_key = service.seed_account("Demo S.A.", "DEMO@example.com")

    assert account["status"] == "active" and again["id"] == account["id"]
    assert key != other_key
    assert {service.authenticate(k).account_id for k in (key, other_key)} == {account["id"]}
    assert len(repo.accounts) == 1 and mailer.sent == []


def test_seeding_refuses_an_unconfirmed_account(service):
    sign_up(service, "demo@example.com")
    with pytest.raises(Conflict):
        service.seed_account("Demo S.A.", "demo@example.com")
