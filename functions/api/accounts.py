"""Accounts and API keys: sign-up, confirmation, the caller's account, and key management."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from sello.http import error_doc, make_app, principal
from sello.models.accounts import (
    AccountView,
    ApiKeyList,
    ApiKeyView,
    ConfirmationView,
    ConfirmRequest,
    CreateApiKeyRequest,
    MeView,
    NewApiKeyView,
    ResendConfirmationRequest,
    SignUpRequest,
)
from sello.services.accounts import default_service

router = Router()

_ACCOUNTS, _KEYS = ["Accounts"], ["API keys"]
_KEY_ID = Annotated[str, Path(description="The key's id (`key_…`).")]


def _doc(description: str, model: type) -> dict:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _created(model) -> Response:
    return Response(status_code=201, content_type="application/json", body=model)


@router.post(
    "/v1/accounts", summary="Sign up", tags=_ACCOUNTS,
    description="Creates an account in `pending_confirmation` and emails it a 40-character confirmation "
                "code.",
    responses={201: _doc("Account created", AccountView),
               409: error_doc("`email_taken`")},
)
def sign_up(body: Annotated[SignUpRequest, Body()]) -> Response[AccountView]:
    return _created(default_service().sign_up(body))


@router.post(
    "/v1/accounts/confirm", summary="Confirm an account", tags=_ACCOUNTS,
    description="Activates the account and returns its first test API key, shown only this once.",
    responses={200: _doc("Account active", ConfirmationView),
               409: error_doc("`already_confirmed`"),
               410: error_doc("`confirmation_code_expired`"),
               422: error_doc("`invalid_confirmation_code`"),
               429: error_doc("`too_many_attempts`")},
)
def confirm(body: Annotated[ConfirmRequest, Body()]) -> ConfirmationView:
    return default_service().confirm(body.email, body.code)


@router.post(
    "/v1/accounts/resend-confirmation", summary="Send a new confirmation code", tags=_ACCOUNTS,
    description="Always answers 202; a pending account gets a new code and the previous one stops working.",
    responses={202: {"description": "Accepted"}, 429: error_doc("`too_many_requests`")},
)
def resend_confirmation(body: Annotated[ResendConfirmationRequest, Body()]) -> Response[dict]:
    default_service().resend_confirmation(body.email)
    return Response(status_code=202, content_type="application/json", body={})


@router.get("/v1/accounts/me", summary="The caller's account", tags=_ACCOUNTS,
            responses={403: error_doc("`api_key_revoked` or `account_inactive`")})
def me() -> MeView:
    caller = principal(router)
    return MeView(account=default_service().get_account(caller.account_id), environment=caller.environment,
                  key_id=caller.key_id)


@router.get("/v1/api-keys", summary="List API keys", tags=_KEYS,
            description="Every key of the account, newest first, without the keys themselves.")
def list_api_keys() -> ApiKeyList:
    keys = default_service().list_keys(principal(router).account_id)
    return ApiKeyList(data=[ApiKeyView.of(k) for k in keys])


@router.post(
    "/v1/api-keys", summary="Create an API key", tags=_KEYS,
    description="The response carries the key; it is shown only this once.",
    responses={201: _doc("Key created", NewApiKeyView)},
)
def create_api_key(body: Annotated[CreateApiKeyRequest, Body()]) -> Response[NewApiKeyView]:
    return _created(default_service().create_key(principal(router).account_id, body))


@router.delete("/v1/api-keys/<key_id>", summary="Revoke an API key", tags=_KEYS,
               responses={404: error_doc("`api_key_not_found`")})
def revoke_api_key(key_id: _KEY_ID) -> ApiKeyView:
    return ApiKeyView.of(default_service().revoke_key(principal(router).account_id, key_id))


@router.post(
    "/v1/api-keys/<key_id>/rotate", summary="Rotate an API key", tags=_KEYS,
    description="Issues a new key with the same environment and name and revokes the old one at once.",
    responses={201: _doc("New key", NewApiKeyView),
               404: error_doc("`api_key_not_found`"),
               409: error_doc("`api_key_revoked`")},
)
def rotate_api_key(key_id: _KEY_ID) -> Response[NewApiKeyView]:
    return _created(default_service().rotate_key(principal(router).account_id, key_id))


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)
