"""Limits on the emails a caller can make the service send to addresses of its choosing: a document
emailed again, and the notices of certificate uploads. Each request counts against a narrow limit
(the document, the issuer) and a wide one (the account; for documents, the account's environment,
so that test keys cannot use up what live documents need). Over either: 429 too_many_emails with
the seconds until the window ends (Retry-After)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sello.adapters.rate_limits import Limit
from sello.errors import TooManyRequests
from sello.i18n import Message, _l, _ln
from sello.models.common import Environment
from sello.settings import Settings


class RateLimiter(Protocol):
    def take(self, account_id: str, limits: Sequence[Limit], window_seconds: int, now: int) -> int | None: ...


def document_email_limits(settings: Settings, environment: Environment, document_id: str) -> list[Limit]:
    return [Limit(f"document_email#{document_id}", settings.document_emails_per_document),
            Limit(f"document_email#{environment}", settings.document_emails_per_account)]


def certificate_email_limits(settings: Settings, issuer_id: str) -> list[Limit]:
    return [Limit(f"certificate_email#{issuer_id}", settings.certificate_emails_per_issuer),
            Limit("certificate_email", settings.certificate_emails_per_account)]


def take_email(limiter: RateLimiter | None, settings: Settings, account_id: str, limits: list[Limit],
               now: datetime, what: str) -> None:
    """Counts one email against `limits`; raises 429 too_many_emails when one is used up. `what`
    says what is limited, for the message. No limiter: no limit."""
    if limiter is None:
        return
    window = settings.email_limit_window_seconds
    wait = limiter.take(account_id, limits, window, int(now.timestamp()))
    if wait is not None:
        raise TooManyRequests(
            _l("Too many emails: at most {narrow} per {what} and {wide} per account in {window}. Try again in "
               "{wait}.", narrow=limits[0].max, what=_WHAT.get(what, what), wide=limits[1].max,
               window=_span(window), wait=_span(wait)), code="too_many_emails", retry_after=wait)


_WHAT = {"document": _l("document"), "issuer": _l("issuer")}


def _span(seconds: int) -> Message:
    """A duration in words, rounded up to whole minutes from a minute on: "1 hour", "25 minutes"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return _ln("{n} hour", "{n} hours", seconds // 3600)
    if seconds >= 60:
        return _ln("{n} minute", "{n} minutes", -(-seconds // 60))
    return _ln("{n} second", "{n} seconds", seconds)
