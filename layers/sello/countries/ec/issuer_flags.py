"""What SRI needs to know about an issuer beyond its RUC, as printed in every document's
infoTributaria/infoFactura and on the RIDE."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from sello.models.common import Model, text

# contribuyenteRimpe literals (SRI ficha técnica, Anexo 22): what SRI accepts, and so exactly what the
# schema check and the SRI simulator let through (xsd.compile_schema).
RIMPE_LEGENDS = {
    "emprendedor": "CONTRIBUYENTE RÉGIMEN RIMPE",
    "negocio_popular": "CONTRIBUYENTE NEGOCIO POPULAR - RÉGIMEN RIMPE",
}

# contribuyenteEspecial: 3 to 13 characters.
ResolutionNumber = text(13, min_length=3)


class EcuadorIssuerFlags(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    obligado_contabilidad: bool = Field(
        description="Whether the issuer must keep accounting books (obligadoContabilidad SI/NO).")
    contribuyente_especial: ResolutionNumber | None = Field(
        default=None, description="Resolution number that made the issuer a special taxpayer.",
        examples=["5368"])
    agente_retencion: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,7}$")] | None = Field(
        default=None, description="Resolution number naming the issuer a withholding agent: up to 8 digits, "
                                  "no leading zeros.", examples=["1"])
    rimpe: Literal["emprendedor", "negocio_popular"] | None = Field(
        default=None, description="RIMPE regime, printed as the contribuyenteRimpe legend.")

    @property
    def obligado_contabilidad_text(self) -> str:
        return "SI" if self.obligado_contabilidad else "NO"

    @property
    def rimpe_legend(self) -> str | None:
        return RIMPE_LEGENDS[self.rimpe] if self.rimpe else None
