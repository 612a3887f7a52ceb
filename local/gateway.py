"""API Gateway (REST API, Lambda proxy integration, REQUEST authorizer) in front of the real
handlers, as a small WSGI app. Routing reads the same catalog as the CDK app: each API function owns
its path prefixes, as `<prefix>` and `<prefix>/{proxy+}` resources, and every route but the public
ones goes through the authorizer first.

The answers API Gateway gives by itself (no key, an authorizer that fails, an unknown route, a
request too large, a function that fails) are the catalog's GATEWAY_ERRORS, which the CDK app
declares as gateway responses. Request bodies whose type is one of catalog.BINARY_MEDIA_TYPES reach
the function base64-encoded, any other as text; a base64 function result is decoded only when the
first Accept type is binary too.

Two size limits apply before a function runs: API Gateway takes at most 10 MB of payload, and a
synchronous Lambda invocation at most 6 MB of event, the JSON of the whole proxy event (headers,
request context and the body, which base64 makes a third larger: a multipart upload over about
4.5 MB is already too much). Either one answers 413 payload_too_large, as in AWS the function never
sees such a request; the functions check their own 6 MB body limit as well.

With `limits` (local/limits.py), requests are throttled as API Gateway does: per usage key (the
throttle of the account's usage plan) and per public route; over the limit the answer is the
THROTTLED gateway response, 429 with Retry-After.

Every path of the catalog goes to its function as in AWS: /v1 and below, and the index, the OpenAPI
document and the Swagger UI (`/`, `/openapi.json`, `/docs`, served by the docs function). Next to
them it serves what only exists locally: /_local/health, and the outbox of sent email under
/_local/outbox (`?to=<address>` keeps the messages to one address, `?order=newest` lists the newest
first)."""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import secrets
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from local import lambdas
from local.limits import RequestLimits
from local.outbox import Outbox
from local.resources import ACCOUNT, REGION
from sello import catalog
from sello.catalog import FunctionSpec
from sello.http import media_type

API_ID = "sellolocal"
STAGE = "local"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit for a request payload
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's limit for a synchronous invocation's payload (the event)
FUNCTION_FAILED = "Internal server error"  # API Gateway's message when a function fails or answers garbage
_AUTHORIZER_VALUE = re.compile(r"\$context\.authorizer\.(\w+)")

Invoke = Callable[[str, dict], Any]


@dataclass(frozen=True)
class Route:
    function: FunctionSpec
    resource: str  # the API Gateway resource template, e.g. /v1/issuers/{proxy+}
    path_parameters: dict[str, str] | None


def match(path: str) -> Route | None:
    """The resource API Gateway picks for `path` (a fixed one before a variable or {proxy+} one) and its
    path parameters."""
    spec = catalog.function_for_path(path)
    if spec is None:
        return None
    if any(path == public for _, public in catalog.PUBLIC_ROUTES):  # a fixed resource beside {proxy+}
        return Route(spec, path, None)
    for resource in catalog.resources(spec):
        parameters = catalog.path_parameters(resource, path.rstrip("/") or "/")
        if parameters is not None:
            return Route(spec, resource, parameters or None)
    return None


def error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"error": {"code": code, "message": message}}), status=status,
                    content_type="application/json")


def gateway_error(response_type: str, *, status: int | None = None, message: str | None = None,
                  authorizer: dict | None = None) -> Response:
    """The gateway response of that type (catalog.GATEWAY_ERRORS); `status` and `message` stand in
    for API Gateway's own where the catalog keeps them (DEFAULT_4XX/5XX), and `authorizer` (the
    context the authorizer answered with) fills in its `$context.authorizer.<key>` values."""
    default_status, code, default_message = catalog.GATEWAY_ERRORS[response_type]

    def fill(text: str) -> str:
        return _AUTHORIZER_VALUE.sub(lambda m: _as_string((authorizer or {}).get(m.group(1), "")), text)

    return error(default_status or status or 500, fill(code), fill(default_message or message or ""))


def throttled() -> Response:
    """The THROTTLED gateway response with its headers (Retry-After)."""
    response = gateway_error("THROTTLED")
    for name, value in catalog.GATEWAY_HEADERS.get("THROTTLED", {}).items():
        response.headers[name] = value
    return response


def is_binary(value: str | None) -> bool:
    """Whether a Content-Type (or Accept) value is one of the API's binary media types."""
    mime = media_type(value)
    return bool(mime) and any(fnmatch.fnmatchcase(mime, t) for t in catalog.BINARY_MEDIA_TYPES)


