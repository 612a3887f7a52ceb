"""SAT's CFDI 4.0 catalogs (Anexo 20, catCFDI), looked up in the SQLite file satcfdi bundles
(`satcfdi/catalogs/catalogs.db`, tables `C756_c_<catalog>`: a pickled key and a pickled value per row).

The file is opened read-only and immutable (`?mode=ro&immutable=1`): SQLite then neither writes nor
locks anything, so the package folder stays untouched (it is read-only on Lambda). It is opened on
the first lookup, once per process, without importing satcfdi (whose import opens its own
connection and loads its certificate and XML machinery); a first lookup costs a few milliseconds.

satcfdi keeps each catalog's key and description, not every column SAT publishes. The columns the
offline checks need beyond that are written out below from SAT's catalog (catCFDI, the Excel
edition of the catalogs of Anexo 20 version 4.0): which person types may use each régimen fiscal
(c_RegimenFiscal, columns Física and Moral), which person types and régimenes of the receiver may
use each uso CFDI (c_UsoCFDI, columns Física, Moral and Régimen Fiscal Receptor), and the rates
and fees of c_TasaOCuota.

The database still has a few keys that CFDI 4.0's own catalog schema (catCFDI.xsd, as satcfdi
bundles it) no longer lists: they are left out here (RETIRED), so that no key this module accepts
is one SAT's schema refuses (tests/unit/test_mx_catalogs.py compares the two)."""

from __future__ import annotations

import pickle
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sello.countries.mx.rfc import PersonType

# c_RegimenFiscal: who may be in each régimen (columns Física / Moral).
MORAL: frozenset[PersonType] = frozenset({"moral"})
FISICA: frozenset[PersonType] = frozenset({"fisica"})
BOTH: frozenset[PersonType] = frozenset({"moral", "fisica"})
REGIME_PERSON_TYPES: dict[str, frozenset[PersonType]] = {
    "601": MORAL,  # General de Ley Personas Morales
    "603": MORAL,  # Personas Morales con Fines no Lucrativos
    "605": FISICA,  # Sueldos y Salarios e Ingresos Asimilados a Salarios
    "606": FISICA,  # Arrendamiento
    "607": FISICA,  # Régimen de Enajenación o Adquisición de Bienes
    "608": FISICA,  # Demás ingresos
    "609": MORAL,  # Consolidación
    "610": BOTH,  # Residentes en el Extranjero sin Establecimiento Permanente en México
    "611": FISICA,  # Ingresos por Dividendos (socios y accionistas)
    "612": FISICA,  # Personas Físicas con Actividades Empresariales y Profesionales
    "614": FISICA,  # Ingresos por intereses
    "615": FISICA,  # Régimen de los ingresos por obtención de premios
    "616": FISICA,  # Sin obligaciones fiscales
    "620": MORAL,  # Sociedades Cooperativas de Producción que optan por diferir sus ingresos
    "621": FISICA,  # Incorporación Fiscal
    "622": MORAL,  # Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras
    "623": MORAL,  # Opcional para Grupos de Sociedades
    "624": MORAL,  # Coordinados
    "625": FISICA,  # Actividades Empresariales con ingresos a través de Plataformas Tecnológicas
    "626": BOTH,  # Régimen Simplificado de Confianza
    "628": MORAL,  # Hidrocarburos
    "629": FISICA,  # De los Regímenes Fiscales Preferentes y de las Empresas Multinacionales
    "630": FISICA,  # Enajenación de acciones en bolsa de valores
}

# c_UsoCFDI: the receiver's régimenes each use allows (column Régimen Fiscal Receptor) and its
# person types (columns Física / Moral). P01 (por definir) was CFDI 3.3's and allows nothing in 4.0.
_BUSINESS = ("601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626")
_PERSONAL = ("605", "606", "607", "608", "611", "612", "614", "615", "625")
_ANY = ("601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620", "621",
        "622", "623", "624", "625", "626")
USE_REGIMES: dict[str, frozenset[str]] = {
    **{use: frozenset(_BUSINESS) for use in ("G01", "G03", "I01", "I02", "I03", "I04", "I05", "I06", "I07",
                                             "I08")},
    "G02": frozenset(_BUSINESS + ("616",)),  # devoluciones, descuentos o bonificaciones
    **{f"D{n:02d}": frozenset(_PERSONAL) for n in range(1, 11)},  # deducciones personales
    "S01": frozenset(_ANY),  # sin efectos fiscales
    "CP01": frozenset(_ANY),  # pagos
    "CN01": frozenset({"605"}),  # nómina
}
USE_PERSON_TYPES: dict[str, frozenset[PersonType]] = {
    use: FISICA if use.startswith("D") or use == "CN01" else BOTH for use in USE_REGIMES
}

