"""A local PAC on 127.0.0.1 speaking SW Sapien's REST contract (paths, headers, JSON), so Sello's SW
Sapien adapter and the workflow run against it unchanged: its base URL (`http://127.0.0.1:<port>`)
serves as both of SW's hosts, the services host (authentication, stamping) and the api host
(datawarehouse recovery).

    with PacSimulator() as pac:                       # or pac.start() … pac.stop()
        token = httpx.post(f"{pac.url}/security/authenticate",
                           headers={"user": pac.user, "password": pac.password}).json()["data"]["token"]

Service endpoints (SW's shapes; every answer is JSON `{"status": "success", "data": …}` or
`{"status": "error", "message": "<code> - <text>", "messageDetail": …, "data": …}`):
- `POST /security/authenticate` with headers `user` and `password` (also SW's v2 form,
  `POST /v2/security/authenticate` with a JSON body {"user", "password"}) → `data` {"token",
  "expires_in", "tokeny_type": "Bearer"}. As SW's, `expires_in` is the Unix time (seconds) at which
  the token expires, not a duration; the token is a JWT valid `token_ttl_seconds`. Wrong credentials
  → HTTP 401 `AU2000 - El usuario y/o contraseña son inválidos, no se puede autenticar el servicio.`
- `POST /v4/cfdi33/stamp/{v1|v2|v3|v4}[/b64]` with `Authorization: Bearer <token>` (the scheme in any
  case), multipart field `xml` (base64 with `/b64`) and an optional header `customid` (≤ 100
  characters). The answer's `data` by version, as SW's: v1 {"tfd"}, v2 {"tfd", "cfdi"}, v3 {"cfdi"},
  v4 {"cfdi", "cadenaOriginalSAT", "noCertificadoSAT", "noCertificadoCFDI", "uuid", "selloSAT",
  "selloCFDI", "fechaTimbrado", "qrCode" (base64 PNG of SAT's verification URL)}.
- `GET /datawarehouse/v1/live/{uuid}` (bearer token) → `data` {"metaData", "records": [{"uuid",
  "fechaTimbrado", "rfcEmisor", …, "urlXml"}]}, as SW's datawarehouse answers; `urlXml` is
  `/datawarehouse/files/{uuid}.xml` on this server (no token, as SW's download links), which serves
  the stamped document. An unknown UUID → HTTP 200 with `records` empty, which is how SW answers it.
- `POST /cfdi33/cancel/xml` (bearer token), multipart field `xml`: SAT's cancellation request signed by
  the issuer's CSD → `data` {"acuse", "uuid": {UUID: SAT's code}} (local.pac.cancellation: the checks,
  the codes, and how SAT then decides, with the receiver's acceptance when SAT asks for it); its
  requests count as service "cancel".
- `POST /ConsultaCFDIService.svc`: SAT's public CFDI status service (SOAP; no token), which knows the
  documents stamped here: Vigente, Cancelado once cancelled (or after `cancel(uuid)`), with the
  cancellation's EstatusCancelacion, else No Encontrado (local.pac.sat_status); its requests count as
  service "status".
A missing bearer token → 401 `AU4101 - El token proporcionado viene vacio.`; one not made of three
parts → 401 `El token debe contener 3 partes` (both SW's texts); one this simulator did not sign →
401 `AU4102 - El token proporcionado no es válido.`, an expired one → 401 `AU4103 - El token
proporcionado ha expirado.` (these two codes are the simulator's: SW's public material does not name
them). A path the simulator does not serve → 404, a method it does not → 405.

Stamping checks, after the token, in this order; the first failure answers HTTP 400 with SW's message
(validation errors of SAT's CFDI 4.0 matrix as `301 - Error de validaciones adicionales [CFDI40xxx]
<text>`):
1. the `xml` field is there (else `Xml CFDI33 no proporcionado o viene vacio.`), the customid at most
   100 characters; a customid already stamped answers at once with that first stamp in `data`: the
   same document (same Sello) → `307. El comprobante contiene un timbre previo.`, another one →
   `CFDI3307 - Timbre duplicado. El customId proporcionado está duplicado.`;
2. well-formed XML without DTD or entities → else 301 (`XML mal formado`);
3. a `cfdi:Comprobante` 4.0, valid against cfdv40.xsd with its catalogs (and the Pagos 2.0 and TFD
   1.1 complements; local.pac.sat) → else 301 with lxml's message;
4. the Certificado is a certificate whose serial is the NoCertificado, and the Sello verifies
   (RSA-SHA256) against the cadena original from SAT's XSLT applied to the document as received
   → else 302;
5. a document whose Sello was already stamped, or that already carries a TimbreFiscalDigital → 307
   (with the original stamp in `data` when this simulator made it);
6. the certificate's RFC (x500UniqueIdentifier) is the Emisor's Rfc → else 303;
7. the certificate is a CSD, not a FIEL (local.pac.certificates) → else 306;
8. Fecha (local time of LugarExpedicion's zip code: c_CodigoPostal's time zone, else −06:00) is
   within the certificate's validity → else 305;
9. the certificate was issued by a SAT authority → else 308. Mode "production": one of SAT's
   production CAs (satcfdi's CertsProd.zip, of 2022: it lacks SAT's newer "AC DEL SERVICIO DE
   ADMINISTRACION TRIBUTARIA", which `production_cas` can add). Mode "test" (default): those, or
   SAT's test CA: the certificates given as `test_cas` (e.g. SAT's SATCertsPruebas zip) or, when
   none are given, an issuer named "AC UAT" by SAT; any issuer at all with `accept_any_issuer`;
10. Fecha is after 2011-01-01 (else 403), at most 72 hours old (else 401 `El rango de la fecha de
   generación no debe de ser mayor a 72 horas para la emisión del timbre.`) and at most 5 minutes
   ahead (else 301 [CFDI40101]);
11. the simulated SAT registry (local.pac.registry: CFDI40139, 40143, 40145, 40148, 40149,
   40157–40159) and the sums (local.pac.arithmetic: CFDI40108, 40119, 40203, 40205, 40215, 40221;
   a CFDI de pago's complement: local.pac.payments);
12. a rejection queued with `reject_next`.
Then the document gets its TimbreFiscalDigital 1.1 (local.pac.timbre), signed by the simulator's own
"SAT" certificate (made at start; `sat_certificate`, and `GET /_sim/pac/sat-certificate`), and is
kept for recovery, under its UUID, its Sello and its customid.

Constructor only: `user` / `password` (default "sello" / "sello-pac-local"), `test_cas`,
`production_cas`, `clock` (a function answering the current time, aware; tests move it).
Knobs, in Python and over HTTP on the same port:
- `mode` ("test" | "production"), `accept_any_issuer` (bool, test mode only), `token_ttl_seconds`
  (default 7200, SW's two hours), `hold_seconds` (default 60), `registry` (taxpayers added to, or
  replacing by RFC, the default ones; `add_taxpayers()` at run time);
- `cancellation_acceptance` ("accept" default, "reject", "expire") and `cancellation_polls` (default 2):
  how the receiver answers a cancellation that needs their acceptance, after how many status queries
  of the CFDI answered "En proceso" (local.pac.cancellation);
- `fail_next(n, kind, service="any")`: the next n requests to "authenticate", "stamp", "recover",
  "status", "cancel" or "any" of them fail as `kind`:
  - "http_500" / "http_503": that status with a plain-text body; nothing is processed;
  - "timeout": nothing is processed; the connection is held until the client gives up, `hold_seconds`
    pass or the simulator stops, then closed without an answer;
  - "lost_response": processed as usual (a stamp is made), then held and closed like "timeout";
  - "auth_failure": the next authentication answers AU2000 whatever the credentials (service
    "authenticate" always);
- `reject_next(code="301", message=None, detail="")`: the next document that would be stamped is
  refused with that code (a CFDI40xxx code nested in 301, as above); SW's or SAT's text when no
  message is given;
- counters: `stamps(customid or uuid)` timbres made for it (never more than one),
  `requests(service=None)`; `state()` everything as JSON-ready data; `reset()` back to the start
  (the knobs as the constructor set them; tokens already issued stay valid).
Admin endpoints under `/_sim/pac/` (JSON):
- `GET /_sim/pac/state` → {"url", "mode", "accept_any_issuer", "token_ttl_seconds", "hold_seconds",
  "user", "no_certificado_sat", "faults": [{"service", "kind"}], "reject_next": [{"code",
  "message", "detail"}], "requests": {"authenticate", "stamp", "recover", "status"}, "held", "tokens",
  "stamps": {uuid: {"customid", "emisor", "receptor", "total", "fecha_timbrado", "answers"}},
  "customids": {customid: uuid}, "errors": {code: count}, "registry": [{"rfc", "name", "zip",
  "regimes"}]};
- `POST /_sim/pac/config` with any of {"mode", "accept_any_issuer", "token_ttl_seconds",
  "hold_seconds", "cancellation_acceptance", "cancellation_polls", "faults": [{"kind", "count"
  (default 1), "service" (default "any")}],
  "reject_next": [{"code"?, "message"?, "detail"?}], "registry": [{"rfc", "name", "zip",
  "regimes"}]} → the state; lists of faults and rejections replace what is pending, registry entries
  are added (replacing by RFC); 400 {"error"} on anything else, and nothing changes;
- `POST /_sim/pac/reset` → the state after a reset;
- `GET /_sim/pac/sat-certificate` → {"no_certificado", "pem", "der" (base64)}; `…/sat-certificate.cer`
  (DER) and `…/sat-certificate.pem`.
Servers listen where told (127.0.0.1 by default) on daemon threads, so they end with the process;
`stop()` returns within a second, held connections included."""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import hmac
import json
import logging
import re
import secrets
import select
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from lxml import etree

