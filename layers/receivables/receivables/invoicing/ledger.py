"""The balance rule of an invoice, pure and property-tested (tests/unit/test_payment_rules.py).

amount_due = total − credited − paid + refunded, never below zero and never above the total: what a
payment brings beyond the amount due becomes customer credit, and a refund beyond what was paid on the
invoice is taken from that credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from receivables import money
from receivables.invoicing.model import Invoice


@dataclass(frozen=True)
class Balance:
    total: Decimal
    paid: Decimal  # applied payments
    refunded: Decimal  # applied refunds
    credited: Decimal = Decimal(0)  # credit notes (reporting issue); reduce what is due like a payment

    @property
    def due(self) -> Decimal:
        return self.total - self.credited - self.paid + self.refunded

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.refunded


@dataclass(frozen=True)
class Applied:
    balance: Balance
    applied: Decimal  # what changed on the invoice
    credit_change: Decimal  # + surplus to customer credit, − refunded beyond the invoice's payments


def status_for(balance: Balance, current: str) -> str:
    if current == "void":
        return "void"
    if balance.due <= 0:
        return "paid"
    if current == "uncollectible":
        return "uncollectible"  # written off stays written off until it is paid in full
    return "partially_paid" if balance.due < balance.total - balance.credited else "open"


def apply_payment(balance: Balance, amount: Decimal) -> Applied:
    applied = min(amount, max(balance.due, Decimal(0)))
    changed = Balance(balance.total, balance.paid + applied, balance.refunded, balance.credited)
    return Applied(changed, applied, amount - applied)


def apply_refund(balance: Balance, amount: Decimal) -> Applied:
    applied = min(amount, max(balance.net_paid, Decimal(0)))
    changed = Balance(balance.total, balance.paid, balance.refunded + applied, balance.credited)
    return Applied(changed, applied, -(amount - applied))


def balance_of(invoice: dict[str, Any]) -> Balance:
    return Balance(
        total=Decimal(invoice["total"]),
        paid=Decimal(invoice.get("amount_paid", 0)),
        refunded=Decimal(invoice.get("amount_refunded", 0)),
        credited=Decimal(invoice.get("amount_credited", 0)),
    )


@dataclass(frozen=True)
class Allocation:
    """How one payment is applied on an invoice (§ 367 (1) BGB): costs, then interest, then principal."""

    costs: Decimal  # reminder fees
    interest: Decimal  # default interest
    principal: Applied  # the rest, on the invoice's own amount (surplus → customer credit)

    @property
    def fees(self) -> Decimal:
        return self.costs + self.interest


def allocate_payment(invoice: Invoice, amount: Decimal) -> Allocation:
    """A payment settles what the creditor's costs, then interest, then the principal (§ 367 (1) BGB);
    what is left after all three is the customer's credit."""
    costs = min(amount, invoice.costs_due)
    interest = min(amount - costs, invoice.interest_due)
    return Allocation(
        costs, interest, apply_payment(balance_of(invoice.to_item()), amount - costs - interest)
    )


def vat_share(invoice: Invoice, gross: Decimal) -> list[dict[str, str]]:
    """`gross` of the invoice split per tax rate in the invoice's proportions, each part into net and VAT
    (rounded per rate, the last rate takes the remainder), as event data: what § 17 (2) UStG corrects when
    that much becomes uncollectible, and owes again when it is recovered."""
    currency = invoice.currency
    breakdown = list(invoice.get("totals", {}).get("tax_breakdown", []))
    invoice_gross = sum((Decimal(t["net"]) + Decimal(t["tax"]) for t in breakdown), Decimal(0))
    if not breakdown or invoice_gross <= 0 or gross <= 0:
        return []
    parts, left = [], gross
    for index, tax in enumerate(breakdown):
        rate_gross = Decimal(tax["net"]) + Decimal(tax["tax"])
        share = (
            left
            if index == len(breakdown) - 1
            else money.quantize(gross * rate_gross / invoice_gross, currency)
        )
        left -= share
        rate = Decimal(tax["rate"])
        vat = money.quantize(share * rate / (100 + rate), currency)
        parts.append(
            {
                "rate": format(rate.normalize(), "f"),
                "net": money.format_amount(share - vat, currency),
                "tax": money.format_amount(vat, currency),
            }
        )
    return parts
