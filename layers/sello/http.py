"""What every API function shares: the resolver, JSON errors with stable codes (messages in the
caller's language: Accept-Language, else the account's, else Spanish), limits on bodies and content
types, and the caller's identity as the authorizer passed it on."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from sello import validation
from sello.catalog import GATEWAY_ERRORS
from sello.errors import (
    BadRequest,
    PayloadTooLarge,
    SelloError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from sello.i18n import DEFAULT_LANGUAGE, Message, Translator, _l, language_of, negotiate, translator
from sello.models.common import (
    MAX_PAGE_SIZE,
    NOT_XML,
    Environment,
    Model,
    character_name,
    find_not_xml,
    not_xml_message,
)

logger = Logger(service="sello")

# The largest request body the functions take: the size of Lambda's limit on a synchronous payload.
MAX_BODY_BYTES = 6 * 1024 * 1024
# A validation error lists at most this many problems (`omitted` counts the rest), each with its path
# and message cut to these lengths, so an answer stays within a few tens of kilobytes whatever the
# request.
MAX_ERROR_DETAILS = 50
MAX_ERROR_PATH = 200
MAX_ERROR_MESSAGE = 300
_TOO_LARGE = f"{MAX_BODY_BYTES // (1024 * 1024)} MB"
_MEDIA_TYPES = ("Send the body as application/json (where a file is uploaded: multipart/form-data, or the "
                "file itself with its own type).")
_MEDIA_TYPES_TEXT = _l("Send the body as application/json (where a file is uploaded: multipart/form-data, or "
                       "the file itself with its own type).")


# The query parameters of a route that lists a page at a time (the default size is
# models.common.DEFAULT_PAGE_SIZE).
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
PageCursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


@dataclass(frozen=True)
class Principal:
    account_id: str
    environment: Environment
    key_id: str
    language: str = DEFAULT_LANGUAGE  # the account's, as the authorizer passed it on


def _authorizer_context(event) -> dict:
    authorizer = event.request_context.authorizer if event.request_context else None
    return (authorizer.raw_event if authorizer else {}) or {}


def request_language(event) -> str:
    """The language of the answer: the best of Accept-Language (q-values honoured), else the
    account's (an authenticated request), else Spanish."""
    try:
        account = _authorizer_context(event).get("language")
        accept = event.headers.get("accept-language")
    except (AttributeError, KeyError, TypeError):
        return DEFAULT_LANGUAGE
    return negotiate(accept if isinstance(accept, str) else None, language_of(account))


def request_translator(event) -> Translator:
    return translator(request_language(event))


class ErrorDetail(Model):
    code: str
    message: str
    path: str | None = None
    details: list[dict] | None = Field(
        default=None, description=f"Every problem of an invalid request (code, path, message), at most "
                                  f"{MAX_ERROR_DETAILS}.")
    omitted: int | None = Field(default=None, description="How many more problems there were than `details` "
                                                          "lists.")
    limit: int | None = Field(default=None, description="For a size limit (`document_too_large`, "
                                                        "`issuer_too_large`): the limit, in bytes.")
    size: int | None = Field(default=None, description="For a size limit: the size of what was sent, in "
                                                       "bytes, measured as the limit is.")
    status: str | None = Field(default=None, description="For `document_not_authorized`: the status the document "
                                                         "ended in (`rejected` or `failed`).")


class ErrorBody(Model):
    error: ErrorDetail


def error_doc(description: str) -> dict:
    """A route's `responses=` entry for an error, so the OpenAPI document shows the error shape."""
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


# The errors any route can answer, documented once; `route_responses` picks those that apply.
COMMON_ERRORS = {
    400: error_doc("`invalid_json`: the body is not JSON encoded as UTF-8."),
    # API Gateway answers these before a function runs: the authorizer refuses a missing, malformed
    # or unknown key with 401, and a Deny carries its reason as the 403 code.
    401: error_doc(f"`{GATEWAY_ERRORS['UNAUTHORIZED'][1]}`: no API key, or not a valid one; send an API key "
                   "as `Authorization: Bearer sk_…`."),
    403: error_doc("`api_key_revoked` or `account_inactive`."),
    413: error_doc(f"`payload_too_large`: the body is over {_TOO_LARGE}."),
    415: error_doc("`unsupported_media_type`: " + _MEDIA_TYPES),
    422: error_doc("`missing_field`, `unknown_field`, `invalid_value` or `invalid_character` (a character "
                   "XML cannot carry, in the body or a query parameter): `path` names the field, `details` "
                   f"lists the problems (the first {MAX_ERROR_DETAILS}; `omitted` counts the rest)."),
}
_BODY_ERRORS = (400, 413, 415)
_KEY_ERRORS = (401, 403)


