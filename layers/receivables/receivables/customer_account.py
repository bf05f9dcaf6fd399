"""The customer page (`GET /c/{token}`): everything a customer has with the seller on one page.

Its invoices (newest first), the payments and refunds on them, their credit notes and the customer's
subscriptions. The credential is the hosted token of any of the customer's invoices: every email
already carries one, so the page needs no second secret per customer and no login
(docs/decisions/0026-subscriptions.md, "Customer page").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables import aws
from receivables.clock import local_day
from receivables.credit_notes import list_credit_notes
from receivables.invoicing.model import Invoice
from receivables.items import from_item, to_item
from receivables.payment_records import list_invoice_payments

# The page shows the latest invoices; a customer with more sees the newest ones and their totals.
MAX_INVOICES = 50


@dataclass(frozen=True)
class AccountInvoice:
    id: str
    number: str
    issue_date: date
    due_date: date
    currency: str
    total: Decimal
    account_amount_due: Decimal
    status: str
    hosted_token: str
    period: dict[str, str] | None  # a subscription period's invoice


@dataclass(frozen=True)
class AccountMovement:
    """A payment received or a refund sent, on one invoice."""

    invoice_number: str
    occurred_on: date
    currency: str
    amount: Decimal
    kind: str  # "payment" | "refund"
    method: str | None


@dataclass(frozen=True)
class AccountCreditNote:
    id: str
    number: str
    issue_date: date
    invoice_number: str
    invoice_token: str
    currency: str
    gross: Decimal
    has_pdf: bool


@dataclass(frozen=True)
class AccountSubscription:
    id: str
    status: str
    currency: str
    items: tuple[dict[str, Any], ...]
    interval: str
    interval_count: int
    next_invoice_date: date | None
    ends_on: date | None


@dataclass(frozen=True)
class CustomerAccount:
    customer_id: str
    name: str
    locale: str
    invoices: tuple[AccountInvoice, ...]
    movements: tuple[AccountMovement, ...]
    credit_notes: tuple[AccountCreditNote, ...]
    subscriptions: tuple[AccountSubscription, ...]

    @property
    def open_by_currency(self) -> dict[str, Decimal]:
        """What the customer still has to pay, per currency (fees and interest included)."""
        totals: dict[str, Decimal] = {}
        for invoice in self.invoices:
            if invoice.account_amount_due > 0 and invoice.status not in ("void", "uncollectible"):
                totals[invoice.currency] = (
                    totals.get(invoice.currency, Decimal(0)) + invoice.account_amount_due
                )
        return totals


def customer_account(table: str, invoice_of_link: dict[str, Any], zone: ZoneInfo) -> CustomerAccount:
    """The account of the customer the linked invoice was issued to."""
    customer_id = invoice_of_link["customer_id"]
    items = _customer_items(table, customer_id, "INVOICE#", MAX_INVOICES)
    invoices = [Invoice.from_item(item) for item in items]
    movements: list[AccountMovement] = []
    credit_notes: list[AccountCreditNote] = []
    for invoice, item in zip(invoices, items, strict=True):
        if invoice.amount_paid or invoice.amount_refunded:  # one Query only where there is something
            movements += [
                AccountMovement(
                    invoice_number=item["number"],
                    occurred_on=local_day(record["occurred_at"], zone),
                    currency=item["currency"],
                    amount=Decimal(record["amount"]),
                    kind=record["entity"],
                    method=record.get("method"),
                )
                for record in list_invoice_payments(table, invoice.id)
                if record["entity"] in ("payment", "refund")
            ]
        if invoice.amount_credited:
            credit_notes += [
                AccountCreditNote(
                    id=note["id"],
                    number=note["number"],
                    issue_date=date.fromisoformat(note["issue_date"]),
                    invoice_number=item["number"],
                    invoice_token=item["hosted_token"],
                    currency=note["currency"],
                    gross=Decimal(note["totals"]["gross"]),
                    has_pdf=bool(note.get("pdf_key")),
                )
                for note in list_credit_notes(table, invoice.id)
            ]
    customer = invoice_of_link["customer"]
    return CustomerAccount(
        customer_id=customer_id,
        name=customer["name"],
        locale=customer.get("locale", "en"),
        invoices=tuple(
            _account_invoice(item, invoice) for item, invoice in zip(items, invoices, strict=True)
        ),
        movements=tuple(sorted(movements, key=lambda m: m.occurred_on, reverse=True)),
        credit_notes=tuple(sorted(credit_notes, key=lambda n: n.number, reverse=True)),
        subscriptions=tuple(
            _account_subscription(item) for item in _customer_items(table, customer_id, "SUBSCRIPTION#", 100)
        ),
    )


def _customer_items(table: str, customer_id: str, kind: str, limit: int) -> list[dict[str, Any]]:
    """The customer's records of one kind from the customer index (gsi3), newest first."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi3",
        "KeyConditionExpression": "gsi3pk = :pk AND begins_with(gsi3sk, :kind)",
        "ExpressionAttributeValues": to_item({":pk": f"CUSTOMER#{customer_id}", ":kind": kind}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    return [from_item(item) for item in aws.client("dynamodb").query(**request)["Items"]]


def _account_invoice(item: dict[str, Any], invoice: Invoice) -> AccountInvoice:
    return AccountInvoice(
        id=invoice.id,
        number=item["number"],
        issue_date=date.fromisoformat(item["issue_date"]),
        due_date=date.fromisoformat(item["due_date"]),
        currency=item["currency"],
        total=invoice.total,
        account_amount_due=invoice.account_amount_due,
        status=item["status"],
        hosted_token=item["hosted_token"],
        period=item.get("period"),
    )


def _account_subscription(item: dict[str, Any]) -> AccountSubscription:
    next_date, ends_on = item.get("next_invoice_date"), item.get("ends_on")
    return AccountSubscription(
        id=item["id"],
        status=item["status"],
        currency=item["currency"],
        items=tuple(item["items"]),
        interval=item["interval"],
        interval_count=int(item["interval_count"]),
        next_invoice_date=date.fromisoformat(next_date) if next_date else None,
        ends_on=date.fromisoformat(ends_on) if ends_on else None,
    )
