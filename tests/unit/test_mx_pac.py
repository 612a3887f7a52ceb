"""The SW sapien adapter against a small HTTP server in this module that speaks SW's contract (a
services host and an api host under two prefixes, plus a storage host for downloads): what the client
sends, how it keeps and renews its token, how each answer maps to a StampResult, a StampRejected with
Sello's reasons and field paths, AuthorityUnavailable or PacAuthenticationFailed, and that a document
sent again is never stamped twice.

The CFDIs here are not real ones (the PAC checks a CFDI, this client does not): a Comprobante with a
Sello is enough, and the server stamps it by adding a Timbre Fiscal Digital."""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import socket
import threading
import time
import uuid as uuids
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.countries.mx import pac
from sello.countries.mx.pac import PacAuthenticationFailed, StampRejected, SwSapienClient
from sello.settings import Settings

USER, PASSWORD = "timbrado@example.com", "s3cret:with:colons"
CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
SAT_CERTIFICATE = "30001000000500003456"


def signed_cfdi(sello: str = "U2VsbG8gQQ==", folio: str = "42") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<cfdi:Comprobante xmlns:cfdi="{CFDI_NS}" Version="4.0" '
            f'Serie="A" Folio="{folio}" Sello="{sello}" NoCertificado="30001000000500003416">'
            '<cfdi:Emisor Rfc="EKU9003173C9" Nombre="ESCUELA KEMPER URGATE" RegimenFiscal="601"/>'
            '<cfdi:Conceptos><cfdi:Concepto Descripcion="Café &amp; pan dulce"/></cfdi:Conceptos>'
            '</cfdi:Comprobante>').encode()


# The server --------------------------------------------------------------------------------------------

