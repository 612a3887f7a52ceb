"""A Mexican issuer's fields (régimen, fiscal zip, branches with series) and validate_issuer: the RFC,
the legal name without its capital regime, the régimen for the RFC's person type, the zip codes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sello.countries.mx.issuer import MexicoIssuerFields, capital_regime, validate_issuer
from sello.errors import Unprocessable

MATRIZ = {"code": "MATRIZ", "name": "Matriz", "zip": "42501", "series": {"invoice": "A", "credit_note": "NC"}}


def fields(**changes) -> dict:
    return {"regime": "601", "zip": "42501", "branches": [MATRIZ]} | changes


def failure(tax_id="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", data=None, path="") -> tuple[str, str]:
    with pytest.raises(Unprocessable) as caught:
        validate_issuer(tax_id, legal_name, fields() if data is None else data, path=path)
    assert caught.value.status == 422
    return caught.value.code, caught.value.path


def test_a_valid_issuer():
    issuer = validate_issuer(" eku9003173c9 ", "ESCUELA KEMPER URGATE", fields())
    assert (issuer.tax_id, issuer.legal_name, issuer.regime, issuer.zip) == (
        "EKU9003173C9", "ESCUELA KEMPER URGATE", "601", "42501")
    assert issuer.branch("MATRIZ").series.credit_note == "NC"
    assert issuer.branch("GDL") is None


def test_a_persona_fisica_issuer():
    issuer = validate_issuer("XIQB891116QE4", "MARIA DE LA LUZ ÑUÑEZ SA", fields(regime="612"))
    assert issuer.regime == "612"  # the name of a persona física is not checked for a capital regime


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"tax_id": "EKU9003173C8"}, ("invalid_tax_id", "tax_id")),
    ({"tax_id": "XAXX010101000"}, ("invalid_tax_id", "tax_id")),
    ({"legal_name": "Escuela Kemper Urgate, S.A. de C.V."}, ("invalid_legal_name", "legal_name")),
    ({"legal_name": "ESCUELA KEMPER URGATE S DE RL DE CV"}, ("invalid_legal_name", "legal_name")),
    ({"data": fields(regime="612")}, ("tax_regime_not_allowed", "regime")),
    ({"data": fields(regime="600")}, ("unknown_tax_regime", "regime")),
    ({"data": fields(zip="00001")}, ("unknown_zip", "zip")),
    ({"data": fields(branches=[MATRIZ | {"zip": "00001"}]), "path": "mexico"},
     ("unknown_zip", "mexico.branches.0.zip")),
    ({"data": fields(regime="601"), "tax_id": "XIQB891116QE4", "path": "mexico"},
     ("tax_regime_not_allowed", "mexico.regime")),
])
def test_issuer_rules(kwargs, expected):
    assert failure(**kwargs) == expected


def test_the_legal_name_message_names_the_fix():
    with pytest.raises(Unprocessable) as caught:
        validate_issuer("EKU9003173C9", "Escuela Kemper Urgate, S.A. de C.V.", fields())
    assert "ESCUELA KEMPER URGATE." in caught.value.message and "SA DE CV" in caught.value.message


@pytest.mark.parametrize(("name", "regime"), [
    ("ESCUELA KEMPER URGATE SA DE CV", "SA DE CV"),
    ("Grupo Industrial del Norte, S.A.P.I. de C.V.", "SAPI DE CV"),
    ("Despacho Contable SC", "SC"),
    ("ASOCIACION DEPORTIVA A.C.", "AC"),
    ("AGRICOLA EL ROSAL SPR DE RL", "SPR DE RL"),
    ("ESCUELA KEMPER URGATE", None),
    ("SAMSARA", None),  # "SA" only as a word of its own at the end
    ("SA", None),
])
def test_capital_regimes(name, regime):
    assert capital_regime(name) == regime


@pytest.mark.parametrize(("data", "fragment"), [
    (fields(branches=[]), "at least 1"),
    (fields(branches=[MATRIZ, MATRIZ | {"series": {"invoice": "B"}}]),
     "Branch code MATRIZ appears more than once"),
    (fields(branches=[MATRIZ, MATRIZ | {"code": "GDL", "series": {"invoice": "NC"}}]),
     "Series NC numbers two document types"),
    (fields(branches=[MATRIZ | {"series": {"invoice": "A", "credit_note": "a"}}]), "Series a numbers two"),
    (fields(branches=[MATRIZ | {"series": {"invoice": "A-1"}}]), "1 to 25 letters"),
    (fields(branches=[MATRIZ | {"series": {"invoice": "A" * 26}}]), "1 to 25 letters"),
    (fields(branches=[MATRIZ | {"code": "MTY 01"}]), "1 to 20 letters, digits"),
    (fields(zip="4250"), "String should match pattern"),
    (fields(regime="601", extra=True), "Extra inputs are not permitted"),
])
def test_the_shape_of_the_fields(data, fragment):
    with pytest.raises(ValidationError) as caught:
        MexicoIssuerFields.model_validate(data)
    assert fragment in str(caught.value)


def test_branches_may_share_an_invoice_series():
    shared = fields(branches=[MATRIZ, MATRIZ | {"code": "GDL", "zip": "44100"}])
    issuer = validate_issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", shared)
    assert [b.series.invoice for b in issuer.branches] == ["A", "A"]
