"""Mexico's SAT certificates (countries/mx/csd.py): reading the .cer/.key pair as SAT delivers it and
in the other forms it travels in, each way an upload can be wrong with its own code and field, CSD
versus e.firma (FIEL), what a certificate says (RFC, NoCertificado, name for the CFDI) and whether it
chains to SAT's production authorities.

The shared test CSDs (../shared/data/mx, password in each .txt) are the main fixtures; what the data
README and the Mexico spec say of each one is the expected result, and satcfdi's own Certificate is
a second, independent reading of the same files."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from cryptography.x509.oid import NameOID
from lxml import etree

from local import certs
from sello.countries.mx import csd
from sello.errors import Unprocessable
from sello.i18n import translator
from tests.conftest import DATA, needs_data

MX = DATA / "mx"
CSD_DIR = MX / "csd"
SAMPLES = MX / "samples"
needs_csds = needs_data("mx", "csd")
needs_samples = needs_data("mx", "samples")
NOW = datetime(2026, 1, 15, tzinfo=UTC)  # inside the 2023 EKU CSD's validity and AC UAT 2022's

# Every shared cer/key pair: RFC, NoCertificado (where the README names it), validity years, and the
# CFDI name where the Mexico spec (§5) gives it.
PAIRS = [
    ("EKU9003173C9_2023_30001000000500003416", "EKU9003173C9", "30001000000500003416", 2023, 2027,
     "ESCUELA KEMPER URGATE"),
    ("eku9003173c9_csd", "EKU9003173C9", "30001000000400002434", 2019, 2023, "ESCUELA KEMPER URGATE"),
    ("iia040805dz4_csd", "IIA040805DZ4", None, 2019, 2023, "INDISTRIA ILUMINADORA DE ALMACENES"),
    ("xia190128j61_csd", "XIA190128J61", None, 2019, 2023, "XENON INDUSTRIAL ARTICLES"),
    ("ewe1709045u0_csd", "EWE1709045U0", None, 2019, 2023, None),
    ("he951128469_csd", "H&E951128469", None, 2019, 2023, None),
    ("xiqb891116qe4_csd", "XIQB891116QE4", None, 2019, 2023, None),
    ("jes900109q90_30001000000400002436", "JES900109Q90", "30001000000400002436", 2019, 2023, None),
    ("satcfdi_emisor2021", "AAA010101AAA", "30001000000300023708", 2021, 2028, None),
]
FIEL_SAMPLES = ["satcfdi_HE951128469_ingreso_iva16_stamped.xml",
                "satcfdi_xiqb891116qe4_ingreso_iva16_stamped.xml",
                "satcfdi_pago20_xiqb891116qe4_iva16_signed.xml"]
CSD_SAMPLES = ["cfdiutils_cfdi40-valid.xml", "cfdiutils_created-cfdi40-pago20-valid.xml",
               "cfdiutils_created-with-discounts-40.xml", "generated_eku2023_global_signed.xml",
               "generated_eku2023_pago20_signed.xml", "satcfdi_cfdv40-ejemplo-signed-tfd.xml"]


def files(stem: str) -> tuple[bytes, bytes, str]:
    return ((CSD_DIR / f"{stem}.cer").read_bytes(), (CSD_DIR / f"{stem}.key").read_bytes(),
            (CSD_DIR / f"{stem}.txt").read_text().strip())


def eku() -> tuple[bytes, bytes, str]:
    return files(PAIRS[0][0])


def refusal(cer: bytes, key: bytes, password: str) -> Unprocessable:
    with pytest.raises(Unprocessable) as err:
        csd.load_pair(cer, key, password, cer_path="cer_base64", key_path="key_base64",
                      password_path="password")
    return err.value


def embedded_certificate(sample: str) -> x509.Certificate:
    root = etree.parse(str(SAMPLES / sample)).getroot()
    return csd.read_certificate(root.get("Certificado").encode())


# The shared CSDs --------------------------------------------------------------------------------------------

@needs_csds
@pytest.mark.parametrize(("stem", "rfc", "number", "from_year", "to_year", "name"), PAIRS,
                         ids=[p[0] for p in PAIRS])
def test_every_shared_csd_pair_opens_and_reads_as_the_readme_says(stem, rfc, number, from_year, to_year,
                                                                   name):
    cer, key, password = files(stem)
    private_key, certificate = csd.load_pair(cer, key, password)

    assert private_key.key_size >= 2048
    assert not csd.is_fiel(certificate)
    csd.require_csd(certificate)  # a CSD: no refusal
    assert csd.certificate_rfcs(certificate) == {rfc}
    assert csd.certificate_matches(certificate, rfc.lower())
    assert not csd.certificate_matches(certificate, "XAXX010101000")
    assert len(csd.certificate_number(certificate)) == 20
    if number:
        assert csd.certificate_number(certificate) == number
    validity = certificate.not_valid_before_utc.year, certificate.not_valid_after_utc.year
    assert validity == (from_year, to_year)
    if name:
        assert csd.legal_name(certificate) == name


@needs_csds
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # satcfdi reads certificates with pyOpenSSL
@pytest.mark.parametrize("stem", [p[0] for p in PAIRS])
def test_what_the_certificate_says_agrees_with_satcfdis_own_reading(stem):
    from satcfdi.models import Certificate

    der = (CSD_DIR / f"{stem}.cer").read_bytes()
    theirs, ours = Certificate.load_certificate(der), csd.read_certificate(der)
    assert csd.certificate_rfcs(ours) == {str(theirs.rfc)}
    assert csd.certificate_number(ours) == theirs.certificate_number
    assert csd.legal_name(ours) == theirs.legal_name
    assert csd.is_fiel(ours) == (theirs.type.name == "Fiel")


@needs_csds
def test_only_the_2023_eku_csd_is_valid_now_and_the_others_expired():
    certificates = {stem: csd.read_certificate((CSD_DIR / f"{stem}.cer").read_bytes()) for stem, *_ in PAIRS}
    valid = {stem for stem, c in certificates.items()
             if c.not_valid_before_utc <= NOW < c.not_valid_after_utc}
    assert valid == {"EKU9003173C9_2023_30001000000500003416", "satcfdi_emisor2021"}


@needs_csds
def test_a_persona_fisica_name_is_kept_whole_and_an_rfc_with_an_ampersand_is_read():
    fisica = csd.read_certificate((CSD_DIR / "xiqb891116qe4_csd.cer").read_bytes())
    assert csd.certificate_rfcs(fisica) == {"XIQB891116QE4"}
    assert csd.legal_name(fisica) == "BERENICE XIMO QUEZADA"
    moral = csd.read_certificate((CSD_DIR / "he951128469_csd.cer").read_bytes())
    assert csd.certificate_matches(moral, "H&E951128469")
    assert csd.legal_name(moral) == "HERRERIA & ELECTRICOS"  # "… S DE CV" dropped


@needs_csds
def test_the_legal_representatives_rfc_is_not_one_the_csd_seals_for():
    certificate = csd.read_certificate(eku()[0])
    [unique] = certificate.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    holder, representative = (part.strip() for part in unique.value.split("/"))
    assert csd.certificate_matches(certificate, holder)
    assert not csd.certificate_matches(certificate, representative)


# The forms a pair travels in ------------------------------------------------------------------------------

@needs_csds
def test_pem_and_base64_forms_read_as_the_der_ones():
    cer, key, password = eku()
    _, certificate = csd.load_pair(cer, key, password)
    pem_cer = certificate.public_bytes(Encoding.PEM)
    base64_cer = base64.encodebytes(cer)  # as SAT's own tools and CFDI's Certificado carry it
    private_key, _ = csd.load_pair(cer, key, password)
    pem_key = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                        BestAvailableEncryption(b"otra-clave"))
    traditional = private_key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL,
                                            BestAvailableEncryption(b"otra-clave"))
    plain = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    for cer_form in (pem_cer, base64_cer, b"\n  " + pem_cer):
        assert csd.load_pair(cer_form, key, password)[1] == certificate
    for key_form, key_password in ((pem_key, "otra-clave"), (traditional, "otra-clave"), (plain, "")):
        assert csd.load_pair(cer, key_form, key_password)[1] == certificate


# Each way an upload is wrong ------------------------------------------------------------------------------

@needs_csds
@pytest.mark.parametrize("password", ["12345678b", "", "1234 5678a"])
def test_a_wrong_or_missing_password_is_its_own_code_on_the_password(password):
    cer, key, _ = eku()
    error = refusal(cer, key, password)
    assert (error.status, error.code, error.path) == (422, "wrong_certificate_password", "password")
    assert not password or password not in error.message


@needs_csds
def test_the_key_of_another_certificate_is_a_mismatch_on_the_key():
    cer, _, password = eku()
    _, other_key, other_password = files("iia040805dz4_csd")
    assert password == other_password  # the right password for that key: only the pairing is wrong
    error = refusal(cer, other_key, password)
    assert (error.code, error.path) == ("certificate_key_mismatch", "key_base64")


@needs_csds
def test_a_key_that_is_not_a_key_is_refused_on_the_key_not_blamed_on_the_password():
    cer, key, password = eku()
    for bad in (key[:200], b"%PDF-1.7 not a key"):
        error = refusal(cer, bad, password)
        assert (error.code, error.path) == ("invalid_key_file", "key_base64"), bad[:20]
    swapped = refusal(cer, cer, password)
    assert (swapped.code, swapped.path) == ("invalid_key_file", "key_base64")
    assert ".cer" in swapped.message and ".key" in swapped.message


@needs_csds
def test_damage_in_the_last_cipher_block_cannot_be_told_from_a_wrong_password():
    cer, key, password = eku()
    damaged = bytearray(key)
    damaged[-1] ^= 0xFF  # breaks the padding check, as decrypting with another password does
    assert refusal(cer, bytes(damaged), password).code == "wrong_certificate_password"


@needs_csds
def test_a_key_that_decrypts_to_no_key_is_refused_on_the_password_naming_both_causes():
    """What a wrong password does about one time in 256 (the padding happens to check), and what
    damage inside the encrypted part always does: the answer is the password's, and says either."""
    cer, key, password = eku()
    damaged = bytearray(key)
    damaged[len(damaged) // 2] ^= 0xFF  # inside the encrypted part: decrypts, but not to a key
    error = refusal(cer, bytes(damaged), password)
    assert (error.code, error.path) == ("wrong_certificate_password", "password")
    assert "password" in error.message and "damaged" in error.message


@needs_csds
def test_a_certificate_that_is_not_one_is_refused_on_the_certificate_before_the_key_is_opened():
    cer, key, password = eku()
    broken_pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    for bad in (b"", cer[:300], b"MIIF not base64 !!", broken_pem):
        error = refusal(bad, key, "any password, not checked yet")
        assert (error.code, error.path) == ("invalid_certificate_file", "cer_base64"), bad[:20]
    swapped = refusal(key, key, password)
    assert (swapped.code, swapped.path) == ("invalid_certificate_file", "cer_base64")
    assert "private key" in swapped.message


def test_a_key_shorter_than_2048_bits_is_unsupported():
    key = certs.rsa_key(slot=3, bits=1024)
    certificate = sat_like_certificate(key, rfc="AAA010101AAA")
    encrypted = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, BestAvailableEncryption(b"x"))
    with pytest.raises(Unprocessable) as err:
        csd.load_pair(certificate.public_bytes(Encoding.DER), encrypted, "x")
    assert (err.value.code, err.value.path) == ("certificate_key_unsupported", "private_key")


