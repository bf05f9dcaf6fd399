"""One email per payment applied to an invoice: a receipt while something is left to pay, the payment
confirmation once nothing is (naming the credit kept when the customer paid more).

Keyed on the `payment.received` outbox event, not on the invoice's status: every applied payment (a
provider webhook, a bank statement line, finance allocating unapplied money) commits exactly one such
event with its payment, and an invoice that becomes paid because a credit note covered the rest commits
none, so it gets no thank-you. The event's figures are those of the payment's moment, so a redelivered
or late message still tells what that payment did. Exactly once per event id through `send_once`
(docs/decisions/0023-invoice-ledger.md, "Receipts and credit notes to the customer").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from receivables import clock, mailer
from receivables.customers import current_email
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.outbox import DomainEvent, new_event, outbox_put
from receivables.seller import SellerProfile
from receivables.sending import send_once


@dataclass(frozen=True)
class PaymentReceipt:
    """What one payment did on its invoice, as the `payment.received` event recorded it."""

    kind: str  # "receipt" (something is left to pay) | "confirmation" (nothing is)
    currency: str
    received: Decimal
    fees: Decimal  # reminder fees settled (§ 367 (1) BGB: costs first)
    interest: Decimal  # default interest settled
    principal: Decimal  # settled of the invoice amount itself
    credit: Decimal  # what the invoice did not need: kept on the customer's account
    remaining: Decimal  # account_amount_due after the payment
    received_at: str
    from_credit: bool = False  # finance set the customer's credit against the invoice: no new money came

    @classmethod
    def of(cls, data: dict[str, Any]) -> PaymentReceipt:
        def amount(name: str, default: str = "0") -> Decimal:
            return Decimal(str(data.get(name) if data.get(name) is not None else default))

        received, fees, interest, principal = (
            amount("amount"),
            amount("fees_applied"),
            amount("interest_applied"),
            amount("applied"),
        )
        remaining = amount("account_amount_due", str(data.get("amount_due", "0")))
        return cls(
            kind="receipt" if remaining > 0 else "confirmation",
            currency=str(data["currency"]),
            received=received,
            fees=fees,
            interest=interest,
            principal=principal,
            credit=max(received - fees - interest - principal, Decimal(0)),
            remaining=remaining,
            received_at=str(data.get("occurred_at") or ""),
            from_credit=data.get("source") == "customer_credit",
        )

    def received_on(self, seller: SellerProfile) -> datetime | None:
        if not self.received_at:
            return None
        return clock.parse(self.received_at).astimezone(seller.zone)


def send_payment_receipt(
    table_name: str, sender: str, base_url: str, event: DomainEvent, seller: SellerProfile
) -> str | None:
    """The receipt or confirmation of the payment `event` records, once; the SES message id if it sent."""
    from receivables.rendering.emails import build_mime, render_payment_email

    invoice = get_invoice(table_name, event.data["invoice_id"])
    receipt = PaymentReceipt.of(event.data)
    to = current_email(table_name, invoice["customer_id"], invoice["customer"]["email"])

    def send() -> str:
        link = hosted_url(base_url, invoice)
        document = to_document(invoice, seller, hosted=link)
        received_on = receipt.received_on(seller)
        rendered = render_payment_email(
            document, receipt, received_on.date() if received_on else None, hosted_url=link
        )
        return mailer.send_raw(sender, to, build_mime(sender, to, rendered, [], seller.name))

    def record(message_id: str, sent_at: str) -> list[dict[str, Any]]:
        confirmed = new_event(
            "invoice.payment_confirmed",
            {
                "invoice_id": invoice["id"],
                "number": invoice["number"],
                "channel": "email",
                "sent_at": sent_at,
                "kind": receipt.kind,
                "payment_event_id": event.id,
                "payment_id": event.data.get("payment_id"),
            },
        )
        return [outbox_put(table_name, confirmed)]

    purpose = f"payment-receipt#{event.id}"
    return send_once(table_name, invoice["id"], purpose, send, record, recipient=to)
