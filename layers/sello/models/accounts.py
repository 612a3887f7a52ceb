"""Accounts and API keys: the records the service works with, the request bodies it accepts and
the views it returns. Secrets (confirmation codes, API keys) exist here only as sha256 hashes,
except in `NewApiKeyView`, the one response that hands a new key over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field

from sello.i18n import DEFAULT_LANGUAGE, Language, _l
from sello.models.common import EmailStr, Environment, Model, RequestBody, text
from sello.plans import DEFAULT_PLAN

AccountStatus = Literal["pending_confirmation", "active"]
KeyStatus = Literal["active", "revoked"]


def email_key(email: str) -> str:
    """Emails are unique regardless of case."""
    return email.strip().lower()


# Records -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Confirmation:
    """A pending emailed code (its hash only) and how it has been used: the account's sign-up
    confirmation, or its live activation."""

    code_hash: str
    expires_at: datetime
    sent_at: datetime
    attempts: int = 0


@dataclass(frozen=True)
class Account:
    id: str
    company_name: str
    email: str
    status: str  # an AccountStatus; anything else (set by an operator) counts as inactive
    created_at: datetime
    confirmed_at: datetime | None = None
    confirmation: Confirmation | None = None
    plan: str = DEFAULT_PLAN  # sello.plans: its request limits
    # Set when the owner confirmed the account's first live key (see AccountService.confirm_live_activation).
    live_enabled_at: datetime | None = None
    live_activation: Confirmation | None = None
    signup_notice_at: datetime | None = None  # the last "someone tried to sign up" email to the owner
    language: str = DEFAULT_LANGUAGE  # sello.i18n: of the emails to the owner, and of errors by default


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    name: str | None
    environment: Environment
    key_hash: str
    hint: str
    status: KeyStatus
    created_at: datetime
    revoked_at: datetime | None = None


# Request bodies ------------------------------------------------------------------------------

CompanyName = text(200)
KeyName = text(100)
_LANGUAGE = ("The language of what Sello writes to the account's owner (emails) and of API error messages "
             "when a request has no Accept-Language header: `es` (Spanish) or `en` (English).")


_CODE = "Xq7pL2mZ9vB4nR8tW1yC6hJ3kD5fG0sA2eU9iO4p"  # what a confirmation or live-activation code looks like
_ACCOUNT_ID = "acct_9f2c4e7a1b3d5f6a8c0e"
_KEY_ID = "key_4f8a1c2e9b7d3f5a6c0e"


class SignUpRequest(RequestBody):
    company_name: CompanyName = Field(description="Legal or trade name of the company.",
                                      examples=["Acme S.A."])
    email: EmailStr = Field(description="Where the confirmation code is sent.", examples=["ana@example.com"])
    language: Language = Field(default=DEFAULT_LANGUAGE, description=_LANGUAGE + " Spanish by default.")


class ConfirmRequest(RequestBody):
    email: EmailStr = Field(examples=["ana@example.com"])
    code: str = Field(min_length=1, max_length=128, description="The 40-character code from the email.",
                      examples=[_CODE])


class ResendConfirmationRequest(RequestBody):
    email: EmailStr = Field(examples=["ana@example.com"])


class CreateApiKeyRequest(RequestBody):
    environment: Environment | None = Field(
        default=None,
        description="`test` keys reach the authority's test service, `live` keys its production service. "
                    "A key creates keys of its own environment only; this is the default.")
    name: KeyName | None = Field(default=None, examples=["Web store"])


class UpdateAccountRequest(RequestBody):
    language: Language | None = Field(default=None, description=_LANGUAGE)


class ConfirmLiveActivationRequest(RequestBody):
    code: str = Field(min_length=1, max_length=128,
                      description="The 40-character code emailed to the account's owner.", examples=[_CODE])
    name: KeyName | None = Field(default=None, description="Name of the live key.", examples=["Web store"])


# Views ---------------------------------------------------------------------------------------

SIGN_UP_ACCEPTED = _l("If this address can sign up, a 40-character confirmation code is on its way to it; send "
                      "it with POST /v1/accounts/confirm. An address that already has an account gets a notice "
                      "instead.")


class SignUpAccepted(Model):
    """The answer to every valid sign-up, whether or not the email already has an account."""

    email: str = Field(examples=["ana@example.com"])
    message: str = str(SIGN_UP_ACCEPTED)  # in the request's language (functions/api/accounts.py)


class AccountView(Model):
    id: str = Field(examples=[_ACCOUNT_ID])
    company_name: str = Field(examples=["Acme S.A."])
    email: str = Field(examples=["ana@example.com"])
    status: str = Field(description="`pending_confirmation` until the sign-up is confirmed, then `active`.",
                        examples=["active"])
    created_at: datetime
    confirmed_at: datetime | None = None
    live_enabled_at: datetime | None = Field(
        default=None, description="When the account's first live key was confirmed; null while it has none.")
    language: Language = Field(default=DEFAULT_LANGUAGE, description=_LANGUAGE)

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(id=account.id, company_name=account.company_name, email=account.email,
                   status=account.status, created_at=account.created_at, confirmed_at=account.confirmed_at,
                   live_enabled_at=account.live_enabled_at, language=account.language)


class ApiKeyView(Model):
    """An API key as listed: never the key itself nor its hash."""

    id: str = Field(examples=[_KEY_ID])
    name: str | None = Field(examples=["Web store"])
    environment: Environment
    status: KeyStatus
    hint: str = Field(description="The key's prefix and last four characters, e.g. `sk_test_…a1b2`.",
                      examples=["sk_test_…Wq2e"])
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls(id=key.id, name=key.name, environment=key.environment, status=key.status, hint=key.hint,
                   created_at=key.created_at, revoked_at=key.revoked_at)


class NewApiKeyView(Model):
    """A key just created: `key` is shown this once and cannot be retrieved again."""

    id: str = Field(examples=[_KEY_ID])
    key: str = Field(examples=["sk_test_5hG2kP9qLm3XvT7wRb1NcY8dZs4JfE6uAo0iWq2e"])
    name: str | None = Field(examples=["Web store"])
    environment: Environment
    created_at: datetime


class ApiKeyList(Model):
    data: list[ApiKeyView]


class LiveActivationView(Model):
    """Where the live-activation code went, and until when it works."""

    sent_to: str = Field(description="The account owner's email.", examples=["ana@example.com"])
    expires_at: datetime


class ConfirmationView(Model):
    account: AccountView
    api_key: NewApiKeyView


class MeView(Model):
    account: AccountView
    environment: Environment = Field(description="Environment of the API key used for this request.")
    key_id: str = Field(examples=[_KEY_ID])
