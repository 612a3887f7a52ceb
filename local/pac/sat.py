"""What SAT publishes that the PAC simulator checks documents against, read from the copies satcfdi
bundles (nothing is downloaded, nothing is written into the package):

- the schema tree (`satcfdi/transform/schemas/www.sat.gob.mx/sitio_internet/cfd/`): cfdv40.xsd with
  its catalogs (catCFDI.xsd) and data types, the Pagos 2.0 and TimbreFiscalDigital 1.1 schemas,
  compiled once into one schema (about 0.2 s) the first time a document is validated;
- SAT's cadena original XSLTs (cadenaoriginal_4_0.xslt with its includes, cadenaoriginal_TFD_1_1.xslt),
  applied with libxslt to the document as parsed from the bytes received;
- the catalogs (satcfdi's sqlite copy of SAT's spreadsheet): c_CodigoPostal (its time-zone column),
  c_Moneda (decimals), c_RegimenFiscal;
- SAT's production CA certificates (`satcfdi/transform/CertsProd.zip`).

Compiled schemas and stylesheets are used one thread at a time (a lock each): the simulator serves
requests on several threads."""

from __future__ import annotations

import copy
import importlib.util
import threading
import zipfile
from datetime import timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509
from lxml import etree

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
PAGOS_NS = "http://www.sat.gob.mx/Pagos20"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
TFD_SCHEMA_LOCATION = (
    "http://www.sat.gob.mx/TimbreFiscalDigital "
    "http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd")

# c_CodigoPostal names each zip code's time zone; these are the zones those names mean (winter offset,
# and whether it follows the US summer time: only the border regions still do). satcfdi's own table
# (satcfdi.transform.HUSO_HORARIOS, behind its default Fecha) differs: it reads Tiempo del Noroeste
# (Baja California, −08:00) as America/Matamoros (−06:00), two hours ahead.
TIME_ZONES = {
    "Tiempo del Centro": "America/Mexico_City",  # −06:00
    "Tiempo del Centro en Frontera": "America/Matamoros",  # −06:00, US summer time
    "Tiempo del Noroeste": "America/Tijuana",  # −08:00, US summer time
    "Tiempo del Pacífico": "America/Mazatlan",  # −07:00
    "Tiempo del Sureste": "America/Cancun",  # −05:00
}
# When the zip code or the zone is unknown (or the machine has no time-zone database).
CENTRAL_FALLBACK = timezone(timedelta(hours=-6), "Tiempo del Centro")

# A document is parsed as it came: no DTD, no entities, no network.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _package_dir() -> Path:
    spec = importlib.util.find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the PAC simulator needs satcfdi's bundled SAT schemas (pip package satcfdi)")
    return Path(next(iter(spec.submodule_search_locations)))


SCHEMA_ROOT = _package_dir() / "transform" / "schemas" / "www.sat.gob.mx" / "sitio_internet" / "cfd"
CERTS_PROD_ZIP = _package_dir() / "transform" / "CertsProd.zip"
CFDI_XSLT = SCHEMA_ROOT / "4" / "cadenaoriginal_4_0" / "cadenaoriginal_4_0.xslt"
TFD_XSLT = SCHEMA_ROOT / "TimbreFiscalDigital" / "cadenaoriginal_TFD_1_1.xslt"
TFD_XSD = SCHEMA_ROOT / "TimbreFiscalDigital" / "TimbreFiscalDigitalv11.xsd"
# One schema for a CFDI 4.0 and the complements the simulator knows (others are skipped: cfdv40.xsd
# lets Complemento hold anything, laxly).
SCHEMAS = {
    CFDI_NS: "4/cfdv40.xsd",
    TFD_NS: "TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd",
    PAGOS_NS: "Pagos/Pagos20.xsd",
}

_schema_lock = threading.Lock()
_cfdi_xslt_lock = threading.Lock()
_tfd_xslt_lock = threading.Lock()
_catalog_lock = threading.Lock()


