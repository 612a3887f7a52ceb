"""Webhook endpoints, where an account's signed events go (README: Receiving events), the events and
their delivery attempts. Each API key environment has its own endpoints and events; the signing
secret is in the creation's and a roll's answer only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

import sello
from sello.http import PageCursor, PageLimit, error_doc, make_app, principal, route_responses
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.webhooks import (
    MAX_ENDPOINTS,
    DeliveryAttemptList,
    Event,
    EventList,
    Redelivery,
    RedeliveryRequest,
    WebhookEndpointBody,
    WebhookEndpointList,
    WebhookEndpointUpdate,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from sello.services import events, webhooks

router = Router()

_TAGS = ["Webhooks"]
_ENDPOINT_ID = Annotated[str, Path(description="The endpoint's id: `whep_` and 20 lower-case letters or digits. "
                                               "Any other value is `webhook_endpoint_not_found`.")]
_NOT_FOUND = error_doc("webhook_endpoint_not_found")
_URL_REFUSED = error_doc("webhook_url_not_allowed", note="not https, a user name or password in it, a host that "
                                                         "does not resolve, or one that resolves to an address "
                                                         "that is not public")


@router.post(
    "/v1/webhook-endpoints", summary="Register a webhook endpoint", tags=_TAGS, status_code=201,
    description="An HTTPS URL that receives the account's events of the chosen types, for the API key's "
                "environment, signed as Standard Webhooks specifies. The answer holds the signing secret, "
                f"shown this once. At most {MAX_ENDPOINTS} endpoints per environment.",
    responses=route_responses(201, "Endpoint registered, with its secret", {
        409: error_doc("too_many_webhook_endpoints"), 422: _URL_REFUSED}, body=True),
)
def create_endpoint(body: Annotated[WebhookEndpointBody, Body()]) -> WebhookEndpointWithSecret:
    caller = principal(router)
    return webhooks.default_service().create(caller.account_id, caller.environment, body)


@router.get("/v1/webhook-endpoints", summary="List webhook endpoints", tags=_TAGS,
            description="The endpoints of the API key's environment, oldest first.",
            responses=route_responses(200, "The endpoints"))
def list_endpoints() -> WebhookEndpointList:
    caller = principal(router)
    return webhooks.default_service().list(caller.account_id, caller.environment)


@router.get("/v1/webhook-endpoints/<endpoint_id>", summary="Get a webhook endpoint", tags=_TAGS,
            responses=route_responses(200, "The endpoint", {404: _NOT_FOUND}))
def get_endpoint(endpoint_id: _ENDPOINT_ID) -> WebhookEndpointView:
    caller = principal(router)
    return webhooks.default_service().view(caller.account_id, caller.environment, endpoint_id)


@router.patch("/v1/webhook-endpoints/<endpoint_id>", summary="Change a webhook endpoint", tags=_TAGS,
              description="Only the fields sent change: `url`, `enabled_events`, `description`, and `disabled` "
                          "(true stops deliveries; false enables it again, also after Sello disabled it for "
                          "failing).",
              responses=route_responses(200, "The endpoint as changed", {404: _NOT_FOUND, 422: _URL_REFUSED},
                                        body=True))
def update_endpoint(endpoint_id: _ENDPOINT_ID,
                    body: Annotated[WebhookEndpointUpdate, Body()]) -> WebhookEndpointView:
    caller = principal(router)
    return webhooks.default_service().update(caller.account_id, caller.environment, endpoint_id, body)


@router.delete("/v1/webhook-endpoints/<endpoint_id>", summary="Delete a webhook endpoint", tags=_TAGS,
               status_code=204, description="No more events go to it.",
               responses={**route_responses(204, "Deleted", {404: _NOT_FOUND}),
                          204: {"description": "Deleted", "content": {}}})
def delete_endpoint(endpoint_id: _ENDPOINT_ID):
    caller = principal(router)
    webhooks.default_service().delete(caller.account_id, caller.environment, endpoint_id)
    return Response(status_code=204)


@router.post("/v1/webhook-endpoints/<endpoint_id>/roll-secret", summary="Roll the signing secret", tags=_TAGS,
             description="A new secret, shown this once. For the next 24 hours every delivery carries two "
                         "signatures, with the new and the previous secret, so the receiver can switch over.",
             responses=route_responses(200, "The endpoint with its new secret", {404: _NOT_FOUND}))
def roll_secret(endpoint_id: _ENDPOINT_ID) -> WebhookEndpointWithSecret:
    caller = principal(router)
    return webhooks.default_service().roll_secret(caller.account_id, caller.environment, endpoint_id)


@router.get("/v1/webhook-endpoints/<endpoint_id>/deliveries", summary="List an endpoint's deliveries", tags=_TAGS,
            description="Every try to deliver an event to the endpoint, newest first, kept 30 days: the HTTP "
                        "status, how long it took, the attempt's number and when the next try is due.",
            responses=route_responses(200, "A page of delivery attempts", {
                400: error_doc("invalid_cursor"), 404: _NOT_FOUND}))
def list_deliveries(endpoint_id: _ENDPOINT_ID, limit: PageLimit = DEFAULT_PAGE_SIZE,
                    cursor: PageCursor = None) -> DeliveryAttemptList:
    caller = principal(router)
    return events.attempts(caller.account_id, caller.environment, endpoint_id, limit, cursor)


_EVENT_ID = Annotated[str, Path(description="The event's id: `evt_` and 20 lower-case letters or digits. Any "
                                            "other value is `event_not_found`.")]


@router.get("/v1/events", summary="List events", tags=_TAGS,
            description="The events of the API key's environment, newest first, kept 30 days, whether or not "
                        "an endpoint received them.",
            responses=route_responses(200, "A page of events", {400: error_doc("invalid_cursor")}))
def list_events(limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> EventList:
    caller = principal(router)
    return events.default_service().list(caller.account_id, caller.environment, limit, cursor)


@router.get("/v1/events/<event_id>", summary="Get an event", tags=_TAGS,
            responses=route_responses(200, "The event, as it is delivered", {404: error_doc("event_not_found")}))
def get_event(event_id: _EVENT_ID) -> Event:
    caller = principal(router)
    return events.default_service().get(caller.account_id, caller.environment, event_id)


@router.post("/v1/events/<event_id>/redeliver", summary="Deliver an event again", tags=_TAGS, status_code=202,
             description="Queues a new delivery of the event, with the same id (receivers drop duplicates by "
                         "it), to every enabled endpoint that wants its type, or to the `endpoint_id` given.",
             responses=route_responses(202, "Deliveries queued", {
                 404: error_doc("event_not_found", "webhook_endpoint_not_found")}, body=True))
def redeliver(event_id: _EVENT_ID, body: Annotated[RedeliveryRequest | None, Body()] = None) -> Redelivery:
    caller = principal(router)
    only = body.endpoint_id if body else None
    if only is not None:
        webhooks.default_service().find(caller.account_id, caller.environment, only)
    queued = events.default_service().redeliver(caller.account_id, caller.environment, event_id, only)
    return Redelivery(event_id=event_id, endpoint_ids=queued)


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
