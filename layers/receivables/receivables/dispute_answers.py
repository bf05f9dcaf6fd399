"""One email to the customer per dispute finance resolves: upheld or rejected, in the customer's language.

Keyed on the `invoice.dispute_resolved` outbox event that the resolution commits with the invoice
(disputes.resolve_dispute): a second resolve of the same dispute finds it resolved and commits nothing,
and a redelivered event finds its `send_once` record (`dispute-answer#<event id>`) sent. The event
carries what the answer says (the outcome, finance's note, the credit notes, the date to pay by, what was
due), so a late or redelivered message tells what that resolution decided, whatever happened since.
Chargebacks closed by the card network (outcomes won/lost) are the cardholder's bank's to tell: no email.
See docs/decisions/0034-postal-codes-and-dispute-answers.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from receivables import mailer
from receivables.customers import current_email
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.outbox import DomainEvent
from receivables.seller import SellerProfile
from receivables.sending import send_once

ANSWERED_OUTCOMES = ("upheld", "rejected")  # finance's; "won"/"lost" are a card network's


def send_dispute_answer(
    table_name: str, sender: str, base_url: str, event: DomainEvent, seller: SellerProfile
) -> str | None:
    """The answer to the resolution `event` records, once; the SES message id if it sent now."""
    from receivables.rendering.emails import build_mime, render_dispute_answer

    data = event.data
    if data.get("outcome") not in ANSWERED_OUTCOMES:
        return None
    invoice = get_invoice(table_name, data["invoice_id"])
    to = current_email(table_name, invoice["customer_id"], invoice["customer"]["email"])

    def send() -> str:
        link = hosted_url(base_url, invoice)
        rendered = render_dispute_answer(
            to_document(invoice, seller, hosted=link),
            outcome=data["outcome"],
            note=str(data.get("note") or ""),
            account_amount_due=Decimal(str(data.get("account_amount_due", invoice["amount_due"]))),
            hosted_url=link,
            pay_by=_pay_by(data, invoice),
            credit_notes=tuple(note["number"] for note in data.get("credit_notes", [])),
        )
        return mailer.send_raw(sender, to, build_mime(sender, to, rendered, [], seller.name))

    return send_once(table_name, invoice["id"], f"dispute-answer#{event.id}", send, recipient=to)


def _pay_by(data: dict[str, Any], invoice: dict[str, Any]) -> date | None:
    if data["outcome"] != "rejected":
        return None
    # An event committed by a version that did not yet give a date to pay by: the invoice's due date.
    return date.fromisoformat(str(data.get("pay_by") or invoice["due_date"]))