@cache
def _schema() -> etree.XMLSchema:
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{path}"/>'
                      for ns, path in SCHEMAS.items())
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), base_url=str(SCHEMA_ROOT / "simulator.xsd")))


def schema_error(root: etree._Element) -> str:
    """lxml's message for the first way the document breaks the schemas; "" when it is valid. The
    Addenda is left out: it is the parties' own (cfdv40.xsd demands a schema for whatever it holds,
    which a PAC does not have), outside the cadena and outside what SAT validates."""
    addenda = root.find(f"{{{CFDI_NS}}}Addenda")
    if addenda is not None:
        root = copy.deepcopy(root)
        root.remove(root.find(f"{{{CFDI_NS}}}Addenda"))
    with _schema_lock:
        schema = _schema()
        if schema.validate(root):
            return ""
        error = schema.error_log[0]
        return f"{error.message} (línea {error.line})"


@cache
def _xslt(path: Path) -> etree.XSLT:
    return etree.XSLT(etree.parse(str(path)))


def cadena_original(root: etree._Element) -> str:
    """The CFDI's cadena original (`||4.0|…||`), by SAT's XSLT applied to the document as parsed."""
    with _cfdi_xslt_lock:
        return str(_xslt(CFDI_XSLT)(root))


def tfd_cadena(tfd: etree._Element) -> str:
    """The TimbreFiscalDigital's cadena (`||1.1|UUID|…||`): SAT's XSLT with the TFD as document root."""
    document = etree.ElementTree(copy.deepcopy(tfd))
    with _tfd_xslt_lock:
        return str(_xslt(TFD_XSLT)(document))


@cache
def production_cas() -> tuple[x509.Certificate, ...]:
    """SAT's production certification authorities, as satcfdi bundles them."""
    return load_cas(CERTS_PROD_ZIP)


def load_cas(source: str | Path | bytes | list | tuple) -> tuple[x509.Certificate, ...]:
    """Certificates from a zip file of .cer files (SAT publishes its CAs so), or from a list of DER or
    PEM certificates (bytes) or paths."""
    if isinstance(source, bytes):
        return (_certificate(source),)
    if isinstance(source, list | tuple):
        return tuple(c for item in source for c in load_cas(item))
    path = Path(source)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return tuple(_certificate(archive.read(name)) for name in archive.namelist()
                         if not name.endswith("/"))
    return (_certificate(path.read_bytes()),)


def _certificate(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _catalog(name: str, key: str):
    from satcfdi.catalogs import select  # opens satcfdi's catalog database (read-only use)

    with _catalog_lock:
        return select(name, key)


@cache
def zip_zone_name(zip_code: str) -> str | None:
    """c_CodigoPostal's time zone for a zip code ("Tiempo del Centro", …); None when unknown."""
    row = _catalog("C756_c_CodigoPostal", zip_code)
    return row[4] if row and len(row) > 4 and row[4] else None


@cache
def zone(zip_code: str) -> tzinfo:
    """The time zone of a LugarExpedicion: its c_CodigoPostal zone, else Tiempo del Centro (−06:00)."""
    name = TIME_ZONES.get(zip_zone_name(zip_code) or "")
    if name is None:
        return CENTRAL_FALLBACK
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return CENTRAL_FALLBACK


@cache
def mexico_city() -> tzinfo:
    """Where FechaTimbrado is written (Tiempo del Centro)."""
    try:
        return ZoneInfo("America/Mexico_City")
    except ZoneInfoNotFoundError:
        return CENTRAL_FALLBACK


@cache
def currency_decimals(code: str) -> int:
    """c_Moneda's decimals for a currency (MXN 2, XXX 0); 2 when the code is unknown."""
    row = _catalog("C756_c_Moneda", code)
    return int(row[1]) if row else 2


@cache
def regimen_exists(code: str) -> bool:
    return _catalog("C756_c_RegimenFiscal", code) is not None
