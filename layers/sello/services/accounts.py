"""Accounts and access: sign-up with an emailed confirmation code, API keys (create, list, revoke,
rotate) and the key check the authorizer runs on every request.

Codes and keys are random, handed out once and stored only as sha256 hashes. Every lookup of a
key or an account's items is scoped to the caller's account, so another account's things are
simply not found."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger

from sello.adapters.accounts_repo import DynamoAccountsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.mailer import Mail, Mailer, SesMailer
from sello.adapters.usage_keys import ApiGatewayUsageKeys
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
from sello.ids import is_id, iso, new_id, random_token, sha256_hex, utcnow
from sello.models.accounts import (
    Account,
    AccountView,
    ApiKey,
    Confirmation,
    ConfirmationView,
    CreateApiKeyRequest,
    Environment,
    NewApiKeyView,
    SignUpRequest,
)
from sello.settings import Settings, get_settings

logger = Logger(service="sello")

CODE_LENGTH = 40
KEY_RANDOM_LENGTH = 40
KEY_PATTERN = re.compile(rf"sk_(test|live)_[A-Za-z0-9]{{{KEY_RANDOM_LENGTH}}}")
DEFAULT_KEY_NAME = "Default"
REVOKE_TRIES = 3


class AccountsRepo(Protocol):
    """Storage of accounts and keys. Methods returning bool report whether a conditional write held."""

    def create_account(self, account: Account, key: ApiKey | None = None) -> bool: ...
    def find_account_id(self, email: str) -> str | None: ...  # emails match regardless of case
    def get_account(self, account_id: str) -> Account | None: ...
    def count_wrong_code(self, account_id: str, code_hash: str, max_attempts: int) -> bool: ...
    def replace_code(self, account_id: str, confirmation: Confirmation, current: Confirmation) -> bool: ...
    def discard_pending(self, account: Account) -> bool: ...
    def activate(self, account_id: str, code_hash: str, max_attempts: int, confirmed_at: datetime,
                 key: ApiKey) -> bool: ...
    def add_key(self, key: ApiKey) -> None: ...
    def get_key(self, account_id: str, key_id: str) -> ApiKey | None: ...
    def list_keys(self, account_id: str) -> list[ApiKey]: ...
    def key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    def revoke_key(self, key: ApiKey, at: datetime, spare: ApiKey) -> bool: ...  # while spare is active
    def rotate_key(self, old: ApiKey, new: ApiKey, at: datetime) -> bool: ...


class UsageKeys(Protocol):
    """API Gateway's per-account key for usage plans (sello.plans; adapters.usage_keys)."""

    def provision(self, account_id: str, plan: str) -> None: ...  # idempotent


def _email_not_sent() -> ServiceUnavailable:
    return ServiceUnavailable("We could not send the confirmation email; nothing was kept, try again.",
                              code="email_not_sent")


def _last_active_key() -> Conflict:
    return Conflict("This is the account's last active API key. Create another key first.",
                    code="last_active_key", path="key_id")


def _invalid_code() -> Unprocessable:
    return Unprocessable("The confirmation code is not valid for this email.",
                         code="invalid_confirmation_code", path="code")


