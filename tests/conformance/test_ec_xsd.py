"""The invoices, credit and debit notes and purchase settlements Sello builds validate against SRI's
published XSDs, in every shape the request model allows; and xsd.validate itself agrees with the
schemas on SRI-style samples produced elsewhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sello.countries.ec import documents, xml, xsd
from sello.countries.ec.issuer_flags import RIMPE_LEGENDS
from sello.models.document_request import CreateDocumentRequest
from sello.models.issuers import Issuer
from sello.settings import get_settings
from tests.conftest import DATA, needs_data
from tests.ec_fixtures import make_issuer as issuer
from tests.ec_fixtures import schemas  # noqa: F401 (fixture)
from tests.helpers import load_event

pytestmark = [needs_data("ec", "xsd"), pytest.mark.usefixtures("schemas")]
NOW = datetime(2025, 7, 1, 15, 0, tzinfo=UTC)
SAMPLES = DATA / "ec" / "samples"


def build(data: dict, the_issuer: Issuer | None = None, environment: str = "test") -> bytes:
    # prepare() runs the schema check itself; building again here checks the numbered document, the
    # one that is signed, after a JSON round trip like the one through storage.
    prepared = documents.prepare(
        CreateDocumentRequest.model_validate(data), the_issuer or issuer(), environment, NOW
    )
    numbered = documents.number(prepared, 999_999_999, "doc_conformance", environment)
    return xml.build(
        json.loads(json.dumps(prepared.content)),
        number=numbered.number,
        access_key=numbered.access_key,
        environment=environment,
    )


def sample(kind: str, **changes) -> dict:
    return load_event(f"documents/create_{kind}.body.json") | changes


ROOTS = {
    "invoice": ("factura", "1.1.0"),
    "credit_note": ("notaCredito", "1.1.0"),
    "debit_note": ("notaDebito", "1.0.0"),
    "purchase_settlement": ("liquidacionCompra", "1.1.0"),
}
EVERYTHING_ITEM = {
    "code": "X" * 25,
    "aux_code": "Y" * 25,
    "description": "Á" * 300,
    "unit": "u" * 50,
    "quantity": "123456.123456",
    "unit_price": "0.000001",
    "discount": "0.00",
    "details": {"a": "1", "b": "2", "c": "3"},
    "taxes": [
        {"type": "ice", "code": "3031", "rate": "150"},
        {"type": "vat", "rate": "15"},
        {"type": "irbpnr", "code": "5001"},
    ],
}


@pytest.mark.parametrize("kind", list(ROOTS))
@pytest.mark.parametrize("environment", ["test", "live"])
def test_the_sample_bodies_build_schema_valid_xml(kind, environment):
    assert xsd.validate(build(sample(kind), environment=environment), *ROOTS[kind]) == []


@pytest.mark.parametrize("kind", list(ROOTS))
@pytest.mark.parametrize(
    "flags",
    [
        {"rimpe": "emprendedor", "agente_retencion": "12345678"},
        {"rimpe": "negocio_popular", "obligado_contabilidad": False},
    ],
)
def test_issuer_flags_keep_the_xml_valid(kind, flags):
    assert xsd.validate(build(sample(kind), issuer(**flags)), *ROOTS[kind]) == []


@pytest.mark.parametrize("kind", list(ROOTS))
def test_the_check_accepts_exactly_the_rimpe_legends_sri_authorizes(kind):
    # SRI's published XSDs carry only the first legend; both are in the ficha técnica (Anexo 22).
    raw = build(sample(kind), issuer(rimpe="emprendedor"))
    legend = RIMPE_LEGENDS["emprendedor"].encode()
    assert legend in raw
    for other in RIMPE_LEGENDS.values():
        assert xsd.validate(raw.replace(legend, other.encode()), *ROOTS[kind]) == []
    for wrong in ("CONTRIBUYENTE RÉGIMEN GENERAL", "CONTRIBUYENTE RÉGIMEN RIMPE ", "RÉGIMEN RIMPE"):
        paths = [path for path, _ in xsd.validate(raw.replace(legend, wrong.encode()), *ROOTS[kind])]
        assert paths == [f"/{ROOTS[kind][0]}/infoTributaria/contribuyenteRimpe"]


@pytest.mark.parametrize("kind", list(ROOTS))
def test_every_optional_field_at_its_limit_stays_valid(kind):
    item = EVERYTHING_ITEM
    if kind == "purchase_settlement":  # a liquidación de compra carries IVA only
        item = {**item, "taxes": [tax for tax in item["taxes"] if tax["type"] == "vat"]}
    data = sample(kind, items=[item], additional_info={f"n{i}": "v" * 300 for i in range(14)})
    data["customer"] = {
        "id_type": "passport",
        "tax_id": "P" * 20,
        "name": "N" * 300,
        "email": "x@example.com",
        "address": "D" * 300,
    }
    data.pop("payments", None)
    assert xsd.validate(build(data), *ROOTS[kind]) == []


def test_a_final_consumer_invoice_with_every_vat_code_is_valid():
    items = [
        {"description": f"Item {code}", "unit_price": "1.00", "taxes": [{"type": "vat", "code": code}]}
        for code in ("0", "2", "3", "4", "5", "6", "7", "8", "10")
    ]
    data = sample(
        "invoice", customer={"id_type": "final_consumer"}, items=items, payments=[], additional_info={}
    )
    assert xsd.validate(build(data), "factura", "1.1.0") == []


@needs_data("ec", "samples")
@pytest.mark.parametrize(
    ("name", "root", "version"),
    [
        ("invoice", "factura", "1.1.0"),
        ("credit-note", "notaCredito", "1.1.0"),
        ("debit-note", "notaDebito", "1.0.0"),
        ("withholding-certificate", "comprobanteRetencion", "1.0.0"),
    ],
)
def test_published_samples_validate(name, root, version):
    for variant in ("original", "signed"):
        assert (
            xsd.validate((SAMPLES / f"bryancalisto_{name}_{variant}.xml").read_bytes(), root, version) == []
        )


@needs_data("ec", "samples")
def test_the_52_digit_clave_of_the_guide_sample_is_reported_with_its_path():
    errors = xsd.validate(
        (SAMPLES / "bryancalisto_delivery-guide_original.xml").read_bytes(), "guiaRemision", "1.0.0"
    )
    assert [path for path, _ in errors] == ["/guiaRemision/infoTributaria/claveAcceso"]


def test_violations_come_back_with_element_paths():
    raw = build(sample("invoice"))
    broken = raw.replace(b"<totalDescuento>8.83</totalDescuento>", b"").replace(
        b"<cantidad>6.00</cantidad>", b"<cantidad>6.0000001</cantidad>"
    )
    paths = [path for path, _ in xsd.validate(broken, "factura", "1.1.0")]
    assert paths == ["/factura/infoFactura/totalConImpuestos", "/factura/detalles/detalle[6]/cantidad"]


def test_without_a_folder_nothing_is_checked(monkeypatch):
    monkeypatch.setenv("SELLO_SRI_XSD_DIR", "")
    get_settings.cache_clear()
    assert xsd.validate(b"<factura/>", "factura", "1.1.0") == []


def test_a_missing_schema_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SELLO_SRI_XSD_DIR", str(tmp_path))
    get_settings.cache_clear()
    with pytest.raises(FileNotFoundError):
        xsd.validate(b"<factura/>", "factura", "1.1.0")


@pytest.mark.parametrize("supplier", [
    {"id_type": "national_id", "tax_id": "1710034065", "name": "Rosa Chicaiza"},
    {"id_type": "tax_id", "tax_id": "1790016919001", "name": "Importadora Andina Cía. Ltda."},
    {"id_type": "foreign_id", "tax_id": "X" * 20, "name": "Andes Consulting LLC"},
])
def test_a_purchase_settlement_is_valid_for_every_kind_of_supplier_and_every_vat_code(supplier):
    items = [
        {"description": f"Item {code}", "unit_price": "1.00", "taxes": [{"type": "vat", "code": code}]}
        for code in ("0", "2", "3", "4", "5", "6", "7", "8", "10")
    ]
    data = sample("purchase_settlement", customer=supplier, items=items, payments=[], additional_info={})
    assert xsd.validate(build(data), "liquidacionCompra", "1.1.0") == []
