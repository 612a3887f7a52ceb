"""SAT's catalogs in satcfdi's bundled database: lookups, the rules written out beside them (person
types per régimen, régimenes per uso CFDI), zip code time zones, and that the package folder is only
ever read."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache

import pytest

from sello.countries.mx import catalogs
from tests.conftest import REPO_ROOT


def whole_table(name: str) -> dict:
    """A catalog read straight from the file, not through the module."""
    uri = f"{catalogs.database_path().as_uri()}?mode=ro&immutable=1"
    with sqlite3.connect(uri, uri=True) as connection:
        rows = connection.execute(f"SELECT key, value FROM C756_c_{name}")
        return {pickle.loads(k): pickle.loads(v) for k, v in rows}


@pytest.mark.parametrize(("lookup", "code", "found"), [
    (catalogs.tax_regime, "601", "General de Ley Personas Morales"),
    (catalogs.tax_regime, "602", None),
    (catalogs.cfdi_use, "G03", "Gastos en general"),
    (catalogs.cfdi_use, "G04", None),
    (catalogs.payment_form, "03", "Transferencia electrónica de fondos"),
    (catalogs.payment_form, "18", None),
    (catalogs.payment_method, "PPD", "Pago en parcialidades o diferido"),
    (catalogs.export, "02", "Definitiva con clave A1"),
    (catalogs.tax_object, "02", "Sí objeto de impuesto"),
    (catalogs.periodicity, "05", "Bimestral"),
    (catalogs.months, "13", "Enero-Febrero"),
    (catalogs.months, "19", None),
    (catalogs.relation_type, "01", "Nota de crédito de los documentos relacionados"),
    (catalogs.country, "USA", "Estados Unidos (los)"),
    (catalogs.country, "XYZ", None),
    (catalogs.product_code, "84111506", "Servicios de facturación"),
    (catalogs.product_code, "84111599", None),
    (catalogs.product_code, "01010101", "No existe en el catálogo"),
    (catalogs.unit_code, "E48", "Unidad de servicio"),
    (catalogs.unit_code, "ZZZ", None),
])
def test_lookups(lookup, code, found):
    assert lookup(code) == found


@pytest.mark.parametrize(("currency", "places"), [("MXN", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4),
                                                  ("ABC", None)])
def test_currency_decimals(currency, places):
    assert catalogs.currency_decimals(currency) == places


def test_zip_codes():
    place = catalogs.postal_code("42501")
    assert (place.state, place.border_region, place.time_zone) == ("HID", False, "America/Mexico_City")
    assert catalogs.postal_code("22000").border_region  # Tijuana: región fronteriza norte
    assert catalogs.postal_code("77500").border_region is False  # Cancún
    assert catalogs.postal_code("00001") is None
    assert catalogs.postal_code("") is None


def test_unit_keys_in_either_case():
    assert [catalogs.unit_key(k) for k in ("e48", "H87", "ohm", "OHM", "x1w", "dx", "zz9")] == [
        "E48", "H87", "Ohm", "Ohm", "X1w", "DX", None]


XS = "{http://www.w3.org/2001/XMLSchema}"


@cache
def schema_catalogs() -> dict[str, set[str]]:
    """Every enumerated catalog of CFDI 4.0's catalog schema (catCFDI.xsd, as satcfdi bundles it)."""
    from lxml import etree

    path = catalogs.database_path().parent.parent.joinpath(
        "transform", "schemas", "www.sat.gob.mx", "sitio_internet", "cfd", "catalogos", "catCFDI.xsd")
    tree = etree.parse(str(path))
    return {simple.get("name"): {e.get("value") for e in simple.iter(f"{XS}enumeration")}
            for simple in tree.iterfind(f"{XS}simpleType")}


@pytest.mark.parametrize(("name", "lookup"), [
    ("c_FormaPago", catalogs.payment_form), ("c_Moneda", catalogs.currency_decimals),
    ("c_Pais", catalogs.country), ("c_RegimenFiscal", catalogs.tax_regime), ("c_Exportacion", catalogs.export),
    ("c_ObjetoImp", catalogs.tax_object), ("c_Periodicidad", catalogs.periodicity), ("c_Meses", catalogs.months),
    ("c_TipoRelacion", catalogs.relation_type),
    ("c_MetodoPago", catalogs.payment_method), ("c_CodigoPostal", catalogs.postal_code),
    ("c_ClaveUnidad", catalogs.unit_code), ("c_UsoCFDI", catalogs.cfdi_use),
])
def test_a_key_is_in_the_catalog_exactly_when_sats_schema_has_it(name, lookup):
    table = name.removeprefix("c_")
    keys = set(whole_table(table)) - catalogs.RETIRED.get(table, frozenset())
    assert keys == schema_catalogs()[name]
    assert all(lookup(key) is not None for key in sorted(keys)[:300])
    for retired in catalogs.RETIRED.get(table, ()):
        assert lookup(retired) is None


def test_every_product_key_of_the_catalog_is_in_sats_schema():
    # The schema still lists 233 keys the catalog has retired; what the catalog accepts, the schema does.
    keys = set(whole_table("ClaveProdServ"))
    assert keys < schema_catalogs()["c_ClaveProdServ"]


