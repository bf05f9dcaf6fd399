"""The reminder letter (reminder_letters.py) as an A4 PDF, drawn by fpdf2 with the invoice's fonts.

One page: letterhead and window address like the invoice (invoice_layout.py), the claims as a two-column table
(what and on which basis | amount), the new total, the deadline and the bank details. Text outside the Latin
subsets takes the invoice renderer's full-font path, so a buyer's name in any script is drawn or refused,
never dropped. The same letter always gives the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from fpdf import FPDF
from fpdf.fonts import SubsetMap

from receivables.reminder_letters import ReminderLetter
from receivables.rendering import formatting as fmt
from receivables.rendering.invoice_layout import (
    LEFT,
    RIGHT,
    Surface,
    draw_footer_columns,
    fit_text,
    wrap_text,
)
from receivables.rendering.invoice_pdf import (
    _FpdfSurface,
    _NeedsFullFonts,
    _register_shared_font,
    _ShapingSurface,
    _shared_fonts,
    _SharedFontOutputProducer,
)
from receivables.rendering.letter_words import letter_words
from receivables.rendering.pdf_fonts import _CJK_FAMILY, _copy_font, _FreshFontFileOutputProducer, _full_fonts

AMOUNT_LEFT = 160.0  # the amounts' column; the claims and their basis wrap left of it
ITEM_WIDTH = AMOUNT_LEFT - LEFT - 4
TEXT_PITCH, ROW_PITCH = 4.4, 4.2
MUTED = 90


def letter_title(letter: ReminderLetter) -> str:
    words = letter_words(letter.locale)
    return f"{words['title_final' if letter.final else 'title']} {letter.invoice_number}"


def render_reminder_letter_pdf(letter: ReminderLetter) -> bytes:
    fonts, charset = _shared_fonts()
    try:
        pdf = _new_pdf(letter)
        for style, shared in fonts.items():
            _register_shared_font(pdf, style, shared.font)
        faces = {style: shared.face for style, shared in fonts.items()}
        LetterLayout(letter, _FpdfSurface(pdf, faces, charset)).draw()
        return bytes(pdf.output(output_producer_class=_SharedFontOutputProducer))
    except _NeedsFullFonts:
        return _render_with_full_fonts(letter)


def _render_with_full_fonts(letter: ReminderLetter) -> bytes:
    fonts = _full_fonts()
    pdf = _new_pdf(letter)
    for key, font in fonts.fonts.items():
        pdf.fonts[key] = _copy_font(font)
    pdf.set_fallback_fonts([_CJK_FAMILY], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.c_margin = 0
    try:
        LetterLayout(letter, _ShapingSurface(pdf, fonts)).draw()
        return bytes(pdf.output(output_producer_class=_FreshFontFileOutputProducer))
    finally:
        SubsetMap.pick.cache_clear()


def _new_pdf(letter: ReminderLetter) -> FPDF:
    title = letter_title(letter)
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_author(letter.seller.name)
    pdf.set_subject(f"{title} – {letter.buyer.name}")
    pdf.set_creator("receivables")
    pdf.set_lang(letter.locale)
    pdf.set_creation_date(datetime.combine(letter.letter_date, time(), tzinfo=UTC))
    return pdf


class LetterLayout:
    def __init__(self, letter: ReminderLetter, surface: Surface) -> None:
        self.letter = letter
        self.surface = surface
        self.words = letter_words(letter.locale)
        self.locale = letter.locale

    def _money(self, amount: Decimal) -> str:
        return fmt.format_money(amount, self.letter.currency, self.locale)

    def _date(self, day: object) -> str:
        return fmt.format_date(day, self.locale)  # type: ignore[arg-type]

    def _right(self, x: float, y: float, text: str) -> None:
        self.surface.text(x - self.surface.text_width(text), y, text)

    def draw(self) -> None:
        self.surface.add_page()
        y = self._letterhead()
        y = self._paragraphs(y, [self.words["salutation"], self._intro()])
        y = self._claims(y + 2)
        self._paragraphs(y + 4, self._closing())
        self._footer()

    def _intro(self) -> str:
        letter = self.letter
        return self.words["intro"].format(
            number=letter.invoice_number,
            invoice_date=self._date(letter.invoice_date),
            total=self._money(letter.invoice_total),
            due_date=self._date(letter.due_date),
        )

    def _letterhead(self) -> float:
        letter, surface, seller, words = self.letter, self.surface, self.letter.seller, self.words
        surface.use_font(True, 15)
        surface.text(LEFT, 24, fit_text(surface, seller.name, 100))
        city = f"{seller.address.postal_code} {seller.address.city}"
        surface.use_font(False, 8, MUTED)
        for offset, text in enumerate(
            t for t in [seller.address.line1, city, seller.email, seller.phone] if t
        ):
            self._right(RIGHT, 18 + 3.6 * offset, text)
        surface.use_font(False, 7, MUTED)
        surface.text(LEFT, 49, fit_text(surface, " · ".join([seller.name, seller.address.line1, city]), 85))
        surface.line(LEFT, 50.5, LEFT + 85, 50.5, 170)
        buyer, address = letter.buyer, letter.buyer.address
        lines = [address.line1, address.line2, f"{address.postal_code} {address.city}"]
        if address.country.upper() != seller.address.country.upper():
            lines.append(fmt.format_country(address.country, self.locale))
        surface.use_font(True, 10)
        surface.text(LEFT, 56, fit_text(surface, buyer.name, 85))
        surface.use_font(False, 10)
        for offset, text in enumerate((t for t in lines if t), start=1):
            surface.text(LEFT, 56 + 4.6 * offset, fit_text(surface, text, 85))
        facts = [
            (words["letter_date"], self._date(letter.letter_date)),
            (words["invoice_number"], letter.invoice_number),
            (words["invoice_date"], self._date(letter.invoice_date)),
            (words["due_date"], self._date(letter.due_date)),
        ]
        for offset, (label, value) in enumerate(facts):
            surface.use_font(False, 8.5, MUTED)
            surface.text(122, 56 + 4.6 * offset, label)
            surface.use_font(False, 8.5)
            self._right(RIGHT, 56 + 4.6 * offset, fit_text(surface, value, 38))
        surface.use_font(True, 14)
        surface.text(LEFT, 97, letter_title(letter))
        return 108.0

    def _paragraphs(self, y: float, paragraphs: list[str]) -> float:
        surface = self.surface
        surface.use_font(False, 9.5)
        for paragraph in paragraphs:
            for line in wrap_text(surface, paragraph, RIGHT - LEFT, 8):
                surface.text(LEFT, y, line)
                y += TEXT_PITCH
            y += 1.6
        return y

    def _claims(self, y: float) -> float:
        letter, words, surface = self.letter, self.words, self.surface
        surface.fill_rect(LEFT, y, RIGHT - LEFT, 7, 235)
        surface.use_font(True, 8.5)
        surface.text(LEFT + 1, y + 4.6, words["column_item"])
        self._right(RIGHT - 1, y + 4.6, words["column_amount"])
        y += 7 + 4.4
        dated = {"number": letter.invoice_number, "invoice_date": self._date(letter.invoice_date)}
        rows = [(words["open_invoice"].format(**dated), letter.amount_open)]
        if letter.fees_before:
            rows.append((words["fees_before"], letter.fees_before))
        for fee in letter.fees:
            rows.append((self._fee_text(fee.kind, fee.fixed, fee.percent), fee.amount))
        if letter.interest is not None:
            rows.append((self._interest_text(), letter.interest.amount))
        for text, amount in rows:
            surface.use_font(False, 9)
            lines = wrap_text(surface, text, ITEM_WIDTH, 4)
            for offset, line in enumerate(lines):
                surface.text(LEFT + 1, y + ROW_PITCH * offset, line)
            self._right(RIGHT - 1, y, self._money(amount))
            y += ROW_PITCH * len(lines) + 1.8
            surface.line(LEFT, y - 3.4, RIGHT, y - 3.4, 215)
        surface.line(LEFT, y - 3.2, RIGHT, y - 3.2, 120)
        surface.use_font(True, 10)
        y += 1.6
        surface.text(LEFT + 1, y, words["new_total"])
        self._right(RIGHT - 1, y, self._money(letter.new_total))
        return y + 8

    def _fee_text(self, kind: str, fixed: Decimal, percent: Decimal) -> str:
        words = self.words
        if kind == "lump_sum":
            return words["lump_sum"]
        parts = [words["fee_fixed"].format(fixed=self._money(fixed))] if fixed else []
        if percent:
            principal = self._money(self.letter.amount_open)
            parts.append(
                words["fee_percent"].format(
                    percent=fmt.format_percent(percent, self.locale), principal=principal
                )
            )
        return f"{words['reminder_fee']} ({' + '.join(parts)})" if parts else words["reminder_fee"]

    def _interest_text(self) -> str:
        claim = self.letter.interest
        assert claim is not None
        basis = claim.basis

        def percent(value: Decimal) -> str:
            return fmt.format_percent(value, self.locale)

        return self.words["interest"].format(
            rate=percent(basis.rate_percent),
            base=percent(basis.base_rate_percent),
            points=fmt.format_decimal(basis.points, self.locale),
            section=self.words["section_business" if basis.business else "section_consumer"],
            principal=self._money(claim.principal),
            days=claim.days,
            first_day=self._date(claim.first_day),
            last_day=self._date(claim.last_day),
        )

    def _closing(self) -> list[str]:
        letter, words, seller = self.letter, self.words, self.letter.seller
        bank = words["bank"].format(bank_name=seller.bank_name or "", iban=seller.iban) if seller.iban else ""
        deadline = words["deadline"].format(
            total=self._money(letter.new_total),
            pay_by=self._date(letter.pay_by),
            bank=bank.replace("  ", " "),
            number=letter.invoice_number,
        )
        paragraphs = [deadline]
        if letter.interest is not None:
            paragraphs.append(words["interest_note"])
        return [*paragraphs, words["already_paid"], words["closing"], seller.name]

    def _footer(self) -> None:
        surface, seller, words = self.surface, self.letter.seller, self.words
        surface.line(LEFT, 275, RIGHT, 275, 170)
        city = f"{seller.address.postal_code} {seller.address.city}"
        vat = f"{words['vat_id']} {seller.vat_id}" if seller.vat_id else None
        iban = f"IBAN {seller.iban}" if seller.iban else None
        surface.use_font(False, 7, MUTED)
        columns: list[tuple[float, list[str | None]]] = [
            (LEFT, [seller.name, seller.address.line1, city]),
            (78.0, [vat, seller.register]),
            (134.0, [seller.bank_name, iban]),
        ]
        draw_footer_columns(surface, columns)
        self._right(RIGHT, 292, words["page_of"].format(page=1, pages=1))