class FakeSw:
    """SW's stamping contract, kept small: tokens, stamps with customid idempotency (307 for the same
    CFDI, CFDI3307 for another one under a used customid), the datawarehouse and its downloads.
    `faults` lists what the next stamp calls answer instead: (status, json body), "lost" (stamps,
    then drops the connection), "slow" (answers after `slow_seconds`), "not-json", "no-tfd"."""

    def __init__(self, expires_in: float = 7200):
        self.expires_in = expires_in
        self.users = {USER: PASSWORD}
        self.tokens: set[str] = set()
        self.authentications = 0
        self.stamp_calls = 0
        self.stamps: dict[str, bytes] = {}  # uuid -> stamped CFDI
        self.by_customid: dict[str, tuple[str, str]] = {}  # customid -> (sello, uuid)
        self.cancel_answers: list = []  # (status, body) answered to each cancellation, in turn
        self.faults: list = []
        self.always_refuse_tokens = False
        self.slow_seconds = 2.0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeSw:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings(self, **overrides) -> Settings:
        values = dict(sw_test_url=f"{self.url}/services", sw_test_api_url=f"{self.url}/api",
                      sw_live_url=f"{self.url}/live-services", sw_live_api_url=f"{self.url}/live-api",
                      sw_test_credentials=f"{USER}:{PASSWORD}", sw_timeout_seconds=5)
        return Settings(**(values | overrides))

    def requests_to(self, suffix: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        return [r for r in self.requests if r[1].endswith(suffix)]

    # -- stamping --------------------------------------------------------------------------------------

    def stamp(self, xml: bytes, *, uuid: str | None = None) -> tuple[str, bytes]:
        root = etree.fromstring(xml)
        complemento = root.find(f"{{{CFDI_NS}}}Complemento")
        if complemento is None:
            complemento = etree.SubElement(root, f"{{{CFDI_NS}}}Complemento")
        uuid = uuid or str(uuids.uuid4()).upper()
        etree.SubElement(complemento, f"{{{TFD_NS}}}TimbreFiscalDigital", nsmap={"tfd": TFD_NS}, attrib={
            "Version": "1.1", "UUID": uuid, "FechaTimbrado": "2026-06-01T12:00:05",
            "RfcProvCertif": "SPR190613I52", "SelloCFD": root.get("Sello"),
            "NoCertificadoSAT": SAT_CERTIFICATE, "SelloSAT": "U2VsbG9TQVQ="})
        stamped = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        self.stamps[uuid] = stamped
        return uuid, stamped

    @staticmethod
    def tfd_only(stamped: bytes) -> str:
        tfd = next(etree.fromstring(stamped).iter(f"{{{TFD_NS}}}TimbreFiscalDigital"))
        return etree.tostring(tfd, encoding="unicode")

    @staticmethod
    def v4(uuid: str, stamped: bytes) -> dict:
        return {"cadenaOriginalSAT": "||1.1|…||", "noCertificadoSAT": SAT_CERTIFICATE,
                "noCertificadoCFDI": "30001000000500003416", "uuid": uuid, "selloSAT": "U2VsbG9TQVQ=",
                "selloCFDI": "…", "fechaTimbrado": "2026-06-01T12:00:05", "qrCode": "iVBOR…",
                "cfdi": stamped.decode()}

    def answer_stamp(self, headers: dict[str, str], body: bytes, content_type: str):
        """(status, json body) or "lost"."""
        with self.lock:
            self.stamp_calls += 1
            fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, tuple):
            return fault
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        xml = next(p.get_payload(decode=True) for p in parsed.iter_parts()
                   if p.get_param("name", header="content-disposition") == "xml")
        sello = etree.fromstring(xml).get("Sello")
        customid = headers.get("customid", "")
        with self.lock:
            known = self.by_customid.get(customid)
            if known and known[0] == sello:
                return 400, {"message": "307. El comprobante contiene un timbre previo.",
                             "messageDetail": None, "data": self.v4(known[1], self.stamps[known[1]]),
                             "status": "error"}
            if known:
                return 400, {"message": "CFDI3307 - Timbre duplicado. El customId proporcionado está "
                                        "duplicado.",
                             "messageDetail": None, "data": {"tfd": self.tfd_only(self.stamps[known[1]])},
                             "status": "error"}
            if fault == "no-tfd":
                return 200, {"data": {"uuid": "x", "cfdi": xml.decode()}, "status": "success"}
            uuid, stamped = self.stamp(xml)
            self.by_customid[customid] = (sello, uuid)
        if fault == "lost":
            return "lost"
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault == "not-json":
            return 200, "<html>Service temporarily unavailable</html>"
        return 200, {"data": self.v4(uuid, stamped), "status": "success"}

    def _handler(self):
        sw = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status: int, body, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self) -> bool:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if sw.always_refuse_tokens or token not in sw.tokens:
                    self.reply(401, {"message": "AU2000 - El token proporcionado no es válido o ha "
                                                "expirado.",
                                     "messageDetail": None, "data": None, "status": "error"})
                    return False
                return True

            def handle_one(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                sw.requests.append((method, self.path, headers, body))
                if self.path == "/services/security/authenticate" and method == "POST":
                    sw.authentications += 1
                    if sw.users.get(headers.get("user")) != headers.get("password"):
                        refused = ("AU2000 - El usuario y/o contraseña son inválidos, no se puede "
                                   "autenticar el servicio.")
                        return self.reply(400, {"message": refused,
                                                "messageDetail": None, "data": None, "status": "error"})
                    token = f"T-{uuids.uuid4().hex}"
                    sw.tokens.add(token)
                    return self.reply(200, {"data": {"token": token, "expires_in": sw.expires_in},
                                            "status": "success"})
                if self.path == "/services/v4/cfdi33/stamp/v4" and method == "POST":
                    if not self.authorized():
                        return
                    answer = sw.answer_stamp(headers, body, headers.get("content-type", ""))
                    if answer == "lost":
                        self.close_connection = True
                        return
                    return self.reply(*answer)
                if self.path == "/services/cfdi33/cancel/xml" and method == "POST":
                    if not self.authorized():
                        return
                    return self.reply(*sw.cancel_answers.pop(0))
                if self.path.startswith("/api/datawarehouse/v1/live/") and method == "GET":
                    if not self.authorized():
                        return
                    uuid = self.path.rsplit("/", 1)[1].upper()
                    records = [{"uuid": uuid, "urlXml": f"{sw.url}/blob/{uuid}.xml", "urlPDF": ""}] \
                        if uuid in sw.stamps else []
                    return self.reply(200, {"data": {"records": records}, "status": "success"})
                if self.path.startswith("/blob/") and method == "GET":
                    uuid = self.path.removeprefix("/blob/").removesuffix(".xml")
                    if uuid in sw.stamps:
                        return self.reply(200, sw.stamps[uuid], "application/xml")
                    return self.reply(404, b"", "text/plain")
                self.reply(404, b"<html><h1>404 Not Found</h1></html>", "text/html")

            def do_POST(self):
                self.handle_one("POST")

            def do_GET(self):
                self.handle_one("GET")

        return Handler


@pytest.fixture
def pac_logs(caplog):
    """Everything logged, the adapter's own records included: "sello" loggers may not propagate to the
    root logger caplog listens on (Powertools' Logger(service="sello") stops them there)."""
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger(pac.__name__)
    caplog.set_level(logging.DEBUG, logger=logger.name)
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


@pytest.fixture(autouse=True)
def fresh_tokens():
    pac.forget_tokens()
    yield
    pac.forget_tokens()


@pytest.fixture
def sw():
    with FakeSw() as server:
        yield server


@pytest.fixture
def client(sw):
    with SwSapienClient(sw.settings(), "test") as c:
        yield c


class Clock:
    def __init__(self, now: float = 1_780_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


# Stamping ------------------------------------------------------------------------------------------------

def test_a_sealed_cfdi_is_stamped_and_the_result_is_read_from_the_stamped_xml(sw, client):
    signed = signed_cfdi()
    result = client.stamp(signed, "doc_3k9v0c2m1x7q8w4e")

    assert result.uuid in sw.stamps and result.xml == sw.stamps[result.uuid]
    assert (result.stamped_at, result.sat_certificate_number, result.previously_stamped) == \
        ("2026-06-01T12:00:05", SAT_CERTIFICATE, False)
    method, _, headers, body = sw.requests_to("/stamp/v4")[0]
    assert method == "POST" and headers["customid"] == "doc_3k9v0c2m1x7q8w4e"
    assert headers["authorization"].startswith("Bearer T-")
    assert headers["content-type"].startswith("multipart/form-data")
    assert signed in body  # the sealed bytes travel untouched (a re-encoding would break the Sello)
    auth = sw.requests_to("/security/authenticate")[0][2]
    assert (auth["user"], auth["password"]) == (USER, PASSWORD)


def test_the_token_is_reused_by_later_stamps_and_by_other_clients_of_the_process(sw, client):
    for n in range(3):
        client.stamp(signed_cfdi(sello=f"S{n}"), f"doc-{n}")
    with SwSapienClient(sw.settings(), "test") as another:
        another.stamp(signed_cfdi(sello="S3"), "doc-3")
    assert sw.authentications == 1 and len(sw.stamps) == 4
    assert len({r[2]["authorization"] for r in sw.requests_to("/stamp/v4")}) == 1


def test_each_environment_has_its_own_hosts_credentials_and_token(sw):
    settings = sw.settings(sw_live_url=f"{sw.url}/services", sw_live_credentials="live-user:live-pass")
    sw.users["live-user"] = "live-pass"
    with SwSapienClient(settings, "test") as test, SwSapienClient(settings, "live") as live:
        test.stamp(signed_cfdi(sello="A"), "doc-a")
        live.stamp(signed_cfdi(sello="B"), "doc-b")
        live.stamp(signed_cfdi(sello="C"), "doc-c")
    users = [r[2]["user"] for r in sw.requests_to("/security/authenticate")]
    assert users == [USER, "live-user"]


@pytest.mark.parametrize("expires_in", [7200, "epoch"])
def test_the_token_is_renewed_shortly_before_it_expires(sw, expires_in):
    clock = Clock()
    sw.expires_in = clock.now + 7200 if expires_in == "epoch" else expires_in  # SW has answered both ways
    with SwSapienClient(sw.settings(), "test", clock=clock) as client:
        client.stamp(signed_cfdi(sello="A"), "doc-a")
        clock.now += 7200 - pac.TOKEN_RENEWAL_MARGIN_SECONDS - 60
        client.stamp(signed_cfdi(sello="B"), "doc-b")
        assert sw.authentications == 1
        clock.now += 120  # now within the margin before expiry
        client.stamp(signed_cfdi(sello="C"), "doc-c")
    assert sw.authentications == 2


def test_a_token_sw_no_longer_accepts_is_replaced_once_and_the_call_succeeds(sw, client):
    client.stamp(signed_cfdi(sello="A"), "doc-a")
    sw.tokens.clear()  # SW expired it before the client expected
    result = client.stamp(signed_cfdi(sello="B"), "doc-b")
    assert result.uuid in sw.stamps and sw.authentications == 2
    assert len(sw.requests_to("/stamp/v4")) == 3


def test_wrong_credentials_are_the_operators_problem_and_nothing_is_sent(sw, pac_logs):
    with SwSapienClient(sw.settings(sw_test_credentials=f"{USER}:not-the-password"), "test") as client:
        with pytest.raises(PacAuthenticationFailed) as err:
            client.stamp(signed_cfdi(), "doc-a")
    assert err.value.code == "pac_authentication_failed" and "AU2000" in str(err.value)
    assert "not-the-password" not in str(err.value) and "not-the-password" not in pac_logs.text
    assert sw.stamp_calls == 0


def test_a_token_refused_even_when_new_fails_authentication_without_looping(sw, client):
    client.stamp(signed_cfdi(sello="A"), "doc-a")
    sw.always_refuse_tokens = True
    with pytest.raises(PacAuthenticationFailed):
        client.stamp(signed_cfdi(sello="B"), "doc-b")
    assert sw.authentications == 2 and len(sw.requests_to("/stamp/v4")) == 3


def test_no_credentials_configured_is_an_authentication_failure(sw):
    with SwSapienClient(sw.settings(sw_test_credentials=""), "test") as client:
        with pytest.raises(PacAuthenticationFailed, match="sw_test_credentials_secret"):
            client.stamp(signed_cfdi(), "doc-a")
    assert sw.requests == []


# Sent twice: never two stamps -----------------------------------------------------------------------------

def test_the_same_cfdi_sent_again_gets_its_first_stamp_back_as_a_success(sw, client):
    first = client.stamp(signed_cfdi(), "doc-a")
    again = client.stamp(signed_cfdi(), "doc-a")
    assert again.previously_stamped and (again.uuid, again.xml) == (first.uuid, first.xml)
    assert len(sw.stamps) == 1


def test_a_resealed_copy_under_the_same_customid_recovers_the_first_stamp_from_the_datawarehouse(sw, client):
    first = client.stamp(signed_cfdi(sello="FIRST"), "doc-a")
    again = client.stamp(signed_cfdi(sello="SECOND"), "doc-a")
    assert again.previously_stamped and (again.uuid, again.xml) == (first.uuid, first.xml)
    assert len(sw.stamps) == 1
    lookup = sw.requests_to(f"/api/datawarehouse/v1/live/{first.uuid}")
    download = sw.requests_to(f"/blob/{first.uuid}.xml")
    assert lookup and lookup[0][2]["authorization"].startswith("Bearer ")
    assert download and "authorization" not in download[0][2]  # the token stays with SW's API


def test_an_answer_that_is_lost_after_the_stamp_is_retried_into_the_same_stamp(sw, client):
    sw.faults = ["lost"]
    with pytest.raises(AuthorityUnavailable):
        client.stamp(signed_cfdi(), "doc-a")
    assert len(sw.stamps) == 1
    result = client.stamp(signed_cfdi(), "doc-a")
    assert result.previously_stamped and list(sw.stamps) == [result.uuid]


def test_an_answer_too_slow_is_unavailable_and_the_retry_gets_that_stamp(sw):
    sw.faults, sw.slow_seconds = ["slow"], 2.0
    with SwSapienClient(sw.settings(sw_timeout_seconds=0.5), "test") as client:
        with pytest.raises(AuthorityUnavailable, match="in time"):
            client.stamp(signed_cfdi(), "doc-a")
        result = client.stamp(signed_cfdi(), "doc-a")
    assert result.previously_stamped and len(sw.stamps) == 1


def test_a_307_that_does_not_say_which_stamp_is_unavailable_not_a_rejection(sw, client):
    sw.faults = [(400, {"message": "307. El comprobante contiene un timbre previo.", "messageDetail": None,
                        "data": None, "status": "error"})]
    with pytest.raises(AuthorityUnavailable, match="307"):
        client.stamp(signed_cfdi(), "doc-a")


# Rejections -----------------------------------------------------------------------------------------------

def error(message: str, detail: str | None = None) -> tuple[int, dict]:
    return 400, {"message": message, "messageDetail": detail, "data": None, "status": "error"}


@pytest.mark.parametrize(("message", "detail", "code", "reason", "path"), [
    ("301 - La estructura del comprobante es incorrecta.",
     "Error de validaciones adicionales: CFDI40145 - El campo Nombre del receptor, debe pertenecer al nombre "
     "asociado al RFC registrado en el campo Rfc del Receptor.", "CFDI40145", "customer_name_mismatch",
     "customer.name"),
    ("CFDI40148 - El campo DomicilioFiscalReceptor del receptor, debe pertenecer al RFC.", None, "CFDI40148",
     "customer_zip_mismatch", "customer.zip"),
    ("301 - CFDI40143 - Este RFC del receptor no existe en la lista de RFC inscritos no cancelados del SAT.",
     None, "CFDI40143", "customer_tax_id_not_registered", "customer.tax_id"),
    ("301 - CFDI40157 - La clave del campo RegimenFiscalR debe corresponder.", None, "CFDI40157",
     "customer_tax_regime_invalid", "customer.tax_regime"),
    ("301 - CFDI40158 - La clave del campo RegimenFiscalR debe corresponder al tipo de persona.", None,
     "CFDI40158", "customer_tax_regime_not_allowed", "customer.tax_regime"),
    ("301 - CFDI40159 - La clave del campo RegimenFiscalR debe corresponder con el RFC.", None, "CFDI40159",
     "customer_tax_regime_mismatch", "customer.tax_regime"),
    ("301 - CFDI40999 - Una regla que esta tabla no conoce.", None, "CFDI40999", "invalid_structure", ""),
    ("301 - XML mal formado.", None, "301", "invalid_structure", ""),
    ("302 - Sello mal formado o inválido.", None, "302", "invalid_seal", ""),
    ("303 - Sello no corresponde a emisor.", None, "303", "certificate_rfc_mismatch", ""),
    ("304 - Certificado revocado o caduco.", None, "304", "certificate_revoked", ""),
    ("305 - La fecha de emisión no está dentro de la vigencia del CSD del Emisor.", None, "305",
     "certificate_not_valid_at_date", ""),
    ("306 - El certificado no es de tipo CSD.", None, "306", "certificate_not_csd", ""),
    ("308 - Certificado no expedido por el SAT.", None, "308", "certificate_not_from_sat", ""),
    ("401 - El rango de la fecha de generación no debe de ser mayor a 72 horas para la emisión del timbre.",
     None, "401", "date_out_of_range", ""),
    ("402 - El RFC del emisor no se encuentra en el régimen de contribuyentes (LCO).", None, "402",
     "issuer_not_in_lco", ""),
    ("403 - La fecha de emisión no es posterior al 01 de enero 2011.", None, "403", "date_before_2011", ""),
])
def test_refusals_carry_the_pac_code_sellos_reason_and_the_request_field(sw, client, message, detail, code,
                                                                         reason, path):
    sw.faults = [error(message, detail)]
    with pytest.raises(StampRejected) as err:
        client.stamp(signed_cfdi(), "doc-a")
    [m] = err.value.messages
    assert (m.code, m.reason, m.path, m.warning) == (code, reason, path, False)
    assert (m.message, m.detail) == (message, detail or "")
    assert (err.value.reason, err.value.path) == (reason, path)
    assert m.to_item()["reason"] == reason and m.to_item().get("path", "") == path


def test_a_refusal_naming_several_matrix_rules_keeps_each(sw, client):
    sw.faults = [error("301 - La estructura del comprobante es incorrecta.",
                       "CFDI40145 - Nombre del receptor. CFDI40148 - DomicilioFiscalReceptor.")]
    with pytest.raises(StampRejected) as err:
        client.stamp(signed_cfdi(), "doc-a")
    assert [(m.code, m.path) for m in err.value.messages] == [("CFDI40145", "customer.name"),
                                                               ("CFDI40148", "customer.zip")]


def test_a_date_refusal_answered_with_http_401_is_a_refusal_not_an_expired_token(sw, client):
    sw.faults = [(401, {"message": "401 - El rango de la fecha de generación no debe de ser mayor a 72 "
                                   "horas.", "messageDetail": None, "data": None, "status": "error"})]
    with pytest.raises(StampRejected) as err:
        client.stamp(signed_cfdi(), "doc-a")
    assert err.value.reason == "date_out_of_range" and sw.authentications == 1


# The PAC unavailable ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [
    (500, {"message": "Internal Server Error", "status": "error"}),
    (503, "<html>Service Unavailable</html>"),
    (429, {"message": "Too many requests", "status": "error"}),
    (400, {"message": "CO1000 - Error no controlado.", "messageDetail": None, "status": "error"}),
    "not-json",
    "no-tfd",
])
def test_answers_the_workflow_should_try_again_later_are_unavailable(sw, client, fault):
    sw.faults = [fault]
    with pytest.raises(AuthorityUnavailable):
        client.stamp(signed_cfdi(), "doc-a")


