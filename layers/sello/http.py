"""What every API function shares: the resolver, JSON errors with stable codes (messages in the
caller's language: Accept-Language, else the account's, else Spanish), limits on bodies and content
types, and the caller's identity as the authorizer passed it on."""

from __future__ import annotations

import base64
import binascii
import functools
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
from sello.errors import (
    BadRequest,
    PayloadTooLarge,
    SelloError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from sello.gateway_errors import GATEWAY_ERRORS
from sello.i18n import DEFAULT_LANGUAGE, Message, Translator, _l, language_of, negotiate, translator
from sello.models.common import (
    MAX_PAGE_SIZE,
    NOT_XML,
    Environment,
    FileDownload,
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


# Messages of the answers this module writes itself (also the OpenAPI document's examples of them).
_NOT_JSON = _l("The request body is not valid JSON.")
_BODY_TOO_LARGE = _l("The request body is larger than {size}.", size=_TOO_LARGE)
_NO_BOUNDARY = _l("A multipart/form-data body needs its boundary parameter.")
_NO_KEY = _l("A valid API key is required.")
_INTERNAL = _l("Something went wrong on our side.")


@dataclass(frozen=True)
class ErrorDoc:
    """The errors a route answers with one status (`error_doc`): their codes, a note, and the
    context whose examples to prefer (sello.error_examples)."""

    codes: tuple[str, ...]
    note: str | None = None
    context: str | None = None

    @property
    def description(self) -> str:
        named = [f"`{code}`" for code in self.codes]
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
        return f"{listed}: {self.note.rstrip('.')}" if self.note else listed

    def response(self, status: int, *more: ErrorDoc) -> dict:
        """The OpenAPI response: the descriptions of this and `more` (the common errors of the same
        status), and the ErrorBody schema with one named example per code. The examples are a
        function until the document is asked for (_Resolver.get_openapi_schema), so that a cold
        start that answers a request builds none."""
        docs = (self, *more)
        return {"description": "; ".join(doc.description for doc in docs) + ".",
                "content": {"application/json": {"model": ErrorBody,
                                                  "examples": functools.partial(_examples, status, docs)}}}


def _examples(status: int, docs: tuple[ErrorDoc, ...]) -> dict[str, dict]:
    """One named example per code of `docs` (the first doc's context first), from
    sello.error_examples."""
    registry = error_examples_registry()
    examples: dict[str, dict] = {}
    for doc in docs:
        for code in doc.codes:
            found = registry.lookup(code, status, doc.context)
            if found is None:
                raise LookupError(f"no example of the error {code} with status {status}: register one in "
                                  "sello.error_examples")
            examples.setdefault(code, {"summary": code, "value": found.body()})
    return examples


@functools.cache
def error_examples_registry():
    """sello.error_examples with this module's own examples registered (loaded on first use)."""
    from sello import error_examples

    error_examples.register(*_common_examples())
    return error_examples


def error_doc(*codes: str, note: str | None = None, context: str | None = None) -> ErrorDoc:
    """A route's errors of one status, for `route_responses`: the codes it answers with, and a `note`
    on when (the description lists the codes, then the note). Each code's example answer comes from
    sello.error_examples: the one registered for `context` (e.g. "live_activation", where a code reads
    differently than elsewhere), else the code's own."""
    if not codes:
        raise ValueError("error_doc needs at least one code")
    return ErrorDoc(tuple(dict.fromkeys(codes)), note, context)


# The errors any route can answer, documented once; `route_responses` picks those that apply: the
# body's (`body`) to routes that take one, the API key's (`key`) to routes behind it.
COMMON_ERRORS: tuple[tuple[int, str | None, ErrorDoc], ...] = (
    (400, "body", error_doc("invalid_json", note="the body is not JSON encoded as UTF-8.")),
    # API Gateway answers these before a function runs: the authorizer refuses a missing, malformed
    # or unknown key with 401, and a Deny carries its reason as the 403 code.
    (401, "key", error_doc(GATEWAY_ERRORS["UNAUTHORIZED"][1], note="no API key, or not a valid one; send an API "
                                                                   "key as `Authorization: Bearer sk_…`.")),
    # A function reached without the authorizer's context (never through API Gateway) refuses too.
    (401, "key", error_doc("missing_api_key", note="the request reached the function without the "
                                                   "authorizer's identity.")),
    (403, "key", error_doc("api_key_revoked", "account_inactive", note="the API key is revoked, or its account "
                                                                       "is not active.")),
    (413, "body", error_doc("payload_too_large", note=f"the body is over {_TOO_LARGE}.")),
    (415, "body", error_doc("unsupported_media_type", note=_MEDIA_TYPES)),
    (422, None, error_doc("missing_field", "unknown_field", "invalid_value", "invalid_character",
                          note="a field is missing, unknown or not valid, or holds a character XML cannot carry "
                               "(in the body or a query parameter): `path` names the field, `details` lists the "
                               f"problems (the first {MAX_ERROR_DETAILS}; `omitted` counts the rest).")),
    # API Gateway's throttles (sello.plans): the stage's and a public route's for every caller, the
    # account plan's for a key; header Retry-After.
    (429, None, error_doc("too_many_requests", note="over a request rate limit; header `Retry-After` "
                                                    "(seconds).")),
    (429, "key", error_doc("quota_exceeded", note="the request quota of the account's plan is used up until the "
                                                  "next period.")),
    (500, None, error_doc("internal_error", note="an unexpected failure on Sello's side; nothing to change in "
                                                 "the request.")),
    (500, "key", error_doc("authorizer_failure", note="the API key could not be checked; retry later.")),
)


def route_responses(status: int, description: str, errors: dict[int, ErrorDoc | dict] | None = None, *,
                    body: bool = False, public: bool = False) -> dict:
    """A route's `responses=`: its success response (Powertools takes the schema from the return
    annotation), the COMMON_ERRORS that apply (the body's to routes with a `body`, the API key's to
    routes behind it, unless `public`) and the route's own `errors` (from `error_doc`; a plain
    response dict, such as another success status, is kept as it is); where both document a status,
    their codes, examples and descriptions are merged (the route's first)."""
    skip = (() if body else ("body",)) + (("key",) if public else ())
    docs: dict[int, list[ErrorDoc]] = {}
    other = {code: doc for code, doc in (errors or {}).items() if not isinstance(doc, ErrorDoc)}  # e.g. a 200
    for code, doc in (errors or {}).items():
        if isinstance(doc, ErrorDoc):
            docs.setdefault(code, []).append(doc)
    for code, needs, doc in COMMON_ERRORS:
        if needs not in skip:
            docs.setdefault(code, []).append(doc)
    responses = other | {code: first.response(code, *rest) for code, (first, *rest) in docs.items()}
    return {status: {"description": description}, **dict(sorted(responses.items()))}


def _common_examples() -> tuple:
    """The examples of this module's own answers and API Gateway's, from their messages (the
    validation ones as sello.validation words them)."""
    from sello.error_examples import example

    fields = {"type": "object", "properties": {"name": {}}}

    def problem(error: dict) -> dict:
        path = ".".join(error["loc"][1:])
        return {"code": validation.code(error), "path": path,
                "message": str(validation.message(error, fields, tuple(error["loc"][1:])))}

    missing = problem({"type": "missing", "loc": ("body", "name")})
    unknown = problem({"type": "extra_forbidden", "loc": ("body", "nmae")})
    too_long = problem({"type": "string_too_long", "loc": ("body", "name"), "ctx": {"max_length": 300}})

    def gateway(response_type: str):
        status, code, message = GATEWAY_ERRORS[response_type]
        return example(status, code, Message(message))

    return (
        example(400, "invalid_json", _NOT_JSON, path="body"),
        example(400, "invalid_multipart", _NO_BOUNDARY, path="body"),
        gateway("UNAUTHORIZED"),
        example(401, "missing_api_key", _NO_KEY),
        example(413, "payload_too_large", _BODY_TOO_LARGE),
        example(415, "unsupported_media_type", _MEDIA_TYPES_TEXT),
        example(422, "missing_field", Message(missing["message"]), path=missing["path"],
                extra={"details": [missing, unknown]}),
        example(422, "unknown_field", Message(unknown["message"]), path=unknown["path"], extra={"details": [unknown]}),
        example(422, "invalid_value", Message(too_long["message"]), path=too_long["path"],
                extra={"details": [too_long]}),
        example(422, "invalid_character", not_xml_message("\x00"), path="name"),
        gateway("THROTTLED"),
        gateway("QUOTA_EXCEEDED"),
        example(500, "internal_error", _INTERNAL),
        gateway("AUTHORIZER_FAILURE"),
    )


def file_responses(description: str, file: str, errors: dict[int, ErrorDoc] | None = None, *,
                   example: tuple[str, str, str]) -> dict:
    """The `responses=` of a download that redirects to the file (`file_redirect`): 303 with the
    `Location` header and a FileDownload body, then the errors. `file` says what the URL answers with
    (its content type and file name); `example` is a file's key in the bucket, name and type, for the
    body's example."""
    key, filename, content_type = example
    responses = route_responses(303, description, errors)
    responses[303]["headers"] = {
        "Location": {"description": "A presigned URL of the file, valid for a few minutes (by default 5). Its "
                                   f"answer is the file's bytes, with {file}.",
                     "schema": {"type": "string", "format": "uri"}}}
    url = (f"https://sello-documents.s3.us-east-1.amazonaws.com/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           "&X-Amz-Expires=300&X-Amz-Signature=5d41402abc4b2a76b9719d91")
    responses[303]["content"] = {"application/json": {"model": FileDownload, "example": {
        "url": url, "filename": filename, "content_type": content_type, "expires_at": "2026-03-02T15:05:00Z"}}}
    return responses


def file_redirect(found) -> Response:
    """A redirect (303 See Other) to a short-lived presigned URL of a file in the bucket
    (sello.services.downloads.Download): the bytes come from S3 whatever the request's Accept header
    and whatever their size (neither API Gateway's 10 MB nor Lambda's 6 MB payload limit applies);
    the JSON body says the same for clients that do not follow redirects."""
    body = FileDownload(url=found.url, filename=found.filename, content_type=found.content_type,
                        expires_at=found.expires_at)
    return Response(status_code=303, content_type="application/json", body=body.model_dump_json(),
                    headers={"Location": found.url, "Cache-Control": "no-store"})


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
        return _invalid_json(_NOT_JSON, t)
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
        return PayloadTooLarge(_BODY_TOO_LARGE)
    if event.http_method in ("POST", "PUT", "PATCH") and body:
        content_type = request_content_type(event)
        media = media_type(content_type)
        if media == "multipart/form-data" and any(p.fullmatch(event.path or "") for p in multipart):
            if "boundary=" not in content_type.partition(";")[2].lower():
                return BadRequest(_NO_BOUNDARY, code="invalid_multipart", path="body")
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
        # Likewise the examples of a response's content (ErrorDoc.response).
        for route in self._static_routes + self._dynamic_routes:
            if route.openapi_extensions:
                route.openapi_extensions = {name: value() if callable(value) else value
                                            for name, value in route.openapi_extensions.items()}
            for response in (route.responses or {}).values():
                for content in (response.get("content") or {}).values():
                    if callable(content.get("examples")):
                        content["examples"] = content["examples"]()
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
        return error_response(500, {"code": "internal_error", "message": translated.text(_INTERNAL)},
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
        raise Unauthorized(_NO_KEY, code="missing_api_key")
    return Principal(account_id=account_id, environment=environment, key_id=key_id or "",
                     language=language_of(ctx.get("language")))