from local.pac import arithmetic, cancellation, certificates, payments, registry, sat, sat_status, timbre
from local.pac.registry import Taxpayer
from local.simserver import SimulatorServer

log = logging.getLogger(__name__)

ADMIN_PATH = "/_sim/pac"
STAMP_PATH = re.compile(r"/v4/cfdi33/stamp/(v[1-4])(/b64)?/?")
RECOVER_PATH = re.compile(r"/datawarehouse/v1/live/([^/]+)/?")
FILE_PATH = re.compile(r"/datawarehouse/files/([0-9A-Fa-f-]{36})\.xml")
AUTH_PATHS = ("/security/authenticate", "/v2/security/authenticate")

MODES = ("test", "production")
FAULT_KINDS = ("http_500", "http_503", "timeout", "lost_response", "auth_failure")
SERVICES = ("authenticate", "stamp", "recover", "status", "cancel", "any")
STATUS_PATH = "/ConsultaCFDIService.svc"  # SAT's CFDI status service (local.pac.sat_status)
FAULT_FIELDS = {"kind", "service", "count"}
REJECTION_FIELDS = {"code", "message", "detail"}
CONFIG_FIELDS = {"mode", "accept_any_issuer", "token_ttl_seconds", "hold_seconds", "faults", "reject_next",
                 "registry", "cancellation_acceptance", "cancellation_polls"}
DEFAULT_USER = "sello"
DEFAULT_PASSWORD = "sello-pac-local"
DEFAULT_TOKEN_TTL = 7200  # SW's temporary tokens last two hours
DEFAULT_HOLD_SECONDS = 60.0
MAX_CUSTOMID = 100
MAX_AGE = timedelta(hours=72)
MAX_AHEAD = timedelta(minutes=5)
EARLIEST = datetime(2011, 1, 1, tzinfo=UTC)

