"""PKCS#12 files (RFC 7292): opening one with its password (`open_pkcs12`, and `load_credentials`,
the neutral certificate format of the country plugins), and reading its outer structure without the
password, to tell a damaged file from a wrong password when the file does not open.

A PKCS#12 file is a PFX: a version, the "authenticated safe" (a list of parts, each either plain
data holding bags, or data encrypted with the password) and a MAC over that list keyed by the
password. cryptography (OpenSSL) reports the same error for a wrong password and for a file whose
parts or MAC were damaged, since the MAC then fails either way. So when a file does not open:

- if its outer structure does not read (BER/DER broken, not a PFX, no parts), it is damaged;
- otherwise each part that needs the password (an encrypted part, or a plain part holding an
  encrypted private key) is tried on its own, rebuilt into a PFX of that part alone with a MAC
  made with the password: one that opens proves the password is right, and then the file is damaged.

A wrong password opens no part (decryption with the wrong key fails its padding check or yields
bytes that do not parse). A right password opens every undamaged part, so it is reported as wrong
only when every part that needs the password is damaged (a file with a single such part, or
damage in each of them)."""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs12

from sello.errors import Unprocessable
from sello.i18n import _l

if TYPE_CHECKING:
    from sello.models.certificate_files import UploadedFile

OID_DATA = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1
OID_ENCRYPTED_DATA = bytes.fromhex("2a864886f70d010706")  # 1.2.840.113549.1.7.6
OID_SHROUDED_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0102")  # 1.2.840.113549.1.12.10.1.2
OID_SHA256 = bytes.fromhex("608648016503040201")  # 2.16.840.1.101.3.4.2.1

SEQUENCE, INTEGER, OCTET_STRING, OID, NULL, CONTEXT_0 = 0x30, 0x02, 0x04, 0x06, 0x05, 0xA0
CONSTRUCTED = 0x20
MAX_DEPTH = 32
MAC_ITERATIONS = 2048
# Parts tried on their own, at most (real files have two): each try derives the part's key again, at
# the iteration count the file chose, so a file of many parts must not multiply that work.
MAX_PARTS_TRIED = 4


class Damaged(ValueError):
    """The bytes are not a readable PKCS#12 structure."""


@dataclass(frozen=True)
class Element:
    tag: int
    content: bytes  # for a constructed element in BER indefinite form, the content without the end marker
    raw: bytes  # the whole element as it appears in the file

    @property
    def constructed(self) -> bool:
        return bool(self.tag & CONSTRUCTED)


def _read(data: bytes, pos: int, depth: int = 0) -> tuple[Element, int]:
    """The BER element at `pos` and the position after it."""
    if depth > MAX_DEPTH or pos + 2 > len(data):
        raise Damaged("truncated")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise Damaged("multi-byte tags are not used in PKCS#12")
    start = pos + 2
    if first == 0x80:  # indefinite length: children up to an end-of-contents marker
        if not tag & CONSTRUCTED:
            raise Damaged("indefinite length on a primitive element")
        cursor = start
        while data[cursor:cursor + 2] != b"\x00\x00":
            _, cursor = _read(data, cursor, depth + 1)
        return Element(tag, data[start:cursor], data[pos:cursor + 2]), cursor + 2
    if first & 0x80:
        size = first & 0x7F
        if not 1 <= size <= 4 or start + size > len(data):
            raise Damaged("bad length")
        length = int.from_bytes(data[start:start + size], "big")
        start += size
    else:
        length = first
    end = start + length
    if end > len(data):
        raise Damaged("truncated")
    return Element(tag, data[start:end], data[pos:end]), end


def _children(element: Element, depth: int = 0) -> list[Element]:
    items, pos = [], 0
    while pos < len(element.content):
        item, pos = _read(element.content, pos, depth + 1)
        items.append(item)
    return items


def _expect(element: Element, tag: int) -> Element:
    if element.tag != tag:
        raise Damaged(f"expected tag {tag:#x}, found {element.tag:#x}")
    return element


def _octets(element: Element) -> bytes:
    """An OCTET STRING's bytes, primitive or (BER) constructed from segments."""
    if element.tag == OCTET_STRING:
        return element.content
    if element.tag == OCTET_STRING | CONSTRUCTED:
        return b"".join(_octets(segment) for segment in _children(element))
    raise Damaged("expected an OCTET STRING")


def _single(data: bytes) -> Element:
    element, end = _read(data, 0)
    if end != len(data):
        raise Damaged("trailing bytes")
    return element


def _content_info(element: Element) -> tuple[bytes, Element | None]:
    """(content type OID bytes, the [0] content or None) of a ContentInfo."""
    fields = _children(_expect(element, SEQUENCE))
    if not fields:
        raise Damaged("empty ContentInfo")
    content_type = _expect(fields[0], OID).content
    content = None
    if len(fields) > 1:
        wrapper = _expect(fields[1], CONTEXT_0)
        inner = _children(wrapper)
        if len(inner) != 1:
            raise Damaged("bad explicit content")
        content = inner[0]
    return content_type, content


def authenticated_safe(data: bytes) -> list[Element]:
    """The parts of a PFX's authenticated safe; Damaged when the outer structure does not read."""
    fields = _children(_expect(_single(data), SEQUENCE))
    if len(fields) not in (2, 3):
        raise Damaged("a PFX has a version, the authenticated safe and an optional MAC")
    _expect(fields[0], INTEGER)
    content_type, content = _content_info(fields[1])
    if content_type != OID_DATA or content is None:
        raise Damaged("not a password-integrity PFX")
    parts = _children(_expect(_single(_octets(content)), SEQUENCE))
    if not parts:
        raise Damaged("no parts")
    for part in parts:
        _content_info(part)
    if len(fields) == 3:
        _expect(fields[2], SEQUENCE)
    return parts


