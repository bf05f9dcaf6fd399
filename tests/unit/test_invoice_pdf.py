"""The invoice PDF: what a reader sees (text per page, a drawn first page), its fonts, and its speed tricks.

The pdftotext / pdftoppm / pdfinfo / pdffonts checks need Debian's poppler-utils (installed in CI by
`make system-deps`); they are skipped only where the binaries are missing.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from datetime import date
from decimal import Decimal
from pathlib import Path

import fontTools.subset  # noqa: F401  (adds subset_glyphs to the table classes)
import fpdf
import pytest
from fontTools.ttLib import TTFont, getTableClass
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer
from PIL import Image

from receivables.documents import InvoiceDocument, Locale, Party, PostalAddress, VatCategory
from receivables.rendering import invoice_pdf, pdf_fonts
from receivables.rendering.formatting import format_date, format_decimal, format_money, format_percent
from receivables.rendering.invoice_layout import fit_text, paginate, wrap_text
from receivables.rendering.invoice_pdf import UndrawableTextError, render_invoice_pdf
from receivables.rendering.labels import EXEMPTION_NOTES, LABELS, exemption_notes
from receivables.rendering.samples import sample_invoice_document, sample_lines, tax_breakdown
from receivables.tax.categories import exemption_code

POPPLER = {tool: shutil.which(tool) or "" for tool in ("pdftotext", "pdftoppm", "pdfinfo", "pdffonts")}
needs_poppler = pytest.mark.skipif(not all(POPPLER.values()), reason="poppler-utils not installed")


def _poppler(tool: str, pdf: bytes, *arguments: str) -> bytes:
    """A poppler tool reading the PDF from stdin; pdftotext also writes to stdout ("-")."""
    command = [POPPLER[tool], *arguments, "-", *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, as a reader copying it would get it."""
    return _poppler("pdftotext", pdf, "-layout").decode().split("\f")[:-1]


def shown(text: str) -> str:
    """What pdftotext gives back for a formatted value: no-break spaces come out as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def ten_lines() -> bytes:
    return render_invoice_pdf(sample_invoice_document(10))


@pytest.fixture(scope="module")
def three_hundred_lines() -> bytes:
    return render_invoice_pdf(sample_invoice_document(300))


@needs_poppler
@pytest.mark.parametrize(("locale", "gross"), [("de", "6.225,96 €"), ("en", "€6,225.96")])
def test_the_invoice_shows_its_number_buyer_and_gross_in_the_documents_language(
    locale: Locale, gross: str
) -> None:
    document = sample_invoice_document(10, locale=locale)

    text = "".join(page_texts(render_invoice_pdf(document)))

    labels = LABELS[locale]
    assert document.number in text
    assert document.buyer.name in text
    assert shown(format_money(document.gross, "EUR", locale)) == gross
    assert gross in text
    for label in (
        labels.invoice_total,
        labels.supply_date,
        labels.due_date,
        labels.unit_price,
        labels.vat_id,
    ):
        assert label in text
    assert shown(format_date(document.due_date, locale)) in text
    assert f"USt-IdNr. {document.seller.vat_id}" in text or f"VAT ID {document.seller.vat_id}" in text
    assert f"{labels.vat_id} {document.buyer.vat_id}" in text
    assert "Müller Straße 12" in text  # the Unicode font draws umlauts and ß
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text


@needs_poppler
def test_every_page_of_a_long_invoice_repeats_the_table_header_and_counts_its_pages(
    three_hundred_lines: bytes,
) -> None:
    pages = page_texts(three_hundred_lines)

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert re.search(r"Pos\.\s+Beschreibung\s+Menge\s+Einzelpreis\s+Rabatt\s+USt\.\s+Netto", text)
        assert f"Seite {number} von {len(pages)}" in text
    # Position numbers are right-aligned near the margin; wrapped description lines start further in.
    positions = [int(p) for text in pages for p in re.findall(r"^ {0,6}(\d{1,3}) +\S", text, flags=re.M)]
    assert positions == list(range(1, 301))
    assert "Rechnungsbetrag" in pages[-1]
    assert "Rechnungsbetrag" not in "".join(pages[:-1])


@needs_poppler
def test_the_first_page_is_drawn(ten_lines: bytes, tmp_path: Path) -> None:
    (tmp_path / "invoice.pdf").write_bytes(ten_lines)
    subprocess.run(
        [POPPLER["pdftoppm"], "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", "invoice.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )

    page = Image.open(tmp_path / "page.png").convert("L")
    inked = sum(count for level, count in enumerate(page.histogram()) if level < 200)
    assert page.size == (414, 585)  # A4 at 50 dpi
    assert inked > 0.02 * page.size[0] * page.size[1]


@needs_poppler
def test_metadata_names_the_invoice_and_seller_and_is_dated_by_the_issue_date(ten_lines: bytes) -> None:
    """PDF/A-3 keeps the document's metadata in its XMP stream (fpdf2 writes no Info dictionary then)."""
    xmp = _poppler("pdfinfo", ten_lines, "-meta").decode()

    assert '<rdf:li xml:lang="x-default">Rechnung RE-2026-000123</rdf:li>' in xmp
    assert "<dc:creator><rdf:Seq><rdf:li>Muster Handel GmbH</rdf:li></rdf:Seq></dc:creator>" in xmp
    assert "<xmp:CreateDate>2026-11-08T00:00:00+00:00</xmp:CreateDate>" in xmp


