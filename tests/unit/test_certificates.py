"""Opening and checking PKCS#12 files (no AWS): every rejection has its own code and path, the
signing certificate is picked by key and key usage, and the RUC is found where Ecuadorian CAs put it."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding

from local import certs
from sello.countries import get_plugin
from sello.errors import Unprocessable
from sello.services.certificates import check_p12, decode_base64_file, warning_windows

PLUGIN = get_plugin("EC")
RUC = certs.DEMO_RUC
PASSWORD = "s3cret-Pässword"
NOW = datetime.now(UTC).replace(microsecond=0)


def p12(**options) -> bytes:
    return certs.make_p12(password=PASSWORD, **options)


def check(data: bytes, password: str = PASSWORD, tax_id: str = RUC, now: datetime = NOW):
    # The mini-CA is trusted here, as the operator's addition (settings.trusted_ca_path) would make it;
    # tests/unit/test_certificate_trust.py is about what happens without it.
    return check_p12(data, password, tax_id=tax_id, plugin=PLUGIN, now=now,
                     extra_authorities=(certs.local_ca().certificate,))


def rejection(data: bytes, password: str = PASSWORD, tax_id: str = RUC) -> Unprocessable:
    with pytest.raises(Unprocessable) as err:
        check(data, password, tax_id)
    assert err.value.status == 422
    assert PASSWORD not in err.value.message
    return err.value


def test_a_good_file_gives_the_key_its_certificate_and_tax_ids():
    checked = check(p12(cedula="1710034065"))
    signature = checked.key.sign(b"factura", padding.PKCS1v15(), hashes.SHA1())
    checked.certificate.public_key().verify(signature, b"factura", padding.PKCS1v15(), hashes.SHA1())
    assert checked.tax_ids == {RUC, "1710034065"}
    assert checked.warnings == []
    assert checked.certificate.issuer == certs.local_ca().certificate.subject
    assert checked.trusted


def test_self_signed_and_legacy_encrypted_files_open():
    checked = check(p12(self_signed=True, legacy=True))
    assert checked.certificate.issuer == checked.certificate.subject


def test_a_file_without_password_opens_with_an_empty_one():
    key = certs.rsa_key(1)
    data = certs.pack_p12(key, certs.make_certificate(key, ruc=RUC), "")
    assert check(data, password="").tax_ids == {RUC}


@pytest.mark.parametrize("carrier", sorted(certs.CARRIERS))
def test_the_ruc_is_found_wherever_the_ca_puts_it(carrier):
    checked = check(p12(carrier=carrier))
    assert RUC in checked.tax_ids


def test_a_natural_person_signs_with_the_certificate_of_their_cedula():
    personal = p12(ruc=None, cedula="1710034065", carrier="bce")
    assert check(personal, tax_id="1710034065001").tax_ids == {"1710034065"}
    # The same personal certificate cannot sign for a company, even the one the person represents.
    err = rejection(personal, tax_id=RUC)
    assert err.code == "certificate_tax_id_mismatch"
    assert "1710034065" in err.message


def test_a_certificate_of_another_ruc_is_rejected_and_the_message_names_both():
    err = rejection(p12(ruc="1792060346001"))
    assert (err.code, err.path) == ("certificate_tax_id_mismatch", "certificate")
    assert RUC in err.message and "1792060346001" in err.message


def test_a_certificate_without_any_tax_id_is_rejected():
    err = rejection(p12(ruc=None))
    assert err.code == "certificate_tax_id_mismatch"
    assert "carries no RUC" in err.message


def test_expiring_within_30_days_is_accepted_with_a_warning():
    checked = check(p12(days=20))
    assert [w.code for w in checked.warnings] == ["certificate_expiring"]
    assert check(p12(days=40)).warnings == []


def test_of_several_certificates_the_one_for_signing_with_the_files_key_is_picked():
    key = certs.rsa_key(1)
    encipherment = certs.make_certificate(key, key_usage="encipherment")
    signing = certs.make_certificate(key)
    other = certs.make_certificate(certs.rsa_key(2))
    data = certs.pack_p12(key, encipherment, PASSWORD, [other, signing, certs.local_ca().certificate])
    assert check(data).certificate.serial_number == signing.serial_number


def _other_key_certificate_only() -> bytes:
    return certs.pack_p12(certs.rsa_key(1), None, PASSWORD, [certs.make_certificate(certs.rsa_key(2))])


def _ec_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return certs.pack_p12(key, certs.make_certificate(key, self_signed=True), PASSWORD)


def _small_rsa_key() -> bytes:
    key = certs.rsa_key(9, bits=1024)
    return certs.pack_p12(key, certs.make_certificate(key), PASSWORD)


REJECTIONS = {
    "random bytes": (lambda: os.urandom(2048), "invalid_certificate_file", "certificate"),
    "a PEM certificate": (lambda: certs.local_ca().certificate.public_bytes(Encoding.PEM),
                          "invalid_certificate_file", "certificate"),
    "a DER certificate": (lambda: certs.local_ca().certificate.public_bytes(Encoding.DER),
                          "invalid_certificate_file", "certificate"),
    "a truncated file": (lambda: p12()[:-40], "invalid_certificate_file", "certificate"),
    "no private key": (lambda: certs.pack_p12(None, certs.make_certificate(certs.rsa_key(1)), PASSWORD),
                       "certificate_key_missing", "certificate"),
    "no certificate": (lambda: certs.pack_p12(certs.rsa_key(1), None, PASSWORD), "certificate_missing",
                       "certificate"),
    "a certificate of another key": (_other_key_certificate_only, "certificate_key_mismatch", "certificate"),
    "an EC key": (_ec_key, "certificate_key_unsupported", "certificate"),
    "a 1024-bit key": (_small_rsa_key, "certificate_key_unsupported", "certificate"),
    "key usage without digitalSignature": (lambda: p12(key_usage="encipherment"),
                                           "certificate_not_for_signing", "certificate"),
    "expired": (lambda: p12(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1)),
                "certificate_expired", "certificate"),
    "not yet valid": (lambda: p12(not_before=NOW + timedelta(days=2), days=365), "certificate_not_yet_valid",
                      "certificate"),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_each_bad_file_has_its_own_code(case):
    build, code, path = REJECTIONS[case]
    err = rejection(build())
    assert (err.code, err.path) == (code, path)


def test_a_wrong_password_is_told_apart_from_a_bad_file():
    err = rejection(p12(), password="not-the-password")
    assert (err.code, err.path) == ("wrong_certificate_password", "password")
    assert "not-the-password" not in err.message


def test_paths_follow_the_fields_of_the_request():
    with pytest.raises(Unprocessable) as err:
        check_p12(b"nope", PASSWORD, tax_id=RUC, plugin=PLUGIN, now=NOW, file_path="p12_base64")
    assert err.value.path == "p12_base64"


def test_base64_files_may_be_wrapped_but_must_be_base64():
    data = p12()
    encoded = base64.b64encode(data).decode()
    wrapped = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    assert decode_base64_file(wrapped, path="p12_base64") == data
    for bad in ("not base64!", "", "   "):
        with pytest.raises(Unprocessable) as err:
            decode_base64_file(bad, path="p12_base64")
        assert (err.value.code, err.value.path) == ("invalid_certificate_file", "p12_base64")


def test_expiry_warning_windows_catch_up_two_days_without_overlapping():
    windows = {threshold: list(days) for threshold, days in warning_windows((30, 15, 7, 1))}
    assert windows == {30: [28, 29, 30], 15: [13, 14, 15], 7: [5, 6, 7], 1: [0, 1]}
    # Thresholds closer than the catch-up never share a day; the most urgent keeps its own.
    assert {t: list(d) for t, d in warning_windows((3, 2, 1))} == {1: [0, 1], 2: [2], 3: [3]}
