"""The benchmark's yardstick: the same invoice layout drawn with ReportLab instead of fpdf2.

Both renderers run `InvoiceLayout` on their own `Surface`, so they place the same strings at the same
positions and the comparison measures the PDF libraries, not two different layouts. ReportLab gets its
fastest usual setup: the canvas API, the full DejaVu TTFs registered once per process (ReportLab keeps
parsed fonts in a process-wide registry) and its own per-document font subsetting.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

import receivables
from receivables.documents import InvoiceDocument
from receivables.rendering.invoice_layout import PAGE_HEIGHT, InvoiceLayout
from receivables.rendering.labels import labels_for

# Not imported from invoice_pdf: that would load fpdf2 into ReportLab's cold-start figure.
FONT_DIR = Path(receivables.__file__).resolve().parent / "fonts"
_FONT_NAMES = {False: "DejaVuSans", True: "DejaVuSans-Bold"}  # also the file names, without ".ttf"


@cache
def register_fonts() -> None:
    for name in _FONT_NAMES.values():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))


class ReportLabSurface:
    def __init__(self, canvas: Canvas) -> None:
        self._canvas = canvas
        self._pages = 0
        self._font_name = ""
        self._size = 0.0
        self._gray = 0

    def add_page(self) -> None:
        if self._pages:
            self._canvas.showPage()  # ReportLab resets the graphics state for the new page
        self._pages += 1
        self._font_name, self._size, self._gray = "", 0.0, 0

    def use_font(self, bold: bool, size: float, gray: int = 0) -> None:
        name = _FONT_NAMES[bold]
        if (name, size) != (self._font_name, self._size):
            self._canvas.setFont(name, size)
            self._font_name, self._size = name, size
        if gray != self._gray:
            self._canvas.setFillGray(gray / 255)
            self._gray = gray

    def text_width(self, text: str) -> float:
        return float(pdfmetrics.stringWidth(text, self._font_name, self._size) / mm)

    def text(self, x: float, y: float, text: str) -> None:
        self._canvas.drawString(x * mm, (PAGE_HEIGHT - y) * mm, text)

    def line(self, x1: float, y1: float, x2: float, y2: float, gray: int) -> None:
        self._canvas.setStrokeGray(gray / 255)
        self._canvas.setLineWidth(0.1 * mm)
        self._canvas.line(x1 * mm, (PAGE_HEIGHT - y1) * mm, x2 * mm, (PAGE_HEIGHT - y2) * mm)

    def fill_rect(self, x: float, y: float, width: float, height: float, gray: int) -> None:
        self._canvas.setFillGray(gray / 255)
        self._canvas.rect(x * mm, (PAGE_HEIGHT - y - height) * mm, width * mm, height * mm, stroke=0, fill=1)
        self._canvas.setFillGray(self._gray / 255)


def render_invoice_pdf_reportlab(document: InvoiceDocument) -> bytes:
    register_fonts()
    labels = labels_for(document.locale)
    output = BytesIO()
    canvas = Canvas(output, pagesize=A4, invariant=True, lang=document.locale)
    canvas.setTitle(f"{labels.invoice} {document.number}")
    canvas.setAuthor(document.seller.name)
    canvas.setSubject(f"{labels.invoice} {document.number} – {document.buyer.name}")
    canvas.setCreator("receivables")
    InvoiceLayout(document, ReportLabSurface(canvas)).draw()
    canvas.save()
    return output.getvalue()
