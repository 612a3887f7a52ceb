"""Accounts and API keys: sign-up, confirmation, the caller's account, its live activation, and key
management."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

import sello
from sello.http import error_doc, make_app, principal, request_translator, route_responses
from sello.models.accounts import (
    SIGN_UP_ACCEPTED,
    AccountView,
    ApiKeyList,
    ApiKeyView,
    ConfirmationView,
    ConfirmLiveActivationRequest,
    ConfirmRequest,
    CreateApiKeyRequest,
    LiveActivationView,
    MeView,
    NewApiKeyView,
    ResendConfirmationRequest,
    SignUpAccepted,
    SignUpRequest,
    UpdateAccountRequest,
)
from sello.services.accounts import default_service

router = Router()

_ACCOUNTS, _KEYS = ["Accounts"], ["API keys"]
_KEY_ID = Annotated[str, Path(description="The key's id (`key_…`).")]
_EMAIL_NOT_SENT = error_doc("email_not_sent", note="the email could not be sent; nothing was kept, try again.")


@router.post(
    "/v1/accounts", summary="Sign up", tags=_ACCOUNTS, status_code=202,
    description="Creates an account in `pending_confirmation` and emails it a 40-character confirmation "
                "code. The answer is the same whether or not the email already has an account (so sign-up "
                "cannot tell who has one): an account still pending gets a new code, an active account's "
                "owner a notice that someone tried to sign up; each at most once per resend interval (a "
                "minute by default).",
    responses=route_responses(202, "Accepted", {503: _EMAIL_NOT_SENT}, body=True, public=True),
)
def sign_up(body: Annotated[SignUpRequest, Body()]) -> SignUpAccepted:
    accepted = default_service().sign_up(body)
    return accepted.model_copy(update={"message": request_translator(router.current_event).text(SIGN_UP_ACCEPTED)})


@router.post(
    "/v1/accounts/confirm", summary="Confirm an account", tags=_ACCOUNTS,
    description="Activates the account and returns its first test API key, shown only this once.",
    responses=route_responses(200, "Account active", {
        409: error_doc("already_confirmed"),
        410: error_doc("confirmation_code_expired", note="request a new code"),
        422: error_doc("invalid_confirmation_code"),
        429: error_doc("too_many_attempts", note="too many wrong codes for this account; request a new code"),
        503: error_doc("api_key_setup_failed", note="nothing was changed; send the same request again")},
                              body=True, public=True),
)
def confirm(body: Annotated[ConfirmRequest, Body()]) -> ConfirmationView:
    return default_service().confirm(body.email, body.code)


@router.post(
    "/v1/accounts/resend-confirmation", summary="Send a new confirmation code", tags=_ACCOUNTS,
    status_code=202,
    description="Always answers 202; a pending account gets a new code and the previous one stops working, "
                "unless a code went to it less than the resend interval ago (then nothing is sent).",
    responses=route_responses(202, "Accepted", {503: _EMAIL_NOT_SENT},
                              body=True, public=True),
)
def resend_confirmation(body: Annotated[ResendConfirmationRequest, Body()]) -> dict:
    default_service().resend_confirmation(body.email)
    return {}


@router.get("/v1/accounts/me", summary="The caller's account", tags=_ACCOUNTS,
            responses=route_responses(200, "The account and the API key of the request",
                                      {404: error_doc("account_not_found")}))
def me() -> MeView:
    caller = principal(router)
    return MeView(account=default_service().get_account(caller.account_id), environment=caller.environment,
                  key_id=caller.key_id)


@router.patch(
    "/v1/accounts/me", summary="Change the caller's account", tags=_ACCOUNTS,
    description="Sets the account's `language` (`es` or `en`): the language of the emails to its owner and "
                "of error messages to requests without an Accept-Language header.",
    responses=route_responses(200, "The account as it is now", {404: error_doc("account_not_found")}, body=True),
)
def update_me(body: Annotated[UpdateAccountRequest, Body()]) -> AccountView:
    return default_service().update_account(principal(router).account_id, body.language)


@router.post(
    "/v1/accounts/live-activation", summary="Ask for the first live API key", tags=_ACCOUNTS, status_code=202,
    description="Emails the account's owner (the sign-up email) a 40-character code that confirms the "
                "account's first live key; any key of the account may ask. Live keys issue documents with "
                "fiscal effect, so a test key alone can never obtain one. A new request replaces the code.",
    responses=route_responses(202, "Code sent", {
        404: error_doc("account_not_found"),
        409: error_doc("live_already_enabled"),
        429: error_doc("too_many_requests", note="a code went out moments ago (header `Retry-After`)",
                       context="live_activation"),
        503: error_doc("email_not_sent", context="live_activation")}),
)
def request_live_activation() -> LiveActivationView:
    return default_service().request_live_activation(principal(router).account_id)


@router.post(
    "/v1/accounts/live-activation/confirm", summary="Confirm the first live API key", tags=_ACCOUNTS,
    status_code=201,
    description="With the code from the owner's email, returns the account's first live key, shown only "
                "this once. Further live keys come from `POST /v1/api-keys` with a live key.",
    responses=route_responses(201, "Live key created", {
        404: error_doc("account_not_found"),
        409: error_doc("live_already_enabled"),
        410: error_doc("confirmation_code_expired", note="ask for a new code", context="live_activation"),
        422: error_doc("invalid_confirmation_code", context="live_activation"),
        429: error_doc("too_many_attempts", note="too many wrong codes; ask for a new code"),
        503: error_doc("api_key_setup_failed", note="nothing was changed; send the same request again")},
                              body=True),
)
def confirm_live_activation(body: Annotated[ConfirmLiveActivationRequest, Body()]) -> NewApiKeyView:
    return default_service().confirm_live_activation(principal(router).account_id, body.code, body.name)


@router.get("/v1/api-keys", summary="List API keys", tags=_KEYS,
            description="The account's keys of the calling key's environment (a test key lists test keys, a "
                        "live key live ones), newest first, without the keys themselves.",
            responses=route_responses(200, "The keys", {404: error_doc("account_not_found")}))
def list_api_keys() -> ApiKeyList:
    caller = principal(router)
    keys = default_service().list_keys(caller.account_id, caller.environment)
    return ApiKeyList(data=[ApiKeyView.of(k) for k in keys])


@router.post(
    "/v1/api-keys", summary="Create an API key", tags=_KEYS, status_code=201,
    description="A key of the calling key's environment; the response carries the key, shown only this once. "
                "The account's first live key comes from `POST /v1/accounts/live-activation`.",
    responses=route_responses(201, "Key created", {
        403: error_doc("environment_mismatch", note="a key creates keys of its own environment only"),
        404: error_doc("account_not_found"),
        503: error_doc("api_key_setup_failed", note="nothing was changed; send the same request again")},
                              body=True),
)
def create_api_key(body: Annotated[CreateApiKeyRequest, Body()]) -> NewApiKeyView:
    caller = principal(router)
    return default_service().create_key(caller.account_id, caller.environment, body)


@router.delete(
    "/v1/api-keys/<key_id>", summary="Revoke an API key", tags=_KEYS,
    description="Revokes a key of the calling key's environment (a key of the other one is not found). The "
                "environment's last active key cannot be revoked: create another key first (or rotate it).",
    responses=route_responses(200, "Key revoked", {
        404: error_doc("api_key_not_found", "account_not_found"),
        409: error_doc("last_active_key", "concurrent_change",
                       note="the environment's last active key cannot be revoked; `concurrent_change`: the "
                            "account's keys changed meanwhile, try again")}),
)
def revoke_api_key(key_id: _KEY_ID) -> ApiKeyView:
    caller = principal(router)
    return ApiKeyView.of(default_service().revoke_key(caller.account_id, caller.environment, key_id))


@router.post(
    "/v1/api-keys/<key_id>/rotate", summary="Rotate an API key", tags=_KEYS, status_code=201,
    description="Issues a new key with the same environment and name and revokes the old one at once; only "
                "keys of the calling key's environment.",
    responses=route_responses(201, "New key", {
        404: error_doc("api_key_not_found", "account_not_found"),
        409: error_doc("api_key_revoked", note="a revoked key cannot be rotated; create a new key instead"),
        503: error_doc("api_key_setup_failed", note="nothing was changed; send the same request again")}),
)
def rotate_api_key(key_id: _KEY_ID) -> NewApiKeyView:
    caller = principal(router)
    return default_service().rotate_key(caller.account_id, caller.environment, key_id)


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
