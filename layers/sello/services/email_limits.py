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
            f"Too many emails: at most {limits[0].max} per {what} and {limits[1].max} per account in "
            f"{_span(window)}. Try again in {_span(wait)}.", code="too_many_emails", retry_after=wait)


def _span(seconds: int) -> str:
    """A duration in words, rounded up to whole minutes from a minute on: "an hour", "25 minutes"."""
    for unit, name, one in ((3600, "hour", "an hour"), (60, "minute", "a minute")):
        if seconds >= unit and (unit == 60 or seconds % unit == 0):
            count = -(-seconds // unit)
            return one if count == 1 else f"{count} {name}s"
    return "a second" if seconds == 1 else f"{seconds} seconds"
