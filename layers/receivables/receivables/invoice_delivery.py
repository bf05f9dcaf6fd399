"""Rendering the PDF and emailing the invoice, each exactly once per invoice.

The email is claimed before it is sent (docs/decisions/0008-exactly-one-invoice-email.md): a conditional
write marks the invoice `sending` with a lease; only the claimant sends; success is recorded with the
`invoice.sent` event. A redelivery finds `sent` and stops; a retry while another attempt holds a fresh
lease fails and is retried later; a lease older than any attempt can live means that attempt died
before SES accepted the mail, so it may be claimed again.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from receivables import aws, clock, document_store, mailer
from receivables.invoices import get_invoice, hosted_url, invoice_key, to_document
from receivables.items import to_item
from receivables.outbox import new_event, outbox_put
from receivables.seller import SellerProfile

SEND_LEASE = timedelta(minutes=2)  # well above the send function's 30 s timeout


class EmailInFlight(Exception):
    """Another attempt holds a fresh claim on this invoice's email; retry after its lease."""


def render_and_store_pdf(table_name: str, bucket: str, invoice_id: str, seller: SellerProfile) -> None:
    from receivables.rendering.invoice_pdf import render_invoice_pdf  # heavy: only this function pays

    invoice = get_invoice(table_name, invoice_id)
    if invoice.get("pdf_key"):
        return
    pdf = render_invoice_pdf(to_document(invoice, seller))
    stored = document_store.store_once(bucket, document_store.invoice_pdf_key(invoice["number"]), pdf)
    client = aws.client("dynamodb")
    # a concurrent attempt may have recorded the same object first
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=table_name,
            Key=to_item(invoice_key(invoice_id)),
            UpdateExpression="SET pdf_key = :key, pdf_sha256 = :sha, pdf_rendered_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(pdf_key)",
            ExpressionAttributeValues=to_item(
                {":key": stored.key, ":sha": stored.sha256, ":now": clock.iso(clock.now())}
            ),
        )


def email_invoice(
    table_name: str, bucket: str, sender: str, base_url: str, invoice_id: str, seller: SellerProfile
) -> str | None:
    """Sends the invoice email unless it was sent already; returns the SES message id when it sends."""
    from receivables.rendering.emails import Attachment, build_mime, render_invoice_email

    if not _claim(table_name, invoice_id):
        return None
    invoice = get_invoice(table_name, invoice_id)
    link = hosted_url(base_url, invoice)
    document = to_document(invoice, seller, hosted=link)
    rendered = render_invoice_email(document, hosted_url=link, pay_url=f"{link}#pay")
    pdf = document_store.read(bucket, invoice["pdf_key"])
    mime = build_mime(
        sender,
        invoice["customer"]["email"],
        rendered,
        [Attachment(f"{invoice['number']}.pdf", document_store.PDF, pdf)],
    )
    message_id = mailer.send_raw(sender, invoice["customer"]["email"], mime)
    _record_sent(table_name, invoice, message_id)
    return message_id


def _claim(table_name: str, invoice_id: str) -> bool:
    client = aws.client("dynamodb")
    now = clock.now()
    try:
        client.update_item(
            TableName=table_name,
            Key=to_item(invoice_key(invoice_id)),
            UpdateExpression="SET email_state = :sending, email_claimed_at = :now",
            ConditionExpression=(
                "attribute_exists(pk) AND (attribute_not_exists(email_state) "
                "OR (email_state = :sending AND email_claimed_at < :expired))"
            ),
            ExpressionAttributeValues=to_item(
                {":sending": "sending", ":now": clock.iso(now), ":expired": clock.iso(now - SEND_LEASE)}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        state = get_invoice(table_name, invoice_id).get("email_state")
        if state == "sent":
            return False
        raise EmailInFlight(invoice_id) from None
    return True


def _record_sent(table_name: str, invoice: dict[str, Any], message_id: str) -> None:
    now = clock.now()
    event = new_event(
        "invoice.sent",
        {"invoice_id": invoice["id"], "number": invoice["number"], "channel": "email"},
        at=now,
    )
    aws.client("dynamodb").transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table_name,
                    "Key": to_item(invoice_key(invoice["id"])),
                    "UpdateExpression": (
                        "SET email_state = :sent, email_sent_at = :now, email_message_id = :mid"
                    ),
                    "ConditionExpression": "email_state = :sending",
                    "ExpressionAttributeValues": to_item(
                        {":sent": "sent", ":sending": "sending", ":now": clock.iso(now), ":mid": message_id}
                    ),
                }
            },
            outbox_put(table_name, event),
        ]
    )