# SW's texts (its error-codes page, and its SDKs' tests for 301, 307, 401, AU2000, AU4101).
PAC_MESSAGES = {
    "301": "La estructura del comprobante es incorrecta.",
    "302": "Sello del emisor no válido.",
    "303": "El RFC del CSD del emisor no corresponde al RFC que viene como emisor en el comprobante.",
    "304": "El CSD del emisor ha sido revocado.",
    "305": "La fecha de emisión no está dentro de la vigencia del CSD del emisor.",
    "306": "La llave utilizada para sellar debe ser un CSD.",
    "307": "El comprobante contiene un timbre previo.",
    "308": "El CSD del emisor no ha sido firmado por uno de los certificados de autoridad del SAT.",
    "401": "El rango de la fecha de generación no debe de ser mayor a 72 horas para la emisión del timbre.",
    "402": "El RFC del emisor no se encuentra en el régimen de contribuyentes (LCO).",
    "403": "La fecha de emisión no es posterior al 01 de enero de 2011.",
}
# SAT's CFDI 4.0 matrix, as the simulator words each rule it checks.
CFDI_MESSAGES = {
    "CFDI40101": "El campo Fecha no cumple con el patrón requerido o está fuera del rango permitido.",
    "CFDI40108": "El campo SubTotal no corresponde a la suma de los importes de los conceptos.",
    "CFDI40119": "El campo Total no corresponde con la suma del subtotal, menos los descuentos aplicables, "
                 "más los impuestos trasladados, menos los impuestos retenidos.",
    "CFDI40139": "El campo Nombre del emisor debe pertenecer al nombre asociado al RFC registrado en el "
                 "campo Rfc del Emisor.",
    "CFDI40143": "Este RFC del receptor no existe en la lista de RFC inscritos no cancelados del SAT.",
    "CFDI40145": "El campo Nombre del receptor, debe pertenecer al nombre asociado al RFC registrado en el "
                 "campo Rfc del Receptor.",
    "CFDI40148": "El campo DomicilioFiscalReceptor del receptor debe corresponder al código postal del "
                 "domicilio fiscal asociado al RFC registrado en el campo Rfc del Receptor.",
    "CFDI40149": "El campo DomicilioFiscalReceptor debe ser igual al campo LugarExpedicion cuando el Rfc del "
                 "receptor es genérico.",
    "CFDI40157": "La clave del campo RegimenFiscalReceptor debe existir en el catálogo c_RegimenFiscal.",
    "CFDI40158": "La clave del campo RegimenFiscalReceptor debe corresponder con el tipo de persona "
                 "(física o moral).",
    "CFDI40159": "La clave del campo RegimenFiscalReceptor debe corresponder a un régimen registrado para "
                 "el RFC del receptor.",
    "CFDI40203": "El campo TotalImpuestosRetenidos no corresponde a la suma de los importes de las "
                 "retenciones.",
    "CFDI40205": "El campo TotalImpuestosTrasladados no corresponde a la suma de los importes de los "
                 "traslados.",
    "CFDI40215": "El campo Base del traslado no corresponde a la suma de las bases de los traslados de los "
                 "conceptos.",
    "CFDI40221": "El campo Importe del traslado no corresponde a la suma de los importes de los traslados de "
                 "los conceptos.",
}
DUPLICATE_CUSTOMID = "CFDI3307 - Timbre duplicado. El customId proporcionado está duplicado."
AU2000 = "AU2000 - El usuario y/o contraseña son inválidos, no se puede autenticar el servicio."
AU4101 = "AU4101 - El token proporcionado viene vacio."
TOKEN_PARTS = "El token debe contener 3 partes"
AU4102 = "AU4102 - El token proporcionado no es válido."
AU4103 = "AU4103 - El token proporcionado ha expirado."
NO_XML = "Xml CFDI33 no proporcionado o viene vacio."


def message_for(code: str, text: str | None = None) -> str:
    """SW's `message`: "<code> - <text>", a SAT matrix code nested in 301, 307 the way SW writes it."""
    if code.startswith("CFDI4"):
        text = text or CFDI_MESSAGES.get(code, "")
        return f"301 - Error de validaciones adicionales [{code}] {text}".rstrip()
    if code == "307" and text is None:
        return f"307. {PAC_MESSAGES['307']}"
    return f"{code} - {text or PAC_MESSAGES.get(code, 'Error.')}"


class Rejected(Exception):
    """A request answered with SW's error shape."""

    def __init__(self, code: str, detail: str | None = None, *, message: str | None = None, status: int = 400,
                 data: Any = None):
        self.code = code
        self.message = message or message_for(code)
        self.detail = detail
        self.status = status
        self.data = data
        super().__init__(self.message)

    def answer(self) -> dict:
        return {"message": self.message, "messageDetail": self.detail, "data": self.data, "status": "error"}


class Hold(Exception):
    """Answer nothing: hold the connection, then close it."""


@dataclass
class Issued:
    """A document this simulator stamped."""

    stamp: timbre.Stamp
    customid: str | None
    emisor: str
    receptor: str
    total: str
    record: dict  # the datawarehouse record
    qr_code: str
    answers: int = 1  # stamp requests answered with it (the first, then 307s)


@dataclass
class Checked:
    """A document that passed every check."""

    root: etree._Element
    sello: str


@dataclass
class _Knobs:
    mode: str
    accept_any_issuer: bool
    token_ttl_seconds: int
    hold_seconds: float
    additions: dict[str, Taxpayer] = field(default_factory=dict)


def registry_index(entries: Iterable[Taxpayer | Mapping]) -> dict[str, Taxpayer]:
    return registry.index(e if isinstance(e, Taxpayer) else Taxpayer.from_json(e) for e in entries)


