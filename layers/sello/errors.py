"""Errors the API returns: each has a stable code, an HTTP status and, for input errors, a field path.

The message is a sello.i18n.Message (`_l(...)`), rendered in the caller's language when the answer
is written (`to_dict(translator)`); `message` holds it in the source language (English), for logs
and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sello.i18n import Message, Translator


class SelloError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str | Message, *, code: str | None = None, path: str | None = None,
                 status: int | None = None, extra: dict | None = None):
        super().__init__(str(message))
        self.text = message
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.path = path
        self.extra = extra or {}  # further fields of the error body (http.ErrorDetail), e.g. limit and size

    def localized(self, translator: Translator | None = None) -> str:
        """The message in the translator's language (as written without one)."""
        if translator is None or isinstance(self.text, str):
            return self.message
        return self.text.render(translator)

    def to_dict(self, translator: Translator | None = None) -> dict:
        body = {"code": self.code, "message": self.localized(translator)}
        if self.path:
            body["path"] = self.path
        return body | self.extra

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the JSON body."""
        return {}


class BadRequest(SelloError):
    status = 400
    code = "bad_request"


class Unauthorized(SelloError):
    status = 401
    code = "unauthorized"


class Forbidden(SelloError):
    status = 403
    code = "forbidden"


class NotFound(SelloError):
    status = 404
    code = "not_found"


class Conflict(SelloError):
    status = 409
    code = "conflict"


class Gone(SelloError):
    status = 410
    code = "gone"


class PayloadTooLarge(SelloError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(SelloError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(SelloError):
    """Well-formed input that breaks a business rule (check digit, expired certificate, ...)."""

    status = 422
    code = "validation_error"


class TooManyRequests(SelloError):
    """`retry_after`: seconds until the request may succeed, sent as the Retry-After header."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str | Message, *, code: str | None = None, path: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message, code=code, path=path)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class ServiceUnavailable(SelloError):
    """A service the request depends on failed; nothing was kept and the request can be retried."""

    status = 503
    code = "service_unavailable"
