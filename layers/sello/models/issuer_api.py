"""What the issuer routes take and answer besides the stored issuer (models.issuers): the body every
country's issuer body shares (IssuerFields), the neutral one (CreateIssuerRequest, Ecuador's) and the
views. A function that only reads issuers (the documents API) does not load them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from sello.countries import get_plugin, supported_countries
from sello.i18n import DEFAULT_LANGUAGE, Language, _l
from sello.models.certificates import CertificateSummary
from sello.models.common import EmailStr, Model, RequestBody, absent
from sello.models.issuers import (
    MAX_EMISSION_POINTS,
    MAX_ESTABLISHMENTS,
    MAX_ISSUER_BYTES,
    AuthorityText,
    CountryCode,
    Establishment,
    Issuer,
    TaxId,
    unique_codes,
)


# Request bodies --------------------------------------------------------------------------------

class IssuerFields(RequestBody):
    """What every country's issuer body has (a plugin's issuer_request_model may extend it): the
    stored issuer and its view are built from these, the country's own fields beside them. The
    neutral body (CreateIssuerRequest) has the same fields, described for Ecuador."""

    model_config = ConfigDict(defer_build=True)  # a base: its own validator is never used

    country: CountryCode = Field(description="ISO 3166 country code of the tax authority.")
    tax_id: TaxId = Field(description="The issuer's tax id, checked by its country's rules.")
    legal_name: AuthorityText = Field(description="As registered with the tax authority, up to 300 "
                                                  "characters.")
    trade_name: AuthorityText | None = Field(default=None, description="Up to 300 characters.")
    email: EmailStr | None = Field(default=None, description="Where certificate notices go when no other "
                                                             "address is given.")
    language: Language = Field(
        default=DEFAULT_LANGUAGE,
        description="The language of what the issuer's customers receive (document emails and the printable "
                    "document's labels) and of its certificate notices: `es` (Spanish, the default) or `en` "
                    "(English). The tax authority's own legends stay in Spanish.")


class CreateIssuerRequest(RequestBody):
    """An issuer of a country with the neutral shape (Ecuador): head office, establishments with their
    emission points, and the flags its authority needs."""

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
        return unique_codes(value, _l("Establishment"))

    @field_validator("flags")
    @classmethod
    def _country_flags(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Validated by the country's flags model (errors keep their `flags.<field>` path). An
        unsupported country is reported on its own by the service."""
        country = info.data.get("country")
        if country not in supported_countries():
            return value
        return get_plugin(country).issuer_flags_model.model_validate(value).model_dump(exclude_none=True)


# Views -----------------------------------------------------------------------------------------

class IssuerView(Model):
    """An issuer: what every issuer has, and the fields of its country's issuer body as it was
    registered (Ecuador: `head_office_address`, `establishments`, `flags`; another country's as its
    body in POST /v1/issuers describes them)."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    object: str = "issuer"
    country: str = Field(examples=["EC"])
    tax_id: str = Field(examples=["1790016919001"])
    legal_name: str = Field(examples=["Comercial Demo S.A."])
    trade_name: str | None = Field(default=None, examples=["Café Demo"])
    head_office_address: str | None = absent(examples=["Av. Amazonas N34-451 y Av. Atahualpa, Quito"])
    establishments: list[Establishment] | None = absent()
    email: str | None = Field(default=None, examples=["facturacion@example.com"])
    flags: dict[str, Any] | None = absent()
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
