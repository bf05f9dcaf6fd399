"""Where everything sits on an invoice page: A4, millimetres from the top-left corner, text on baselines.

Independent of the PDF library: the layout draws on a `Surface` (fpdf2 in production, see invoice_pdf.py;
ReportLab in the benchmark, so both render exactly the same thing). Positions are fixed and text is placed
on baselines, because measuring and placing strings directly is much cheaper than a library's cell, table
or paragraph machinery; descriptions are wrapped here, with the surface's width table.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from receivables.documents import InvoiceDocument, Party
from receivables.rendering import formatting as fmt
from receivables.rendering.labels import (
    correction_number_label,
    correction_reference,
    correction_total_label,
    document_title,
    exemption_notes,
    labels_for,
)
from receivables.rendering.summary import address_lines, payment_terms, totals_rows

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
LEFT, RIGHT = 20.0, 190.0
BODY_BOTTOM, FOOTER_RULE = 271.0, 275.0
FIRST_TABLE_TOP, NEXT_TABLE_TOP = 104.0, 27.0
TABLE_SIZE, LINE_PITCH, ROW_PADDING, HEADER_HEIGHT = 8.5, 3.7, 2.0, 7.0
POSITION_RIGHT, DESCRIPTION_LEFT, DESCRIPTION_WIDTH = 28.0, 31.0, 62.0
# Right edges of the right-aligned columns.
QUANTITY_RIGHT, PRICE_RIGHT, DISCOUNT_RIGHT, RATE_RIGHT, NET_RIGHT = 106.0, 130.0, 148.0, 163.0, 189.0
TOTALS_LEFT, AMOUNT_WIDTH, TOTAL_PITCH, TEXT_PITCH = 98.0, 24.0, 5.0, 4.4
CLOSING_GAP, TEXT_GAP = 6.0, 4.0
# A description is never cut: intake allows 1,000 characters, at most 50 lines of CJK in the column; a row
# is at most a continuation page's room high (63 lines), and a row taller than the first page's room
# starts on the next page.
MAX_DESCRIPTION_LINES = int((BODY_BOTTOM - NEXT_TABLE_TOP - HEADER_HEIGHT - ROW_PADDING) / LINE_PITCH)
MAX_CLOSING_LINES = 24
FOOTER_TOP, FOOTER_LAST, FOOTER_PITCH, FOOTER_COLUMN_WIDTH = 279.0, 293.0, 3.2, 54.0
ELLIPSIS = "…"
MUTED, RULE, HEADER_FILL = 90, 160, 235  # grey levels, 0 black to 255 white


class TextMeasure(Protocol):
    def text_width(self, text: str) -> float: ...


class Surface(TextMeasure, Protocol):
    """What the layout needs from a PDF library: A4 pages, one family in regular and bold, text, rules.

    `text_width` measures in the font last chosen with `use_font`.
    """

    def add_page(self) -> None: ...

    def use_font(self, bold: bool, size: float, gray: int = 0) -> None: ...

    def text(self, x: float, y: float, text: str) -> None: ...

    def line(self, x1: float, y1: float, x2: float, y2: float, gray: int) -> None: ...

    def fill_rect(self, x: float, y: float, width: float, height: float, gray: int) -> None: ...


def fit_text(surface: TextMeasure, text: str, width: float) -> str:
    """The text, or as much of it as fits followed by an ellipsis."""
    if surface.text_width(text) <= width:
        return text
    budget = width - surface.text_width(ELLIPSIS)
    used = 0.0
    for end, char in enumerate(text):
        used += surface.text_width(char)
        if used > budget:
            return text[:end].rstrip() + ELLIPSIS
    return text


def wrap_text(surface: TextMeasure, text: str, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; the last allowed line ends in an ellipsis when text is left over."""
    space = surface.text_width(" ")
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in _fitting_pieces(surface, text.split(), width):
        word_width = surface.text_width(word)
        if current and used + space + word_width > width:
            lines.append(" ".join(current))
            current, used = [], 0.0
        used += word_width + (space if current else 0.0)
        current.append(word)
    lines.append(" ".join(current))
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [fit_text(surface, line, width) for line in lines]


