"""The invoice as an A4 PDF with everything §14(4) UStG asks for, in the document's language, drawn by fpdf2.

Why it is fast (docs/decisions/0004-pdf-rendering.md): plain fpdf2 parses both TTF files for every document
and subsets them with fontTools when writing, about 100 ms per invoice. Here the two DejaVu faces are read
once per process from pre-built Latin subsets (fonts/*.latin.ttf) and embedded whole, from bytes compressed
once; the layout (invoice_layout.py) places text with `text()` and measures it with a width table.

Every other script (docs/decisions/0025-pdf-in-every-script.md): a document with a character outside those
subsets is rendered again with the full DejaVu faces (Greek, Cyrillic, Arabic, Hebrew, ...) and
DroidSansFallback.cjk.ttf as fpdf2's fallback font for Chinese, Japanese and Korean, with fpdf2's text
shaping (HarfBuzz through uharfbuzz: Arabic joining, and fpdf2's own Unicode bidi algorithm for right-to-left
order). Those three fonts are parsed once per process too and copied per document (fpdf2's own
`TTFFont.__deepcopy__` shares the parsed font). A character that no font can draw fails the render with
`UndrawableTextError` instead of leaving a gap on a legal document.

Every PDF is a PDF/A-3B Factur-X / ZUGFeRD hybrid with the EN 16931 CII XML of the same document embedded as
`factur-x.xml` (rendering/factur_x.py, docs/decisions/0036-e-invoices.md).
"""

from __future__ import annotations

import copy
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFString

from receivables.documents import InvoiceDocument
from receivables.einvoice import EInvoiceIncomplete, build_cii
from receivables.rendering.factur_x import PDFA, embed_factur_x
from receivables.rendering.invoice_layout import InvoiceLayout
from receivables.rendering.labels import document_title
from receivables.rendering.pdf_fonts import (
    _CJK_FAMILY,
    _FAMILY,
    FACE_FILE_STEMS,
    FONT_DIR,
    _copy_font,
    _Face,
    _face_of,
    _FreshFontFileOutputProducer,
    _full_fonts,
    _FullFonts,
)

# What the pre-built subsets hold: the Latin scripts of Europe, typographic punctuation, € and a few signs.
COMMON_CODEPOINTS: tuple[int, ...] = (
    *range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x218, 0x21C), *range(0x2010, 0x2016),
    *range(0x2018, 0x201F), 0x2009, 0x2020, 0x2021, 0x2022, 0x2026, 0x202F, 0x2030, 0x2032, 0x2033,
    0x2039, 0x203A, 0x20AC, 0x2116, 0x2122, 0x2212,
)  # fmt: skip
_PT = 25.4 / 72  # millimetres per point
_MEASURED_LIMIT = 50_000  # remembered string widths per face, bounded for long-lived processes


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    """The same document always gives the same bytes: dates come from it, the file id from the content."""
    fonts, charset = _shared_fonts()
    xml = factur_x_xml(document)
    try:
        pdf = _new_pdf(document, xml)
        for style, shared in fonts.items():
            _register_shared_font(pdf, style, shared.font)
        faces = {style: shared.face for style, shared in fonts.items()}
        InvoiceLayout(document, _FpdfSurface(pdf, faces, charset)).draw()
        return bytes(pdf.output(output_producer_class=_SharedFontOutputProducer))
    except _NeedsFullFonts:
        return _render_with_full_fonts(document, xml)


def factur_x_xml(document: InvoiceDocument) -> bytes | None:
    """The document's EN 16931 XML, or None when it lacks a field the rules require.

    The PDF is still issued then (a legal invoice on paper terms, PDF/A-3 without XML): refusing it would
    stop the invoice, not fix the seller profile. The render functions log the missing fields
    (einvoice.records.warn_if_not_einvoice); this module stays free of observability's import-time setup.
    """
    try:
        return build_cii(document, "zugferd")
    except EInvoiceIncomplete:
        return None


class UndrawableTextError(ValueError):
    """The document holds a character that none of the fonts can draw: no invoice with a gap is issued.

    The render fails (and its task retries and alerts) until a font for that script is added.
    """

    def __init__(self, text: str, characters: str) -> None:
        names = ", ".join(f"U+{ord(char):04X} {unicodedata.name(char, '?')}" for char in characters)
        super().__init__(f"no font draws {names} in {text!r}")
        self.characters = characters


