"""cfdi.build / seal with a generated key and certificate (no shared fixtures needed): the CFDI carries
the prepared amounts and Fecha, its sello verifies with the cadena SAT's XSLT gives, it matches the
schema, a retry builds the same bytes, and a CFDI off the schema never leaves (InvalidCfdi)."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from local.certs import make_certificate, rsa_key
from sello.countries.mx import cfdi, documents, requests
from sello.countries.mx.issuer import validate_issuer

NO_CERTIFICADO = "30001000000500003416"
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)
ISSUER = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", {
    "regime": "601", "zip": "42501",
    "branches": [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                  "series": {"invoice": "A", "credit_note": "NC"}}]})
CFDI = "{http://www.sat.gob.mx/cfd/4}"


@pytest.fixture(scope="module")
def csd():
    """A key and a certificate whose serial, like a CSD's, spells its NoCertificado in ASCII digits."""
    key = rsa_key(3)
    return key, make_certificate(key, serial=int.from_bytes(NO_CERTIFICADO.encode(), "big"), self_signed=True)


def prepared(data: dict | None = None):
    request = requests.MexicoDocumentRequest.model_validate(copy.deepcopy(data or requests.INVOICE_EXAMPLE))
    return documents.prepare(request, ISSUER, "test", NOW)


def cadena(xml: bytes) -> str:
    path = cfdi.schema_path().parent / "cadenaoriginal_4_0" / "cadenaoriginal_4_0.xslt"
    return str(etree.XSLT(etree.parse(str(path)))(etree.fromstring(xml)))


def verify(xml: bytes, certificate) -> None:
    root = etree.fromstring(xml)
    signature = base64.b64decode(root.get("Sello"))
    certificate.public_key().verify(signature, cadena(xml).encode(), padding.PKCS1v15(), hashes.SHA256())


def test_a_sealed_invoice(csd):
    key, certificate = csd
    document = prepared()
    xml = cfdi.build_signed(document.content, "A-42", key, certificate)
    root = etree.fromstring(xml)
    assert root.tag == f"{CFDI}Comprobante" and root.get("Version") == "4.0"
    assert (root.get("Serie"), root.get("Folio"), root.get("Fecha")) == ("A", "42", "2025-06-30T12:00:00")
    assert root.get("NoCertificado") == NO_CERTIFICADO
    assert base64.b64decode(root.get("Certificado")) == certificate.public_bytes(Encoding.DER)
    # 12000.00 + 2.5 × 850.00; discount 125.00; total 14000.00 + 2240.00 IVA − 25.00 ISR withheld.
    assert cadena(xml).startswith(f"||4.0|A|42|2025-06-30T12:00:00|03|{NO_CERTIFICADO}|14125.00|125.00|MXN|"
                                  f"16215.00|I|01|PUE|42501|EKU9003173C9|ESCUELA KEMPER URGATE|601|"
                                  f"XIA190128J61|")
    verify(xml, certificate)
    assert cfdi.schema_errors(xml) == []
    totals = document.content["totals"]
    written = (root.get("SubTotal"), root.get("Descuento"), root.get("Total"))
    assert written == (totals["subtotal"], totals["discount"], totals["total"])