def test_every_regime_of_the_catalog_has_its_person_types():
    assert set(catalogs.REGIME_PERSON_TYPES) == set(whole_table("RegimenFiscal"))
    assert catalogs.regime_allowed("601", "moral") and not catalogs.regime_allowed("601", "fisica")
    assert catalogs.regime_allowed("612", "fisica") and not catalogs.regime_allowed("612", "moral")
    assert catalogs.regime_allowed("626", "moral") and catalogs.regime_allowed("626", "fisica")
    assert not catalogs.regime_allowed("999", "moral")


def test_every_use_rule_names_catalog_entries():
    uses, regimes = whole_table("UsoCFDI"), whole_table("RegimenFiscal")
    assert set(catalogs.USE_REGIMES) <= set(uses)
    assert set(uses) - set(catalogs.USE_REGIMES) == {"P01"}  # CFDI 3.3's "por definir"
    for allowed in catalogs.USE_REGIMES.values():
        assert allowed <= set(regimes)


@pytest.mark.parametrize(("use", "regime", "person", "allowed"), [
    ("G03", "601", "moral", True),
    ("G03", "616", "fisica", False),  # sin obligaciones fiscales: no deductions
    ("G02", "616", "fisica", True),
    ("D01", "612", "fisica", True),
    ("D01", "626", "moral", False),  # personal deductions: personas físicas only
    ("S01", "616", "fisica", True),
    ("CN01", "605", "fisica", True),
    ("CN01", "601", "moral", False),
    ("P01", "601", "moral", False),
])
def test_use_allowed(use, regime, person, allowed):
    assert catalogs.use_allowed(use, regime, person) is allowed


def test_every_time_zone_of_the_catalog_is_mapped():
    zones = {row[4] for row in whole_table("CodigoPostal").values()}
    assert zones == set(catalogs.TIME_ZONES)


@pytest.mark.parametrize(("zip_code", "instant", "local"), [
    # 18:00 UTC on 2025-07-01 (US daylight saving time) and on 2025-01-15.
    ("42501", "2025-07-01T18:00:00", "2025-07-01T12:00:00"),  # Pachuca: UTC−6 all year
    ("42501", "2025-01-15T18:00:00", "2025-01-15T12:00:00"),
    ("77500", "2025-07-01T18:00:00", "2025-07-01T13:00:00"),  # Cancún: UTC−5
    ("80000", "2025-07-01T18:00:00", "2025-07-01T11:00:00"),  # Culiacán: UTC−7
    ("22000", "2025-07-01T18:00:00", "2025-07-01T11:00:00"),  # Tijuana: UTC−7 in summer
    ("22000", "2025-01-15T18:00:00", "2025-01-15T10:00:00"),  # and UTC−8 in winter
    ("88500", "2025-07-01T18:00:00", "2025-07-01T13:00:00"),  # Reynosa: UTC−5 in summer
    ("88500", "2025-01-15T18:00:00", "2025-01-15T12:00:00"),  # and UTC−6 in winter
    ("32000", "2025-07-01T18:00:00", "2025-07-01T12:00:00"),  # Ciudad Juárez: UTC−6 in summer
    ("32000", "2025-01-15T18:00:00", "2025-01-15T11:00:00"),  # and UTC−7 in winter
    ("42501", "2025-07-01T03:30:00", "2025-06-30T21:30:00"),  # the day before in Mexico
])
def test_local_time_at_a_zip_code(zip_code, instant, local):
    moment = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert catalogs.local_time(zip_code, moment) == datetime.fromisoformat(local)


def test_local_time_of_an_unknown_zip_code_or_a_naive_instant():
    with pytest.raises(KeyError):
        catalogs.local_time("00001", datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        catalogs.local_time("42501", datetime(2025, 1, 1))


def test_the_database_is_opened_read_only_and_the_package_folder_is_untouched():
    folder = catalogs.database_path().parent
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    catalogs.postal_code("64000")
    catalogs.product_code("43232408")
    catalogs.tax_regime("626")
    with pytest.raises(sqlite3.OperationalError):
        catalogs._connection().execute("CREATE TABLE sello_probe (x)")
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_a_cold_lookup_is_cheap_and_does_not_import_satcfdi():
    script = (
        "import json, sys, time\n"
        "from sello.countries.mx import catalogs\n"
        "start = time.perf_counter()\n"
        "catalogs.postal_code('42501')\n"
        "first = time.perf_counter() - start\n"
        "start = time.perf_counter()\n"
        "catalogs.product_code('84111506')\n"
        "second = time.perf_counter() - start\n"
        "print(json.dumps({'first': first, 'second': second, 'satcfdi': 'satcfdi' in sys.modules}))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT / "layers")})
    measured = json.loads(result.stdout)
    assert measured["satcfdi"] is False
    # A few milliseconds (opening the file, one indexed query); generous bounds for a busy machine.
    assert measured["first"] < 0.25
    assert measured["second"] < 0.05
