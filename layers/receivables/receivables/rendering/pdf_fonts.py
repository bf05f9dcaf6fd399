"""The fonts of the every-script path of the invoice PDF, parsed once per process (invoice_pdf.py says why).

The full DejaVu faces (Greek, Cyrillic, Arabic, Hebrew, ...) and DroidSansFallback.cjk.ttf are parsed once
and copied per document; at output each document's copy gets a fresh fontTools object opened from bytes read
once, because fpdf2 subsets it in place. This reaches into fpdf2 internals (pinned fpdf2==2.8.9;
tests/unit/test_invoice_pdf.py checks each of them).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, cast

from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FACE_FILE_STEMS = {"": "DejaVuSans", "B": "DejaVuSans-Bold"}  # fpdf2 style -> file name without ".ttf"
CJK_FILE = "DroidSansFallback.cjk.ttf"  # one weight: bold CJK text is drawn in it too
_FAMILY = "dejavu"
_CJK_FAMILY = "droidcjk"
_TABLES_FPDF2_DROPS = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta")


@dataclass(frozen=True)
class _Face:
    widths: Mapping[str, int]  # advance per character in 1/1000 em
    missing_width: int
    # Invoices repeat their words, amounts and labels: each string is measured once per face and process.
    measured: dict[str, int] = field(default_factory=dict)


def _face_of(font: Any) -> _Face:
    return _Face({chr(code): int(width) for code, width in font.cw.items()}, int(font.desc.missing_width))


class _FreshFontFileOutputProducer(OutputProducer):
    """fpdf2 subsets each font's fontTools object in place when writing: give it a fresh one, opened from
    bytes read once, so that the shared parsed font (widths, shaping) stays whole for the next document."""

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, Any]:  # fpdf2 internal, see module note
        files = _full_fonts().files
        fonts: list[Any] = list(self.fpdf.fonts.values())
        for font in fonts:
            fresh = TTFont(BytesIO(files[font.fontkey]), recalcTimestamp=False)
            # The CJK font has no glyph names: fontTools would derive all 50,000 from the cmap again.
            fresh.setGlyphOrder(font.ttfont.getGlyphOrder())
            # Nor decompile metrics and glyph names again: subsetting `hmtx` and `post` rebinds their
            # attributes on the copy, the shared tables stay whole.
            for tag in ("hmtx", "post"):
                fresh.tables[tag] = copy.copy(font.ttfont[tag])
            # ... nor cut the 50,000 CJK outlines apart: the subsetter takes the few it keeps, made fresh.
            fresh.tables["glyf"] = _glyf_table(_glyph_data(font.fontkey), font.ttfont.getGlyphOrder())
            for tag in _TABLES_FPDF2_DROPS:  # fpdf2 drops them from the subset, but decompiles them first
                if tag in fresh:
                    del fresh[tag]
            font.ttfont = fresh
        return super()._add_fonts(*args, **kwargs)


class _FreshGlyphs(Mapping[str, Glyph]):
    """A `glyf` table's glyphs, each a new fontTools `Glyph` from its bytes when asked for: the subsetter
    remaps and trims the glyphs it keeps in place, so they must not be shared between documents."""

    def __init__(self, data: Mapping[str, bytes]) -> None:
        self._data = data

    def __getitem__(self, name: str) -> Glyph:
        return Glyph(self._data[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _glyf_table(data: Mapping[str, bytes], glyph_order: list[str]) -> Any:
    table: Any = newTable("glyf")
    table.glyphs = _FreshGlyphs(data)
    table.glyphOrder = glyph_order
    table._reverseGlyphOrder = {}
    return table


@cache
def _glyph_data(fontkey: str) -> dict[str, bytes]:
    """Each glyph's outline bytes, cut from the font's `glyf` table once per process."""
    font = TTFont(BytesIO(_full_fonts().files[fontkey]), recalcTimestamp=False)
    font.setGlyphOrder(_full_fonts().fonts[fontkey].ttfont.getGlyphOrder())
    return {name: getattr(glyph, "data", b"") for name, glyph in font["glyf"].glyphs.items()}  # b"": empty


@dataclass(frozen=True)
class _FullFonts:
    fonts: dict[str, TTFFont]  # fpdf2 font key -> parsed font, in registration order
    drawable: dict[str, frozenset[int]]  # style -> code points that style or the CJK fallback draws
    faces: dict[str, _Face]  # style -> DejaVu's width table
    files: dict[str, bytes]  # font key -> the TTF file


@cache
def _full_fonts() -> _FullFonts:
    """Parse the full faces and the CJK font once per process (the CJK file alone is 3.3 MB)."""
    loader = FPDF()
    for style, stem in FACE_FILE_STEMS.items():
        loader.add_font(_FAMILY, style, FONT_DIR / f"{stem}.ttf")
    loader.add_font(_CJK_FAMILY, "", FONT_DIR / CJK_FILE)
    fonts: dict[str, Any] = dict(loader.fonts)
    cjk = frozenset(fonts[_CJK_FAMILY].cmap)
    drawable = {style: frozenset(fonts[_FAMILY + style].cmap) | cjk for style in FACE_FILE_STEMS}
    files = {key: Path(font.ttffile).read_bytes() for key, font in fonts.items()}
    faces = {style: _face_of(fonts[_FAMILY + style]) for style in FACE_FILE_STEMS}
    return _FullFonts(fonts, drawable, faces, files)


def _copy_font(font: Any) -> TTFFont:
    """A per-document copy: fresh glyph numbering and missing-glyph list; the parsed font, its HarfBuzz face
    and (read-only here) width and glyph-id tables shared instead of copied."""
    memo = {id(font.cw): font.cw, id(font.glyph_ids): font.glyph_ids, id(font.subset): None}
    copied: Any = copy.deepcopy(font, memo)
    copied.subset = SubsetMap(copied)  # fpdf2's deepcopy would tie the copied subset to another font copy
    copied.missing_glyphs = []
    return cast(TTFFont, copied)
