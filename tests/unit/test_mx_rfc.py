"""Mexico's RFC: shape, date, check digit (módulo 11), person type and the generic RFCs; tried on
every RFC of the shared test certificates and sample CFDIs."""

from __future__ import annotations

import re
import unicodedata

import pytest
from cryptography import x509

from sello.countries.mx import rfc
from sello.errors import Unprocessable
from sello.i18n import translator
from tests.conftest import DATA, needs_data

CSD = DATA / "mx" / "csd"
SAMPLES = DATA / "mx" / "samples"
UNIQUE_IDENTIFIER = x509.ObjectIdentifier("2.5.4.45")
# SAT's documentation placeholders found in the samples: their last character is not the check digit
# SAT's rule gives (AAA010101AAA is the issuer of SAT's own CFDI examples and of satcfdi's 2021 test
# certificate, PUT211201AX4 the PAC of its example stamp, the others receivers of example CFDIs).
PLACEHOLDERS = {"AAA010101AAA": "1", "PUT211201AX4": "3", "MCI7306249Y1": "6", "BASJ600902KL9": "0"}


def shared_rfcs() -> set[str]:
    """Every RFC in the shared certificates (x500UniqueIdentifier "RFC / RFC of the legal
    representative") and in the Emisor, Receptor and TFD of the sample CFDIs."""
    found: set[str] = set()
    for path in CSD.glob("*.cer"):
        certificate = x509.load_der_x509_certificate(path.read_bytes())
        for attribute in certificate.subject.get_attributes_for_oid(UNIQUE_IDENTIFIER):
            found.update(part.strip() for part in attribute.value.split("/") if part.strip())
    for path in SAMPLES.glob("*.xml"):
        text = path.read_bytes().decode()
        found.update(value.replace("&amp;", "&").strip()
                     for value in re.findall(r'\b(?:Rfc|RfcProvCertif)="([^"]*)"', text))
    return found


@needs_data("mx", "csd")
@needs_data("mx", "samples")
def test_every_shared_rfc_passes_except_sats_placeholders():
    rfcs = shared_rfcs()
    # The shared material has the RFCs its README names, & and Ñ-free personas físicas included.
    assert {"EKU9003173C9", "H&E951128469", "XIQB891116QE4", "IIA040805DZ4", "XIA190128J61", "EWE1709045U0",
            "JES900109Q90", "XAXX010101000"} <= rfcs
    for value in sorted(rfcs - PLACEHOLDERS.keys()):
        assert rfc.check(value) == value, value
    for value, digit in PLACEHOLDERS.items():
        assert value in rfcs
        with pytest.raises(rfc.InvalidRfc) as caught:
            rfc.check(value)
        assert f"should be {digit}, not {value[-1]}" in str(caught.value)


def test_the_check_digit_worked_by_hand():
    # EKU9003173C9, a persona moral, gets a leading space: values 37 14 20 31 9 0 0 3 1 7 3 12 weighted
    # 13…2 add up to 481+168+220+310+81+0+0+18+5+28+9+24 = 1344 = 11·122 + 2, so 11 − 2 = 9.
    assert rfc.check_digit("EKU9003173C9") == "9"
    # A remainder of 1 gives A, of 0 gives 0 (COSC8001137NA and XEXX010101000 are such cases).
    assert rfc.check_digit("COSC8001137NA") == "A"
    assert rfc.check_digit("XEXX010101000") == "0"


def test_ampersand_and_enie_count_as_letters():
    assert rfc.check("H&E951128469") == "H&E951128469"
    assert rfc.person_type("H&E951128469") == "moral"
    # Ñ has its own value (38) in the check digit: swapping it for N changes the digit.
    base = "ÑAB900101AB"
    with_enie = base + rfc.check_digit(base + "0")
    assert rfc.check(with_enie) == with_enie
    assert rfc.check_digit("NAB900101AB0") != rfc.check_digit("ÑAB900101AB0")


@pytest.mark.parametrize(("value", "expected"), [
    ("eku9003173c9", "EKU9003173C9"),
    ("  EKU9003173C9\t", "EKU9003173C9"),
    ("EKU-900317-3C9", "EKU9003173C9"),
    ("xiqb 891116 qe4", "XIQB891116QE4"),
    (unicodedata.normalize("NFD", "h&e951128469"), "H&E951128469"),
])
def test_written_forms_are_normalized(value, expected):
    assert rfc.normalize_rfc(value) == expected


@pytest.mark.parametrize(("value", "person"), [
    ("EKU9003173C9", "moral"), ("XIQB891116QE4", "fisica"), ("XAXX010101000", "fisica"),
    ("XEXX010101000", "fisica"),
])
def test_person_type_follows_the_length(value, person):
    assert rfc.person_type(value) == person


def test_generic_rfcs_are_accepted_as_sat_treats_them():
    # Público en general: its last digit is not the one the rule gives, and SAT accepts it anyway.
    assert rfc.check_digit(rfc.GENERAL_PUBLIC) != rfc.GENERAL_PUBLIC[-1]
    assert rfc.check(rfc.GENERAL_PUBLIC) == rfc.GENERAL_PUBLIC
    assert rfc.check("xexx010101000") == rfc.FOREIGN
    assert rfc.is_generic("XAXX010101000") and not rfc.is_generic("EKU9003173C9")


@pytest.mark.parametrize(("value", "fragment"), [
    ("EKU9003173C", "12 characters (persona moral) or 13"),
    ("EKU9003173C9XY", "not 14"),
    ("EK19003173C9", "3 letters (persona moral) or 4"),
    ("EKU9003173CB", "3 letters"),  # the check digit is 0-9 or A
    ("EKU900230AB1", "900230 is no date"),  # 30 February
    ("EKU901301AB1", "901301 is no date"),  # month 13
    ("EKU9003173C8", "should be 9, not 8"),
])
def test_invalid_rfcs_say_what_to_fix(value, fragment):
    with pytest.raises(Unprocessable) as caught:
        rfc.normalize_rfc(value, path="customer.tax_id")
    error = caught.value
    assert (error.status, error.code, error.path) == (422, "invalid_tax_id", "customer.tax_id")
    assert fragment in error.message
    assert not rfc.is_valid(value)


def test_29_february_only_in_years_divisible_by_four():
    leap = "ABC000229AB"
    leap += rfc.check_digit(leap + "0")
    assert rfc.check(leap) == leap
    with pytest.raises(rfc.InvalidRfc, match="010229 is no date"):
        rfc.check("ABC010229AB1")


def test_the_message_is_spanish_by_default():
    with pytest.raises(Unprocessable) as caught:
        rfc.normalize_rfc("EKU9003173C8")
    spanish = caught.value.localized(translator("es"))
    assert spanish != caught.value.message
    assert "RFC" in spanish and "9" in spanish
