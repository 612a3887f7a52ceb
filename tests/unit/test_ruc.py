"""Ecuadorian RUC and cédula: format, province, third digit and check digit.

Known-good numbers: 1760013210001 is SRI's own RUC (public entity, used in SRI's published clave de
acceso example); 1792060346001 (private company) and 1714307103001 (natural person) are common
reference numbers; 1710034065 is a widely used example cédula. Numbers built for these tests are
worked out by hand in the comments."""

from __future__ import annotations

import pytest

from sello.countries import get_plugin
from sello.countries.ec.tax_ids import (
    InvalidTaxId,
    RucKind,
    check_cedula,
    is_valid_cedula,
    is_valid_ruc,
    ruc_kind,
    validate_cedula,
    validate_ruc,
)
from sello.errors import Unprocessable

DEMO_RUC = "1799999990001"  # 1,7,9,9,9,9,9,9,9 × 4,3,2,7,6,5,4,3,2 = 286 ≡ 0 (mod 11) → check 0


@pytest.mark.parametrize(("ruc", "kind"), [
    ("1760013210001", RucKind.PUBLIC),
    ("1792060346001", RucKind.PRIVATE),
    (DEMO_RUC, RucKind.PRIVATE),
    ("1714307103001", RucKind.NATURAL),
    ("1710034065001", RucKind.NATURAL),
    ("1710034065002", RucKind.NATURAL),  # a second establishment of the same person
    # Province 30 (Ecuadorians abroad): 3,0,1,2,3,4,5,6,7 × 2,1,2,1,… → 6+0+2+2+6+4+1+6+5 = 32 → check 8.
    ("3012345678001", RucKind.NATURAL),
])
def test_valid_rucs_and_their_kind(ruc, kind):
    assert ruc_kind(ruc) is kind
    assert is_valid_ruc(ruc)


@pytest.mark.parametrize(("ruc", "reason"), [
    ("179999999000", "13 digits"),
    ("17999999900011", "13 digits"),
    ("17999999900O1", "13 digits"),
    ("179999999-001", "13 digits"),
    ("１７９９９９９９９０００１", "13 digits"),  # full-width: str.isdigit() accepts them
    ("0099999990001", "province"),
    ("2599999990001", "province"),
    ("3199999990001", "province"),
    ("1779999990001", "third digit"),
    ("1789999990001", "third digit"),
    ("1710034064001", "cédula"),  # natural person, wrong cédula check digit
    ("1710034065000", "establishment"),
    ("1760013220001", "check digit"),  # public entity, check digit 2 instead of 1
    ("1760013210000", "0001"),
    ("1799999991001", "check digit"),  # private company, check digit 1 instead of 0
    ("1799999990000", "establishment"),
])
def test_invalid_rucs_say_why(ruc, reason):
    with pytest.raises(InvalidTaxId, match=reason):
        ruc_kind(ruc)
    assert not is_valid_ruc(ruc)


@pytest.mark.parametrize("tenth", "0123456789")
def test_private_ruc_without_any_possible_check_digit(tenth):
    # 1,7,9,0,0,0,0,0,1 × 4,3,2,7,6,5,4,3,2 = 45 ≡ 1 (mod 11): 11 − 1 = 10, so no digit is valid.
    assert not is_valid_ruc(f"179000001{tenth}001")


def test_validate_ruc_strips_blanks_and_reports_code_and_path():
    assert validate_ruc(f"  {DEMO_RUC}\n") == DEMO_RUC
    with pytest.raises(Unprocessable) as err:
        validate_ruc("1799999991001", path="issuer.tax_id")
    assert (err.value.code, err.value.path, err.value.status) == ("invalid_tax_id", "issuer.tax_id", 422)
    assert "check digit" in err.value.message


def test_plugin_normalizes_through_the_ruc_check():
    plugin = get_plugin("ec")
    assert plugin.normalize_tax_id(f" {DEMO_RUC} ") == DEMO_RUC
    with pytest.raises(Unprocessable) as err:
        plugin.normalize_tax_id("0990012345001")
    assert err.value.code == "invalid_tax_id" and err.value.path == "tax_id"


@pytest.mark.parametrize("cedula", ["1710034065", "3012345678", "1714307103"])
def test_valid_cedulas(cedula):
    assert check_cedula(cedula) == cedula
    assert is_valid_cedula(cedula)


@pytest.mark.parametrize(("cedula", "reason"), [
    ("171003406", "10 digits"),
    ("1710034065001", "10 digits"),
    ("2510034065", "province"),
    ("1760013210", "third digit"),
    ("1710034066", "check digit"),
])
def test_invalid_cedulas(cedula, reason):
    with pytest.raises(InvalidTaxId, match=reason):
        check_cedula(cedula)
    with pytest.raises(Unprocessable) as err:
        validate_cedula(cedula, path="buyer.id")
    assert (err.value.code, err.value.path) == ("invalid_cedula", "buyer.id")