def test_a_pac_that_cannot_be_reached_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(sw_test_url=f"http://127.0.0.1:{port}", sw_test_credentials=f"{USER}:{PASSWORD}",
                        sw_timeout_seconds=0.5)
    with SwSapienClient(settings, "test") as client, pytest.raises(AuthorityUnavailable, match="reached"):
        client.stamp(signed_cfdi(), "doc-a")


def test_an_authentication_service_failing_is_unavailable_not_an_authentication_failure(sw):
    with SwSapienClient(sw.settings(sw_test_url=f"{sw.url}/nowhere"), "test") as misrouted:
        with pytest.raises(AuthorityUnavailable):  # a 404 page, not SW's JSON: try again later
            misrouted.stamp(signed_cfdi(), "doc-a")


# Recovery -------------------------------------------------------------------------------------------------

def test_recover_gives_a_stamped_cfdi_by_uuid_and_none_for_an_unknown_one(sw, client):
    stamped = client.stamp(signed_cfdi(), "doc-a")
    recovered = client.recover(stamped.uuid.lower())
    assert recovered is not None and (recovered.uuid, recovered.xml) == (stamped.uuid, stamped.xml)
    assert client.recover(str(uuids.uuid4())) is None
    with pytest.raises(ValueError):
        client.recover("../../security/authenticate")


