"""REST API Lambda REQUEST authorizer (identity source: the Authorization header).

- no key, a malformed or an unknown key: raises "Unauthorized", which API Gateway answers with 401;
- a revoked key or an inactive account: a Deny policy whose context carries `error_code` and
  `error_message` (API Gateway answers 403 with them);
- otherwise an Allow policy covering the whole stage, with the context the functions read:
  account_id, environment ("test"/"live") and key_id, and the account's API Gateway key as the usage
  identifier (sello.plans: API Gateway throttles and counts the request in the account's usage
  plan). The API does not cache authorizer results
  (a revoked key stops at once); covering the whole stage is harmless now and stays correct if
  caching is ever turned on.

The key and its hash never reach a log line."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
)

from sello.errors import Forbidden, Unauthorized
from sello.plans import usage_key
from sello.services.accounts import default_service

logger = Logger(service="sello")


def bearer_token(headers: dict | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (any header-name case), or ""."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None) or ""
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def handler(event, context):
    try:
        key = default_service().authenticate(bearer_token(event.get("headers")))
    except Unauthorized:
        raise Exception("Unauthorized") from None  # the exact message API Gateway maps to 401
    except Forbidden as exc:
        logger.info("api key denied", reason=exc.code)
        policy = APIGatewayAuthorizerResponse.from_route_arn(
            event["methodArn"], principal_id="denied",
            context={"error_code": exc.code, "error_message": exc.message})
        policy.deny_all_routes()
        return policy.asdict()
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        event["methodArn"], principal_id=key.account_id,
        context={"account_id": key.account_id, "environment": key.environment, "key_id": key.id},
        usage_identifier_key=usage_key(key.account_id))
    policy.allow_all_routes()
    return policy.asdict()