def _fitting_pieces(surface: TextMeasure, words: list[str], width: float) -> list[str]:
    """The words, each one wider than the line broken where the line ends (a long compound, a URL, or
    Chinese and Japanese text, which has no spaces between words)."""
    pieces: list[str] = []
    for word in words:
        while surface.text_width(word) > width and len(word) > 1:
            used, end = 0.0, 0
            while end < len(word) and used + surface.text_width(word[end]) <= width:
                used += surface.text_width(word[end])
                end += 1
            end = max(end, 1)
            pieces.append(word[:end])
            word = word[end:]
        pieces.append(word)
    return pieces


def draw_footer_columns(surface: Surface, columns: Sequence[tuple[float, Sequence[str | None]]]) -> None:
    """The seller's footer columns below the rule, each entry wrapped in its column (a register entry
    such as "Amtsgericht Berlin-Charlottenburg HRB 123456" is never cut), closer together when needed."""
    wrapped = [
        (x, [line for text in texts if text for line in wrap_text(surface, text, FOOTER_COLUMN_WIDTH, 2)])
        for x, texts in columns
    ]
    tallest = max((len(lines) for _, lines in wrapped), default=1)
    pitch = min(FOOTER_PITCH, (FOOTER_LAST - FOOTER_TOP) / max(tallest - 1, 1))
    for x, lines in wrapped:
        for offset, line in enumerate(lines):
            surface.text(x, FOOTER_TOP + pitch * offset, line)


def paginate(row_heights: Sequence[float], first_room: float, room: float, closing: float) -> list[range]:
    """The table rows on each page. The closing block (totals, terms) follows the last row and takes at
    least one row with it: when it does not fit, up to two rows move to a new page with it. An empty last
    range means the closing block is taller than what a page with one row leaves, so it stands alone."""
    pages: list[range] = []
    start, used, available = 0, 0.0, first_room
    for index, height in enumerate(row_heights):
        if used + height > available and (index > start or (not pages and height > available)):
            pages.append(range(start, index))
            start, used, available = index, 0.0, room
        used += height
    end = len(row_heights)
    if used + closing <= available:
        return [*pages, range(start, end)]
    moved = min(2, end - start - 1)
    if moved <= 0:
        return [*pages, range(start, end), range(end, end)]
    return [*pages, range(start, end - moved), range(end - moved, end)]


