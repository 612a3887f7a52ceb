"""Store integrations: connect a Shopify or WooCommerce store to an issuer, read and change the
connection, and see what became of each order the store reported (services/integrations.py). The
store's webhook secret is taken once and never shown. An integration is of the API key's environment,
and the other environment's integrations are not found (a test key never changes how live orders are
issued)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

import sello
from sello.http import PageCursor, PageLimit, error_doc, make_app, principal, route_responses
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.integrations import (
    CreateIntegrationRequest,
    IntegrationList,
    IntegrationView,
    StoreOrderList,
    StoreOrderView,
    UpdateIntegrationRequest,
)
from sello.services import integrations, store_orders

router = Router()

_TAGS = ["Store integrations"]
_INTEGRATION_ID = Annotated[str, Path(description="The integration's id: `int_` and 20 lower-case letters or "
                                                  "digits. Any other value is `integration_not_found`.")]
_ORDER_ID = Annotated[str, Path(description="The store's order id.")]
_NOT_FOUND = error_doc("integration_not_found")
_SETTINGS_ERRORS = {404: error_doc("issuer_not_found"), 422: error_doc("store_country_not_supported")}


def _scope() -> tuple[str, str]:
    """The caller's account and environment, which every integration route is confined to."""
    caller = principal(router)
    return caller.account_id, caller.environment


@router.post(
    "/v1/integrations", summary="Connect a store", tags=_TAGS, status_code=201,
    description="Connects a Shopify or WooCommerce store to an issuer: paid orders become invoices and refunds "
                "credit notes, issued in the API key's environment from the establishment and emission point "
                "(Ecuador) or the branch (Mexico) given. `webhook_secret` is the secret the store signs its "
                "webhooks with; it is kept encrypted and never shown again. Point the store's order webhooks "
                "(Shopify `orders/paid` and `refunds/create`; WooCommerce `order.updated`) at `inbound_path`.",
    responses=route_responses(201, "Store connected", _SETTINGS_ERRORS, body=True),
)
def create_integration(body: Annotated[CreateIntegrationRequest, Body()]) -> IntegrationView:
    return integrations.default_service().create(*_scope(), body)


@router.get("/v1/integrations", summary="List store integrations", tags=_TAGS,
            responses=route_responses(200, "A page of integrations", {400: error_doc("invalid_cursor")}))
def list_integrations(limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> IntegrationList:
    return integrations.default_service().list(*_scope(), limit, cursor)


@router.get("/v1/integrations/<integration_id>", summary="Get a store integration", tags=_TAGS,
            responses=route_responses(200, "The integration", {404: _NOT_FOUND}))
def get_integration(integration_id: _INTEGRATION_ID) -> IntegrationView:
    return integrations.default_service().view(*_scope(), integration_id)


@router.patch(
    "/v1/integrations/<integration_id>", summary="Change a store integration", tags=_TAGS,
    description="Changes the fields sent (e.g. the tax id's field, or a new `webhook_secret` after a rotation at "
                "the store); the others stay. Orders recorded as not invoiceable can then be retried.",
    responses=route_responses(200, "The integration as it is now", {
        404: error_doc("integration_not_found", "issuer_not_found"),
        422: error_doc("store_country_not_supported")}, body=True),
)
def update_integration(integration_id: _INTEGRATION_ID,
                       body: Annotated[UpdateIntegrationRequest, Body()]) -> IntegrationView:
    return integrations.default_service().update(*_scope(), integration_id, body)


@router.delete("/v1/integrations/<integration_id>", summary="Disconnect a store", tags=_TAGS, status_code=204,
               description="Removes the integration and the record of its orders; documents issued stay.",
               responses={**route_responses(204, "Disconnected", {404: _NOT_FOUND}),
                          204: {"description": "Disconnected", "content": {}}})  # no body
def delete_integration(integration_id: _INTEGRATION_ID):
    integrations.default_service().delete(*_scope(), integration_id)
    return Response(status_code=204)


@router.get(
    "/v1/integrations/<integration_id>/orders", summary="List a store's orders", tags=_TAGS,
    description="Each order the store reported: `invoiced`, `credited`, `not_invoiceable` (with the reason: a "
                "stable code, a message and the place in the order or the integration to fix) or `pending`, "
                "and the ids of the documents issued for it.",
    responses=route_responses(200, "A page of orders", {400: error_doc("invalid_cursor"), 404: _NOT_FOUND}))
def list_orders(integration_id: _INTEGRATION_ID, limit: PageLimit = DEFAULT_PAGE_SIZE,
                cursor: PageCursor = None) -> StoreOrderList:
    return integrations.default_service().orders(*_scope(), integration_id, limit, cursor)


@router.post(
    "/v1/integrations/<integration_id>/orders/<order_id>/retry", summary="Retry an order", tags=_TAGS,
    status_code=202,
    description="Issues an order's document again from the payload the store sent, with the integration as it "
                "is now (e.g. after allowing the consumidor final): an order recorded as not invoiceable is "
                "`pending` until it is done; any other order is answered as it is and gets only what it lacks. "
                "The order's id stays the idempotency key, so a document already issued is never issued twice.",
    responses=route_responses(202, "Order pending", {404: error_doc("integration_not_found",
                                                                    "store_order_not_found")}))
def retry_order(integration_id: _INTEGRATION_ID, order_id: _ORDER_ID) -> StoreOrderView:
    _, order = integrations.default_service().retry(*_scope(), integration_id, order_id)
    store_orders.default_service().enqueue({"integration_id": integration_id, "order_id": order_id})
    return integrations.order_view(order)


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