def test_a_customid_that_does_not_fit_a_header_is_a_programming_error(client):
    for customid in ("", "x" * 101, "doc a", "doc\r\nX-Injected: 1"):
        with pytest.raises(ValueError):
            client.stamp(signed_cfdi(), customid)


# Credentials from settings and Secrets Manager ------------------------------------------------------------

@pytest.mark.parametrize("value", [f"{USER}:{PASSWORD}", json.dumps({"user": USER, "password": PASSWORD})])
def test_credentials_come_from_a_secrets_manager_secret(sw, value):
    from moto import mock_aws

    from sello.adapters import aws

    aws.reset()
    pac.forget_secret("sello/sw-test")
    with mock_aws():
        aws.client("secretsmanager").create_secret(Name="sello/sw-test", SecretString=value)
        with SwSapienClient(sw.settings(sw_test_credentials="", sw_test_credentials_secret="sello/sw-test"),
                            "test") as client:
            assert client.stamp(signed_cfdi(), "doc-a").uuid in sw.stamps
    aws.reset()
    pac.forget_secret("sello/sw-test")
    auth = sw.requests_to("/security/authenticate")[0][2]
    assert (auth["user"], auth["password"]) == (USER, PASSWORD)


def test_a_missing_secret_is_an_authentication_failure(sw):
    from moto import mock_aws

    from sello.adapters import aws

    aws.reset()
    with mock_aws():
        with SwSapienClient(sw.settings(sw_test_credentials="", sw_test_credentials_secret="sello/none"),
                            "test") as client:
            with pytest.raises(PacAuthenticationFailed, match="ResourceNotFoundException"):
                client.stamp(signed_cfdi(), "doc-a")
    aws.reset()