# CSD or e.firma -------------------------------------------------------------------------------------------

@needs_samples
@pytest.mark.parametrize("sample", FIEL_SAMPLES)
def test_the_fiel_certificates_of_the_satcfdi_samples_are_refused_with_their_own_code(sample):
    certificate = embedded_certificate(sample)
    assert csd.is_fiel(certificate)
    with pytest.raises(Unprocessable) as err:
        csd.require_csd(certificate, path="cer_base64")
    assert (err.value.status, err.value.code, err.value.path) == (422, "certificate_is_fiel", "cer_base64")
    spanish = err.value.localized(translator("es"))
    assert "e.firma" in spanish and "Certificado de Sello Digital" in spanish and "Certifica" in spanish
    assert spanish != err.value.message  # translated, not the English source


@needs_samples
@pytest.mark.parametrize("sample", CSD_SAMPLES)
def test_the_csds_that_sealed_the_other_samples_are_csds(sample):
    certificate = embedded_certificate(sample)
    assert not csd.is_fiel(certificate)
    root = etree.parse(str(SAMPLES / sample)).getroot()
    assert csd.certificate_number(certificate) == root.get("NoCertificado")
    emisor = root.find("{http://www.sat.gob.mx/cfd/4}Emisor")
    assert csd.certificate_matches(certificate, emisor.get("Rfc"))


