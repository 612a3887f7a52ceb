"""Routing by the catalog: templated public routes (the stores' inbound URL) win over the prefix that
holds them, match a request's path and their own template, and only for their method."""

from __future__ import annotations

from sello import catalog

INBOUND = "/v1/integrations/{integration_id}/inbound"


def test_the_inbound_url_is_public_for_post_only_and_served_by_its_own_function():
    assert catalog.is_public("POST", "/v1/integrations/int_5k2m8x1c9v3b7n4q6w0e/inbound")
    assert catalog.is_public("post", INBOUND)
    assert not catalog.is_public("GET", "/v1/integrations/int_5k2m8x1c9v3b7n4q6w0e/inbound")
    assert not catalog.is_public("POST", "/v1/integrations/int_1/orders/inbound")
    assert not catalog.is_public("POST", "/v1/integrations/int_1/orders/o_1/retry")
    assert catalog.function_for_path("/v1/integrations/int_1/inbound").name == "store_inbound"
    for path in ("/v1/integrations", "/v1/integrations/int_1", "/v1/integrations/int_1/orders/o_1/retry",
                 "/v1/integrations/{integration_id}/{proxy+}"):
        assert catalog.function_for_path(path).name == "integrations", path


def test_resources_and_path_parameters_as_api_gateway_gives_them():
    (integrations,) = [s for s in catalog.API_FUNCTIONS if s.name == "integrations"]
    # one variable part per level: {integration_id} replaces the prefix's own {proxy+}
    assert catalog.resources(integrations) == (
        "/v1/integrations", "/v1/integrations/{integration_id}", "/v1/integrations/{integration_id}/{proxy+}")
    assert catalog.path_parameters("/v1/integrations/{integration_id}/{proxy+}", "/v1/integrations/int_1/orders/o_1") \
        == {"integration_id": "int_1", "proxy": "orders/o_1"}
    assert catalog.path_parameters("/v1/integrations/{integration_id}", "/v1/integrations/int_1/orders") is None
    assert catalog.path_parameters(INBOUND, "/v1/integrations/int_1/inbound") == {"integration_id": "int_1"}
    assert catalog.path_parameters("/v1/accounts/confirm", "/v1/accounts/confirm") == {}