def _cas(source: str | Path | Iterable[bytes]) -> tuple[x509.Certificate, ...]:
    return sat.load_cas(source if isinstance(source, str | Path | bytes) else list(source))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fault_list(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("faults must be a list of objects")
    faults = []
    for fault in value:
        kind, service, count = fault.get("kind"), fault.get("service", "any"), fault.get("count", 1)
        if kind not in FAULT_KINDS or service not in SERVICES or set(fault) - FAULT_FIELDS:
            raise ValueError(f"a fault is {{kind: {'|'.join(FAULT_KINDS)}, service: {'|'.join(SERVICES)}, "
                             f"count}}, not {fault}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("a fault's count must be a whole number, 0 or more")
        faults += [("authenticate" if kind == "auth_failure" else service, kind)] * count
    return faults


class PacSimulator(SimulatorServer):
    name = "PAC"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, user: str = DEFAULT_USER,
                 password: str = DEFAULT_PASSWORD, mode: str = "test", accept_any_issuer: bool = False,
                 token_ttl_seconds: int = DEFAULT_TOKEN_TTL, hold_seconds: float = DEFAULT_HOLD_SECONDS,
                 test_cas: str | Path | Iterable[bytes] | None = None,
                 production_cas: str | Path | Iterable[bytes] | None = None,
                 registry: Iterable[Taxpayer | Mapping] = (), clock: Callable[[], datetime] | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        super().__init__(host, port)
        self.user, self.password = user, password
        self.clock = clock or (lambda: datetime.now(UTC))
        self.test_cas = None if test_cas is None else _cas(test_cas)
        self.production_cas = sat.production_cas() + (() if production_cas is None else _cas(production_cas))
        additions = registry_index(registry)
        self._initial = _Knobs(mode, bool(accept_any_issuer), int(token_ttl_seconds), float(hold_seconds),
                               additions)
        self.sat = timbre.LocalSat.generate()
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._held = 0
        self._reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def sat_certificate(self) -> x509.Certificate:
        """The local "SAT" certificate whose key signs every SelloSAT (NoCertificadoSAT: its number)."""
        return self.sat.certificate

    # -- knobs -------------------------------------------------------------------------------------

    def _reset(self) -> None:
        initial = self._initial
        self.mode = initial.mode
        self.accept_any_issuer = initial.accept_any_issuer
        self.token_ttl_seconds = initial.token_ttl_seconds
        self.hold_seconds = initial.hold_seconds
        self._taxpayers = registry.index([*registry.DEFAULT_TAXPAYERS, *initial.additions.values()])
        self._faults: list[tuple[str, str]] = []  # (service, kind), next first
        self._rejections: list[Rejected] = []
        self._issued: dict[str, Issued] = {}  # by UUID
        self._by_sello: dict[str, str] = {}  # Sello → UUID
        self._by_customid: dict[str, str] = {}  # customid → UUID
        self._stamps: Counter[str] = Counter()  # timbres made, by UUID and by customid
        self._requests = {"authenticate": 0, "stamp": 0, "recover": 0, "status": 0, "cancel": 0}
        self._errors: Counter[str] = Counter()
        self._tokens = 0
        self.cancellation_acceptance = "accept"
        self.cancellation_polls = cancellation.DEFAULT_POLLS
        self._cancellations: dict[str, cancellation.Process] = {}  # by UUID

    def reset(self) -> None:
        with self._lock:
            self._reset()

    def fail_next(self, n: int = 1, kind: str = "http_503", service: str = "any") -> None:
        if n < 0:
            raise ValueError("n must not be negative")
        faults = _fault_list([{"kind": kind, "service": service, "count": n}])
        with self._lock:
            self._faults.extend(faults)

    def reject_next(self, code: str = "301", message: str | None = None, detail: str = "") -> None:
        with self._lock:
            self._rejections.append(self._rejection(str(code), message, detail))

    @staticmethod
    def _rejection(code: str, message: str | None, detail: str) -> Rejected:
        return Rejected(code, detail or None, message=message_for(code, message))

    def add_taxpayers(self, *taxpayers: Taxpayer | Mapping) -> None:
        """Adds taxpayers to the simulated SAT registry (an RFC already there is replaced) until a reset."""
        entries = registry_index(taxpayers)
        with self._lock:
            self._taxpayers.update(entries)

    def stamps(self, key: str) -> int:
        """Timbres made for a customid or a UUID."""
        with self._lock:
            return self._stamps.get(key, 0)

    def requests(self, service: str | None = None) -> int | dict[str, int]:
        with self._lock:
            return dict(self._requests) if service is None else self._requests[service]

    def state(self) -> dict:
        with self._lock:
            return {
                "url": self.url if self._server else None,
                "mode": self.mode,
                "accept_any_issuer": self.accept_any_issuer,
                "token_ttl_seconds": self.token_ttl_seconds,
                "hold_seconds": self.hold_seconds,
                "cancellation_acceptance": self.cancellation_acceptance,
                "cancellation_polls": self.cancellation_polls,
                "cancellations": {uuid: {"motive": c.motive, "substitute": c.substitute, "estado": c.estado,
                                         "estatus": c.estatus, "needs_acceptance": c.needs_acceptance}
                                  for uuid, c in self._cancellations.items()},
                "user": self.user,
                "no_certificado_sat": self.sat.number,
                "faults": [{"service": s, "kind": k} for s, k in self._faults],
                "reject_next": [{"code": r.code, "message": r.message, "detail": r.detail or ""}
                                for r in self._rejections],
                "requests": dict(self._requests),
                "held": self._held,
                "tokens": self._tokens,
                "stamps": {uuid: {"customid": i.customid, "emisor": i.emisor, "receptor": i.receptor,
                                  "total": i.total, "fecha_timbrado": i.stamp.fecha_timbrado,
                                  "answers": i.answers}
                           for uuid, i in self._issued.items()},
                "customids": dict(self._by_customid),
                "errors": dict(self._errors),
                "registry": [t.as_json() for t in sorted(self._taxpayers.values(), key=lambda t: t.rfc)],
            }

    def configure(self, config: Any) -> None:
        """Applies a POST /_sim/pac/config body; raises ValueError (nothing applied) when it is invalid."""
        if not isinstance(config, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(config) - CONFIG_FIELDS
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        mode = config.get("mode", self.mode)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        any_issuer = config.get("accept_any_issuer", self.accept_any_issuer)
        if not isinstance(any_issuer, bool):
            raise ValueError("accept_any_issuer must be true or false")
        ttl = config.get("token_ttl_seconds", self.token_ttl_seconds)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise ValueError("token_ttl_seconds must be a whole number above 0")
        hold = config.get("hold_seconds", self.hold_seconds)
        if isinstance(hold, bool) or not isinstance(hold, int | float) or hold <= 0:
            raise ValueError("hold_seconds must be a positive number")
        acceptance = config.get("cancellation_acceptance", self.cancellation_acceptance)
        if acceptance not in cancellation.ACCEPTANCES:
            raise ValueError(f"cancellation_acceptance must be one of {', '.join(cancellation.ACCEPTANCES)}")
        polls = config.get("cancellation_polls", self.cancellation_polls)
        if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
            raise ValueError("cancellation_polls must be a whole number, 0 or more")
        faults = _fault_list(config["faults"]) if "faults" in config else None
        rejections = None
        if "reject_next" in config:
            items = config["reject_next"]
            if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
                raise ValueError("reject_next must be a list of objects")
            rejections = []
            for item in items:
                if set(item) - REJECTION_FIELDS or not all(isinstance(v, str) for v in item.values()):
                    raise ValueError(f"a rejection is {{code, message, detail}} (strings), not {item}")
                rejections.append(self._rejection(item.get("code", "301"), item.get("message"),
                                                  item.get("detail", "")))
        taxpayers = None
        if "registry" in config:
            if not isinstance(config["registry"], list):
                raise ValueError("registry must be a list of taxpayers")
            taxpayers = [Taxpayer.from_json(item) for item in config["registry"]]
        with self._lock:
            self.mode, self.accept_any_issuer = mode, any_issuer
            self.token_ttl_seconds, self.hold_seconds = ttl, float(hold)
            self.cancellation_acceptance, self.cancellation_polls = acceptance, polls
            if faults is not None:
                self._faults = faults
            if rejections is not None:
                self._rejections = rejections
            if taxpayers is not None:
                self._taxpayers.update(registry.index(taxpayers))

    def hold(self, connection) -> None:
        """Keeps a connection open without answering until the client closes it, hold_seconds pass or
        the simulator stops."""
        deadline = time.monotonic() + self.hold_seconds
        with self._lock:
            self._held += 1
        try:
            while time.monotonic() < deadline and not self._stopping.is_set():
                readable, _, _ = select.select([connection], [], [], 0.1)
                if readable and not connection.recv(4096):
                    return  # the client gave up
        except OSError:
            pass  # the connection broke: nothing left to hold
        finally:
            with self._lock:
                self._held -= 1

    # -- requests ----------------------------------------------------------------------------------

    def _fault(self, service: str) -> str | None:
        """Counts the request and takes the first pending fault aimed at it (called without the lock)."""
        with self._lock:
            self._requests[service] += 1
            fault = next((f for f in self._faults if f[0] in (service, "any")), None)
            if fault is not None:
                self._faults.remove(fault)
        return fault[1] if fault else None

    def handle(self, service: str, run: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        """(HTTP status, JSON answer or plain text) for a service request; raises Hold when no answer
        must come."""
        kind = self._fault(service)
        if kind in ("http_500", "http_503"):
            return int(kind[-3:]), "Internal Server Error" if kind == "http_500" else "Service Unavailable"
        if kind == "timeout":
            raise Hold
        code = None
        if kind == "auth_failure":
            rejected = Rejected("AU2000", message=AU2000, status=401)
            code, status, answer = rejected.code, rejected.status, rejected.answer()
        else:
            try:
                status, answer = run()
            except Rejected as rejected:
                code, status, answer = rejected.code, rejected.status, rejected.answer()
        if code is not None:
            with self._lock:
                self._errors[code] += 1
        if kind == "lost_response":
            raise Hold
        return status, answer

    # -- authentication ----------------------------------------------------------------------------

    def authenticate(self, user: str | None, password: str | None) -> tuple[int, dict]:
        if not (user and password and hmac.compare_digest(user.encode(), self.user.encode())
                and hmac.compare_digest(password.encode(), self.password.encode())):
            raise Rejected("AU2000", message=AU2000, status=401)
        now = self.clock()
        expires = int(now.timestamp()) + self.token_ttl_seconds
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps({"sub": user, "iat": int(now.timestamp()), "exp": expires,
                                      "jti": secrets.token_hex(8)}).encode())
        signature = _b64url(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        with self._lock:
            self._tokens += 1
        return 200, {"data": {"token": f"{header}.{payload}.{signature}", "expires_in": expires,
                              "tokeny_type": "Bearer"}, "status": "success"}

    def check_token(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if not token:
            raise Rejected("AU4101", message=AU4101, status=401)
        parts = token.split(".")
        if len(parts) != 3:
            raise Rejected("AU4102", message=TOKEN_PARTS, status=401)
        expected = _b64url(hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            raise Rejected("AU4102", message=AU4102, status=401)
        try:
            expires = json.loads(_unb64url(parts[1]))["exp"]
        except (ValueError, KeyError, TypeError):
            raise Rejected("AU4102", message=AU4102, status=401) from None
        if self.clock().timestamp() >= expires:
            raise Rejected("AU4103", message=AU4103, status=401)

    # -- stamping ----------------------------------------------------------------------------------

    def stamp(self, version: str, xml: bytes | None, customid: str | None,
              authorization: str | None) -> tuple[int, dict]:
        self.check_token(authorization)
        customid = (customid or "").strip() or None
        if customid is not None and len(customid) > MAX_CUSTOMID:
            raise Rejected("customid", message=f"El header customid excede la longitud máxima de "
                                               f"{MAX_CUSTOMID} caracteres.")
        if not xml or not xml.strip():
            raise Rejected("xml", message=NO_XML)
        if customid is not None:
            with self._lock:
                first = self._issued.get(self._by_customid.get(customid, ""))
                if first is not None:
                    first.answers += 1
            if first is not None:
                same = _sello_of(xml) == first.stamp.sello_cfd
                raise Rejected("307" if same else "CFDI3307", message=None if same else DUPLICATE_CUSTOMID,
                               data=self._data(first, version))
        checked = self._check(xml, version)
        with self._lock:
            # A copy of the same document (or the same customid) stamped meanwhile by another thread.
            uuid = self._by_sello.get(checked.sello) or (customid and self._by_customid.get(customid))
            if uuid:
                first = self._issued[uuid]
                first.answers += 1
                same = first.stamp.sello_cfd == checked.sello
                raise Rejected("307" if same else "CFDI3307", message=None if same else DUPLICATE_CUSTOMID,
                               data=self._data(first, version))
            if self._rejections:
                raise self._rejections.pop(0)
            issued = self._issue(checked, customid)
        return 200, {"data": self._data(issued, version), "status": "success"}

    def _issue(self, checked: Checked, customid: str | None) -> Issued:
        """Stamps a checked document and keeps it (called with the lock held)."""
        root = checked.root
        stamp = timbre.stamp(root, self.sat, self.clock())
        ns = {"cfdi": sat.CFDI_NS}
        emisor, receptor = root.find("cfdi:Emisor", ns), root.find("cfdi:Receptor", ns)
        emisor_rfc = emisor.get("Rfc", "") if emisor is not None else ""
        receptor_rfc = receptor.get("Rfc", "") if receptor is not None else ""
        total = root.get("Total", "")
        issued = Issued(stamp=stamp, customid=customid, emisor=emisor_rfc, receptor=receptor_rfc, total=total,
                        record=self._record(root, stamp), qr_code="")
        self._issued[stamp.uuid] = issued
        self._by_sello[checked.sello] = stamp.uuid
        self._stamps[stamp.uuid] += 1
        if customid is not None:
            self._by_customid[customid] = stamp.uuid
            self._stamps[customid] += 1
        return issued

    def _data(self, issued: Issued, version: str) -> dict:
        stamp = issued.stamp
        if version == "v1":
            return {"tfd": stamp.tfd}
        if version == "v2":
            return {"tfd": stamp.tfd, "cfdi": stamp.cfdi}
        if version == "v3":
            return {"cfdi": stamp.cfdi}
        if not issued.qr_code:
            issued.qr_code = timbre.qr_png_base64(timbre.verification_url(
                stamp.uuid, issued.emisor, issued.receptor, issued.total, stamp.sello_cfd))
        return {"cfdi": stamp.cfdi, "cadenaOriginalSAT": stamp.cadena_original_sat,
                "noCertificadoSAT": stamp.no_certificado_sat, "noCertificadoCFDI": stamp.no_certificado_cfdi,
                "uuid": stamp.uuid, "selloSAT": stamp.sello_sat, "selloCFDI": stamp.sello_cfd,
                "fechaTimbrado": stamp.fecha_timbrado, "qrCode": issued.qr_code}

    def _check(self, xml: bytes, version: str) -> Checked:
        """The checks of a document, in the order of the module's docstring; raises Rejected."""
        try:
            root = etree.fromstring(xml, sat.SAFE_PARSER)
        except etree.XMLSyntaxError as exc:
            raise Rejected("301", f"XML mal formado: {exc}") from None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise Rejected("301", "XML mal formado: no se admiten DTD ni entidades.")
        if root.tag != f"{{{sat.CFDI_NS}}}Comprobante" or root.get("Version") != "4.0":
            raise Rejected("301", f"El elemento raíz {root.tag!r} (Version {root.get('Version')!r}) no es un "
                                  "cfdi:Comprobante 4.0.")
        error = sat.schema_error(root)
        if error:
            raise Rejected("301", error)
        try:
            certificate = certificates.read(root.get("Certificado", ""))
        except certificates.Unreadable as exc:
            raise Rejected("302", str(exc)) from None
        number = certificates.number(certificate)
        if root.get("NoCertificado") != number:
            raise Rejected("302", f"NoCertificado {root.get('NoCertificado')!r} no es el número del "
                                  f"certificado ({number}).")
        sello = root.get("Sello", "")
        try:
            signature = base64.b64decode("".join(sello.split()), validate=True)
        except (binascii.Error, ValueError):
            raise Rejected("302", "El Sello no está en base64.") from None
        if not certificates.verify_sha256(certificate, signature, sat.cadena_original(root).encode("utf-8")):
            raise Rejected("302", "El Sello no corresponde a la cadena original del comprobante (SAT "
                                  "cadenaoriginal_4_0.xslt, RSA-SHA256) con el certificado del comprobante.")
        self._check_duplicate(root, sello, version)
        rfc = certificates.rfc(certificate)
        emisor = root.find(f"{{{sat.CFDI_NS}}}Emisor")
        emisor_rfc = emisor.get("Rfc", "") if emisor is not None else ""
        if rfc != emisor_rfc:
            raise Rejected("303", f"El certificado es de {rfc!r}; Emisor/@Rfc es {emisor_rfc!r}.")
        if not certificates.is_csd(certificate):
            raise Rejected("306", "El certificado no es un CSD (certificado de sello digital): su uso de "
                                  "llave es el de una FIEL (e.firma).")
        fecha = self._fecha(root)
        if not certificate.not_valid_before_utc <= fecha <= certificate.not_valid_after_utc:
            raise Rejected("305", f"Fecha {root.get('Fecha')} ({fecha.isoformat()}) fuera de la vigencia del "
                                  f"certificado ({certificate.not_valid_before_utc.isoformat()} a "
                                  f"{certificate.not_valid_after_utc.isoformat()}).")
        self._check_issuer(certificate)
        now = self.clock()
        if fecha < EARLIEST:
            raise Rejected("403", f"Fecha {root.get('Fecha')}.")
        if now - fecha > MAX_AGE:
            raise Rejected("401", f"Fecha {root.get('Fecha')} en {self._zone_label(root)} tiene más de 72 "
                                  "horas.")
        if fecha - now > MAX_AHEAD:
            latest = (now + MAX_AHEAD).astimezone(sat.zone(root.get("LugarExpedicion", "")))
            latest_text = latest.replace(tzinfo=None, microsecond=0).isoformat()
            raise Rejected("CFDI40101", f"Fecha {root.get('Fecha')} en {self._zone_label(root)} es posterior "
                                        f"a la fecha máxima permitida {latest_text}.")
        with self._lock:
            taxpayers = dict(self._taxpayers)
        finding = registry.check(root, taxpayers)
        if finding is None:
            findings = arithmetic.differences(root) or payments.differences(root)
            finding = findings[0] if findings else None
        if finding is not None:
            raise Rejected(finding.code, finding.detail)
        return Checked(root=root, sello=sello)

    def _check_duplicate(self, root: etree._Element, sello: str, version: str) -> None:
        with self._lock:
            uuid = self._by_sello.get(sello)
            first = self._issued.get(uuid or "")
            if first is not None:
                first.answers += 1
        if first is not None:
            raise Rejected("307", data=self._data(first, version))
        tfd = root.find(f"{{{sat.CFDI_NS}}}Complemento/{{{sat.TFD_NS}}}TimbreFiscalDigital")
        if tfd is not None:
            raise Rejected("307", f"El comprobante ya tiene el timbre {tfd.get('UUID')}.")

    def _fecha(self, root: etree._Element) -> datetime:
        try:
            local = datetime.fromisoformat(root.get("Fecha", ""))
        except ValueError:
            raise Rejected("CFDI40101", f"Fecha {root.get('Fecha')!r}.") from None
        return local.replace(tzinfo=sat.zone(root.get("LugarExpedicion", ""))).astimezone(UTC)

    @staticmethod
    def _zone_label(root: etree._Element) -> str:
        place = root.get("LugarExpedicion", "")
        return f"{sat.zip_zone_name(place) or 'Tiempo del Centro'} ({place})"

    def _check_issuer(self, certificate: x509.Certificate) -> None:
        if certificates.issued_by_any(certificate, self.production_cas):
            return
        if self.mode == "test":
            if self.accept_any_issuer:
                return
            if self.test_cas is not None:
                if certificates.issued_by_any(certificate, self.test_cas):
                    return
            elif certificates.named_sat_test_authority(certificate):
                return
        issuer = certificate.issuer.rfc4514_string()
        where = ("una autoridad de producción del SAT" if self.mode == "production"
                 else "una autoridad del SAT (producción o pruebas)")
        raise Rejected("308", f"El certificado no fue emitido por {where}: emisor {issuer[:200]}.")

    # -- recovery ----------------------------------------------------------------------------------

    def recover(self, uuid: str, authorization: str | None) -> tuple[int, dict]:
        self.check_token(authorization)
        with self._lock:
            issued = self._issued.get(uuid.upper())
            records = [dict(issued.record)] if issued is not None else []
        for record in records:
            record["urlXml"] = f"{self.url}/datawarehouse/files/{record['uuid']}.xml"
        meta = {"page": "1", "perPage": "10", "pageCount": "1" if records else "0",
                "totalCount": str(len(records)),
                "links": {"current": f"{self.url}/datawarehouse/v1/live/{uuid}"}}
        return 200, {"data": {"metaData": meta, "records": records}, "status": "success"}

    # -- SAT's status service -------------------------------------------------------------------------

    def sat_status(self, body: bytes) -> tuple[int, bytes]:
        """SAT's Consulta for a SOAP request (local.pac.sat_status): the documents this simulator
        stamped are Vigente or, once cancelled, Cancelado; any other No Encontrado. A query of a CFDI
        whose cancellation waits for its receiver counts towards the receiver's answer."""
        try:
            query = sat_status.read_request(body)
        except ValueError as exc:
            return 500, sat_status.fault(str(exc))
        with self._lock:
            issued = self._issued.get(query.get("id", "").upper())
            found = issued is not None and sat_status.matches(query, issued.emisor, issued.receptor, issued.total)
            process = self._cancellations.get(issued.stamp.uuid) if found else None
            if process is not None:
                process.polled()
            estado, estatus = (process.estado, process.estatus) if process is not None else ("Vigente", None)
            blocked = found and bool(self._active_payments(issued.stamp.uuid))
        if not found:
            return 200, sat_status.answer_not_found()
        cancelable = (sat_status.NOT_CANCELABLE if estado == "Cancelado" or blocked
                      else sat_status.cancelable(issued.record, issued.receptor))
        return 200, sat_status.answer_found(estado=estado, cancelable=cancelable, estatus_cancelacion=estatus)

    def cancel(self, uuid: str) -> None:
        """Marks a stamped document as cancelled at the simulated SAT, without acceptance (a test hook:
        `POST /cfdi33/cancel/xml` is the PAC's way)."""
        with self._lock:
            self._cancellations[uuid.upper()] = cancellation.Process.start("02", "", False, 0, "accept")

    # -- cancellation ------------------------------------------------------------------------------

    def cancel_request(self, xml: bytes | None, authorization: str | None) -> tuple[int, dict]:
        """SW's `POST /cfdi33/cancel/xml` (local.pac.cancellation)."""
        self.check_token(authorization)
        if not xml or not xml.strip():
            raise Rejected("301", message="301 - XML mal formado: no se recibió la solicitud de cancelación.")
        try:
            request = cancellation.read(xml)
        except cancellation.RequestRefused as refused:
            raise Rejected(refused.code, message=str(refused)) from None
        with self._lock:
            codes = {folio.uuid: self._cancel_folio(request.rfc, folio) for folio in request.folios}
        return 200, {"data": {"acuse": cancellation.acuse(request, codes, self.clock()), "uuid": codes},
                     "status": "success"}

    def _cancel_folio(self, rfc: str, folio: cancellation.Folio) -> str:
        """SAT's code for one folio; starts its cancellation when taken (called with the lock held)."""
        issued = self._issued.get(folio.uuid)
        if issued is None:
            return "205"
        if issued.emisor.upper() != rfc.upper():
            return "203"
        current = self._cancellations.get(folio.uuid)
        if current is not None and current.cancelled:
            return "202"
        if folio.motive not in cancellation.MOTIVES:
            return "207"
        if folio.motive == "01":
            substitute = self._issued.get(folio.substitute)
            if substitute is None or (cancellation.SUBSTITUTION, folio.uuid) not in cancellation.relations(
                    substitute.stamp.cfdi)[1]:
                return "208"
        elif folio.substitute:
            return "209"
        if self._active_payments(folio.uuid):
            return "204"
        if current is not None and current.open:
            return "201"  # the same request again: the process under way goes on
        needs = sat_status.cancelable(issued.record, issued.receptor) == sat_status.WITH_ACCEPTANCE
        self._cancellations[folio.uuid] = cancellation.Process.start(
            folio.motive, folio.substitute, needs, self.cancellation_polls, self.cancellation_acceptance)
        return "201"

    def _active_payments(self, uuid: str) -> list[str]:
        """UUIDs of payment CFDIs (P) stamped here that relate to `uuid` and are not cancelled (called
        with the lock held)."""
        found = []
        for other, issued in self._issued.items():
            if issued.record.get("tipoDeComprobante") != "P" or other == uuid:
                continue
            process = self._cancellations.get(other)
            if process is not None and process.cancelled:
                continue
            if any(related == uuid for _, related in cancellation.relations(issued.stamp.cfdi)[1]):
                found.append(other)
        return found

    def stamped_xml(self, uuid: str) -> str | None:
        """The stamped document of a UUID this simulator issued; None when unknown."""
        with self._lock:
            issued = self._issued.get(uuid.upper())
        return issued.stamp.cfdi if issued is not None else None

    @staticmethod
    def _record(root: etree._Element, stamp: timbre.Stamp) -> dict:
        """SW's datawarehouse record of a stamped document (the fields a client reads; amounts as
        JSON numbers, as SW answers them)."""
        ns = {"cfdi": sat.CFDI_NS}
        emisor = root.find("cfdi:Emisor", ns)
        receptor = root.find("cfdi:Receptor", ns)
        impuestos = root.find("cfdi:Impuestos", ns)

        def number(element: etree._Element | None, name: str) -> float:
            try:
                return float(Decimal(element.get(name, "0"))) if element is not None else 0.0
            except InvalidOperation:
                return 0.0

        def text(element: etree._Element | None, name: str) -> str | None:
            return element.get(name) if element is not None else None

        return {
            "uuid": stamp.uuid, "status": "vigente", "version": root.get("Version"),
            "serie": root.get("Serie"), "folio": root.get("Folio"), "fecha": root.get("Fecha"),
            "numeroCertificado": root.get("NoCertificado"),
            "subtotal": number(root, "SubTotal"), "descuento": number(root, "Descuento"),
            "total": number(root, "Total"), "moneda": root.get("Moneda"),
            "tipoCambio": number(root, "TipoCambio") or 1.0,
            "tipoDeComprobante": root.get("TipoDeComprobante"),
            "metodoPago": root.get("MetodoPago"), "formaPago": root.get("FormaPago"),
            "condicionesPago": root.get("CondicionesDePago"), "luegarExpedicion": root.get("LugarExpedicion"),
            "rfcEmisor": text(emisor, "Rfc"), "nombreEmisor": text(emisor, "Nombre"),
            "regimenFiscal": text(emisor, "RegimenFiscal"), "rfcReceptor": text(receptor, "Rfc"),
            "nombreReceptor": text(receptor, "Nombre"),
            "residenciaFiscal": text(receptor, "ResidenciaFiscal"),
            "numRegIdTrib": text(receptor, "NumRegIdTrib"), "usoCFDI": text(receptor, "UsoCFDI"),
            "totalImpuestosTraslados": number(impuestos, "TotalImpuestosTrasladados"),
            "totalImpuestosRetencion": number(impuestos, "TotalImpuestosRetenidos"),
            "fechaTimbrado": stamp.fecha_timbrado, "rfcProvCertif": timbre.RFC_PROV_CERTIF,
            "selloCFD": stamp.sello_cfd, "hasAddenda": root.find("cfdi:Addenda", ns) is not None,
            "urlXml": None, "urlPdf": None, "urlAckCfdi": None, "urlAckCancellation": None,
        }


def _sello_of(xml: bytes) -> str | None:
    try:
        return etree.fromstring(xml, sat.SAFE_PARSER).get("Sello")
    except etree.XMLSyntaxError:
        return None


def multipart_field(content_type: str, body: bytes, name: str) -> bytes | None:
    """The content of a multipart/form-data field; None when the body has no such field."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1") + body)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            return part.get_payload(decode=True) or b""
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PacSimulator"
    disable_nagle_algorithm = True  # headers and body leave in two writes: do not wait for the ACK between

    @property
    def simulator(self) -> PacSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _answer(self, status: int, answer: Any) -> None:
        if isinstance(answer, bytes):  # SAT's status service: SOAP
            self._send(status, answer, "text/xml; charset=utf-8")
        elif isinstance(answer, str):
            self._send(status, answer.encode(), "text/plain; charset=utf-8")
        else:
            self._json(status, answer)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _path(self) -> str:
        return re.sub(r"/{2,}", "/", urlsplit(self.path).path)  # satcfdi's client writes "//security/…"

    def _service(self, service: str, run: Callable[[], tuple[int, Any]]) -> None:
        try:
            status, answer = self.simulator.handle(service, run)
        except Hold:
            self.close_connection = True
            self.simulator.hold(self.connection)
            return
        except Exception:  # a bug here must look like a server error to the client, as SW's would
            log.exception("PAC simulator failed on a %s request", service)
            status, answer = 500, {"message": "CO1000 - Error no controlado.", "messageDetail": None,
                                   "data": None, "status": "error"}
        self._answer(status, answer)

    def do_GET(self) -> None:
        path = self._path()
        sim = self.simulator
        if path == f"{ADMIN_PATH}/state":
            self._json(200, sim.state())
        elif path == f"{ADMIN_PATH}/sat-certificate":
            self._json(200, {"no_certificado": sim.sat.number, "pem": sim.sat.pem,
                             "der": base64.b64encode(sim.sat.der).decode("ascii")})
        elif path == f"{ADMIN_PATH}/sat-certificate.cer":
            self._send(200, sim.sat.der, "application/pkix-cert")
        elif path == f"{ADMIN_PATH}/sat-certificate.pem":
            self._send(200, sim.sat.pem.encode(), "application/x-pem-file")
        elif match := RECOVER_PATH.fullmatch(path):
            self._service("recover", lambda: sim.recover(match.group(1), self.headers.get("Authorization")))
        elif match := FILE_PATH.fullmatch(path):
            xml = sim.stamped_xml(match.group(1))
            if xml is None:
                self._send(404, b"Not Found", "text/plain; charset=utf-8")
            else:
                self._send(200, xml.encode("utf-8"), "application/xml; charset=utf-8")
        elif path in AUTH_PATHS or STAMP_PATH.fullmatch(path) or path in (f"{ADMIN_PATH}/config",
                                                                           f"{ADMIN_PATH}/reset"):
            self._send(405, b"Method Not Allowed", "text/plain; charset=utf-8")
        else:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        path = self._path()
        body = self._body()
        sim = self.simulator
        if path == AUTH_PATHS[0]:
            self._service("authenticate", lambda: sim.authenticate(self.headers.get("user"),
                                                                   self.headers.get("password")))
        elif path == AUTH_PATHS[1]:
            self._service("authenticate", lambda: sim.authenticate(*_credentials(body)))
        elif match := STAMP_PATH.fullmatch(path):
            def run() -> tuple[int, Any]:
                xml = _xml(self.headers, body, encoded=bool(match.group(2)))
                return sim.stamp(match.group(1), xml, self.headers.get("customid"),
                                 self.headers.get("Authorization"))

            self._service("stamp", run)
        elif path == STATUS_PATH:
            self._service("status", lambda: sim.sat_status(body))
        elif path == cancellation.CANCEL_PATH:
            self._service("cancel", lambda: sim.cancel_request(
                multipart_field(self.headers.get("Content-Type", ""), body, "xml"),
                self.headers.get("Authorization")))
        elif path == f"{ADMIN_PATH}/config":
            try:
                sim.configure(json.loads(body or b"{}"))
            except ValueError as exc:  # json.JSONDecodeError included
                self._json(400, {"error": str(exc)})
                return
            self._json(200, sim.state())
        elif path == f"{ADMIN_PATH}/reset":
            sim.reset()
            self._json(200, sim.state())
        elif RECOVER_PATH.fullmatch(path) or path.startswith(f"{ADMIN_PATH}/sat-certificate"):
            self._send(405, b"Method Not Allowed", "text/plain; charset=utf-8")
        else:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")


def _credentials(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    user, password = data.get("user"), data.get("password")
    return (user if isinstance(user, str) else None), (password if isinstance(password, str) else None)


def _xml(headers, body: bytes, *, encoded: bool) -> bytes | None:
    """The `xml` field of a stamp request (base64-decoded for the /b64 form); None when absent."""
    xml = multipart_field(headers.get("Content-Type", ""), body, "xml")
    if xml is not None and encoded:
        try:
            xml = base64.b64decode(b"".join(xml.split()), validate=True)
        except (binascii.Error, ValueError):
            return b"\x00not base64"  # refused as XML that is not well-formed
    return xml


def main(argv: list[str] | None = None) -> None:
    """`python -m local.pac.simulator`: runs the simulator in the foreground until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m local.pac.simulator",
                                     description="A local PAC speaking SW Sapien's REST contract.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3002, help="0 picks a free port (default 3002)")
    parser.add_argument("--mode", choices=MODES, default="test")
    parser.add_argument("--test-cas", help="SAT's test CA certificates (a zip of .cer files, or one .cer)")
    parser.add_argument("--production-cas",
                        help="SAT production CA certificates besides satcfdi's (a zip of .cer files, "
                             "or one .cer)")
    parser.add_argument("--accept-any-issuer", action="store_true")
    args = parser.parse_args(argv)
    simulator = PacSimulator(args.host, args.port, mode=args.mode, test_cas=args.test_cas,
                             production_cas=args.production_cas,
                             accept_any_issuer=args.accept_any_issuer).start()
    print(f"PAC simulator on {simulator.url} (user {simulator.user!r}, password {simulator.password!r}, "
          f"mode {simulator.mode}); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
