"""E-invoices of stored invoices and credit notes: the document the PDF is rendered from, plus BT-10.

The document comes from the same builders the renderers use (invoices.to_document,
credit_notes.credit_note_document), so the XML cannot say something the PDF does not. The buyer reference
(BT-10) and the customer's format are the customer record's (customers.EInvoicePreferences), read when the
document is rendered, emailed or fetched: a Leitweg-ID set before an invoice is issued is on its PDF's XML.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from receivables.customers import EInvoicePreferences, einvoice_preferences, read_customer
from receivables.documents import InvoiceDocument
from receivables.einvoice.cii import EInvoiceFormat, EInvoiceIncomplete, build_cii, missing_fields
from receivables.invoices import to_document
from receivables.seller import SellerProfile

XML_MEDIA_TYPE = "application/xml"


def customer_preferences(table_name: str, record: dict[str, Any]) -> EInvoicePreferences:
    """The e-invoice preferences of the customer an invoice or credit note was issued to."""
    return einvoice_preferences(read_customer(table_name, record["customer_id"]))


def with_buyer_reference(document: InvoiceDocument, preferences: EInvoicePreferences) -> InvoiceDocument:
    return dataclasses.replace(document, buyer_reference=preferences.buyer_reference)


def invoice_document(table_name: str, invoice: dict[str, Any], seller: SellerProfile) -> InvoiceDocument:
    """The invoice's PDF document with the customer's buyer reference."""
    return with_buyer_reference(to_document(invoice, seller), customer_preferences(table_name, invoice))


def invoice_xml(
    table_name: str, invoice: dict[str, Any], seller: SellerProfile, format_name: EInvoiceFormat
) -> bytes:
    """The invoice's CII XML in the asked format; EInvoiceIncomplete (422) names what is missing."""
    return build_cii(invoice_document(table_name, invoice, seller), format_name)


def xrechnung_filename(number: str) -> str:
    return f"{number}.xrechnung.xml"


def xrechnung_for_email(document: InvoiceDocument, preferences: EInvoicePreferences) -> bytes | None:
    """The XRechnung to attach beside the PDF, for customers that asked for one; None otherwise.

    A document the XRechnung rules refuse (a seller profile without phone, say) still goes out with its
    PDF, whose embedded Factur-X XML is the e-invoice then; the warning names the fields to add.
    """
    if preferences.einvoice_format != "xrechnung":
        return None
    try:
        return build_cii(with_buyer_reference(document, preferences), "xrechnung")
    except EInvoiceIncomplete as incomplete:
        _warn("XRechnung not attached", document, [error.field for error in incomplete.errors])
        return None


def warn_if_not_einvoice(document: InvoiceDocument) -> None:
    """Logs (before rendering) when the PDF will carry no Factur-X XML, naming the fields to add."""
    missing = missing_fields(document, "zugferd")
    if missing:
        _warn("invoice PDF without e-invoice XML", document, [error.field for error in missing])


def _warn(message: str, document: InvoiceDocument, fields: list[str]) -> None:
    # Imported when needed: observability reads Powertools' settings on import, which must not happen in
    # a process before a function's environment exists (the tests run functions in-process).
    from receivables.observability import logger

    logger.warning(message, extra={"number": document.number, "missing": fields})
