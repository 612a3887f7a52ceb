"""A damaged PKCS#12 file is reported as a damaged file (`invalid_certificate_file`), not as a wrong
password, whenever that can be known (services/pkcs12.py): the outer structure does not read, or the
password opens one of the file's password-protected parts on its own. The rule achieved, tested here:
with the right password, damage confined to one part, or outside the parts (MAC, structure), never
reads as `wrong_certificate_password`; only a file whose every password-protected part is damaged
still does, since nothing then tells it from a wrong password."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import certs
from sello.countries import get_plugin
from sello.errors import Unprocessable
from sello.services import pkcs12
from sello.services.certificates import check_p12

PASSWORD = "contraseña-correcta"
NOW = datetime.now(UTC).replace(microsecond=0)
FILES = {"aes": certs.make_p12(password=PASSWORD), "3des": certs.make_p12(password=PASSWORD, legacy=True)}
EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(data: bytes, password: str = PASSWORD) -> str:
    """The upload's verdict on the file: "accepted" or the rejection's code."""
    try:
        check_p12(data, password, tax_id=certs.DEMO_RUC, plugin=get_plugin("EC"), now=NOW,
                  extra_authorities=(certs.local_ca().certificate,))
    except Unprocessable as exc:
        assert password not in exc.message
        return exc.code
    return "accepted"


def flipped(data: bytes, bits: list[int]) -> bytes:
    damaged = bytearray(data)
    for bit in bits:
        damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def part_ranges(data: bytes) -> list[range]:
    """Byte ranges of the parts that need the password."""
    ranges = []
    for part in pkcs12.authenticated_safe(data):
        if pkcs12.needs_password(part):
            start = data.index(part.raw)
            ranges.append(range(start, start + len(part.raw)))
    return ranges


def test_the_files_have_two_password_protected_parts_and_open_as_they_are():
    for data in FILES.values():
        assert len(part_ranges(data)) == 2
        assert outcome(data) == "accepted"
        assert outcome(data, "otra-contraseña") == "wrong_certificate_password"


@pytest.mark.parametrize("kind", sorted(FILES))
@EXAMPLES
@given(position=st.data())
def test_one_flipped_bit_never_reads_as_a_wrong_password(kind, position):
    data = FILES[kind]
    bit = position.draw(st.integers(0, len(data) * 8 - 1), label="bit")
    assert outcome(flipped(data, [bit])) != "wrong_certificate_password"


@pytest.mark.parametrize("kind", sorted(FILES))
@EXAMPLES
@given(choice=st.data())
def test_any_damage_within_one_part_never_reads_as_a_wrong_password(kind, choice):
    data = FILES[kind]
    part = choice.draw(st.sampled_from(part_ranges(data)), label="part")
    bits = choice.draw(st.lists(st.integers(part.start * 8, part.stop * 8 - 1), min_size=1, max_size=40),
                       label="bits")
    result = outcome(flipped(data, bits))
    assert result != "wrong_certificate_password"
    assert result == "invalid_certificate_file" or result == "accepted"  # a bit nobody reads


def test_a_damaged_mac_is_a_damaged_file():
    data = FILES["aes"]
    mac_digest = data.rindex(bytes([0x04, 0x20])) + 2  # the SHA-256 MAC value at the end of the file
    assert outcome(flipped(data, [mac_digest * 8])) == "invalid_certificate_file"


def test_a_truncated_file_is_a_damaged_file():
    for data in FILES.values():
        assert outcome(data[:-10]) == "invalid_certificate_file"
        assert outcome(data[: len(data) // 2]) == "invalid_certificate_file"


def test_a_wrong_password_on_a_damaged_file_is_still_a_wrong_password():
    """Nothing opens with it, so nothing shows the damage."""
    data = FILES["aes"]
    one_part = part_ranges(data)[0]
    damaged = flipped(data, [(one_part.start + len(one_part) // 2) * 8])
    assert outcome(damaged, "otra-contraseña") == "wrong_certificate_password"


def test_the_limit_every_protected_part_damaged_reads_as_a_wrong_password():
    """Documented limit: with every password-protected part damaged, no part opens with the right
    password either, and the file cannot be told from a wrong password."""
    data = FILES["aes"]
    # The first 16-byte OCTET STRING of each part is its PBKDF2 salt: a changed salt derives another
    # key, as a wrong password would.
    salts = [data.index(b"\x04\x10", r.start, r.stop) + 2 for r in part_ranges(data)]
    assert outcome(flipped(data, [salts[0] * 8])) == "invalid_certificate_file"  # the other part opens
    assert outcome(flipped(data, [s * 8 for s in salts])) == "wrong_certificate_password"


def test_a_file_without_password_is_read_with_no_password_and_with_an_empty_one():
    key = certs.rsa_key(1)
    plain = certs.pack_p12(key, certs.make_certificate(key), "")
    assert outcome(plain, "") == "accepted"
    assert not [p for p in pkcs12.authenticated_safe(plain) if pkcs12.needs_password(p)]


def test_the_structure_reader_refuses_what_is_not_a_pfx():
    for junk in (b"", b"\x30", b"\x30\x80\x02\x01\x03", b"\x04\x03abc", b"\x30\x03\x02\x01\x03" + b"x",
                 b"\x30\x84\xff\xff\xff\xff"):
        with pytest.raises(pkcs12.Damaged):
            pkcs12.authenticated_safe(junk)
        assert outcome(junk) == "invalid_certificate_file"


def test_a_file_of_many_parts_is_tried_part_by_part_only_a_few_times(monkeypatch):
    """Each try derives a part's key again; a crafted file with many parts does not multiply that."""
    part = pkcs12.authenticated_safe(FILES["aes"])[0]
    safe = pkcs12._tlv(pkcs12.SEQUENCE, part.raw * 50)
    auth_safe = pkcs12._tlv(pkcs12.SEQUENCE, pkcs12._tlv(pkcs12.OID, pkcs12.OID_DATA)
                            + pkcs12._tlv(pkcs12.CONTEXT_0, pkcs12._tlv(pkcs12.OCTET_STRING, safe)))
    crafted = pkcs12._tlv(pkcs12.SEQUENCE, pkcs12._tlv(pkcs12.INTEGER, b"\x03") + auth_safe)
    assert len(pkcs12.authenticated_safe(crafted)) == 50
    tries = []
    real_opens = pkcs12.opens
    monkeypatch.setattr(pkcs12, "opens", lambda data, password: tries.append(1) or real_opens(data, password))
    assert not pkcs12.password_opens_a_part(crafted, ["otra-contraseña".encode()])
    assert len(tries) == pkcs12.MAX_PARTS_TRIED
