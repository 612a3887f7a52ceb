"""The page-layout engine the printed documents share (Ecuador's RIDE, Mexico's printed CFDI): blocks
(boxes of labelled fields, tables, two stacks side by side) flowed onto A4 pages and drawn with
reportlab's canvas, and the pieces a masthead is made of (bold lines, "Label: value" rows, the
issuer's logo scaled to its area). A country adds its masthead, its own blocks and its page footer.

Layout and painting are two passes: layout places everything into one display list per page, then
the painter draws them, so every page can say "Página i de N". Tables repeat their title and header
on each page they continue onto; cell text wraps within its column (words longer than the column are
cut where they overflow) and is cut with an ellipsis past a column's line limit, so nothing runs off
the page. Text is set in the fonts sello.pdf_fonts embeds.

What differs between the countries' pages (the lowest point content reaches, the type of table
headers, how many lines a field keeps, ...) are attributes of `Layout` that a country's subclass sets.

Importing this module loads reportlab: only the rendering task should import it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sello import pdf_fonts
from sello.pdf_fonts import BOLD, REGULAR, printable, runs, text_width

# Image streams as binary rather than ASCII85 text, which is a quarter larger (a JPEG logo would
# grow by that much). Only the rendering task loads reportlab.
rl_config.useA85 = 0

PAGE_W, PAGE_H = A4
MARGIN = 28.0
CONTENT_W = PAGE_W - 2 * MARGIN
TOP = PAGE_H - MARGIN
CONTINUATION_TOP = TOP - 20  # continuation pages start under a one-line running head

SIZE, LEAD = 7.5, 9.0  # body text
MIN_SIZE = 5.5  # a number too wide for its column shrinks down to this before it gets cut
PAD_X, PAD_Y, GAP = 3.0, 2.5, 6.0
BOX_PAD = 6.0
HEAD_GRAY = 0.88
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Column:
    title: str
    weight: float  # share of the table width
    align: str = "l"  # "l", "r" or "c"
    lines: int = 1  # at most this many lines per cell; numbers ("r") shrink to fit one line
    bold: bool = False


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    title: str = ""  # a shaded bar above the table, repeated with the header on every page
    header: bool = True
    footer: tuple[str, str] | None = None  # (label, value): a bold last row, value in the last column
    keep_together: bool = False  # start on a new page rather than split (short tables such as totals)
    last_bold: bool = False  # the last row in bold (a total)
    size: float = SIZE  # the cells' type size and line height
    lead: float = LEAD


@dataclass(frozen=True)
class Fields:
    """A box of "Label: value" cells; each row holds one or more cells sharing the width equally.
    Cells with an empty value are left blank, rows with only empty values are dropped, and an empty
    row draws a separating rule."""

    rows: Sequence[Sequence[tuple[str, str]]]
    title: str = ""


@dataclass(frozen=True)
class Columns:
    """Two stacks of blocks side by side, each flowing onto further pages on its own. `split` is the
    left stack's share of the width; None takes the layout's."""

    left: Sequence[object]
    right: Sequence[object]
    split: float | None = None


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """The longest start of `text` that fits `width` with an ellipsis appended."""
    text = text.rstrip()
    while text and text_width(text + ELLIPSIS, font, size) > width:
        text = text[:-1].rstrip()
    return text + ELLIPSIS


def _split_word(word: str, font: str, size: float, width: float) -> list[str]:
    """A word wider than `width` cut into pieces that fit (at least one character each)."""
    pieces = []
    while text_width(word, font, size) > width and len(word) > 1:
        # A first guess from the average character width, then corrected one character at a time.
        cut = max(1, min(len(word) - 1, int(len(word) * width / text_width(word, font, size))))
        while cut > 1 and text_width(word[:cut], font, size) > width:
            cut -= 1
        while cut < len(word) - 1 and text_width(word[:cut + 1], font, size) <= width:
            cut += 1
        pieces.append(word[:cut])
        word = word[cut:]
    pieces.append(word)
    return pieces


def wrap(text: str, font: str, size: float, width: float, max_lines: int, *, respace: bool = False) -> list[str]:
    """Greedy word wrap (explicit newlines kept; words wider than the line are split), at most
    `max_lines` lines, the last one ending in an ellipsis when text was left out. A text that fits
    one line is kept as it is, unless `respace` asks for every run of spaces to become one space
    whatever the text's length."""
    text = printable(text, font)
    if (not respace and "\n" not in text and "  " not in text and text == text.strip()
            and text_width(text, font, size) <= width):
        return [text]  # most cells: one line as it is
    space = text_width(" ", font, size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split():
            word_w = text_width(word, font, size)
            if line and line_w + space + word_w <= width:
                line, line_w = f"{line} {word}", line_w + space + word_w
                continue
            if line:
                lines.append(line)
            if word_w > width:
                *full, word = _split_word(word, font, size, width)
                lines.extend(full)
                word_w = text_width(word, font, size)
            line, line_w = word, word_w
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1], font, size, width)
    return lines