# c_TasaOCuota, as fractions with SAT's 6 decimals (what TasaOCuota carries).
VAT_RATES = frozenset({Decimal("0.160000"), Decimal("0.080000"), Decimal("0.000000")})
BORDER_VAT_RATE = Decimal("0.080000")  # estímulo fiscal de la región fronteriza only
IEPS_RATES = frozenset(Decimal(rate) for rate in (
    "0.000000", "0.030000", "0.060000", "0.070000", "0.080000", "0.090000", "0.250000", "0.265000",
    "0.300000", "0.304000", "0.500000", "0.530000", "1.600000"))
VAT_WITHHOLDING_MAX = Decimal("0.160000")  # a range from 0
ISR_WITHHOLDING_MAX = Decimal("0.350000")  # a range from 0

# c_CodigoPostal's time zone descriptions, as IANA zones. satcfdi's own table (transform.get_timezone)
# maps "Tiempo del Pacífico" to America/La_Paz, which is Bolivia (UTC−4, three hours ahead of
# Mazatlán), and "Tiempo del Noroeste" to America/Matamoros (UTC−6/−5, two hours ahead of
# Tijuana): a Fecha written with them would be in the future, which PACs refuse (CFDI40101).
TIME_ZONES = {
    "Tiempo del Centro": "America/Mexico_City",  # UTC−6, no daylight saving time since 2022
    "Tiempo del Sureste": "America/Cancun",  # Quintana Roo, UTC−5
    "Tiempo del Pacífico": "America/Mazatlan",  # BCS, Nayarit, Sinaloa, Sonora: UTC−7
    "Tiempo del Noroeste": "America/Tijuana",  # Baja California: UTC−8, US daylight saving time
    "Tiempo del Centro en Frontera": "America/Matamoros",  # the US border strip: UTC−6, US DST
}
# Chihuahua's part of the border strip (municipios Ascensión 005, Guadalupe 028, Janos 035, Juárez
# 037, Práxedis G. Guerrero 053) keeps mountain time with US daylight saving time since 2022-11-30,
# like El Paso: IANA's America/Ciudad_Juarez. Never later than the catalog's "Centro en Frontera".
_CHIHUAHUA_BORDER_ZONE = "America/Ciudad_Juarez"

TABLE_PREFIX = "C756_c_"
# Keys of satcfdi's database that catCFDI.xsd (CFDI 4.0) does not have: payment forms of CFDI 3.3
# (07 tarjetas digitales, 09 bienes, 10 servicio, 11 por cuenta de tercero, 16 cancelación, 98 NA) and a
# duplicate unit key (Dx, beside DX).
RETIRED = {"FormaPago": frozenset({"07", "09", "10", "11", "16", "98"}), "ClaveUnidad": frozenset({"Dx"})}


@dataclass(frozen=True)
class PostalCode:
    code: str
    state: str  # c_Estado
    municipality: str  # c_Municipio ("" where SAT gives none)
    border_region: bool  # in the región fronteriza (estímulo fiscal: 8 % IVA)
    time_zone: str  # IANA name


# The database ------------------------------------------------------------------------------------

_lock = threading.Lock()


@cache
def database_path() -> Path:
    """satcfdi's catalog file, found without importing satcfdi."""
    spec = find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("satcfdi is not installed: its catalog database is needed for Mexico")
    return Path(next(iter(spec.submodule_search_locations))) / "catalogs" / "catalogs.db"


@cache
def _connection() -> sqlite3.Connection:
    uri = f"{database_path().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _query(sql: str, parameters: tuple = ()) -> list[tuple]:
    with _lock:
        return _connection().execute(sql, parameters).fetchall()


def _key(value: Any) -> bytes:
    # The keys are stored as satcfdi wrote them: pickled with protocol 4.
    return pickle.dumps(value, protocol=4)


@lru_cache(maxsize=8192)
def _row(catalog: str, key: str) -> Any:
    if key in RETIRED.get(catalog, ()):
        return None
    rows = _query(f"SELECT value FROM {TABLE_PREFIX}{catalog} WHERE key = ?", (_key(key),))
    if not rows:
        return None
    value = pickle.loads(rows[0][0])
    return tuple(value) if isinstance(value, list) else value


@cache
def _table(catalog: str) -> dict[str, Any]:
    """A small catalog whole: key -> value."""
    retired = RETIRED.get(catalog, frozenset())
    rows = {pickle.loads(key): pickle.loads(value)
            for key, value in _query(f"SELECT key, value FROM {TABLE_PREFIX}{catalog}")}
    return {key: value for key, value in rows.items() if key not in retired}


def lookup(catalog: str, code: str) -> Any:
    """The catalog's value for `code` (its description, or for some catalogs a tuple of columns),
    or None when the catalog has no such key."""
    if not isinstance(code, str) or not code:
        return None
    return _row(catalog, code)


# Catalogs ----------------------------------------------------------------------------------------

