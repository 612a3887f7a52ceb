"""The PAC simulator over HTTP on 127.0.0.1 (httpx, SW Sapien's contract): authentication and tokens,
stamping and what the stamp carries, each refusal with a document crafted for it, duplicates and
customid idempotency, recovery, the injected faults, the admin endpoints and the README's examples.

CFDIs are built with satcfdi's builders and sealed with SAT's public test CSDs from the shared
fixtures; crafted variants are resealed here. What the simulator answers is checked independently
of its code: SAT's XSLTs and the TFD schema from the shared fixtures, applied with lxml, and the
signatures verified with cryptography."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid as uuids
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_der_private_key
from cryptography.x509.oid import NameOID
from lxml import etree

from local.certs import rsa_key
from local.pac.simulator import ADMIN_PATH, FAULT_KINDS, PacSimulator
from tests.conftest import DATA, REPO_ROOT, needs_data

MX = DATA / "mx"
CSD = MX / "csd"
EKU_2023 = "EKU9003173C9_2023_30001000000500003416"

TEST_CAS = CSD / "SATCertsPruebas_CA_test.zip"
SAT_TREE = MX / "xslt" / "sat_tree" / "www.sat.gob.mx" / "sitio_internet" / "cfd"
CFDI_XSLT = SAT_TREE / "4" / "cadenaoriginal_4_0" / "cadenaoriginal_4_0.xslt"
TFD_XSLT = MX / "xslt" / "cadenaoriginal_TFD_1_1.xslt"
TFD_XSD = MX / "xsd" / "TimbreFiscalDigitalv11.xsd"
CFDI = "http://www.sat.gob.mx/cfd/4"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
NS = {"cfdi": CFDI, "tfd": TFD}
MEXICO_CITY = ZoneInfo("America/Mexico_City")
CLIENT_TIMEOUT = 0.5
FOLIOS = itertools.count(1)

XENON = {"rfc": "XIA190128J61", "nombre": "XENON INDUSTRIAL ARTICLES", "domicilio_fiscal_receptor": "76343",
         "regimen_fiscal_receptor": "601", "uso_cfdi": "G03"}
PUBLICO = {"rfc": "XAXX010101000", "nombre": "PUBLICO EN GENERAL", "domicilio_fiscal_receptor": "42501",
           "regimen_fiscal_receptor": "616", "uso_cfdi": "S01"}


# -- SAT material, read independently of the simulator -----------------------------------------------

def shared(path):
    """A shared fixture file; the test is skipped, with the reason, when it is absent."""
    if not path.exists():
        pytest.skip(f"shared conformance fixture not available: {path}")
    return path


@cache
def xslt(path) -> etree.XSLT:
    return etree.XSLT(etree.parse(str(shared(path))))


def cadena(root: etree._Element) -> str:
    return str(xslt(CFDI_XSLT)(root))


def tfd_cadena(tfd: etree._Element) -> str:
    return str(xslt(TFD_XSLT)(etree.ElementTree(etree.fromstring(etree.tostring(tfd)))))


@cache
def tfd_schema() -> etree.XMLSchema:
    """The shared TFD 1.1 schema; its import of tdCFDI.xsd points at SAT's folder layout, the shared
    folder is flat: the import is pointed at the file beside it, in memory."""
    tree = etree.parse(str(shared(TFD_XSD)))
    for element in tree.iter("{http://www.w3.org/2001/XMLSchema}import"):
        element.set("schemaLocation", "tdCFDI.xsd")
    return etree.XMLSchema(tree)


def verifies(certificate: x509.Certificate, sello: str, text: str) -> bool:
    try:
        certificate.public_key().verify(base64.b64decode(sello), text.encode(), padding.PKCS1v15(),
                                        hashes.SHA256())
        return True
    except Exception:
        return False


def serial_digits(certificate: x509.Certificate) -> str:
    serial = certificate.serial_number
    return serial.to_bytes((serial.bit_length() + 7) // 8, "big").decode("ascii")


# -- documents ---------------------------------------------------------------------------------------

class Csd:
    """A SAT test CSD pair from the shared fixtures (or made here), able to seal a document."""

    def __init__(self, certificate_der: bytes, key):
        self.der, self.key = certificate_der, key
        self.certificate = x509.load_der_x509_certificate(certificate_der)
        self.number = serial_digits(self.certificate)

    @classmethod
    def shared(cls, stem: str) -> Csd:
        password = shared(CSD / f"{stem}.txt").read_text().strip().encode()
        key = load_der_private_key((CSD / f"{stem}.key").read_bytes(), password)
        return cls((CSD / f"{stem}.cer").read_bytes(), key)

    @cached_property
    def signer(self):
        """satcfdi's signer of this pair (loading one checks the key: about 0.1 s, so once)."""
        from satcfdi.models import Signer

        key = self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        return Signer.load(certificate=self.der, key=key)

    def seal(self, root: etree._Element) -> bytes:
        """Sets NoCertificado, Certificado and Sello (SAT's XSLT from the shared tree, RSA-SHA256)."""
        root.set("NoCertificado", self.number)
        root.set("Certificado", base64.b64encode(self.der).decode())
        signature = self.key.sign(cadena(root).encode(), padding.PKCS1v15(), hashes.SHA256())
        root.set("Sello", base64.b64encode(signature).decode())
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def csd(stem: str = EKU_2023) -> Csd:
    if stem not in _CSDS:
        _CSDS[stem] = Csd.shared(stem)
    return _CSDS[stem]


