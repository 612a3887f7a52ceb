"""Store integrations on the emulator (moto): connecting a store to an issuer, its settings, the sealed
webhook secret, and the record of each order's outcome."""

from __future__ import annotations

import pytest

from sello.errors import NotFound, Unprocessable
from sello.services import integrations, issuers
from sello.validation import InvalidBody
from tests.helpers import load_event

ACCOUNT, OTHER = "acct_a0000000000000000000", "acct_b0000000000000000000"


@pytest.fixture
def service(aws):
    return integrations.default_service()


@pytest.fixture
def issuer_id(aws) -> str:
    return issuers.default_service().create(ACCOUNT, load_event("issuers/create_issuer.body.json")).id


def body(issuer_id: str, **changes) -> dict:
    return {"kind": "shopify", "store_domain": "Cafe-Andino.myshopify.com", "webhook_secret": "s3cr3t-de-la-tienda",
            "issuer_id": issuer_id, "establishment": "001", "emission_point": "001", "tax_id_field": "ruc"} | changes


def test_a_store_is_connected_to_an_issuer(service, issuer_id):
    created = service.create(ACCOUNT, "test", body(issuer_id))
    assert created.id.startswith("int_") and created.inbound_path == f"/v1/integrations/{created.id}/inbound"
    assert (created.store_domain, created.tax_id_field, created.allow_anonymous, created.environment) == \
        ("cafe-andino.myshopify.com", "ruc", True, "test")
    shown = service.view(ACCOUNT, "test", created.id).model_dump(mode="json")
    assert "webhook_secret" not in shown and "s3cr3t" not in str(shown)
    item = service.get(created.id)
    assert b"s3cr3t" not in bytes(item["webhook_secret"]["ciphertext"])  # sealed with KMS
    assert service.secret(item) == "s3cr3t-de-la-tienda"
    assert [i.id for i in service.list(ACCOUNT, "test").data] == [created.id]
    assert service.list(OTHER, "test").data == []
    settings = integrations.store_settings(item)
    assert (settings.issuer_id, settings.establishment, settings.tax_id_field) == (issuer_id, "001", "ruc")


def test_another_accounts_integration_is_not_found(service, issuer_id):
    created = service.create(ACCOUNT, "test", body(issuer_id))
    for call in (lambda: service.view(OTHER, "test", created.id), lambda: service.delete(OTHER, "test", created.id),
                 lambda: service.view(ACCOUNT, "test", "int_doesnotexist"),
                 lambda: service.orders(OTHER, "test", created.id)):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.code == "integration_not_found"


def test_the_issuer_must_be_the_accounts(service, issuer_id):
    with pytest.raises(NotFound) as caught:
        service.create(OTHER, "test", body(issuer_id))
    assert caught.value.code == "issuer_not_found"
    with pytest.raises(InvalidBody):
        service.create(ACCOUNT, "test", body(issuer_id, kind="magento"))


def test_a_country_without_a_store_mapping_cannot_connect_a_store(service, issuer_id, monkeypatch):
    from sello.countries.ec.plugin import EcuadorPlugin

    monkeypatch.setattr(EcuadorPlugin, "store_mapping", None)
    with pytest.raises(Unprocessable) as caught:
        service.create(ACCOUNT, "test", body(issuer_id))
    assert (caught.value.code, caught.value.path) == ("store_country_not_supported", "issuer_id")


def test_an_integration_is_updated_and_its_secret_rotated(service, issuer_id):
    created = service.create(ACCOUNT, "test", body(issuer_id))
    updated = service.update(ACCOUNT, "test", created.id,
                             {"allow_anonymous": False, "webhook_secret": "nuevo-secreto-1"})
    assert (updated.allow_anonymous, updated.tax_id_field, updated.establishment) == (False, "ruc", "001")
    assert service.secret(service.get(created.id)) == "nuevo-secreto-1"
    assert [i.id for i in service.list(ACCOUNT, "test").data] == [created.id]


def test_orders_are_recorded_listed_retried_and_deleted_with_the_integration(service, issuer_id):
    created = service.create(ACCOUNT, "test", body(issuer_id))
    reason = {"code": "customer_tax_id_missing", "message": "…", "path": "ruc"}
    service.record_order(created.id, "1042", status="not_invoiceable", reason=reason, payload={"id": 1042})
    service.record_order(created.id, "1043", status="invoiced", invoice={"document_id": "doc_aaaaaaaaaaaaaaaaaaaa"})
    # each refund and credit note is one entry of the record, written without reading it first: two
    # recorded at the same moment both stay
    for refund_id in ("10", "9"):
        service.record_refund(created.id, "1043", refund_id, {"id": int(refund_id)})
    service.record_credit(created.id, "1043", "10", "doc_cccccccccccccccccccc")
    service.record_credit(created.id, "1043", "9", "doc_bbbbbbbbbbbbbbbbbbbb")
    listed = {o.id: o for o in service.orders(ACCOUNT, "test", created.id).data}
    assert (listed["1042"].status, listed["1042"].reason.code) == ("not_invoiceable", "customer_tax_id_missing")
    assert listed["1043"].status == "invoiced"  # the worker sets it once the credit notes are issued
    assert listed["1043"].document_ids == ["doc_aaaaaaaaaaaaaaaaaaaa", "doc_bbbbbbbbbbbbbbbbbbbb",
                                           "doc_cccccccccccccccccccc"]
    assert set(service.order(created.id, "1043")["refunds"]) == {"9", "10"}
    # a refund of an order not reported yet makes a pending record, without a payload to issue from
    record = service.record_refund(created.id, "1044", "11", {"id": 11})
    assert (record["status"], list(record["refunds"])) == ("pending", ["11"]) and "payload" not in record
    _, order = service.retry(ACCOUNT, "test", created.id, "1042")
    assert order["status"] == "pending" and "reason" not in order and order["payload"] == '{"id":1042}'
    with pytest.raises(NotFound) as caught:
        service.retry(ACCOUNT, "test", created.id, "9999")
    assert caught.value.code == "store_order_not_found"
    service.delete(ACCOUNT, "test", created.id)
    assert service.get(created.id) is None and service.order(created.id, "1043") is None
