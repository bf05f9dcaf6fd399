"""The reminder letter (Mahnung): what a reminder that charges a fee or interest claims, and on what basis.

A fee or interest is a claim for damages for delay (§§ 280 (2), 286 BGB; interest § 288 BGB), so the
customer gets it in writing: the open invoice (number, date, amount open), each fee and the interest with
its basis (rate, base rate and points, days, principal), the new total and the deadline. The reminder email
carries it as a PDF; it is built from the same figures the reminder books, so letter, email and account agree
(docs/decisions/0029-document-titles-and-reminder-letters.md). Pure: no clock, no table, no renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from receivables.documents import Locale, Party, PostalAddress, Seller
from receivables.dunning import InterestBasis, ReminderStep
from receivables.money import quantize

# Time the letter gives to pay the new total: long enough for a bank transfer, short of the next reminder.
PAYMENT_DAYS = 10


@dataclass(frozen=True)
class FeeClaim:
    kind: Literal["reminder_fee", "lump_sum"]
    amount: Decimal
    fixed: Decimal = Decimal(0)  # a reminder fee's fixed part
    percent: Decimal = Decimal(0)  # ... and its percentage of the principal


@dataclass(frozen=True)
class InterestClaim:
    basis: InterestBasis
    principal: Decimal
    first_day: date  # the day after the due date
    last_day: date  # the letter's date
    days: int
    amount: Decimal


@dataclass(frozen=True)
class ReminderLetter:
    locale: Locale
    currency: str
    letter_date: date
    seller: Seller
    buyer: Party
    invoice_number: str
    invoice_date: date
    due_date: date
    invoice_total: Decimal
    amount_open: Decimal  # what the invoice itself still asks for: the principal
    fees_before: Decimal  # fees and interest earlier reminders charged, still unpaid
    fees: tuple[FeeClaim, ...]
    interest: InterestClaim | None
    pay_by: date
    final: bool = False  # the last reminder before a person takes over

    @property
    def new_total(self) -> Decimal:
        charged = sum((fee.amount for fee in self.fees), Decimal(0))
        interest = self.interest.amount if self.interest else Decimal(0)
        return quantize(self.amount_open + self.fees_before + charged + interest, self.currency)


def reminder_letter(
    invoice: dict[str, Any],
    seller: Seller,
    step: ReminderStep | None,
    charges: tuple[Decimal, Decimal, Decimal],
    basis: InterestBasis,
    fees_before: Decimal,
    today: date,
) -> ReminderLetter | None:
    """The letter for a reminder charging `charges` = (step fee, lump sum, interest); None when it charges
    nothing (a courtesy note or a plain reminder needs no letter)."""
    step_fee, lump, interest = charges
    if step_fee + lump + interest <= 0:
        return None
    currency, amount_open = invoice["currency"], Decimal(invoice["amount_due"])
    due_date = date.fromisoformat(invoice["due_date"])
    fees: list[FeeClaim] = []
    if step_fee > 0:
        fixed = step.late_fee_fixed if step and step.late_fee_fixed else Decimal(0)
        percent = step.late_fee_percent if step and step.late_fee_percent else Decimal(0)
        fees.append(FeeClaim("reminder_fee", step_fee, fixed, percent))
    if lump > 0:
        fees.append(FeeClaim("lump_sum", lump))
    claim = None
    if interest > 0:
        first_day = due_date + timedelta(days=1)
        days = (today - due_date).days
        claim = InterestClaim(basis, amount_open, first_day, today, days, interest)
    customer, address = invoice["customer"], invoice["customer"]["address"]
    return ReminderLetter(
        locale="de" if customer.get("locale") == "de" else "en",
        currency=currency,
        letter_date=today,
        seller=seller,
        buyer=Party(
            name=customer["name"],
            address=PostalAddress(
                line1=address["line1"],
                line2=address.get("line2"),
                city=address["city"],
                postal_code=address["postal_code"],
                country=address["country"],
            ),
            vat_id=customer.get("vat_id"),
        ),
        invoice_number=invoice["number"],
        invoice_date=date.fromisoformat(invoice["issue_date"]),
        due_date=due_date,
        invoice_total=Decimal(invoice["totals"]["gross"]),
        amount_open=amount_open,
        fees_before=fees_before,
        fees=tuple(fees),
        interest=claim,
        pay_by=today + timedelta(days=PAYMENT_DAYS),
        final=bool(step and step.template == "final_reminder"),
    )


def letter_filename(letter: ReminderLetter, step_name: str) -> str:
    """`Mahnung-2026-000042-reminder_2.pdf`: one letter per invoice and reminder step."""
    word = "Mahnung" if letter.locale == "de" else "Reminder"
    return f"{word}-{letter.invoice_number}-{step_name.replace(':', '-')}.pdf"