class AccountService:
    def __init__(self, repo: AccountsRepo, mailer: Mailer, clock: Callable[[], datetime] = utcnow,
                 settings: Settings | None = None, usage_keys: UsageKeys | None = None):
        self.repo = repo
        self.mailer = mailer
        self.usage_keys = usage_keys
        self.clock = clock
        self.settings = settings or get_settings()

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    # Sign-up and confirmation ----------------------------------------------------------------

    def sign_up(self, request: SignUpRequest) -> AccountView:
        now = self._now()
        code, confirmation = self._new_code(now)
        account = Account(id=new_id("acct"), company_name=request.company_name, email=request.email,
                          status="pending_confirmation", created_at=now, confirmation=confirmation)
        if not self.repo.create_account(account):
            raise Conflict("An account with this email already exists.", code="email_taken", path="email")
        if not self._send_code(account, code, confirmation):
            if not self.repo.discard_pending(account):
                logger.error("unconfirmable account kept", account_id=account.id)
            raise _email_not_sent()
        logger.info("account created", account_id=account.id)
        return AccountView.of(account)

    def _by_email(self, email: str) -> Account | None:
        account_id = self.repo.find_account_id(email)
        return self.repo.get_account(account_id) if account_id else None

    def confirm(self, email: str, code: str) -> ConfirmationView:
        account = self._by_email(email)
        if account is None:
            raise _invalid_code()
        max_attempts = self.settings.confirmation_max_attempts
        pending = account.confirmation
        matches = pending is not None and hmac.compare_digest(pending.code_hash, sha256_hex(code))
        if account.status != "pending_confirmation":
            if matches:
                raise Conflict("This account is already confirmed.", code="already_confirmed")
            raise _invalid_code()
        if pending is None or pending.attempts >= max_attempts:
            raise TooManyRequests("Too many wrong codes. Request a new code.", code="too_many_attempts")
        if not matches:
            self.repo.count_wrong_code(account.id, pending.code_hash, max_attempts)
            raise _invalid_code()
        now = self._now()
        if now >= pending.expires_at:
            raise Gone("The confirmation code has expired. Request a new one.",
                       code="confirmation_code_expired", path="code")
        self._provision_usage_key(account)
        plaintext, key = self._new_key(account.id, "test", DEFAULT_KEY_NAME, now)
        if not self.repo.activate(account.id, pending.code_hash, max_attempts, now, key):
            current = self.repo.get_account(account.id)
            if current is not None and current.status == "active":
                raise Conflict("This account is already confirmed.", code="already_confirmed")
            raise _invalid_code()
        logger.info("account confirmed", account_id=account.id, key_id=key.id)
        activated = replace(account, status="active", confirmed_at=now)
        return ConfirmationView(account=AccountView.of(activated), api_key=_new_key_view(plaintext, key))

    def resend_confirmation(self, email: str) -> None:
        """Sends a new code to a pending account. Says nothing about whether the email exists."""
        account = self._by_email(email)
        if account is None or account.status != "pending_confirmation" or account.confirmation is None:
            return
        now = self._now()
        previous = account.confirmation
        wait = timedelta(seconds=self.settings.confirmation_resend_interval_seconds)
        too_soon = TooManyRequests("A code was sent moments ago. Wait a little before asking again.")
        if now < previous.sent_at + wait:
            raise too_soon
        code, confirmation = self._new_code(now)
        if not self.repo.replace_code(account.id, confirmation, previous):
            raise too_soon
        if not self._send_code(account, code, confirmation):
            # The previous code, its attempts and its send time come back: it still works, and
            # asking again is not rate limited by a mail that never left.
            self.repo.replace_code(account.id, previous, confirmation)
            raise _email_not_sent()
        logger.info("confirmation code re-sent", account_id=account.id)

    def _new_code(self, now: datetime) -> tuple[str, Confirmation]:
        code = random_token(CODE_LENGTH)
        expires = now + timedelta(seconds=self.settings.confirmation_ttl_seconds)
        return code, Confirmation(code_hash=sha256_hex(code), expires_at=expires, sent_at=now)

    def _send_code(self, account: Account, code: str, confirmation: Confirmation) -> bool:
        """Mails the code; False when the mail could not be sent (SES refused it or failed)."""
        text = (
            f"Hello,\n\nUse this code to confirm the Sello account of {account.company_name}:\n\n"
            f"    {code}\n\n"
            f"It expires at {iso(confirmation.expires_at)}. Send it with POST /v1/accounts/confirm together "
            "with this email address.\n\nIf you did not sign up for Sello, ignore this message.\n"
        )
        try:
            self.mailer.send(Mail(to=account.email, subject="Confirm your Sello account", text=text))
        except Exception as exc:  # only the type is logged: an error's text could quote the mail
            logger.warning("confirmation email not sent", account_id=account.id, error=type(exc).__name__)
            return False
        return True

    # The caller's account -----------------------------------------------------------------------

    def get_account(self, account_id: str) -> AccountView:
        account = self.repo.get_account(account_id)
        if account is None:
            raise NotFound("No such account.", code="account_not_found")
        return AccountView.of(account)

    def _require_active(self, account_id: str) -> Account:
        account = self.repo.get_account(account_id)
        if account is None:
            raise NotFound("No such account.", code="account_not_found")
        if account.status != "active":
            raise Forbidden("The account is not active.", code="account_inactive")
        return account

    def _provision_usage_key(self, account: Account) -> None:
        """The account's API Gateway key in its plan's usage plan, before an API key that needs it is
        handed out (without it API Gateway refuses the account's requests). Already there: nothing
        changes; API Gateway failing: 503 and nothing is kept."""
        if self.usage_keys is None:
            return
        try:
            self.usage_keys.provision(account.id, account.plan)
        except Exception as exc:  # only the type is logged
            logger.error("usage key not provisioned", account_id=account.id, plan=account.plan,
                         error=type(exc).__name__)
            raise ServiceUnavailable("The API key could not be set up; nothing was changed, try again.",
                                     code="api_key_setup_failed") from None

    # API keys --------------------------------------------------------------------------------

    def list_keys(self, account_id: str) -> list[ApiKey]:
        self._require_active(account_id)
        return sorted(self.repo.list_keys(account_id), key=lambda k: (k.created_at, k.id), reverse=True)

    def create_key(self, account_id: str, request: CreateApiKeyRequest) -> NewApiKeyView:
        self._provision_usage_key(self._require_active(account_id))
        plaintext, key = self._new_key(account_id, request.environment, request.name, self._now())
        self.repo.add_key(key)
        logger.info("api key created", account_id=account_id, key_id=key.id)
        return _new_key_view(plaintext, key)

    def revoke_key(self, account_id: str, key_id: str) -> ApiKey:
        """Revokes a key of this account; revoking a revoked key changes nothing. The last active
        key cannot be revoked (the account would be locked out): the write only holds while another
        key, the spare, is still active, and is retried when a concurrent change broke it."""
        self._require_active(account_id)
        now = self._now()
        for _ in range(REVOKE_TRIES):
            key = self._own_key(account_id, key_id)
            if key.status == "revoked":
                return key
            spares = [k for k in self.repo.list_keys(account_id) if k.status == "active" and k.id != key.id]
            if not spares:
                raise _last_active_key()
            if self.repo.revoke_key(key, now, spares[0]):
                logger.info("api key revoked", account_id=account_id, key_id=key.id)
                return replace(key, status="revoked", revoked_at=now)
        raise Conflict("The keys of this account changed meanwhile; try again.", code="concurrent_change")

    def rotate_key(self, account_id: str, key_id: str) -> NewApiKeyView:
        """A new key with the same environment and name; the old one is revoked in the same write."""
        account = self._require_active(account_id)
        old = self._own_key(account_id, key_id)
        revoked = Conflict("This API key is revoked; create a new key instead.", code="api_key_revoked",
                           path="key_id")
        if old.status != "active":
            raise revoked
        self._provision_usage_key(account)
        now = self._now()
        plaintext, new = self._new_key(account_id, old.environment, old.name, now)
        if not self.repo.rotate_key(old, new, now):
            raise revoked
        logger.info("api key rotated", account_id=account_id, key_id=new.id, replaced_key_id=old.id)
        return _new_key_view(plaintext, new)

    def _own_key(self, account_id: str, key_id: str) -> ApiKey:
        key = self.repo.get_key(account_id, key_id) if is_id(key_id, "key") else None
        if key is None:
            raise NotFound("No API key with this id.", code="api_key_not_found", path="key_id")
        return key

    def authenticate(self, token: str) -> ApiKey:
        """The key behind a bearer token. Unauthorized when the token is not a known key; Forbidden
        when the key is revoked or its account is not active."""
        if not KEY_PATTERN.fullmatch(token):
            raise Unauthorized("The API key is malformed.", code="invalid_api_key")
        key = self.repo.key_by_hash(sha256_hex(token))
        if key is None:
            raise Unauthorized("The API key is not valid.", code="invalid_api_key")
        if key.status != "active":
            raise Forbidden("This API key has been revoked.", code="api_key_revoked")
        account = self.repo.get_account(key.account_id)
        if account is None or account.status != "active":
            raise Forbidden("The account of this API key is not active.", code="account_inactive")
        return key

    @staticmethod
    def _new_key(account_id: str, environment: Environment, name: str | None,
                 now: datetime) -> tuple[str, ApiKey]:
        plaintext = f"sk_{environment}_{random_token(KEY_RANDOM_LENGTH)}"
        key = ApiKey(id=new_id("key"), account_id=account_id, name=name, environment=environment,
                     key_hash=sha256_hex(plaintext), hint=f"sk_{environment}_…{plaintext[-4:]}",
                     status="active", created_at=now)
        return plaintext, key

    # Local stack ---------------------------------------------------------------------------------

    def seed_account(self, company_name: str, email: str) -> tuple[dict, str]:
        """An active account (created without confirmation when missing) and a fresh test key."""
        now = self._now()
        account = self._by_email(email)
        if account is None:
            account = Account(id=new_id("acct"), company_name=company_name, email=email.strip(),
                              status="active", created_at=now, confirmed_at=now)
            self._provision_usage_key(account)
            plaintext, key = self._new_key(account.id, "test", DEFAULT_KEY_NAME, now)
            if self.repo.create_account(account, key):
                return AccountView.of(account).model_dump(mode="json"), plaintext
            account = self._by_email(email)  # created concurrently
        if account is None or account.status != "active":
            raise Conflict("An account with this email exists and is not confirmed.", code="account_inactive")
        self._provision_usage_key(account)
        plaintext, key = self._new_key(account.id, "test", DEFAULT_KEY_NAME, now)
        self.repo.add_key(key)
        return AccountView.of(account).model_dump(mode="json"), plaintext


def _new_key_view(plaintext: str, key: ApiKey) -> NewApiKeyView:
    return NewApiKeyView(id=key.id, key=plaintext, name=key.name, environment=key.environment,
                         created_at=key.created_at)


def default_service() -> AccountService:
    """The service wired to the configured DynamoDB table, SES and (when configured) API Gateway's
    usage plans."""
    settings = get_settings()
    usage_keys = ApiGatewayUsageKeys(settings.usage_plans) if settings.usage_plans else None
    return AccountService(DynamoAccountsRepo(DynamoStore(settings.table_name)), SesMailer(),
                          settings=settings, usage_keys=usage_keys)


def seed_account(company_name: str, email: str, service: AccountService | None = None) -> tuple[dict, str]:
    """An active account with a ready-to-use test key (idempotent per email: a second call issues
    another key). Returns the account as JSON-ready dict and the plaintext key."""
    return (service or default_service()).seed_account(company_name, email)