def test_a_certificate_whose_serial_is_not_a_sat_number_is_refused():
    key = certs.rsa_key(slot=2)
    certificate = sat_like_certificate(key, rfc="AAA010101AAA", serial=x509.random_serial_number())
    with pytest.raises(ValueError):
        csd.certificate_number(certificate)
    with pytest.raises(Unprocessable) as err:
        csd.require_csd(certificate)
    assert err.value.code == "certificate_not_from_sat"


# Names for the CFDI ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("registered", "rfc", "cfdi_name"), [
    ("ESCUELA KEMPER URGATE SA DE CV", "EKU9003173C9", "ESCUELA KEMPER URGATE"),
    ("COMERCIAL DEL NORTE S DE RL DE CV", "CNO010101AA1", "COMERCIAL DEL NORTE"),
    ("INVERSIONES TORRE SAPI DE CV", "ITO010101AA1", "INVERSIONES TORRE"),
    ("DESPACHO CONTABLE ALFA SC", "DCA010101AA1", "DESPACHO CONTABLE ALFA"),
    ("FUNDACION LUZ AC", "FLU010101AA1", "FUNDACION LUZ"),
    ("AGRICOLA EL VALLE SPR DE RL", "AVA010101AA1", "AGRICOLA EL VALLE"),
    ("MUEBLES  FINOS   SA", "MFI010101AA1", "MUEBLES FINOS"),
    ("CASA", "CAS010101AA1", "CASA"),  # no regime to drop
    ("JOSE LUIS SA", "SAJL800101AB1", "JOSE LUIS SA"),  # a person's name is never cut
])
def test_the_cfdi_name_drops_a_companys_capital_regime_only(registered, rfc, cfdi_name):
    certificate = sat_like_certificate(certs.rsa_key(slot=2), rfc=rfc, organization=registered)
    assert csd.legal_name(certificate) == cfdi_name