_CSDS: dict[str, Csd] = {}


def made_csd(rfc: str = "EKU9003173C9", *, valid_from=datetime(2005, 1, 1, tzinfo=UTC), years: int = 30,
             issuer: str = "Autoridad local de pruebas") -> Csd:
    """A CSD-shaped certificate made here (self-signed, no fiscal validity)."""
    key = rsa_key(7)
    number = "30001000000" + "".join(str(b % 10) for b in uuids.uuid4().bytes[:9])
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ESCUELA KEMPER URGATE SA DE CV"),
                         x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, f"{rfc} / VADA800927DJ3"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Sucursal 1")])
    certificate = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key()).serial_number(int.from_bytes(number.encode(), "big"))
        .not_valid_before(valid_from).not_valid_after(valid_from + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256()))
    return Csd(certificate.public_bytes(serialization.Encoding.DER), key)


def local_now(zone: ZoneInfo = MEXICO_CITY) -> datetime:
    return datetime.now(zone).replace(tzinfo=None, microsecond=0)


def concepto(price: str = "1000.00"):
    from satcfdi.create.cfd import cfdi40
    from satcfdi.create.cfd.catalogos import Impuesto, TipoFactor

    return cfdi40.Concepto(
        clave_prod_serv="84111506", cantidad=Decimal("1"), clave_unidad="E48",
        descripcion="Servicio de prueba", valor_unitario=Decimal(price), objeto_imp="02",
        impuestos=cfdi40.Impuestos(traslados=cfdi40.Traslado(
            impuesto=Impuesto.IVA, tipo_factor=TipoFactor.TASA, tasa_o_cuota=Decimal("0.160000"))))


def build(sealer: Csd | None = None, *, fecha: datetime | None = None, lugar: str = "42501",
          receptor: dict | None = None, emisor_rfc: str = "EKU9003173C9",
          emisor_nombre: str = "ESCUELA KEMPER URGATE", conceptos: list | None = None) -> bytes:
    """A CFDI 4.0 ingreso built by satcfdi and sealed by satcfdi with the CSD (its own folio each)."""
    from satcfdi.create.cfd import cfdi40

    invoice = cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc=emisor_rfc, nombre=emisor_nombre, regimen_fiscal="601"),
        lugar_expedicion=lugar, metodo_pago="PUE", forma_pago="03", serie="T", folio=str(next(FOLIOS)),
        receptor=cfdi40.Receptor(**(receptor or XENON)), conceptos=conceptos or [concepto()],
        fecha=fecha or local_now())
    invoice.sign((sealer or csd()).signer)
    return invoice.xml_bytes()


def reseal(xml: bytes, change, sealer: Csd | None = None) -> bytes:
    """The document with `change(root)` applied, sealed again (by this module's own sealing)."""
    root = etree.fromstring(xml)
    change(root)
    return (sealer or csd()).seal(root)


# -- a SW Sapien client written from SW's contract ------------------------------------------------------

