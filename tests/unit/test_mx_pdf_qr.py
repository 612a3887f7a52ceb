"""The QR code of the printed CFDI: read back from the PDF's drawing with a QR reader written here from
ISO/IEC 18004 (format information, unmasking, codeword order, Reed-Solomon syndromes, byte mode), it
carries SAT's verification URL of the document."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.graphics.barcode.qrencoder import QR8bitByte, QRCode, QRErrorCorrectLevel
from sello.countries.mx import pdf, pdf_layout, pdf_qr

from tests.conftest import DATA, needs_data
from tests.unit.test_mx_pdf import CFDI_NS, ISSUER_RFC, SELLO, TFD_NS, UUID, cfdi, descriptions

VERIFY = "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"

# -- a QR reader ------------------------------------------------------------------------------------

# Alignment pattern centres (ISO/IEC 18004 Annex E) and level-M blocks as (count, total, data codewords)
# (Table 9) for the versions a CFDI's URL takes, and a few around them.
ALIGNMENT = {1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34], 7: [6, 22, 38],
             8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50], 11: [6, 30, 54], 12: [6, 32, 58],
             13: [6, 34, 62]}
BLOCKS_M = {1: [(1, 26, 16)], 2: [(1, 44, 28)], 3: [(1, 70, 44)], 4: [(2, 50, 32)], 5: [(2, 67, 43)],
            6: [(4, 43, 27)], 7: [(4, 49, 31)], 8: [(2, 60, 38), (2, 61, 39)], 9: [(3, 58, 36), (2, 59, 37)],
            10: [(4, 69, 43), (1, 70, 44)], 11: [(1, 80, 50), (4, 81, 51)], 12: [(6, 58, 36), (2, 59, 37)],
            13: [(8, 59, 37), (1, 60, 38)]}
MASKS = (
    lambda r, c: (r + c) % 2 == 0, lambda r, c: r % 2 == 0, lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0, lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: (r * c) % 2 + (r * c) % 3 == 0, lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
)
EXP, LOG = [0] * 512, [0] * 256
_x = 1
for _i in range(255):
    EXP[_i], LOG[_x] = _x, _i
    _x = (_x << 1) ^ (0x11D if _x & 0x80 else 0)
for _i in range(255, 512):
    EXP[_i] = EXP[_i - 255]


def _format_word(data: int) -> int:
    """The 15-bit format information for 5 data bits: BCH(15,5) with generator 0x537, masked."""
    remainder = data << 10
    for bit in range(14, 9, -1):
        if remainder >> bit & 1:
            remainder ^= 0x537 << (bit - 10)
    return ((data << 10) | remainder) ^ 0x5412


FORMATS = {_format_word(data): data for data in range(32)}


def _function_modules(size: int, version: int) -> set[tuple[int, int]]:
    """(row, column) of every module that does not carry data."""
    taken = set()
    for r0, c0 in ((0, 0), (0, size - 8), (size - 8, 0)):  # finders, separators, format areas
        taken |= {(r, c) for r in range(r0, r0 + 8) for c in range(c0, c0 + 8)}
    taken |= {(8, c) for c in range(9)} | {(r, 8) for r in range(9)}
    taken |= {(8, c) for c in range(size - 8, size)} | {(r, 8) for r in range(size - 8, size)}
    taken |= {(6, i) for i in range(size)} | {(i, 6) for i in range(size)}
    centres = ALIGNMENT[version]
    for r in centres:
        for c in centres:
            if (r, c) in ((6, 6), (6, centres[-1]), (centres[-1], 6)):
                continue
            taken |= {(r + dr, c + dc) for dr in range(-2, 3) for dc in range(-2, 3)}
    if version >= 7:  # version information
        taken |= {(r, c) for r in range(6) for c in range(size - 11, size - 8)}
        taken |= {(r, c) for r in range(size - 11, size - 8) for c in range(6)}
    return taken


def _syndromes_are_zero(block: list[int], ec_count: int) -> bool:
    for i in range(ec_count):
        value = 0
        for byte in block:
            value = (EXP[LOG[value] + i] if value else 0) ^ byte
        if value:
            return False
    return True


def decode_qr(grid: list[list[bool]]) -> str:
    """The text of a level-M, byte-mode QR code given as its modules (True = dark)."""
    size = len(grid)
    version = (size - 17) // 4
    bits = 0
    for i in range(6):
        bits |= grid[i][8] << i
    bits |= grid[7][8] << 6 | grid[8][8] << 7 | grid[8][7] << 8
    for i in range(9, 15):
        bits |= grid[8][14 - i] << i
    assert bits in FORMATS, "format information unreadable"
    level, mask = FORMATS[bits] >> 3, FORMATS[bits] & 7
    assert level == 0, "not error correction level M"
    function = _function_modules(size, version)
    stream = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for step in range(size):
            row = size - 1 - step if upward else step
            for col in (right, right - 1):
                if (row, col) not in function:
                    stream.append(grid[row][col] ^ MASKS[mask](row, col))
        right -= 2
    bits_text = "".join("1" if b else "0" for b in stream)
    codewords = [int(bits_text[i:i + 8], 2) for i in range(0, len(bits_text) - 7, 8)]
    layout = [(total, data) for count, total, data in BLOCKS_M[version] for _ in range(count)]
    blocks: list[list[int]] = [[] for _ in layout]
    position = 0
    for i in range(max(data for _, data in layout)):
        for block, (_, data) in zip(blocks, layout):
            if i < data:
                block.append(codewords[position])
                position += 1
    ec_count = layout[0][0] - layout[0][1]
    data_stream = [b for block in blocks for b in block]
    for _ in range(ec_count):
        for block in blocks:
            block.append(codewords[position])
            position += 1
    for block in blocks:
        assert _syndromes_are_zero(block, ec_count), "Reed-Solomon check failed"
    bitstring = "".join(f"{b:08b}" for b in data_stream)
    assert bitstring[:4] == "0100", "not byte mode"
    count_bits = 8 if version < 10 else 16
    length = int(bitstring[4:4 + count_bits], 2)
    start = 4 + count_bits
    data = bytes(int(bitstring[start + 8 * i:start + 8 * i + 8], 2) for i in range(length))
    end = start + 8 * length
    assert bitstring[end:end + 4] in ("0000", "000", "00", "0", ""), "no terminator"
    return data.decode("utf-8")


def qr_grid(page) -> tuple[list[list[bool]], float]:
    """The modules of the QR code drawn on the page (the rectangles filled without stroke), and its
    width in points without the quiet zone."""
    rects, pending = [], []
    for operands, op in ContentStream(page.get_contents(), page.pdf).operations:
        if op == b"re":
            pending.append(tuple(float(v) for v in operands))
        elif op in (b"f", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*", b"n"):
            if op in (b"f", b"f*"):
                rects.extend(pending)
            pending = []
    assert rects, "no QR code drawn"
    module = min(h for _, _, _, h in rects)
    left = min(x for x, _, _, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    width = max(x + w for x, _, w, _ in rects) - left
    size = round(width / module)
    grid = [[False] * size for _ in range(size)]
    for x, y, w, h in rects:
        assert abs(h - module) < 1e-3
        row, col = round((top - y - h) / module), round((x - left) / module)
        for c in range(col, col + round(w / module)):
            grid[row][c] = True
    return grid, width


def decoded_url(document: bytes, **options) -> str:
    page = PdfReader(io.BytesIO(pdf.render(document, **options))).pages[-1]  # the stamp ends the document
    return decode_qr(qr_grid(page)[0])


# -- the code in the PDF ----------------------------------------------------------------------------

def test_the_qr_carries_sats_verification_url_of_the_document():
    document, _ = cfdi(descriptions(10))
    root = etree.fromstring(document)
    root.set("Total", "1160.00")
    expected = (f"{VERIFY}?id={UUID}&re={ISSUER_RFC.replace('&', '&amp;')}&rr=PEMJ800101AB2&tt=1160.0"
                f"&fe={SELLO[-8:]}")
    assert decoded_url(etree.tostring(root)) == expected
    assert decoded_url(etree.tostring(root), language="en") == expected


def test_another_document_has_another_code():
    document, _ = cfdi(descriptions(2))
    other = document.replace(UUID.encode(), b"0C8D0C6B-7D0A-4D4B-9E47-2C1D7A7E1A11")
    assert "id=0C8D0C6B-7D0A-4D4B-9E47-2C1D7A7E1A11&" in decoded_url(other)
    assert f"id={UUID}&" in decoded_url(document)


def test_the_code_is_at_least_the_size_sat_asks_for_with_its_quiet_zone():
    document, _ = cfdi(descriptions(1))
    page = PdfReader(io.BytesIO(pdf.render(document))).pages[0]
    grid, width = qr_grid(page)
    module = width / len(grid)
    assert (len(grid) + 2 * pdf_layout.QR_QUIET) * module >= 2.75 / 2.54 * 72  # 2.75 cm a side at least
    assert pdf_layout.QR_QUIET >= 4


@needs_data("mx", "samples")
@pytest.mark.parametrize("name", ["cfdiutils_cfdi40-valid.xml",
                                  "satcfdi_HE951128469_ingreso_iva16_stamped.xml"])
def test_the_shared_samples_codes(name):
    data = (DATA / "mx" / "samples" / name).read_bytes()
    root = etree.fromstring(data)
    tfd = root.find(f"{{{CFDI_NS}}}Complemento/{{{TFD_NS}}}TimbreFiscalDigital")
    issuer = root.find(f"{{{CFDI_NS}}}Emisor").get("Rfc").replace("&", "&amp;")
    customer = root.find(f"{{{CFDI_NS}}}Receptor").get("Rfc")
    total = root.get("Total")  # 3327.01 and 17852.75: no zero to leave out
    assert decoded_url(data) == (f"{VERIFY}?id={tfd.get('UUID')}&re={issuer}&rr={customer}&tt={total}"
                                 f"&fe={root.get('Sello')[-8:]}")


# -- the encoder ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["x", "Ñandú", "https://example.com/" + "a" * 120,
                                  VERIFY + "?id=" + "9" * 200])
def test_the_matrix_is_reportlabs_own_layout_with_one_of_its_masks(text):
    rows = pdf_qr.modules(text)
    data = text.encode("utf-8")
    reference = QRCode(None, QRErrorCorrectLevel.M)
    reference.addData(QR8bitByte(data))
    reference.version = reference.calculate_version()
    assert len(rows) == 4 * reference.version + 17
    layouts = []
    for mask in range(8):
        reference.makeImpl(False, mask)
        layouts.append(["".join("1" if m else "0" for m in row) for row in reference.modules])
    assert rows in layouts
    assert decode_qr([[m == "1" for m in row] for row in rows]) == text


def reference_penalty(rows: list[str]) -> int:
    """ISO/IEC 18004 §7.8.3.1, counted module by module: N1 = 3 (+1 per module past five) for a run of
    one colour in a row or column, N2 = 3 per 2×2 block of one colour, N3 = 40 per 1011101 with four
    light modules on one side (outside the symbol counting as light), N4 = 10 per 5 % the dark share
    strays from half."""
    size = len(rows)
    lines = rows + ["".join(row[c] for row in rows) for c in range(size)]
    score = 0
    for line in lines:
        run = 1
        for previous, current in zip(line, line[1:] + "x"):
            if current == previous:
                run += 1
                continue
            score += run - 2 if run >= 5 else 0
            run = 1
        padded = "0000" + line + "0000"
        for i in range(len(padded) - 10):
            if padded[i:i + 11] in ("10111010000", "00001011101"):
                score += 40
    for r in range(size - 1):
        for c in range(size - 1):
            if rows[r][c] == rows[r][c + 1] == rows[r + 1][c] == rows[r + 1][c + 1]:
                score += 3
    dark = sum(row.count("1") for row in rows) * 100 / size ** 2
    return score + 10 * int(abs(dark - 50) // 5)


@pytest.mark.parametrize("text", ["Ñandú", VERIFY + "?id=" + UUID + "&re=XAXX010101000&tt=1160.0",
                                  "https://example.com/" + "a" * 120])
def test_the_mask_chosen_has_the_lowest_penalty(text):
    reference = QRCode(None, QRErrorCorrectLevel.M)
    reference.addData(QR8bitByte(text.encode("utf-8")))
    reference.version = reference.calculate_version()
    penalties = {}
    for mask in range(8):
        reference.makeImpl(False, mask)
        rows = ["".join("1" if m else "0" for m in row) for row in reference.modules]
        penalties[tuple(rows)] = reference_penalty(rows)
    chosen = tuple(pdf_qr.modules(text))
    assert penalties[chosen] == min(penalties.values())


def test_text_too_long_for_a_qr_code_is_refused():
    with pytest.raises(ValueError, match="do not fit"):
        pdf_qr.modules("x" * 3000)