# Trust ----------------------------------------------------------------------------------------------------

@needs_csds
def test_the_2023_eku_test_csd_chains_to_sats_test_ca_but_not_to_production():
    certificate = csd.read_certificate(eku()[0])
    test_authorities = csd.authorities_in_zip(CSD_DIR / "SATCertsPruebas_CA_test.zip")
    assert not csd.certificate_trusted(certificate, [], NOW)
    assert csd.certificate_trusted(certificate, [], NOW, extra_authorities=test_authorities)


@needs_csds
def test_the_production_authorities_are_satcfdis_bundle_read_in_place():
    bundled = csd.sat_authorities()
    shared = csd.authorities_in_zip((CSD_DIR / "SATCertsProd_CA.zip").read_bytes())
    def fingerprints(found):
        return {c.fingerprint(hashes.SHA256()) for c in found}

    assert fingerprints(bundled) == fingerprints(shared)
    assert csd.production_bundle_path().parts[-3:] == ("satcfdi", "transform", "CertsProd.zip")
    names = {c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in bundled}
    assert "AUTORIDAD CERTIFICADORA" in names and "AGENCIA REGISTRADORA CENTRAL" in names


def test_sats_production_intermediates_chain_to_the_banxico_roots_while_valid():
    by_name = {c.subject.rfc4514_string(): c for c in csd.sat_authorities()}
    ac5 = next(c for n, c in by_name.items() if "CN=AUTORIDAD CERTIFICADORA" in n)
    assert csd.certificate_trusted(ac5, [], NOW)
    ac4 = next(c for c in csd.sat_authorities() if c.not_valid_after_utc.year == 2023
               and c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.startswith("A.C. del"))
    assert csd.certificate_trusted(ac4, [], datetime(2020, 1, 1, tzinfo=UTC))
    # Its issuer, Banxico's ARC2, expired in July 2026 (the links above a certificate are checked at the
    # time; the certificate's own validity is checked on upload, apart).
    assert not csd.certificate_trusted(ac4, [], datetime(2027, 1, 1, tzinfo=UTC))