def needs_password(part: Element) -> bool:
    """An encrypted part, or a plain part holding an encrypted (shrouded) private key."""
    try:
        content_type, content = _content_info(part)
        if content_type == OID_ENCRYPTED_DATA:
            return True
        if content_type != OID_DATA or content is None:
            return False
        bags = _children(_expect(_single(_octets(content)), SEQUENCE))
        return any(_expect(_children(bag)[0], OID).content == OID_SHROUDED_KEY_BAG for bag in bags)
    except (Damaged, IndexError):
        return False


# Writing a PFX of one part -----------------------------------------------------------------------

def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _bmp_password(password: bytes | None) -> bytes:
    """RFC 7292 B.1: the password as a BMPString with two zero bytes at the end; no password at all
    (None, as opposed to "") is no bytes."""
    return b"" if password is None else password.decode("utf-8").encode("utf-16-be") + b"\x00\x00"


def _kdf_mac_key(password: bytes | None, salt: bytes, iterations: int) -> bytes:
    """RFC 7292 B.2 with SHA-256 (block 64 bytes), ID 3 (MAC key), 32 bytes."""
    v, u = 64, 32

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        size = v * ((len(value) + v - 1) // v)
        return (value * (size // len(value) + 1))[:size]

    d = bytes([3]) * v
    i = stretch(salt) + stretch(_bmp_password(password))
    a = d + i
    for _ in range(iterations):
        a = hashlib.sha256(a).digest()
    return a[:u]


def single_part_pfx(part: Element, password: bytes | None) -> bytes:
    """A PFX whose authenticated safe is `part` alone, with a SHA-256 MAC made with `password`."""
    safe = _tlv(SEQUENCE, part.raw)
    salt = os.urandom(16)
    digest = hmac.new(_kdf_mac_key(password, salt, MAC_ITERATIONS), safe, hashlib.sha256).digest()
    algorithm = _tlv(SEQUENCE, _tlv(OID, OID_SHA256) + _tlv(NULL, b""))
    mac = _tlv(SEQUENCE, _tlv(SEQUENCE, algorithm + _tlv(OCTET_STRING, digest)) + _tlv(OCTET_STRING, salt)
               + _tlv(INTEGER, MAC_ITERATIONS.to_bytes(2, "big")))
    auth_safe = _tlv(SEQUENCE, _tlv(OID, OID_DATA) + _tlv(CONTEXT_0, _tlv(OCTET_STRING, safe)))
    return _tlv(SEQUENCE, _tlv(INTEGER, b"\x03") + auth_safe + mac)


def opens(data: bytes, password: bytes | None) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pkcs12.load_pkcs12(data, password)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def password_opens_a_part(data: bytes, passwords: Iterable[bytes | None]) -> bool:
    """Whether one of `passwords` opens, on its own, a part of the file that needs it (see the
    module's docstring). Damaged when the outer structure does not read."""
    parts = [p for p in authenticated_safe(data) if needs_password(p)][:MAX_PARTS_TRIED]
    for password in passwords:
        if any(opens(single_part_pfx(part, password), password) for part in parts):
            return True
    return False


# Opening a file ------------------------------------------------------------------------------------

def _password_proven_right(data: bytes, attempts: tuple[bytes | None, ...]) -> bool:
    """True when the file is damaged whatever the password: its outer structure does not read, or
    the password opens one of its parts on its own."""
    try:
        return password_opens_a_part(data, attempts)
    except Damaged:
        return True


def open_pkcs12(data: bytes, password: str, *, file_path: str, password_path: str):
    """The file's contents (cryptography's PKCS12KeyAndCertificates); Unprocessable at `file_path`
    (`invalid_certificate_file`) or `password_path` (`wrong_certificate_password`) when it does not open."""
    secret = password.encode()
    # A file protected by an empty password may have been written with "" or with no password at all.
    attempts: tuple[bytes | None, ...] = (secret,) if secret else (b"", None)
    wrong_password = False
    for attempt in attempts:
        try:
            with warnings.catch_warnings():
                # Some CAs write BER instead of DER; cryptography reads it and warns.
                warnings.simplefilter("ignore", UserWarning)
                return pkcs12.load_pkcs12(data, attempt)
        except UnsupportedAlgorithm:
            raise Unprocessable(_l("The certificate file uses an encryption this service cannot read."),
                                code="invalid_certificate_file", path=file_path) from None
        except ValueError as exc:
            # cryptography says "Could not deserialize" for anything that is not PKCS#12 and
            # "Invalid password or PKCS12 data" when it reads as PKCS#12 but does not open: a wrong
            # password, or damage the MAC caught. The structure tells the two apart where it can.
            wrong_password = wrong_password or "password" in str(exc).lower()
    if wrong_password and not _password_proven_right(data, attempts):
        raise Unprocessable(_l("The password does not open this certificate file."),
                            code="wrong_certificate_password", path=password_path)
    raise Unprocessable(_l("The file is not a PKCS#12 (.p12/.pfx) certificate file, or it is damaged."),
                        code="invalid_certificate_file", path=file_path)


def load_credentials(files: Mapping[str, UploadedFile], password: str, *,
                     password_path: str = "password") -> tuple[Any, Any, list[Any]]:
    """The neutral certificate format (models.certificate_files.PKCS12_UPLOAD): (private key, certificate,
    the other certificates) from the PKCS#12 file `certificate`; any of them may be missing."""
    file = files["certificate"]
    bundle = open_pkcs12(file.data, password, file_path=file.path, password_path=password_path)
    return (bundle.key, bundle.cert.certificate if bundle.cert is not None else None,
            [c.certificate for c in bundle.additional_certs])
