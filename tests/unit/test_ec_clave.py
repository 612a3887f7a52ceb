"""The clave de acceso: módulo 11 as SRI's ficha técnica defines it, the 49-digit layout, parsing."""

from __future__ import annotations

from datetime import date

import pytest

from sello.countries.ec import clave


# SRI's published example (ficha técnica, Anexo 14): 05032012 | 01 | 1760013210001 | 1 | 001003 |
# 000990064 | 12345678 | 1 | check digit 4.
SRI_EXAMPLE = "0503201201176001321000110010030009900641234567814"


def test_the_check_digit_of_sris_own_example_is_4():
    assert clave.check_digit(SRI_EXAMPLE[:48]) == 4
    assert clave.is_valid(SRI_EXAMPLE)


def test_weights_run_2_to_7_from_the_right():
    # 48 digits: only the last two are non-zero, "12" -> 1*3 + 2*2 = 7; 11 - 7 = 4.
    assert clave.check_digit("0" * 46 + "12") == 4
    # The ficha's worked example 41261533 (sum 104, 104 mod 11 = 5, 11 - 5 = 6), padded with zeros.
    assert clave.check_digit("0" * 40 + "41261533") == 6


def test_results_11_and_10_become_0_and_1():
    assert clave.check_digit("0" * 48) == 0  # sum 0: 11 - 0 = 11 -> 0
    assert clave.check_digit("0" * 42 + "100002") == 0  # 1 x 7 + 2 x 2 = 11: 11 - 0 -> 0
    assert clave.check_digit("0" * 47 + "6") == 1  # 6 x 2 = 12 ≡ 1: 11 - 1 = 10 -> 1
    assert clave.check_digit("0" * 47 + "5") == 1  # 5 x 2 = 10: 11 - 10 = 1


def test_access_key_composes_the_example_again():
    key = clave.access_key(date(2012, 3, 5), "01", "1760013210001", "1", "001003", 990064, "12345678")
    assert key == SRI_EXAMPLE


def test_access_key_is_49_digits_and_checks():
    key = clave.access_key(date(2025, 12, 31), "04", "1792060346001", "2", "002015", 1, "00000000")
    assert len(key) == 49 and key.isdigit()
    assert key[:8] == "31122025" and key[30:39] == "000000001"
    assert clave.is_valid(key)


@pytest.mark.parametrize("sequence", [0, 1_000_000_000])
def test_a_sequence_out_of_range_is_refused(sequence):
    with pytest.raises(ValueError):
        clave.access_key(date(2025, 1, 1), "01", "1792060346001", "1", "001001", sequence, "12345678")


@pytest.mark.parametrize(("part", "value"), [("doc_code", "1"), ("ruc", "179206034600"), ("ambiente", "12"),
                                             ("series6", "00101"), ("numeric_code", "1234567a")])
def test_malformed_parts_are_refused(part, value):
    args = {"issue_date": date(2025, 1, 1), "doc_code": "01", "ruc": "1792060346001", "ambiente": "1",
            "series6": "001001", "sequence": 7, "numeric_code": "12345678"} | {part: value}
    with pytest.raises(ValueError):
        clave.access_key(**args)


def test_parse_returns_every_field():
    fields = clave.parse(SRI_EXAMPLE)
    assert fields == {
        "issue_date": date(2012, 3, 5), "doc_code": "01", "ruc": "1760013210001", "ambiente": "1",
        "series": "001003", "sequence": "000990064", "numeric_code": "12345678", "emission_type": "1",
        "check_digit": "4",
    }


@pytest.mark.parametrize("bad", [
    SRI_EXAMPLE[:48] + "5",  # wrong check digit
    SRI_EXAMPLE[:48],  # 48 digits
    SRI_EXAMPLE + "0",  # 50 digits
    "3102201201176001321000110010030009900641234567814",  # 31/02/2012
    SRI_EXAMPLE[:10] + "x" + SRI_EXAMPLE[11:],
    "",
])
def test_is_valid_rejects_malformed_keys(bad):
    assert not clave.is_valid(bad)


def test_a_key_with_any_one_digit_changed_is_caught():
    for i in range(48):
        digit = str((int(SRI_EXAMPLE[i]) + 1) % 10)
        assert not clave.is_valid(SRI_EXAMPLE[:i] + digit + SRI_EXAMPLE[i + 1:]), i
