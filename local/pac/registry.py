"""A small simulated SAT registry of taxpayers (the list of RFCs "inscritos no cancelados" a PAC checks
the receptor against), and the checks a PAC makes with it, each a SAT CFDI 4.0 rule code:

- CFDI40143: the receptor's Rfc is not registered;
- CFDI40145: its Nombre is not the registered name (compared after collapsing runs of white space,
  otherwise exactly: SAT's name, in capitals, without the capital regime such as "SA DE CV");
- CFDI40148: its DomicilioFiscalReceptor is not the registered fiscal zip code; for the generic RFCs
  (público en general XAXX010101000, extranjero XEXX010101000) it must equal the document's
  LugarExpedicion instead (CFDI40149);
- CFDI40157: its RegimenFiscalReceptor is not in c_RegimenFiscal; CFDI40158: the régimen is not one
  the receptor's person type may have (an RFC of 12 characters is a persona moral, of 13 a persona
  física); CFDI40159: the RFC is not registered under that régimen (the generic RFCs: 616 only);
- CFDI40139: the Emisor's Nombre is not the registered name, when the emisor's RFC is registered
  (an emisor outside this small registry is not refused: SAT's test environment knows many more).

The default taxpayers are SAT's public test RFCs, with the names the shared test certificates carry
(without the capital regime) and the fiscal zip codes sandbox users report for them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from local.pac import sat

GENERIC_NATIONAL = "XAXX010101000"  # público en general
GENERIC_FOREIGN = "XEXX010101000"  # residente en el extranjero
GENERIC = (GENERIC_NATIONAL, GENERIC_FOREIGN)

# c_RegimenFiscal's "Física" and "Moral" columns (SAT's catalog spreadsheet; satcfdi's copy of the
# catalog keeps only the descriptions).
REGIMENES_FISICA = frozenset({"605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "621",
                              "625", "626", "629", "630"})
REGIMENES_MORAL = frozenset({"601", "603", "609", "610", "620", "622", "623", "624", "626", "628"})


@dataclass(frozen=True)
class Taxpayer:
    rfc: str
    name: str | None  # None: any name (the foreign generic RFC)
    zip_code: str | None  # None: the document's LugarExpedicion (the generic RFCs)
    regimes: frozenset[str] = field(default_factory=frozenset)

    def as_json(self) -> dict:
        return {"rfc": self.rfc, "name": self.name, "zip": self.zip_code, "regimes": sorted(self.regimes)}

    @classmethod
    def from_json(cls, item: Mapping) -> Taxpayer:
        """From {"rfc", "name", "zip", "regimes": [...]} (name and zip may be null); ValueError otherwise."""
        if not isinstance(item, Mapping) or set(item) - {"rfc", "name", "zip", "regimes"}:
            raise ValueError(f"a taxpayer is {{rfc, name, zip, regimes}}, not {item}")
        rfc, name, zip_code = item.get("rfc"), item.get("name"), item.get("zip")
        regimes = item.get("regimes", [])
        if not isinstance(rfc, str) or not re.fullmatch(r"[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}", rfc):
            raise ValueError(f"a taxpayer's rfc must be an RFC of 12 or 13 characters, not {rfc!r}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError("a taxpayer's name must be a non-empty string or null")
        if zip_code is not None and (not isinstance(zip_code, str) or not re.fullmatch(r"\d{5}", zip_code)):
            raise ValueError("a taxpayer's zip must be 5 digits or null")
        if not isinstance(regimes, list) or not all(isinstance(r, str) and re.fullmatch(r"\d{3}", r)
                                                    for r in regimes):
            raise ValueError("a taxpayer's regimes must be a list of 3-digit codes")
        return cls(rfc, name, zip_code, frozenset(regimes))


DEFAULT_TAXPAYERS = (
    Taxpayer("EKU9003173C9", "ESCUELA KEMPER URGATE", "42501", frozenset({"601"})),
    Taxpayer("XIA190128J61", "XENON INDUSTRIAL ARTICLES", "76343", frozenset({"601"})),
    Taxpayer("IIA040805DZ4", "INDISTRIA ILUMINADORA DE ALMACENES", "62661", frozenset({"601"})),
    Taxpayer("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA", "86991", frozenset({"601"})),
    Taxpayer("XIQB891116QE4", "BERENICE XIMO QUEZADA", "01219", frozenset({"605", "612"})),
    Taxpayer(GENERIC_NATIONAL, "PUBLICO EN GENERAL", None, frozenset({"616"})),
    Taxpayer(GENERIC_FOREIGN, None, None, frozenset({"616"})),
)


@dataclass(frozen=True)
class Finding:
    """A SAT rule the document breaks: its code (CFDI40xxx) and what is wrong, with the field."""

    code: str
    detail: str


def _same_name(given: str, registered: str) -> bool:
    return " ".join(given.split()) == " ".join(registered.split())


def person_type(rfc: str) -> str:
    return "moral" if len(rfc) == 12 else "física"


def check(root: etree._Element, taxpayers: Mapping[str, Taxpayer]) -> Finding | None:
    """The first registry rule the document breaks, emisor first; None when none."""
    ns = {"cfdi": sat.CFDI_NS}
    emisor, receptor = root.find("cfdi:Emisor", ns), root.find("cfdi:Receptor", ns)
    if emisor is not None:
        registered = taxpayers.get(emisor.get("Rfc", ""))
        name = emisor.get("Nombre", "")
        if registered is not None and registered.name is not None and not _same_name(name, registered.name):
            return Finding("CFDI40139", f"Emisor/@Nombre {name!r} no es el nombre registrado para "
                                        f"{registered.rfc} ({registered.name!r}).")
    if receptor is None:
        return None
    rfc = receptor.get("Rfc", "")
    registered = taxpayers.get(rfc)
    if registered is None:
        return Finding("CFDI40143", f"Receptor/@Rfc {rfc!r} no está en la lista de RFC inscritos no "
                                    "cancelados.")
    name = receptor.get("Nombre", "")
    if registered.name is not None and not _same_name(name, registered.name):
        return Finding("CFDI40145", f"Receptor/@Nombre {name!r} no es el nombre registrado para {rfc} "
                                    f"({registered.name!r}).")
    zip_code = receptor.get("DomicilioFiscalReceptor", "")
    if registered.zip_code is None:
        place = root.get("LugarExpedicion", "")
        if zip_code != place:
            return Finding("CFDI40149", f"Receptor/@DomicilioFiscalReceptor {zip_code!r} debe ser igual a "
                                        f"LugarExpedicion {place!r} para el RFC genérico {rfc}.")
    elif zip_code != registered.zip_code:
        return Finding("CFDI40148", f"Receptor/@DomicilioFiscalReceptor {zip_code!r} no es el código postal "
                                    f"del domicilio fiscal registrado para {rfc} ({registered.zip_code!r}).")
    regime = receptor.get("RegimenFiscalReceptor", "")
    if not sat.regimen_exists(regime):
        return Finding("CFDI40157", f"Receptor/@RegimenFiscalReceptor {regime!r} no existe en "
                                    "c_RegimenFiscal.")
    kind = person_type(rfc)
    if regime not in (REGIMENES_MORAL if kind == "moral" else REGIMENES_FISICA):
        return Finding("CFDI40158", f"Receptor/@RegimenFiscalReceptor {regime!r} no corresponde a una "
                                    f"persona {kind} (RFC {rfc}).")
    if regime not in registered.regimes:
        allowed = ", ".join(sorted(registered.regimes))
        return Finding("CFDI40159", f"Receptor/@RegimenFiscalReceptor {regime!r} no es un régimen registrado "
                                    f"para {rfc} ({allowed}).")
    return None


def index(taxpayers: Iterable[Taxpayer]) -> dict[str, Taxpayer]:
    return {t.rfc: t for t in taxpayers}
