"""A PKCS#12 file encrypted with RC2-40 (PBE-SHA1-RC2-40 for both the key and the certificates, SHA-1
MAC), as several Ecuadorian CAs still issue them, written here by the `openssl` command line from a
key and certificate of local.certs, so that legacy support is proven without the shared fixtures."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from local import certs
from sello.countries import get_plugin
from sello.ids import utcnow
from sello.services.certificates import check_p12
from tests.helpers import api_event, load_event, response_json

PASSWORD = "clave-antigua"
OPENSSL = shutil.which("openssl")


def _has_legacy_provider() -> bool:
    probe = subprocess.run([OPENSSL, "list", "-providers", "-provider", "legacy"], capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed"),
    pytest.mark.skipif(OPENSSL is not None and not _has_legacy_provider(),
                       reason="the installed openssl cannot load its legacy provider (needed for RC2-40)"),
]


def openssl(*args: str, cwd: Path) -> str:
    done = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def legacy_p12(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("legacy-p12")
    key = certs.rsa_key(4)
    (folder / "key.pem").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    certificate = certs.make_certificate(key, cedula="1710034065")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(Encoding.PEM))
    (folder / "ca.pem").write_bytes(certs.local_ca().certificate.public_bytes(Encoding.PEM))
    openssl("pkcs12", "-export", "-legacy", "-keypbe", "PBE-SHA1-RC2-40", "-certpbe", "PBE-SHA1-RC2-40",
            "-macalg", "sha1", "-inkey", "key.pem", "-in", "cert.pem", "-certfile", "ca.pem",
            "-name", "firma", "-passout", f"pass:{PASSWORD}", "-out", "legacy.p12", cwd=folder)
    # What was written really is RC2-40, for the key as well as the certificates.
    info = openssl("pkcs12", "-info", "-noout", "-legacy", "-in", "legacy.p12", "-passin", f"pass:{PASSWORD}",
                   cwd=folder)
    assert info.count("pbeWithSHA1And40BitRC2-CBC") == 2, info
    return (folder / "legacy.p12").read_bytes()


def test_the_rc2_40_file_is_a_valid_certificate_for_the_demo_ruc(legacy_p12):
    checked = check_p12(legacy_p12, PASSWORD, tax_id=certs.DEMO_RUC, plugin=get_plugin("EC"), now=utcnow())
    assert checked.key.private_numbers() == certs.rsa_key(4).private_numbers()
    assert checked.tax_ids == {certs.DEMO_RUC, "1710034065"}
    assert checked.certificate.issuer == certs.local_ca().certificate.subject
    # The mini-CA is no recognised certification authority: the file signs test documents only.
    assert not checked.trusted
    assert [w.code for w in checked.warnings] == ["certificate_test_only"]


def test_uploading_the_rc2_40_file_stores_it(aws, legacy_p12):
    from functions.api import issuers

    principal = {"account_id": "acct_rc240000000000000000", "environment": "test", "key_id": "key_rc2"}
    created = issuers.handler(api_event("POST", "/v1/issuers", load_event("issuers/create_issuer.body.json"),
                                        principal=principal), None)
    issuer_id = response_json(created)["id"]
    body = {"p12_base64": base64.b64encode(legacy_p12).decode(), "password": PASSWORD}
    response = issuers.handler(api_event("PUT", f"/v1/issuers/{issuer_id}/certificate", body,
                                         principal=principal), None)
    view = response_json(response)
    assert response["statusCode"] == 200, view
    assert view["status"] == "active" and certs.DEMO_RUC in view["tax_ids"]
    fetched = issuers.handler(api_event("GET", f"/v1/issuers/{issuer_id}", principal=principal), None)
    assert response_json(fetched)["certificate"]["serial"] == view["serial"]