def _render_with_full_fonts(document: InvoiceDocument, xml: bytes | None) -> bytes:
    fonts = _full_fonts()
    pdf = _new_pdf(document, xml)
    for key, font in fonts.fonts.items():
        pdf.fonts[key] = _copy_font(font)  # registered in the loader's order, so each index `i` matches
    pdf.set_fallback_fonts([_CJK_FAMILY], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.c_margin = 0
    try:
        InvoiceLayout(document, _ShapingSurface(pdf, fonts)).draw()
        return bytes(pdf.output(output_producer_class=_FreshFontFileOutputProducer))
    finally:
        # fpdf2 memoises `SubsetMap.pick` on the class, which would keep every document's fonts alive.
        SubsetMap.pick.cache_clear()


def _new_pdf(document: InvoiceDocument, xml: bytes | None) -> FPDF:
    title = document_title(document)
    subject = f"{title} – {document.buyer.name}"
    pdf = FPDF(unit="mm", format="A4", enforce_compliance=PDFA)
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_author(document.seller.name)
    pdf.set_subject(subject)
    pdf.set_creator("receivables")
    pdf.set_lang(document.locale)
    pdf.set_creation_date(datetime.combine(document.issue_date, time(), tzinfo=UTC))
    embed_factur_x(pdf, document, xml, title, subject)
    return pdf


class _NeedsFullFonts(Exception):
    """A text uses a character the pre-built subsets lack."""


class _FpdfSurface:
    """The layout's drawing surface on fpdf2, measuring text with the face's width table."""

    def __init__(self, pdf: FPDF, faces: Mapping[str, _Face], charset: frozenset[str] | None) -> None:
        self._pdf = pdf
        self._faces = faces
        self._charset = charset
        self._font: tuple[bool, float] | None = None
        self._face = next(iter(faces.values()))
        self._scale = 0.0
        self._gray = -1

    def add_page(self) -> None:
        self._pdf.add_page()
        self._gray = -1

    def use_font(self, bold: bool, size: float, gray: int = 0) -> None:
        if (bold, size) != self._font:
            style = "B" if bold else ""
            self._pdf.set_font(_FAMILY, style, size)
            self._font = (bold, size)
            self._face = self._faces[style]
            self._scale = size * _PT / 1000
        self._set_gray(gray)

    def _set_gray(self, gray: int) -> None:
        # fpdf2 paints text with the text colour but wraps it in a colour switch whenever that differs from
        # the fill colour; keeping both equal keeps the page stream short.
        if gray != self._gray:
            self._pdf.set_text_color(gray)
            self._pdf.set_fill_color(gray)
            self._gray = gray

    def text_width(self, text: str) -> float:
        face = self._face
        units = face.measured.get(text)
        if units is None:
            widths, missing = face.widths, face.missing_width
            units = sum([widths.get(char, missing) for char in text])
            if len(face.measured) < _MEASURED_LIMIT:
                face.measured[text] = units
        return units * self._scale

    def text(self, x: float, y: float, text: str) -> None:
        if self._charset is not None and not self._charset.issuperset(text):
            raise _NeedsFullFonts(text)
        self._pdf.text(x, y, text)

    def line(self, x1: float, y1: float, x2: float, y2: float, gray: int) -> None:
        self._pdf.set_draw_color(gray)
        self._pdf.set_line_width(0.1)
        self._pdf.line(x1, y1, x2, y2)

    def fill_rect(self, x: float, y: float, width: float, height: float, gray: int) -> None:
        self._set_gray(gray)
        self._pdf.rect(x, y, width, height, style="F")


class _ShapingSurface:
    """The surface for text outside the Latin subsets: fpdf2's `cell()` with fallback fonts and shaping.

    `text()` in fpdf2 does neither, so each string that needs them is a cell of the font's height, placed so
    that its baseline (fpdf2 puts it at 0.5 h + 0.3 font size below the top) falls where the layout wants it.
    Strings wholly in the Latin subsets' character set (labels, amounts, dates: most of them) need neither
    and are placed with `text()` and measured with the width table, as on the fast path: a cell costs fpdf2
    a bidi and shaping pass per string.
    """

    def __init__(self, pdf: FPDF, fonts: _FullFonts) -> None:
        self._pdf = pdf
        self._drawable = fonts.drawable
        self._faces = fonts.faces
        self._plain = _shared_fonts()[1]
        self._scale = 0.0
        self._style = ""
        self._font: tuple[bool, float] | None = None
        self._gray = -1
        self._widths: dict[tuple[str, float, str], float] = {}

    def add_page(self) -> None:
        self._pdf.add_page()

    def use_font(self, bold: bool, size: float, gray: int = 0) -> None:
        if (bold, size) != self._font:
            self._style = "B" if bold else ""
            self._pdf.set_font(_FAMILY, self._style, size)
            self._font = (bold, size)
            self._scale = size * _PT / 1000
        if gray != self._gray:
            self._pdf.set_text_color(gray)
            self._pdf.set_fill_color(gray)
            self._gray = gray

    def text_width(self, text: str) -> float:
        key = (self._style, self._pdf.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            if self._plain.issuperset(text):
                widths, missing = self._faces[self._style].widths, self._faces[self._style].missing_width
                width = sum([widths.get(char, missing) for char in text]) * self._scale
            else:
                width = self._pdf.get_string_width(text)
            self._widths[key] = width
        return width

    def text(self, x: float, y: float, text: str) -> None:
        drawable = self._drawable[self._style]
        missing = "".join(dict.fromkeys(c for c in text if ord(c) not in drawable and not _invisible(c)))
        if missing:
            raise UndrawableTextError(text, missing)
        pdf = self._pdf
        if self._plain.issuperset(text):
            pdf.text(x, y, text)
            return
        height = pdf.font_size
        pdf.set_xy(x, y - 0.8 * height)
        pdf.cell(self.text_width(text), height, text)

    def line(self, x1: float, y1: float, x2: float, y2: float, gray: int) -> None:
        self._pdf.set_draw_color(gray)
        self._pdf.set_line_width(0.1)
        self._pdf.line(x1, y1, x2, y2)

    def fill_rect(self, x: float, y: float, width: float, height: float, gray: int) -> None:
        self._pdf.set_fill_color(gray)
        self._gray = -1
        self._pdf.rect(x, y, width, height, style="F")


def _invisible(char: str) -> bool:
    """Control and format characters (bidi marks, joiners): fpdf2's bidi and shaping consume them."""
    return unicodedata.category(char) in ("Cc", "Cf")


# ---------------------------------------------------------------------------------------------------------
# Fonts: the one place that relies on fpdf2 internals (pinned fpdf2==2.8.9; tests/unit/test_invoice_pdf.py
# checks each of them, so an upgrade that changes them fails there rather than in production).


@dataclass(frozen=True)
class _SharedFont:
    font: TTFFont
    face: _Face
    width_array: str
    to_unicode: bytes  # compressed, like the two streams below
    cid_to_gid_map: bytes
    font_file: bytes
    font_file_length: int


@cache
def _shared_fonts() -> tuple[dict[str, _SharedFont], frozenset[str]]:
    """Parse the subset fonts once per process and prepare what their PDF objects hold in every document."""
    loader = FPDF()
    fonts: dict[str, _SharedFont] = {}
    for style, stem in FACE_FILE_STEMS.items():
        path = FONT_DIR / f"{stem}.latin.ttf"
        loader.add_font(_FAMILY, style, path)
        font: Any = loader.fonts[_FAMILY + style]
        # fpdf2 numbers glyphs in order of first use. Using every glyph once, here, fixes the numbering for
        # all documents, so widths, ToUnicode and CIDToGIDMap are computed once instead of per document.
        codes = {codepoint: font.subset.pick(codepoint) for codepoint in sorted(font.cmap)}
        # ... and with the numbering fixed, a dict lookup replaces fpdf2's memoised `pick`, which hashes its
        # arguments for every character drawn.
        font.subset.pick = codes.__getitem__
        glyphs = sorted((code, glyph) for glyph, code in font.subset.items() if glyph is not None)
        cid_to_gid = bytearray(2 * (glyphs[-1][0] + 1))
        for code, glyph in glyphs:
            cid_to_gid[2 * code : 2 * code + 2] = font.ttfont.getGlyphID(glyph.glyph_name).to_bytes(2, "big")
        font_bytes = path.read_bytes()
        fonts[style] = _SharedFont(
            font=font,
            face=_face_of(font),
            width_array=_width_array({code: glyph.glyph_width for code, glyph in glyphs}),
            to_unicode=zlib.compress(_to_unicode_cmap({code: glyph.unicode for code, glyph in glyphs})),
            cid_to_gid_map=zlib.compress(bytes(cid_to_gid)),
            font_file=zlib.compress(font_bytes, 9),
            font_file_length=len(font_bytes),
        )
    charset = frozenset.intersection(*(frozenset(shared.face.widths) for shared in fonts.values()))
    return fonts, charset


def _register_shared_font(pdf: FPDF, style: str, font: TTFFont) -> None:
    # fpdf2 internal: `add_font` would parse the file again; the font object carries no per-document state
    # once every glyph has been numbered, and its index `i` matches because fonts are registered in order.
    pdf.fonts[_FAMILY + style] = font


class _SharedFontOutputProducer(OutputProducer):
    """Writes the shared fonts from the prepared objects; fpdf2 would subset and compress them again."""

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, Any]:  # fpdf2 internal, see module note
        fonts, _ = _shared_fonts()
        if list(self.fpdf.fonts.values()) != [shared.font for shared in fonts.values()]:
            raise RuntimeError("only documents drawn with just the shared fonts can be written this way")
        objects: dict[int, Any] = {}
        for shared in fonts.values():
            font: Any = shared.font
            base_font = f"MPDFAA+{font.name}"
            descriptor = copy.copy(font.desc)
            descriptor.font_name = Name(base_font)
            descriptor.font_file2 = self._add_stream(shared.font_file, length1=shared.font_file_length)
            self._add_pdf_obj(descriptor, "fonts")
            system_info = CIDSystemInfo()
            system_info.ordering = PDFString("Identity", encrypt=True)
            self._add_pdf_obj(system_info, "fonts")
            cid_font = PDFFont("CIDFontType2", base_font, d_w=font.desc.missing_width, w=shared.width_array)
            cid_font.c_i_d_system_info = system_info
            cid_font.font_descriptor = descriptor
            cid_font.c_i_d_to_g_i_d_map = self._add_stream(shared.cid_to_gid_map)
            self._add_pdf_obj(cid_font, "fonts")
            composite_font = PDFFont("Type0", base_font, encoding="Identity-H")
            composite_font.descendant_fonts = PDFArray([cid_font])
            composite_font.to_unicode = self._add_stream(shared.to_unicode)
            self._add_pdf_obj(composite_font, "fonts")
            objects[font.i] = composite_font
        return objects

    def _add_stream(self, compressed: bytes, **entries: Any) -> PDFContentStream:
        stream = PDFContentStream(contents=compressed, compress=False)
        stream.filter = Name("FlateDecode")
        for key, value in entries.items():
            setattr(stream, key, value)
        self._add_pdf_obj(stream, "fonts")
        return stream


def _width_array(widths: Mapping[int, int]) -> str:
    runs: list[tuple[int, list[int]]] = []
    for code in sorted(widths):
        if runs and runs[-1][0] + len(runs[-1][1]) == code:
            runs[-1][1].append(widths[code])
        else:
            runs.append((code, [widths[code]]))
    return "[" + " ".join(f"{start} [{' '.join(map(str, run))}]" for start, run in runs) + "]"


def _to_unicode_cmap(unicodes: Mapping[int, tuple[int, ...]]) -> bytes:
    entries = [
        f"<{code:04X}> <{''.join(f'{u:04X}' for u in text)}>" for code, text in unicodes.items() if text
    ]
    blocks = [entries[start : start + 100] for start in range(0, len(entries), 100)]  # spec limit per block
    body = "\n".join(f"{len(block)} beginbfchar\n" + "\n".join(block) + "\nendbfchar" for block in blocks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        f"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n{body}\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


def build_common_subset(source: Path) -> bytes:
    """The pre-built subset of one face; `python -m receivables.rendering.invoice_pdf` rewrites both.

    Hinting is dropped: PDF viewers rasterise outlines with their own anti-aliasing, and it halves the size.
    Of the name table only the names, copyright and trademark notices stay (the licence text is in fonts/).
    """

    from fontTools import subset

    # Glyph names are kept: without them fontTools derives them from the cmap through the Adobe Glyph List,
    # whose import costs a cold start 20 ms.
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, hinting=False, glyph_names=True)
    options.name_IDs = list(range(8))
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "kern", "hdmx", "meta"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=COMMON_CODEPOINTS)
    font = TTFont(source, recalcTimestamp=False)
    subsetter.subset(font)
    output = BytesIO()
    font.save(output)
    return output.getvalue()


if __name__ == "__main__":
    for stem in FACE_FILE_STEMS.values():
        (FONT_DIR / f"{stem}.latin.ttf").write_bytes(build_common_subset(FONT_DIR / f"{stem}.ttf"))
