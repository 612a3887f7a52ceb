"""Mexico's error examples (sello.countries.mx.error_examples) as the OpenAPI document would show them once
Mexico is a registered plugin.

Two readings of the same examples:
- the checks of tests/unit/test_error_examples.py, run with Mexico registered for the test's duration:
  each example a message its code is raised with, placeholders filled, every code Mexico's package
  raises with an example, literal paths kept;
- each example raised for real: a request, issuer or certificate pair that makes Mexico's checks
  (normalize_rfc, validate_issuer, documents.prepare, csd.load_pair and require_csd) refuse it, whose
  answer must be the example's, word for word, with the same code, path and extra fields. This also
  covers the raise sites the source scan cannot read (a helper that takes the message after the path,
  or a message chosen by a conditional expression)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sello import countries
from sello import error_examples as registry_module
from sello.countries.mx import csd, documents, external, payments, requests
from sello.countries.mx import error_examples as mx
from sello.countries.mx.issuer import validate_issuer
from sello.countries.mx.rfc import normalize_rfc
from sello.errors import SelloError
from sello.http import error_examples_registry
from sello.models.documents import Document

from local import certs
from local import sealed_cfdi
from tests.unit import test_error_examples as shared
from tests.helpers import parse_source

NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # 12:00 in Pachuca (42501)
BRANCHES = [
    {"code": "MATRIZ", "name": "Matriz", "zip": "42501",
     "series": {"invoice": "A", "credit_note": "NC", "payment": "P"}},
    {"code": "TIJ", "name": "Tijuana", "zip": "22000", "series": {"invoice": "T"}},
]
ISSUER_FIELDS = {"regime": "601", "zip": "42501", "branches": BRANCHES}
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", ISSUER_FIELDS)
CUSTOMER = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601",
            "zip": "76343", "cfdi_use": "G03"}
FOREIGN = {"tax_id": "XEXX010101000", "name": "ACME TRADING LLC", "foreign_tax_id": "98-7654321"}
RELATED = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


# Mexico registered ------------------------------------------------------------------------------------

def _forget_what_was_read() -> None:
    shared.raised.cache_clear()
    registry_module._load.cache_clear()
    error_examples_registry.cache_clear()


@pytest.fixture
def mexico_registered(monkeypatch):
    """Mexico in the plugin table (as its registration will put it), and the examples and raise sites
    read again with it, into a registry of their own; the one of the other tests is left as it was."""
    monkeypatch.setitem(countries._PLUGINS, "MX", "sello.countries.mx")
    monkeypatch.setattr(registry_module, "_REGISTERED", {})
    _forget_what_was_read()
    yield
    monkeypatch.undo()
    _forget_what_was_read()  # registering again into the former registry adds nothing it lacks


# Raise sites the scan of tests/unit/test_error_examples.py does not read (its examples' messages are not
# among those it finds for the code); each example is checked by raising it, below, instead.
UNSCANNED = {
    ("invalid_tax_rate", 422): "documents._invalid_rate(path, message): the message after the path",
    ("duplicate_tax", 422): "documents._taxes: the message chosen by a conditional expression",
    ("invalid_zip", 422): "documents._same_as(..., code, message): the code and message passed in",
    ("invalid_name", 422): "documents._same_as(..., code, message): the code and message passed in",
}


def test_the_shared_checks_with_mexico_registered(mexico_registered):
    assert "sello.countries.mx.error_examples" in countries.error_example_modules()
    raised = shared.raised()
    assert ("unknown_branch", 422) in raised  # Mexico's package is read now
    unscanned = []
    for example in mx.examples():
        key = (example.code, example.status)
        if key in UNSCANNED and example.msgid not in raised.get(key, set()):
            unscanned.append(key)
            continue
        shared.test_each_example_is_a_message_its_code_is_raised_with(example)
    assert set(unscanned) <= set(UNSCANNED)  # no other example escapes the scan (these are raised below)
    shared.test_every_code_the_package_raises_has_an_example()
    shared.test_an_examples_path_is_the_one_its_message_is_raised_with()


def test_every_listed_code_has_an_example_and_every_example_a_listed_code(mexico_registered):
    registry = error_examples_registry()
    listed = {*mx.TAX_ID_CODES, *mx.ISSUER_CODES, *mx.CERTIFICATE_CODES, *mx.DOCUMENT_CODES, *mx.EXTERNAL_CODES,
              *mx.CANCELLATION_CODES}
    assert [code for code in listed if registry.lookup(code, 422) is None] == []
    assert [code for code in mx.DOCUMENT_CODES if registry.lookup(code, 422, "documents") is None] == []
    assert {example.code for example in mx.examples()} == listed | set(mx.UNLISTED)
    assert not listed & set(mx.UNLISTED)
    assert set(countries.document_error_codes()) >= set(mx.DOCUMENT_CODES)
    assert set(countries.tax_id_error_codes()) >= set(mx.TAX_ID_CODES)
    assert set(countries.external_document_error_codes()) >= set(mx.EXTERNAL_CODES)


def test_the_module_loads_no_plugin_code():
    """Like Ecuador's, the examples are data: reading them imports none of Mexico's checks."""
    source = find_spec("sello.countries.mx.error_examples").origin
    tree = parse_source(source)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(module.startswith("sello.countries") for module in imported)


# Raised for real -------------------------------------------------------------------------------------

def item(**changes) -> dict:
    return {"product_code": "84111506", "description": "Servicio", "unit_code": "E48", "unit_price": "100.00",
            "taxes": [{"type": "vat", "rate": "16"}]} | changes


def invoice(**changes) -> dict:
    return {"type": "invoice", "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t", "branch": "MATRIZ",
            "customer": dict(CUSTOMER), "items": [item()], "payment_form": "03"} | changes


def global_invoice(**changes) -> dict:
    line = item(product_code="01010101", unit_code="ACT", description="Venta", code="T-10231")
    return invoice(customer={"tax_id": "XAXX010101000"}, items=[line], payment_form="01",
                   global_information={"periodicity": "monthly", "months": "05", "year": 2025}) | changes


def credit_note(**changes) -> dict:
    return invoice(type="credit_note", related=[RELATED], customer=CUSTOMER | {"cfdi_use": "G02"}) | changes


EXTERNAL = {"document": RELATED, "amount": "580.00", "currency": "MXN", "total": "1160.00",
            "previous_balance": "1160.00", "installment": 1,
            "taxes": [{"type": "vat", "rate": "16", "base": "1000.00", "amount": "160.00"}]}
PAID_ID = "doc_7m2k9x4v1c8b3n6q0w5e"


def payment(paid: dict | None = None, **changes) -> dict:
    entry = {"paid_at": "2025-06-29", "payment_form": "03", "documents": [paid or EXTERNAL]} | changes
    return {"type": "payment", "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t", "branch": "MATRIZ",
            "customer": {k: v for k, v in CUSTOMER.items() if k != "cfdi_use"}, "payments": [entry]}


def paid_invoice(method: str) -> Document:
    prepared = documents.prepare(requests.MexicoDocumentRequest.model_validate(
        invoice(payment_method=method, payment_form=None if method == "PPD" else "03")), ISSUER, "test", NOW)
    return Document(id=PAID_ID, account_id="acc_x", environment="test", type="invoice", country="MX",
                    issuer_id="iss_x", status="authorized", number="A-7", content=prepared.content,
                    authorization_number=RELATED, created_at=NOW)


def prepare(data: dict, **update) -> Callable[[], object]:
    def run():
        request = requests.MexicoDocumentRequest.model_validate(data)
        if update:
            request = request.model_copy(update=update)
        return documents.prepare(request, ISSUER, "test", NOW)
    return run


def issuer(tax_id="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", **changes) -> Callable[[], object]:
    return lambda: validate_issuer(tax_id, legal_name, ISSUER_FIELDS | changes)


def pair(cer: bytes, key: bytes, password: str) -> Callable[[], object]:
    return lambda: csd.load_pair(cer, key, password, cer_path="cer", key_path="key", password_path="password")


def csd_files(**options) -> tuple[bytes, bytes]:
    return certs.make_csd(rfc="EKU9003173C9", name="ESCUELA KEMPER URGATE SA DE CV", password="12345678a",
                          **options)


def sat_shaped(*, serial: int, fiel: bool) -> x509.Certificate:
    """A certificate for the EKU9003173C9 pair's key with SAT's subject. `fiel`: shaped like an
    e.firma (key encipherment and agreement, the e-mail and client-authentication purposes) rather
    than a CSD (digital signature and non-repudiation only)."""
    key, ca = certs.rsa_key(1), certs.local_ca()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ESCUELA KEMPER URGATE SA DE CV"),
                         x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, "EKU9003173C9 / VADA800927DJ3")])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=fiel,
                          data_encipherment=fiel, key_agreement=fiel, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=365))
               .add_extension(usage, critical=True))
    if fiel:
        purposes = [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


SAT_NUMBER = int.from_bytes(b"30001000000500003416", "big")  # NoCertificado 30001000000500003416
NOT_A_SAT_NUMBER = 0x1F3A2B4C5D6E7F80


def short_key_pair() -> Callable[[], object]:
    key = certs.rsa_key(4, bits=1024)
    encrypted = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"12345678a"))
    cer, _ = csd_files()
    return pair(cer, encrypted, "12345678a")


def external_cfdi(change: Callable[[bytes], bytes] = lambda xml: xml, **options) -> Callable[[], object]:
    """Reading a CFDI sealed elsewhere (local.sealed_cfdi, dated a minute before NOW), changed by `change`."""
    xml = change(sealed_cfdi.sealed(**{"when": sealed_cfdi.fecha(now=NOW)} | options))
    return lambda: external.read(xml, NOW)


def _triggers() -> dict[tuple[str, str | None], Callable[[], object]]:
    """(code, context) -> what raises the example's error."""
    cer, key = csd_files()
    other_cer, _ = certs.make_csd(rfc="XIA190128J61", name="XENON INDUSTRIAL ARTICLES", key_slot=2,
                                  password="12345678a")
    long_line = item(description="Tornillo & tuerca " * 55, code="&" * 100)
    return {
        # The RFC and the issuer
        ("invalid_tax_id", None): lambda: normalize_rfc("EKU9003173C8", path="tax_id"),
        ("invalid_legal_name", None): issuer(legal_name="Escuela Kemper Urgate, S.A. de C.V."),
        ("unknown_tax_regime", None): issuer(regime="600"),
        ("tax_regime_not_allowed", None): issuer(regime="612"),
        ("unknown_zip", None): issuer(zip="00001"),
        # The certificate pair
        ("invalid_certificate_file", None): pair(b"not a certificate", key, "12345678a"),
        ("invalid_key_file", None): pair(cer, b"not a key", "12345678a"),
        ("wrong_certificate_password", None): pair(cer, key, "12345678b"),
        ("certificate_key_unsupported", None): short_key_pair(),
        ("certificate_key_mismatch", None): pair(other_cer, key, "12345678a"),
        ("certificate_is_fiel", None): lambda: csd.require_csd(sat_shaped(serial=SAT_NUMBER, fiel=True),
                                                              path="cer"),
        ("certificate_not_from_sat", None): lambda: csd.require_csd(
            sat_shaped(serial=NOT_A_SAT_NUMBER, fiel=False), path="cer"),
        ("certificate_is_fiel", "stamp"): lambda: csd.require_csd(sat_shaped(serial=SAT_NUMBER, fiel=True),
                                                                 path="xml.Certificado"),
        ("certificate_not_from_sat", "stamp"): lambda: csd.require_csd(
            sat_shaped(serial=NOT_A_SAT_NUMBER, fiel=False), path="xml.Certificado"),
        # A CFDI sealed elsewhere
        ("cfdi_malformed", None): lambda: external.read(b"<a><b></a>", NOW),
        ("cfdi_doctype_not_allowed", None): lambda: external.read(
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "b">]><a>&b;</a>', NOW),
        ("cfdi_not_cfdi40", None): lambda: external.read(b"<Comprobante Version='4.0'/>", NOW),
        ("cfdi_already_stamped", None): external_cfdi(lambda xml: xml.replace(
            b"</cfdi:Comprobante>", b'<cfdi:Complemento><tfd:TimbreFiscalDigital xmlns:tfd="http://www.sat.gob.mx/'
                                    b'TimbreFiscalDigital" Version="1.1"/></cfdi:Complemento></cfdi:Comprobante>')),
        ("cfdi_schema_invalid", None): external_cfdi(lambda xml: xml.replace(b' Exportacion="01"', b"")),
        ("cfdi_type_not_supported", None): external_cfdi(tipo="N"),
        ("cfdi_date_out_of_range", None): external_cfdi(when=sealed_cfdi.fecha(timedelta(days=4), now=NOW)),
        ("cfdi_certificate_invalid", None): external_cfdi(
            lambda xml: re.sub(rb' Certificado="[^"]+"', b' Certificado="AAAA"', xml)),
        ("cfdi_certificate_number_mismatch", None): external_cfdi(
            lambda xml: xml.replace(b'NoCertificado="30001000000500000001"', b'NoCertificado="30001000000500000002"')),
        ("cfdi_seal_invalid", None): external_cfdi(lambda xml: xml.replace(b'Folio="1001"', b'Folio="1002"')),
        # The document: type, branch, date, currency, export
        ("unsupported_document_type", None): prepare(invoice(), type="withholding"),
        ("unknown_branch", None): prepare(invoice(branch="GDL")),
        ("series_not_configured", None): prepare(credit_note(branch="TIJ")),
        ("missing_field", None): prepare(invoice(payment_form=None)),
        ("invalid_issue_date", None): prepare(invoice(issue_date="2025-06-25")),
        ("unknown_currency", None): prepare(invoice(currency="MXP", exchange_rate="1")),
        ("unsupported_currency", None): prepare(invoice(currency="XXX")),
        ("field_not_allowed", None): prepare(invoice(exchange_rate="17.2345")),
        ("unknown_export", None): prepare(invoice(export="05")),
        ("unsupported_export", None): prepare(invoice(export="02")),
        # The customer
        ("invalid_legal_name", "documents"): prepare(invoice(customer=CUSTOMER | {
            "name": "Xenon Industrial Articles, S.A. de C.V."})),
        ("unknown_tax_regime", "documents"): prepare(invoice(customer=CUSTOMER | {"tax_regime": "600"})),
        ("tax_regime_not_allowed", "documents"): prepare(invoice(customer=CUSTOMER | {"tax_regime": "612"})),
        ("unknown_zip", "documents"): prepare(invoice(customer=CUSTOMER | {"zip": "00001"})),
        ("unknown_cfdi_use", None): prepare(invoice(customer=CUSTOMER | {"cfdi_use": "G09"})),
        ("cfdi_use_not_allowed", None): prepare(invoice(customer=CUSTOMER | {"cfdi_use": "D01"})),
        ("invalid_zip", None): prepare(invoice(customer={"tax_id": "XAXX010101000", "name": "Juan Pérez",
                                                         "zip": "76343"})),
        ("global_information_required", None): prepare(invoice(customer={"tax_id": "XAXX010101000"})),
        ("unknown_country", None): prepare(invoice(customer=FOREIGN | {"country": "XYZ"}, currency="USD",
                                                   exchange_rate="18.5")),
        ("invalid_country", None): prepare(invoice(customer=FOREIGN | {"country": "MEX"}, currency="USD",
                                                   exchange_rate="18.5")),
        # Payment, the global invoice, the credit note
        ("invalid_payment_method", None): prepare(credit_note(payment_method="PPD", payment_form=None)),
        ("invalid_payment_form", None): prepare(invoice(payment_form="99")),
        ("unknown_payment_form", None): prepare(invoice(payment_form="16")),
        ("invalid_name", None): prepare(global_invoice(customer={"tax_id": "XAXX010101000",
                                                                 "name": "Juan Pérez"})),
        ("invalid_global_information", None): prepare(global_invoice(
            global_information={"periodicity": "monthly", "months": "05", "year": 2023})),
        ("invalid_global_line", None): prepare(global_invoice(items=[
            item(unit_code="ACT", description="Venta", code="T-10231")])),
        ("related_required", None): prepare(credit_note(related=[])),
        ("duplicate_related", None): prepare(credit_note(related=[RELATED, RELATED.lower()])),
        # Lines and taxes
        ("unknown_product_code", None): prepare(invoice(items=[item(product_code="84111599")])),
        ("unknown_unit_code", None): prepare(invoice(items=[item(unit_code="ZZZ")])),
        ("invalid_amount", None): prepare(invoice(items=[item(discount="1.005")])),
        ("unknown_tax_object", None): prepare(invoice(items=[item(tax_object="09")])),
        ("unsupported_tax_object", None): prepare(invoice(items=[item(tax_object="05")])),
        ("taxes_required", None): prepare(invoice(items=[item(tax_object="02", taxes=[])])),
        ("taxes_not_allowed", None): prepare(invoice(items=[item(tax_object="01")])),
        ("invalid_tax", None): prepare(invoice(items=[item(taxes=[{"type": "vat"}])])),
        ("tax_not_allowed", None): prepare(invoice(items=[item(taxes=[{"type": "isr", "rate": "10"}])])),
        ("invalid_tax_rate", None): prepare(invoice(items=[item(taxes=[{"type": "vat", "rate": "15"}])])),
        ("duplicate_tax", None): prepare(invoice(items=[item(taxes=[{"type": "vat", "rate": "16"},
                                                                    {"type": "vat", "rate": "0"}])])),
        ("invalid_discount", None): prepare(invoice(items=[item(discount="100.01")])),
        ("invalid_tax_base", None): prepare(invoice(items=[item(discount="100.00")])),
        ("amount_too_large", None): prepare(invoice(items=[item(quantity="999999999999",
                                                                unit_price="99999999999")])),
        ("document_too_large", None): prepare(invoice(items=[long_line] * requests.MAX_ITEMS)),
        # A payment receipt
        ("invoice_not_payable", None): lambda: payments.resolve(
            requests.MexicoDocumentRequest.model_validate(payment({"document": PAID_ID, "amount": "580.00"})),
            {PAID_ID: paid_invoice("PUE")}),
        ("related_customer_mismatch", None): lambda: payments.resolve(
            requests.MexicoDocumentRequest.model_validate(payment({"document": PAID_ID, "amount": "580.00"}) | {
                "customer": {"tax_id": "XAXX010101000", "name": "Juan Pérez"}}),
            {PAID_ID: paid_invoice("PPD")}),
        ("invalid_payment_date", None): prepare(payment(paid_at="2025-07-01")),
        ("invalid_previous_balance", None): prepare(payment(paid=EXTERNAL | {"previous_balance": "1160.01"})),
        ("invalid_tax_object", None): prepare(payment(paid=EXTERNAL | {"tax_object": "01"})),
        ("amount_exceeds_balance", None): prepare(payment(paid=EXTERNAL | {"previous_balance": "580.00",
                                                                           "amount": "580.01"})),
        ("equivalence_required", None): prepare(payment(currency="EUR", exchange_rate="20.1",
                                                        paid=EXTERNAL | {"currency": "USD"})),
        ("invalid_equivalence", None): prepare(payment(paid=EXTERNAL | {"equivalence": "1.1"})),
        ("payment_amount_too_small", None): prepare(payment(amount="579.99")),
        # Cancellation
        ("substitute_required", None): cancel({"motive": "01"}),
        ("substitute_not_allowed", None): cancel({"motive": "02", "substitute": RELATED}),
        ("substitute_not_related", None): cancel({"motive": "01", "substitute": "doc_8n4m2k7p1r5t9v3x6z0b"},
                                                 {"doc_8n4m2k7p1r5t9v3x6z0b": {"content": {"related": None},
                                                                              "authorization_number": RELATED}}),
    }


def cancel(body: dict, found: dict | None = None) -> Callable[[], object]:
    """Mexico's checks of a cancellation request of a stamped invoice."""
    def run():
        from sello.countries.mx import cancellation

        document = {"authorization_number": "0E4F5D3A-1B2C-4D5E-8F90-123456789ABC",
                    "content": {"issuer": {"rfc": "EKU9003173C9"}}}
        return cancellation.prepare(document, cancellation.MexicoCancelRequest.model_validate(body), found or {})

    return run


@pytest.fixture(scope="module")
def triggers():
    return _triggers()


def test_every_example_has_a_way_to_raise_it_and_each_way_one_example(triggers):
    keys = [(example.code, example.context) for example in mx.examples()]
    assert len(keys) == len(set(keys))  # one example per code and context
    assert set(keys) == set(triggers)


@pytest.mark.parametrize("example", mx.examples(), ids=lambda e: f"{e.code}-{e.context}")
def test_each_example_is_the_answer_mexico_gives(example, triggers):
    with pytest.raises(SelloError) as caught:
        triggers[(example.code, example.context)]()
    error = caught.value
    assert (error.status, error.text.msgid) == (example.status, example.msgid)
    assert {"error": error.to_dict()} == example.body()