def test_settings_read_the_pac_from_the_environment_and_never_show_the_credentials(monkeypatch):
    monkeypatch.setenv("SELLO_SW_LIVE_URL", "https://pac.example/services")
    monkeypatch.setenv("SELLO_SW_LIVE_CREDENTIALS", "live-user:hunter2")
    settings = Settings()
    assert settings.sw_live_url == "https://pac.example/services"
    assert settings.sw_live_credentials.get_secret_value() == "live-user:hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    defaults = Settings.model_fields
    assert defaults["sw_test_url"].default == "https://services.test.sw.com.mx"
    assert defaults["sw_live_api_url"].default == "https://api.sw.com.mx"


def test_nothing_secret_or_the_document_reaches_the_logs(sw, client, pac_logs):
    result = client.stamp(signed_cfdi(), "doc-a")
    client.stamp(signed_cfdi(sello="U2VsbG8gQg=="), "doc-a")  # recovered from the datawarehouse
    token = sw.requests_to("/stamp/v4")[0][2]["authorization"].removeprefix("Bearer ")
    assert result.uuid in pac_logs.text  # the adapter's records are captured
    for secret in (PASSWORD, token, "pan dulce", "U2VsbG8gQQ==", "U2VsbG8gQg=="):
        assert secret not in pac_logs.text


