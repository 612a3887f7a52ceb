"""The integrations function in process: REST proxy events through the real handler, with DynamoDB
and KMS emulated by moto."""

from __future__ import annotations

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.services import integrations, issuers
from tests.helpers import api_event, load_event, response_json

INTEGRATIONS = next(s for s in catalog.API_FUNCTIONS if s.name == "integrations")
ACCOUNT_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
ACCOUNT_B = {"account_id": "acct_b0000000000000000000", "environment": "test", "key_id": "key_b"}


def request(method: str, path: str, body=None, principal: dict = ACCOUNT_A, **kwargs):
    from functions.api import integrations as handler_module

    response = handler_module.handler(api_event(method, path, body, principal=principal, **kwargs),
                                      context_for(INTEGRATIONS))
    return response["statusCode"], response_json(response)


@pytest.fixture
def issuer_id(aws) -> str:
    return issuers.default_service().create(ACCOUNT_A["account_id"], load_event("issuers/create_issuer.body.json")).id


def test_connect_list_change_and_disconnect_a_store(issuer_id):
    body = {"kind": "woocommerce", "store_domain": "tienda.example.ec", "webhook_secret": "wc-secret-2025",
            "issuer_id": issuer_id, "establishment": "001", "emission_point": "002",
            "tax_id_field": "billing_cedula", "allow_anonymous": False}
    status, created = request("POST", "/v1/integrations", body)
    assert status == 201, created
    assert "webhook_secret" not in created and created["object"] == "integration"
    assert created["inbound_path"] == f"/v1/integrations/{created['id']}/inbound"
    assert (created["kind"], created["allow_anonymous"], created["environment"]) == ("woocommerce", False, "test")
    path = f"/v1/integrations/{created['id']}"
    assert request("GET", "/v1/integrations")[1]["data"][0]["id"] == created["id"]
    assert request("GET", path, principal=ACCOUNT_B)[1]["error"]["code"] == "integration_not_found"
    status, changed = request("PATCH", path, {"allow_anonymous": True})
    assert status == 200 and changed["allow_anonymous"] and changed["emission_point"] == "002"
    assert request("GET", f"{path}/orders") == (200, {"data": [], "next_cursor": None})
    assert request("DELETE", path)[0] == 204
    assert request("GET", path)[0] == 404


def test_a_store_order_is_retried(issuer_id):
    created = request("POST", "/v1/integrations", {"kind": "shopify", "store_domain": "cafe.myshopify.com",
                                                   "webhook_secret": "shpss_0123456789", "issuer_id": issuer_id,
                                                   "establishment": "001", "emission_point": "001"})[1]
    reason = {"code": "customer_tax_id_missing", "message": "no RUC", "path": "tax_id"}
    integrations.default_service().record_order(created["id"], "5901234567890", status="not_invoiceable",
                                                reason=reason, payload={"id": 5901234567890})
    orders = request("GET", f"/v1/integrations/{created['id']}/orders")[1]["data"]
    assert [(o["id"], o["status"], o["reason"]["code"]) for o in orders] == [
        ("5901234567890", "not_invoiceable", "customer_tax_id_missing")]
    status, order = request("POST", f"/v1/integrations/{created['id']}/orders/5901234567890/retry")
    assert status == 202 and order["status"] == "pending" and order["reason"] is None
    status, error = request("POST", f"/v1/integrations/{created['id']}/orders/1/retry")
    assert (status, error["error"]["code"]) == (404, "store_order_not_found")


def test_bad_bodies_are_422_with_the_field(issuer_id):
    status, error = request("POST", "/v1/integrations", {"kind": "magento", "store_domain": "x.example",
                                                         "webhook_secret": "12345678", "issuer_id": issuer_id})
    assert status == 422 and error["error"]["details"][0]["path"] == "kind"
    status, error = request("POST", "/v1/integrations", {"kind": "shopify", "store_domain": "x.example",
                                                         "webhook_secret": "12345678",
                                                         "issuer_id": "iss_00000000000000000000"})
    assert (status, error["error"]["code"]) == (404, "issuer_not_found")


def test_a_test_key_neither_sees_nor_changes_a_live_integration(issuer_id):
    live = dict(ACCOUNT_A, environment="live", key_id="key_live")
    body = {"kind": "shopify", "store_domain": "cafe.myshopify.com", "webhook_secret": "shpss_0123456789",
            "issuer_id": issuer_id, "establishment": "001", "emission_point": "001", "allow_anonymous": False}
    status, created = request("POST", "/v1/integrations", body, principal=live)
    assert (status, created["environment"]) == (201, "live")
    service = integrations.default_service()
    reason = {"code": "customer_tax_id_missing", "message": "no RUC", "path": "tax_id"}
    service.record_order(created["id"], "5901234567890", status="not_invoiceable", reason=reason,
                         payload={"id": 5901234567890})
    before = (service.get(created["id"]), service.order(created["id"], "5901234567890"))
    path = f"/v1/integrations/{created['id']}"
    for method, route, sent in (("GET", path, None), ("PATCH", path, {"allow_anonymous": True}),
                                ("DELETE", path, None), ("GET", f"{path}/orders", None),
                                ("POST", f"{path}/orders/5901234567890/retry", None)):
        status, error = request(method, route, sent)
        assert (status, error["error"]["code"]) == (404, "integration_not_found"), (method, route)
    assert request("GET", "/v1/integrations")[1]["data"] == []
    assert (service.get(created["id"]), service.order(created["id"], "5901234567890")) == before
    assert [i["id"] for i in request("GET", "/v1/integrations", principal=live)[1]["data"]] == [created["id"]]
    assert request("PATCH", path, {"allow_anonymous": True}, principal=live)[0] == 200