def encode_body(data: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """(body, isBase64Encoded) as API Gateway passes a request body to a proxy integration: base64
    for a binary media type, otherwise UTF-8 text (bytes that are not UTF-8 do not survive)."""
    if not data:
        return None, False
    if is_binary(content_type):
        return base64.b64encode(data).decode("ascii"), True
    return data.decode("utf-8", errors="replace"), False


def event_size(event: dict) -> int:
    """Bytes of the event as Lambda receives it (JSON, UTF-8)."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _headers(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi.setdefault(name, []).append(value)
    client = request.remote_addr or "127.0.0.1"
    port = str(request.server[1]) if request.server and request.server[1] else "80"
    trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    for name, value in (("X-Forwarded-For", client), ("X-Forwarded-Port", port),
                        ("X-Forwarded-Proto", request.scheme), ("X-Amzn-Trace-Id", trace)):
        multi.setdefault(name, [value])
    return {k: v[-1] for k, v in multi.items()}, multi


def _query(request: Request) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    multi = request.args.to_dict(flat=False)
    if not multi:
        return None, None
    return {k: v[-1] for k, v in multi.items()}, multi


def request_context(request: Request, route: Route) -> dict:
    now = datetime.now(UTC)
    return {
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0].split(":")[0],
        "extendedRequestId": secrets.token_urlsafe(12),
        "httpMethod": request.method,
        "identity": {
            "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
            "principalOrgId": None, "sourceIp": request.remote_addr or "127.0.0.1", "user": None,
            "userAgent": request.headers.get("User-Agent"), "userArn": None,
        },
        # The path as the client asked for it: at an execute-api address it starts with the stage;
        # local URLs have none (as behind a custom domain).
        "path": request.path,
        "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        "requestId": str(uuid.uuid4()),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": route.function.name,
        "resourcePath": route.resource,
        "stage": STAGE,
    }


def method_arn(method: str, path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"


def _event(request: Request, route: Route) -> dict:
    """What the proxy integration's event and the authorizer's have in common."""
    headers, multi_headers = _headers(request)
    query, multi_query = _query(request)
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": route.path_parameters,
        "stageVariables": None,
        "requestContext": request_context(request, route),
    }


def authorizer_event(request: Request, route: Route) -> dict:
    """A REQUEST authorizer event (identity source: the Authorization header)."""
    arn = method_arn(request.method, request.path)
    return {"type": "REQUEST", "methodArn": arn, **_event(request, route)}


def proxy_event(request: Request, route: Route, body: bytes, authorizer: dict | None = None) -> dict:
    """The event a Lambda proxy integration receives for this request."""
    event = _event(request, route)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    text, is_base64 = encode_body(body, request.content_type)
    return {**event, "body": text, "isBase64Encoded": is_base64}


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _allows(policy: dict, arn: str) -> bool:
    """IAM-style evaluation of an authorizer policy for execute-api:Invoke on `arn`: an explicit
    Deny wins, otherwise some Allow must match."""
    allowed = False
    for statement in (policy or {}).get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def to_response(result: Any, accept: str | None = None) -> Response:
    """Maps a Lambda proxy result back to HTTP, as API Gateway does (502 when it is malformed). A
    base64 body is decoded only when the first type the client accepts is a binary media type;
    otherwise the client gets the base64 text."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return gateway_error("DEFAULT_5XX", status=502, message=FUNCTION_FAILED)
    body = result.get("body") or ""
    decode = result.get("isBase64Encoded") and is_binary((accept or "").split(",")[0])
    data = base64.b64decode(body) if decode else body.encode("utf-8")
    headers = Headers()
    multi = result.get("multiValueHeaders") or {}
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.add(name, str(value))
    for name, values in multi.items():
        for value in values:
            headers.add(name, str(value))
    if "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return Response(data, status=result["statusCode"], headers=headers)


class Gateway:
    """The WSGI app. `invoke(name, event)` runs a function by its catalog name (the real handlers
    by default; tests may pass their own)."""

    def __init__(self, outbox: Outbox | None = None, invoke: Invoke = lambdas.invoke, *,
                 health: dict | None = None, limits: RequestLimits | None = None):
        self.outbox = outbox
        self.invoke = invoke
        self.limits = limits
        self.health = health or {}
        self.local_routes = Map([
            Rule("/_local/health", endpoint="health", methods=["GET"]),
            Rule("/_local/outbox", endpoint="outbox", methods=["GET"]),
            Rule("/_local/outbox/<int:n>.eml", endpoint="eml", methods=["GET"]),
        ], strict_slashes=False)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/v1/") or catalog.function_for_path(request.path) is not None:
            return self.api(request)
        try:
            endpoint, args = self.local_routes.bind_to_environ(request.environ).match()
        except NotFound:
            return gateway_error("MISSING_AUTHENTICATION_TOKEN")
        except HTTPException as exc:  # 405 on a local endpoint
            return error(exc.code or 405, "method_not_allowed",
                         f"No route for {request.method} {request.path}.")
        try:
            return getattr(self, f"local_{endpoint}")(request, **args)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return error(500, "internal_error", "The local endpoint failed; see the local stack's log.")

    # --- /v1: what API Gateway does -------------------------------------------------------------
    def api(self, request: Request) -> Response:
        route = match(request.path)
        # also a method its resource does not have (the inbound URL has POST only)
        if route is None or (route.function.public and (request.method, route.resource) not in route.function.public):
            return gateway_error("MISSING_AUTHENTICATION_TOKEN")
        body = request.stream.read(MAX_PAYLOAD_BYTES + 1)
        if len(body) > MAX_PAYLOAD_BYTES:
            while request.stream.read(1 << 20):  # let the client finish sending before it reads the answer
                pass
            return gateway_error("REQUEST_TOO_LARGE")
        authorizer = None
        if not catalog.is_public(request.method, request.path):
            authorizer = self.authorize(request, route)
            if isinstance(authorizer, Response):
                return authorizer
            usage_key = authorizer.pop("usageIdentifierKey", None)
            allowed = self.limits.allow_key(usage_key) if self.limits else True
            if allowed is None:  # API Gateway's answer when the key is in no usage plan of the stage
                return gateway_error("DEFAULT_4XX", status=403, message="Forbidden")
            if not allowed:
                return throttled()
        elif self.limits and not self.limits.allow_route(request.method, route.resource):
            # per resource, as the stage's method settings: one bucket for every store's inbound URL
            return throttled()
        event = proxy_event(request, route, body, authorizer)
        if event_size(event) > MAX_EVENT_BYTES:  # Lambda refuses the invocation; the function never runs
            return gateway_error("REQUEST_TOO_LARGE")
        try:
            result = self.invoke(route.function.name, event)
        except Exception:  # an unhandled error in the function: API Gateway answers 502
            traceback.print_exc(file=sys.stderr)
            return gateway_error("DEFAULT_5XX", status=502, message=FUNCTION_FAILED)
        return to_response(result, request.headers.get("Accept"))

    def authorize(self, request: Request, route: Route) -> dict | Response:
        """The requestContext.authorizer for an allowed request, or the error response: 401 without
        the Authorization header or when the authorizer raises "Unauthorized", 403 for a Deny, 500
        when the authorizer fails otherwise or answers something that is not a policy."""
        if not request.headers.get("Authorization"):
            return gateway_error("UNAUTHORIZED")  # identity source missing: the authorizer is not called
        try:
            result = self.invoke(catalog.AUTHORIZER.name, authorizer_event(request, route))
        except Exception as exc:
            if str(exc) == "Unauthorized":  # the documented way to answer 401
                return gateway_error("UNAUTHORIZED")
            traceback.print_exc(file=sys.stderr)
            return gateway_error("AUTHORIZER_FAILURE")
        if not (isinstance(result, dict) and isinstance(result.get("policyDocument"), dict)
                and "principalId" in result):
            return gateway_error("AUTHORIZER_CONFIGURATION_ERROR")
        context = result.get("context") or {}
        if not _allows(result["policyDocument"], method_arn(request.method, request.path)):
            return gateway_error("ACCESS_DENIED", authorizer=context)
        authorizer = {k: _as_string(v) for k, v in context.items()}
        authorizer["principalId"] = str(result["principalId"])
        authorizer["integrationLatency"] = 0
        if result.get("usageIdentifierKey"):  # for the usage plan; not part of the function's event
            authorizer["usageIdentifierKey"] = str(result["usageIdentifierKey"])
        return authorizer

    # --- local-only endpoints -------------------------------------------------------------------
    def local_health(self, _request: Request) -> Response:
        return Response(json.dumps({"status": "ok", **self.health}), content_type="application/json")

    def local_outbox(self, request: Request) -> Response:
        messages = self.outbox.summaries() if self.outbox else []
        to = request.args.get("to")
        if to is not None:
            messages = [m for m in messages if m["to"].strip().lower() == to.strip().lower()]
        order = request.args.get("order", "oldest")
        if order not in ("oldest", "newest"):
            return error(400, "invalid_value", "order is oldest (the default) or newest.")
        if order == "newest":
            messages = messages[::-1]
        return Response(json.dumps(messages, indent=2), content_type="application/json")

    def local_eml(self, _request: Request, n: int) -> Response:
        data = self.outbox.raw(n) if self.outbox else None
        if data is None:
            return error(404, "message_not_found", f"The outbox has no message {n}.")
        return Response(data, content_type="message/rfc822")


class AccessLog(WSGIRequestHandler):
    """One line per request on stderr, without the emulator's own traffic."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        started = getattr(self, "_started", None)
        took = f" {(time.perf_counter() - started) * 1000:.0f} ms" if started else ""
        print(f"{self.command} {self.path} -> {code}{took}", file=sys.stderr, flush=True)

    def run_wsgi(self) -> None:
        self._started = time.perf_counter()
        super().run_wsgi()


class QuietLog(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
