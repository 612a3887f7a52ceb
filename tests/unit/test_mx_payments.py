"""Mexico's payment receipts (countries/mx/payments.py): what a payment request becomes, checked
against amounts worked out by hand here, SAT's refusals as 422s with their paths, and property tests of
the arithmetic over partial payments of several invoices in several currencies, recomputed here from
the definitions (not through payments.py's helpers)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sello.countries.mx import documents, payments, requests
from sello.countries.mx.issuer import validate_issuer
from sello.errors import Unprocessable
from sello.models.documents import Document

D = Decimal
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # 12:00 in Pachuca
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                  "series": {"invoice": "A", "credit_note": "NC", "payment": "P"}},
                 {"code": "TIJ", "name": "Tijuana", "zip": "22000", "series": {"invoice": "T"}}]})
CUSTOMER = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601", "zip": "76343"}
UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
EXTERNAL = {"document": UUID, "amount": "500.00", "currency": "MXN", "total": "1160.00",
            "previous_balance": "1160.00", "installment": 1,
            "taxes": [{"type": "vat", "rate": "16", "base": "1000.00", "amount": "160.00"}]}


def body(*paid: dict, **payment) -> dict:
    entry = {"paid_at": "2025-06-29", "payment_form": "03", "documents": list(paid or [EXTERNAL])} | payment
    return {"type": "payment", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": dict(CUSTOMER),
            "payments": [entry]}


def prepare(data: dict, known: dict[str, Document] | None = None):
    request = requests.MexicoDocumentRequest.model_validate(data)
    if known:
        request = payments.resolve(request, known)
    return documents.prepare(request, ISSUER, "test", NOW)


def refused(data: dict, known: dict[str, Document] | None = None) -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        prepare(data, known)
    return caught.value.code, caught.value.path


def invoice(doc_id: str = "doc_aaaaaaaaaaaaaaaaaaaa", method: str = "PPD", *, currency: str = "MXN",
            items: list | None = None, **stored) -> Document:
    """A stored, authorized invoice as the service hands it to resolve."""
    data = {"type": "invoice", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": CUSTOMER | {"cfdi_use": "G03"},
            "currency": currency, "exchange_rate": None if currency == "MXN" else "18.50",
            "payment_method": method, "payment_form": None if method == "PPD" else "03",
            "items": items or [{"product_code": "84111506", "description": "Servicio", "unit_code": "E48",
                                "unit_price": "1000.00", "taxes": [{"type": "vat", "rate": "16"},
                                                                   {"type": "isr", "withholding": True,
                                                                    "rate": "10"}]}]}
    prepared = documents.prepare(requests.MexicoDocumentRequest.model_validate(data), ISSUER, "test", NOW)
    return Document(id=doc_id, account_id="acc_x", environment="test", type="invoice", country="MX",
                    issuer_id="iss_x", status="authorized", number="A-41", content=prepared.content,
                    totals=prepared.totals, authorization_number="a1b2c3d4-0000-4000-8000-00000000000" + doc_id[-1],
                    created_at=NOW, **({"balance": prepared.balance} | stored))


# What a payment becomes ---------------------------------------------------------------------------------

def test_a_partial_payment_of_an_invoice_issued_elsewhere():
    prepared = prepare(body())
    payment = prepared.content["payments"][0]
    related = payment["documents"][0]
    assert (payment["paid_at"], payment["currency"], payment["exchange_rate"], payment["amount"]) == (
        "2025-06-29T12:00:00", "MXN", "1", "500.00")
    assert {k: related[k] for k in ("uuid", "installment", "previous_balance", "paid", "balance", "equivalence",
                                    "tax_object")} == {
        "uuid": UUID, "installment": 1, "previous_balance": "1160.00", "paid": "500.00", "balance": "660.00",
        "equivalence": "1", "tax_object": "02"}
    # 500 of 1160 is 43.10 %: the base 1000 × 500 / 1160 = 431.03, the IVA 160 × 500 / 1160 = 68.97.
    assert related["taxes"]["transfers"] == [{"tax": "002", "factor": "Tasa", "rate": "0.160000",
                                              "base": "431.03", "amount": "68.97"}]
    assert payment["taxes"]["transfers"] == related["taxes"]["transfers"]
    assert prepared.content["payment_totals"] == {"MontoTotalPagos": "500.00", "TotalTrasladosBaseIVA16": "431.03",
                                                  "TotalTrasladosImpuestoIVA16": "68.97"}
    assert prepared.content["customer"]["cfdi_use"] == "CP01"
    assert (prepared.type, prepared.series, prepared.settles) == ("payment", "P", ())
    assert prepared.content["totals"]["total"] == "0" and prepared.content["currency"] == "XXX"


def test_the_installments_of_an_invoice_add_up_to_its_total_and_its_taxes():
    stored = invoice()
    paid = [D("300.00"), D("250.55"), D("509.45")]  # the invoice: 1000 + 160 IVA − 100 ISR = 1060
    assert stored.balance == D("1060.00")
    bases = amounts = withheld = D(0)
    for n, amount in enumerate(paid, start=1):
        prepared = prepare(body({"document": stored.id, "amount": str(amount)}), {stored.id: stored})
        related = prepared.content["payments"][0]["documents"][0]
        (settlement,) = prepared.settles
        assert related["installment"] == n and D(related["previous_balance"]) == stored.balance
        assert (settlement.amount, settlement.balance, settlement.version) == (
            amount, stored.balance - amount, stored.payments_version)
        bases += D(related["taxes"]["transfers"][0]["base"])
        amounts += D(related["taxes"]["transfers"][0]["amount"])
        withheld += D(related["taxes"]["withholdings"][0]["amount"])
        # What the service records on the invoice once the payment is stored.
        stored = stored.model_copy(update={
            "balance": settlement.balance, "payments_version": stored.payments_version + 1,
            "payments": {**(stored.payments or {}), f"doc_p{n}": {"amount": str(amount), **settlement.details}}})
    assert stored.balance == 0
    assert (bases, amounts, withheld) == (D("1000.00"), D("160.00"), D("100.00"))


def test_one_request_pays_an_invoice_twice_and_two_invoices_at_once():
    first, second = invoice("doc_aaaaaaaaaaaaaaaaaaa1"), invoice("doc_aaaaaaaaaaaaaaaaaaa2")
    data = body({"document": first.id, "amount": "60.00"}, {"document": second.id, "amount": "1060.00"})
    data["payments"].append({"paid_at": "2025-06-30T09:15:00", "payment_form": "01",
                             "documents": [{"document": first.id, "amount": "1000.00"}]})
    prepared = prepare(data, {first.id: first, second.id: second})
    one, two = prepared.content["payments"]
    assert [(d["installment"], d["previous_balance"], d["balance"]) for d in one["documents"]] == [
        (1, "1060.00", "1000.00"), (1, "1060.00", "0.00")]
    assert [(d["installment"], d["previous_balance"], d["balance"]) for d in two["documents"]] == [
        (2, "1000.00", "0.00")]
    assert (one["amount"], two["amount"], prepared.content["payment_totals"]["MontoTotalPagos"]) == (
        "1120.00", "1000.00", "2120.00")
    settles = {s.document_id: s for s in prepared.settles}
    assert (settles[first.id].amount, settles[first.id].balance, settles[first.id].details["installment"]) == (
        D("1060.00"), D(0), 2)
    assert prepared.totals == {"currency": "MXN", "total": D("2120.00")}


def test_a_payment_in_dollars_of_an_invoice_in_pesos_takes_the_exchange_rate_as_equivalence():
    stored = invoice()
    prepared = prepare(body({"document": stored.id, "amount": "1060.00"}, currency="USD", exchange_rate="20.00"),
                       {stored.id: stored})
    payment = prepared.content["payments"][0]
    assert (payment["exchange_rate"], payment["documents"][0]["equivalence"], payment["amount"]) == (
        "20", "20", "53.00")
    # ImpuestosP in dollars: 1000 / 20, 160 / 20; Totales back in pesos.
    assert payment["taxes"]["transfers"][0]["base"] == "50.00"
    assert payment["taxes"]["withholdings"] == [{"tax": "001", "amount": "5.00"}]
    assert prepared.content["payment_totals"] == {
        "MontoTotalPagos": "1060.00", "TotalRetencionesISR": "100.00", "TotalTrasladosBaseIVA16": "1000.00",
        "TotalTrasladosImpuestoIVA16": "160.00"}


def test_the_general_public_pays_with_uso_cp01():
    data = body() | {"customer": {"tax_id": "XAXX010101000", "name": "Juan Pérez"}}
    customer = prepare(data).content["customer"]
    assert (customer["cfdi_use"], customer["tax_regime"], customer["zip"]) == ("CP01", "616", "42501")


# What SAT refuses --------------------------------------------------------------------------------------

def test_more_than_the_balance_is_refused_with_the_amounts_path():
    stored = invoice(balance=D("100.00"), payments_version=3,
                     payments={"doc_pppppppppppppppppppp": {"amount": "960.00", "installment": 1}})
    assert refused(body({"document": stored.id, "amount": "100.01"}), {stored.id: stored}) == (
        "amount_exceeds_balance", "payments.0.documents.0.amount")
    prepared = prepare(body({"document": stored.id, "amount": "100.00"}), {stored.id: stored})
    assert prepared.content["payments"][0]["documents"][0]["installment"] == 2
    assert prepared.settles[0].version == 3


def test_a_pue_invoice_or_another_type_cannot_be_paid():
    pue = invoice(method="PUE")
    assert refused(body({"document": pue.id, "amount": "1.00"}), {pue.id: pue}) == (
        "invoice_not_payable", "payments.0.documents.0.document")


def test_an_invoice_to_another_customer_is_refused():
    stored = invoice()
    data = body({"document": stored.id, "amount": "1.00"}) | {"customer": {"tax_id": "XAXX010101000",
                                                                          "name": "Juan Pérez"}}
    assert refused(data, {stored.id: stored}) == ("related_customer_mismatch", "payments.0.documents.0.document")


def test_currencies_without_an_equivalence_are_refused():
    dollars = EXTERNAL | {"currency": "USD"}
    assert refused(body(dollars, currency="EUR", exchange_rate="20.10")) == (
        "equivalence_required", "payments.0.documents.0.equivalence")
    assert refused(body(dollars, exchange_rate=None)) == ("equivalence_required", "payments.0.documents.0.equivalence")
    given = prepare(body(dollars | {"equivalence": "0.0540"}))  # 500 USD paid with 9259.26 MXN
    assert given.content["payments"][0]["amount"] == "9259.26"
    assert refused(body(EXTERNAL | {"equivalence": "2"})) == ("invalid_equivalence",
                                                              "payments.0.documents.0.equivalence")


@pytest.mark.parametrize(("data", "expected"), [
    (body(payment_form="99"), ("invalid_payment_form", "payments.0.payment_form")),
    (body(currency="USD"), ("missing_field", "payments.0.exchange_rate")),
    (body(currency="XXX"), ("unsupported_currency", "payments.0.currency")),
    (body(paid_at="2025-07-01"), ("invalid_payment_date", "payments.0.paid_at")),
    (body(paid_at="0001-01-01T00:00:00Z"), ("invalid_payment_date", "payments.0.paid_at")),
    (body(paid_at="2019-05-01"), ("invalid_payment_date", "payments.0.paid_at")),
    (body(EXTERNAL | {"taxes": [{"type": "vat", "rate": "15", "base": "1000.00", "amount": "150.00"}]}),
     ("invalid_tax_rate", "payments.0.documents.0.taxes.0.rate")),
    (body(amount="499.99"), ("payment_amount_too_small", "payments.0.amount")),
    (body(EXTERNAL, EXTERNAL), ("duplicate_related", "payments.0.documents.1.document")),
    (body(EXTERNAL | {"amount": "1.005"}), ("invalid_amount", "payments.0.documents.0.amount")),
    (body(EXTERNAL | {"currency": "USD", "total": "999999999999999999", "previous_balance": "999999999999999999",
                      "amount": "999999999999999999", "equivalence": "0.0000000001", "taxes": []},
          currency="EUR", exchange_rate="20"), ("amount_too_large", "payments.0.amount")),
    (body({k: v for k, v in EXTERNAL.items() if k != "previous_balance"}),
     ("missing_field", "payments.0.documents.0.previous_balance")),
    (body(EXTERNAL | {"previous_balance": "2000.00"}), ("invalid_previous_balance",
                                                        "payments.0.documents.0.previous_balance")),
    (body(EXTERNAL | {"tax_object": "01"}), ("invalid_tax_object", "payments.0.documents.0.tax_object")),
    (body() | {"items": [{"product_code": "84111506", "description": "x", "unit_code": "ACT", "unit_price": "1"}]},
     ("field_not_allowed", "items")),
    (body() | {"payment_method": "PPD"}, ("field_not_allowed", "payment_method")),
    (body() | {"customer": CUSTOMER | {"cfdi_use": "G03"}}, ("cfdi_use_not_allowed", "customer.cfdi_use")),
    (body() | {"branch": "TIJ"}, ("series_not_configured", "branch")),
    (body() | {"payments": []}, ("missing_field", "payments")),
])
def test_sats_refusals(data, expected):
    assert refused(data) == expected


def test_what_sello_knows_of_its_invoice_is_not_given():
    stored = invoice()
    assert refused(body({"document": stored.id, "amount": "1.00", "installment": 3}), {stored.id: stored}) == (
        "field_not_allowed", "payments.0.documents.0.installment")


def test_payments_belong_to_payment_receipts_only():
    data = {"type": "invoice", "issuer_id": "iss_x", "branch": "MATRIZ", "customer": CUSTOMER | {"cfdi_use": "G03"},
            "payment_method": "PPD", "payments": body()["payments"],
            "items": [{"product_code": "84111506", "description": "x", "unit_code": "ACT", "unit_price": "1"}]}
    assert refused(data) == ("field_not_allowed", "payments")
    for items in ({}, {"items": []}):  # an invoice's lines are required by its model
        with pytest.raises(ValidationError) as caught:
            requests.MexicoDocumentRequest.model_validate({k: v for k, v in data.items() if k != "items"} | items)
        assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [
            (("items",), "too_short" if items else "missing")]
    assert requests.MexicoDocumentRequest.model_validate(body()).items == []


# The arithmetic, as properties ---------------------------------------------------------------------------

CURRENCIES = {"MXN": ("1", 2), "USD": ("18.2345", 2), "EUR": ("20.1234", 2), "JPY": ("0.1234", 0)}


def _round(value: D, places: int) -> D:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


@st.composite
def scenarios(draw):
    """Invoices in MXN or USD (1 to 3 lines, IVA 16/8/0/exempt, ISR withheld or not) and 1 to 4
    requests, each with 1 or 2 payments in any of CURRENCIES paying parts of them."""
    invoices = []
    for n in range(draw(st.integers(1, 3))):
        currency = draw(st.sampled_from(["MXN", "USD"]))
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            vat = draw(st.sampled_from([{"type": "vat", "rate": "16"}, {"type": "vat", "rate": "0"},
                                        {"type": "vat", "exempt": True}]))
            taxes = [vat] + ([{"type": "isr", "withholding": True, "rate": "10"}] if draw(st.booleans()) else [])
            lines.append({"product_code": "84111506", "description": "Servicio", "unit_code": "E48",
                          "quantity": str(draw(st.integers(1, 20))),
                          "unit_price": str(D(draw(st.integers(1, 500_000))) / 100), "taxes": taxes})
        invoices.append(invoice(f"doc_aaaaaaaaaaaaaaaaaaa{n}", currency=currency, items=lines))
    rounds = []
    for _ in range(draw(st.integers(1, 4))):
        request = []
        for _ in range(draw(st.integers(1, 2))):
            chosen = draw(st.lists(st.integers(0, len(invoices) - 1), min_size=1, max_size=len(invoices),
                                   unique=True))
            currency = draw(st.sampled_from(list(CURRENCIES)))
            request.append((currency, [(i, draw(st.floats(0.01, 1.0))) for i in chosen]))
        rounds.append(request)
    return invoices, rounds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_partial_payments_never_overpay_and_add_up_to_sats_sums(scenario):
    invoices, rounds = scenario
    stored = {doc.id: doc for doc in invoices}
    total_taxes = {doc.id: {(t["tax"], t["factor"], t["rate"]): D(t["amount"] or 0)
                            for t in doc.content["taxes"]["transfers"]} for doc in invoices}
    paid_taxes = {doc.id: {} for doc in invoices}
    for request in rounds:
        entries = []
        left = {doc_id: doc.balance for doc_id, doc in stored.items()}  # as this request's payments leave it
        for currency, shares in request:
            rate, places = CURRENCIES[currency]
            documents_paid = []
            for index, share in shares:
                doc_id = invoices[index].id
                if left[doc_id] == 0:
                    continue
                amount = min(max(_round(left[doc_id] * D(str(share)), 2), D("0.01")), left[doc_id])
                left[doc_id] -= amount
                equivalence = None
                if stored[doc_id].content["currency"] not in (currency, "MXN"):
                    equivalence = str(_round(D(rate) / D("18.50"), 6))  # USD per unit of the payment's currency
                documents_paid.append({"document": doc_id, "amount": str(amount)}
                                      | ({"equivalence": equivalence} if equivalence else {}))
            if documents_paid:
                entries.append({"paid_at": "2025-06-29", "payment_form": "03", "currency": currency,
                                "exchange_rate": None if currency == "MXN" else rate, "documents": documents_paid})
        if not entries:
            continue
        data = body() | {"payments": entries}
        prepared = prepare(data, {d["document"]: stored[d["document"]] for e in entries for d in e["documents"]})
        totals = {"MontoTotalPagos": D(0)}
        for payment in prepared.content["payments"]:
            places, tc = CURRENCIES[payment["currency"]][1], D(payment["exchange_rate"])
            exact = sum((D(d["paid"]) / D(d["equivalence"]) for d in payment["documents"]), D(0))
            assert D(payment["amount"]) == _round(exact, places)  # Monto: Σ ImpPagado / EquivalenciaDR
            totals["MontoTotalPagos"] += D(payment["amount"]) * tc
            for related in payment["documents"]:
                assert D(related["balance"]) == D(related["previous_balance"]) - D(related["paid"]) >= 0
                for tax in related["taxes"]["transfers"]:
                    key = (tax["tax"], tax["factor"], tax["rate"])
                    bucket = paid_taxes[related["document_id"]]
                    bucket[key] = bucket.get(key, D(0)) + D(tax["amount"] or 0)
            # ImpuestosP: the DR taxes in the payment's currency.
            for tax in payment["taxes"]["transfers"]:
                key = (tax["tax"], tax["factor"], tax["rate"])
                expected = sum((D(t["base"]) / D(d["equivalence"]) for d in payment["documents"]
                                for t in d["taxes"]["transfers"] if (t["tax"], t["factor"], t["rate"]) == key), D(0))
                assert D(tax["base"]) == _round(expected, places)
                if tax["factor"] == "Tasa" and tax["rate"] == "0.160000":
                    totals["TotalTrasladosImpuestoIVA16"] = (totals.get("TotalTrasladosImpuestoIVA16", D(0))
                                                             + D(tax["amount"]) * tc)
        assert D(prepared.content["payment_totals"]["MontoTotalPagos"]) == _round(totals["MontoTotalPagos"], 2)
        if "TotalTrasladosImpuestoIVA16" in totals:
            assert D(prepared.content["payment_totals"]["TotalTrasladosImpuestoIVA16"]) == _round(
                totals["TotalTrasladosImpuestoIVA16"], 2)
        for settlement in prepared.settles:
            doc = stored[settlement.document_id]
            assert 0 <= settlement.balance == doc.balance - settlement.amount
            stored[doc.id] = doc.model_copy(update={
                "balance": settlement.balance, "payments_version": doc.payments_version + 1,
                "payments": {**(doc.payments or {}), f"doc_{len(doc.payments or {})}": {
                    "amount": str(settlement.amount), **settlement.details}}})
    for doc in invoices:  # a fully paid invoice's installments carry exactly its taxes
        if stored[doc.id].balance == 0:
            assert {k: v for k, v in paid_taxes[doc.id].items() if v} == {
                k: v for k, v in total_taxes[doc.id].items() if v}
        assert stored[doc.id].balance >= 0


def test_resolving_keeps_the_body_as_it_was_sent():
    """The resolved request keeps the invoices Sello read apart from the body: the body hashes the same."""
    stored = invoice()
    request = requests.MexicoDocumentRequest.model_validate(body({"document": stored.id, "amount": "1.00"}))
    resolved = payments.resolve(request, {stored.id: stored})
    assert resolved.model_dump() == copy.deepcopy(request.model_dump())
    assert stored.id in resolved._invoices and not request._invoices