def route_responses(status: int, description: str, errors: dict[int, dict] | None = None, *,
                    body: bool = False, public: bool = False) -> dict:
    """A route's `responses=`: its success response (Powertools takes the schema from the return
    annotation), the COMMON_ERRORS that apply (400, 413 and 415 to routes with a `body`, 401 and 403
    to routes behind the API key, unless `public`) and the route's own `errors` (from `error_doc`);
    where both document a status, the descriptions are joined."""
    skip = (() if body else _BODY_ERRORS) + (_KEY_ERRORS if public else ())
    docs = {code: doc for code, doc in COMMON_ERRORS.items() if code not in skip}
    for code, doc in (errors or {}).items():
        docs[code] = error_doc(f"{doc['description']}; {docs[code]['description']}") if code in docs else doc
    return {status: {"description": description}, **dict(sorted(docs.items()))}


def error_response(status: int, body: dict, headers: dict[str, str] | None = None,
                   language: str | None = None) -> Response:
    """The JSON error answer; `language` (the message's) goes out as Content-Language."""
    headers = dict(headers or {})
    if language:
        headers["Content-Language"] = language
    return Response(status_code=status, content_type="application/json", body=json.dumps({"error": body}),
                    headers=headers or None)


def _answer(error: SelloError, t: Translator) -> Response:
    return error_response(error.status, error.to_dict(t), error.headers(), t.language)


def parse_json(text: str):
    """json.loads for request bodies. Text the parser cannot take (nesting too deep, an integer of
    more than 4300 digits, NaN or Infinity, which are not JSON) fails like a syntax error, so the
    caller gets 400 invalid_json instead of an internal error. A string (or member name) holding a
    character XML cannot carry is 422 invalid_character at its path, whichever field it is in."""
    try:
        data = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", text, 0) from None
    check_characters(data)
    return data


def check_characters(data, path: str = "") -> None:
    """422 invalid_character for the first character XML cannot carry in `data` (parsed JSON, or
    the text fields of a form)."""
    problem = find_not_xml(data, path)
    if problem is None:
        return
    where, char, in_name = problem
    if in_name:
        message = _l("A field name in {where} contains the character {char}, which XML documents cannot "
                     "carry; rename the field.", where=where or _l("the body"), char=character_name(char))
    else:
        message = not_xml_message(char)
    raise Unprocessable(message, code="invalid_character", path=where or "body")


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type (or Accept) value: lower case (media types are
    case-insensitive), without its parameters."""
    return (content_type or "").partition(";")[0].strip().lower()


def request_content_type(event) -> str:
    """The request's Content-Type header as sent (any header-name case), "" without one."""
    return event.headers.get("content-type") or ""


def _is_body(data: bytes, event) -> bool:
    """Whether `data` is the request body, which API Gateway base64-encodes when it is not text."""
    try:
        return bool(event.is_base64_encoded) and data == base64.b64decode(event.body or "")
    except binascii.Error:
        return False


def _path(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) > 1 and not parts[1].isdigit():
        return ".".join(parts[1:])
    return ".".join(parts)


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


class BodyValidationError(RequestValidationError):
    """A body a route validates itself (not through the resolver) failed its `model`: the same answer
    as a body the resolver validates."""

    def __init__(self, errors, model: type[BaseModel]):
        super().__init__(errors)
        self.model = model


def _body_schema(app: APIGatewayRestResolver, exc: RequestValidationError) -> dict | None:
    """The JSON schema of the body model the error is about (to name the fields allowed where an
    unknown one was sent)."""
    model = getattr(exc, "model", None)
    if model is None:
        try:  # the route the resolver is running, and its body parameter
            params = app.context["_route"].dependant.body_params
            model = params[0].type_ if params else None
        except (KeyError, AttributeError, IndexError, TypeError):
            model = None
    return _schema_of(model) if isinstance(model, type) and issubclass(model, BaseModel) else None


