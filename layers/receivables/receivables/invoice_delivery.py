"""Rendering the invoice PDF and emailing the invoice, each exactly once (payment emails: payment_receipts).

Emails go through `sending.send_once` (docs/decisions/0008-exactly-one-invoice-email.md). The PDF embeds the
Factur-X XML; a customer with `einvoice_format: "xrechnung"` also gets the XRechnung XML attached beside it
(docs/decisions/0036-e-invoices.md).
"""

from __future__ import annotations

from typing import Any

from receivables import clock, document_store, mailer
from receivables.einvoice.records import (
    XML_MEDIA_TYPE,
    customer_preferences,
    invoice_document,
    warn_if_not_einvoice,
    xrechnung_filename,
    xrechnung_for_email,
)
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.outbox import new_event
from receivables.seller import SellerProfile
from receivables.sending import send_once
from receivables.tasks import note_problem_on_invoice_tasks


def render_and_store_pdf(table_name: str, bucket: str, invoice_id: str, seller: SellerProfile) -> None:
    # heavy: only this function pays
    from receivables.rendering.invoice_pdf import UndrawableTextError, render_invoice_pdf

    invoice = get_invoice(table_name, invoice_id)
    if invoice.get("pdf_key"):
        return
    document = invoice_document(table_name, invoice, seller)
    warn_if_not_einvoice(document)
    try:
        pdf = render_invoice_pdf(document)
    except UndrawableTextError as error:
        # No invoice with a gap: the render fails (retries, then the dead-letter alarm alerts the team),
        # and the invoice's task says why, where finance looks (decisions/0025).
        note_problem_on_invoice_tasks(
            table_name,
            invoice_id,
            f"The invoice PDF cannot be drawn: {error}. It is issued once a font for that script is added "
            "and the render is retried from the dead-letter queue.",
        )
        raise
    stored = document_store.store_once(bucket, document_store.invoice_pdf_key(invoice["number"]), pdf)
    now = clock.iso(clock.now())

    def decide(current: Invoice) -> Decision | None:
        if current.get("pdf_key"):
            return None  # a concurrent attempt recorded the same object first
        return Decision(
            current.with_attributes(pdf_key=stored.key, pdf_sha256=stored.sha256, pdf_rendered_at=now)
        )

    store.change(table_name, invoice_id, decide, changed_by="system", change_cause="PDF rendered")


def email_invoice(
    table_name: str, bucket: str, sender: str, base_url: str, invoice_id: str, seller: SellerProfile
) -> str | None:
    """Sends the invoice email unless it was sent already; returns the SES message id when it sends."""
    from receivables.rendering.emails import Attachment, build_mime, render_invoice_email

    invoice = get_invoice(table_name, invoice_id)

    def send() -> str:
        link = hosted_url(base_url, invoice)
        document = to_document(invoice, seller, hosted=link)
        rendered = render_invoice_email(document, hosted_url=link, pay_url=f"{link}#pay")
        pdf = document_store.read(bucket, invoice["pdf_key"])
        attachments = [Attachment(f"{invoice['number']}.pdf", document_store.PDF, pdf)]
        xrechnung = xrechnung_for_email(document, customer_preferences(table_name, invoice))
        if xrechnung is not None:
            attachments.append(Attachment(xrechnung_filename(invoice["number"]), XML_MEDIA_TYPE, xrechnung))
        mime = build_mime(sender, invoice["customer"]["email"], rendered, attachments, seller.name)
        return mailer.send_raw(sender, invoice["customer"]["email"], mime)

    def record(marks: list[dict[str, Any]], message_id: str, sent_at: str) -> None:
        def decide(current: Invoice) -> Decision:
            event = new_event(
                "invoice.sent", {"invoice_id": current.id, "number": current.number, "channel": "email"}
            )
            after = current.with_attributes(email_sent_at=sent_at, email_message_id=message_id)
            return Decision(after=after, events=[event], items=marks)

        store.change(table_name, invoice_id, decide, changed_by="system", change_cause="invoice emailed")

    return send_once(
        table_name,
        invoice_id,
        "invoice",
        send,
        recipient=invoice["customer"]["email"],
        record_on_invoice=record,
    )
