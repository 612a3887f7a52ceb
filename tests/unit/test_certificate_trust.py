"""Whose certificate signs live documents: one that chains to a certification authority recognised in
Ecuador (the bundle in countries/ec/trust/) or added by the operator (settings.trusted_ca_path). A
live API key refuses any other on upload; a test key accepts it for test documents only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from local import certs
from sello.countries import get_plugin, trust
from sello.countries.ec import certificates as ec_certificates
from sello.errors import Unprocessable
from sello.services.certificates import check_p12, extra_authorities

PLUGIN = get_plugin("EC")
PASSWORD = "cadena-de-confianza"
NOW = datetime.now(UTC).replace(microsecond=0)
TRUST_README = ec_certificates.TRUST_DIR / "README.md"

# A generated chain: root → intermediate → the issuer's certificate (keys 5 and 6 for the CAs).
ROOT = certs.make_ca("Sello Test Root (no fiscal validity)", key_slot=5, path_length=1)
INTERMEDIATE = certs.make_ca("Sello Test Intermediate (no fiscal validity)", key_slot=6, issuer=ROOT,
                             path_length=0)


def chain_p12(ca: certs.LocalCA = INTERMEDIATE, chain=(INTERMEDIATE.certificate, ROOT.certificate),
              **options) -> bytes:
    return certs.make_p12(password=PASSWORD, ca=ca, chain=list(chain), **options)


def check(data: bytes, environment: str, authorities=(), now: datetime = NOW):
    return check_p12(data, PASSWORD, tax_id=certs.DEMO_RUC, plugin=PLUGIN, now=now, environment=environment,
                     extra_authorities=authorities, file_path="p12_base64")


def refusal(data: bytes, authorities=()) -> Unprocessable:
    with pytest.raises(Unprocessable) as err:
        check(data, "live", authorities)
    return err.value


# The rule -----------------------------------------------------------------------------------------

def test_a_chain_to_a_root_added_by_configuration_is_accepted_for_live(tmp_path):
    pem = tmp_path / "operator-ca.pem"
    pem.write_bytes(certs.pem(ROOT.certificate))
    checked = check(chain_p12(), "live", extra_authorities(str(pem)))
    assert checked.trusted and checked.warnings == []


def test_the_same_chain_without_that_root_is_refused_for_live_with_its_own_code():
    error = refusal(chain_p12())
    assert (error.status, error.code, error.path) == (422, "certificate_not_trusted", "p12_base64")
    assert "Ecuador" in error.message and PASSWORD not in error.message


def test_a_self_signed_certificate_is_refused_for_live():
    error = refusal(certs.make_p12(password=PASSWORD, self_signed=True), authorities=(ROOT.certificate,))
    assert error.code == "certificate_not_trusted"


def test_a_self_signed_certificate_cannot_be_made_trusted_by_listing_itself():
    """Only a CA can vouch for a certificate: listing a signing certificate as an authority does not."""
    key = certs.rsa_key(1)
    leaf = certs.make_certificate(key, self_signed=True)
    data = certs.pack_p12(key, leaf, PASSWORD)
    assert refusal(data, authorities=(leaf,)).code == "certificate_not_trusted"


def test_the_test_environment_accepts_a_self_signed_certificate_for_test_documents_only():
    checked = check(certs.make_p12(password=PASSWORD, self_signed=True), "test")
    assert not checked.trusted
    assert [w.code for w in checked.warnings] == ["certificate_test_only"]


def test_the_test_environment_records_a_trusted_chain_as_trusted():
    checked = check(chain_p12(), "test", authorities=(ROOT.certificate,))
    assert checked.trusted and checked.warnings == []


def test_an_intermediate_can_be_the_trusted_authority():
    """Several bundled authorities are intermediates whose root is not public: trust stops there."""
    checked = check(chain_p12(chain=()), "live", authorities=(INTERMEDIATE.certificate,))
    assert checked.trusted


# Each link is checked -------------------------------------------------------------------------------

def test_an_intermediate_missing_from_the_file_breaks_the_chain():
    assert refusal(chain_p12(chain=(ROOT.certificate,)), authorities=(ROOT.certificate,)).code == (
        "certificate_not_trusted")


@pytest.mark.parametrize("bad", [
    {"ca": False},  # not a CA
    {"key_cert_sign": False},  # a CA whose key usage does not allow issuing certificates
    {"not_before": NOW - timedelta(days=400), "days": 100},  # expired
    {"not_before": NOW + timedelta(days=1)},  # not valid yet
], ids=["not-a-ca", "no-keyCertSign", "expired", "not-yet-valid"])
def test_an_intermediate_that_may_not_issue_breaks_the_chain(bad):
    intermediate = certs.make_ca("Sello Test Bad Intermediate", key_slot=7, issuer=ROOT, **bad)
    data = chain_p12(ca=intermediate, chain=(intermediate.certificate, ROOT.certificate))
    assert refusal(data, authorities=(ROOT.certificate,)).code == "certificate_not_trusted"
    # The same intermediate done right is accepted: the refusal is the bad link's.
    good = certs.make_ca("Sello Test Bad Intermediate", key_slot=7, issuer=ROOT)
    assert check(chain_p12(ca=good, chain=(good.certificate,)), "live", (ROOT.certificate,)).trusted


def test_a_root_limited_to_no_intermediates_does_not_vouch_through_one():
    root = certs.make_ca("Sello Test Root Without Intermediates", key_slot=8, path_length=0)
    intermediate = certs.make_ca("Sello Test Intermediate Below It", key_slot=6, issuer=root)
    data = chain_p12(ca=intermediate, chain=(intermediate.certificate,))
    assert refusal(data, authorities=(root.certificate,)).code == "certificate_not_trusted"


def test_an_impostor_with_the_authoritys_name_but_another_key_is_not_trusted():
    impostor = certs.make_ca("Sello Test Root (no fiscal validity)", key_slot=9, path_length=1)
    assert impostor.certificate.subject == ROOT.certificate.subject
    fake_intermediate = certs.make_ca("Sello Test Intermediate (no fiscal validity)", key_slot=6,
                                      issuer=impostor, path_length=0)
    data = chain_p12(ca=fake_intermediate, chain=(fake_intermediate.certificate, impostor.certificate))
    assert refusal(data, authorities=(ROOT.certificate,)).code == "certificate_not_trusted"


def test_a_chain_through_a_loop_of_cross_certificates_ends():
    a = certs.make_ca("Loop A", key_slot=10)
    b = certs.make_ca("Loop B", key_slot=11, issuer=a)
    a_by_b = certs.make_ca("Loop A", key_slot=10, issuer=b)
    leaf = certs.make_certificate(certs.rsa_key(1), ca=b)
    pool = [b.certificate, a_by_b.certificate, a.certificate]
    assert not trust.chains_to(leaf, pool, [ROOT.certificate], NOW)
    assert trust.chains_to(leaf, [b.certificate, a_by_b.certificate], [a.certificate], NOW)


# Configuration ---------------------------------------------------------------------------------------

def test_the_setting_takes_files_and_folders(tmp_path):
    folder = tmp_path / "cas"
    folder.mkdir()
    (folder / "root.pem").write_bytes(certs.pem(ROOT.certificate))
    (folder / "notes.txt").write_text("not read")
    both = tmp_path / "both.crt"
    both.write_bytes(certs.pem(INTERMEDIATE.certificate) + certs.pem(certs.local_ca().certificate))
    loaded = trust.load_authorities(f"{folder}:{both}")
    assert loaded == (ROOT.certificate, INTERMEDIATE.certificate, certs.local_ca().certificate)
    assert trust.load_authorities("") == ()


def test_a_wrong_setting_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        trust.load_authorities(str(tmp_path / "missing.pem"))
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="broken.pem"):
        trust.load_authorities(str(broken))


# The bundle ------------------------------------------------------------------------------------------

BUNDLE = sorted(ec_certificates.TRUST_DIR.glob("*.pem"))


def test_the_bundle_holds_the_accredited_authorities():
    assert len(BUNDLE) >= 40
    names = " ".join(c.subject.rfc4514_string() for c in ec_certificates.bundled_authorities()).upper()
    for authority in ("BANCO CENTRAL DEL ECUADOR", "SECURITY DATA", "ANF", "CONSEJO DE LA JUDICATURA",
                      "UANATACA", "ECLIPSOFT", "DATIL", "LAZZATE", "ARGOSDATA", "ALPHA TECHNOLOGIES"):
        assert authority in names, authority


# A few CAs write UTF-8 in a VisibleString of their certificate policies; cryptography warns (and may
# refuse such a certificate in a later version, which this test would then show).
@pytest.mark.filterwarnings("ignore:Invalid ASN.1:cryptography.utils.CryptographyDeprecationWarning")
@pytest.mark.parametrize("path", BUNDLE, ids=[p.name for p in BUNDLE])
def test_each_bundled_file_is_one_ca_certificate_listed_with_its_fingerprint(path):
    [certificate] = x509.load_pem_x509_certificates(path.read_bytes())
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert constraints.ca and usage.key_cert_sign
    assert certificate.not_valid_before_utc < certificate.not_valid_after_utc
    if certificate.issuer == certificate.subject:  # a root signs itself
        certificate.verify_directly_issued_by(certificate)
    else:  # an intermediate is signed by its root when the root is bundled too
        for root in ec_certificates.bundled_authorities():
            if root.subject == certificate.issuer:
                certificate.verify_directly_issued_by(root)
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex().upper()
    row = re.search(rf"^\| `{re.escape(path.name)}` \|.*$", TRUST_README.read_text(), re.MULTILINE)
    assert row and f"`{fingerprint}`" in row.group(0)


def test_the_readme_lists_no_file_that_is_not_there():
    listed = set(re.findall(r"^\| `([^`]+\.pem)` \|", TRUST_README.read_text(), re.MULTILINE))
    assert listed == {p.name for p in BUNDLE}