class Sw:
    def __init__(self, simulator: PacSimulator, timeout: float = 5, http: httpx.Client | None = None):
        self.simulator = simulator
        # Plain HTTP: no TLS context to build for each client (that alone costs tens of milliseconds).
        self.http = http or httpx.Client(base_url=simulator.url, trust_env=False, timeout=timeout,
                                         verify=False)
        self._own = http is None
        self._token: str | None = None

    def authenticate(self, user: str | None = None, password: str | None = None) -> httpx.Response:
        # satcfdi's SW client joins host and path with a slash: the path arrives as "//security/…".
        return self.http.post(f"{self.simulator.url}//security/authenticate",
                              headers={"user": user or self.simulator.user,
                                       "password": password or self.simulator.password})

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.authenticate().json()["data"]["token"]
        return self._token

    def stamp(self, xml: bytes, customid: str | None = None, *, version: str = "v4", b64: bool = False,
              token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if customid is not None:
            headers["customid"] = customid
        content = base64.b64encode(xml) if b64 else xml
        path = f"/v4/cfdi33/stamp/{version}" + ("/b64" if b64 else "")
        return self.http.post(path, files={"xml": ("xml", content, "text/xml")}, headers=headers)

    def recover(self, uuid: str) -> httpx.Response:
        return self.http.get(f"/datawarehouse/v1/live/{uuid}",
                             headers={"Authorization": f"bearer {self.token}"})

    def close(self) -> None:
        if self._own:
            self.http.close()


@pytest.fixture(scope="module")
def simulator():
    with PacSimulator(test_cas=TEST_CAS if TEST_CAS.exists() else None) as sim:
        yield sim


@pytest.fixture(scope="module")
def http(simulator):
    with httpx.Client(base_url=simulator.url, trust_env=False, timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def pac(simulator):
    simulator.reset()
    yield simulator
    simulator.clock = lambda: datetime.now(UTC)
    simulator.reset()


@pytest.fixture
def sw(pac, http):
    return Sw(pac, http=http)


class Admin:
    """The admin endpoints, through the shared client."""

    def __init__(self, http: httpx.Client):
        self.http = http

    def get(self, path: str) -> httpx.Response:
        return self.http.get(ADMIN_PATH + path)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.http.post(ADMIN_PATH + path, **kwargs)


@pytest.fixture
def admin(pac, http):
    return Admin(http)


def refused(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["status"] == "error"
    return answer["message"]


# -- authentication --------------------------------------------------------------------------------------

def test_authentication_answers_a_token_and_when_it_expires(pac, sw):
    before = time.time()
    answer = sw.authenticate()
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert answer.json()["status"] == "success"
    assert len(data["token"].split(".")) == 3  # a JWT, as SW's
    assert before + 7200 - 5 <= data["expires_in"] <= time.time() + 7200 + 5  # a Unix time, as SW's
    # SW's v2 form: the credentials in a JSON body.
    v2 = sw.http.post("/v2/security/authenticate", json={"user": pac.user, "password": pac.password})
    assert v2.status_code == 200 and v2.json()["data"]["token"] != data["token"]
    assert sw.stamp(build(), token=data["token"]).status_code == 200
    assert pac.requests("authenticate") == 2 and pac.state()["tokens"] == 2


@pytest.mark.parametrize("form", ["headers", "json"])
def test_wrong_credentials_are_au2000(pac, sw, form):
    if form == "headers":
        response = sw.authenticate(password="not-the-password")
    else:
        response = sw.http.post("/v2/security/authenticate", json={"user": pac.user, "password": "nope"})
    assert refused(response, 401) == ("AU2000 - El usuario y/o contraseña son inválidos, no se puede "
                                      "autenticar el servicio.")
    assert response.json()["data"] is None


def _forged(token: str) -> str:
    header, payload, _ = token.split(".")
    return f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 32).rstrip(b'=').decode()}"


@pytest.mark.parametrize(("authorization", "message"), [
    (None, "AU4101 - El token proporcionado viene vacio."),
    ("Bearer", "AU4101 - El token proporcionado viene vacio."),
    ("Bearer not-a-token", "El token debe contener 3 partes"),
    ("forged", "AU4102 - El token proporcionado no es válido."),
])
def test_requests_without_a_valid_token_are_401_and_nothing_is_stamped(pac, sw, authorization, message):
    if authorization == "forged":
        authorization = f"Bearer {_forged(sw.token)}"
    headers = {"Authorization": authorization} if authorization is not None else {}
    xml = build()
    response = sw.http.post("/v4/cfdi33/stamp/v4", files={"xml": ("xml", xml, "text/xml")}, headers=headers)
    assert refused(response, 401) == message
    recovery = sw.http.get(f"/datawarehouse/v1/live/{uuids.uuid4()}", headers=headers)
    assert refused(recovery, 401) == message
    assert pac.state()["stamps"] == {}


def test_a_token_expires_after_token_ttl_seconds(pac, sw):
    pac.token_ttl_seconds = 60
    token = sw.token
    assert sw.stamp(build(), token=token).status_code == 200
    later = datetime.now(UTC) + timedelta(seconds=61)
    pac.clock = lambda: later
    expired = sw.stamp(build(fecha=local_now()), token=token)
    assert refused(expired, 401) == "AU4103 - El token proporcionado ha expirado."
    fresh = sw.authenticate().json()["data"]
    assert fresh["expires_in"] == int(later.timestamp()) + 60
    assert sw.stamp(build(), token=fresh["token"]).status_code == 200


# -- stamping ---------------------------------------------------------------------------------------------

def test_a_sealed_cfdi_is_stamped_with_a_timbre_that_verifies(pac, sw):
    xml = build()
    started = datetime.now(MEXICO_CITY).replace(tzinfo=None, microsecond=0)
    response = sw.stamp(xml, customid="factura-1")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    data = response.json()["data"]
    assert set(data) == {"cfdi", "cadenaOriginalSAT", "noCertificadoSAT", "noCertificadoCFDI", "uuid",
                         "selloSAT", "selloCFDI", "fechaTimbrado", "qrCode"}

    original = etree.fromstring(xml)
    stamped = etree.fromstring(data["cfdi"].encode())
    tfd = stamped.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    assert tfd is not None
    assert tfd_schema().validate(tfd), tfd_schema().error_log
    assert tfd.get("Version") == "1.1"
    assert uuids.UUID(tfd.get("UUID")).version == 4 and tfd.get("UUID") == tfd.get("UUID").upper()
    assert tfd.get("UUID") == data["uuid"]
    fecha = datetime.fromisoformat(tfd.get("FechaTimbrado"))
    assert fecha.tzinfo is None and started - timedelta(seconds=2) <= fecha <= started + timedelta(seconds=5)
    assert data["fechaTimbrado"] == tfd.get("FechaTimbrado")
    assert tfd.get("RfcProvCertif") == "SPR190613I52"
    assert tfd.get("SelloCFD") == original.get("Sello") == data["selloCFDI"]
    # The SAT certificate named by NoCertificadoSAT signed the TFD's cadena.
    sat_certificate = pac.sat_certificate
    assert tfd.get("NoCertificadoSAT") == serial_digits(sat_certificate) == data["noCertificadoSAT"]
    assert tfd_cadena(tfd) == data["cadenaOriginalSAT"]
    assert data["cadenaOriginalSAT"].startswith(
        f"||1.1|{data['uuid']}|{tfd.get('FechaTimbrado')}|SPR190613I52|")
    assert tfd.get("SelloSAT") == data["selloSAT"]
    assert verifies(sat_certificate, tfd.get("SelloSAT"), tfd_cadena(tfd))
    assert not verifies(sat_certificate, tfd.get("SelloSAT"), tfd_cadena(tfd).replace("|1.1|", "|1.0|"))
    # The emisor's sello still verifies on the stamped bytes, and nothing it covers changed.
    assert cadena(stamped) == cadena(original)
    assert verifies(csd().certificate, stamped.get("Sello"), cadena(etree.fromstring(data["cfdi"].encode())))
    assert data["noCertificadoCFDI"] == original.get("NoCertificado")
    tfd.getparent().getparent().remove(tfd.getparent())
    assert etree.tostring(stamped, method="c14n") == etree.tostring(original, method="c14n")
    assert base64.b64decode(data["qrCode"]).startswith(b"\x89PNG")
    assert pac.stamps(data["uuid"]) == pac.stamps("factura-1") == 1


def test_the_other_answer_versions_and_the_base64_form(pac, sw):
    v1 = sw.stamp(build(), version="v1").json()["data"]
    assert set(v1) == {"tfd"}
    assert etree.fromstring(v1["tfd"].encode()).tag == f"{{{TFD}}}TimbreFiscalDigital"
    v2 = sw.stamp(build(), version="v2", b64=True).json()["data"]
    assert set(v2) == {"tfd", "cfdi"}
    tfd = etree.fromstring(v2["tfd"].encode())
    in_cfdi = etree.fromstring(v2["cfdi"].encode()).find(".//tfd:TimbreFiscalDigital", NS)
    assert in_cfdi.get("UUID") == tfd.get("UUID")
    v3 = sw.stamp(build(), version="v3").json()["data"]
    assert set(v3) == {"cfdi"}
    assert len(pac.state()["stamps"]) == 3


def test_a_global_invoice_to_publico_en_general_is_stamped(sw):
    response = sw.stamp(build(receptor=PUBLICO))
    assert response.status_code == 200, response.text


def test_a_stamped_document_is_recovered_from_the_datawarehouse(pac, sw):
    data = sw.stamp(build(), customid="recover-me").json()["data"]
    answer = sw.recover(data["uuid"])
    assert answer.status_code == 200 and answer.json()["status"] == "success"
    (record,) = answer.json()["data"]["records"]
    assert record["uuid"] == data["uuid"]
    assert (record["rfcEmisor"], record["rfcReceptor"], record["total"]) == ("EKU9003173C9", "XIA190128J61",
                                                                            1160.0)
    assert record["selloCFD"] == data["selloCFDI"] and record["fechaTimbrado"] == data["fechaTimbrado"]
    download = sw.http.get(record["urlXml"])  # a link, without the token, as SW's
    assert download.status_code == 200 and download.text == data["cfdi"]
    assert sw.recover(data["uuid"].lower()).json()["data"]["records"][0]["uuid"] == data["uuid"]
    # An unknown UUID: no record, which is how SW's datawarehouse answers it.
    unknown = sw.recover(str(uuids.uuid4()).upper())
    assert unknown.status_code == 200 and unknown.json()["data"]["records"] == []
    assert sw.http.get(f"/datawarehouse/files/{uuids.uuid4()}.xml").status_code == 404
    assert pac.requests("recover") == 3


# -- refusals ---------------------------------------------------------------------------------------------

def _with_dtd(xml: bytes) -> bytes:
    return xml.replace(b"<?xml version='1.0' encoding='UTF-8'?>",
                       b"<?xml version='1.0' encoding='UTF-8'?><!DOCTYPE x [<!ENTITY e 'x'>]>")


@pytest.mark.parametrize(("make", "detail"), [
    (lambda: b"<cfdi:Comprobante", "XML mal formado"),
    (lambda: _with_dtd(build()), "DTD"),
    (lambda: build().replace(b'Version="4.0"', b'Version="3.3"'), "no es un cfdi:Comprobante 4.0"),
    (lambda: build().replace(b'UsoCFDI="G03"', b'UsoCFDI="Z99"'), "UsoCFDI"),
    (lambda: build().replace(b'Moneda="MXN" ', b""), "Moneda"),
], ids=["not_well_formed", "dtd", "cfdi_3_3", "catalog_value", "missing_attribute"])
def test_a_document_that_is_not_a_valid_cfdi_4_is_301(pac, sw, make, detail):
    response = sw.stamp(make())
    assert refused(response) == "301 - La estructura del comprobante es incorrecta."
    assert detail in response.json()["messageDetail"]
    assert pac.state()["stamps"] == {}


def test_a_total_changed_after_sealing_is_302(pac, sw):
    xml = build().replace(b'Total="1160.00"', b'Total="1160.01"')
    response = sw.stamp(xml)
    assert refused(response) == "302 - Sello del emisor no válido."
    assert "cadena original" in response.json()["messageDetail"]


@needs_data("mx", "csd", "xia190128j61_csd.cer")
def test_a_sello_made_with_another_key_is_302(sw):
    def swap_certificate(root):
        root.set("Certificado", base64.b64encode(csd("xia190128j61_csd").der).decode())
        root.set("NoCertificado", csd("xia190128j61_csd").number)

    # Sealed with the EKU key, then presented with XIA's certificate.
    xml = etree.fromstring(build())
    swap_certificate(xml)
    assert refused(sw.stamp(etree.tostring(xml, xml_declaration=True, encoding="UTF-8"))).startswith("302 - ")


@needs_data("mx", "csd", "xia190128j61_csd.cer")
def test_a_csd_of_another_rfc_is_303(sw):
    response = sw.stamp(build(csd("xia190128j61_csd")))  # Emisor EKU9003173C9, sealed with XIA's CSD
    assert refused(response).startswith("303 - ")
    assert "XIA190128J61" in response.json()["messageDetail"]


@needs_data("mx", "csd", "eku9003173c9_csd.cer")
def test_a_csd_that_expired_before_the_fecha_is_305(sw):
    response = sw.stamp(build(csd("eku9003173c9_csd")))  # EKU9003173C9's CSD of 2019-2023
    assert refused(response) == "305 - La fecha de emisión no está dentro de la vigencia del CSD del emisor."
    assert "2023-06-17" in response.json()["messageDetail"]


@needs_data("mx", "samples", "satcfdi_pago20_xiqb891116qe4_iva16_signed.xml")
def test_a_cfdi_sealed_with_a_fiel_is_306(sw):
    sample = (MX / "samples" / "satcfdi_pago20_xiqb891116qe4_iva16_signed.xml").read_bytes()
    response = sw.stamp(sample)
    assert refused(response) == "306 - La llave utilizada para sellar debe ser un CSD."


def test_a_csd_not_issued_by_sat_is_308_unless_any_issuer_is_accepted(pac, sw):
    made = made_csd(issuer="AC de pruebas locales", valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    xml = build(made)
    response = sw.stamp(xml)
    assert refused(response).startswith("308 - ")
    assert "AC de pruebas locales" in response.json()["messageDetail"]
    pac.accept_any_issuer = True
    assert sw.stamp(xml).status_code == 200


@needs_data("mx", "csd", "satcfdi_emisor2021.cer")
def test_the_test_authority_is_known_by_its_certificates_or_else_by_its_name(pac, sw):
    # satcfdi's emisor2021 certificate: issued by "AC de pruebas", named like SAT but no SAT authority.
    emisor2021 = csd("satcfdi_emisor2021")
    foreign = build(emisor2021, emisor_rfc="AAA010101AAA", emisor_nombre="ACCEM SERVICIOS EMPRESARIALES SC")
    assert refused(sw.stamp(foreign)).startswith("308 - ")
    with PacSimulator() as by_name:  # without SAT's test CA certificates: AC UAT known by its name
        client = Sw(by_name)
        assert client.stamp(build()).status_code == 200
        assert refused(client.stamp(foreign)).startswith("308 - ")
        client.close()


def test_a_test_csd_in_production_mode_is_308(pac, sw):
    pac.mode = "production"
    response = sw.stamp(build())
    assert refused(response) == ("308 - El CSD del emisor no ha sido firmado por uno de los certificados de "
                                 "autoridad del SAT.")
    assert "producción" in response.json()["messageDetail"]


def test_a_fecha_73_hours_old_is_401_and_71_hours_old_is_stamped(sw):
    old = build(fecha=local_now() - timedelta(hours=73))
    response = sw.stamp(old)
    assert refused(response) == ("401 - El rango de la fecha de generación no debe de ser mayor a 72 horas "
                                 "para la emisión del timbre.")
    assert sw.stamp(build(fecha=local_now() - timedelta(hours=71))).status_code == 200


def test_a_fecha_more_than_five_minutes_ahead_is_cfdi40101(sw):
    response = sw.stamp(build(fecha=local_now() + timedelta(minutes=10)))
    assert refused(response).startswith("301 - Error de validaciones adicionales [CFDI40101] ")
    assert sw.stamp(build(fecha=local_now() + timedelta(minutes=4))).status_code == 200


def test_fecha_is_read_in_the_time_zone_of_lugar_expedicion(sw):
    # 22000 (Tijuana) is "Tiempo del Noroeste" in c_CodigoPostal: two hours behind Mexico City.
    tijuana = ZoneInfo("America/Tijuana")
    assert sw.stamp(build(lugar="22000", fecha=local_now(tijuana))).status_code == 200
    ahead = sw.stamp(build(lugar="22000", fecha=local_now(MEXICO_CITY)))  # Mexico City's clock in Tijuana
    assert "[CFDI40101]" in refused(ahead)
    assert "Tiempo del Noroeste (22000)" in ahead.json()["messageDetail"]


def test_a_fecha_before_2011_is_403(pac, sw):
    pac.accept_any_issuer = True
    xml = build(made_csd(valid_from=datetime(2005, 1, 1, tzinfo=UTC)), fecha=datetime(2010, 6, 1, 12))
    assert refused(sw.stamp(xml)) == "403 - La fecha de emisión no es posterior al 01 de enero de 2011."


@pytest.mark.parametrize(("receptor", "emisor_nombre", "code"), [
    ({**XENON, "rfc": "MCI7306249Y1"}, None, "CFDI40143"),
    ({**XENON, "nombre": "XENON INDUSTRIAL ARTICLES SA DE CV"}, None, "CFDI40145"),
    ({**XENON, "domicilio_fiscal_receptor": "76000"}, None, "CFDI40148"),
    ({**PUBLICO, "domicilio_fiscal_receptor": "76343"}, None, "CFDI40149"),
    ({**XENON, "regimen_fiscal_receptor": "605"}, None, "CFDI40158"),
    ({**XENON, "regimen_fiscal_receptor": "626"}, None, "CFDI40159"),
    ({**PUBLICO, "regimen_fiscal_receptor": "605"}, None, "CFDI40159"),
    (XENON, "ESCUELA KEMPER URGATE SA DE CV", "CFDI40139"),
], ids=["unknown_rfc", "name", "zip", "generic_zip", "regime_of_a_persona_fisica", "regime_not_registered",
        "generic_regime", "emisor_name"])
def test_a_receptor_unlike_the_sat_registry_is_301_with_the_nested_rule(pac, sw, receptor, emisor_nombre,
                                                                        code):
    response = sw.stamp(build(receptor=receptor, emisor_nombre=emisor_nombre or "ESCUELA KEMPER URGATE"))
    message = refused(response)
    assert re.fullmatch(rf"301 - Error de validaciones adicionales \[{code}\] \S.*", message), message
    assert pac.state()["errors"] == {code: 1}


def test_taxpayers_added_to_the_registry_are_known(pac, sw, admin):
    receptor = {"rfc": "MCI7306249Y1", "nombre": "MUNICIPIO DE CUAUTITLAN IZCALLI",
                "domicilio_fiscal_receptor": "54700", "regimen_fiscal_receptor": "603", "uso_cfdi": "G03"}
    assert "[CFDI40143]" in refused(sw.stamp(build(receptor=receptor)))
    taxpayer = {"rfc": "MCI7306249Y1", "name": "MUNICIPIO DE CUAUTITLAN IZCALLI", "zip": "54700",
                "regimes": ["603"]}
    state = admin.post("/config", json={"registry": [taxpayer]}).json()
    assert taxpayer in state["registry"]
    assert sw.stamp(build(receptor=receptor)).status_code == 200
    pac.reset()  # back to the default registry
    assert "[CFDI40143]" in refused(sw.stamp(build(receptor=receptor)))


def _set(path: str, name: str, value: str):
    def change(root):
        element = root if path == "." else root.find(path, NS)
        element.set(name, value)
    return change


def _both(*changes):
    def change(root):
        for one in changes:
            one(root)
    return change


@pytest.mark.parametrize(("change", "code"), [
    (_both(_set(".", "SubTotal", "999.00"), _set(".", "Total", "1159.00")), "CFDI40108"),
    (_set(".", "Total", "1160.01"), "CFDI40119"),
    (_both(_set("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Importe", "161.00"),
           _set("cfdi:Impuestos", "TotalImpuestosTrasladados", "161.00"), _set(".", "Total", "1161.00")),
     "CFDI40221"),
    (_set("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Base", "1000.01"), "CFDI40215"),
    (_both(_set("cfdi:Impuestos", "TotalImpuestosTrasladados", "161.00"), _set(".", "Total", "1161.00")),
     "CFDI40205"),
], ids=["subtotal", "total", "summary_importe", "summary_base", "total_traslados"])
def test_sums_that_do_not_add_up_are_301_with_the_nested_rule(sw, change, code):
    response = sw.stamp(reseal(build(), change))
    assert refused(response).startswith(f"301 - Error de validaciones adicionales [{code}] ")


def test_a_resealed_document_whose_sums_add_up_is_stamped(sw):
    # The resealing helper itself yields documents the simulator accepts.
    assert sw.stamp(reseal(build(), lambda root: root.set("Folio", "R-1"))).status_code == 200


@pytest.mark.parametrize(("code", "message", "expected"), [
    ("402", None, "402 - El RFC del emisor no se encuentra en el régimen de contribuyentes (LCO)."),
    ("304", "CSD revocado", "304 - CSD revocado"),
    ("CFDI40161", "El UsoCFDI no aplica",
     "301 - Error de validaciones adicionales [CFDI40161] El UsoCFDI no aplica"),
])
def test_a_queued_rejection_refuses_the_next_document_once(pac, sw, code, message, expected):
    pac.reject_next(code, message, detail="a propósito")
    xml = build()
    response = sw.stamp(xml)
    assert refused(response) == expected and response.json()["messageDetail"] == "a propósito"
    assert pac.state()["stamps"] == {}
    assert sw.stamp(xml).status_code == 200  # the same document, sent again


# -- duplicates and customid ------------------------------------------------------------------------------

def test_a_document_stamped_twice_is_307_with_the_first_stamp(pac, sw):
    xml = build()
    first = sw.stamp(xml).json()["data"]
    again = sw.stamp(xml)
    assert refused(again) == "307. El comprobante contiene un timbre previo."
    assert again.json()["data"] == first
    # The stamped document sent back: it carries the timbre already.
    back = sw.stamp(first["cfdi"].encode(), version="v3")
    assert refused(back) == "307. El comprobante contiene un timbre previo."
    assert back.json()["data"] == {"cfdi": first["cfdi"]}
    assert pac.stamps(first["uuid"]) == 1
    assert pac.state()["stamps"][first["uuid"]]["answers"] == 3


@needs_data("mx", "samples", "cfdiutils_cfdi40-valid.xml")
def test_a_cfdi_stamped_elsewhere_is_307(sw):
    response = sw.stamp((MX / "samples" / "cfdiutils_cfdi40-valid.xml").read_bytes())
    assert refused(response) == "307. El comprobante contiene un timbre previo."
    assert "6F35D3B5-3651-5370-BC2C-14CDBE384CD7" in response.json()["messageDetail"]
    assert response.json()["data"] is None


def test_a_repeated_customid_gets_the_first_stamp_never_a_second(pac, sw):
    xml = build()
    first = sw.stamp(xml, customid="pedido-42").json()["data"]
    same = sw.stamp(xml, customid="pedido-42")
    assert refused(same) == "307. El comprobante contiene un timbre previo."
    assert same.json()["data"]["uuid"] == first["uuid"]
    other = sw.stamp(build(), customid="pedido-42")  # another document under the same customid
    assert refused(other) == "CFDI3307 - Timbre duplicado. El customId proporcionado está duplicado."
    assert other.json()["data"]["uuid"] == first["uuid"]
    assert pac.stamps("pedido-42") == 1 and len(pac.state()["stamps"]) == 1
    assert pac.state()["customids"] == {"pedido-42": first["uuid"]}
    assert sw.stamp(build(), customid="pedido-43").status_code == 200


def test_concurrent_copies_with_one_customid_are_stamped_once(pac):
    xml = build()
    client = Sw(pac, timeout=10)
    token = client.token
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.stamp(xml, customid="lote-7", token=token), range(16)))
    client.close()
    assert sorted(a.status_code for a in answers) == [200] + [400] * 15
    assert {a.json()["data"]["uuid"] for a in answers} == {next(iter(pac.state()["stamps"]))}
    assert pac.stamps("lote-7") == 1


