"""A CFDI sealed outside Sello with SAT's 2023 test CSD of EKU9003173C9 (satcfdi's builders and
signer, local.sealed_cfdi) as POST /v1/documents/stamp reads it: the cadena original Sello computes
at run time (satcfdi's bundled XSLT) is the one the shared SAT XSLT tree gives for the same bytes, the
seal verifies, any change to a sealed value breaks it, and SAT's test certificate is accepted as a
CSD of its RFC for test documents but, not chaining to SAT's production authorities, refused for live
ones."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_der_private_key
from lxml import etree

from local import sealed_cfdi
from sello.countries import get_plugin
from sello.countries.mx import external
from sello.errors import Unprocessable
from sello.services.certificates import check_signer
from tests.conftest import DATA, needs_data

CSD = DATA / "mx" / "csd" / "EKU9003173C9_2023_30001000000500003416"
XSLT = DATA.joinpath("mx", "xslt", "sat_tree", "www.sat.gob.mx", "sitio_internet", "cfd", "4",
                     "cadenaoriginal_4_0", "cadenaoriginal_4_0.xslt")
pytestmark = [needs_data("mx", "csd", CSD.name + ".cer"), needs_data("mx", "csd", CSD.name + ".key"),
              needs_data("mx", "xslt", "sat_tree")]
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # within the CSD's validity (2023-05-18 to 2027-05-18)


@cache
def csd() -> tuple:
    password = (CSD.parent / (CSD.name + ".txt")).read_text().strip().encode()
    key = load_der_private_key((CSD.parent / (CSD.name + ".key")).read_bytes(), password)
    return key, x509.load_der_x509_certificate((CSD.parent / (CSD.name + ".cer")).read_bytes())


def sealed(**options) -> bytes:
    return sealed_cfdi.seal(sealed_cfdi.comprobante(when=sealed_cfdi.fecha(now=NOW), **options), *csd())


def test_the_cadena_sello_computes_is_sats_and_the_seal_verifies():
    xml = sealed(serie="EXT", folio="1")
    root = etree.fromstring(xml)
    shared = str(etree.XSLT(etree.parse(str(XSLT)))(etree.fromstring(xml)))
    assert external.cadena_original(root) == shared
    read = external.read(xml, NOW)
    assert (read.number, read.tax_id, root.get("NoCertificado")) == ("EXT-1", "EKU9003173C9",
                                                                      "30001000000500003416")


@pytest.mark.parametrize("before, after", [(b'Total="1160.00"', b'Total="1160.01"'),
                                           (b'Rfc="XIA190128J61"', b'Rfc="XIQB891116QE4"'),
                                           (b'UsoCFDI="G03"', b'UsoCFDI="G01"')])
def test_any_sealed_value_changed_breaks_the_seal(before, after):
    xml = sealed()
    assert before in xml
    with pytest.raises(Unprocessable) as caught:
        external.read(xml.replace(before, after), NOW)
    assert caught.value.code in ("cfdi_seal_invalid", "cfdi_schema_invalid")


def test_sats_test_csd_stamps_test_documents_only():
    read = external.read(sealed(), NOW)
    plugin = get_plugin("MX")
    tax_ids, trusted = check_signer(read.certificate, (), tax_id="EKU9003173C9", plugin=plugin,
                                    now=read.signed_at, environment="test", path=read.certificate_path)
    assert tax_ids == {"EKU9003173C9"} and trusted is False
    with pytest.raises(Unprocessable) as caught:
        check_signer(read.certificate, (), tax_id="EKU9003173C9", plugin=plugin, now=read.signed_at,
                     environment="live", path=read.certificate_path)
    assert (caught.value.code, caught.value.path) == ("certificate_not_trusted", "xml.Certificado")
