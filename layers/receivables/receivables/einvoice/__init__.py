"""EN 16931 e-invoices: the invoice (or credit note) as UN/CEFACT CII XML, from the document the PDF shows.

Two flavours of one syntax (docs/decisions/0036-e-invoices.md):
- "zugferd": Factur-X / ZUGFeRD profile EN 16931 ("COMFORT"), guideline `urn:cen.eu:en16931:2017`, embedded
  in every invoice and credit note PDF as `factur-x.xml` (PDF/A-3, rendering/invoice_pdf.py);
- "xrechnung": XRechnung 3.0 (the German CIUS), guideline
  `urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0`, emailed beside the PDF to
  customers that ask for it and served by `GET /invoices/{id}/e-invoice`.

The XML is built from the very `InvoiceDocument` the PDF is drawn from (invoices.to_document /
credit_notes.credit_note_document), so amounts, dates, parties and VAT breakdown cannot differ.
"""

from receivables.einvoice.cii import (
    FORMATS,
    EInvoiceFormat,
    EInvoiceIncomplete,
    build_cii,
    missing_fields,
)

__all__ = ["FORMATS", "EInvoiceFormat", "EInvoiceIncomplete", "build_cii", "missing_fields"]
