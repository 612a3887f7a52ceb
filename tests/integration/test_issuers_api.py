"""The issuers function end to end in process: REST proxy events (the samples in events/issuers and
built ones) through the real handler, with DynamoDB, KMS and SES emulated by moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from functions.workflow.sign import credentials
from local import certs
from local.lambdas import context_for
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.countries.ec import xades
from sello.settings import get_settings
from tests.helpers import api_event, authorizer_context, load_event, response_json

ISSUERS = next(s for s in catalog.API_FUNCTIONS if s.name == "issuers")
ACCOUNT_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
ACCOUNT_B = {"account_id": "acct_b0000000000000000000", "environment": "live", "key_id": "key_b"}
SAMPLE_ISSUER = "iss_demo0000000000000000"
PASSWORD = "Clave-de-prueba-2026"
RUC = certs.DEMO_RUC


pytestmark = pytest.mark.usefixtures("trusted_mini_ca")


def call(event: dict) -> tuple[int, dict | None]:
    from functions.api import issuers

    response = issuers.handler(event, context_for(ISSUERS))
    return response["statusCode"], response_json(response)


def request(method: str, path: str, body=None, principal: dict | None = ACCOUNT_A, **kwargs):
    return call(api_event(method, path, body, principal=principal, **kwargs))


def sample(name: str, principal: dict = ACCOUNT_A, issuer_id: str | None = None) -> dict:
    """A sample event as the gateway passes it for `principal` (and another issuer id in its path)."""
    event = load_event(f"issuers/{name}.json")
    event["requestContext"]["authorizer"] = authorizer_context(principal)
    if issuer_id:
        event["path"] = event["path"].replace(SAMPLE_ISSUER, issuer_id)
        event["requestContext"]["path"] = event["requestContext"]["path"].replace(SAMPLE_ISSUER, issuer_id)
        event["pathParameters"] = {"proxy": event["path"].split("/v1/issuers/", 1)[1]}
    return event


def json_event(method: str, path: str, text: str, content_type: str = "application/json") -> dict:
    """An event whose body is `text` as is (e.g. malformed JSON)."""
    event = api_event(method, path, principal=ACCOUNT_A, headers={"Content-Type": content_type})
    return event | {"body": text}


def issuer_body(**changes) -> dict:
    return {**load_event("issuers/create_issuer.body.json"), **changes}


def create_issuer(principal: dict = ACCOUNT_A, **changes) -> dict:
    status, body = request("POST", "/v1/issuers", issuer_body(**changes), principal=principal)
    assert status == 201, body
    return body


def items() -> list[dict]:
    return aws_clients.resource("dynamodb").Table(get_settings().table_name).scan()["Items"]


def certificate_items() -> list[dict]:
    return [i for i in items() if i["sk"].startswith("CERT#")]


def upload_json(issuer_id: str, data: bytes, password: str = PASSWORD, principal: dict = ACCOUNT_A, **fields):
    body = {"p12_base64": base64.b64encode(data).decode(), "password": password, **fields}
    return request("PUT", f"/v1/issuers/{issuer_id}/certificate", body, principal=principal)


def multipart(fields: dict[str, bytes | str], boundary: str = "sello-test-boundary") -> tuple[bytes, dict]:
    chunks = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            head = (f'Content-Disposition: form-data; name="{name}"; filename="{name}.p12"\r\n'
                    "Content-Type: application/x-pkcs12\r\n")
        else:
            head, value = f'Content-Disposition: form-data; name="{name}"\r\n', value.encode()
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + value + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload_multipart(issuer_id: str, fields: dict[str, bytes | str]):
    body, headers = multipart(fields)
    return request("PUT", f"/v1/issuers/{issuer_id}/certificate", body, headers=headers)


# Issuers ---------------------------------------------------------------------------------------------

def test_register_an_issuer_from_the_sample_event(aws):
    status, issuer = call(sample("create_issuer"))
    assert status == 201
    sent = load_event("issuers/create_issuer.body.json")
    assert issuer["id"].startswith("iss_") and issuer["object"] == "issuer"
    assert (issuer["country"], issuer["tax_id"], issuer["legal_name"]) == ("EC", RUC, sent["legal_name"])
    assert issuer["flags"] == sent["flags"]
    assert [e["code"] for e in issuer["establishments"]] == ["001", "002"]
    assert [p["code"] for p in issuer["establishments"][0]["emission_points"]] == ["001", "002"]
    assert issuer["certificate"] is None

    status, fetched = call(sample("get_issuer", issuer_id=issuer["id"]))
    assert status == 200 and fetched == issuer


def test_country_and_flags_are_normalized(aws):
    issuer = create_issuer(country="ec", tax_id=f" {RUC} ",
                           flags={"obligado_contabilidad": False, "rimpe": "negocio_popular",
                                  "contribuyente_especial": " 5368 "})
    assert (issuer["country"], issuer["tax_id"]) == ("EC", RUC)
    assert issuer["flags"] == {"obligado_contabilidad": False, "rimpe": "negocio_popular",
                               "contribuyente_especial": "5368"}


def test_list_issuers_pages_with_a_cursor(aws):
    created = [create_issuer(tax_id=ruc)["id"] for ruc in (RUC, "1792060346001", "1760013210001")]
    status, page = call(sample("list_issuers"))
    assert status == 200 and sorted(i["id"] for i in page["data"]) == sorted(created)
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = request("GET", "/v1/issuers", query=query)
        assert status == 200 and len(page["data"]) <= 2
        seen += [i["id"] for i in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created)


def cursor_of(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def test_bad_paging_parameters_are_client_errors(aws, subtests):
    create_issuer()
    cases = [({"limit": "0"}, 422, "invalid_value"), ({"limit": "101"}, 422, "invalid_value"),
             ({"cursor": "%%%"}, 400, "invalid_cursor"), ({"cursor": cursor_of("1")}, 400, "invalid_cursor"),
             ({"cursor": cursor_of({"pk": 1, "sk": 2})}, 400, "invalid_cursor"),
             # A cursor of another account's partition is refused, not followed.
             ({"cursor": cursor_of({"pk": f"ACCOUNT#{ACCOUNT_B['account_id']}", "sk": "ISSUER#iss_x"})},
              400, "invalid_cursor")]
    for query, status, code in cases:
        with subtests.test(query=query):
            got, body = request("GET", "/v1/issuers", query=query)
            assert (got, body["error"]["code"]) == (status, code)


BAD_ISSUERS = [
    ({"tax_id": "1799999991001"}, 422, "invalid_tax_id", "tax_id"),
    ({"tax_id": "12345"}, 422, "invalid_tax_id", "tax_id"),
    ({"country": "ZZ"}, 422, "unsupported_country", "country"),
    ({"establishments": []}, 422, "invalid_value", "establishments"),
    ({"establishments": [{"code": "001", "address": "Quito", "emission_points": [{"code": "001"}]},
                         {"code": "001", "address": "Cuenca", "emission_points": [{"code": "001"}]}]},
     422, "invalid_value", "establishments"),
    ({"establishments": [{"code": "000", "address": "Quito", "emission_points": [{"code": "001"}]}]},
     422, "invalid_value", "establishments.0.code"),
    ({"establishments": [{"code": "001", "address": "Quito", "emission_points": [{"code": "1"}]}]},
     422, "invalid_value", "establishments.0.emission_points.0.code"),
    ({"establishments": [{"code": "001", "address": "Quito", "emission_points": []}]},
     422, "invalid_value", "establishments.0.emission_points"),
    ({"establishments": [{"code": "001", "address": "Quito",
                          "emission_points": [{"code": "002"}, {"code": "002"}]}]},
     422, "invalid_value", "establishments.0.emission_points"),
    ({"legal_name": ""}, 422, "invalid_value", "legal_name"),
    ({"email": "not-an-email"}, 422, "invalid_value", "email"),
    ({"flags": {}}, 422, "missing_field", "flags.obligado_contabilidad"),
    ({"flags": {"obligado_contabilidad": True, "agente_retencion": "007"}}, 422, "invalid_value",
     "flags.agente_retencion"),
    ({"flags": {"obligado_contabilidad": True, "agente_retencion": "123456789"}}, 422, "invalid_value",
     "flags.agente_retencion"),
    ({"flags": {"obligado_contabilidad": True, "contribuyente_especial": "12"}}, 422, "invalid_value",
     "flags.contribuyente_especial"),
    ({"flags": {"obligado_contabilidad": True, "rimpe": "general"}}, 422, "invalid_value", "flags.rimpe"),
    ({"flags": {"obligado_contabilidad": True, "regimen": "x"}}, 422, "unknown_field", "flags.regimen"),
    ({"website": "https://example.com"}, 422, "unknown_field", "website"),
    # Control characters would break the email subjects and documents these names go into.
    ({"legal_name": "Comercial\nAndina"}, 422, "invalid_value", "legal_name"),
    ({"trade_name": "Andina\x00Store"}, 422, "invalid_character", "trade_name"),
    ({"head_office_address": "Av. Amazonas\tN34"}, 422, "invalid_value", "head_office_address"),
    ({"establishments": [{"code": "001", "address": "Qui\rto", "emission_points": [{"code": "001"}]}]},
     422, "invalid_value", "establishments.0.address"),
    ({"establishments": [{"code": "001", "address": "Quito", "name": "Matriz\x7f",
                          "emission_points": [{"code": "001"}]}]},
     422, "invalid_value", "establishments.0.name"),
    ({"establishments": [{"code": "001", "address": "Quito",
                          "emission_points": [{"code": "001", "name": "Caja\x1b1"}]}]},
     422, "invalid_character", "establishments.0.emission_points.0.name"),
    ({"flags": {"obligado_contabilidad": True, "contribuyente_especial": "53\n68"}}, 422, "invalid_value",
     "flags.contribuyente_especial"),
    ({"legal_name": "x" * 301}, 422, "invalid_value", "legal_name"),
    ({"establishments": [{"code": "001", "address": "Quito", "name": "x" * 101,
                          "emission_points": [{"code": "001"}]}]},
     422, "invalid_value", "establishments.0.name"),
]


def test_bad_issuers_get_a_code_and_path_and_nothing_is_stored(aws, subtests):
    for changes, status, code, path in BAD_ISSUERS:
        with subtests.test(path=path, code=code):
            got_status, body = request("POST", "/v1/issuers", issuer_body(**changes))
            assert got_status == status, body
            assert (body["error"]["code"], body["error"].get("path")) == (code, path)
            assert items() == []


def establishments(count: int, points: int, name_length: int = 100) -> list[dict]:
    """`count` establishments of `points` emission points each, with every text at its longest."""
    points_list = [{"code": f"{p:03d}", "name": "P" * name_length} for p in range(1, points + 1)]
    return [{"code": f"{e:03d}", "address": "A" * 300, "name": "N" * name_length,
             "emission_points": points_list} for e in range(1, count + 1)]


def test_establishments_and_emission_points_are_limited_to_100(aws):
    status, body = request("POST", "/v1/issuers", issuer_body(establishments=establishments(101, 1)))
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "invalid_value", "establishments")
    status, body = request("POST", "/v1/issuers", issuer_body(establishments=establishments(1, 101)))
    assert (status, body["error"]["code"], body["error"]["path"]) == (
        422, "invalid_value", "establishments.0.emission_points")
    assert items() == []


def test_an_issuer_too_large_to_store_is_refused_and_nothing_is_stored(aws):
    # 40 × 100 emission points with the longest names: about 600 KB, more than a DynamoDB item holds.
    body = issuer_body(establishments=establishments(40, 100))
    assert len(json.dumps(body)) > 500_000
    status, error = request("POST", "/v1/issuers", body)
    assert status == 422, error
    assert (error["error"]["code"], error["error"]["path"]) == ("issuer_too_large", "establishments")
    assert items() == []


def test_a_large_issuer_within_the_limits_is_stored_whole(aws):
    issuer = create_issuer(establishments=establishments(100, 10))
    status, fetched = request("GET", f"/v1/issuers/{issuer['id']}")
    assert status == 200 and fetched == issuer
    assert [len(e["emission_points"]) for e in fetched["establishments"]] == [10] * 100


def test_missing_fields_and_malformed_json(aws):
    body = issuer_body()
    del body["head_office_address"]
    status, error = request("POST", "/v1/issuers", body)
    assert (status, error["error"]["code"]) == (422, "missing_field")
    assert error["error"]["path"] == "head_office_address"
    status, error = call(json_event("POST", "/v1/issuers", '{"country": "EC",'))
    assert (status, error["error"]["code"]) == (400, "invalid_json")
    assert items() == []


def test_the_same_tax_id_twice_in_one_account_conflicts_but_not_across_accounts(aws):
    first = create_issuer()
    status, body = request("POST", "/v1/issuers", issuer_body(legal_name="Otra S.A."))
    assert (status, body["error"]["code"], body["error"]["path"]) == (409, "issuer_exists", "tax_id")
    assert len([i for i in items() if i["sk"].startswith("ISSUER#")]) == 1
    other = create_issuer(principal=ACCOUNT_B)
    assert other["id"] != first["id"]


def test_another_accounts_issuer_is_not_found(aws):
    issuer = create_issuer()
    certificate = certs.make_p12(password=PASSWORD)
    assert upload_json(issuer["id"], certificate)[0] == 200
    for name in ("get_issuer", "get_certificate", "upload_certificate"):
        status, body = call(sample(name, principal=ACCOUNT_B, issuer_id=issuer["id"]))
        assert (status, body["error"]["code"]) == (404, "issuer_not_found"), name
    status, page = request("GET", "/v1/issuers", principal=ACCOUNT_B)
    assert status == 200 and page["data"] == []
    assert len(certificate_items()) == 1


@pytest.fixture
def dynamodb_key_limits(monkeypatch):
    """DynamoDB refuses a sort key over 1024 bytes with a ValidationException (the emulator does not)."""
    from botocore.exceptions import ClientError

    from sello.adapters.dynamo import DynamoStore

    def refuse_long(method):
        def checked(self, pk, sk="", *args, **kwargs):
            if len(sk.encode()) > 1024:
                raise ClientError({"Error": {"Code": "ValidationException",
                                             "Message": "Sort key exceeds 1024 bytes"}}, method.__name__)
            return method(self, pk, sk, *args, **kwargs)
        return checked

    for name in ("get", "query"):
        monkeypatch.setattr(DynamoStore, name, refuse_long(getattr(DynamoStore, name)))


@pytest.mark.parametrize("issuer_id", ["iss_" + "a" * 1100, "iss_" + "a" * 19, "iss_" + "A" * 20,
                                       "ISS_" + "a" * 20, "acct_" + "a" * 20, "iss_" + "a" * 19 + "-"])
def test_an_issuer_id_that_cannot_exist_is_not_found(aws, dynamodb_key_limits, issuer_id):
    create_issuer()
    path = f"/v1/issuers/{issuer_id}"
    certificate = {"p12_base64": base64.b64encode(certs.make_p12(password=PASSWORD)).decode(),
                   "password": PASSWORD}
    for method, route, body in (("GET", path, None), ("GET", f"{path}/certificate", None),
                                ("PUT", f"{path}/certificate", certificate)):
        status, error = request(method, route, body)
        assert (status, error["error"]["code"], error["error"]["path"]) == (404, "issuer_not_found",
                                                                            "issuer_id"), route
    assert certificate_items() == []


def test_without_the_authorizers_context_there_is_no_access(aws):
    status, body = request("GET", "/v1/issuers", principal=None)
    assert (status, body["error"]["code"]) == (401, "missing_api_key")


# Certificates ----------------------------------------------------------------------------------------

def sample_p12() -> tuple[bytes, str]:
    body = load_event("issuers/upload_certificate.body.json")
    return base64.b64decode(body["p12_base64"]), body["password"]


def test_upload_the_sample_json_then_read_the_metadata(aws, outbox):
    issuer = create_issuer()
    status, view = call(sample("upload_certificate", issuer_id=issuer["id"]))
    assert status == 200, view
    data, password = sample_p12()
    bundle = pkcs12.load_pkcs12(data, password.encode())
    cert = bundle.cert.certificate
    assert view["serial"] == format(cert.serial_number, "X")
    assert view["subject"] == cert.subject.rfc4514_string()
    assert view["issuer"] == cert.issuer.rfc4514_string()
    assert (view["valid_from"], view["valid_to"]) == ("2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z")
    assert view["status"] == "active" and view["history"] == []
    assert set(view["tax_ids"]) == {RUC, "1710034065"}
    # Its CA is a mini-CA made in another process, trusted by nobody: the certificate is for tests only.
    assert view["trusted"] is False
    assert [w["code"] for w in view["warnings"]] == ["certificate_test_only"]

    status, fetched = call(sample("get_certificate", issuer_id=issuer["id"]))
    assert status == 200 and fetched == view
    status, issuer_view = call(sample("get_issuer", issuer_id=issuer["id"]))
    assert issuer_view["certificate"]["serial"] == view["serial"]
    assert issuer_view["certificate"]["status"] == "active"

    # What is stored: metadata, the public certificate and the sealed key; never the key or password.
    [item] = certificate_items()
    pkcs8 = bundle.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    sealed = item["private_key"]
    assert set(sealed) == {"encrypted_data_key", "nonce", "ciphertext", "kms_key_id", "algorithm"}
    assert sealed["algorithm"] == "AES-256-GCM"
    stored = repr(item).encode()
    assert pkcs8[40:80] not in bytes(sealed["ciphertext"].value) and pkcs8[40:80] not in stored
    assert password.encode() not in stored
    assert item["gsi1pk"] == "CERTEXP#2036-01-01"
    # Responses carry metadata only.
    for body in (view, fetched, issuer_view):
        text = json.dumps(body)
        assert password not in text and "private_key" not in text and "ciphertext" not in text


def test_upload_the_sample_multipart_event(aws):
    issuer = create_issuer()
    status, view = call(sample("upload_certificate_multipart", issuer_id=issuer["id"]))
    assert status == 200, view
    data, password = sample_p12()
    certificate = pkcs12.load_pkcs12(data, password.encode()).cert.certificate
    assert view["serial"] == format(certificate.serial_number, "X")
    assert view["notification_email"] == "facturacion@andina.example.com"


def test_the_stored_key_signs_for_the_uploaded_certificate(aws):
    issuer = create_issuer()
    assert upload_json(issuer["id"], certs.make_p12(password=PASSWORD, key_slot=3))[0] == 200
    key, certificate = credentials().load_signing_key(ACCOUNT_A["account_id"], issuer["id"], "test")
    assert key.private_numbers() == certs.rsa_key(3).private_numbers()
    signature = key.sign(b"<factura/>", padding.PKCS1v15(), hashes.SHA1())
    certificate.public_key().verify(signature, b"<factura/>", padding.PKCS1v15(), hashes.SHA1())
    with pytest.raises(Exception) as err:
        credentials().load_signing_key(ACCOUNT_B["account_id"], issuer["id"], "live")
    assert getattr(err.value, "code", None) == "issuer_not_found"


def test_the_upload_records_the_size_of_the_certificates_signature_with_the_issuer(aws):
    """The documents API checks a document's signed size before numbering it without loading the
    certificate: the upload records what its signature adds, with the certificate and with the issuer."""
    issuer = create_issuer()
    p12 = certs.make_p12(password=PASSWORD, key_slot=3)
    assert upload_json(issuer["id"], p12)[0] == 200
    certificate = pkcs12.load_pkcs12(p12, PASSWORD.encode()).cert.certificate
    expected = xades.signature_size(certificate)

    [certificate_item] = certificate_items()
    [issuer_item] = [i for i in items() if i["sk"].startswith("ISSUER#")]
    assert certificate_item["signature_size"] == issuer_item["certificate"]["signature_size"] == expected
    stored = DynamoIssuersRepo(DynamoStore(get_settings().table_name)).get_issuer(ACCOUNT_A["account_id"],
                                                                                  issuer["id"])
    assert stored.certificate.signature_size == expected
    # It is not part of what the API shows.
    status, shown = request("GET", f"/v1/issuers/{issuer['id']}")
    assert status == 200 and "signature_size" not in shown["certificate"]


def test_replacing_keeps_the_old_certificate_as_history(aws):
    issuer = create_issuer()
    _, first = upload_json(issuer["id"], certs.make_p12(password=PASSWORD, key_slot=1))
    replacement = certs.make_p12(password=PASSWORD, key_slot=2)
    status, second = upload_multipart(issuer["id"], {"certificate": replacement, "password": PASSWORD})
    assert status == 200, second
    assert second["serial"] != first["serial"]
    assert [(h["serial"], h["status"]) for h in second["history"]] == [(first["serial"], "replaced")]
    assert second["history"][0]["replaced_at"]

    stored = {i["serial"]: i for i in certificate_items()}
    old, new = stored[first["serial"]], stored[second["serial"]]
    assert old["status"] == "replaced" and "private_key" not in old and "gsi1pk" not in old
    assert new["status"] == "active" and "private_key" in new and new["gsi1pk"].startswith("CERTEXP#")
    key, _ = credentials().load_signing_key(ACCOUNT_A["account_id"], issuer["id"], "test")
    assert key.private_numbers() == certs.rsa_key(2).private_numbers()

    # Uploading the current certificate again changes nothing in the history.
    same = certs.make_p12(password=PASSWORD, key_slot=2, serial=int(second["serial"], 16))
    status, again = upload_json(issuer["id"], same)
    assert status == 200 and again["serial"] == second["serial"]
    assert [h["serial"] for h in again["history"]] == [first["serial"]]


def test_an_expiring_certificate_is_accepted_with_a_warning(aws):
    issuer = create_issuer()
    status, view = upload_json(issuer["id"], certs.make_p12(password=PASSWORD, days=10))
    assert status == 200
    assert view["status"] == "expiring"
    assert [w["code"] for w in view["warnings"]] == ["certificate_expiring"]
    status, fetched = call(sample("get_certificate", issuer_id=issuer["id"]))
    assert fetched["status"] == "expiring" and fetched["warnings"][0]["code"] == "certificate_expiring"


def test_no_certificate_yet_is_not_found(aws):
    issuer = create_issuer()
    status, body = call(sample("get_certificate", issuer_id=issuer["id"]))
    assert (status, body["error"]["code"]) == (404, "certificate_not_found")


NOW = datetime.now(UTC)
BAD_FILES = {
    "not PKCS#12": (lambda: b"%PDF-1.4 not a certificate", PASSWORD, "invalid_certificate_file"),
    "wrong password": (lambda: certs.make_p12(password=PASSWORD), "wrong password",
                       "wrong_certificate_password"),
    "no private key": (lambda: certs.pack_p12(None, certs.make_certificate(certs.rsa_key(1)), PASSWORD),
                       PASSWORD, "certificate_key_missing"),
    "no certificate": (lambda: certs.pack_p12(certs.rsa_key(1), None, PASSWORD), PASSWORD,
                       "certificate_missing"),
    "key mismatch": (lambda: certs.pack_p12(certs.rsa_key(1), None, PASSWORD,
                                            [certs.make_certificate(certs.rsa_key(2))]),
                     PASSWORD, "certificate_key_mismatch"),
    "not for signing": (lambda: certs.make_p12(password=PASSWORD, key_usage="encipherment"), PASSWORD,
                        "certificate_not_for_signing"),
    "expired": (lambda: certs.make_p12(password=PASSWORD, not_before=NOW - timedelta(days=700),
                                       not_after=NOW - timedelta(days=5)), PASSWORD, "certificate_expired"),
    "not yet valid": (lambda: certs.make_p12(password=PASSWORD, not_before=NOW + timedelta(days=3)), PASSWORD,
                      "certificate_not_yet_valid"),
    "another tax id": (lambda: certs.make_p12(password=PASSWORD, ruc="1792060346001"), PASSWORD,
                       "certificate_tax_id_mismatch"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_bad_upload_has_its_code_stores_nothing_and_leaks_nothing(aws, outbox, subtests, case):
    issuer = create_issuer()
    build, password, code = BAD_FILES[case]
    for form in ("json", "multipart"):
        with subtests.test(form=form):
            if form == "json":
                status, body = upload_json(issuer["id"], build(), password,
                                           notification_email="it@andina.example.com")
                file_path = "p12_base64"
            else:
                status, body = upload_multipart(issuer["id"], {"certificate": build(), "password": password,
                                                               "notification_email": "it@andina.example.com"})
                file_path = "certificate"
            assert status == 422, body
            error = body["error"]
            assert error["code"] == code
            assert error["path"] == ("password" if code == "wrong_certificate_password" else file_path)
            assert certificate_items() == []
            assert call(sample("get_issuer", issuer_id=issuer["id"]))[1]["certificate"] is None
            # The notice repeats the API's reason; neither mentions the password.
            notice = outbox()[-1]
            text = notice.get_body().get_content()
            assert notice["To"] == "it@andina.example.com" and "no aceptado" in notice["Subject"]
            assert error["message"] in text and code in text
            for secret in {password, PASSWORD}:
                assert secret not in text and secret not in json.dumps(body)
    assert len(outbox()) == 2


ACCOUNT_A_LIVE = {**ACCOUNT_A, "environment": "live", "key_id": "key_a_live"}


def test_a_live_key_uploads_only_a_certificate_that_chains_to_a_trusted_authority(aws):
    issuer = create_issuer()
    self_signed = certs.make_p12(password=PASSWORD, self_signed=True)
    status, body = upload_json(issuer["id"], self_signed, principal=ACCOUNT_A_LIVE)
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "certificate_not_trusted",
                                                                      "p12_base64")
    assert certificate_items() == []
    assert call(sample("get_issuer", issuer_id=issuer["id"]))[1]["certificate"] is None

    status, view = upload_json(issuer["id"], certs.make_p12(password=PASSWORD), principal=ACCOUNT_A_LIVE)
    assert status == 200 and view["trusted"] is True and view["warnings"] == []
    assert call(sample("get_issuer", issuer_id=issuer["id"]))[1]["certificate"]["trusted"] is True


def test_a_test_key_uploads_a_self_signed_certificate_for_test_documents_only(aws):
    issuer = create_issuer()
    status, view = upload_json(issuer["id"], certs.make_p12(password=PASSWORD, self_signed=True))
    assert status == 200 and view["trusted"] is False
    assert [w["code"] for w in view["warnings"]] == ["certificate_test_only"]
    [item] = certificate_items()
    assert item["trusted"] is False
    issuer_view = call(sample("get_issuer", issuer_id=issuer["id"]))[1]
    assert issuer_view["certificate"]["trusted"] is False


def test_a_trusted_ca_path_that_does_not_exist_fails_the_upload_and_stores_nothing(aws, monkeypatch,
                                                                                   tmp_path):
    monkeypatch.setenv("SELLO_TRUSTED_CA_PATH", str(tmp_path / "missing"))
    get_settings.cache_clear()
    issuer = create_issuer()
    status, body = upload_json(issuer["id"], certs.make_p12(password=PASSWORD))
    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert certificate_items() == []


def test_the_success_notice_has_the_subject_and_validity(aws, outbox):
    issuer = create_issuer()
    status, view = upload_json(issuer["id"], certs.make_p12(password=PASSWORD),
                               notification_email="it@andina.example.com")
    assert status == 200
    [notice] = outbox()
    text = notice.get_body().get_content()
    assert notice["To"] == "it@andina.example.com" and "aceptado" in notice["Subject"]  # the issuer's language
    assert view["subject"] in text and view["serial"] in text
    valid_to = datetime.fromisoformat(view["valid_to"])
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]
    assert f"{valid_to.day} de {months[valid_to.month - 1]} de {valid_to.year}" in text
    assert PASSWORD not in text


def test_no_notice_without_a_notification_email(aws, outbox):
    issuer = create_issuer()
    assert upload_json(issuer["id"], b"garbage")[0] == 422
    assert upload_json(issuer["id"], certs.make_p12(password=PASSWORD))[0] == 200
    assert outbox() == []


BAD_BODIES = [
    ("json", {"password": PASSWORD}, 422, "missing_field", "p12_base64"),
    ("json", {"p12_base64": "AAAA"}, 422, "missing_field", "password"),
    ("json", {"p12_base64": "not base64 at all!", "password": PASSWORD}, 422, "invalid_certificate_file",
     "p12_base64"),
    ("json", {"p12_base64": "AAAA", "password": PASSWORD, "pin": "1234"}, 422, "unknown_field", "pin"),
    ("json", {"p12_base64": "AAAA", "password": PASSWORD, "notification_email": "nope"}, 422, "invalid_value",
     "notification_email"),
    ("multipart", {"password": PASSWORD}, 422, "missing_field", "certificate"),
    ("multipart", {"certificate": b"x"}, 422, "missing_field", "password"),
    ("multipart", {"certificate": b"x", "password": PASSWORD, "pin": "1234"}, 422, "unknown_field", "pin"),
    # Characters XML cannot carry, in any text field, are refused before the file is even opened.
    ("json", {"p12_base64": "AAAA", "password": PASSWORD + "\ud800"}, 422, "invalid_character", "password"),
    ("json", {"p12_base64": "AAAA", "password": PASSWORD + "\uffff"}, 422, "invalid_character", "password"),
    ("multipart", {"certificate": b"x", "password": PASSWORD + "\x00"}, 422, "invalid_character", "password"),
    ("multipart", {"certificate": b"x", "password": PASSWORD + "\uffff"}, 422, "invalid_character",
     "password"),
    ("multipart", {"certificate": b"x", "password": PASSWORD, "notification_email": "a\ufffe@example.com"},
     422, "invalid_character", "notification_email"),
    ("multipart", {"certificate": b"x", "password": PASSWORD, "pin\x01": "1"}, 422, "invalid_character",
     "body"),
]


def test_bad_upload_bodies(aws, subtests):
    issuer = create_issuer()
    for form, fields, status, code, path in BAD_BODIES:
        with subtests.test(form=form, path=path, code=code):
            if form == "json":
                got, body = request("PUT", f"/v1/issuers/{issuer['id']}/certificate", fields)
            else:
                got, body = upload_multipart(issuer["id"], fields)
            assert got == status, body
            assert (body["error"]["code"], body["error"]["path"]) == (code, path)
            assert PASSWORD not in json.dumps(body)
            assert certificate_items() == []


def test_wrong_content_type_and_malformed_json(aws):
    issuer = create_issuer()
    path = f"/v1/issuers/{issuer['id']}/certificate"
    status, body = call(json_event("PUT", path, "hello", content_type="text/plain"))
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
    status, body = call(json_event("PUT", path, '{"p12_base64": '))
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    assert certificate_items() == []


def test_every_route_documents_its_success_response():
    from functions.api.issuers import app

    paths = json.loads(app.get_openapi_json_schema())["paths"]
    expected = {("post", "/v1/issuers"): ("201", "IssuerView"), ("get", "/v1/issuers"): ("200", "IssuerList"),
                ("get", "/v1/issuers/{issuer_id}"): ("200", "IssuerView"),
                ("put", "/v1/issuers/{issuer_id}/certificate"): ("200", "CertificateView"),
                ("get", "/v1/issuers/{issuer_id}/certificate"): ("200", "CertificateView"),
                ("put", "/v1/issuers/{issuer_id}/logo"): ("200", "LogoView"),
                ("get", "/v1/issuers/{issuer_id}/logo"): ("303", "FileDownload"),  # a redirect to the file
                ("delete", "/v1/issuers/{issuer_id}/logo"): ("204", None)}
    documented = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            status = next(s for s in operation["responses"] if s[0] in "23")
            content = operation["responses"][status].get("content")
            if not content:
                documented[(method, path)] = (status, None)
            else:
                schema = content["application/json"]["schema"]
                documented[(method, path)] = (status, schema["$ref"].rsplit("/", 1)[1])
    assert documented == expected
