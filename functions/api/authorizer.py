"""REST API Lambda REQUEST authorizer (identity source: the Authorization header).

- no key, a malformed or an unknown key: raises "Unauthorized", which API Gateway answers with 401;
- a revoked key or an inactive account: a Deny policy whose context carries `error_code` and
  `error_message` (API Gateway answers 403 with them);
- otherwise an Allow policy covering the whole stage, with the context the functions read:
  account_id, environment ("test"/"live"), key_id and language (the account's, for error messages
  when a request has no Accept-Language header), and the account's API Gateway key as the usage
  identifier (sello.plans: API Gateway throttles and counts the request in the account's usage
  plan). The API does not cache authorizer results
  (a revoked key stops at once); covering the whole stage is harmless now and stays correct if
  caching is ever turned on.

The header must read `Bearer <key>`: the scheme in any case (RFC 9110 §11.1), one or more spaces,
then the key. Whitespace around the whole value (spaces, tabs, a trailing line break) is ignored, as
HTTP does not count it as part of a field's value. Anything else is refused with 401: no scheme or
another one, a tab between scheme and key, two keys in one header, or two Authorization headers.

The key and its hash never reach a log line."""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
)

import sello
from sello.errors import Forbidden, Unauthorized
from sello.i18n import negotiate, translator
from sello.plans import usage_key
from sello.services.accounts import default_service

logger = Logger(service="sello")


# RFC 9110: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the scheme is case-insensitive.
_BEARER = re.compile(r"bearer +([^\s]+)", re.IGNORECASE)
# What HTTP strips around a field value (OWS), plus a line break a key copied from a file may carry.
_SURROUNDING = " \t\r\n"


def authorization_values(event: dict) -> list[str]:
    """Every Authorization header of a request (any header-name case). API Gateway keeps only the
    last of repeated headers in `headers`; `multiValueHeaders` has them all."""
    for field in ("multiValueHeaders", "headers"):
        found = [v for k, vs in (event.get(field) or {}).items() if k.lower() == "authorization"
                 for v in (vs if isinstance(vs, list) else [vs]) if isinstance(v, str)]
        if found:
            return found
    return []


def bearer_token(event: dict) -> str:
    """The key of the request's one `Authorization: Bearer <key>` header, or "" when there is no
    such header, more than one, or one that does not have that form."""
    values = authorization_values(event)
    if len(values) != 1:
        return ""
    match = _BEARER.fullmatch(values[0].strip(_SURROUNDING))
    return match.group(1) if match else ""


def _header(event: dict, name: str) -> str | None:
    """A request header (any header-name case), None without it."""
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name and isinstance(v, str)),
                None)


def handler(event, context):
    try:
        key, account = default_service().identify(bearer_token(event))
    except Unauthorized:
        raise Exception("Unauthorized") from None  # the exact message API Gateway maps to 401
    except Forbidden as exc:
        logger.info("api key denied", reason=exc.code)
        language = negotiate(_header(event, "accept-language"))
        policy = APIGatewayAuthorizerResponse.from_route_arn(
            event["methodArn"], principal_id="denied",
            context={"error_code": exc.code, "error_message": exc.localized(translator(language))})
        policy.deny_all_routes()
        return policy.asdict()
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        event["methodArn"], principal_id=key.account_id,
        context={"account_id": key.account_id, "environment": key.environment, "key_id": key.id,
                 "language": account.language},
        usage_identifier_key=usage_key(key.account_id))
    policy.allow_all_routes()
    return policy.asdict()


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
