"""Issuers: the companies that issue documents, as stored, and the parts of the neutral body the stored
issuer keeps (establishments with their emission points).

Each country's plugin has its issuer body (`issuer_request_model`), chosen by the body's `country`.
Every one has what IssuerFields has (country, tax id, names, email, language); the rest is the
country's. The neutral body, CreateIssuerRequest (Ecuador's), adds the head office, establishments
with their emission points, and `flags` for what only one authority needs, which the country's
plugin validates (for Ecuador: obligado_contabilidad, contribuyente_especial, agente_retencion,
rimpe). The stored issuer and its view carry the country's fields as the body had them. The bodies
and the views are in models.issuer_api."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from sello.i18n import DEFAULT_LANGUAGE, TranslatedValueError, _l
from sello.models.certificates import CertificateSummary
from sello.models.common import Model, RequestBody, text

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


def unique_codes(items: list, what) -> list:
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
        return unique_codes(value, _l("Emission point"))


# Records ---------------------------------------------------------------------------------------

class Issuer(Model):
    """An issuer as stored: what every issuer has, and the fields of its country's issuer body as that
    body's model validated them. The neutral body's (Ecuador's: head office, establishments, flags) are
    typed here, as issuers have always been stored with them, so a plugin of that shape reads
    `issuer.establishments`; another country's fields are kept as they came, JSON values beside the
    others in the same item, and its plugin reads them with a model of its own (`country_fields`)."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    id: str
    account_id: str
    country: str
    tax_id: str
    legal_name: str
    trade_name: str | None = None
    head_office_address: str | None = None
    establishments: list[Establishment] | None = None
    email: str | None = None
    flags: dict[str, Any] | None = None
    language: str = DEFAULT_LANGUAGE  # issuers stored before languages read as Spanish
    certificate: CertificateSummary | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def country_fields(self) -> dict[str, Any]:
        """The fields of a country's own issuer body that no other issuer has (e.g. a country's
        branches), by name, as JSON values."""
        return dict(self.model_extra or {})