class InvoiceLayout:
    def __init__(self, document: InvoiceDocument, surface: Surface) -> None:
        self.doc = document
        self.surface = surface
        self.labels = labels_for(document.locale)
        self.locale = document.locale
        # A correction (credit note or cancellation) has a number label, total and reference of its own.
        self.credit_note = document.document_kind in ("credit_note", "cancellation")

    def draw(self) -> None:
        surface = self.surface
        surface.use_font(False, TABLE_SIZE)
        descriptions = [
            wrap_text(surface, line.description, DESCRIPTION_WIDTH, MAX_DESCRIPTION_LINES)
            for line in self.doc.lines
        ]
        heights = [ROW_PADDING + LINE_PITCH * len(lines) for lines in descriptions]
        totals, paragraphs = self._totals(), self._closing_text()
        closing_height = CLOSING_GAP + TOTAL_PITCH * len(totals) + TEXT_GAP + TEXT_PITCH * len(paragraphs)
        pages = paginate(
            heights,
            BODY_BOTTOM - FIRST_TABLE_TOP - HEADER_HEIGHT,
            BODY_BOTTOM - NEXT_TABLE_TOP - HEADER_HEIGHT,
            closing_height,
        )
        for page_number, rows in enumerate(pages, start=1):
            surface.add_page()
            y = self._first_page_header() if page_number == 1 else self._continuation_header()
            if rows:
                y = self._table_header(y)
            for index in rows:
                y = self._row(index, descriptions[index], y, heights[index])
            if page_number == len(pages):
                self._closing(y, totals, paragraphs)
            self._footer(self.labels.page_of.format(page=page_number, pages=len(pages)))

    def _money(self, amount: Decimal) -> str:
        return fmt.format_money(amount, self.doc.currency, self.locale)

    def _right(self, x: float, y: float, text: str) -> None:
        self.surface.text(x - self.surface.text_width(text), y, text)

    def _first_page_header(self) -> float:
        doc, labels, surface, seller = self.doc, self.labels, self.surface, self.doc.seller
        surface.use_font(True, 15)
        surface.text(LEFT, 24, fit_text(surface, seller.name, 100))
        city = f"{seller.address.postal_code} {seller.address.city}"
        contact = [seller.address.line1, seller.address.line2, city, _labelled(labels.phone, seller.phone)]
        surface.use_font(False, 8, MUTED)
        for offset, text in enumerate(t for t in [*contact, seller.email, seller.website] if t):
            self._right(RIGHT, 18 + 3.6 * offset, text)
        # The sender line above the address, readable through the window of a DIN C6/5 envelope.
        surface.use_font(False, 7, MUTED)
        surface.text(LEFT, 49, fit_text(surface, " · ".join([seller.name, seller.address.line1, city]), 85))
        surface.line(LEFT, 50.5, LEFT + 85, 50.5, RULE)
        self._party(doc.buyer, 56)
        facts = [
            (correction_number_label(doc) if self.credit_note else labels.invoice_number, doc.number),
            (labels.issue_date, fmt.format_date(doc.issue_date, self.locale)),
            (labels.supply_date, fmt.format_date(doc.supply_date, self.locale)),
            # A credit note is not paid, so it has no due date.
            (labels.due_date, None if self.credit_note else fmt.format_date(doc.due_date, self.locale)),
            (labels.order_reference, doc.order_reference),
        ]
        for offset, (label, value) in enumerate((label, value) for label, value in facts if value):
            surface.use_font(False, 8.5, MUTED)
            surface.text(122, 56 + 4.6 * offset, label)
            surface.use_font(False, 8.5)
            self._right(RIGHT, 56 + 4.6 * offset, fit_text(surface, value, 38))
        surface.use_font(True, 14)
        surface.text(LEFT, 97, document_title(doc))
        return FIRST_TABLE_TOP

    def _party(self, party: Party, y: float) -> None:
        surface = self.surface
        name, *lines = address_lines(party, self.doc)
        surface.use_font(True, 10)
        surface.text(LEFT, y, fit_text(surface, name, 85))
        surface.use_font(False, 10)
        for offset, text in enumerate(lines, start=1):
            surface.text(LEFT, y + 4.6 * offset, fit_text(surface, text, 85))

    def _continuation_header(self) -> float:
        surface = self.surface
        surface.use_font(True, 10)
        surface.text(LEFT, 20, f"{document_title(self.doc)} ({self.labels.continued})")
        surface.use_font(False, 8, MUTED)
        self._right(RIGHT, 20, fit_text(surface, self.doc.seller.name, 80))
        return NEXT_TABLE_TOP

    def _table_header(self, y: float) -> float:
        labels, surface = self.labels, self.surface
        surface.fill_rect(LEFT, y, RIGHT - LEFT, HEADER_HEIGHT, HEADER_FILL)
        surface.use_font(True, TABLE_SIZE)
        baseline = y + 4.6
        self._right(POSITION_RIGHT, baseline, labels.position)
        surface.text(DESCRIPTION_LEFT, baseline, labels.description)
        self._right(QUANTITY_RIGHT, baseline, labels.quantity)
        self._right(PRICE_RIGHT, baseline, labels.unit_price)
        self._right(DISCOUNT_RIGHT, baseline, labels.discount)
        self._right(RATE_RIGHT, baseline, labels.tax_rate)
        self._right(NET_RIGHT, baseline, labels.net)
        return y + HEADER_HEIGHT

    def _row(self, index: int, description: Sequence[str], y: float, height: float) -> float:
        line, surface, locale = self.doc.lines[index], self.surface, self.locale
        surface.use_font(False, TABLE_SIZE)
        baseline = y + 4.0
        self._right(POSITION_RIGHT, baseline, str(line.position))
        for offset, text in enumerate(description):
            surface.text(DESCRIPTION_LEFT, baseline + LINE_PITCH * offset, text)
        self._right(QUANTITY_RIGHT, baseline, fmt.format_decimal(line.quantity, locale))
        self._right(PRICE_RIGHT, baseline, self._money(line.unit_price))
        if line.discount_percent:
            self._right(DISCOUNT_RIGHT, baseline, fmt.format_percent(line.discount_percent, locale))
        self._right(RATE_RIGHT, baseline, fmt.format_percent(line.tax_rate, locale))
        self._right(NET_RIGHT, baseline, self._money(line.net))
        surface.line(LEFT, y + height, RIGHT, y + height, 215)
        return y + height

    def _totals(self) -> list[tuple[str, str, bool]]:
        rows = totals_rows(self.doc)
        if not self.credit_note:
            return rows
        total, correction_total = self.labels.invoice_total, correction_total_label(self.doc)
        return [(correction_total if label == total else label, a, e) for label, a, e in rows]

    def _closing_text(self) -> list[tuple[str, bool]]:
        """(line, emphasised): VAT exemption notes, payment terms, bank, payment link and notes, wrapped."""
        doc, labels, seller = self.doc, self.labels, self.doc.seller
        paragraphs = [(note, True) for note in exemption_notes(doc)]
        if self.credit_note:  # what it corrects and why, instead of payment terms
            paragraphs.insert(0, (correction_reference(doc), True))
            paragraphs += [(note, False) for note in doc.notes]
            return self._wrapped(paragraphs)
        paragraphs.append((payment_terms(doc), False))
        if seller.iban:
            bank = [seller.bank_name, f"IBAN {seller.iban}", _labelled("BIC", seller.bic)]
            paragraphs.append((f"{labels.bank_details}: " + " · ".join(p for p in bank if p), False))
        if doc.hosted_url:
            paragraphs.append((labels.pay_online.format(url=doc.hosted_url), False))
        paragraphs += [(note, False) for note in doc.notes]
        return self._wrapped(paragraphs)

    def _wrapped(self, paragraphs: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        self.surface.use_font(False, 9)
        lines = [
            (text, bold)
            for paragraph, bold in paragraphs
            for text in wrap_text(self.surface, paragraph, RIGHT - LEFT, MAX_CLOSING_LINES)
        ]
        return lines[:MAX_CLOSING_LINES]

    def _closing(
        self, y: float, totals: Sequence[tuple[str, str, bool]], text: Sequence[tuple[str, bool]]
    ) -> None:
        surface = self.surface
        y += CLOSING_GAP
        for label, amount, emphasised in totals:
            if emphasised:
                surface.line(TOTALS_LEFT, y - 3.6, RIGHT, y - 3.6, 120)
            surface.use_font(emphasised, 9)
            surface.text(TOTALS_LEFT, y, fit_text(surface, label, NET_RIGHT - TOTALS_LEFT - AMOUNT_WIDTH))
            self._right(NET_RIGHT, y, amount)
            y += TOTAL_PITCH
        y += TEXT_GAP
        for line, emphasised in text:
            surface.use_font(emphasised, 9)
            surface.text(LEFT, y, line)
            y += TEXT_PITCH

    def _footer(self, page_label: str) -> None:
        labels, surface, seller = self.labels, self.surface, self.doc.seller
        surface.line(LEFT, FOOTER_RULE, RIGHT, FOOTER_RULE, RULE)
        city = f"{seller.address.postal_code} {seller.address.city}"
        tax_ids = [_labelled(labels.vat_id, seller.vat_id), _labelled(labels.tax_number, seller.tax_number)]
        columns: list[tuple[float, list[str | None]]] = [
            (LEFT, [seller.name, seller.address.line1, city, seller.register]),
            (78.0, [*tax_ids, _labelled(labels.email, seller.email), seller.website]),
            (134.0, [seller.bank_name, _labelled("IBAN", seller.iban), _labelled("BIC", seller.bic)]),
        ]
        surface.use_font(False, 7, MUTED)
        draw_footer_columns(surface, columns)
        self._right(RIGHT, 292, page_label)


def _labelled(label: str, value: str | None) -> str | None:
    return f"{label} {value}" if value else None
