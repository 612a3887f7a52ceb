"""The PAC port (who stamps a sealed CFDI) and its SW sapien adapter (REST, JSON, httpx).

A PAC (proveedor autorizado de certificación) validates a CFDI the issuer has sealed and, when SAT's
rules hold, stamps it: it adds the Timbre Fiscal Digital (UUID, FechaTimbrado, SelloSAT) that makes
the CFDI fiscally valid; it also takes the issuer's requests to cancel one. `Pac` is what the Mexico
plugin needs from one (SAT's status of a CFDI comes from SAT's own service: sat_status).

SW sapien's contract, as this adapter speaks it (base URLs and credentials per environment come from
settings: a test API key's documents go to SW's sandbox, a live key's to production):

- `POST {services}/security/authenticate` with headers `user` and `password` gives a token and its
  `expires_in`. The token is kept per process and environment and reused until a few minutes before
  it expires; a call answered 401 (or with an `AU…` code) with a kept token authenticates again,
  once. SW refusing the credentials themselves is `PacAuthenticationFailed`: the operator's problem,
  never the caller's.
- `POST {services}/v4/cfdi33/stamp/v4`, multipart field `xml`, header `customid`, bearer token: the
  stamp ("v4" answer: uuid, cfdi, fechaTimbrado, noCertificadoSAT…). The customid (≤ 100
  characters, chosen from the document by the caller) is SW's idempotency key: sending the same
  document again within 72 hours never stamps it twice.
- `GET {api}/datawarehouse/v1/live/{uuid}`: a stamped CFDI's record, whose `urlXml` is where the
  XML is downloaded from (that URL is not given the token).
- `POST {services}/cfdi33/cancel/xml`, multipart field `xml`, bearer token: SAT's cancellation request
  signed by the issuer (countries.mx.cancellation), answered with `data.acuse` (SAT's receipt, XML)
  and `data.uuid` {uuid: SAT's code}: 201 request taken, 202 already cancelled (both `CancelResult`);
  any other code, or an error answer, is `CancelRejected` with SAT's code and Sello's reason.

Answers, mapped:
- success → StampResult, read from the stamped XML itself (its TFD), not from the JSON beside it;
- 307 "timbre previo" (the same CFDI sent again) and CFDI3307 (the same customid with a re-sealed
  copy) → the existing stamp, taken from the answer when it carries the CFDI, else recovered from
  the datawarehouse by the UUID of the TFD it carries: a success (`previously_stamped`), never an
  error;
- 301 (with the nested CFDI40xxx of SAT's matrix), 302–308, 333, 401–404, CO/CC structure codes →
  `StampRejected`, whose messages carry SW's code and text, Sello's stable `reason` and, for the
  CFDI40xxx codes that name a field of the request, its `path` (the tables below);
- timeouts, connection errors, HTTP 5xx, 408 and 429, SW's CO1000 (its own uncontrolled error) and
  answers that cannot be read → `AuthorityUnavailable`: the workflow tries again later, and the
  customid makes that safe.

Nothing here logs or reports the document, the credentials or the token."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage
from sello.settings import Settings, get_settings

log = logging.getLogger(__name__)

Environment = Literal["test", "live"]
CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
TFD_TAG = f"{{{TFD_NS}}}TimbreFiscalDigital"
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

MAX_CUSTOMID = 100  # SW's limit
_CUSTOMID = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII, no spaces: safe in a header
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# SW writes its code at the start of `message`: "307. El comprobante…", "CFDI3307 - Timbre…",
# "AU2000 - El usuario…"; SAT's CFDI 4.0 matrix codes may also appear inside the text of a 301.
_LEADING_CODE = re.compile(r"^\s*(?P<code>[A-Z]{0,6}\d{3,6})\b")
_MATRIX_CODE = re.compile(r"\bCFDI40\d{3}\b")

# A token is renewed this long before SW says it expires (or halfway, for a shorter-lived one).
TOKEN_RENEWAL_MARGIN_SECONDS = 300
# How long a token is kept when SW's answer does not say (its tokens last about two hours).
TOKEN_DEFAULT_SECONDS = 600
# `expires_in` above this is a Unix time (SW has answered both ways), below it a number of seconds.
_EPOCH_THRESHOLD = 10 ** 9

PREVIOUSLY_STAMPED = {"307", "CFDI3307"}
UNCONTROLLED = {"CO1000"}  # SW: "Uncontrolled error": its own failure, worth another try later
UNAVAILABLE_STATUSES = {408, 429}

# Sello's stable names for SW's own codes and SAT's PAC-level codes (SW's error-codes page).
PAC_REASONS = {
    "301": "invalid_structure",
    "302": "invalid_seal",
    "303": "certificate_rfc_mismatch",
    "304": "certificate_revoked",
    "305": "certificate_not_valid_at_date",
    "306": "certificate_not_csd",
    "308": "certificate_not_from_sat",
    "333": "invalid_structure",
    "401": "date_out_of_range",
    "402": "issuer_not_in_lco",
    "403": "date_before_2011",
    "404": "issue_date_after_stamp",
    "CO1001": "invalid_structure", "CO1002": "invalid_structure", "CO1003": "invalid_structure",
    "CO1004": "invalid_structure", "CO1005": "invalid_structure", "CC2001": "invalid_structure",
    "CC3001": "invalid_structure", "CC3002": "invalid_structure",
}
# SAT's CFDI 4.0 matrix codes a PAC reports (usually inside a 301): Sello's reason and the field of
# the Mexico document request the rule is about ("" when the value is not the caller's: Fecha and the
# seal are Sello's, the issuer's name comes from its registration, amounts are computed).
MATRIX_CODES: dict[str, tuple[str, str]] = {
    "CFDI40101": ("invalid_issue_date", ""),
    "CFDI40102": ("invalid_seal", ""),
    "CFDI40103": ("payment_form_not_allowed", "payment_form"),
    "CFDI40105": ("payment_form_must_be_99", "payment_form"),
    "CFDI40108": ("subtotal_mismatch", ""),
    "CFDI40119": ("total_mismatch", ""),
    "CFDI40138": ("issuer_not_registered", ""),
    "CFDI40139": ("issuer_name_mismatch", ""),
    "CFDI40143": ("customer_tax_id_not_registered", "customer.tax_id"),
    "CFDI40145": ("customer_name_mismatch", "customer.name"),
    "CFDI40148": ("customer_zip_mismatch", "customer.zip"),
    "CFDI40157": ("customer_tax_regime_invalid", "customer.tax_regime"),
    "CFDI40158": ("customer_tax_regime_not_allowed", "customer.tax_regime"),
    "CFDI40159": ("customer_tax_regime_mismatch", "customer.tax_regime"),
    "CFDI40160": ("cfdi_use_invalid", "customer.cfdi_use"),
    "CFDI40161": ("cfdi_use_not_allowed", "customer.cfdi_use"),
    "CFDI40170": ("tax_object_invalid", "items"),
    "CFDI40171": ("tax_object_requires_taxes", "items"),
    "CFDI40172": ("tax_object_forbids_taxes", "items"),
    "CFDI40212": ("tax_total_missing", ""),
    "CFDI40215": ("tax_amount_mismatch", ""),
    "CFDI40221": ("tax_amount_mismatch", ""),
}


# SAT's codes in the answer to a cancellation request (per UUID in the acuse, or at the start of an error
# message): Sello's stable reasons. 201 and 202 are not refusals.
CANCEL_TAKEN = {"201", "202"}
CANCEL_REASONS = {
    "203": "not_issuers_document",
    "204": "not_cancelable",
    "205": "document_not_found",
    "207": "invalid_motive",
    "208": "invalid_substitute",
    "209": "substitute_not_required",
    "210": "cancellation_period_over",
    "211": "cancellation_period_over",
    "212": "invalid_relation",
    # The request's own structure, seal and certificate: the same codes as a stamp's.
    **{code: PAC_REASONS[code] for code in ("301", "302", "303", "304", "305", "306", "308")},
}


# The port ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StampResult:
    uuid: str  # the TFD's UUID (folio fiscal)
    xml: bytes  # the stamped CFDI, byte for byte as the PAC gave it
    stamped_at: str  # the TFD's FechaTimbrado, as written (Mexico's central time, no offset)
    sat_certificate_number: str  # the TFD's NoCertificadoSAT
    previously_stamped: bool = False  # the PAC already held this stamp (a document sent again)


@dataclass(frozen=True)
class PacMessage(AuthorityMessage):
    """An AuthorityMessage with the request field it is about ("" when none or not known)."""

    path: str = ""

    def to_item(self) -> dict:
        item = super().to_item()
        if self.path:
            item["path"] = self.path
        return item


class StampRejected(Exception):
    """The PAC refused the CFDI for something in it: sending it again as it is changes nothing."""

    def __init__(self, messages: tuple[PacMessage, ...]):
        self.messages = messages
        first = messages[0]
        super().__init__(f"The PAC refused the CFDI: {first.code} ({first.reason or 'no reason mapped'}).")

    @property
    def reason(self) -> str:
        return self.messages[0].reason

    @property
    def path(self) -> str:
        """The first request field the refusal names ("" when none)."""
        return next((m.path for m in self.messages if m.path), "")


@dataclass(frozen=True)
class CancelResult:
    acuse: bytes  # SAT's receipt of the request, as the PAC gave it
    code: str  # SAT's code for the UUID: 201 taken, 202 already cancelled


class CancelRejected(Exception):
    """The PAC or SAT refused the cancellation request: sending it again as it is changes nothing."""

    def __init__(self, messages: tuple[PacMessage, ...], acuse: bytes = b""):
        self.messages, self.acuse = messages, acuse
        super().__init__(f"The cancellation was refused: {messages[0].code} ({messages[0].reason or 'no reason'}).")


def cancel_message(code: str, message: str, detail: str = "") -> PacMessage:
    return PacMessage(code=code, message=message, detail=detail, reason=CANCEL_REASONS.get(code, ""))


class PacAuthenticationFailed(Exception):
    """The PAC refused Sello's own credentials, or none are configured for the environment: an
    operator's problem (settings, Secrets Manager, the PAC account), not the caller's."""

    code = "pac_authentication_failed"


class Pac(Protocol):
    def stamp(self, signed_xml: bytes, customid: str) -> StampResult:
        """Stamps a sealed CFDI; `customid` (≤ 100 printable ASCII characters, derived from the
        document) makes a repeated call return the first stamp. StampRejected, AuthorityUnavailable,
        PacAuthenticationFailed otherwise."""

    def recover(self, uuid: str) -> StampResult | None:
        """The stamped CFDI with that UUID, or None when the PAC has none (yet)."""

    def cancel(self, uuid: str, request_xml: bytes) -> CancelResult:
        """Sends SAT's cancellation request of `uuid`, signed by the issuer. CancelRejected,
        AuthorityUnavailable, PacAuthenticationFailed otherwise."""


# Reading SW's answers -------------------------------------------------------------------------------

def _code(text: str) -> str:
    found = _LEADING_CODE.match(text or "")
    return found.group("code") if found else ""


def rejection_messages(message: str, detail: str = "") -> tuple[PacMessage, ...]:
    """Sello's messages for one SW error answer: one per SAT matrix code it names, with that code's
    reason and field (an unknown one gets the reason of SW's own code), else one for SW's code."""
    own = _code(message)
    fallback = PAC_REASONS.get(own, "")
    matrix = list(dict.fromkeys(_MATRIX_CODE.findall(f"{message}\n{detail}")))
    if not matrix:
        return (PacMessage(code=own, message=message, detail=detail, reason=fallback),)
    return tuple(PacMessage(code=code, message=message, detail=detail,
                            reason=MATRIX_CODES.get(code, (fallback, ""))[0],
                            path=MATRIX_CODES.get(code, ("", ""))[1])
                 for code in matrix)


def _tfd_of(xml: bytes) -> etree._Element:
    """The Timbre Fiscal Digital of a stamped CFDI 4.0; AuthorityUnavailable when the bytes are not one."""
    try:
        root = etree.fromstring(xml, SAFE_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise AuthorityUnavailable("The PAC gave a stamped CFDI that is not XML.") from None
    if root.tag != f"{{{CFDI_NS}}}Comprobante":
        raise AuthorityUnavailable("The PAC gave a stamped document that is not a CFDI 4.0.")
    tfd = next(root.iter(TFD_TAG), None)
    if tfd is None or not tfd.get("UUID"):
        raise AuthorityUnavailable("The PAC gave a CFDI without a Timbre Fiscal Digital.")
    if tfd.get("SelloCFD") != root.get("Sello"):
        raise AuthorityUnavailable("The PAC gave a CFDI whose Timbre Fiscal Digital seals another Sello.")
    return tfd


def stamp_result(xml: bytes, *, previously_stamped: bool = False) -> StampResult:
    tfd = _tfd_of(xml)
    return StampResult(uuid=tfd.get("UUID"), xml=xml, stamped_at=tfd.get("FechaTimbrado", ""),
                       sat_certificate_number=tfd.get("NoCertificadoSAT", ""),
                       previously_stamped=previously_stamped)


def _tfd_uuid(tfd_xml: str) -> str:
    try:
        root = etree.fromstring(tfd_xml.encode("utf-8"), SAFE_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return ""
    tfd = root if root.tag == TFD_TAG else next(root.iter(TFD_TAG), None)
    return (tfd.get("UUID") or "") if tfd is not None else ""


# Credentials and tokens ------------------------------------------------------------------------------

def parse_credentials(value: str) -> tuple[str, str]:
    """(user, password) from "user:password" (split at the first colon) or JSON {"user", "password"}."""
    value = value.strip()
    user = password = ""
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            data = None
        if isinstance(data, dict):
            user = str(data.get("user") or data.get("username") or "")
            password = str(data.get("password") or "")
    else:
        user, _, password = value.partition(":")
    if not user.strip() or not password:
        raise PacAuthenticationFailed("The PAC credentials are not 'user:password' nor JSON with user and "
                                      "password.")
    return user.strip(), password


_secret_values: dict[str, str] = {}
_secrets_lock = threading.Lock()


def read_secret(secret_id: str) -> str:
    """A Secrets Manager secret's value, read once per process (until `forget_secret`)."""
    with _secrets_lock:
        if secret_id in _secret_values:
            return _secret_values[secret_id]
    from botocore.exceptions import BotoCoreError, ClientError

    from sello.adapters import aws

    try:
        value = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure",
                    "InvalidRequestException", "InvalidParameterException"}:
            raise PacAuthenticationFailed(f"The PAC credentials secret cannot be read ({code}).") from None
        raise AuthorityUnavailable(f"Secrets Manager failed reading the PAC credentials ({code}).") from None
    except BotoCoreError as exc:
        raise AuthorityUnavailable(f"Secrets Manager could not be reached ({type(exc).__name__}).") from None
    with _secrets_lock:
        _secret_values[secret_id] = value
    return value


