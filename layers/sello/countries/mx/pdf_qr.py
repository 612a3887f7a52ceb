"""The QR code of the printed CFDI (SAT's verification URL), as a matrix of modules.

reportlab's QR encoder (reportlab.graphics.barcode.qrencoder, the code behind its QrCodeWidget) lays
out the symbol: finder, alignment and timing patterns, format and version information, where each
codeword goes and the eight masks. Two of its steps are too slow for a PDF rendered per document:
the Reed-Solomon error correction (it multiplies polynomial objects, about 6 ms for a CFDI's URL)
and the choice of the mask (it scores each candidate in about 4 ms, 80 ms for the whole widget).
Those two are done here: the error correction with log/antilog tables and, per generator, the
product of each byte with it precomputed once; the mask by the penalty rules of ISO/IEC 18004
(§7.8.3.1), counted with integer bit operations on the symbol and its transpose. reportlab lays out
each version's eight masked symbols without data once per process; a document's symbol is one of
them with the data bits XORed in at their places, as reportlab itself sets each data module to
bit XOR mask. About 1 ms in all.

Byte mode (the URL's UTF-8), error correction level M, the smallest version that holds the data.
"""

from __future__ import annotations

import re
from functools import cache

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRRSBlock

LEVEL = QRErrorCorrectLevel.M
BYTE_MODE = 0b0100
PAD = (0xEC, 0x11)

# GF(256) with the QR code's polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _i in range(255):
    _EXP[_i] = _value
    _LOG[_value] = _i
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


@cache
def _generator(degree: int) -> tuple[int, ...]:
    """The coefficients of (x - a^0)(x - a^1)…(x - a^(degree-1)) after the leading 1."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coefficient in enumerate(poly):
            nxt[j] ^= coefficient
            if coefficient:
                nxt[j + 1] ^= _EXP[_LOG[coefficient] + i]
        poly = nxt
    return tuple(poly[1:])


@cache
def _products(degree: int) -> tuple[int, ...]:
    """For each byte f, f × the generator's coefficients as one integer of `degree` bytes: what one
    step of the polynomial division subtracts (XORs) from the remainder."""
    generator = _generator(degree)
    table = [0]
    for factor in range(1, 256):
        log = _LOG[factor]
        table.append(int.from_bytes(bytes(_EXP[log + _LOG[g]] for g in generator), "big"))
    return tuple(table)


def _error_correction(data: list[int], degree: int) -> list[int]:
    """The `degree` Reed-Solomon codewords of one block: the remainder of data × x^degree divided by
    the generator, kept as one integer of `degree` bytes."""
    products, shift, keep = _products(degree), 8 * (degree - 1), (1 << 8 * degree) - 1
    remainder = 0
    for byte in data:
        factor = byte ^ (remainder >> shift)
        remainder = ((remainder << 8) & keep) ^ products[factor]
    return list(remainder.to_bytes(degree, "big"))


@cache
def _blocks(version: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, total codewords) of each block of `version` at level M."""
    return tuple((b.dataCount, b.totalCount) for b in QRRSBlock.getRSBlocks(version, LEVEL))


def _version(length: int) -> int:
    """The smallest version whose level-M capacity holds `length` bytes in byte mode."""
    for version in range(1, 41):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * length <= 8 * sum(d for d, _ in _blocks(version)):
            return version
    raise ValueError(f"{length} bytes do not fit in a QR code at level M.")


