"""What a Mexican issuer adds to the common issuer (tax id, legal name): its régimen fiscal, its
fiscal zip code and its branches (sucursales), each with the zip code its documents are issued
from (LugarExpedicion) and a series per document type.

`MexicoIssuerFields` is the request body part (pydantic: shape only); `validate_issuer` checks it
with the issuer's RFC and legal name against SAT's catalogs and rules and gives the `MexicoIssuer`
that `documents.prepare` takes. Every failure is a 422 with a stable code and the field's path.

Numbering: a document's series is its branch's series for its type, and documents are numbered per
series and type (`<serie>-<folio>`), so two branches given the same invoice series share one
sequence of folios, while a series may number one document type only (an invoice and a credit note
never share a serie-folio)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from sello.countries.mx import catalogs, rfc
from sello.errors import Unprocessable
from sello.i18n import TranslatedValueError, _l
from sello.models.common import RequestBody, text

MAX_BRANCHES = 100
DOCUMENT_TYPES = ("invoice", "credit_note", "payment")

_SERIE = re.compile(r"[A-Za-z0-9]{1,25}")
_BRANCH_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")


def _serie(value: str) -> str:
    if not _SERIE.fullmatch(value):
        raise TranslatedValueError(_l("A series is 1 to 25 letters (A–Z, without accents) or digits, e.g. A "
                                      "or FMTY."))
    return value


def _branch_code(value: str) -> str:
    if not _BRANCH_CODE.fullmatch(value):
        raise TranslatedValueError(_l("A branch code is 1 to 20 letters, digits, hyphens or underscores, "
                                      "e.g. MTY-01."))
    return value


# SAT's Serie attribute takes up to 25 characters other than |; its filling guide (Anexo 20) asks for
# letters and digits, which is also what keeps a document number "<serie>-<folio>" unambiguous.
Serie = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_serie),
                  Field(examples=["A"])]
BranchCode = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_branch_code)]
Zip = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
RegimeCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}$")]


class BranchSeries(RequestBody):
    """The series each document type is numbered in at a branch (CFDI Serie)."""

    invoice: Serie = Field(description="Series of the branch's invoices (CFDI Serie): 1 to 25 letters or "
                                        "digits.", examples=["A"])
    credit_note: Serie | None = Field(
        default=None, description="Series of the branch's credit notes, different from every invoice series; "
                                  "required to issue credit notes from the branch.", examples=["NC"])
    payment: Serie | None = Field(
        default=None, description="Series of the branch's payment receipts (CFDI de pago), different from the "
                                  "other series; required to issue payments from the branch.", examples=["P"])


class Branch(RequestBody):
    """A place the issuer issues from: the matriz or a sucursal."""

    code: BranchCode = Field(description="Your short id of the branch, named by `branch` in document "
                                         "requests: 1 to 20 letters, digits, hyphens or underscores.",
                             examples=["MTY-01"])
    name: text(100) = Field(description="Your name for the branch (not printed as a tax datum).",
                            examples=["Sucursal Monterrey Centro"])
    zip: Zip = Field(description="Zip code of the branch (CFDI LugarExpedicion), in SAT's c_CodigoPostal; "
                                 "it also sets the time zone of the documents' Fecha.", examples=["64000"])
    series: BranchSeries = Field(description="Series per document type.",
                                 examples=[{"invoice": "A", "credit_note": "NC"}])


class MexicoIssuerFields(RequestBody):
    """What SAT needs to know about a Mexican issuer besides its RFC and legal name."""

    regime: RegimeCode = Field(
        description="Régimen fiscal (c_RegimenFiscal, CFDI Emisor/RegimenFiscal), one the RFC's person type "
                    "may have: e.g. 601 General de Ley Personas Morales, 612 Personas Físicas con "
                    "Actividades Empresariales y Profesionales, 626 Régimen Simplificado "
                    "de Confianza.", examples=["601"])
    zip: Zip = Field(description="Zip code of the fiscal domicile, as on the Constancia de Situación Fiscal "
                                 "(c_CodigoPostal).", examples=["42501"])
    branches: list[Branch] = Field(
        min_length=1, max_length=MAX_BRANCHES,
        description=f"1 to {MAX_BRANCHES} branches, each code once. A series numbers one document type only.",
        examples=[[{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
                    "series": {"invoice": "A", "credit_note": "NC"}}]])

    @field_validator("branches")
    @classmethod
    def _distinct(cls, branches: list[Branch]) -> list[Branch]:
        codes: set[str] = set()
        series: dict[str, str] = {}  # serie -> the document type it numbers
        for branch in branches:
            if branch.code in codes:
                raise TranslatedValueError(_l("Branch code {code} appears more than once; give each branch "
                                              "its own code.", code=branch.code))
            codes.add(branch.code)
            for doc_type in DOCUMENT_TYPES:
                serie = getattr(branch.series, doc_type)
                if serie is None:
                    continue
                if series.setdefault(serie.upper(), doc_type) != doc_type:
                    raise TranslatedValueError(_l("Series {serie} numbers two document types; give invoices "
                                                  "and credit notes different series.", serie=serie))
        return branches


@dataclass(frozen=True)
class MexicoIssuer:
    """The issuer as `documents.prepare` takes it: RFC (canonical), legal name as registered with SAT
    (without the capital regime), régimen fiscal, fiscal zip code and branches."""

    tax_id: str
    legal_name: str
    regime: str
    zip: str
    branches: tuple[Branch, ...]

    def branch(self, code: str) -> Branch | None:
        return next((b for b in self.branches if b.code == code), None)


# The legal name ------------------------------------------------------------------------------------

# Capital regimes (régimen de capital) that SAT's registry keeps apart from the name (denominación o
# razón social): a CFDI's Nombre must not carry them (CFDI40139 / CFDI40145). Longest first.
CAPITAL_REGIMES = tuple(sorted((
    "SA", "SA DE CV", "SAB", "SAB DE CV", "SAPI", "SAPI DE CV", "SAPIB", "SAPIB DE CV", "SAS", "SAS DE CV",
    "S DE RL", "S DE RL DE CV", "S DE RL MI", "S DE RL DE IP", "SC", "SC DE CV", "SC DE RL", "SC DE RL DE CV",
    "SC DE C DE RL", "SC DE C DE RL DE CV", "SCP", "AC", "S EN C", "S EN C DE CV", "S EN C POR A",
    "S EN C POR A DE CV", "S EN NC", "S EN NC DE CV", "SPR DE RL", "SPR DE RI", "SPR DE RL DE CV",
    "SPR DE RI DE CV",
), key=len, reverse=True))
_PUNCTUATION = re.compile(r"[.,]")
_SPACES = re.compile(r"\s+")


def capital_regime(name: str) -> str | None:
    """The capital regime the name ends with ("SA DE CV", "S. de R.L."), if any."""
    words = _SPACES.sub(" ", _PUNCTUATION.sub("", name.upper())).strip()
    return next((regime for regime in CAPITAL_REGIMES if words.endswith(" " + regime)), None)


def check_name(name: str, tax_id: str, *, path: str) -> str:
    """A persona moral's name as SAT registers it has no capital regime: 422 invalid_legal_name
    naming the fix otherwise. Names of personas físicas and of the generic RFCs are not checked."""
    regime = capital_regime(name)
    if regime and rfc.person_type(tax_id) == "moral" and not rfc.is_generic(tax_id):
        words = _SPACES.sub(" ", _PUNCTUATION.sub("", name.upper())).strip()
        fixed = words[: -len(regime)].strip()
        raise Unprocessable(_l("Write the name as registered with SAT, without the capital regime "
                               "({regime}): "
                               "{fixed}.", regime=regime, fixed=fixed), code="invalid_legal_name", path=path)
    return name


# Validation ----------------------------------------------------------------------------------------

def _join(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field


def check_zip(code: str, *, path: str) -> catalogs.PostalCode:
    """The zip code's catalog entry, or 422 unknown_zip."""
    place = catalogs.postal_code(code)
    if place is None:
        raise Unprocessable(_l("Zip code {zip} is not in SAT's catalog of zip codes (c_CodigoPostal).",
                               zip=code), code="unknown_zip", path=path)
    return place