# Cancellation ------------------------------------------------------------------------------------------------

CANCEL_UUID = "0E4F5D3A-1B2C-4D5E-8F90-123456789ABC"


def cancelled(code: str, acuse: str = "<Acuse/>") -> tuple[int, dict]:
    return 200, {"data": {"acuse": acuse, "uuid": {CANCEL_UUID.lower(): code}}, "status": "success"}


@pytest.mark.parametrize("code", ["201", "202"])
def test_a_cancellation_sat_takes_answers_its_acuse(sw, client, code):
    sw.cancel_answers = [cancelled(code, "<Acuse Fecha='2026-06-01T12:00:00'/>")]
    result = client.cancel(CANCEL_UUID, b"<Cancelacion/>")
    assert (result.code, result.acuse) == (code, b"<Acuse Fecha='2026-06-01T12:00:00'/>")
    (_, _, headers, body), = sw.requests_to("/cfdi33/cancel/xml")
    assert headers["authorization"].startswith("Bearer T-")
    assert b'name="xml"' in body and b"<Cancelacion/>" in body


@pytest.mark.parametrize("answer, code, reason", [
    (cancelled("205"), "205", "document_not_found"),
    (cancelled("204"), "204", "not_cancelable"),
    (cancelled("208"), "208", "invalid_substitute"),
    (error("302 - Sello mal formado o inválido."), "302", "invalid_seal"),
    (error("303 - Sello no corresponde a emisor."), "303", "certificate_rfc_mismatch"),
])
def test_refused_cancellations_carry_sats_code_and_sellos_reason(sw, client, answer, code, reason):
    sw.cancel_answers = [answer]
    with pytest.raises(pac.CancelRejected) as refused:
        client.cancel(CANCEL_UUID, b"<Cancelacion/>")
    assert (refused.value.messages[0].code, refused.value.messages[0].reason) == (code, reason)


@pytest.mark.parametrize("answer", [
    (503, "<html>Service Unavailable</html>"),
    (400, {"message": "CO1000 - Error no controlado.", "messageDetail": None, "status": "error"}),
    (200, {"data": {"acuse": "<Acuse/>", "uuid": {}}, "status": "success"}),  # no code for the UUID
])
def test_cancellation_answers_to_try_again_later_are_unavailable(sw, client, answer):
    sw.cancel_answers = [answer]
    with pytest.raises(AuthorityUnavailable):
        client.cancel(CANCEL_UUID, b"<Cancelacion/>")
