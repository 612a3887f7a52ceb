"""The PAC simulator's checks one by one, on the shared Mexico fixtures and on documents made here:
certificates (RFC, NoCertificado, CSD or FIEL, issuer), time zones and currency decimals from SAT's
catalogs, the simulated SAT registry, the sums, and where a stamp puts the TimbreFiscalDigital."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography import x509
from lxml import etree

from local.pac import arithmetic, certificates, registry, sat, timbre
from tests.conftest import DATA, needs_data

MX = DATA / "mx"
SAMPLES = MX / "samples"
CSD_DIR = MX / "csd"
NS = {"cfdi": sat.CFDI_NS, "tfd": sat.TFD_NS}


def load(name: str) -> x509.Certificate:
    return x509.load_der_x509_certificate((CSD_DIR / name).read_bytes())


def sample(name: str) -> etree._Element:
    return etree.fromstring((SAMPLES / name).read_bytes())


# -- certificates ----------------------------------------------------------------------------------------

@needs_data("mx", "csd")
@pytest.mark.parametrize(("name", "rfc", "number"), [
    ("EKU9003173C9_2023_30001000000500003416.cer", "EKU9003173C9", "30001000000500003416"),
    ("eku9003173c9_csd.cer", "EKU9003173C9", "30001000000400002434"),
    ("he951128469_csd.cer", "H&E951128469", None),
    ("xiqb891116qe4_csd.cer", "XIQB891116QE4", None),
    ("jes900109q90_30001000000400002436.cer", "JES900109Q90", "30001000000400002436"),
    ("satcfdi_emisor2021.cer", "AAA010101AAA", "30001000000300023708"),
])
def test_rfc_and_number_of_the_shared_csds(name, rfc, number):
    certificate = load(name)
    assert certificates.rfc(certificate) == rfc
    assert len(certificates.number(certificate)) == 20 and certificates.number(certificate).isdigit()
    if number:
        assert certificates.number(certificate) == number
    assert certificates.is_csd(certificate)


@needs_data("mx", "samples")
@pytest.mark.parametrize("name", ["satcfdi_HE951128469_ingreso_iva16_stamped.xml",
                                  "satcfdi_xiqb891116qe4_ingreso_iva16_stamped.xml",
                                  "satcfdi_pago20_xiqb891116qe4_iva16_signed.xml"])
def test_the_fiel_certificates_of_satcfdis_samples_are_no_csd(name):
    certificate = certificates.read(sample(name).get("Certificado"))
    assert not certificates.is_csd(certificate)
    assert len(certificate.extensions) == 4


@needs_data("mx", "csd", "SATCertsPruebas_CA_test.zip")
def test_who_issued_the_shared_certificates():
    eku = load("EKU9003173C9_2023_30001000000500003416.cer")
    test_cas = sat.load_cas(CSD_DIR / "SATCertsPruebas_CA_test.zip")
    assert certificates.issued_by_any(eku, test_cas)
    assert not certificates.issued_by_any(eku, sat.production_cas())
    assert certificates.named_sat_test_authority(eku)
    emisor2021 = load("satcfdi_emisor2021.cer")  # "AC de pruebas", not SAT's
    assert not certificates.issued_by_any(emisor2021, (*test_cas, *sat.production_cas()))
    assert not certificates.named_sat_test_authority(emisor2021)
    # Known gap: SAT's TFD certificate of 2024 comes from a SAT authority newer than the CA
    # certificates satcfdi bundles (2022), so production mode would not know that authority's CSDs.
    tfd_2024 = load("SAT_TFD_00001000000708361114.cer")
    assert not certificates.issued_by_any(tfd_2024, sat.production_cas())
    assert tfd_2024.issuer not in {ca.subject for ca in sat.production_cas()}


def test_an_unreadable_certificado():
    with pytest.raises(certificates.Unreadable):
        certificates.read("not base64!")
    with pytest.raises(certificates.Unreadable):
        certificates.read(base64.b64encode(b"not a certificate").decode())


# -- catalogs --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("zip_code", "winter", "summer"), [
    ("42501", -6, -6),  # Hidalgo, Tiempo del Centro
    ("22000", -8, -7),  # Tijuana, Tiempo del Noroeste, with the US summer time
    ("77500", -5, -5),  # Cancún, Tiempo del Sureste
    ("83000", -7, -7),  # Hermosillo, Tiempo del Pacífico
    ("not-a-zip", -6, -6),  # unknown: Tiempo del Centro
])
def test_the_time_zone_of_a_zip_code(zip_code, winter, summer):
    zone = sat.zone(zip_code)
    for when, hours in ((datetime(2026, 1, 15, 12), winter), (datetime(2026, 7, 15, 12), summer)):
        assert when.replace(tzinfo=zone).utcoffset() == timedelta(hours=hours)


def test_currency_decimals_and_regimes():
    assert [sat.currency_decimals(code) for code in ("MXN", "XXX", "USD")] == [2, 0, 2]
    assert sat.regimen_exists("601") and not sat.regimen_exists("999")
    # Every régimen of the catalog belongs to a person type (satcfdi's catalog has no such column).
    from satcfdi.catalogs import select_all

    assert set(select_all("C756_c_RegimenFiscal")) == registry.REGIMENES_FISICA | registry.REGIMENES_MORAL


# -- the simulated SAT registry ---------------------------------------------------------------------------

def receptor_document(rfc: str, nombre: str, zip_code: str, regime: str, *, lugar: str = "42501",
                      emisor: str = "ESCUELA KEMPER URGATE") -> etree._Element:
    c = sat.CFDI_NS
    root = etree.Element(f"{{{c}}}Comprobante", LugarExpedicion=lugar, nsmap={"cfdi": c})
    etree.SubElement(root, f"{{{c}}}Emisor", Rfc="EKU9003173C9", Nombre=emisor, RegimenFiscal="601")
    etree.SubElement(root, f"{{{c}}}Receptor", Rfc=rfc, Nombre=nombre, DomicilioFiscalReceptor=zip_code,
                     RegimenFiscalReceptor=regime, UsoCFDI="G03")
    return root


TAXPAYERS = registry.index(registry.DEFAULT_TAXPAYERS)


@pytest.mark.parametrize(("receptor", "code"), [
    (("XIA190128J61", "XENON INDUSTRIAL ARTICLES", "76343", "601"), None),
    (("XIA190128J61", "XENON  INDUSTRIAL ARTICLES ", "76343", "601"), None),  # white space collapsed
    (("XIA190128J61", "Xenon Industrial Articles", "76343", "601"), "CFDI40145"),  # capitals count
    (("XIQB891116QE4", "BERENICE XIMO QUEZADA", "01219", "612"), None),
    (("XIQB891116QE4", "BERENICE XIMO QUEZADA", "01219", "601"), "CFDI40158"),  # a moral's régimen
    (("XIA190128J61", "XENON INDUSTRIAL ARTICLES", "76343", "999"), "CFDI40157"),
    (("XEXX010101000", "ACME CORPORATION", "42501", "616"), None),  # a foreigner: any name
    (("XEXX010101000", "ACME CORPORATION", "76343", "616"), "CFDI40149"),
    (("XAXX010101000", "PUBLICO EN GENERAL", "42501", "601"), "CFDI40158"),
    (("EWE1709045U0", "ESCUELA WILSON ESQUIVEL", "42501", "601"), "CFDI40143"),
])
def test_registry_rules(receptor, code):
    finding = registry.check(receptor_document(*receptor), TAXPAYERS)
    assert (finding.code if finding else None) == code
    if finding:
        assert finding.detail


def test_an_emisor_in_the_registry_must_carry_its_registered_name():
    root = receptor_document("XIA190128J61", "XENON INDUSTRIAL ARTICLES", "76343", "601",
                             emisor="ESCUELA KEMPER URGATE SA DE CV")
    assert registry.check(root, TAXPAYERS).code == "CFDI40139"
    outside = registry.index([t for t in registry.DEFAULT_TAXPAYERS if t.rfc != "EKU9003173C9"])
    assert registry.check(root, outside) is None  # an emisor the registry does not know is not refused


@pytest.mark.parametrize("item", [
    {"rfc": "xia190128j61"}, {"rfc": "XIA190128J61", "zip": 76343}, {"rfc": "XIA190128J61", "regimes": "601"},
    {"rfc": "XIA190128J61", "name": ""}, {"rfc": "XIA190128J61", "nickname": "x"}, ["XIA190128J61"],
])
def test_bad_taxpayers_are_refused(item):
    with pytest.raises(ValueError):
        registry.Taxpayer.from_json(item)


# -- sums ------------------------------------------------------------------------------------------------

@needs_data("mx", "samples")
def test_the_shared_samples_add_up():
    results = {path.name: [f.code for f in arithmetic.differences(etree.parse(str(path)).getroot())]
               for path in sorted(SAMPLES.glob("*.xml"))}
    # SAT's example document (a template with placeholder amounts) is the one that does not.
    assert results.pop("satcfdi_cfdv40-ejemplo-signed-tfd.xml") == ["CFDI40108", "CFDI40215", "CFDI40221",
                                                                     "CFDI40119"]
    assert len(results) >= 8 and all(codes == [] for codes in results.values()), results


def withheld_document() -> etree._Element:
    """An ingreso with an exempt line, IVA 16 % and ISR and IVA withheld, as satcfdi computes it."""
    from satcfdi.create.cfd import cfdi40
    from satcfdi.create.cfd.catalogos import Impuesto, TipoFactor

    def line(price: str, traslado, retenciones=()):
        return cfdi40.Concepto(clave_prod_serv="84111506", cantidad=Decimal("3"), clave_unidad="E48",
                               descripcion="Servicio", valor_unitario=Decimal(price), objeto_imp="02",
                               impuestos=cfdi40.Impuestos(traslados=traslado, retenciones=list(retenciones)))

    tasa = TipoFactor.TASA
    iva = cfdi40.Traslado(impuesto=Impuesto.IVA, tipo_factor=tasa, tasa_o_cuota=Decimal("0.160000"))
    exento = cfdi40.Traslado(impuesto=Impuesto.IVA, tipo_factor=TipoFactor.EXENTO)
    retenciones = [cfdi40.Retencion(impuesto=impuesto, tipo_factor=tasa, tasa_o_cuota=Decimal(rate))
                   for impuesto, rate in ((Impuesto.ISR, "0.100000"), (Impuesto.IVA, "0.106667"))]
    invoice = cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc="EKU9003173C9", nombre="ESCUELA KEMPER URGATE", regimen_fiscal="601"),
        lugar_expedicion="42501", metodo_pago="PUE", forma_pago="03",
        receptor=cfdi40.Receptor(rfc="XIA190128J61", nombre="XENON INDUSTRIAL ARTICLES",
                                 domicilio_fiscal_receptor="76343", regimen_fiscal_receptor="601",
                                 uso_cfdi="G03"),
        conceptos=[line("333.33", iva, retenciones), line("10.01", exento), line("0.05", iva)],
        fecha=datetime(2026, 1, 1, 12))
    return etree.fromstring(invoice.xml_bytes())


def test_withholdings_exempt_lines_and_rounding_add_up_as_satcfdi_computes_them():
    root = withheld_document()
    assert root.find("cfdi:Impuestos", NS).get("TotalImpuestosRetenidos")
    assert root.find("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado[@TipoFactor='Exento']", NS) is not None
    assert arithmetic.differences(root) == []


@pytest.mark.parametrize(("path", "name", "delta", "codes"), [
    ("cfdi:Impuestos", "TotalImpuestosRetenidos", "0.01", ["CFDI40203", "CFDI40119"]),
    ("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado[@TipoFactor='Exento']", "Base", "0.01", ["CFDI40215"]),
    (".", "Descuento", "1.00", ["CFDI40119"]),
])
def test_sums_that_do_not_hold(path, name, delta, codes):
    root = withheld_document()
    element = root if path == "." else root.find(path, NS)
    element.set(name, str(Decimal(element.get(name, "0")) + Decimal(delta)))
    assert [f.code for f in arithmetic.differences(root)] == codes


# -- the stamp --------------------------------------------------------------------------------------------

@needs_data("mx", "samples", "generated_eku2023_global_signed.xml")
def test_the_timbre_goes_into_a_complemento_before_the_addenda_and_the_sello_still_holds():
    raw = (SAMPLES / "generated_eku2023_global_signed.xml").read_bytes()
    root = etree.fromstring(raw)
    addenda = etree.SubElement(root, f"{{{sat.CFDI_NS}}}Addenda")  # outside the cadena: the sello holds
    etree.SubElement(addenda, "Pedido", numero="42")
    before = copy.deepcopy(root)
    local_sat = timbre.LocalSat.generate()
    stamp = timbre.stamp(root, local_sat, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert etree.tostring(root) == etree.tostring(before)  # the checked tree is left as it was
    stamped = etree.fromstring(stamp.cfdi.encode())
    names = [etree.QName(child).localname for child in stamped if isinstance(child.tag, str)]
    assert names[-2:] == ["Complemento", "Addenda"]
    assert stamp.fecha_timbrado == "2026-01-01T21:04:05"  # Mexico City, −06:00, no offset written
    assert sat.schema_error(stamped) == ""
    assert sat.cadena_original(stamped) == sat.cadena_original(before)
    certificate = certificates.read(stamped.get("Certificado"))
    assert certificates.verify_sha256(certificate, base64.b64decode(stamped.get("Sello")),
                                      sat.cadena_original(stamped).encode())
    tfd = stamped.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    assert certificates.verify_sha256(local_sat.certificate, base64.b64decode(tfd.get("SelloSAT")),
                                      sat.tfd_cadena(tfd).encode())
    assert certificates.number(local_sat.certificate) == local_sat.number == tfd.get("NoCertificadoSAT")
