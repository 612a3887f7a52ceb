"""Webhook endpoints (where an account's events go), the events themselves and their deliveries.

An endpoint belongs to an account and one API key environment: a test key's endpoints receive the
events of test documents only. Its signing secret is shown in two answers only, the creation's and a
roll's; every other answer shows `secret_hint`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from sello.models.common import Environment, Model, RequestBody, absent, text

EventType = Literal["document.authorized", "document.rejected", "document.failed",
                    "document.cancellation_updated", "certificate.accepted", "certificate.rejected",
                    "certificate.expiring"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__
MAX_ENDPOINTS = 16
_URL = text(2048)
_DESCRIPTION = text(200, min_length=0)
_EVENTS = Field(min_length=1, max_length=len(EVENT_TYPES),
                description="The event types the endpoint receives.", examples=[["document.authorized"]])
_URL_DOC = Field(description="Where events are POSTed: https, a host that resolves to public addresses only, "
                             "no user name or password.", examples=["https://shop.example.com/sello/events"])


class WebhookEndpointBody(RequestBody):
    url: _URL = _URL_DOC
    enabled_events: list[EventType] = _EVENTS
    description: _DESCRIPTION = Field(default="", examples=["Tienda en línea"])


class WebhookEndpointUpdate(RequestBody):
    """Only the fields sent change; `disabled: false` enables an endpoint again."""

    url: _URL | None = Field(default=None, description=_URL_DOC.description,
                             examples=["https://shop.example.com/sello/v2/events"])
    enabled_events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES),
                                                   examples=[["document.authorized", "certificate.expiring"]])
    description: _DESCRIPTION | None = Field(default=None, examples=["Tienda en línea"])
    disabled: bool | None = Field(default=None, examples=[False])


class WebhookEndpoint(Model):
    """The stored endpoint, with its secrets (never in a view)."""

    id: str
    account_id: str
    environment: Environment
    url: str
    enabled_events: list[str]
    description: str = ""
    disabled: bool = False
    disabled_reason: str | None = None
    secret: str
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the rolled one for its last day."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookEndpointView(Model):
    id: str = Field(examples=["whep_0a1b2c3d4e5f6g7h8i9j"])
    url: str = Field(examples=["https://shop.example.com/sello/events"])
    enabled_events: list[EventType] = Field(examples=[["document.authorized", "document.rejected"]])
    description: str = Field(examples=["Tienda en línea"])
    environment: Environment = Field(examples=["test"])
    status: Literal["enabled", "disabled"] = Field(examples=["enabled"])
    disabled_reason: str | None = absent(description="Why Sello disabled it (`failing`: three days of failed "
                                                     "deliveries); absent when enabled or disabled by request.",
                                         examples=["failing"])
    secret_hint: str = Field(description="The first characters of the signing secret.", examples=["whsec_Mf3K…"])
    previous_secret_expires_at: datetime | None = absent(
        description="After a roll: until when deliveries are also signed with the previous secret.",
        examples=["2026-03-03T15:00:00Z"])
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, now: datetime) -> WebhookEndpointView:
        from sello.webhook_signing import secret_hint

        rolling = len(endpoint.signing_secrets(now)) > 1
        return cls(id=endpoint.id, url=endpoint.url, enabled_events=endpoint.enabled_events,
                   description=endpoint.description, environment=endpoint.environment,
                   status="disabled" if endpoint.disabled else "enabled",
                   disabled_reason=endpoint.disabled_reason if endpoint.disabled else None,
                   secret_hint=secret_hint(endpoint.secret),
                   previous_secret_expires_at=endpoint.previous_secret_expires_at if rolling else None,
                   created_at=endpoint.created_at, updated_at=endpoint.updated_at)


class WebhookEndpointWithSecret(WebhookEndpointView):
    secret: str = Field(description="The signing secret, shown this once: keep it where your receiver reads it.",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwmfKQ9r8GKYo="])


class WebhookEndpointList(Model):
    data: list[WebhookEndpointView]


class Event(Model):
    """One event, as sent: `data` is the object as its GET shows it."""

    id: str = Field(description="The same on every delivery of the event (the `webhook-id` header).",
                    examples=["evt_0mq3ab7c9d1e2f3g4h5i"])
    type: EventType = Field(examples=["document.authorized"])
    created: datetime = Field(examples=["2026-03-02T15:00:04Z"])
    environment: Environment = Field(examples=["test"])
    data: dict[str, Any] = Field(description="The object as its GET shows it (a document, a certificate).",
                                 examples=[{"id": "doc_7m2k9x4v1c8b3n6q0w5e", "object": "document",
                                            "status": "authorized"}])


class EventList(Model):
    data: list[Event]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=["AZh2bX0kq3tVY9fE1wLrC8pN5sG7jD4uB6xM2nQ0iHkT"])


class DeliveryAttempt(Model):
    """One try to deliver an event to an endpoint."""

    event_id: str = Field(examples=["evt_0mq3ab7c9d1e2f3g4h5i"])
    event_type: str = Field(examples=["document.authorized"])
    endpoint_id: str = Field(examples=["whep_0a1b2c3d4e5f6g7h8i9j"])
    attempt: int = Field(description="1 for the first try of this event at this endpoint.", examples=[1])
    attempted_at: datetime = Field(examples=["2026-03-02T15:00:05Z"])
    status_code: int | None = Field(default=None, description="The endpoint's HTTP status; null when there "
                                                              "was no answer (see `error`).", examples=[503])
    duration_ms: int = Field(examples=[182])
    succeeded: bool = Field(description="A 2xx answer.", examples=[False])
    error: str | None = absent(description="Why there was no answer: `timeout`, `connection: …`, or the URL "
                                           "refused by the address rules (`url_not_allowed: address`).",
                               examples=["timeout"])
    response_excerpt: str = Field(default="", description="The first bytes of the answer (at most 512).",
                                  examples=["Service Unavailable"])
    next_retry_at: datetime | None = absent(description="When the next try is due; absent after a success or "
                                                        "the last try.", examples=["2026-03-02T15:05:10Z"])


class DeliveryAttemptList(Model):
    data: list[DeliveryAttempt]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=["AZh2bX0kq3tVY9fE1wLrC8pN5sG7jD4uB6xM2nQ0iHkT"])


class RedeliveryRequest(RequestBody):
    endpoint_id: str | None = Field(default=None, description="Only to this endpoint (even if it no longer "
                                                              "wants the type); by default to every enabled "
                                                              "endpoint that wants it.",
                                    examples=["whep_0a1b2c3d4e5f6g7h8i9j"])


class Redelivery(Model):
    event_id: str = Field(examples=["evt_0mq3ab7c9d1e2f3g4h5i"])
    endpoint_ids: list[str] = Field(description="The endpoints a delivery was queued for.",
                                    examples=[["whep_0a1b2c3d4e5f6g7h8i9j"]])