@needs_poppler
def test_both_faces_are_embedded_with_a_unicode_map(ten_lines: bytes) -> None:
    fonts = _poppler("pdffonts", ten_lines).decode().splitlines()[2:]

    assert len(fonts) == 2
    for font in fonts:
        assert re.search(r"CID TrueType\s+Identity-H\s+yes\s+yes\s+yes", font), font


@needs_poppler
def test_text_outside_the_prebuilt_subsets_is_drawn_with_the_full_fonts() -> None:
    document = sample_invoice_document(3)
    buyer = dataclasses.replace(document.buyer, name="ООО «Ромашка»")
    notes = ("Ωμέγα Straße 1",)

    text = "".join(page_texts(render_invoice_pdf(dataclasses.replace(document, buyer=buyer, notes=notes))))

    assert "ООО «Ромашка»" in text
    assert "Ωμέγα Straße 1" in text


EVERY_SCRIPT = ("山田太郎", "株式会社", "Müller", "Ωmega", "Арбат", "عربي", "עברית", "한국어")


def _in_every_script(lines: int) -> InvoiceDocument:
    """Buyer and line descriptions in Latin, Greek, Cyrillic, Arabic, Hebrew, Chinese, Japanese, Korean."""
    document = sample_invoice_document(lines)
    buyer = dataclasses.replace(document.buyer, name="山田太郎")
    described = tuple(
        dataclasses.replace(line, description=f"{EVERY_SCRIPT[i % len(EVERY_SCRIPT)]} {line.description}")
        for i, line in enumerate(document.lines)
    )
    return dataclasses.replace(document, buyer=buyer, lines=described)


@pytest.fixture(scope="module")
def every_script() -> bytes:
    return render_invoice_pdf(_in_every_script(10))


@needs_poppler
def test_names_and_descriptions_in_every_script_are_in_the_pdfs_text(every_script: bytes) -> None:
    """§ 14 UStG: the buyer's name must be on the invoice, whatever script it is written in (issue #13)."""
    text = "".join(page_texts(every_script))

    assert re.search(r"^山田太郎 ", text, flags=re.M)  # the buyer's name heads the address
    for word in EVERY_SCRIPT:
        assert word in text
    assert "Bürostuhl" in text
    assert "Rechnungsbetrag" in text


