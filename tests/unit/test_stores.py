"""Store orders as documents (sello.stores): the stores' signatures, their order and refund payloads
read into lines before tax, and each country's document request, checked by the country's own
`prepare` so that what the store charged is what the document says."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sello.countries import get_plugin
from sello.countries.mx import documents as mx_documents
from sello.countries.mx.issuer import validate_issuer
from sello.stores import (
    InvoiceRef,
    NotInvoiceable,
    StoreSettings,
    credit_note_request,
    invoice_request,
    signature,
    verify_signature,
    without_tax,
)
from sello.stores import shopify, woocommerce
from tests.ec_fixtures import NOW as EC_NOW
from tests.ec_fixtures import make_issuer, no_schema_folder  # noqa: F401 (fixture)
from tests.helpers import load_event

D = Decimal
EC = get_plugin("EC")
MX = get_plugin("MX")
EC_SETTINGS = StoreSettings(issuer_id="iss_demo0000000000000000", establishment="001", emission_point="001",
                            tax_id_field="ruc")
MX_SETTINGS = StoreSettings(issuer_id="iss_x", branch="MATRIZ", tax_id_field="rfc",
                            tax_regime_field="regimen_fiscal", cfdi_use_field="uso_cfdi")
MX_NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)
MX_ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501", "series": {"invoice": "A", "credit_note": "NC"}}]})


def shopify_ec() -> dict:
    return load_event("stores/shopify_orders_paid_ec.json")


def shopify_mx() -> dict:
    return load_event("stores/shopify_orders_paid_mx.json")


def ec_prepare(body: dict):
    return EC.prepare(EC.document_request_model.model_validate(body), make_issuer(), "test", EC_NOW)


def mx_prepare(body: dict):
    return mx_documents.prepare(MX.document_request_model.model_validate(body), MX_ISSUER, "test", MX_NOW)


def reason(call, *args) -> tuple[str, str]:
    with pytest.raises(NotInvoiceable) as caught:
        call(*args)
    return caught.value.code, caught.value.path


# Signatures ---------------------------------------------------------------------------------------

def test_the_signature_is_base64_hmac_sha256_of_the_raw_body():
    # Computed independently: printf '{"id":1}' | openssl dgst -sha256 -hmac hush -binary | base64
    assert signature("hush", b'{"id":1}') == "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="
    assert verify_signature(["hush"], b'{"id":1}', "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY=")


@pytest.mark.parametrize("secrets, body, header", [
    (["hush"], b'{"id":1} ', "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="),  # the body re-serialised
    (["other"], b'{"id":1}', "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="),
    (["hush"], b'{"id":1}', None),
    (["hush"], b'{"id":1}', ""),
    ([""], b'{"id":1}', signature("", b'{"id":1}')),  # no secret is no key
    (["hush"], b'{"id":1}', "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY"),
])
def test_a_signature_that_does_not_match_is_refused(secrets, body, header):
    assert not verify_signature(secrets, body, header)


def test_during_a_rotation_either_secret_verifies():
    body = load_event.__globals__["EVENTS"].joinpath("stores/shopify_orders_paid_mx.json").read_bytes()
    assert verify_signature(["new", "old"], body, signature("old", body))
    assert verify_signature(["new", "old"], body, signature("new", body))
    assert not verify_signature(["new"], body, signature("old", body))


def test_woocommerces_ping_is_recognised_only_unsigned():
    assert woocommerce.is_ping(b"webhook_id=15", {})
    assert not woocommerce.is_ping(b"webhook_id=15", {"x-wc-webhook-signature": "x"})
    assert not woocommerce.is_ping(b'{"id": 15}', {})
    assert not woocommerce.is_ping(b"webhook_id=15&x=1", {})


# Shopify → Ecuador ---------------------------------------------------------------------------------

def test_a_shopify_order_with_taxes_added_becomes_an_ecuadorian_invoice():
    body = invoice_request(EC, shopify.parse_order(shopify_ec(), EC_SETTINGS), EC_SETTINGS)
    assert body["customer"] == {"id_type": "tax_id", "tax_id": "1790016919001",
                                "name": "Importadora Andina Cía. Ltda.", "email": "compras@importadora-andina.example",
                                "address": "Av. 10 de Agosto N21-45, Quito", "phone": "+593 2 255 0000"}
    assert body["items"] == [
        {"description": "Café de altura tostado - 500 g", "quantity": "2", "unit_price": "6.750000",
         "discount": "1.35", "taxes": [{"type": "vat", "rate": "15"}], "code": "CAF-500"},
        {"description": "Libro de cocina ecuatoriana", "quantity": "1", "unit_price": "18.000000",
         "discount": "0.00", "taxes": [{"type": "vat", "rate": "0"}], "code": "LIB-042"},
        {"description": "Envío Servientrega", "quantity": "1", "unit_price": "4.500000", "discount": "0.00",
         "taxes": [{"type": "vat", "rate": "15"}], "code": "servientrega"},
    ]
    assert (body["establishment"], body["emission_point"], body["additional_info"]) == ("001", "001",
                                                                                        {"Pedido": "#1042"})
    prepared = ec_prepare(body)
    assert prepared.totals["total"] == D("37.15")  # the store's total_price
    assert prepared.totals["tax"] == D("2.50")


def test_without_a_ruc_a_small_order_goes_to_the_final_consumer():
    order = shopify_ec()
    order["note_attributes"] = []
    order["line_items"] = order["line_items"][1:]  # 18.00 + shipping 4.50 + 0.68 = 23.18
    order["total_price"] = "23.18"
    body = invoice_request(EC, shopify.parse_order(order, EC_SETTINGS), EC_SETTINGS)
    assert body["customer"]["id_type"] == "final_consumer" and body["customer"]["tax_id"] == "9999999999999"
    assert ec_prepare(body).totals["total"] == D("23.18")


def test_without_a_ruc_an_order_over_the_final_consumer_limit_cannot_be_invoiced():
    order = shopify_ec()
    order["note_attributes"] = []
    order["line_items"][1]["price"] = "38.00"  # 50.15 + 2.50 of VAT
    assert reason(invoice_request, EC, shopify.parse_order(order, EC_SETTINGS), EC_SETTINGS) == \
        ("final_consumer_limit", "ruc")


def test_without_a_tax_id_when_the_final_consumer_is_not_allowed():
    order = shopify_ec()
    order["note_attributes"] = [{"name": "nota", "value": "entregar en la tarde"}]
    strict = StoreSettings(**{**EC_SETTINGS.__dict__, "allow_anonymous": False})
    assert reason(invoice_request, EC, shopify.parse_order(order, strict), strict) == \
        ("customer_tax_id_missing", "ruc")


def test_a_cedula_is_a_national_id():
    order = shopify_ec()
    order["note_attributes"] = [{"name": "ruc", "value": " 1710034065 "}]
    order["billing_address"]["company"] = ""
    customer = invoice_request(EC, shopify.parse_order(order, EC_SETTINGS), EC_SETTINGS)["customer"]
    assert (customer["id_type"], customer["tax_id"], customer["name"]) == ("national_id", "1710034065",
                                                                            "María José Núñez")


@pytest.mark.parametrize("change, expected", [
    (lambda o: o["line_items"][0].update(tax_lines=[{"title": "State", "rate": 0.06, "price": "0.73"},
                                                    {"title": "County", "rate": 0.01, "price": "0.12"}]),
     ("unsupported_tax", "line_items.0.tax_lines")),
    (lambda o: o["line_items"][0].update(tax_lines=[{"title": "VAT", "rate": 0.21, "price": "2.55"}]),
     ("unsupported_tax_rate", "line_items.0")),
    (lambda o: o.update(currency="EUR"), ("unsupported_currency", "currency")),
    (lambda o: o.update(financial_status="pending"), ("order_not_paid", "financial_status")),
    (lambda o: o["line_items"][0].update(price="seis"), ("invalid_amount", "line_items.0.price")),
    (lambda o: o["line_items"][0].update(name="Café\u0007"),  # a description the model refuses
     ("invalid_document", "items.0.description")),
])
def test_orders_that_cannot_be_invoiced_say_why(change, expected):
    order = shopify_ec()
    change(order)
    code, path = reason(lambda: invoice_request(EC, shopify.parse_order(order, EC_SETTINGS), EC_SETTINGS))
    assert (code, path) == expected


def test_a_taxable_line_without_tax_lines_takes_the_integrations_default_rate():
    order = shopify_ec()
    order["line_items"][0]["tax_lines"] = []
    with_default = StoreSettings(**{**EC_SETTINGS.__dict__, "default_vat_rate": D(15)})
    assert shopify.parse_order(order, with_default).lines[0].vat_rate == D(15)
    assert shopify.parse_order(order, EC_SETTINGS).lines[0].vat_rate == D(0)


def test_a_country_without_a_store_mapping():
    class Elsewhere:
        name = "Elsewhere"
        store_mapping = None

    order = shopify.parse_order(shopify_ec(), EC_SETTINGS)
    assert reason(invoice_request, Elsewhere(), order, EC_SETTINGS) == ("store_country_not_supported", "issuer_id")


# Shopify → Mexico ----------------------------------------------------------------------------------

def test_a_shopify_order_with_taxes_included_becomes_a_cfdi():
    body = invoice_request(MX, shopify.parse_order(shopify_mx(), MX_SETTINGS), MX_SETTINGS)
    assert body["customer"] == {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601",
                                "zip": "76343", "cfdi_use": "G03", "email": "facturas@xenon.example"}
    assert [(i["description"], i["quantity"], i["unit_price"], i["discount"], i["product_code"], i["unit_code"])
            for i in body["items"]] == [
        ("Playera de algodón orgánico - M / Añil", "2", "300.000000", "60.00", "01010101", "H87"),
        ("Taza de cerámica Día de Muertos", "1", "171.551724", "17.15", "01010101", "H87"),
        ("Estafeta día siguiente", "1", "100.000000", "0.00", "78102203", "E48"),
    ]
    assert (body["payment_form"], body["payment_method"], body["branch"]) == ("04", "PUE", "MATRIZ")
    prepared = mx_prepare(body)
    assert prepared.totals["tax"] == D("127.10")  # the store's total_tax
    # Prices with IVA included: each line's amount paid, taken out of tax, is its amount before tax, so
    # the CFDI's total is the store's total_price to the cent.
    assert prepared.totals["total"] == D("921.50")


def test_without_an_rfc_the_order_goes_to_the_general_public():
    order = shopify_mx()
    order["note_attributes"] = []
    body = invoice_request(MX, shopify.parse_order(order, MX_SETTINGS), MX_SETTINGS)
    assert body["customer"] == {"tax_id": "XAXX010101000", "name": "ÁNGEL PEÑA", "email": "facturas@xenon.example"}
    assert mx_prepare(body).customer["tax_id"] == "XAXX010101000"


def test_an_rfc_without_its_regime_cannot_be_invoiced():
    order = shopify_mx()
    order["note_attributes"] = [{"name": "rfc", "value": "XIA190128J61"}]
    assert reason(invoice_request, MX, shopify.parse_order(order, MX_SETTINGS), MX_SETTINGS) == \
        ("customer_tax_regime_missing", "regimen_fiscal")


def test_a_rate_mexico_does_not_have():
    order = shopify_mx()
    order["line_items"][1]["tax_lines"] = [{"title": "IVA", "rate": 0.15, "price": "23.36"}]
    assert reason(invoice_request, MX, shopify.parse_order(order, MX_SETTINGS), MX_SETTINGS) == \
        ("unsupported_tax_rate", "line_items.1")


def test_a_shopify_refund_becomes_a_credit_note_related_to_the_invoice():
    invoice = invoice_request(MX, shopify.parse_order(shopify_mx(), MX_SETTINGS), MX_SETTINGS)
    ref = InvoiceRef(document_id="doc_7m2k9x4v1c8b3n6q0w5e", number="A-17", issue_date=date(2025, 6, 30),
                     customer=invoice["customer"])
    refund = shopify.parse_refund(load_event("stores/shopify_refund_mx.json"), MX_SETTINGS, taxes_included=True)
    body = credit_note_request(MX, refund, ref, MX_SETTINGS)
    assert (body["type"], body["related"], body["customer"]["cfdi_use"]) == ("credit_note",
                                                                              ["doc_7m2k9x4v1c8b3n6q0w5e"], "G02")
    assert [(i["quantity"], i["unit_price"], i["discount"]) for i in body["items"]] == [("1", "171.551724", "17.15")]
    assert mx_prepare(body).totals["total"] == D("179.10")  # the refund's transaction amount
    request = MX.document_request_model.model_validate(body)
    assert request.related == ["doc_7m2k9x4v1c8b3n6q0w5e"]


def test_a_partial_return_credits_its_share_of_the_discount_and_shipping_refunded():
    refund = load_event("stores/shopify_refund_mx.json")
    line = copy.deepcopy(shopify_mx()["line_items"][0])
    refund["refund_line_items"] = [{"id": 1, "line_item_id": line["id"], "quantity": 1, "line_item": line}]
    refund["order_adjustments"] = [{"id": 2, "kind": "shipping_refund", "amount": "-100.00", "tax_amount": "-16.00"}]
    parsed = shopify.parse_refund(refund, MX_SETTINGS, taxes_included=True)
    assert [(line.quantity, line.unit_price, line.discount, line.vat_rate, line.kind) for line in parsed.lines] == [
        (D(1), D("300.000000"), D("30.00"), D(16), "product"), (D(1), D("100.000000"), D("0.00"), D(16), "shipping")]


def test_an_ecuadorian_credit_note_references_the_invoice_by_its_number():
    invoice = invoice_request(EC, shopify.parse_order(shopify_ec(), EC_SETTINGS), EC_SETTINGS)
    refund = load_event("stores/shopify_refund_mx.json")
    line = shopify_ec()["line_items"][0]
    refund["refund_line_items"] = [{"id": 1, "line_item_id": line["id"], "quantity": 1, "line_item": line}]
    parsed = shopify.parse_refund(refund, EC_SETTINGS, taxes_included=False)
    ref = InvoiceRef(document_id="doc_x", number="001-001-000000042", issue_date=date(2025, 6, 30),
                     customer=invoice["customer"])
    body = credit_note_request(EC, parsed, ref, EC_SETTINGS)
    assert body["reference"] == {"type": "invoice", "number": "001-001-000000042", "issue_date": "2025-06-30",
                                 "reason": "Taza llegó rota"}
    # One of two coffees: 6.75 less half the discount, 0.68 (0.675 rounded half up), + 15 % VAT.
    assert ec_prepare(body).totals["total"] == D("6.98")
    anonymous = InvoiceRef(**{**ref.__dict__, "customer": {"id_type": "final_consumer", "tax_id": "9999999999999"}})
    assert reason(credit_note_request, EC, parsed, anonymous, EC_SETTINGS) == ("credit_note_customer_required",
                                                                               "customer")
    empty = shopify.parse_refund({**refund, "refund_line_items": []}, EC_SETTINGS, taxes_included=False)
    assert reason(credit_note_request, EC, empty, ref, EC_SETTINGS)[0] == "refund_without_lines"


# WooCommerce → Ecuador ------------------------------------------------------------------------------

WC_SETTINGS = StoreSettings(issuer_id="iss_demo0000000000000000", establishment="001", emission_point="002",
                            tax_id_field="billing_cedula")


def test_a_woocommerce_order_with_a_coupon_becomes_an_ecuadorian_invoice():
    order = load_event("stores/woocommerce_order_ec.json")
    body = invoice_request(EC, woocommerce.parse_order(order, WC_SETTINGS), WC_SETTINGS)
    assert body["customer"]["id_type"] == "national_id" and body["customer"]["name"] == "Andrés Guamán"
    assert [(i["description"], i["quantity"], i["unit_price"], i["discount"], i["taxes"][0]["rate"])
            for i in body["items"]] == [("Chocolate 70 % cacao Esmeraldas", "3", "4.000000", "1.20", "15"),
                                        ("Envío a domicilio", "1", "3.000000", "0.00", "15")]
    prepared = ec_prepare(body)
    assert (prepared.totals["tax"], prepared.totals["total"]) == (D("2.07"), D("15.87"))


def test_a_woocommerce_order_is_paid_once_processing_with_a_payment_date():
    order = load_event("stores/woocommerce_order_ec.json")
    assert woocommerce.parse_order(order, WC_SETTINGS).paid
    assert not woocommerce.parse_order({**order, "status": "pending", "date_paid": None}, WC_SETTINGS).paid
    assert not woocommerce.parse_order({**order, "status": "on-hold"}, WC_SETTINGS).paid


def test_a_woocommerce_refund_is_credited_at_the_orders_rate():
    order = load_event("stores/woocommerce_order_ec.json")
    order["refunds"] = [{"id": 731, "reason": "Chocolate derretido", "total": "-4.14"}]
    [refund] = woocommerce.parse_refunds(order, WC_SETTINGS)
    assert (refund.id, refund.order_id, refund.reason) == ("731", "727", "Chocolate derretido")
    assert [(line.unit_price, line.vat_rate) for line in refund.lines] == [(D("3.600000"), D(15))]
    order["line_items"][0]["taxes"] = []  # now 0 % and 15 %: a refund amount cannot be split
    assert woocommerce.parse_refunds(order, WC_SETTINGS)[0].lines == ()


def test_a_woocommerce_tax_that_the_order_does_not_describe():
    order = load_event("stores/woocommerce_order_ec.json")
    order["line_items"][0]["taxes"] = [{"id": 9, "total": "1.62"}]
    assert reason(woocommerce.parse_order, order, WC_SETTINGS) == ("unknown_tax_rate", "line_items.0.taxes.0.id")


# Money ---------------------------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
quantities = st.integers(min_value=1, max_value=50)
rates = st.sampled_from([D(0), D(5), D(8), D(12), D(15), D(16)])


@settings(max_examples=300, deadline=None)
@given(price=prices, quantity=quantities, rate=rates, share=st.decimals(min_value=0, max_value=1, places=2))
def test_taking_included_tax_out_gives_back_the_stores_line_total_within_rounding(price, quantity, rate, share):
    """A line priced with tax included, as the document computes it from what the mapping gives (unit
    price to 6 decimals, discount to 2): its subtotal plus its tax is the store's line total within a
    cent and a half-cent per unit of the tax's rounding."""
    discount = (price * quantity * share).quantize(D("0.01"))
    order = shopify_mx()
    order["line_items"] = [{"id": 1, "name": "Artículo", "quantity": quantity, "price": str(price),
                            "discount_allocations": [{"amount": str(discount)}],
                            "tax_lines": [{"rate": str(rate / 100), "price": "0"}]}]
    order["shipping_lines"] = []
    [line] = shopify.parse_order(order, MX_SETTINGS).lines
    assert line.unit_price == without_tax(price, rate, D("0.000001"))
    assert 0 <= line.discount <= line.quantity * line.unit_price
    gross = price * quantity - discount
    assert abs(line.subtotal + line.tax - gross) <= D("0.02") + quantity * D("0.000001")


@settings(max_examples=200, deadline=None)
@given(price=prices, quantity=quantities, rate=rates)
def test_with_taxes_added_the_lines_amounts_are_the_stores(price, quantity, rate):
    order = shopify_ec()
    order["line_items"] = [{"id": 1, "name": "Artículo", "quantity": quantity, "price": str(price),
                            "discount_allocations": [], "tax_lines": [{"rate": str(rate / 100), "price": "0"}]}]
    [line, _shipping] = shopify.parse_order(order, EC_SETTINGS).lines
    assert line.subtotal == price * quantity and line.vat_rate == rate
