"""What the hosted invoice page shows beside the invoice: its credit notes, its refunds, and the sums
that take the total to what is left to pay (total − paid + refunded − credited = amount due, plus open
fees and interest = account amount due; docs/decisions/0023-invoice-ledger.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables.clock import local_day
from receivables.credit_notes import list_credit_notes
from receivables.invoicing.model import Invoice
from receivables.payment_records import list_invoice_payments


@dataclass(frozen=True)
class CreditNoteEntry:
    id: str
    number: str
    issue_date: date
    gross: Decimal
    has_pdf: bool
    kind: str = "correction"  # or "cancellation": a void's Stornorechnung (cancellations.py)


@dataclass(frozen=True)
class RefundEntry:
    occurred_on: date
    amount: Decimal


@dataclass(frozen=True)
class InvoiceAccount:
    total: Decimal
    paid: Decimal
    refunded: Decimal
    credited: Decimal
    amount_due: Decimal
    fees_charged: Decimal  # reminder fees and default interest
    fees_paid: Decimal
    account_amount_due: Decimal
    cancelled: Decimal = Decimal(0)  # what a void's Stornorechnung took off the invoice
    credit_notes: tuple[CreditNoteEntry, ...] = ()
    refunds: tuple[RefundEntry, ...] = ()


def invoice_account(table_name: str, item: dict[str, Any], zone: ZoneInfo) -> InvoiceAccount:
    invoice = Invoice.from_item(item)
    notes = tuple(
        CreditNoteEntry(
            id=note["id"],
            number=note["number"],
            issue_date=date.fromisoformat(note["issue_date"]),
            gross=Decimal(note["totals"]["gross"]),
            has_pdf=bool(note.get("pdf_key")),
            kind=note.get("kind", "correction"),
        )
        for note in list_credit_notes(table_name, invoice.id)
    )
    refunds = tuple(
        RefundEntry(occurred_on=local_day(r["occurred_at"], zone), amount=Decimal(r["amount"]))
        for r in list_invoice_payments(table_name, invoice.id)
        if r["entity"] == "refund"
    )
    return InvoiceAccount(
        total=invoice.total,
        paid=invoice.amount_paid,
        refunded=invoice.amount_refunded,
        credited=invoice.amount_credited,
        amount_due=invoice.amount_due,
        fees_charged=invoice.late_fees,
        fees_paid=invoice.fees_paid,
        account_amount_due=invoice.account_amount_due,
        # A void leaves total − credited un-asked-for; the page shows that sum as cancelled.
        cancelled=invoice.total - invoice.amount_credited if invoice.status == "void" else Decimal(0),
        credit_notes=notes,
        refunds=refunds,
    )