@needs_poppler
def test_each_script_is_drawn_by_an_embedded_font_that_has_it(every_script: bytes, tmp_path: Path) -> None:
    fonts = _poppler("pdffonts", every_script).decode()
    assert re.search(r"\+DejaVuSans\S*\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes", fonts)
    assert re.search(r"\+DroidSansFallback\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes", fonts)
    (tmp_path / "invoice.pdf").write_bytes(every_script)
    subprocess.run(
        [POPPLER["pdftoppm"], "-png", "-r", "80", "-singlefile", "invoice.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    # The buyer's name (four ideographs at 10 pt) is inked where the address starts, not left blank.
    name = Image.open(tmp_path / "page.png").convert("L").crop((62, 164, 62 + 58, 164 + 12))
    inked = sum(count for level, count in enumerate(name.histogram()) if level < 128)
    assert inked > 60


@needs_poppler
def test_a_long_invoice_in_every_script_still_spans_pages_with_the_header_repeated() -> None:
    pages = page_texts(render_invoice_pdf(_in_every_script(300)))

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert re.search(r"Pos\.\s+Beschreibung\s+Menge\s+Einzelpreis\s+Rabatt\s+USt\.\s+Netto", text)
        assert f"Seite {number} von {len(pages)}" in text


def test_a_character_no_font_draws_is_an_error_not_a_gap() -> None:
    document = sample_invoice_document(2)
    buyer = dataclasses.replace(
        document.buyer, name="Anna \u0915 Schmidt"
    )  # Devanagari: no font of ours has it

    with pytest.raises(UndrawableTextError, match="U\\+0915 DEVANAGARI LETTER KA"):
        render_invoice_pdf(dataclasses.replace(document, buyer=buyer))


def test_invisible_formatting_characters_are_not_an_error() -> None:
    document = sample_invoice_document(2)
    buyer = dataclasses.replace(document.buyer, name="שלום\u200f Anna\u200d")  # RLM, ZWJ

    assert render_invoice_pdf(dataclasses.replace(document, buyer=buyer)).startswith(b"%PDF-")


def test_the_same_document_in_every_script_always_gives_the_same_bytes(every_script: bytes) -> None:
    render_invoice_pdf(_in_every_script(40))  # the shared parsed fonts must carry no state over

    assert render_invoice_pdf(_in_every_script(10)) == every_script


def test_the_cjk_font_covers_chinese_japanese_and_korean() -> None:
    cmap = TTFont(invoice_pdf.FONT_DIR / pdf_fonts.CJK_FILE).getBestCmap()

    assert {ord(c) for c in "山田株式会社ひカ한국어。，"} <= set(cmap)
    assert sum(1 for code in cmap if 0x4E00 <= code <= 0x9FFF) == 20902  # the whole URO block
    assert sum(1 for code in cmap if 0xAC00 <= code <= 0xD7A3) == 11172  # every Hangul syllable


def test_the_same_document_always_gives_the_same_bytes(ten_lines: bytes) -> None:
    render_invoice_pdf(sample_invoice_document(40, locale="en"))  # shared fonts must carry no state over

    assert render_invoice_pdf(sample_invoice_document(10)) == ten_lines


@pytest.mark.parametrize("locale", ["de", "en"])
def test_latin_documents_take_the_fast_path_with_the_prepared_fonts(locale: Locale) -> None:
    """A label or format with a character outside the subsets would quietly make every invoice 30x slower."""
    pdf = render_invoice_pdf(sample_invoice_document(10, locale=locale))

    prepared_fonts, charset = invoice_pdf._shared_fonts()
    assert all(shared.font_file in pdf for shared in prepared_fonts.values())
    for labels in LABELS.values():
        assert all(charset.issuperset(getattr(labels, field.name)) for field in fields(labels))


def test_sizes_stay_small(ten_lines: bytes, three_hundred_lines: bytes) -> None:
    assert ten_lines.startswith(b"%PDF-")
    assert len(ten_lines) < 60_000
    assert len(three_hundred_lines) < 120_000


def _zero_rated(document: InvoiceDocument, category: VatCategory, buyer: Party) -> InvoiceDocument:
    lines = tuple(
        dataclasses.replace(line, tax_rate=Decimal(0), vat_category=category) for line in document.lines
    )
    taxes = tuple(
        dataclasses.replace(t, category=category, exemption_code=exemption_code(category))
        for t in tax_breakdown(lines)
    )
    return dataclasses.replace(
        document, buyer=buyer, lines=lines, tax_breakdown=taxes, tax=Decimal("0.00"), gross=document.net
    )


@needs_poppler
@pytest.mark.parametrize(
    ("category", "locale", "words"),
    [
        ("K", "de", "§ 4 Nr. 1b i. V. m. § 6a UStG"),
        ("K", "en", "intra-Community supply of goods"),
        ("AE", "de", "Steuerschuldnerschaft des Leistungsempfängers"),
        ("AE", "en", "the recipient is liable for the VAT"),
        ("G", "de", "§ 4 Nr. 1a i. V. m. § 6 UStG"),
        ("G", "en", "export delivery"),
    ],
)
def test_an_invoice_without_vat_says_why_in_its_language(
    category: VatCategory, locale: Locale, words: str
) -> None:
    vienna = PostalAddress(line1="Mariahilfer Straße 1", postal_code="1060", city="Wien", country="AT")
    buyer = Party(name="Wiener Handels GmbH", address=vienna, vat_id="ATU13585627")
    document = _zero_rated(sample_invoice_document(2, locale=locale), category, buyer)

    text = " ".join(" ".join(page_texts(render_invoice_pdf(document))).split())

    assert words in text
    assert "ATU13585627" in text  # both VAT ids are on it (§ 14a (1), (3) UStG)


def test_only_the_categories_on_the_invoice_print_a_note() -> None:
    domestic = sample_invoice_document(2)
    export = _zero_rated(domestic, "G", domestic.buyer)
    mixed = dataclasses.replace(
        export, lines=(*export.lines, dataclasses.replace(domestic.lines[0], vat_category="E"))
    )

    assert exemption_notes(domestic) == []
    assert exemption_notes(export) == [EXEMPTION_NOTES["de"]["G"]]
    assert exemption_notes(mixed) == [EXEMPTION_NOTES["de"]["G"], EXEMPTION_NOTES["de"]["E"]]
    assert exemption_notes(dataclasses.replace(export, locale="en")) == [EXEMPTION_NOTES["en"]["G"]]


def test_every_exemption_note_is_drawn_by_the_shared_font_subsets() -> None:
    """A note with a character outside the subsets would make every such invoice 30x slower."""
    _, charset = invoice_pdf._shared_fonts()
    for notes in EXEMPTION_NOTES.values():
        assert set(notes) == {"AE", "K", "G", "O", "E"}
        assert all(charset.issuperset(note) for note in notes.values())


@pytest.mark.parametrize(
    ("heights", "closing", "expected"),
    [
        ([10.0] * 5, 20.0, [range(0, 5)]),  # everything fits on the first page (80 mm)
        ([10.0] * 12, 20.0, [range(0, 8), range(8, 12)]),  # the next pages hold 100 mm
        ([10.0] * 5, 40.0, [range(0, 3), range(3, 5)]),  # the totals take the last two rows along
        ([10.0] * 10, 85.0, [range(0, 8), range(8, 9), range(9, 10)]),  # or the last one of two
        ([10.0] * 9, 95.0, [range(0, 8), range(8, 9), range(9, 9)]),  # taller than a page with a row
        ([], 20.0, [range(0, 0)]),
    ],
)
def test_pagination_keeps_the_totals_with_at_least_one_row(
    heights: list[float], closing: float, expected: list[range]
) -> None:
    assert paginate(heights, first_room=80.0, room=100.0, closing=closing) == expected


class _MonospaceSurface:
    """One millimetre per character: enough to check wrapping and fitting."""

    def text_width(self, text: str) -> float:
        return float(len(text))


def test_text_wraps_at_words_breaks_words_wider_than_the_line_and_ends_in_an_ellipsis_past_its_cap() -> None:
    surface = _MonospaceSurface()

    paper = ["Kopierpapier A4,", "80 g/m², 500", "Blatt"]
    assert wrap_text(surface, "Kopierpapier A4, 80 g/m², 500 Blatt", 16, 5) == paper
    assert wrap_text(surface, "eins zwei drei vier", 9, 2) == ["eins zwei", "drei vier"]
    compound = ["Donaudampf", "schifffahr", "tsgesellsc", "haft AG"]
    assert wrap_text(surface, "Donaudampfschifffahrtsgesellschaft AG", 10, 5) == compound
    assert wrap_text(surface, "東京都千代田区丸の内一丁目", 5, 5) == ["東京都千代", "田区丸の内", "一丁目"]
    # the cap only other texts have (the closing text's 24 lines); descriptions are never cut (below)
    assert wrap_text(surface, "eins zwei drei vier fünf", 9, 2) == ["eins zwei", "drei vie…"]
    assert fit_text(surface, "Überlange Bezeichnung", 10) == "Überlange…"
    assert fit_text(surface, "kurz", 10) == "kurz"


@needs_poppler
@pytest.mark.parametrize(
    "description",
    [
        # Latin words and Japanese (no spaces to wrap at), each the 1,000 characters intake allows
        " ".join(f"Wartungsleistung{n:03d}" for n in range(52))[:1000],
        ("保守サービス月額料金東京本社" * 72)[:1000],
    ],
    ids=["latin", "japanese"],
)
def test_a_description_as_long_as_intake_allows_is_printed_whole(description: str) -> None:
    """§ 14 (4) Nr. 5 UStG: the invoice names what was supplied; a description cut with "…" does not (#13)."""
    sample = sample_invoice_document(3)
    lines = (dataclasses.replace(sample.lines[0], description=description), *sample.lines[1:])
    pdf = render_invoice_pdf(dataclasses.replace(sample, lines=lines))

    assert "…" not in "".join(page_texts(pdf))
    # the description column (31-93 mm from the left, in points), read top to bottom
    column = _poppler("pdftotext", pdf, "-x", "87", "-y", "0", "-W", "178", "-H", "842").decode()
    assert re.sub(r"\s+", "", description) in re.sub(r"\s+", "", column)


@needs_poppler
def test_the_footer_prints_the_whole_register_entry() -> None:
    """Seen cut at "HRB 1…" (§ 35a GmbHG asks for the register court and number): entries wrap instead."""
    sample = sample_invoice_document(3)
    seller = dataclasses.replace(sample.seller, register="Amtsgericht Berlin-Charlottenburg HRB 123456 B")
    pdf = render_invoice_pdf(dataclasses.replace(sample, seller=seller))

    assert "…" not in " ".join(page_texts(pdf))
    # the footer's first column: 20-74 mm from the left, below the rule at 275 mm (in points)
    column = _poppler("pdftotext", pdf, "-x", "56", "-y", "779", "-W", "155", "-H", "63").decode()
    assert "Amtsgericht Berlin-Charlottenburg HRB 123456 B" in re.sub(r"\s+", " ", column)


@pytest.mark.parametrize(
    ("amount", "currency", "german", "english"),
    [
        ("42.82", "EUR", "42,82\xa0€", "€42.82"),
        ("1234567.5", "EUR", "1.234.567,50\xa0€", "€1,234,567.50"),
        ("-0.00", "EUR", "0,00\xa0€", "€0.00"),
        ("1200", "JPY", "1.200\xa0¥", "JP¥1,200"),
        ("1.250", "BHD", "1,250\xa0BHD", "BHD1.250"),
        ("1234.567", "IQD", "1.234,567\xa0IQD", "IQD1,234.567"),  # ISO 4217 digits, not CLDR's
    ],
)
def test_money_uses_the_locale_and_the_currencys_digits(
    amount: str, currency: str, german: str, english: str
) -> None:
    assert format_money(Decimal(amount), currency, "de") == german
    assert format_money(Decimal(amount), currency, "en") == english


def test_dates_rates_and_quantities_follow_the_locale() -> None:
    assert format_date(date(2026, 11, 22), "de") == "22.11.2026"
    assert format_date(date(2026, 11, 22), "en") == "22 November 2026"
    assert [format_percent(Decimal(rate), "de") for rate in ("19", "7.5", "10.00")] == [
        "19\xa0%",
        "7,5\xa0%",
        "10\xa0%",
    ]
    assert [format_percent(Decimal(rate), "en") for rate in ("19", "7.5")] == ["19%", "7.5%"]
    assert [format_decimal(Decimal(q), "de") for q in ("2.5", "2.50", "1000")] == ["2,5", "2,5", "1.000"]


def test_every_label_exists_in_both_languages_and_its_template_fills() -> None:
    for labels in LABELS.values():
        assert all(getattr(labels, field.name) for field in fields(labels))
    assert LABELS["de"].page_of.format(page=1, pages=3) == "Seite 1 von 3"
    assert LABELS["de"].payment_terms.format(days=14, due_date="22.11.2026") == (
        "Zahlbar innerhalb von 14 Tagen ohne Abzug bis 22.11.2026."
    )


def test_the_sample_adds_up() -> None:
    document = sample_invoice_document(25)

    assert {line.rate for line in document.tax_breakdown} == {Decimal(19), Decimal(7)}
    assert document.net == sum(line.net for line in sample_lines(25))
    assert document.gross == document.net + document.tax
    assert document.buyer.name == "Anna Schmidt GmbH"
    assert document.buyer.vat_id == "DE136695976"


@pytest.mark.parametrize("stem", invoice_pdf.FACE_FILE_STEMS.values())
def test_the_prebuilt_subsets_match_the_full_fonts(stem: str) -> None:
    full = TTFont(invoice_pdf.FONT_DIR / f"{stem}.ttf")
    common = TTFont(invoice_pdf.FONT_DIR / f"{stem}.latin.ttf")
    full_cmap, common_cmap = full.getBestCmap(), common.getBestCmap()

    assert set(common_cmap) == {code for code in invoice_pdf.COMMON_CODEPOINTS if code in full_cmap}
    for code, glyph in common_cmap.items():
        assert common["hmtx"][glyph] == full["hmtx"][full_cmap[code]]
    assert "fpgm" not in common  # unhinted, see build_common_subset
    assert "prep" not in common


def test_the_fpdf2_internals_the_renderer_relies_on_are_still_there() -> None:
    """invoice_pdf.py's font section reaches into fpdf2. If this fails after an upgrade, re-check each use
    there (shared TTFFont objects, the pre-numbered subset, the OutputProducer override), then update."""
    assert fpdf.FPDF_VERSION == "2.8.9"
    assert list(inspect.signature(OutputProducer._add_fonts).parameters) == [
        "self",
        "image_objects_per_index",
        "gfxstate_objs_per_name",
        "pattern_objs_per_name",
    ]
    assert "output_producer_class" in inspect.signature(fpdf.FPDF.output).parameters
    assert callable(OutputProducer._add_pdf_obj)
    assert {"i", "cw", "cmap", "desc", "name", "subset", "ttfont"} <= set(TTFFont.__slots__)
    assert "self.subset.pick(uni)" in inspect.getsource(TTFFont.encode_text)
    assert "self._char_id_per_glyph" in inspect.getsource(SubsetMap.items)
    assert "self.fonts[fontkey]" in inspect.getsource(fpdf.FPDF.set_font)
    # The full path (every script): per-document copies of parsed fonts, a fresh fontTools object to subset.
    assert {"glyph_ids", "missing_glyphs", "fontkey", "ttffile"} <= set(TTFFont.__slots__)
    assert "copy.ttfont = self.ttfont" in inspect.getsource(TTFFont.__deepcopy__)
    assert "subsetter.subset(font.ttfont)" in inspect.getsource(OutputProducer._add_fonts)
    assert callable(SubsetMap.pick.cache_clear)  # type: ignore[attr-defined]
    # ... and fontTools (fpdf2's dependency): the subsetter keeps glyphs from any mapping, post/hmtx rebinding
    glyf, hmtx, post = (getTableClass(tag) for tag in ("glyf", "hmtx", "post"))
    assert "self.glyphs = _dict_subset(self.glyphs, s.glyphs)" in inspect.getsource(glyf.subset_glyphs)
    assert "self.metrics = _dict_subset(self.metrics" in inspect.getsource(hmtx.subset_glyphs)
    assert "self.extraNames = []" in inspect.getsource(post.subset_glyphs)


def test_the_renderer_module_alone_imports_fpdf() -> None:
    program = (
        "import sys, receivables.rendering.invoice_layout, receivables.rendering.samples; "
        "assert 'fpdf' not in sys.modules"
    )
    layer = Path(invoice_pdf.__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", program], check=True, env={"PYTHONPATH": str(layer)})