def check_regime(code: str, person: rfc.PersonType, *, path: str) -> str:
    """The régimen fiscal, or 422 unknown_tax_regime / tax_regime_not_allowed."""
    if catalogs.tax_regime(code) is None:
        raise Unprocessable(_l("{code} is not a régimen fiscal of SAT's catalog (c_RegimenFiscal).",
                               code=code), code="unknown_tax_regime", path=path)
    if not catalogs.regime_allowed(code, person):
        if person == "moral":
            message = _l("Régimen {code} is not for a persona moral (12-character RFC); use one of "
                         "{allowed}.", code=code, allowed=", ".join(catalogs.regimes_for(person)))
        else:
            message = _l("Régimen {code} is not for a persona física (13-character RFC); use one of "
                         "{allowed}.", code=code, allowed=", ".join(catalogs.regimes_for(person)))
        raise Unprocessable(message, code="tax_regime_not_allowed", path=path)
    return code


def validate_issuer(tax_id: str, legal_name: str, fields: MexicoIssuerFields | Mapping[str, Any], *,
                    path: str = "") -> MexicoIssuer:
    """Checks a Mexican issuer and gives it as documents.prepare takes it.

    `tax_id` and `legal_name` are the common issuer's (paths `tax_id`, `legal_name`); `fields` is
    Mexico's part, a MexicoIssuerFields or the mapping it validates (pydantic's ValidationError
    then, for a wrong shape), whose errors carry `path` in front of their own (e.g. "mexico.zip").
    Raises Unprocessable: invalid_tax_id (a generic RFC cannot issue), invalid_legal_name,
    unknown_tax_regime, tax_regime_not_allowed, unknown_zip."""
    code = rfc.normalize_rfc(tax_id, path="tax_id")
    if rfc.is_generic(code):
        raise Unprocessable(_l("{rfc} is a generic RFC for customers without one; an issuer uses its own "
                               "RFC.", rfc=code), code="invalid_tax_id", path="tax_id")
    check_name(legal_name, code, path="legal_name")
    if not isinstance(fields, MexicoIssuerFields):
        fields = MexicoIssuerFields.model_validate(fields)
    check_regime(fields.regime, rfc.person_type(code), path=_join(path, "regime"))
    check_zip(fields.zip, path=_join(path, "zip"))
    for i, branch in enumerate(fields.branches):
        check_zip(branch.zip, path=_join(path, f"branches.{i}.zip"))
    return MexicoIssuer(tax_id=code, legal_name=legal_name.strip(), regime=fields.regime, zip=fields.zip,
                        branches=tuple(fields.branches))