_SCHEMAS: dict[type, dict] = {}


def _schema_of(model: type[BaseModel]) -> dict | None:
    if model not in _SCHEMAS:
        try:
            _SCHEMAS[model] = model.model_json_schema()
        except Exception:  # a schema that cannot be generated only costs the suggestion
            return None
    return _SCHEMAS[model]


def _validation_error(exc: RequestValidationError, t: Translator, schema: dict | None = None) -> Response:
    errors = list(exc.errors())
    first = errors[0] if errors else {"type": "invalid", "loc": ("body",), "msg": ""}
    kind = first.get("type", "invalid")
    if kind == "json_invalid":
        return _invalid_json(_l("The request body is not valid JSON."), t)
    if kind == "unsupported_content_type":
        return error_response(415, {"code": "unsupported_media_type", "message": t.text(_MEDIA_TYPES_TEXT)},
                              language=t.language)
    details = []
    for e in errors[:MAX_ERROR_DETAILS]:
        loc = tuple(e.get("loc", ()))
        in_body = loc[1:] if loc[:1] == ("body",) else loc
        details.append({"code": validation.code(e),
                        "path": _cut(_path(loc), MAX_ERROR_PATH),
                        "message": _cut(t.text(validation.message(e, schema, in_body)), MAX_ERROR_MESSAGE)})
    body = {**details[0], "details": details}
    if len(errors) > MAX_ERROR_DETAILS:
        body["omitted"] = len(errors) - MAX_ERROR_DETAILS
    return error_response(422, body, language=t.language)


def _invalid_json(message: Message, t: Translator) -> Response:
    return error_response(400, {"code": "invalid_json", "message": t.text(message), "path": "body"},
                          language=t.language)


def _body_problem(event, multipart: tuple[re.Pattern, ...] = (),
                  raw: tuple[tuple[re.Pattern, frozenset[str]], ...] = ()) -> SelloError | None:
    """413 for a body over the limit; 415 for a body that is not JSON, or multipart or another type
    where the route does not take a file as such; 400 for multipart without its boundary."""
    body = event.body or ""
    size = len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode(errors="surrogatepass"))
    if size > MAX_BODY_BYTES:
        return PayloadTooLarge(_l("The request body is larger than {size}.", size=_TOO_LARGE))
    if event.http_method in ("POST", "PUT", "PATCH") and body:
        content_type = request_content_type(event)
        media = media_type(content_type)
        if media == "multipart/form-data" and any(p.fullmatch(event.path or "") for p in multipart):
            if "boundary=" not in content_type.partition(";")[2].lower():
                return BadRequest(_l("A multipart/form-data body needs its boundary parameter."),
                                  code="invalid_multipart", path="body")
        elif media != "application/json" and not any(
                media in types and p.fullmatch(event.path or "") for p, types in raw):
            return UnsupportedMediaType(_MEDIA_TYPES_TEXT)
    return None


def _check_query(event) -> None:
    """422 invalid_character for a query parameter value holding a character XML cannot carry."""
    single = (event.get("queryStringParameters") or {}).items()
    multi = ((name, value) for name, values in (event.get("multiValueQueryStringParameters") or {}).items()
             for value in values or ())
    for name, value in itertools.chain(single, multi):
        found = NOT_XML.search(value) if isinstance(value, str) else None
        if found:
            raise Unprocessable(not_xml_message(found.group()), code="invalid_character",
                                path=_cut(name, MAX_ERROR_PATH))


def _lower_media_type(value: str) -> str:
    """Media types are case-insensitive, parameters (a multipart boundary) are not."""
    _, sep, params = value.partition(";")
    return media_type(value) + sep + params


class _Resolver(APIGatewayRestResolver):
    def resolve(self, event, context):
        # Powertools matches the content type case-sensitively; normalize it once on the way in.
        if isinstance(event, dict):
            for name, value in (event.get("headers") or {}).items():
                if name.lower() == "content-type" and isinstance(value, str):
                    event["headers"][name] = _lower_media_type(value)
            for name, values in (event.get("multiValueHeaders") or {}).items():
                if name.lower() == "content-type" and isinstance(values, list):
                    event["multiValueHeaders"][name] = [_lower_media_type(v) for v in values]
        return super().resolve(event, context)

    def get_openapi_schema(self, *args, **kwargs):
        # An `openapi_extensions` value may be a function, called only when the document is asked for:
        # a route's import then builds no schema it would not need to answer a request.
        for route in self._static_routes + self._dynamic_routes:
            if route.openapi_extensions:
                route.openapi_extensions = {name: value() if callable(value) else value
                                            for name, value in route.openapi_extensions.items()}
        return super().get_openapi_schema(*args, **kwargs)


