"""Emailing a credit note to the customer with its PDF, once (issue #12, defect 3).

A credit note changes what the customer owes, so the customer gets the document (§ 14 (1) UStG: an
invoice correction is transmitted like the invoice) with what the invoice still asks for afterwards.
It goes to the customer's current address (customers.current_email), like reminders and receipts; the
PDF addresses the buyer as invoiced. Exactly once per credit note through `send_once`. A customer on
XRechnung gets the correction's XRechnung XML beside the PDF, as with invoices (decisions/0036).
"""

from __future__ import annotations

from decimal import Decimal

from receivables import document_store, mailer
from receivables.credit_notes import credit_note_document, get_credit_note
from receivables.customers import current_email
from receivables.einvoice.records import (
    XML_MEDIA_TYPE,
    customer_preferences,
    xrechnung_filename,
    xrechnung_for_email,
)
from receivables.invoices import customer_page_url, get_invoice, hosted_url
from receivables.invoicing.model import Invoice
from receivables.seller import SellerProfile
from receivables.sending import send_once


def email_credit_note(
    table_name: str, bucket: str, sender: str, base_url: str, credit_note_id: str, seller: SellerProfile
) -> str | None:
    """Sends the credit note email unless it went already (or the PDF is not stored yet); the message id."""
    from receivables.rendering.emails import Attachment, build_mime, render_credit_note_email

    note = get_credit_note(table_name, credit_note_id)
    if note is None or not note.get("pdf_key"):
        return None
    invoice = get_invoice(table_name, note["invoice_id"])
    to = current_email(table_name, note["customer_id"], note["customer"]["email"])
    # What the invoice asked for right after this credit note; notes issued before it was recorded: now.
    remaining = note.get("invoice_account_amount_due")
    if remaining is None:
        remaining = Invoice.from_item(invoice).account_amount_due

    link = hosted_url(base_url, invoice)

    def send() -> str:
        document = credit_note_document(note, seller)
        rendered = render_credit_note_email(
            document,
            invoice_number=note["invoice_number"],
            remaining=Decimal(remaining),
            credit=Decimal(note.get("credited_to_customer", 0)),
            hosted_url=link,
            account_url=customer_page_url(link, invoice),
        )
        pdf = document_store.read(bucket, note["pdf_key"])
        attachments = [Attachment(f"{note['number']}.pdf", document_store.PDF, pdf)]
        xrechnung = xrechnung_for_email(document, customer_preferences(table_name, note))
        if xrechnung is not None:
            attachments.append(Attachment(xrechnung_filename(note["number"]), XML_MEDIA_TYPE, xrechnung))
        return mailer.send_raw(sender, to, build_mime(sender, to, rendered, attachments, seller.name))

    return send_once(table_name, invoice["id"], f"credit-note#{credit_note_id}", send, recipient=to)
