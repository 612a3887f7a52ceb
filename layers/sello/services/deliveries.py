"""Delivering events: one queued message is one try to POST one event to one endpoint.

At least once, in no guaranteed order. A try succeeds on any 2xx answer within the timeout; anything
else (another status, a redirect, no answer, a URL the address rules refuse now) is a failure, and
the message comes back later: after `backoff_seconds(attempt)`, exponential from 5 s up to 6 hours
with full jitter (a random wait between zero and that), for as long as the retry window (three days
from the first try) has not passed; then it goes to the dead-letter queue, whose alarm calls for a
look. SQS delays a message at most 15 minutes, so a longer wait is a message re-sent with a
`not_before` and delayed again until it is due (spec pattern "re-send until due").

An endpoint whose tries have all failed for three days (since its first failure after its last
success), or that answered 410 Gone, is disabled, and the account's owner is told by email, in the
account's language (Spanish by default). Enabling it again (PATCH disabled=false) starts over."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sello.adapters import webhook_http
from sello.errors import Unprocessable
from sello.ids import iso, utcnow
from sello.models.webhooks import WebhookEndpoint
from sello.webhook_signing import signed_headers

logger = Logger(service="sello")

FIRST_BACKOFF_SECONDS = 5
MAX_BACKOFF_SECONDS = 6 * 3600
RETRY_WINDOW = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
MAX_QUEUE_DELAY_SECONDS = 900


def backoff_seconds(attempt: int, rng: Callable[[float, float], float] = random.uniform) -> int:
    """The wait after failed try number `attempt` (1, 2, ...): full jitter over an exponential cap."""
    cap = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** min(attempt - 1, 32))
    return int(rng(0, cap))


class Queue(Protocol):
    def send(self, message: dict, delay_seconds: int = 0) -> None: ...


class Repo(Protocol):
    def get_event(self, account_id: str, environment: str, event_id: str) -> dict | None: ...
    def put_attempt(self, account_id: str, environment: str, attempt: dict) -> None: ...


class Endpoints(Protocol):
    def get_endpoint(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def put_endpoint(self, endpoint: WebhookEndpoint) -> None: ...


Sender = Callable[[webhook_http.Target, bytes, dict[str, str]], webhook_http.Response]
Notifier = Callable[[WebhookEndpoint], None]  # tells the account's owner an endpoint was disabled


@dataclass
class Deliverer:
    events: Repo
    endpoints: Endpoints
    queue: Queue
    dead_letters: Queue
    notify_disabled: Notifier
    send: Sender = webhook_http.post
    allow_loopback_http: bool = False
    resolver: webhook_http.Resolver = webhook_http.resolve
    clock: Callable[[], datetime] = utcnow
    rng: Callable[[float, float], float] = field(default=random.uniform)

    def handle(self, message: dict[str, Any]) -> str:
        """One queued message; what became of it (for logs and tests): waiting, dropped, delivered,
        retrying or dead."""
        now = self.clock().replace(microsecond=0)
        due = datetime.fromisoformat(message["not_before"])
        if due > now:
            self.queue.send(message, min(MAX_QUEUE_DELAY_SECONDS, int((due - now).total_seconds())))
            return "waiting"
        account_id, environment = message["account_id"], message["environment"]
        endpoint = self.endpoints.get_endpoint(account_id, environment, message["endpoint_id"])
        event = self.events.get_event(account_id, environment, message["event_id"])
        if endpoint is None or endpoint.disabled or event is None:
            logger.info("delivery dropped", endpoint_id=message["endpoint_id"], event_id=message["event_id"],
                        reason="no endpoint" if endpoint is None else "disabled" if event else "no event")
            return "dropped"
        answer = self._try(endpoint, event, now)
        attempt = int(message["attempt"])
        record = {"event_id": event["id"], "event_type": event["event_type"], "endpoint_id": endpoint.id,
                  "attempt": attempt, "attempted_at": iso(now), "status_code": answer.status,
                  "duration_ms": answer.duration_ms, "succeeded": answer.ok,
                  "response_excerpt": answer.excerpt}
        if answer.error:
            record["error"] = answer.error
        if answer.ok:
            self.events.put_attempt(account_id, environment, record)
            if endpoint.failing_since is not None:
                self.endpoints.put_endpoint(endpoint.model_copy(update={"failing_since": None}))
            return "delivered"
        endpoint = self._failed(endpoint, answer, now)
        first = datetime.fromisoformat(message["first_attempt_at"])
        if endpoint.disabled or now - first >= RETRY_WINDOW:
            self.events.put_attempt(account_id, environment, record)
            self.dead_letters.send(message | {"last_status": answer.status, "last_error": answer.error})
            logger.warning("delivery given up", endpoint_id=endpoint.id, event_id=event["id"], attempts=attempt)
            return "dead"
        wait = backoff_seconds(attempt, self.rng)
        due = now + timedelta(seconds=wait)
        record["next_retry_at"] = iso(due)
        self.events.put_attempt(account_id, environment, record)
        self.queue.send(message | {"attempt": attempt + 1, "not_before": iso(due)},
                        min(MAX_QUEUE_DELAY_SECONDS, wait))
        return "retrying"

    def _try(self, endpoint: WebhookEndpoint, event: dict, now: datetime) -> webhook_http.Response:
        try:  # checked again at every try: DNS answers change
            target = webhook_http.check_url(endpoint.url, allow_loopback_http=self.allow_loopback_http,
                                            resolver=self.resolver)
        except Unprocessable as refused:
            return webhook_http.Response(None, 0, "", error=f"url_not_allowed: {getattr(refused, 'reason', '')}")
        body = event["body"].encode()
        headers = {"content-type": "application/json", "user-agent": "Sello-Webhooks/1",
                   **signed_headers(endpoint.signing_secrets(now), event["id"], int(now.timestamp()), body)}
        return self.send(target, body, headers)

    def _failed(self, endpoint: WebhookEndpoint, answer: webhook_http.Response, now: datetime) -> WebhookEndpoint:
        """Notes the failure on the endpoint; disables it after DISABLE_AFTER of failures or on 410."""
        since = endpoint.failing_since or now
        disable = answer.status == 410 or now - since >= DISABLE_AFTER
        if endpoint.failing_since is not None and not disable:
            return endpoint
        updated = endpoint.model_copy(update={"failing_since": since, "updated_at": now} | (
            {"disabled": True, "disabled_reason": "gone" if answer.status == 410 else "failing"} if disable else {}))
        self.endpoints.put_endpoint(updated)
        if disable:
            logger.warning("webhook endpoint disabled", account_id=endpoint.account_id, endpoint_id=endpoint.id,
                           reason=updated.disabled_reason)
            try:
                self.notify_disabled(updated)
            except Exception:
                logger.exception("disabled endpoint not notified", endpoint_id=endpoint.id)
        return updated


def email_owner(accounts: Any, mailer: Any) -> Notifier:
    """The notifier that emails the account's owner, in the account's language, that an endpoint
    was disabled and how to enable it again."""
    from sello.adapters.mailer import Mail
    from sello.i18n import translator

    def notify(endpoint: WebhookEndpoint) -> None:
        account = accounts.get_account(endpoint.account_id)
        if account is None:
            return
        t = translator(account.language)
        subject = t.gettext("A webhook endpoint was disabled: {url}").format(url=endpoint.url)
        reason = (t.gettext("it answered 410 Gone") if endpoint.disabled_reason == "gone"
                  else t.gettext("every delivery to it has failed for three days"))
        text = t.gettext(
            "Hello,\n\nSello stopped sending events to the webhook endpoint {id} ({url}, {environment} "
            "environment): {reason}. Its deliveries are listed by GET /v1/webhook-endpoints/{id}/deliveries.\n\n"
            "Once it answers again, enable it with PATCH /v1/webhook-endpoints/{id} and {{\"disabled\": false}}; "
            "events it missed can be sent again with POST /v1/events/{{event id}}/redeliver.\n"
        ).format(id=endpoint.id, url=endpoint.url, environment=endpoint.environment, reason=reason)
        mailer.send(Mail(to=account.email, subject=" ".join(subject.split()), text=text))

    return notify


def default_deliverer() -> Deliverer:
    from sello.adapters.accounts_repo import DynamoAccountsRepo
    from sello.adapters.dynamo import DynamoStore
    from sello.adapters.event_queue import SqsDeliveryQueue
    from sello.adapters.events_repo import DynamoEventsRepo
    from sello.adapters.mailer import SesMailer
    from sello.adapters.webhooks_repo import DynamoWebhooksRepo
    from sello.settings import get_settings

    settings = get_settings()
    store = DynamoStore(settings.table_name)

    def send(target, body, headers):
        return webhook_http.post(target, body, headers, timeout=settings.webhook_timeout_seconds,
                                 excerpt_bytes=settings.webhook_response_excerpt_bytes)

    return Deliverer(DynamoEventsRepo(store), DynamoWebhooksRepo(store), SqsDeliveryQueue(settings.events_queue_url),
                     SqsDeliveryQueue(settings.events_dead_letter_url),
                     email_owner(DynamoAccountsRepo(store), SesMailer()), send=send,
                     allow_loopback_http=settings.webhook_allow_loopback_http)