def fit(text: str, font: str, size: float, width: float, *, shrink: bool) -> tuple[str, float]:
    """One line that fits `width`: shrunk (numbers) or cut with an ellipsis."""
    text = printable(text, font)
    w = text_width(text, font, size)
    if w <= width:
        return text, size
    if shrink:
        smaller = max(MIN_SIZE, size * width / w)
        if text_width(text, font, smaller) <= width:
            return text, smaller
    return ellipsize(text, font, size, width), size


def baseline(top: float, lead: float, size: float) -> float:
    """The baseline of a line of type `size` set in a line `lead` high whose top is at `top`."""
    return top - lead / 2 - size * 0.33


def scaled(image: ImageReader, width: float, height: float) -> tuple[float, float]:
    """The size of `image` scaled down to fit `width` x `height`, never up beyond a point per pixel."""
    px_w, px_h = image.getSize()
    scale = min(width / px_w, height / px_h, 1.0)
    return px_w * scale, px_h * scale


class Layout:
    """Lays out blocks into per-page display lists (`pages`), then paints them (`paint`). A country
    subclasses it to set the attributes below, add its masthead and blocks (`block`), what they
    draw (`paint_op`) and the page footer (`page_footer`)."""

    bottom = MARGIN + 8  # lowest point content may reach; the page footer sits below it
    head_size, head_lead = 7.0, 8.4  # table headers
    shrink_head = False  # a header whose longest word is wider than its column shrinks (else it is cut)
    field_lines = 4  # at most this many lines per value in Fields
    split = 0.58  # the left stack's share of Columns
    respace = False  # see `wrap`

    def __init__(self) -> None:
        self.pages: list[list[tuple]] = [[]]
        self.page = 0
        self.y = TOP
        self.x = MARGIN
        self.w = CONTENT_W

    def wrap(self, text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
        return wrap(text, font, size, width, max_lines, respace=self.respace)

    # -- display list -------------------------------------------------------------------------
    def text(self, x: float, y: float, text: str, font: str = REGULAR, size: float = SIZE,
             align: str = "l") -> None:
        if text:
            self.pages[self.page].append(("T", x, y, text, font, size, align))

    def box(self, x: float, y: float, w: float, h: float, gray: float | None = None) -> None:
        self.pages[self.page].append(("R", x, y, w, h, gray))

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.pages[self.page].append(("L", x1, y1, x2, y2))

    def image(self, x: float, y: float, w: float, h: float, image: ImageReader) -> None:
        self.pages[self.page].append(("I", x, y, w, h, image))

    def logo(self, image: ImageReader, x: float, top: float, width: float, height: float, *, centred: bool) -> None:
        """Draws `image` scaled to fit the area `width` x `height` whose top left is (x, top), in the
        middle of its height and, when `centred`, of its width (else at its left)."""
        w, h = scaled(image, width, height)
        self.image(x + (width - w) / 2 if centred else x, top - (height + h) / 2, w, h, image)

    def need(self, height: float) -> bool:
        """Moves to the next page unless `height` fits below the cursor; True when it moved."""
        if self.y - height >= self.bottom or self.y >= CONTINUATION_TOP:
            return False
        self.page += 1
        if self.page == len(self.pages):
            self.pages.append([])
        self.y = CONTINUATION_TOP
        return True

    # -- blocks -------------------------------------------------------------------------------
    def blocks(self, blocks: Sequence[object]) -> None:
        for block in blocks:
            if isinstance(block, Fields):
                self.fields(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Columns):
                self.columns(block)
            else:
                self.block(block)

    def block(self, block: object) -> None:
        """Lays out a block of the country's own (none here)."""
        raise TypeError(f"not a layout block: {block!r}")

    def columns(self, block: Columns) -> None:
        start, x, w = (self.page, self.y), self.x, self.w
        left_w = w * (self.split if block.split is None else block.split) - GAP / 2
        ends = []
        for col_x, col_w, stack in ((x, left_w, block.left), (x + left_w + GAP, w - left_w - GAP, block.right)):
            (self.page, self.y), self.x, self.w = start, col_x, col_w
            self.blocks(stack)
            ends.append((self.page, -self.y))
        page, neg_y = max(ends)
        self.page, self.y, self.x, self.w = page, -neg_y, x, w

    def label_value(self, label: str, value: str, width: float, max_lines: int, size: float = SIZE,
                    font: str = REGULAR) -> tuple[float, list[str], bool]:
        """Lays out "Label: value" in `width`: (label width, value lines, value starts below the label)."""
        label_w = text_width(printable(label, BOLD), BOLD, size) + 3
        below = width - label_w < width * 0.35
        lines = self.wrap(value, font, size, width if below else width - label_w, max_lines)
        return label_w, lines, below

    def draw_label_value(self, x: float, top: float, label: str, label_w: float, lines: list[str],
                         below: bool, size: float = SIZE, lead: float = LEAD, font: str = REGULAR) -> None:
        """Draws what `label_value` laid out, its top at `top`."""
        self.text(x, baseline(top, lead, size), label, BOLD, size)
        if below:
            top -= lead
        for i, text in enumerate(lines):
            self.text(x if below else x + label_w, baseline(top - i * lead, lead, size), text, font, size)

    def bold_steps(self, text: str, size: float, lead: float, width: float,
                   max_lines: int) -> list[tuple[float, tuple]]:
        """("T", ...) steps for `draw_steps`: `text` in bold wrapped to `width`, `lead` per line."""
        return [(lead, ("T", line, BOLD, size)) for line in self.wrap(text, BOLD, size, width, max_lines)]

    def label_value_steps(self, rows: Sequence[tuple[str, str]], width: float, max_lines: int,
                          lead: float) -> list[tuple[float, tuple]]:
        """("LV", ...) steps for `draw_steps`: a "Label: value" per row with a value, `lead` per line."""
        steps: list[tuple[float, tuple]] = []
        for label, value in rows:
            if value:
                label_w, lines, below = self.label_value(label, value, width, max_lines)
                steps.append(((len(lines) + below) * lead, ("LV", label, label_w, lines, below)))
        return steps

    def draw_steps(self, x: float, top: float, steps: Sequence[tuple[float, tuple]], lead: float) -> None:
        """Draws (height, step) steps one under the other from `top`: ("T", text, font, size) a line,
        ("LV", label, label_w, lines, below) a "Label: value" (lines `lead` apart); others are space."""
        for h, step in steps:
            if step[0] == "T":
                self.text(x, baseline(top, h, step[3]), step[1], step[2], step[3])
            elif step[0] == "LV":
                self.draw_label_value(x, top, *step[1:], lead=lead)
            top -= h

    def fields(self, block: Fields) -> None:
        laid_out = []  # per row: None for a rule, or (height, cells)
        for row in block.rows:
            if not row:
                laid_out.append(None)
                continue
            if not any(value for _, value in row):
                continue
            cell_w = self.w / len(row)
            cells, height = [], 0.0
            for i, (label, value) in enumerate(row):
                if not value:
                    continue
                label_w, lines, below = self.label_value(label, value, cell_w - 2 * PAD_X, self.field_lines)
                cells.append((i * cell_w, label, label_w, lines, below))
                height = max(height, (len(lines) + below) * LEAD)
            laid_out.append((height, cells))
        while laid_out and laid_out[-1] is None:
            laid_out.pop()
        if not any(laid_out):
            return
        title_h = LEAD + 2 * PAD_Y if block.title else 0.0
        total = title_h + 2 * PAD_Y + sum(3.0 if row is None else row[0] for row in laid_out)
        self.need(total)
        x, top = self.x, self.y
        self.box(x, top - total, self.w, total)
        if block.title:
            self.title_bar(block.title, top, title_h)
            top -= title_h
        top -= PAD_Y
        for row in laid_out:
            if row is None:
                self.line(x, top - 1.5, x + self.w, top - 1.5)
                top -= 3.0
                continue
            height, cells = row
            for offset, label, label_w, lines, below in cells:
                self.draw_label_value(x + offset + PAD_X, top, label, label_w, lines, below)
            top -= height
        self.y -= total + GAP

    def title_bar(self, title: str, top: float, height: float) -> None:
        """A shaded bar across the current column with `title` in bold."""
        self.box(self.x, top - height, self.w, height, HEAD_GRAY)
        text, size = fit(title, BOLD, SIZE, self.w - 2 * PAD_X, shrink=False)
        self.text(self.x + PAD_X, baseline(top - PAD_Y, LEAD, size), text, BOLD, size)

    def table(self, table: Table) -> None:
        x0, width = self.x, self.w
        total_weight = sum(c.weight for c in table.columns)
        widths = [width * c.weight / total_weight for c in table.columns]
        lefts = [x0 + sum(widths[:i]) for i in range(len(widths))]
        head_size, head_lead = self.head_size, self.head_lead

        head = []  # per column: (lines, size)
        if table.header:
            for c, w in zip(table.columns, widths):
                size = head_size
                if self.shrink_head:
                    longest = max((text_width(word, BOLD, head_size) for word in c.title.split()), default=0.0)
                    fitting = head_size * (w - 2 * PAD_X) / longest * 0.99 if longest else head_size
                    size = max(MIN_SIZE, min(head_size, fitting))
                head.append((self.wrap(c.title, BOLD, size, w - 2 * PAD_X, 3), size))
        head_h = max(len(lines) for lines, _ in head) * head_lead + 2 * PAD_Y if head else 0.0
        title_h = LEAD + 2 * PAD_Y if table.title else 0.0

        size, lead = table.size, table.lead

        def cells(row: Sequence[str], bold: bool) -> tuple[float, list[list[tuple[str, float]]], list[str]]:
            out, fonts = [], []
            for column, w, value in zip(table.columns, widths, row):
                font = BOLD if column.bold or bold else REGULAR
                fonts.append(font)
                if column.lines > 1:
                    out.append([(t, size) for t in self.wrap(value, font, size, w - 2 * PAD_X, column.lines)])
                else:
                    out.append([fit(value, font, size, w - 2 * PAD_X, shrink=column.align == "r")])
            return max(map(len, out)) * lead + 2 * PAD_Y, out, fonts

        def draw_head() -> None:
            top = self.y
            if table.title:
                self.title_bar(table.title, top, title_h)
                top -= title_h
            if head:
                self.box(x0, top - head_h, width, head_h, HEAD_GRAY)
                for left, w, (lines, size) in zip(lefts, widths, head):
                    if left > x0:
                        self.line(left, top, left, top - head_h)
                    for i, text in enumerate(lines):
                        self.text(left + w / 2, baseline(top - PAD_Y - i * head_lead, head_lead, size),
                                  text, BOLD, size, "c")
            self.y = top - head_h

        def draw_row(height: float, row_cells: list[list[tuple[str, float]]], fonts: list[str]) -> None:
            top = self.y
            self.box(x0, top - height, width, height)
            for left, w, column, lines, font in zip(lefts, widths, table.columns, row_cells, fonts):
                if left > x0:
                    self.line(left, top, left, top - height)
                tx = {"l": left + PAD_X, "r": left + w - PAD_X, "c": left + w / 2}[column.align]
                for i, (text, text_size) in enumerate(lines):
                    self.text(tx, baseline(top - PAD_Y - i * lead, lead, text_size), text, font, text_size,
                              column.align)
            self.y = top - height

        last = len(table.rows) - 1
        rows = [cells(row, table.last_bold and i == last) for i, row in enumerate(table.rows)]
        footer_h = LEAD + 2 * PAD_Y if table.footer else 0.0
        if table.keep_together:
            self.need(title_h + head_h + sum(height for height, _, _ in rows) + footer_h)
        else:
            self.need(title_h + head_h + (rows[0][0] if rows else 0.0))
        draw_head()
        for height, row_cells, fonts in rows:
            if self.need(height):
                draw_head()
            draw_row(height, row_cells, fonts)
        if table.footer:
            label, value = table.footer
            label_w = width - widths[-1]
            label_text, _ = fit(label, BOLD, SIZE, label_w - 2 * PAD_X, shrink=False)
            value_text, size = fit(value, BOLD, SIZE, widths[-1] - 2 * PAD_X, shrink=True)
            if self.need(footer_h):
                draw_head()
            top = self.y
            self.box(x0, top - footer_h, width, footer_h)
            self.line(lefts[-1], top, lefts[-1], top - footer_h)
            self.text(lefts[-1] - PAD_X, baseline(top - PAD_Y, LEAD, SIZE), label_text, BOLD, SIZE, "r")
            self.text(x0 + width - PAD_X, baseline(top - PAD_Y, LEAD, size), value_text, BOLD, size, "r")
            self.y = top - footer_h
        self.y -= GAP

    # -- painting -----------------------------------------------------------------------------
    def page_footer(self, number: int, total: int) -> list[tuple]:
        """The display list under the content of page `number` of `total` (none here)."""
        return []

    def paint_op(self, canvas: Canvas, op: tuple) -> None:
        """Draws a display-list entry of the country's own (none here)."""
        raise TypeError(f"not a display-list entry: {op[0]!r}")

    def paint(self, running_head: str, meta: dict[str, str]) -> bytes:
        """The PDF of the pages laid out, `running_head` atop every page after the first. The output
        depends only on what was laid out (no timestamps or random ids)."""
        pdf_fonts.register()
        buffer = io.BytesIO()
        # The initial font is one of ours, or reportlab would name Helvetica in every text object.
        canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR,
                        initialFontSize=SIZE)
        canvas.setTitle(meta.get("title", ""))
        canvas.setAuthor(meta.get("author", ""))
        canvas.setSubject(meta.get("subject", ""))
        canvas.setCreator("Sello")
        head, _ = fit(running_head, BOLD, SIZE, CONTENT_W, shrink=False)
        total = len(self.pages)
        for number, ops in enumerate(self.pages, 1):
            canvas.setLineWidth(0.6)
            if number > 1:
                ops = [("T", MARGIN, TOP - 8, head, BOLD, SIZE, "l"),
                       ("L", MARGIN, TOP - 12, MARGIN + CONTENT_W, TOP - 12), *ops]
            ops = [*ops, *self.page_footer(number, total)]
            # All of a page's text goes into one text object drawn over the boxes and lines (nothing is
            # drawn over text), which costs far less than a text object per string.
            text_object, current = canvas.beginText(), None
            for op in ops:
                kind = op[0]
                if kind == "T":
                    _, x, y, text, font, size, align = op
                    parts = runs(printable(text, font), font)
                    if align != "l":
                        w = sum(text_width(part, part_font, size) for part, part_font in parts)
                        x -= w if align == "r" else w / 2
                    for part, part_font in parts:  # one run per font (see sello.pdf_fonts)
                        if current != (part_font, size):
                            text_object.setFont(part_font, size)
                            current = (part_font, size)
                        text_object.setTextOrigin(x, y)
                        text_object.textOut(part)
                        if len(parts) > 1:
                            x += text_width(part, part_font, size)
                elif kind == "I":
                    _, x, y, w, h, image = op
                    canvas.drawImage(image, x, y, w, h, mask="auto")
                elif kind == "R":
                    _, x, y, w, h, gray = op
                    if gray is None:
                        canvas.rect(x, y, w, h, stroke=1, fill=0)
                    else:
                        canvas.setFillGray(gray)
                        canvas.rect(x, y, w, h, stroke=1, fill=1)
                        canvas.setFillGray(0)
                elif kind == "L":
                    canvas.line(*op[1:])
                else:
                    self.paint_op(canvas, op)
            canvas.drawText(text_object)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()
