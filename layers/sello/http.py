"""What every API function shares: the resolver, JSON errors with stable codes, limits on
bodies and content types, and the caller's identity as the authorizer passed it on."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from sello.errors import PayloadTooLarge, SelloError, Unauthorized, UnsupportedMediaType
from sello.models.accounts import Environment
from sello.settings import get_settings

logger = Logger(service="sello")

# Pydantic error types mapped to the stable codes clients see.
_CODES = {
    "json_invalid": "invalid_json",
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "unsupported_content_type": "unsupported_media_type",
}
_BODY_TYPES = ("application/json", "multipart/form-data")
_MEDIA_TYPES = "Send the body as application/json (or multipart/form-data where a file is uploaded)."


@dataclass(frozen=True)
class Principal:
    account_id: str
    environment: Environment
    key_id: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    path: str | None = None
    details: list[dict] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_doc(description: str) -> dict:
    """A route's `responses=` entry for an error, so the OpenAPI document shows the error shape."""
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def error_response(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps({"error": body}))


def _path(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) > 1 and parts[1].isdigit() is False:
        return ".".join(parts[1:])
    return ".".join(parts)


def _validation_error(exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    first = errors[0] if errors else {"type": "invalid", "loc": ("body",), "msg": "Invalid request"}
    kind = first.get("type", "invalid")
    if kind == "json_invalid":
        return error_response(400, {"code": "invalid_json", "message": "The request body is not valid JSON.",
                                    "path": "body"})
    if kind == "unsupported_content_type":
        return error_response(415, {"code": "unsupported_media_type", "message": first.get("msg", "")})
    details = [
        {"code": _CODES.get(e.get("type", ""), "invalid_value"), "path": _path(e.get("loc", ())),
         "message": e.get("msg", "")}
        for e in errors
    ]
    return error_response(422, {**details[0], "details": details})


def _body_problem(event) -> SelloError | None:
    """413 for a body over the limit, 415 for a body that is neither JSON nor multipart."""
    body = event.body or ""
    size = len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode())
    if size > get_settings().max_body_bytes:
        return PayloadTooLarge("The request body is larger than 6 MB.")
    if event.http_method in ("POST", "PUT", "PATCH") and body:
        headers = event.headers or {}
        content_type = headers.get("content-type") or headers.get("Content-Type") or ""
        if content_type.lower().split(";")[0].strip() not in _BODY_TYPES:
            return UnsupportedMediaType(_MEDIA_TYPES)
    return None


def make_app(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    def guard(app_: APIGatewayRestResolver, next_middleware):
        problem = _body_problem(app_.current_event)
        if problem:
            raise problem
        return next_middleware(app_)

    app.use(middlewares=[guard])

    @app.exception_handler(SelloError)
    def _sello_error(exc: SelloError):
        return error_response(exc.status, exc.to_dict())

    # Powertools validates a route's body before any middleware runs, so the body checks are
    # repeated here: an oversize or wrongly typed body gets 413/415, not a validation error.
    @app.exception_handler(RequestValidationError)
    def _request_error(exc: RequestValidationError):
        problem = _body_problem(app.current_event)
        return error_response(problem.status, problem.to_dict()) if problem else _validation_error(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(_exc: RequestUnsupportedContentType):
        problem = _body_problem(app.current_event) or UnsupportedMediaType(_MEDIA_TYPES)
        return error_response(problem.status, problem.to_dict())

    @app.not_found
    def _not_found(_exc):
        return error_response(404, {"code": "route_not_found", "message": "No such route."})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception):
        logger.exception("unhandled error")
        return error_response(500, {"code": "internal_error", "message": "Something went wrong on our side."})

    for router in routers:
        app.include_router(router)
    return app


def principal(app: APIGatewayRestResolver) -> Principal:
    """The account and environment the authorizer resolved from the API key."""
    ctx = (app.current_event.request_context.authorizer.raw_event if app.current_event.request_context.authorizer
           else {}) or {}
    account_id, environment, key_id = ctx.get("account_id"), ctx.get("environment"), ctx.get("key_id")
    if not account_id or environment not in ("test", "live"):
        raise Unauthorized("A valid API key is required.", code="missing_api_key")
    return Principal(account_id=account_id, environment=environment, key_id=key_id or "")
