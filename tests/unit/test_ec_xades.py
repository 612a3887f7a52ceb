"""The XAdES-BES signer (sello.countries.ec.xades), checked with the independent verifier
(local.sri.signature), which is built on signxml and shares no code with the signer."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from local.certs import make_certificate, rsa_key
from local.sri.signature import InvalidSignature, verify
from sello.countries.ec import xades

DS = "http://www.w3.org/2000/09/xmldsig#"
ETSI = "http://uri.etsi.org/01903/v1.3.2#"
NS = {"ds": DS, "etsi": ETSI}
ALGORITHMS = {  # name -> (SignatureMethod, DigestMethod, hashlib name)
    "rsa-sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                 "http://www.w3.org/2000/09/xmldsig#sha1", "sha1"),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                   "http://www.w3.org/2001/04/xmlenc#sha256", "sha256"),
}
# Text SRI documents really carry: accents, ñ, an escaped ampersand, a carriage return, an attribute.
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<factura id="comprobante" version="1.1.0">\n'
    '  <infoTributaria><ambiente>1</ambiente><razonSocial>Ñandú &amp; Cía. Ltda.</razonSocial>'
    '<ruc>1799999990001</ruc><secuencial>000000042</secuencial></infoTributaria>\n'
    '  <infoFactura><fechaEmision>18/04/2024</fechaEmision>'
    '<dirEstablecimiento>Av. Amazonas &#13; y Colón</dirEstablecimiento><importeTotal>44.56</importeTotal>'
    '</infoFactura>\n'
    '  <infoAdicional><campoAdicional nombre="dirección">Quito</campoAdicional></infoAdicional>\n'
    '</factura>\n'
).encode()
SIGNING_TIME = datetime(2024, 4, 18, 19, 34, 32, 878000, tzinfo=UTC)


@pytest.fixture(scope="module")
def key():
    return rsa_key(1)


@pytest.fixture(scope="module")
def cert(key):
    return make_certificate(key)


@pytest.fixture(scope="module", params=sorted(ALGORITHMS))
def algorithm(request):
    return request.param


@pytest.fixture(scope="module")
def signed(key, cert, algorithm):
    return xades.sign(DOCUMENT, key, cert, algorithm=algorithm, signing_time=SIGNING_TIME)


def signature_of(signed: bytes):
    root = etree.fromstring(signed)
    return root, root[-1]


def b64_int(text: str) -> int:
    return int.from_bytes(base64.b64decode(text), "big")


def tamper(signed: bytes, pattern: bytes, replacement: bytes) -> bytes:
    changed, count = re.subn(pattern, replacement, signed, count=1)
    assert count == 1 and changed != signed
    return changed


def expect_invalid(xml: bytes, *fragments: str) -> str:
    with pytest.raises(InvalidSignature) as err:
        verify(xml)
    for fragment in fragments:
        assert fragment in err.value.reason
    return err.value.reason


# Round trip ----------------------------------------------------------------------------------------

def test_the_signed_document_verifies(signed):
    verify(signed)


def test_the_signed_bytes_start_with_an_utf8_declaration_and_keep_the_text(signed):
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(signed)
    assert root.findtext("infoTributaria/razonSocial") == "Ñandú & Cía. Ltda."
    assert root.findtext("infoFactura/dirEstablecimiento") == "Av. Amazonas \r y Colón"
    assert "Ñandú".encode() in signed  # UTF-8, not character references


def test_the_comprobante_is_unchanged_apart_from_the_appended_signature(signed):
    root, signature = signature_of(signed)
    root.remove(signature)
    original = etree.fromstring(DOCUMENT)
    assert etree.tostring(root, method="c14n") == etree.tostring(original, method="c14n")


def test_ids_are_random_per_signature(key, cert):
    first = signature_of(xades.sign(DOCUMENT, key, cert, signing_time=SIGNING_TIME))[1]
    second = signature_of(xades.sign(DOCUMENT, key, cert, signing_time=SIGNING_TIME))[1]
    assert first.get("Id") != second.get("Id")
    assert first.find("ds:KeyInfo", NS).get("Id") != second.find("ds:KeyInfo", NS).get("Id")


def test_the_default_algorithm_is_rsa_sha1(key, cert):
    _, signature = signature_of(xades.sign(DOCUMENT, key, cert))
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", NS)
    assert method.get("Algorithm") == ALGORITHMS["rsa-sha1"][0]


# Structure (ficha técnica Anexo 14) -------------------------------------------------------------------

def test_the_signature_is_the_last_child_of_the_root_and_declares_ds_and_etsi(signed):
    root, signature = signature_of(signed)
    assert root.get("id") == "comprobante" and root.nsmap == {}
    assert signature.tag == f"{{{DS}}}Signature"
    assert signature.nsmap == {"ds": DS, "etsi": ETSI}
    assert signature.get("Id")


def test_signed_info_has_the_three_references_with_consistent_ids(signed, algorithm):
    signature_method, digest_method, _ = ALGORITHMS[algorithm]
    _, signature = signature_of(signed)
    signed_info = signature.find("ds:SignedInfo", NS)
    assert signed_info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == \
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    assert signed_info.find("ds:SignatureMethod", NS).get("Algorithm") == signature_method
    properties_ref, key_info_ref, document_ref = signed_info.findall("ds:Reference", NS)

    properties = signature.find("ds:Object/etsi:QualifyingProperties/etsi:SignedProperties", NS)
    assert properties_ref.get("URI") == f"#{properties.get('Id')}"
    assert properties_ref.get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    assert key_info_ref.get("URI") == f"#{signature.find('ds:KeyInfo', NS).get('Id')}"
    assert document_ref.get("URI") == "#comprobante"
    assert [t.get("Algorithm") for t in document_ref.findall("ds:Transforms/ds:Transform", NS)] == \
        ["http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    for reference in (properties_ref, key_info_ref, document_ref):
        assert reference.find("ds:DigestMethod", NS).get("Algorithm") == digest_method
    qualifying = signature.find("ds:Object/etsi:QualifyingProperties", NS)
    assert qualifying.get("Target") == f"#{signature.get('Id')}"
    data_format = properties.find("etsi:SignedDataObjectProperties/etsi:DataObjectFormat", NS)
    assert data_format.get("ObjectReference") == f"#{document_ref.get('Id')}"
    assert data_format.findtext("etsi:Description", namespaces=NS) == "contenido comprobante"
    assert data_format.findtext("etsi:MimeType", namespaces=NS) == "text/xml"


def test_key_info_carries_the_certificate_and_its_rsa_key(signed, cert):
    _, signature = signature_of(signed)
    key_info = signature.find("ds:KeyInfo", NS)
    assert base64.b64decode(key_info.findtext("ds:X509Data/ds:X509Certificate", namespaces=NS)) == \
        cert.public_bytes(Encoding.DER)
    numbers = cert.public_key().public_numbers()
    assert b64_int(key_info.findtext("ds:KeyValue/ds:RSAKeyValue/ds:Modulus", namespaces=NS)) == numbers.n
    assert key_info.findtext("ds:KeyValue/ds:RSAKeyValue/ds:Exponent", namespaces=NS) == "AQAB"


def test_signed_properties_carry_signing_time_and_certificate(signed, cert, algorithm):
    _, digest_method, hash_name = ALGORITHMS[algorithm]
    _, signature = signature_of(signed)
    ssp = signature.find("ds:Object/etsi:QualifyingProperties/etsi:SignedProperties/"
                         "etsi:SignedSignatureProperties", NS)
    assert ssp.findtext("etsi:SigningTime", namespaces=NS) == "2024-04-18T14:34:32-05:00"
    cert_node = ssp.find("etsi:SigningCertificate/etsi:Cert", NS)
    assert cert_node.find("etsi:CertDigest/ds:DigestMethod", NS).get("Algorithm") == digest_method
    assert base64.b64decode(cert_node.findtext("etsi:CertDigest/ds:DigestValue", namespaces=NS)) == \
        hashlib.new(hash_name, cert.public_bytes(Encoding.DER)).digest()
    assert cert_node.findtext("etsi:IssuerSerial/ds:X509IssuerName", namespaces=NS) == \
        "CN=Sello Test CA (no fiscal validity),O=Sello Test,C=EC"
    serial = cert_node.findtext("etsi:IssuerSerial/ds:X509SerialNumber", namespaces=NS)
    assert serial == str(cert.serial_number)


def test_signing_time_defaults_to_now_in_ecuador_time(key, cert):
    before = datetime.now(UTC).replace(microsecond=0)
    _, signature = signature_of(xades.sign(DOCUMENT, key, cert))
    text = signature.findtext(".//etsi:SigningTime", namespaces=NS)
    assert text.endswith("-05:00")
    when = datetime.fromisoformat(text)
    assert when.utcoffset() == timedelta(hours=-5)
    assert before <= when <= datetime.now(UTC)


@pytest.mark.parametrize("given, expected", [
    (datetime(2024, 1, 1, 3, 0, tzinfo=UTC), "2023-12-31T22:00:00-05:00"),
    (datetime(2024, 1, 1, 3, 0), "2023-12-31T22:00:00-05:00"),  # naive: UTC
    (datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))), "2024-01-01T05:00:00-05:00"),
])
def test_signing_time_is_written_with_the_ecuador_offset(key, cert, given, expected):
    _, signature = signature_of(xades.sign(DOCUMENT, key, cert, signing_time=given))
    assert signature.findtext(".//etsi:SigningTime", namespaces=NS) == expected


# Tampering ----------------------------------------------------------------------------------------

def test_a_changed_character_in_the_document_fails(signed):
    expect_invalid(tamper(signed, rb"000000042", b"000000043"), "#comprobante")


def test_a_changed_attribute_in_the_document_fails(signed):
    expect_invalid(tamper(signed, rb'version="1.1.0"', b'version="1.0.0"'), "#comprobante")


def test_changed_signed_properties_fail(signed):
    reason = expect_invalid(tamper(signed, rb"14:34:32-05:00", b"14:34:33-05:00"), "SignedProperties")
    assert "digest" in reason.lower()


def test_a_changed_key_info_fails(signed):
    expect_invalid(tamper(signed, rb"<ds:Exponent>AQAB<", b"<ds:Exponent>AQAC<"), "#Certificate")


def test_another_certificate_for_the_same_key_fails(signed, key):
    root, signature = signature_of(signed)
    other = make_certificate(key, common_name="OTRO TITULAR")
    signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text = \
        base64.b64encode(other.public_bytes(Encoding.DER)).decode()
    expect_invalid(etree.tostring(root), "#Certificate")


def test_a_changed_signature_value_fails(signed):
    root, signature = signature_of(signed)
    value = bytearray(base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=NS)))
    value[10] ^= 1
    signature.find("ds:SignatureValue", NS).text = base64.b64encode(bytes(value)).decode()
    expect_invalid(etree.tostring(root), "Signature verification failed")


def test_a_removed_comprobante_reference_fails(signed):
    root, signature = signature_of(signed)
    signature.find("ds:SignedInfo", NS).remove(signature.findall("ds:SignedInfo/ds:Reference", NS)[2])
    expect_invalid(etree.tostring(root), "comprobante is not signed")


def test_a_second_signature_fails(signed):
    root, signature = signature_of(signed)
    root.append(copy.deepcopy(signature))
    expect_invalid(etree.tostring(root), "2 signatures")


def test_an_unsigned_document_fails():
    expect_invalid(DOCUMENT, "not signed")


def test_a_wrong_rsa_key_value_is_caught_even_when_the_signature_is_consistent(key, cert, monkeypatch):
    # A signer that writes a wrong modulus but digests and signs what it wrote (bryancalisto's signer
    # issue #118: SRI answers error 39 at authorization).
    right = xades._integer
    monkeypatch.setattr(xades, "_integer", lambda value: right(value + 2 if value > 65537 else value))
    expect_invalid(xades.sign(DOCUMENT, key, cert), "RSAKeyValue")


# Refused input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("document, message", [
    (b'<factura xmlns:ds="http://www.w3.org/2000/09/xmldsig#" id="comprobante"/>', "namespaces"),
    (b'<factura xmlns="urn:example" id="comprobante"/>', "namespaces"),
    (b'<!DOCTYPE factura><factura id="comprobante"/>', "DOCTYPE"),
    (b'<factura xml:lang="es" id="comprobante"/>', "xml:"),
    (b'<factura version="1.1.0"/>', 'id="comprobante"'),
    (b'<factura id="comprobante"><a></factura>', "well-formed"),
])
def test_documents_the_signature_cannot_cover_are_refused(key, cert, document, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        xades.sign(document, key, cert)


def test_an_already_signed_document_is_refused(key, cert, signed):
    with pytest.raises(ValueError, match="already signed"):
        xades.sign(signed, key, cert)


def test_an_unknown_algorithm_is_refused(key, cert):
    with pytest.raises(ValueError, match="rsa-sha1"):
        xades.sign(DOCUMENT, key, cert, algorithm="rsa-md5")


def test_a_key_that_is_not_the_certificates_is_refused(cert):
    with pytest.raises(ValueError, match="does not belong"):
        xades.sign(DOCUMENT, rsa_key(2), cert)


# The size of the signature --------------------------------------------------------------------------

def built_invoice() -> bytes:
    """A factura exactly as the signing task builds it (xml.build of a prepared sample)."""
    from datetime import date

    from sello.countries.ec import documents, xml
    from sello.models.document_request import CreateDocumentRequest
    from tests.ec_fixtures import make_issuer
    from tests.helpers import load_event

    request = CreateDocumentRequest.model_validate(load_event("documents/create_invoice.body.json"))
    prepared = documents._prepare_sale(request, make_issuer(), date(2025, 6, 30))
    numbered = documents.number(prepared, 42, "doc_size", "test")
    return xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                     environment="test")


SIZE_CERTIFICATES = {  # name -> (key slot, key bits, certificate options)
    "2048-bit key": (1, 2048, {}),
    "4096-bit key": (3, 4096, {}),
    "issuer name to escape, 20-byte serial": (1, 2048, {
        "self_signed": True, "serial": 2 ** 159 - 1, "common_name": "Ñandú & <Cía> \"Firma\", +;=" * 2,
        "organization": "A&B <Autoridad> de Certificación, S.A.&&&&&&&&&&&&&&&&&&&&&&&"}),
}


@pytest.mark.parametrize("name", sorted(SIZE_CERTIFICATES))
def test_the_signature_size_bounds_what_signing_adds(name, algorithm):
    slot, bits, options = SIZE_CERTIFICATES[name]
    signer = rsa_key(slot, bits)
    certificate = make_certificate(signer, **options)
    unsigned = built_invoice()
    bound = xades.signature_size(certificate)

    signed = xades.sign(unsigned, signer, certificate, algorithm=algorithm)

    verify(signed)
    # The signed document replaces the unsigned one's XML declaration (which ends with a line feed)
    # with its own and adds the ds:Signature element.
    added = len(signed) - len(unsigned)
    assert added <= bound
    if algorithm == "rsa-sha256":  # the longer URIs and digests: the bound is exact
        assert added == bound - 1
    else:
        assert bound - added < 200


def test_the_signature_size_grows_with_the_certificate():
    small = xades.signature_size(make_certificate(rsa_key(1)))
    large = xades.signature_size(make_certificate(rsa_key(3, 4096)))
    assert 4_000 < small < large < 8_000