def tax_regime(code: str) -> str | None:
    """c_RegimenFiscal: the description of the régimen, None when it is not one."""
    return _table("RegimenFiscal").get(code)


def regime_allowed(code: str, person: PersonType) -> bool:
    return person in REGIME_PERSON_TYPES.get(code, frozenset())


def regimes_for(person: PersonType) -> list[str]:
    return sorted(code for code, persons in REGIME_PERSON_TYPES.items() if person in persons)


def cfdi_use(code: str) -> str | None:
    """c_UsoCFDI: the description of the use, None when it is not one."""
    return _table("UsoCFDI").get(code)


def use_allowed(use: str, regime: str, person: PersonType) -> bool:
    """Whether a receiver of that person type and régimen may be given this uso CFDI (CFDI40161)."""
    return person in USE_PERSON_TYPES.get(use, frozenset()) and regime in USE_REGIMES.get(use, frozenset())


def uses_for(regime: str, person: PersonType) -> list[str]:
    return [use for use in USE_REGIMES if use_allowed(use, regime, person)]


def payment_form(code: str) -> str | None:
    """c_FormaPago."""
    return _table("FormaPago").get(code)


def payment_method(code: str) -> str | None:
    """c_MetodoPago (PUE, PPD)."""
    return _table("MetodoPago").get(code)


def export(code: str) -> str | None:
    """c_Exportacion."""
    return _table("Exportacion").get(code)


def tax_object(code: str) -> str | None:
    """c_ObjetoImp."""
    return _table("ObjetoImp").get(code)


def periodicity(code: str) -> str | None:
    """c_Periodicidad (of a global invoice)."""
    return _table("Periodicidad").get(code)


def months(code: str) -> str | None:
    """c_Meses: 01–12 a month, 13–18 a bimester (January–February … November–December)."""
    return _table("Meses").get(code)


def relation_type(code: str) -> str | None:
    """c_TipoRelacion."""
    return _table("TipoRelacion").get(code)


def country(code: str) -> str | None:
    """c_Pais (ISO 3166-1 alpha-3)."""
    return lookup("Pais", code)


def product_code(code: str) -> str | None:
    """c_ClaveProdServ: the description of the product or service key, None when it is not one."""
    return lookup("ClaveProdServ", code)


def unit_code(code: str) -> str | None:
    """c_ClaveUnidad: the name of the unit key, None when it is not one."""
    return lookup("ClaveUnidad", code)


def unit_key(code: str) -> str | None:
    """The unit key as the catalog writes it (most keys are upper case, a few are not: Ohm, X1w),
    given in either case when only one key matches; None when there is none."""
    if lookup("ClaveUnidad", code) is not None:
        return code
    upper = code.upper() if isinstance(code, str) else code
    if lookup("ClaveUnidad", upper) is not None:
        return upper
    return _mixed_case_units().get(upper)


@cache
def _mixed_case_units() -> dict[str, str]:
    return {key.upper(): key for key in _table("ClaveUnidad") if key != key.upper()}


def currency_decimals(code: str) -> int | None:
    """c_Moneda: how many decimals the currency's amounts have (MXN 2, JPY 0, KWD 3), None when it
    is not a currency of the catalog."""
    row = lookup("Moneda", code)
    return None if row is None else int(row[1])


def postal_code(code: str) -> PostalCode | None:
    """c_CodigoPostal: where the zip code is and its time zone, None when it is not one."""
    row = lookup("CodigoPostal", code)
    if row is None:
        return None
    state, municipality, _locality, border, zone = row
    name = TIME_ZONES[zone]
    if zone == "Tiempo del Centro en Frontera" and state == "CHH":
        name = _CHIHUAHUA_BORDER_ZONE
    return PostalCode(code=code, state=state, municipality=municipality, border_region=border != "0",
                      time_zone=name)


@cache
def _zone(name: str) -> tzinfo:
    import pytz  # satcfdi's dependency: its own copy of the time-zone database, as on Lambda

    return pytz.timezone(name)


def local_time(zip_code: str, instant: datetime) -> datetime:
    """The wall-clock time (naive, to the second) at `zip_code` at the UTC `instant`, as a CFDI's
    Fecha is written. KeyError when the zip code is not in the catalog."""
    place = postal_code(zip_code)
    if place is None:
        raise KeyError(zip_code)
    if instant.tzinfo is None:
        raise ValueError("the instant must carry its time zone")
    return instant.astimezone(_zone(place.time_zone)).replace(tzinfo=None, microsecond=0)


def utc_instant(zip_code: str, wall: datetime) -> datetime:
    """The UTC instant of a wall-clock time (naive, as a CFDI's Fecha) at `zip_code`; local_time's
    inverse. KeyError when the zip code is not in the catalog."""
    place = postal_code(zip_code)
    if place is None:
        raise KeyError(zip_code)
    return _zone(place.time_zone).localize(wall).astimezone(UTC)
