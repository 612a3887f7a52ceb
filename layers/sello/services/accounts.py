"""Accounts and access: sign-up with an emailed confirmation code, API keys (create, list, revoke,
rotate), the account's live activation, and the key check the authorizer runs on every request.

Codes and keys are random, handed out once and stored only as sha256 hashes. Every lookup of a
key or an account's items is scoped to the caller's account, so another account's things are
simply not found.

Test and live keys are kept apart: a key lists, creates, revokes and rotates only keys of its own
environment; a key of the other environment is not found. An account starts with test keys only.
Its first live key needs the owner: a test key asks for it (`request_live_activation`), a code goes
to the account's email, and only that code with a key of the account mints the live key
(`confirm_live_activation`). From then on live keys make further live keys, and issuers and
certificates (which sign the live documents too) can be changed only with a live key
(`check_shared_change`)."""

from __future__ import annotations

import hmac
import math
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
from sello.i18n import Translator, _l, translator
from sello.ids import is_id, new_id, random_token, sha256_hex, utcnow
from sello.models.accounts import (
    Account,
    AccountView,
    ApiKey,
    Confirmation,
    ConfirmationView,
    CreateApiKeyRequest,
    Environment,
    LiveActivationView,
    NewApiKeyView,
    SignUpAccepted,
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
    # kind: "confirmation" (sign-up) or "live" (live activation)
    def claim_attempt(self, account_id: str, kind: str, code_hash: str, max_attempts: int) -> bool: ...
    def replace_code(self, account_id: str, confirmation: Confirmation, current: Confirmation,
                     company_name: str | None = None, language: str | None = None) -> bool: ...
    def set_language(self, account_id: str, language: str) -> bool: ...
    # Sets the time of the last sign-up notice to `at` if it is still `current`.
    def claim_signup_notice(self, account_id: str, at: datetime | None, current: datetime | None) -> bool: ...
    def discard_pending(self, account: Account) -> bool: ...
    def activate(self, account_id: str, code_hash: str, max_attempts: int, confirmed_at: datetime,
                 key: ApiKey) -> bool: ...
    def replace_live_code(self, account_id: str, new: Confirmation | None,
                          current: Confirmation | None) -> bool: ...
    def enable_live(self, account_id: str, code_hash: str, max_attempts: int, at: datetime,
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
    return ServiceUnavailable(_l("We could not send the confirmation email; nothing was kept, try again."),
                              code="email_not_sent")


def _last_active_key(environment: Environment) -> Conflict:
    return Conflict(_l("This is the account's last active {environment} API key. Create another key first.",
                       environment=environment), code="last_active_key", path="key_id")


def _invalid_code(message=None) -> Unprocessable:
    return Unprocessable(message or _l("The confirmation code is not valid for this email."),
                         code="invalid_confirmation_code", path="code")


def _too_many_attempts() -> TooManyRequests:
    return TooManyRequests(_l("Too many wrong codes. Request a new code."), code="too_many_attempts")


def _live_already_enabled() -> Conflict:
    return Conflict(_l("This account already has live API keys; create more with a live key."),
                    code="live_already_enabled")


def _too_soon(seconds: float) -> TooManyRequests:
    return TooManyRequests(_l("A code was sent moments ago. Wait a little before asking again."),
                           retry_after=max(1, math.ceil(seconds)))


def _expires(t: Translator, at: datetime) -> str:
    """When a code stops working, as the reader writes dates (UTC)."""
    return t.datetime(at, "long", tz="UTC")


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

    def sign_up(self, request: SignUpRequest) -> SignUpAccepted:
        """Answers the same whatever the email's state, so that sign-up cannot tell who has an
        account: a new email gets an account in pending_confirmation and its code; an account still
        pending gets a new code (and the company name of this request), at most once per
        settings.confirmation_resend_interval_seconds; an existing account's owner gets a short
        notice instead, at most as often. Each path reads the email item, writes once and sends one
        email; only an email SES refuses answers differently (503 email_not_sent, nothing changed)."""
        now = self._now()
        account_id = self.repo.find_account_id(request.email)
        if account_id is None:
            code, confirmation = self._new_code(now)
            account = Account(id=new_id("acct"), company_name=request.company_name, email=request.email,
                              status="pending_confirmation", created_at=now, confirmation=confirmation,
                              language=request.language)
            if self.repo.create_account(account):
                if not self._send_code(account, code, confirmation):
                    if not self.repo.discard_pending(account):
                        logger.error("unconfirmable account kept", account_id=account.id)
                    raise _email_not_sent()
                logger.info("account created", account_id=account.id)
                return SignUpAccepted(email=request.email)
            account_id = self.repo.find_account_id(request.email)  # signed up concurrently
        existing = self.repo.get_account(account_id) if account_id else None
        if existing is not None and existing.status == "pending_confirmation":
            self._restart_pending(existing, request.company_name, now, request.language)
        elif existing is not None:
            self._notify_owner(existing, now)
        return SignUpAccepted(email=request.email)

    def _restart_pending(self, account: Account, company_name: str, now: datetime,
                         language: str | None = None) -> None:
        """A sign-up again for a pending account: the latest request's company name and language and a
        new code (the previous one stops working), unless a code went out moments ago."""
        previous = account.confirmation
        wait = timedelta(seconds=self.settings.confirmation_resend_interval_seconds)
        if previous is None or now < previous.sent_at + wait:
            return
        code, confirmation = self._new_code(now)
        if not self.repo.replace_code(account.id, confirmation, previous, company_name=company_name,
                                      language=language):
            return  # another request sent a code just now
        renamed = replace(account, company_name=company_name, confirmation=confirmation,
                          language=language or account.language)
        if not self._send_code(renamed, code, confirmation):
            self.repo.replace_code(account.id, previous, confirmation, company_name=account.company_name,
                                   language=account.language)
            raise _email_not_sent()
        logger.info("pending account signed up again", account_id=account.id)

    def _notify_owner(self, account: Account, now: datetime) -> None:
        """Tells an existing account's owner that someone tried to sign up with the address."""
        interval = self.settings.confirmation_resend_interval_seconds
        previous = account.signup_notice_at
        if previous is not None and now < previous + timedelta(seconds=interval):
            return
        if not self.repo.claim_signup_notice(account.id, now, previous):
            return  # another request sent the notice just now
        t = translator(account.language)
        text = t.gettext(
            "Hello,\n\nSomeone asked to sign up for Sello with this email address. It already belongs to "
            "the Sello account of {company}, and nothing was changed.\n\nIf it was you, you need no new "
            "account: keep using its API keys. If it was not you, you can ignore this message.\n"
        ).format(company=account.company_name)
        try:
            self.mailer.send(Mail(to=account.email, subject=t.gettext("Sign-up attempt with your Sello address"),
                                  text=text))
        except Exception as exc:  # only the type is logged: an error's text could quote the mail
            logger.warning("sign-up notice not sent", account_id=account.id, error=type(exc).__name__)
            self.repo.claim_signup_notice(account.id, previous, now)
            raise _email_not_sent() from None
        logger.info("sign-up attempt for an existing account", account_id=account.id)

    def _by_email(self, email: str) -> Account | None:
        account_id = self.repo.find_account_id(email)
        return self.repo.get_account(account_id) if account_id else None

    def _take_attempt(self, account_id: str, kind: str, pending: Confirmation | None,
                      invalid: Unprocessable) -> Confirmation:
        """Takes one attempt at the pending code before the guess is looked at, so that however many
        guesses arrive at once, at most settings.confirmation_max_attempts are ever compared: 429
        once they are used up."""
        max_attempts = self.settings.confirmation_max_attempts
        if pending is None or pending.attempts >= max_attempts:
            raise _too_many_attempts()
        if not self.repo.claim_attempt(account_id, kind, pending.code_hash, max_attempts):
            current = self.repo.get_account(account_id)
            held = current and (current.confirmation if kind == "confirmation" else current.live_activation)
            if held is not None and held.code_hash == pending.code_hash:
                raise _too_many_attempts()
            raise invalid  # a new code replaced this one meanwhile
        return pending

    def confirm(self, email: str, code: str) -> ConfirmationView:
        account = self._by_email(email)
        if account is None:
            raise _invalid_code()
        max_attempts = self.settings.confirmation_max_attempts
        pending = account.confirmation
        if account.status != "pending_confirmation":
            if pending is not None and hmac.compare_digest(pending.code_hash, sha256_hex(code)):
                raise Conflict(_l("This account is already confirmed."), code="already_confirmed")
            raise _invalid_code()
        pending = self._take_attempt(account.id, "confirmation", pending, _invalid_code())
        if not hmac.compare_digest(pending.code_hash, sha256_hex(code)):
            raise _invalid_code()
        now = self._now()
        if now >= pending.expires_at:
            raise Gone(_l("The confirmation code has expired. Request a new one."),
                       code="confirmation_code_expired", path="code")
        self._provision_usage_key(account)
        plaintext, key = self._new_key(account.id, "test", DEFAULT_KEY_NAME, now)
        if not self.repo.activate(account.id, pending.code_hash, max_attempts, now, key):
            current = self.repo.get_account(account.id)
            if current is not None and current.status == "active":
                raise Conflict(_l("This account is already confirmed."), code="already_confirmed")
            raise _invalid_code()
        logger.info("account confirmed", account_id=account.id, key_id=key.id)
        activated = replace(account, status="active", confirmed_at=now)
        return ConfirmationView(account=AccountView.of(activated), api_key=_new_key_view(plaintext, key))

    def resend_confirmation(self, email: str) -> None:
        """Sends a new code to a pending account, at most once per resend interval. Answers the same
        whether the email is unknown, active, pending or asked for moments ago, so that it cannot tell
        which; only an email SES refuses answers differently (503 email_not_sent)."""
        account = self._by_email(email)
        if account is None or account.status != "pending_confirmation" or account.confirmation is None:
            return
        now = self._now()
        previous = account.confirmation
        interval = self.settings.confirmation_resend_interval_seconds
        due = previous.sent_at + timedelta(seconds=interval)
        if now < due:
            return
        code, confirmation = self._new_code(now)
        if not self.repo.replace_code(account.id, confirmation, previous):
            return  # another request sent a code just now
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
        t = translator(account.language)
        # Translators: keep the code on a line of its own, indented by four spaces.
        text = t.gettext(
            "Hello,\n\nUse this code to confirm the Sello account of {company}:\n\n    {code}\n\n"
            "It expires on {expires}. Send it with POST /v1/accounts/confirm together with this email "
            "address.\n\nIf you did not sign up for Sello, ignore this message.\n"
        ).format(company=account.company_name, code=code, expires=_expires(t, confirmation.expires_at))
        try:
            self.mailer.send(Mail(to=account.email, subject=t.gettext("Confirm your Sello account"), text=text))
        except Exception as exc:  # only the type is logged: an error's text could quote the mail
            logger.warning("confirmation email not sent", account_id=account.id, error=type(exc).__name__)
            return False
        return True

    # The caller's account -----------------------------------------------------------------------

    def get_account(self, account_id: str) -> AccountView:
        account = self.repo.get_account(account_id)
        if account is None:
            raise NotFound(_l("No such account."), code="account_not_found")
        return AccountView.of(account)

    def update_account(self, account_id: str, language: str | None) -> AccountView:
        """Changes what the owner may change of the account: its language."""
        account = self._require_active(account_id)
        if language is not None and language != account.language:
            if not self.repo.set_language(account_id, language):
                raise NotFound(_l("No such account."), code="account_not_found")
            account = replace(account, language=language)
            logger.info("account language changed", account_id=account_id, language=language)
        return AccountView.of(account)

    def _require_active(self, account_id: str) -> Account:
        account = self.repo.get_account(account_id)
        if account is None:
            raise NotFound(_l("No such account."), code="account_not_found")
        if account.status != "active":
            raise Forbidden(_l("The account is not active."), code="account_inactive")
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
            raise ServiceUnavailable(_l("The API key could not be set up; nothing was changed, try again."),
                                     code="api_key_setup_failed") from None

    def _is_live(self, account: Account) -> bool:
        """Whether the account has gone live: its first live key was confirmed, or (accounts older
        than the live activation) it holds an active live key."""
        return account.live_enabled_at is not None or any(
            k.environment == "live" and k.status == "active" for k in self.repo.list_keys(account.id))

    def check_shared_change(self, account_id: str, environment: Environment) -> None:
        """Issuers and certificates serve both environments: a live document is signed with the
        certificate a test key may have uploaded. So once the account is live, changing them takes
        a live key; before, test keys set them up. Raises 403 live_key_required otherwise."""
        if environment == "live":
            return
        account = self.repo.get_account(account_id)  # the authorizer has checked it is active
        if account is not None and self._is_live(account):
            raise Forbidden(_l("This account is live: its issuers and certificates, which sign its live "
                               "documents, can be changed only with a live API key."), code="live_key_required")

    # API keys --------------------------------------------------------------------------------

    def list_keys(self, account_id: str, environment: Environment) -> list[ApiKey]:
        """The account's keys of this environment, newest first."""
        self._require_active(account_id)
        keys = [k for k in self.repo.list_keys(account_id) if k.environment == environment]
        return sorted(keys, key=lambda k: (k.created_at, k.id), reverse=True)

    def create_key(self, account_id: str, environment: Environment,
                   request: CreateApiKeyRequest) -> NewApiKeyView:
        """A new key of the caller's environment (`environment`); asking for the other one is 403
        environment_mismatch. The account's first live key comes from the live activation instead."""
        self._provision_usage_key(self._require_active(account_id))
        wanted = request.environment or environment
        if wanted != environment:
            how = (_l("ask for the account's first live key with POST /v1/accounts/live-activation, or use a "
                      "live key") if wanted == "live" else _l("use a test key"))
            raise Forbidden(_l("A {environment} API key creates {environment} keys only; {how}.",
                               environment=environment, how=how), code="environment_mismatch", path="environment")
        plaintext, key = self._new_key(account_id, environment, request.name, self._now())
        self.repo.add_key(key)
        logger.info("api key created", account_id=account_id, key_id=key.id, environment=environment)
        return _new_key_view(plaintext, key)

    def revoke_key(self, account_id: str, environment: Environment, key_id: str) -> ApiKey:
        """Revokes a key of this account and environment; revoking a revoked key changes nothing. The
        environment's last active key cannot be revoked (it would be locked out): the write only
        holds while another key of the environment, the spare, is still active, and is retried when
        a concurrent change broke it."""
        self._require_active(account_id)
        now = self._now()
        for _ in range(REVOKE_TRIES):
            key = self._own_key(account_id, environment, key_id)
            if key.status == "revoked":
                return key
            spares = [k for k in self.repo.list_keys(account_id)
                      if k.status == "active" and k.environment == environment and k.id != key.id]
            if not spares:
                raise _last_active_key(environment)
            if self.repo.revoke_key(key, now, spares[0]):
                logger.info("api key revoked", account_id=account_id, key_id=key.id)
                return replace(key, status="revoked", revoked_at=now)
        raise Conflict(_l("The keys of this account changed meanwhile; try again."), code="concurrent_change")

    def rotate_key(self, account_id: str, environment: Environment, key_id: str) -> NewApiKeyView:
        """A new key with the same environment and name; the old one is revoked in the same write."""
        account = self._require_active(account_id)
        old = self._own_key(account_id, environment, key_id)
        revoked = Conflict(_l("This API key is revoked; create a new key instead."), code="api_key_revoked",
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

    def _own_key(self, account_id: str, environment: Environment, key_id: str) -> ApiKey:
        """A key of this account and environment; any other is not found."""
        key = self.repo.get_key(account_id, key_id) if is_id(key_id, "key") else None
        if key is None or key.environment != environment:
            raise NotFound(_l("No API key with this id."), code="api_key_not_found", path="key_id")
        return key

    # Live activation ------------------------------------------------------------------------------

    def request_live_activation(self, account_id: str) -> LiveActivationView:
        """Emails the account's owner a code that confirms the account's first live key. Another
        request replaces the code, at most once per settings.confirmation_resend_interval_seconds."""
        account = self._require_active(account_id)
        if self._is_live(account):
            raise _live_already_enabled()
        now = self._now()
        previous = account.live_activation
        if previous is not None:
            due = previous.sent_at + timedelta(seconds=self.settings.confirmation_resend_interval_seconds)
            if now < due:
                raise _too_soon((due - now).total_seconds())
        code = random_token(CODE_LENGTH)
        expires = now + timedelta(seconds=self.settings.live_activation_ttl_seconds)
        pending = Confirmation(code_hash=sha256_hex(code), expires_at=expires, sent_at=now)
        if not self.repo.replace_live_code(account.id, pending, previous):
            raise _too_soon(self.settings.confirmation_resend_interval_seconds)  # another request won
        t = translator(account.language)
        # Translators: keep the code on a line of its own, indented by four spaces; {{id}} stays as it is.
        text = t.gettext(
            "Hello,\n\nA test API key of the Sello account of {company} asked for the account's first live "
            "API key. Live keys issue documents at the tax authority's production service, with fiscal "
            "effect.\n\nIf you asked for it, send this code with POST /v1/accounts/live-activation/confirm:"
            "\n\n    {code}\n\nIt expires on {expires}.\n\nIf you did not ask for it, do not pass the code "
            "on, and rotate the account's test keys (POST /v1/api-keys/{{id}}/rotate): someone else may hold "
            "one.\n"
        ).format(company=account.company_name, code=code, expires=_expires(t, expires))
        try:
            self.mailer.send(Mail(to=account.email, text=text,
                                  subject=t.gettext("Confirm the first live API key of your Sello account")))
        except Exception as exc:  # only the type is logged: an error's text could quote the mail
            logger.warning("live activation email not sent", account_id=account.id, error=type(exc).__name__)
            self.repo.replace_live_code(account.id, previous, pending)
            raise ServiceUnavailable(_l("We could not send the email with the code; try again."),
                                     code="email_not_sent") from None
        logger.info("live activation requested", account_id=account.id)
        return LiveActivationView(sent_to=account.email, expires_at=expires)

    def confirm_live_activation(self, account_id: str, code: str, name: str | None = None) -> NewApiKeyView:
        """The account's first live key, for the code emailed by request_live_activation. Wrong codes
        count against settings.confirmation_max_attempts, as for the sign-up code."""
        account = self._require_active(account_id)
        if self._is_live(account):
            raise _live_already_enabled()
        invalid = _invalid_code(_l("The code is not the live-activation code of this account."))
        if account.live_activation is None:
            raise invalid
        pending = self._take_attempt(account.id, "live", account.live_activation, invalid)
        if not hmac.compare_digest(pending.code_hash, sha256_hex(code)):
            raise invalid
        now = self._now()
        if now >= pending.expires_at:
            raise Gone(_l("The code has expired. Ask for a new one."), code="confirmation_code_expired",
                       path="code")
        self._provision_usage_key(account)
        plaintext, key = self._new_key(account.id, "live", name or DEFAULT_KEY_NAME, now)
        if not self.repo.enable_live(account.id, pending.code_hash, self.settings.confirmation_max_attempts,
                                     now, key):
            current = self.repo.get_account(account.id)
            if current is not None and current.live_enabled_at is not None:
                raise _live_already_enabled()
            raise invalid
        logger.info("account live", account_id=account.id, key_id=key.id)
        return _new_key_view(plaintext, key)

    def authenticate(self, token: str) -> ApiKey:
        """The key behind a bearer token. Unauthorized when the token is not a known key; Forbidden
        when the key is revoked or its account is not active."""
        return self.identify(token)[0]

    def identify(self, token: str) -> tuple[ApiKey, Account]:
        """authenticate, with the key's account (the authorizer passes its language on)."""
        if not KEY_PATTERN.fullmatch(token):
            raise Unauthorized(_l("The API key is malformed."), code="invalid_api_key")
        key = self.repo.key_by_hash(sha256_hex(token))
        if key is None:
            raise Unauthorized(_l("The API key is not valid."), code="invalid_api_key")
        if key.status != "active":
            raise Forbidden(_l("This API key has been revoked."), code="api_key_revoked")
        account = self.repo.get_account(key.account_id)
        if account is None or account.status != "active":
            raise Forbidden(_l("The account of this API key is not active."), code="account_inactive")
        return key, account

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
            raise Conflict(_l("An account with this email exists and is not confirmed."), code="account_inactive")
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
