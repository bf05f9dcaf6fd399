"""Voiding an invoice that nobody has paid: it stays (numbers are never reused), but asks for nothing.

Only an open, undisputed invoice without money on it can be voided; once money was applied the books
need a refund or a credit note instead, so that every amount stays traceable. The void is one
transaction: the invoice update conditioned on its `version` and status, and the `invoice.voided`
outbox event, and with them the void's own document, a Stornorechnung (cancellations.py). See
docs/decisions/0013-voids-credit-notes-history.md and 0029-document-titles-and-reminder-letters.md.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables import aws, clock, money
from receivables.cancellations import cancellation_record
from receivables.errors import Conflict
from receivables.invoices import get_invoice
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.numbering import advance_counter, counter_key, last_number
from receivables.outbox import new_event
from receivables.records import put_new
from receivables.tasks import close_open_tasks_of_invoice

MAX_REASON_LENGTH = 500
_ATTEMPTS = 25
_BERLIN = ZoneInfo("Europe/Berlin")  # the seller profile's default zone


def check_voidable(invoice: dict[str, Any]) -> None:
    """Raises Conflict saying why this invoice cannot be voided."""
    number, status = invoice["number"], invoice["status"]
    if status == "void":
        raise Conflict(f"Invoice {number} is already void.")
    net_paid = Decimal(invoice.get("amount_paid", 0)) - Decimal(invoice.get("amount_refunded", 0))
    if net_paid != 0:
        raise Conflict(
            f"Invoice {number} has payments applied ({money.format_amount(net_paid, invoice['currency'])}): "
            "refund first or issue a credit note."
        )
    if status != "open":
        raise Conflict(f"Invoice {number} is {status}; only open invoices can be voided.")
    if invoice.get("disputed"):
        raise Conflict(f"Invoice {number} is disputed; resolve the dispute first.")


def void_invoice(
    table_name: str, invoice_id: str, reason: str | None, actor: str, zone: ZoneInfo = _BERLIN
) -> dict[str, Any]:
    """Voids the invoice once, issuing its Stornorechnung in the same transaction (cancellations.py); a
    second void (or any change that made it unvoidable) is a Conflict. `zone` dates the document."""
    client = aws.client("dynamodb")
    for _ in range(_ATTEMPTS):
        invoice = store.read_invoice(table_name, invoice_id)
        check_voidable(invoice.to_item())
        now = clock.now()
        issue_date = now.astimezone(zone).date()
        counter = counter_key("CREDITNOTE", invoice.get("seller_id"), issue_date.year)
        last = last_number(table_name, counter)
        decision = void(invoice, reason, clock.iso(now), actor)
        document = cancellation_record(
            invoice.to_item(), (issue_date.year, last + 1), issue_date, reason, actor, clock.iso(now)
        )
        document["invoice_account_amount_due"] = decision.after.account_amount_due
        # The counter and the document first: a number exists if and only if its document does.
        decision = dataclasses.replace(
            decision, lead=[advance_counter(table_name, counter, last), put_new(table_name, document)]
        )
        try:
            store.commit(
                table_name,
                invoice,
                decision,
                changed_by=actor,
                change_cause=f"voided: {reason}" if reason else "voided",
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            if store.moved_meanwhile(cancelled, 0):  # a number taken by a concurrent credit note
                continue
            if store.moved_meanwhile(cancelled, len(decision.lead)):  # the invoice moved: check it again
                continue
            raise
        break
    else:
        raise Conflict(f"Invoice {invoice_id} kept changing; try again.")
    close_open_tasks_of_invoice(table_name, invoice_id, by=actor)
    return get_invoice(table_name, invoice_id)


def void(invoice: Invoice, reason: str | None, now: str, actor: str) -> Decision:
    """The void itself: nothing is due any more, and the invoice leaves the dunning schedule."""
    currency = invoice.currency
    event = new_event(
        "invoice.voided",
        {
            "invoice_id": invoice.id,
            "number": invoice.number,
            "customer_id": invoice.customer_id,
            "currency": currency,
            "amount_voided": money.format_amount(invoice.amount_due, currency),
            "voided_at": now,
            "reason": reason,
            # Nothing was paid, so the void cancels the whole invoice: the books reverse each rate.
            "tax_breakdown": [
                {
                    "rate": format(Decimal(t["rate"]).normalize(), "f"),
                    "net": money.format_amount(Decimal(t["net"]), currency),
                    "tax": money.format_amount(Decimal(t["tax"]), currency),
                }
                for t in invoice.get("totals")["tax_breakdown"]
            ],
        },
    )
    after = invoice.with_attributes(
        status="void",
        voided_at=now,
        voided_by=actor,
        amount_due=Decimal(0),
        updated_at=now,
        void_reason=reason,
    ).without("gsi2pk", "gsi2sk", "next_reminder_at")
    return Decision(after=after, events=[event])