def make_app(*routers: Router, multipart_paths: tuple[str, ...] = (),
             raw_paths: dict[str, tuple[str, ...]] | None = None) -> APIGatewayRestResolver:
    """`multipart_paths`: regular expressions of the paths whose routes read multipart/form-data
    bodies themselves (file uploads); `raw_paths`: regular expressions of the paths whose routes take
    a file as the whole body, with the media types they take; every other body must be JSON."""
    app = _Resolver(enable_validation=True, json_body_deserializer=parse_json)
    multipart = tuple(re.compile(p) for p in multipart_paths)
    raw = tuple((re.compile(p), frozenset(types)) for p, types in (raw_paths or {}).items())

    def body_problem(event) -> SelloError | None:
        return _body_problem(event, multipart, raw)

    def guard(app_: APIGatewayRestResolver, next_middleware):
        problem = body_problem(app_.current_event)
        if problem:
            raise problem
        _check_query(app_.current_event)
        response = next_middleware(app_)
        # Whatever text the answer holds is in this language.
        response.headers.setdefault("Content-Language", request_language(app_.current_event))
        return response

    def t() -> Translator:
        return request_translator(app.current_event)

    app.use(middlewares=[guard])

    # A body is parsed (and its characters checked) before the middleware's checks: an oversize or
    # wrongly typed body still gets 413/415.
    @app.exception_handler(SelloError)
    def _sello_error(exc: SelloError):
        return _answer(body_problem(app.current_event) or exc, t())

    # Powertools validates a route's body before any middleware runs, so the body checks are
    # repeated here: an oversize or wrongly typed body gets 413/415, not a validation error.
    @app.exception_handler(RequestValidationError)
    def _request_error(exc: RequestValidationError):
        problem = body_problem(app.current_event)
        return _answer(problem, t()) if problem else _validation_error(exc, t(), _body_schema(app, exc))

    # A body validated with a model chosen at run time (the issuer's country's): the same answer.
    @app.exception_handler(validation.InvalidBody)
    def _invalid_body(exc: validation.InvalidBody):
        return _request_error(BodyValidationError(exc.errors, exc.model))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(_exc: RequestUnsupportedContentType):
        return _answer(body_problem(app.current_event) or UnsupportedMediaType(_MEDIA_TYPES_TEXT), t())

    @app.not_found
    def _not_found(_exc):
        # The same answer API Gateway gives for a path no resource has.
        status, code, message = GATEWAY_ERRORS["MISSING_AUTHENTICATION_TOKEN"]
        return error_response(status, {"code": code, "message": message})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception):
        # A body the route cannot parse (e.g. Powertools' multipart parser) is the client's problem.
        problem = body_problem(app.current_event)
        if problem:
            return _answer(problem, t())
        logger.exception("unhandled error")
        translated = t()
        return error_response(500, {"code": "internal_error",
                                    "message": translated.text(_l("Something went wrong on our side."))},
                              language=translated.language)

    # Powertools decodes a base64 body as UTF-8 before parsing it as JSON; only that failure is
    # the client's, any other UnicodeDecodeError is ours.
    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError):
        event = app.current_event
        if not _is_body(exc.object, event):
            return _unexpected(exc)
        problem = body_problem(event)
        if problem:
            return _answer(problem, t())
        return _invalid_json(_l("The request body is not UTF-8 encoded JSON."), t())

    for router in routers:
        app.include_router(router)
    return app


def principal(app: APIGatewayRestResolver) -> Principal:
    """The account and environment the authorizer resolved from the API key."""
    ctx = _authorizer_context(app.current_event)
    account_id, environment, key_id = ctx.get("account_id"), ctx.get("environment"), ctx.get("key_id")
    if not account_id or environment not in ("test", "live"):
        raise Unauthorized(_l("A valid API key is required."), code="missing_api_key")
    return Principal(account_id=account_id, environment=environment, key_id=key_id or "",
                     language=language_of(ctx.get("language")))