def test_the_prepared_amounts_are_the_ones_written(csd):
    # Where satcfdi's own computation would differ: a fee per unit, half-up rounding, line by line rounding.
    data = requests.INVOICE_EXAMPLE | {"items": [
        {"product_code": "50202306", "description": "Refresco 600 ml", "unit_code": "H87", "quantity": 10,
         "unit_price": "20.00", "taxes": [{"type": "ieps", "per_unit": "1.5"}, {"type": "vat", "rate": "16"}]},
        {"product_code": "50202306", "description": "Chicle", "unit_code": "H87", "unit_price": "0.125"},
        *[{"product_code": "50202306", "description": "Dulce", "unit_code": "H87", "unit_price": "0.03",
           "taxes": [{"type": "vat", "rate": "16"}]}] * 4,
    ]}
    document = prepared(data)
    root = etree.fromstring(cfdi.build_signed(document.content, "A-1", *csd))
    conceptos = root.find(f"{CFDI}Conceptos")
    assert [c.get("Importe") for c in conceptos] == ["200.00", "0.13", "0.03", "0.03", "0.03", "0.03"]
    fee = conceptos[0].find(f"{CFDI}Impuestos/{CFDI}Traslados")[0]
    assert (fee.get("TipoFactor"), fee.get("Base"), fee.get("TasaOCuota"), fee.get("Importe")) == (
        "Cuota", "10", "1.500000", "15.00")
    vat = [c.find(f"{CFDI}Impuestos/{CFDI}Traslados")[-1].get("Importe") for c in conceptos if len(c)]
    assert vat == ["34.40", "0.00", "0.00", "0.00", "0.00"]  # 16 % of 215.00; of 0.03 each
    assert (root.get("SubTotal"), root.get("Total")) == ("200.25", "249.65")


def test_a_retry_builds_the_same_bytes_and_fecha_can_be_given(csd):
    document = prepared()
    first = cfdi.build_signed(document.content, "A-42", *csd)
    assert cfdi.build_signed(copy.deepcopy(document.content), "A-42", *csd) == first
    rebuilt = cfdi.build(document.content, serie="A", folio="42", fecha=datetime(2025, 6, 30, 9, 1, 2))
    other = cfdi.seal(rebuilt, *csd)
    assert etree.fromstring(other).get("Fecha") == "2025-06-30T09:01:02"


def test_a_key_that_is_not_the_certificates_is_refused(csd):
    _, certificate = csd
    with pytest.raises(ValueError, match="not the certificate's"):
        cfdi.build_signed(prepared().content, "A-1", rsa_key(4), certificate)


def test_related_invoices_need_their_uuids(csd):
    content = prepared(requests.CREDIT_NOTE_EXAMPLE | {"related": ["doc_0123456789abcdefghij"]}).content
    with pytest.raises(ValueError, match="doc_0123456789abcdefghij"):
        cfdi.build_signed(content, "NC-1", *csd)
    uuid = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
    resolved = documents.resolve_related(content, {"doc_0123456789abcdefghij": uuid})
    root = etree.fromstring(cfdi.build_signed(resolved, "NC-1", *csd))
    related = root.find(f"{CFDI}CfdiRelacionados")
    assert related.get("TipoRelacion") == "01"
    assert [r.get("UUID") for r in related] == ["5FB2822E-396D-4725-8521-CDC4BDD20CCF"]


def test_a_cfdi_off_the_schema_never_leaves(csd):
    content = copy.deepcopy(prepared().content)
    content["lines"][0]["product_code"] = "4323240"  # 7 digits: no catalog key
    with pytest.raises(cfdi.InvalidCfdi, match="ClaveProdServ"):
        cfdi.build_signed(content, "A-1", *csd)
    # Well-formed keys that are not in SAT's catalogs: the schema's own enumerations would refuse them.
    for field, value in (("product_code", "84111599"), ("unit_code", "Z9Z")):
        content = copy.deepcopy(prepared().content)
        content["lines"][1][field] = value
        with pytest.raises(cfdi.InvalidCfdi, match="is not a key of c_Clave"):
            cfdi.build_signed(content, "A-1", *csd)
    content = copy.deepcopy(prepared().content)
    content["issuer"]["zip"] = "00001"
    with pytest.raises(cfdi.InvalidCfdi, match="LugarExpedicion"):
        cfdi.build_signed(content, "A-1", *csd)
    content = copy.deepcopy(prepared().content)
    content["lines"][0]["amount"] = str(-Decimal(content["lines"][0]["amount"]))
    with pytest.raises(cfdi.InvalidCfdi):
        cfdi.build_signed(content, "A-1", *csd)
