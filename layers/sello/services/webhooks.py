"""Webhook endpoints: register where an account's events go, change, disable, delete them and roll
their signing secret. Scoped to the caller's account and API key environment: another account's (or
the other environment's) endpoint is simply not found.

A URL is checked when it is registered or changed (adapters/webhook_http: https, public addresses
only) and checked again before every delivery, since DNS answers change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sello.adapters import webhook_http
from sello.adapters.dynamo import DynamoStore
from sello.adapters.webhooks_repo import DynamoWebhooksRepo
from sello.errors import Conflict, NotFound
from sello.i18n import _l
from sello.ids import is_id, new_id, utcnow
from sello.models.webhooks import (
    MAX_ENDPOINTS,
    WebhookEndpoint,
    WebhookEndpointBody,
    WebhookEndpointList,
    WebhookEndpointUpdate,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from sello.settings import get_settings
from sello.validation import validate_body
from sello.webhook_signing import new_secret

logger = Logger(service="sello")

# After a roll, deliveries are also signed with the previous secret this long, so receivers can
# switch to the new one without missing an event.
ROLL_OVERLAP = timedelta(hours=24)


class WebhooksRepo(Protocol):
    def put_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def get_endpoint(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def list_endpoints(self, account_id: str, environment: str) -> list[WebhookEndpoint]: ...
    def delete_endpoint(self, account_id: str, environment: str, endpoint_id: str) -> None: ...


def endpoint_not_found() -> NotFound:
    return NotFound(_l("No webhook endpoint with this id."), code="webhook_endpoint_not_found", path="endpoint_id")


class WebhookService:
    def __init__(self, repo: WebhooksRepo, clock: Callable[[], datetime] = utcnow,
                 resolver: webhook_http.Resolver = webhook_http.resolve, allow_loopback_http: bool = False):
        self.repo = repo
        self.clock = clock
        self.resolver = resolver
        self.allow_loopback_http = allow_loopback_http

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def check_url(self, url: str) -> webhook_http.Target:
        return webhook_http.check_url(url, allow_loopback_http=self.allow_loopback_http, resolver=self.resolver)

    def find(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = (self.repo.get_endpoint(account_id, environment, endpoint_id)
                    if is_id(endpoint_id, "whep") else None)
        if endpoint is None:
            raise endpoint_not_found()
        return endpoint

    def create(self, account_id: str, environment: str, body: Any) -> WebhookEndpointWithSecret:
        request = validate_body(WebhookEndpointBody, body)
        self.check_url(request.url)
        if len(self.repo.list_endpoints(account_id, environment)) >= MAX_ENDPOINTS:
            raise Conflict(_l("This account already has {limit} webhook endpoints in this environment; delete "
                              "one first.", limit=MAX_ENDPOINTS), code="too_many_webhook_endpoints")
        now = self._now()
        endpoint = WebhookEndpoint(id=new_id("whep"), account_id=account_id, environment=environment,
                                   url=request.url, enabled_events=list(dict.fromkeys(request.enabled_events)),
                                   description=request.description, secret=new_secret(), created_at=now,
                                   updated_at=now)
        self.repo.put_endpoint(endpoint)
        logger.info("webhook endpoint created", account_id=account_id, endpoint_id=endpoint.id)
        return WebhookEndpointWithSecret(**WebhookEndpointView.of(endpoint, now).model_dump(),
                                         secret=endpoint.secret)

    def view(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpointView:
        return WebhookEndpointView.of(self.find(account_id, environment, endpoint_id), self.clock())

    def list(self, account_id: str, environment: str) -> WebhookEndpointList:
        now = self.clock()
        endpoints = sorted(self.repo.list_endpoints(account_id, environment), key=lambda e: e.created_at)
        return WebhookEndpointList(data=[WebhookEndpointView.of(e, now) for e in endpoints])

    def update(self, account_id: str, environment: str, endpoint_id: str, body: Any) -> WebhookEndpointView:
        request = validate_body(WebhookEndpointUpdate, body)
        endpoint = self.find(account_id, environment, endpoint_id)
        changes: dict[str, Any] = {}
        if request.url is not None:
            self.check_url(request.url)
            changes["url"] = request.url
        if request.enabled_events is not None:
            changes["enabled_events"] = list(dict.fromkeys(request.enabled_events))
        if request.description is not None:
            changes["description"] = request.description
        if request.disabled is not None:
            changes.update(disabled=request.disabled, disabled_reason=None)
            if not request.disabled:
                changes["failing_since"] = None  # enabled again: the three days start over
        now = self._now()
        updated = endpoint.model_copy(update=changes | {"updated_at": now})
        self.repo.put_endpoint(updated)
        return WebhookEndpointView.of(updated, now)

    def delete(self, account_id: str, environment: str, endpoint_id: str) -> None:
        self.find(account_id, environment, endpoint_id)
        self.repo.delete_endpoint(account_id, environment, endpoint_id)

    def roll_secret(self, account_id: str, environment: str, endpoint_id: str) -> WebhookEndpointWithSecret:
        """A new secret, shown this once; the current one stays valid (deliveries carry both signatures)
        for ROLL_OVERLAP. Rolling again within that day drops the oldest."""
        endpoint = self.find(account_id, environment, endpoint_id)
        now = self._now()
        rolled = endpoint.model_copy(update={"secret": new_secret(), "previous_secret": endpoint.secret,
                                             "previous_secret_expires_at": now + ROLL_OVERLAP, "updated_at": now})
        self.repo.put_endpoint(rolled)
        logger.info("webhook secret rolled", account_id=account_id, endpoint_id=endpoint_id)
        return WebhookEndpointWithSecret(**WebhookEndpointView.of(rolled, now).model_dump(), secret=rolled.secret)


def default_service() -> WebhookService:
    settings = get_settings()
    return WebhookService(DynamoWebhooksRepo(DynamoStore(settings.table_name)),
                          allow_loopback_http=settings.webhook_allow_loopback_http)