def forget_secret(secret_id: str) -> None:
    with _secrets_lock:
        _secret_values.pop(secret_id, None)


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # Unix time after which it is not used again


# (environment, services URL, user) -> token: one per process, shared by every client.
_tokens: dict[tuple[str, str, str], _Token] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drops every kept token (tests; a process that changes accounts)."""
    with _tokens_lock:
        _tokens.clear()


def _renew_at(expires_in: Any, now: float) -> float:
    try:
        value = float(expires_in)
    except (TypeError, ValueError):
        return now + TOKEN_DEFAULT_SECONDS
    expires_at = value if value > _EPOCH_THRESHOLD else now + value
    lifetime = expires_at - now
    if lifetime <= 0:
        return now  # already stale: used for this call only
    return expires_at - min(TOKEN_RENEWAL_MARGIN_SECONDS, lifetime / 2)


# The adapter -------------------------------------------------------------------------------------------

class SwSapienClient:
    """SW sapien for one environment. One client per warm function: its HTTP connections are reused;
    tokens are shared by every client of the process."""

    def __init__(self, settings: Settings | None = None, environment: Environment = "test", *,
                 transport: httpx.BaseTransport | None = None, clock: Callable[[], float] = time.time):
        if environment not in ("test", "live"):
            raise ValueError(f"environment must be 'test' or 'live', not {environment!r}")
        self.settings = settings or get_settings()
        self.environment = environment
        self.clock = clock
        self.services_url = getattr(self.settings, f"sw_{environment}_url").rstrip("/")
        self.api_url = getattr(self.settings, f"sw_{environment}_api_url").rstrip("/")
        self._http = httpx.Client(transport=transport, trust_env=False, follow_redirects=False,
                                  timeout=httpx.Timeout(self.settings.sw_timeout_seconds))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SwSapienClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the port ---------------------------------------------------------------------------------

    def stamp(self, signed_xml: bytes, customid: str) -> StampResult:
        if not _CUSTOMID.match(customid or ""):
            raise ValueError(f"customid must be 1 to {MAX_CUSTOMID} printable ASCII characters, no spaces")
        url = f"{self.services_url}/v4/cfdi33/stamp/v4"

        def send(token: str) -> httpx.Response:
            return self._send("POST", url, headers={"Authorization": f"Bearer {token}", "customid": customid},
                              files={"xml": ("cfdi.xml", signed_xml, "text/xml")})

        response = self._with_token(send)
        body = self._body(response, url)
        message, detail = str(body.get("message") or ""), str(body.get("messageDetail") or "")
        code = _code(message)
        if response.is_success and body.get("status") == "success":
            data = body.get("data") if isinstance(body.get("data"), dict) else {}
            result = stamp_result(str(data.get("cfdi") or "").encode("utf-8"))
            log.info("PAC stamped %s (customid %s)", result.uuid, customid)
            return result
        if code in PREVIOUSLY_STAMPED:
            return self._previous_stamp(body, code, customid)
        if code in UNCONTROLLED:
            raise AuthorityUnavailable(f"The PAC answered {code} (its own uncontrolled error) at {url}.")
        if response.is_success:
            raise AuthorityUnavailable(f"The PAC answered HTTP {response.status_code} without a stamp or an "
                                       f"error at {url}.")
        messages = rejection_messages(message, detail)
        log.info("PAC refused customid %s: %s", customid, [(m.code, m.reason) for m in messages])
        raise StampRejected(messages)

    def recover(self, uuid: str) -> StampResult | None:
        if not _UUID.match(uuid or ""):
            raise ValueError("uuid must be a UUID")
        url = f"{self.api_url}/datawarehouse/v1/live/{uuid}"
        response = self._with_token(
            lambda token: self._send("GET", url, headers={"Authorization": f"Bearer {token}"}))
        if response.status_code == 404:
            return None
        body = self._body(response, url)
        if not (response.is_success and body.get("status") == "success"):
            raise AuthorityUnavailable(f"The PAC's datawarehouse answered HTTP {response.status_code} "
                                       f"({_code(str(body.get('message') or '')) or 'no code'}) at {url}.")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        records = [r for r in data.get("records") or [] if isinstance(r, dict)]
        record = (next((r for r in records if str(r.get("uuid") or "").lower() == uuid.lower()), None)
                  or next((r for r in records if not r.get("uuid")), None))
        if record is None:
            return None
        location = str(record.get("urlXml") or "")
        if urlsplit(location).scheme not in ("https", "http"):
            raise AuthorityUnavailable(f"The PAC lists {uuid} but its XML cannot be downloaded yet.")
        result = stamp_result(self._download(location), previously_stamped=True)
        if result.uuid.lower() != uuid.lower():
            raise AuthorityUnavailable(f"The PAC's datawarehouse gave another CFDI for {uuid}.")
        return result

    def cancel(self, uuid: str, request_xml: bytes) -> CancelResult:
        if not _UUID.match(uuid or ""):
            raise ValueError("uuid must be a UUID")
        url = f"{self.services_url}/cfdi33/cancel/xml"
        response = self._with_token(lambda token: self._send(
            "POST", url, headers={"Authorization": f"Bearer {token}"},
            files={"xml": ("cancelacion.xml", request_xml, "text/xml")}))
        body = self._body(response, url)
        message, detail = str(body.get("message") or ""), str(body.get("messageDetail") or "")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if response.is_success and body.get("status") == "success":
            codes = data.get("uuid") if isinstance(data.get("uuid"), dict) else {}
            code = str(next((v for k, v in codes.items() if str(k).upper() == uuid.upper()), "") or "")
            acuse = str(data.get("acuse") or "").encode("utf-8")
            if code in CANCEL_TAKEN:
                log.info("PAC took the cancellation of %s (%s)", uuid, code)
                return CancelResult(acuse=acuse, code=code)
            if not code:
                raise AuthorityUnavailable(f"The PAC's answer to the cancellation of {uuid} names no code for it.")
            raise CancelRejected((cancel_message(code, f"SAT answered {code} for the cancellation."),), acuse)
        code = _code(message)
        if code in UNCONTROLLED:
            raise AuthorityUnavailable(f"The PAC answered {code} (its own uncontrolled error) at {url}.")
        if response.is_success:
            raise AuthorityUnavailable(f"The PAC answered HTTP {response.status_code} without an acuse or an "
                                       f"error at {url}.")
        log.info("PAC refused the cancellation of %s: %s", uuid, code or "no code")
        raise CancelRejected((cancel_message(code, message, detail),))

    # -- 307 ------------------------------------------------------------------------------------------

    def _previous_stamp(self, body: dict, code: str, customid: str) -> StampResult:
        """The stamp the PAC already made: the CFDI in the answer, else the datawarehouse's by the UUID
        of the TFD (or UUID) in the answer."""
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        cfdi = str(data.get("cfdi") or "")
        if cfdi:
            result = stamp_result(cfdi.encode("utf-8"), previously_stamped=True)
        else:
            uuid = str(data.get("uuid") or "") or _tfd_uuid(str(data.get("tfd") or ""))
            if not _UUID.match(uuid):
                raise AuthorityUnavailable(f"The PAC answered {code} (already stamped) without saying which "
                                           "stamp; trying again later.")
            recovered = self.recover(uuid)
            if recovered is None:
                raise AuthorityUnavailable(f"The PAC answered {code} for {uuid}, not in its datawarehouse "
                                           "yet.")
            result = recovered
        log.info("PAC had already stamped customid %s as %s (%s)", customid, result.uuid, code)
        return result

    # -- tokens ---------------------------------------------------------------------------------------

    def _credentials(self) -> tuple[str, str, str]:
        """(user, password, secret id or "")."""
        plain = getattr(self.settings, f"sw_{self.environment}_credentials").get_secret_value()
        if plain:
            return (*parse_credentials(plain), "")
        secret_id = getattr(self.settings, f"sw_{self.environment}_credentials_secret")
        if not secret_id:
            raise PacAuthenticationFailed(f"No PAC credentials are configured for the {self.environment} "
                                          f"environment (settings sw_{self.environment}_credentials_secret).")
        return (*parse_credentials(read_secret(secret_id)), secret_id)

    def _token(self) -> tuple[str, tuple[str, str, str], bool]:
        """A token (kept or new), its cache key, and whether it was kept from an earlier call."""
        user, password, secret_id = self._credentials()
        key = (self.environment, self.services_url, user)
        with _tokens_lock:
            kept = _tokens.get(key)
        if kept is not None and self.clock() < kept.renew_at:
            return kept.value, key, True
        token = self._authenticate(user, password, secret_id)
        with _tokens_lock:
            _tokens[key] = token
        return token.value, key, False

    def _authenticate(self, user: str, password: str, secret_id: str) -> _Token:
        url = f"{self.services_url}/security/authenticate"
        response = self._send("POST", url, headers={"user": user, "password": password})
        body = self._body(response, url)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        token = str(data.get("token") or "")
        if response.is_success and body.get("status") == "success" and token:
            log.info("PAC token obtained for the %s environment", self.environment)
            return _Token(token, _renew_at(data.get("expires_in"), self.clock()))
        code = _code(str(body.get("message") or ""))
        if not (code.startswith("AU") or response.status_code in (400, 401, 403)):
            raise AuthorityUnavailable(f"The PAC's authentication answered HTTP {response.status_code} "
                                       f"({code or 'no code'}) at {url}.")
        if secret_id:
            forget_secret(secret_id)  # a rotated secret is read again next time
        raise PacAuthenticationFailed(f"The PAC refused the {self.environment} credentials (HTTP "
                                      f"{response.status_code}, {code or 'no code'}).")

    @staticmethod
    def _refused_token(response: httpx.Response) -> bool:
        """SW's AU… codes; or HTTP 401 without a code of its own (a 401 that names a stamping code,
        like SAT's 401 "more than 72 hours", is about the document, not the token)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        code = _code(str(body.get("message") or "")) if isinstance(body, dict) else ""
        return code.startswith("AU") or (response.status_code == 401 and not code)

    def _with_token(self, send: Callable[[str], httpx.Response]) -> httpx.Response:
        """`send(token)`; when SW refuses a kept token, once more with a new one."""
        token, key, kept = self._token()
        response = send(token)
        if not self._refused_token(response):
            return response
        with _tokens_lock:
            if _tokens.get(key) is not None and _tokens[key].value == token:
                del _tokens[key]
        if kept:
            token, key, _ = self._token()
            response = send(token)
            if not self._refused_token(response):
                return response
            with _tokens_lock:
                _tokens.pop(key, None)
        raise PacAuthenticationFailed(f"The PAC refused a new token for the {self.environment} environment "
                                      f"(HTTP {response.status_code}).")

    # -- transport ------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise AuthorityUnavailable(
                f"The PAC did not answer in time ({type(exc).__name__}) at {url}.") from None
        except httpx.HTTPError as exc:
            raise AuthorityUnavailable(
                f"The PAC could not be reached ({type(exc).__name__}) at {url}.") from None
        if response.status_code >= 500 or response.status_code in UNAVAILABLE_STATUSES:
            raise AuthorityUnavailable(f"The PAC answered HTTP {response.status_code} at {url}.")
        return response

    @staticmethod
    def _body(response: httpx.Response, url: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AuthorityUnavailable(f"The PAC gave an answer that is not JSON (HTTP "
                                       f"{response.status_code}) at {url}.")
        return body

    def _download(self, location: str) -> bytes:
        """The XML at a datawarehouse download URL (no token: it is a storage link, not SW's API)."""
        try:
            response = self._http.get(location, follow_redirects=True)
        except httpx.TimeoutException:
            raise AuthorityUnavailable("The PAC's XML download did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise AuthorityUnavailable(f"The PAC's XML download failed ({type(exc).__name__}).") from None
        if response.status_code != 200 or not response.content.strip():
            raise AuthorityUnavailable(f"The PAC's XML download answered HTTP {response.status_code}.")
        return response.content
