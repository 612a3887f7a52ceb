"""Issuers: the companies that issue documents, with their establishments and emission points.

The request body is the same for every country; what only one authority needs travels in `flags`,
which the country's plugin validates (for Ecuador: obligado_contabilidad, contribuyente_especial,
agente_retencion, rimpe)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from sello.countries import get_plugin, supported_countries
from sello.i18n import DEFAULT_LANGUAGE, Language, TranslatedValueError, _l
from sello.models.certificates import CertificateSummary
from sello.models.common import EmailStr, Model, RequestBody, text

CountryCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2,
                                               max_length=2)]
# razonSocial, nombreComercial, dirMatriz and dirEstablecimiento: at most 300 characters for SRI.
AuthorityText = text(300)
TaxId = text(32)
# Names that only this API uses (never printed on a document).
Label = text(100)
Code = Annotated[str, StringConstraints(
    strip_whitespace=True, pattern=r"^(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})$")]

MAX_ESTABLISHMENTS = 100
MAX_EMISSION_POINTS = 100
# A stored issuer is one DynamoDB item (400 KB): its fields may take this much as DynamoDB counts them,
# leaving the rest for its keys and the summary of its certificate. 100 establishments of 100 emission
# points each fit with every text at its longest when the points have no labels (or labels of about
# 10 characters).
MAX_ISSUER_BYTES = 380_000


def _unique_codes(items: list, what) -> list:
    seen: set[str] = set()
    for item in items:
        if item.code in seen:
            raise TranslatedValueError(_l("{what} code {code} appears more than once; give each its own code.",
                                          what=what, code=item.code))
        seen.add(item.code)
    return items


class EmissionPoint(RequestBody):
    code: Code = Field(description="Three digits, 001–999 (SRI punto de emisión).", examples=["001"])
    name: Label | None = Field(default=None, description="Your own label for it, up to 100 characters.",
                               examples=["Web store"])


class Establishment(RequestBody):
    code: Code = Field(description="Three digits, 001–999 (SRI establecimiento).", examples=["001"])
    address: AuthorityText = Field(description="Up to 300 characters (SRI dirEstablecimiento).",
                                   examples=["Av. Amazonas N34-451 y Av. Atahualpa, Quito"])
    name: Label | None = Field(default=None, description="Your own label for it, up to 100 characters.",
                               examples=["Matriz"])
    emission_points: list[EmissionPoint] = Field(
        min_length=1, max_length=MAX_EMISSION_POINTS,
        description=f"1 to {MAX_EMISSION_POINTS} emission points, each code once.")

    @field_validator("emission_points")
    @classmethod
    def _unique(cls, value: list[EmissionPoint]) -> list[EmissionPoint]:
        return _unique_codes(value, _l("Emission point"))


class CreateIssuerRequest(RequestBody):
    country: CountryCode = Field(description="ISO 3166 country code of the tax authority.", examples=["EC"])
    tax_id: TaxId = Field(
        description="The issuer's tax id (Ecuador: 13-digit RUC), checked for format and check digit.",
        examples=["1799999990001"])
    legal_name: AuthorityText = Field(description="Up to 300 characters (SRI razonSocial).",
                                      examples=["Comercial Demo S.A."])
    trade_name: AuthorityText | None = Field(default=None, description="Up to 300 characters (SRI "
                                                                       "nombreComercial).",
                                             examples=["Demo Store"])
    head_office_address: AuthorityText = Field(description="Up to 300 characters (SRI dirMatriz).",
                                               examples=["Av. Amazonas N34-451 y Av. Atahualpa, Quito"])
    establishments: list[Establishment] = Field(
        min_length=1, max_length=MAX_ESTABLISHMENTS,
        description=f"1 to {MAX_ESTABLISHMENTS} establishments, each code once. The whole issuer must stay "
                    f"within {MAX_ISSUER_BYTES // 1000} KB as stored (UTF-8): {MAX_ESTABLISHMENTS} "
                    f"establishments of {MAX_EMISSION_POINTS} emission points each fit when the points have "
                    f"short labels or none.")
    email: EmailStr | None = Field(default=None, description="Where certificate notices go when no other "
                                                             "address is given.")
    flags: dict[str, Any] = Field(
        default_factory=dict,
        description="What the country's authority needs to know about the issuer. Ecuador: "
                    "`obligado_contabilidad` (bool, required), `contribuyente_especial` (resolution number, "
                    "3–13 characters), `agente_retencion` (resolution number, up to 8 digits, no leading "
                    "zeros), `rimpe` (`emprendedor` or `negocio_popular`).",
        examples=[{"obligado_contabilidad": True, "agente_retencion": "1"}])
    language: Language = Field(
        default=DEFAULT_LANGUAGE,
        description="The language of what the issuer's customers receive (document emails and the printable "
                    "document's labels) and of its certificate notices: `es` (Spanish, the default) or `en` "
                    "(English). The tax authority's own legends stay in Spanish.")

    @field_validator("establishments")
    @classmethod
    def _unique(cls, value: list[Establishment]) -> list[Establishment]:
        return _unique_codes(value, _l("Establishment"))

    @field_validator("flags")
    @classmethod
    def _country_flags(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Validated by the country's flags model (errors keep their `flags.<field>` path). An
        unsupported country is reported on its own by the service."""
        country = info.data.get("country")
        if country not in supported_countries():
            return value
        return get_plugin(country).issuer_flags_model.model_validate(value).model_dump(exclude_none=True)


# Records ---------------------------------------------------------------------------------------

class Issuer(Model):
    """An issuer as stored (establishments and flags already validated)."""

    id: str
    account_id: str
    country: str
    tax_id: str
    legal_name: str
    trade_name: str | None = None
    head_office_address: str
    establishments: list[Establishment]
    email: str | None = None
    flags: dict[str, Any]
    language: str = DEFAULT_LANGUAGE  # issuers stored before languages read as Spanish
    certificate: CertificateSummary | None = None
    created_at: datetime
    updated_at: datetime


# Views -----------------------------------------------------------------------------------------

class IssuerView(Model):
    id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    object: str = "issuer"
    country: str = Field(examples=["EC"])
    tax_id: str = Field(examples=["1790016919001"])
    legal_name: str = Field(examples=["Comercial Demo S.A."])
    trade_name: str | None = Field(default=None, examples=["Café Demo"])
    head_office_address: str = Field(examples=["Av. Amazonas N34-451 y Av. Atahualpa, Quito"])
    establishments: list[Establishment]
    email: str | None = Field(default=None, examples=["facturacion@example.com"])
    flags: dict[str, Any]
    language: Language = DEFAULT_LANGUAGE
    certificate: CertificateSummary | None = Field(
        default=None, description="The active signing certificate, if one was uploaded.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, issuer: Issuer, now: datetime) -> IssuerView:
        data = issuer.model_dump(exclude={"account_id", "certificate"})
        summary = issuer.certificate.at(now) if issuer.certificate else None
        return cls(**data, certificate=summary)


class IssuerList(Model):
    data: list[IssuerView]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=["AZh2bX0kq3tVY9fE1wLrC8pN5sG7jD4uB6xM2nQ0iHkT"])