def test_a_customid_over_100_characters_is_refused(pac, sw):
    response = sw.stamp(build(), customid="x" * 101)
    assert response.status_code == 400 and "100" in response.json()["message"]
    assert sw.stamp(build(), customid="x" * 100).status_code == 200


def test_a_request_without_the_xml_field_is_refused(sw):
    response = sw.http.post("/v4/cfdi33/stamp/v4", files={"file": ("xml", build(), "text/xml")},
                            headers={"Authorization": f"Bearer {sw.token}"})
    assert refused(response) == "Xml CFDI33 no proporcionado o viene vacio."


# -- faults -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["http_500", "http_503"])
def test_an_http_error_processes_nothing(pac, sw, kind):
    token = sw.token
    pac.fail_next(1, kind, "stamp")
    xml = build()
    response = sw.stamp(xml, customid="c-1", token=token)
    assert response.status_code == int(kind[-3:])
    assert response.headers["content-type"].startswith("text/plain")
    assert pac.stamps("c-1") == 0
    assert sw.stamp(xml, customid="c-1", token=token).status_code == 200
    assert pac.requests("stamp") == 2


def test_a_timeout_processes_nothing_and_ends_when_the_client_gives_up(pac, http):
    client = Sw(pac, timeout=CLIENT_TIMEOUT)
    token = client.token
    pac.fail_next(1, "timeout", "stamp")
    xml = build()
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        client.stamp(xml, customid="t-1", token=token)
    assert time.monotonic() - started < CLIENT_TIMEOUT + 1
    client.close()
    deadline = time.monotonic() + 2  # the simulator lets go once the client has closed the connection
    while pac.state()["held"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pac.state()["held"] == 0 and pac.stamps("t-1") == 0
    assert Sw(pac, http=http).stamp(xml, customid="t-1", token=token).status_code == 200


def test_a_lost_answer_is_retried_into_the_same_uuid(pac):
    client = Sw(pac, timeout=CLIENT_TIMEOUT)
    token = client.token
    pac.fail_next(1, "lost_response", "stamp")
    xml = build()
    with pytest.raises(httpx.TimeoutException):
        client.stamp(xml, customid="perdida-1", token=token)
    (uuid,) = pac.state()["stamps"]  # stamped, though the answer never came
    retried = client.stamp(xml, customid="perdida-1", token=token)
    assert refused(retried) == "307. El comprobante contiene un timbre previo."
    assert retried.json()["data"]["uuid"] == uuid
    assert pac.stamps("perdida-1") == 1
    assert client.recover(uuid).json()["data"]["records"][0]["uuid"] == uuid
    client.close()


def test_an_authentication_failure_then_success(pac, sw):
    token = sw.token
    pac.fail_next(1, "auth_failure", "stamp")  # an authentication failure always hits authentication
    assert pac.state()["faults"] == [{"service": "authenticate", "kind": "auth_failure"}]
    assert sw.stamp(build(), token=token).status_code == 200  # stamping is not affected
    assert refused(sw.authenticate(), 401).startswith("AU2000 - ")
    assert sw.authenticate().status_code == 200


def test_faults_aimed_at_one_service_leave_the_others_alone(pac, sw):
    token = sw.token
    pac.fail_next(1, "http_503", "recover")
    data = sw.stamp(build(), token=token).json()["data"]
    assert sw.recover(data["uuid"]).status_code == 503
    assert sw.recover(data["uuid"]).status_code == 200


def test_stop_ends_a_held_connection_within_a_second():
    sim = PacSimulator().start()
    client = Sw(sim, timeout=30)
    token = client.token
    sim.fail_next(1, "timeout")
    failures = []

    def call() -> None:
        try:
            client.stamp(b"<x/>", token=token)
        except httpx.HTTPError as exc:
            failures.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 2
    while sim.state()["held"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    sim.stop()
    stopped = time.monotonic() - started
    thread.join(timeout=5)
    client.close()
    assert stopped < 1
    assert not thread.is_alive() and len(failures) == 1


# -- admin endpoints ----------------------------------------------------------------------------------------

def test_faults_and_rejections_set_over_http(pac, sw, admin):
    token = sw.token
    response = admin.post("/config", json={"faults": [{"kind": "http_503", "count": 2, "service": "stamp"}],
                                           "reject_next": [{"code": "402"}]})
    assert response.status_code == 200
    assert response.json()["faults"] == [{"service": "stamp", "kind": "http_503"}] * 2
    xml = build()
    assert [sw.stamp(xml, token=token).status_code for _ in range(2)] == [503, 503]
    assert refused(sw.stamp(xml, token=token)).startswith("402 - ")
    assert sw.stamp(xml, token=token).status_code == 200
    state = admin.get("/state").json()
    assert state["requests"] == {"authenticate": 1, "stamp": 4, "recover": 0, "status": 0, "cancel": 0}
    assert state["errors"] == {"402": 1} and state["faults"] == [] and state["reject_next"] == []
    (stamp,) = state["stamps"].values()
    assert (stamp["emisor"], stamp["receptor"], stamp["total"], stamp["customid"]) == (
        "EKU9003173C9", "XIA190128J61", "1160.00", None)


def test_mode_and_token_lifetime_set_over_http(pac, sw, admin):
    config = {"mode": "production", "token_ttl_seconds": 30, "hold_seconds": 2}
    state = admin.post("/config", json=config).json()
    assert (state["mode"], state["token_ttl_seconds"], state["hold_seconds"]) == ("production", 30, 2)
    answer = sw.authenticate().json()["data"]
    assert answer["expires_in"] <= time.time() + 31
    assert refused(sw.stamp(build(), token=answer["token"])).startswith("308 - ")


@pytest.mark.parametrize("config", [
    {"mode": "sandbox"}, {"token_ttl_seconds": 0}, {"token_ttl_seconds": "60"}, {"hold_seconds": -1},
    {"accept_any_issuer": "yes"}, {"speed": 1}, {"faults": [{"kind": "explode"}]},
    {"faults": [{"kind": "timeout", "service": "refund"}]}, {"faults": {"kind": "timeout"}},
    {"cancellation_acceptance": "maybe"}, {"cancellation_polls": -1}, {"cancellation_polls": True},
    {"reject_next": [{"code": 402}]}, {"registry": [{"rfc": "not an rfc"}]},
    {"registry": [{"rfc": "XIA190128J61", "zip": "7634"}]}, [],
])
def test_bad_configuration_is_refused_and_changes_nothing(pac, admin, config):
    before = admin.get("/state").json()
    response = admin.post("/config", json=config)
    assert response.status_code == 400 and response.json()["error"]
    assert admin.get("/state").json() == before


def test_reset_over_http_forgets_everything(pac, sw, admin):
    data = sw.stamp(build(), customid="olvidame").json()["data"]
    pac.fail_next(1, "timeout", "recover")
    pac.mode = "production"
    state = admin.post("/reset").json()
    assert (state["stamps"], state["customids"], state["faults"], state["mode"]) == ({}, {}, [], "test")
    assert sw.recover(data["uuid"]).json()["data"]["records"] == []  # forgotten; the token still works


def test_the_sat_certificate_is_published(pac, http):
    der = pac.sat_certificate.public_bytes(serialization.Encoding.DER)
    published = http.get(f"{ADMIN_PATH}/sat-certificate").json()
    assert base64.b64decode(published["der"]) == der
    assert published["no_certificado"] == serial_digits(pac.sat_certificate)
    assert x509.load_pem_x509_certificate(published["pem"].encode()) == pac.sat_certificate
    assert http.get(f"{ADMIN_PATH}/sat-certificate.cer").content == der
    subject = pac.sat_certificate.subject
    organization = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert organization == "SERVICIO DE ADMINISTRACION TRIBUTARIA"


def test_unknown_paths_and_methods(pac, http):
    assert http.get("/v4/cfdi33/stamp/v4").status_code == 405
    assert http.post("/v4/cfdi33/stamp/v9").status_code == 404
    assert http.get("/nothing").status_code == 404


# -- the README's examples -------------------------------------------------------------------------------

needs_shell = pytest.mark.skipif(not (shutil.which("bash") and shutil.which("curl")),
                                 reason="the README's blocks need bash and curl")


def _readme_section(title: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


@needs_shell
def test_the_readme_examples_are_accepted(pac):
    text = _readme_section("The local PAC simulator (Mexico)")
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE))
    assert set(FAULT_KINDS) <= documented
    assert {"mode", "accept_any_issuer", "token_ttl_seconds", "hold_seconds", "faults", "reject_next",
            "registry"} <= documented
    (block,) = re.findall(r"^```sh\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    examples: list[str] = []
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if examples and examples[-1].endswith("\\"):
            examples[-1] += "\n" + line
        else:
            examples.append(line)
    setup, examples = examples[0], examples[1:]
    assert len(examples) >= 6
    for example in examples:
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", setup + "\n" + example], cwd=REPO_ROOT,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAC": pac.url},
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (example, done.stdout, done.stderr)
        answer = json.loads(done.stdout)
        body = re.search(r"-d '(.*)'", example)
        if body is None or "_sim/pac/config" not in example:
            continue
        config = json.loads(body.group(1))  # each example's body is what it claims to set
        for name in ("mode", "accept_any_issuer", "token_ttl_seconds", "hold_seconds"):
            if name in config:
                assert answer[name] == config[name]
        if "faults" in config:
            assert answer["faults"] == [{"service": "authenticate" if f["kind"] == "auth_failure"
                                         else f.get("service", "any"), "kind": f["kind"]}
                                        for f in config["faults"] for _ in range(f.get("count", 1))]
        if "reject_next" in config:
            expected = [r.get("code", "301") for r in config["reject_next"]]
            assert [r["code"] for r in answer["reject_next"]] == expected
        for taxpayer in config.get("registry", []):
            assert taxpayer["rfc"] in {t["rfc"] for t in answer["registry"]}
    after = pac.state()
    # The block ends with a reset.
    assert (after["faults"], after["reject_next"], after["mode"]) == ([], [], "test")
