"""Events: what happened to an account's documents, cancellations and certificates, recorded once
and queued for delivery to each enabled endpoint of the account's environment that wants its type.

Emitting is a side effect of a step that has already succeeded (a document authorized, a certificate
stored), so it never fails that step: whatever goes wrong is logged as the error "event not emitted"
(with the account, the type and the object's id) and the step goes on. An event that was recorded
but not queued for an endpoint can be sent again with POST /v1/events/{id}/redeliver; one that could
not be recorded at all is only in that log line (README: Receiving events)."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sello.adapters.dynamo import DynamoStore
from sello.adapters.event_queue import SqsDeliveryQueue
from sello.adapters.events_repo import DynamoEventsRepo
from sello.adapters.webhooks_repo import DynamoWebhooksRepo
from sello.errors import NotFound
from sello.i18n import _l
from sello.ids import ID_LENGTH, iso, is_id, utcnow
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.webhooks import EVENT_TYPES, Event, EventList, WebhookEndpoint
from sello.settings import get_settings

logger = Logger(service="sello")

_DIGITS = string.digits + string.ascii_lowercase
_TIME_CHARS = 9  # base 36 milliseconds since 1970: enough until the year 5188


def new_event_id(now: datetime) -> str:
    """`evt_` and 20 characters: the creation time (so ids sort by time) and random ones."""
    ms, stamp = int(now.timestamp() * 1000), ""
    for _ in range(_TIME_CHARS):
        ms, digit = divmod(ms, 36)
        stamp = _DIGITS[digit] + stamp
    return "evt_" + stamp + "".join(secrets.choice(_DIGITS) for _ in range(ID_LENGTH - _TIME_CHARS))


class EventsRepo(Protocol):
    def put_event(self, account_id: str, environment: str, event_id: str, event_type: str, created: datetime,
                  body: str) -> None: ...
    def get_event(self, account_id: str, environment: str, event_id: str) -> dict | None: ...
    def list_events(self, account_id: str, environment: str, limit: int,
                    cursor: str | None) -> tuple[list[dict], str | None]: ...


class EndpointsRepo(Protocol):
    def list_endpoints(self, account_id: str, environment: str) -> list[WebhookEndpoint]: ...


class DeliveryQueue(Protocol):
    def send(self, message: dict, delay_seconds: int = 0) -> None: ...


def event_not_found() -> NotFound:
    return NotFound(_l("No event with this id."), code="event_not_found", path="event_id")


def delivery_message(account_id: str, environment: str, event_id: str, endpoint_id: str, now: datetime) -> dict:
    """The queued message of a first attempt."""
    return {"account_id": account_id, "environment": environment, "event_id": event_id,
            "endpoint_id": endpoint_id, "attempt": 1, "first_attempt_at": iso(now), "not_before": iso(now)}


class EventService:
    def __init__(self, events: EventsRepo, endpoints: EndpointsRepo, queue: DeliveryQueue | None,
                 clock: Callable[[], datetime] = utcnow):
        self.events = events
        self.endpoints = endpoints
        self.queue = queue  # None: events are recorded, not delivered (no queue configured)
        self.clock = clock

    def record(self, account_id: str, environment: str, event_type: str, data: dict[str, Any]) -> Event:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type}")
        now = self.clock().replace(microsecond=0)
        event = Event(id=new_event_id(now), type=event_type, created=now, environment=environment, data=data)
        self.events.put_event(account_id, environment, event.id, event_type, now,
                              event.model_dump_json(exclude_none=False))
        return event

    def enqueue(self, account_id: str, environment: str, event_id: str, event_type: str,
                only: str | None = None) -> list[str]:
        """Queues a delivery to each enabled endpoint that wants the type (or to endpoint `only`); their ids."""
        if self.queue is None:
            logger.warning("no delivery queue configured: event recorded only", event_id=event_id)
            return []
        now = self.clock().replace(microsecond=0)
        queued = []
        for endpoint in self.endpoints.list_endpoints(account_id, environment):
            if only is not None and endpoint.id != only:
                continue
            if only is None and (endpoint.disabled or event_type not in endpoint.enabled_events):
                continue
            self.queue.send(delivery_message(account_id, environment, event_id, endpoint.id, now))
            queued.append(endpoint.id)
        return queued

    def emit(self, account_id: str, environment: str, event_type: str, data: dict[str, Any]) -> Event | None:
        """Records the event and queues its deliveries; never raises (see the module's docstring)."""
        event = None
        try:
            event = self.record(account_id, environment, event_type, data)
            self.enqueue(account_id, environment, event.id, event_type)
        except Exception:
            logger.exception("event not emitted", account_id=account_id, environment=environment,
                             event_type=event_type, object_id=data.get("id"),
                             event_id=event.id if event else None)
        return event

    # Reading -------------------------------------------------------------------------------------

    def get(self, account_id: str, environment: str, event_id: str) -> Event:
        item = self.events.get_event(account_id, environment, event_id) if is_id(event_id, "evt") else None
        if item is None:
            raise event_not_found()
        return Event.model_validate_json(item["body"])

    def list(self, account_id: str, environment: str, limit: int = DEFAULT_PAGE_SIZE,
             cursor: str | None = None) -> EventList:
        """Newest first, a page at a time."""
        items, next_cursor = self.events.list_events(account_id, environment, limit, cursor)
        return EventList(data=[Event.model_validate_json(item["body"]) for item in items], next_cursor=next_cursor)

    def redeliver(self, account_id: str, environment: str, event_id: str, endpoint_id: str | None = None) -> list[str]:
        """Queues the event again for its endpoints (enabled, wanting its type) or for one endpoint."""
        event = self.get(account_id, environment, event_id)
        return self.enqueue(account_id, environment, event.id, event.type, only=endpoint_id)


def default_service() -> EventService:
    settings = get_settings()
    store = DynamoStore(settings.table_name)
    queue = SqsDeliveryQueue(settings.events_queue_url) if settings.events_queue_url else None
    return EventService(DynamoEventsRepo(store), DynamoWebhooksRepo(store), queue)


def emit(account_id: str, environment: str, event_type: str, data: dict[str, Any]) -> None:
    """What the workflow and certificate steps call; never raises."""
    try:
        service = default_service()
    except Exception:
        logger.exception("event not emitted", account_id=account_id, event_type=event_type,
                         object_id=data.get("id"))
        return
    service.emit(account_id, environment, event_type, data)


def emit_document(account_id: str, document_id: str, event_type: str) -> None:
    """A document's event, with the document as GET /v1/documents/{id} shows it; never raises."""
    try:
        from sello.adapters.documents_repo import DynamoDocumentsRepo
        from sello.models.documents import DocumentView

        document = DynamoDocumentsRepo(DynamoStore(get_settings().table_name)).get(account_id, document_id)
        if document is None:
            logger.warning("event not emitted: no such document", account_id=account_id, document_id=document_id)
            return
        data = DocumentView.of(document).model_dump(mode="json", exclude_none=True)
    except Exception:
        logger.exception("event not emitted", account_id=account_id, event_type=event_type, object_id=document_id)
        return
    emit(account_id, document.environment, event_type, data)


def attempts(account_id: str, environment: str, endpoint_id: str, limit: int = DEFAULT_PAGE_SIZE,
             cursor: str | None = None):
    """The endpoint's delivery attempts, newest first (the endpoint must be the caller's)."""
    from sello.models.webhooks import DeliveryAttempt, DeliveryAttemptList
    from sello.services import webhooks

    webhooks.default_service().find(account_id, environment, endpoint_id)
    repo = DynamoEventsRepo(DynamoStore(get_settings().table_name))
    items, next_cursor = repo.list_attempts(account_id, environment, endpoint_id, limit, cursor)
    return DeliveryAttemptList(data=[DeliveryAttempt.model_validate(
        {k: v for k, v in item.items() if k in DeliveryAttempt.model_fields}) for item in items],
        next_cursor=next_cursor)