def _codewords(data: bytes, version: int) -> list[int]:
    """The data stream (mode, count, bytes, terminator, padding) cut into the version's blocks,
    each followed by its error correction, interleaved as the symbol carries them."""
    blocks = _blocks(version)
    capacity = sum(d for d, _ in blocks)
    count_bits = 8 if version < 10 else 16
    bits = f"{BYTE_MODE:04b}{len(data):0{count_bits}b}" + "".join(f"{b:08b}" for b in data)
    bits += "0" * min(4, 8 * capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    stream = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    stream += [PAD[i % 2] for i in range(capacity - len(stream))]
    data_blocks, ec_blocks, offset = [], [], 0
    for data_count, total in blocks:
        block = stream[offset:offset + data_count]
        offset += data_count
        data_blocks.append(block)
        ec_blocks.append(_error_correction(block, total - data_count))
    out = []
    for group in (data_blocks, ec_blocks):
        for i in range(max(map(len, group))):
            out.extend(block[i] for block in group if i < len(block))
    return out


@cache
def _layout(version: int) -> tuple[int, tuple[int, ...], tuple[int, ...], int, int]:
    """What reportlab lays out for `version`, once per process: (the side in modules, the flat index
    (row × side + column) of each data module in placement order, each mask's symbol holding no data,
    and two masks used by the penalty: the modules with a right-hand neighbour in their row, and
    those that start a 2×2 block). A symbol is one integer whose binary digits are its modules row by
    row, the first the highest (1 = dark). A symbol carrying data is the one without data XOR the
    data's bits at their places, as reportlab sets each data module to bit ^ mask."""
    code = QRCode(version, LEVEL)
    code.dataCache = [0] * sum(total for _, total in _blocks(version))
    empty = []
    for mask in range(8):
        code.makeImpl(False, mask)
        empty.append(int("".join("1" if m else "0" for row in code.modules for m in row), 2))
    side = code.getModuleCount()
    places = tuple(row * side + col for col, row in code.dataPosIterator())  # known once laid out
    # In the integer, a module's right-hand neighbour is the next lower bit, the one below it `side`
    # bits lower; a mask keeps the bits whose neighbour is inside the symbol.
    paired = int(("1" * (side - 1) + "0") * side, 2)
    blocks = int(("1" * (side - 1) + "0") * (side - 1) + "0" * side, 2)
    return side, places, tuple(empty), paired, blocks


# A finder-like pattern (dark, light, three dark, light, dark) with four light modules after or before.
_FINDER_LIKE = (re.compile("10111010000"), re.compile("00001011101"))


def _runs(symbol: int, paired: int) -> int:
    """Rule 1 along the rows of `symbol`: 3 for each run of five modules of one colour, one more for
    each further module. Bit b of `same` says module b equals its right-hand neighbour; four such
    side by side are five equal modules."""
    same = ~(symbol ^ (symbol << 1)) & paired
    fives = same & (same << 1) & (same << 2) & (same << 3)  # each run of n >= 5 gives n - 4 bits
    return fives.bit_count() + 2 * (fives & ~(fives >> 1)).bit_count()  # + 2 per run: n - 2 in all


def _penalty(symbol: int, side: int, paired: int, blocks: int) -> int:
    """ISO/IEC 18004's penalty of a masked symbol: runs of five or more modules of one colour in rows
    and columns, 2×2 blocks of one colour, finder-like 1:1:3:1:1 patterns beside four light modules
    (the quiet zone counting as light), and the distance of the dark share from half."""
    bits = f"{symbol:0{side * side}b}"
    columns = "".join(bits[c::side] for c in range(side))  # the transposed symbol
    score = _runs(symbol, paired) + _runs(int(columns, 2), paired)
    light = ~symbol & ((1 << side * side) - 1)
    for x in (symbol, light):  # a module with its right, lower and lower-right neighbours
        score += 3 * (x & (x << 1) & (x << side) & (x << (side + 1)) & blocks).bit_count()
    lines = [bits[r * side:(r + 1) * side] for r in range(side)] + [columns[c * side:(c + 1) * side]
                                                                     for c in range(side)]
    padded = "0000" + "000020000".join(lines) + "0000"
    score += 40 * sum(len(pattern.findall(padded)) for pattern in _FINDER_LIKE)  # neither overlaps itself
    dark_share = symbol.bit_count() * 100 / (side * side)
    return score + 10 * int(abs(dark_share - 50) // 5)


def modules(text: str) -> list[str]:
    """The QR code of `text`: its rows from the top, each a string of "1" (dark) and "0" (light),
    without the quiet zone."""
    data = text.encode("utf-8")
    version = _version(len(data))
    side, places, empty, paired, blocks = _layout(version)
    stream = "".join(f"{byte:08b}" for byte in _codewords(data, version))
    flat = ["0"] * (side * side)
    for place, bit in zip(places, stream):
        flat[place] = bit
    payload = int("".join(flat), 2)
    symbol = min((s ^ payload for s in empty), key=lambda s: _penalty(s, side, paired, blocks))
    bits = f"{symbol:0{side * side}b}"
    return [bits[r * side:(r + 1) * side] for r in range(side)]
