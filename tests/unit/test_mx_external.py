"""Reading a CFDI sealed elsewhere (sello.countries.mx.external): what a sealed CFDI becomes, SAT's
72-hour window, the seal checked over the cadena Sello computes, and XML that attacks the parser
(entities, external DTDs, deep nesting, other encodings) refused before anything reads it."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from local import sealed_cfdi
from sello.countries import get_plugin
from sello.countries.mx import external
from sello.errors import Unprocessable

NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # 12:00 in Pachuca (LugarExpedicion 42501)


def sealed(ago: timedelta = timedelta(minutes=1), **options) -> bytes:
    return sealed_cfdi.sealed(when=sealed_cfdi.fecha(ago, now=NOW), **options)


def refused(data: bytes, now: datetime = NOW) -> Unprocessable:
    with pytest.raises(Unprocessable) as caught:
        external.read(data, now)
    return caught.value


def test_a_sealed_cfdi_becomes_the_document_sello_stores():
    read = get_plugin("MX").external_document(sealed(serie="EXT", folio="42"), NOW)
    assert (read.number, read.tax_id, read.tax_id_path, read.certificate_path) == (
        "EXT-42", "EKU9003173C9", "xml.Emisor.Rfc", "xml.Certificado")
    assert read.signed_at == NOW - timedelta(minutes=1)  # Fecha 11:59 in Pachuca, in UTC
    prepared = read.prepared
    assert (prepared.type, prepared.series, prepared.issue_date.isoformat()) == ("invoice", "EXT", "2025-06-30")
    assert prepared.customer == {"name": "XENON INDUSTRIAL ARTICLES", "tax_id": "XIA190128J61"}
    assert {k: str(v) for k, v in prepared.totals.items()} == {
        "currency": "MXN", "subtotal": "1000.00", "discount": "0", "tax": "160.00", "total": "1160.00"}
    # What SAT's status service is asked with (MexicoPlugin.authority_status) is in the content.
    content = prepared.content
    assert (content["issuer"]["rfc"], content["customer"]["tax_id"], content["totals"]["total"]) == (
        "EKU9003173C9", "XIA190128J61", "1160.00")
    assert content["fecha"] == "2025-06-30T11:59:00" and content["cfdi_type"] == "I"


def test_a_credit_note_and_a_cfdi_without_serie():
    assert external.read(sealed(tipo="E"), NOW).prepared.type == "credit_note"
    document = sealed_cfdi.comprobante(when=sealed_cfdi.fecha(now=NOW), folio="7")
    del document["Serie"]
    read = external.read(sealed_cfdi.seal(document, *sealed_cfdi.csd()), NOW)
    assert (read.number, read.prepared.series) == ("7", "")


def test_the_cadena_is_satcfdis_and_the_seal_verifies_over_it():
    document = sealed_cfdi.comprobante(when=sealed_cfdi.fecha(now=NOW))
    key, certificate = sealed_cfdi.csd()
    xml = sealed_cfdi.seal(document, key, certificate)
    root = etree.fromstring(xml)
    cadena = external.cadena_original(root)
    assert cadena == document.cadena_original() and cadena.startswith("||4.0|EXT|1001|2025-06-30T11:59:00|")
    certificate.public_key().verify(base64.b64decode(root.get("Sello")), cadena.encode(), padding.PKCS1v15(),
                                    hashes.SHA256())


def test_the_same_cfdi_reformatted_is_the_same_document():
    xml = sealed()
    pretty = etree.tostring(etree.fromstring(xml), pretty_print=True, xml_declaration=True, encoding="UTF-8")
    assert pretty != xml
    assert external.read(pretty, NOW).key == external.read(xml, NOW).key


@pytest.mark.parametrize("ago, accepted", [(timedelta(hours=71, minutes=59), True), (timedelta(hours=72, minutes=1), False),
                                           (timedelta(minutes=-4), True), (timedelta(minutes=-6), False)])
def test_fecha_is_within_sats_72_hours_and_not_ahead(ago, accepted):
    xml = sealed(ago)
    if accepted:
        assert external.read(xml, NOW).signed_at == NOW - ago
    else:
        assert (refused(xml).code, refused(xml).path) == ("cfdi_date_out_of_range", "xml.Fecha")


def test_a_change_after_sealing_or_another_key_breaks_the_seal():
    xml = sealed()
    assert refused(xml.replace(b'SubTotal="1000.00"', b'SubTotal="100.00"')).code in ("cfdi_seal_invalid",
                                                                                   "cfdi_schema_invalid")
    assert refused(xml.replace(b'Nombre="XENON INDUSTRIAL ARTICLES"', b'Nombre="XENON INDUSTRIAL"')).code == \
        "cfdi_seal_invalid"
    # Sealed with another key, then given the issuer's certificate (the same NoCertificado).
    other = sealed_cfdi.seal(sealed_cfdi.comprobante(when=sealed_cfdi.fecha(now=NOW)), *sealed_cfdi.csd(key_slot=5))
    issuers = etree.fromstring(xml).get("Certificado").encode()
    forged = re.sub(rb' Certificado="[^"]+"', b' Certificado="' + issuers + b'"', other)
    assert forged != other
    assert (refused(forged).code, refused(forged).path) == ("cfdi_seal_invalid", "xml.Sello")


def test_an_entity_never_reaches_the_parser(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    attacks = [
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode(),
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><r/>',
        b"<r/>\n<!DOCTYPE r>",
        b'<?xml version="1.0"?>\n<!doctype r [<!entity x "y">]><r/>',
    ]
    for attack in attacks:
        error = refused(attack)
        assert (error.code, error.path) == ("cfdi_doctype_not_allowed", "xml"), attack
        assert "TOP-SECRET" not in str(error.to_dict())


@pytest.mark.parametrize("data", [
    "<?xml version='1.0' encoding='UTF-16'?><r/>".encode("utf-16"),
    "<?xml version='1.0' encoding='ISO-8859-1'?><r>ñ</r>".encode("latin-1"),
    b"<a>" * 10_000 + b"</a>" * 10_000,
    b"",
    b"not xml at all",
])
def test_other_encodings_deep_nesting_and_garbage_are_malformed(data):
    assert (refused(data).code, refused(data).path) == ("cfdi_malformed", "xml")


def test_blanks_the_schema_collapses_and_base64_line_breaks_are_read_as_sat_reads_them():
    xml = sealed(folio="5")
    root = etree.fromstring(xml)
    wrapped = xml.replace(root.get("Certificado").encode(), root.get("Certificado")[:76].encode() + b"&#10;"
                          + root.get("Certificado")[76:].encode())
    assert external.read(wrapped, NOW).number == "EXT-5"
    spaced = xml.replace(b'Fecha="', b'Fecha=" ')
    # The schema collapses the blank and SAT's cadena normalizes it: the same CFDI, the same seal.
    assert external.read(spaced, NOW).key == external.read(xml, NOW).key


def test_an_encoding_other_than_utf8_is_refused_even_when_the_bytes_are_ascii():
    xml = sealed().replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'")
    assert b"ISO-8859-1" in xml
    assert (refused(xml).code, refused(xml).path) == ("cfdi_malformed", "xml")


def test_only_an_unstamped_cfdi_40_of_a_type_sello_issues():
    assert refused(b'<Comprobante xmlns="http://www.sat.gob.mx/cfd/3" Version="3.3"/>').code == "cfdi_not_cfdi40"
    assert refused(sealed().replace(b'Version="4.0"', b'Version="4.1"', 1)).code == "cfdi_not_cfdi40"
    assert refused(sealed(tipo="T")).path == "xml.TipoDeComprobante"
    # A payment receipt made elsewhere would leave the balances Sello records on its invoices wrong.
    assert refused(sealed(tipo="P")).code == "cfdi_type_not_supported"


def test_a_country_without_the_member_takes_no_external_document():
    with pytest.raises(Unprocessable) as caught:
        get_plugin("EC").external_document(sealed(), NOW)
    assert (caught.value.code, caught.value.path) == ("external_documents_not_supported", "issuer_id")