@needs_csds
def test_the_sat_tfd_certificate_is_issued_by_a_ca_satcfdis_bundle_lacks():
    """The data README says this SAT certificate chains to SATCertsProd_CA.zip; it does not: its issuer
    ("AC DEL SERVICIO DE ADMINISTRACION TRIBUTARIA", a generation newer than AC5) is in neither zip,
    and no certificate in them verifies its signature. So it is not trusted until the operator adds
    that CA (settings.trusted_ca_path)."""
    certificate = csd.read_certificate((CSD_DIR / "SAT_TFD_00001000000708361114.cer").read_bytes())
    everything = (*csd.sat_authorities(), *csd.authorities_in_zip(CSD_DIR / "SATCertsPruebas_CA_test.zip"))
    assert all(c.subject != certificate.issuer for c in everything)
    assert not csd.certificate_trusted(certificate, [], NOW)
    assert csd.certificate_rfcs(certificate) == {"SAT970701NN3"}
    assert csd.certificate_number(certificate) == "00001000000708361114"


def test_a_ca_the_operator_adds_makes_its_csds_trusted():
    ca = certs.make_ca("AC de pruebas del operador", key_slot=5, path_length=0)
    certificate = sat_like_certificate(certs.rsa_key(slot=2), rfc="AAA010101AAA", ca=ca)
    assert not csd.certificate_trusted(certificate, [], NOW)
    assert csd.certificate_trusted(certificate, [], NOW, extra_authorities=[ca.certificate])
    assert not csd.certificate_trusted(certificate, [], NOW + timedelta(days=365 * 50), [ca.certificate])


# A CSD-shaped certificate ---------------------------------------------------------------------------------

def sat_like_certificate(key, *, rfc: str, organization: str = "EMPRESA DE PRUEBA SA DE CV",
                         serial: int | None = None, ca: certs.LocalCA | None = None) -> x509.Certificate:
    """Shaped like SAT's CSDs: RFC / representative in x500UniqueIdentifier, the certificate number as
    the serial's ASCII digits, key usage digitalSignature + nonRepudiation and nothing else."""
    ca = ca or certs.make_ca("AC de pruebas", key_slot=6)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, organization),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, f"{rfc} / VADA800927DJ3"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Sucursal 1"),
    ])
    number = int.from_bytes(b"30001000000500009999", "big")
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(serial or number)
            .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2029, 1, 1, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=False)
            .sign(ca.key, hashes.SHA256()))


def test_the_csd_shaped_certificate_reads_as_a_csd():
    certificate = sat_like_certificate(certs.rsa_key(slot=2), rfc="AAA010101AAA")
    assert not csd.is_fiel(certificate) and csd.certificate_number(certificate) == "30001000000500009999"
    assert csd.certificate_rfcs(certificate) == {"AAA010101AAA"}


def test_the_local_csd_maker_writes_a_pair_sello_reads_as_a_sat_csd():
    cer, key = certs.make_csd(rfc="XIA190128J61", name="XENON INDUSTRIAL ARTICLES", password="pw",
                              number="30001000000500000042")
    private_key, certificate = csd.load_pair(cer, key, "pw", cer_path="cer", key_path="key",
                                             password_path="password")
    csd.require_csd(certificate)
    assert csd.certificate_number(certificate) == "30001000000500000042"
    assert csd.certificate_rfcs(certificate) == {"XIA190128J61"}
    assert csd.legal_name(certificate) == "XENON INDUSTRIAL ARTICLES"
    assert private_key.public_key().public_numbers() == certificate.public_key().public_numbers()
    assert refusal(cer, key, "wrong").code == "wrong_certificate_password"
