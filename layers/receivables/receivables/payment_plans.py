"""An accepted payment plan: which instalments are paid, which reminder is due, when the plan defaults.

What counts towards the plan is what the principal (`amount_due`) went down by since the plan began: a
payment settles the open reminder fees first (§ 367 (1) BGB, `invoicing.ledger.allocate_payment`), so a
customer who pays an instalment while a fee is open has not yet covered that instalment. The amount paid
on the plan covers the instalments oldest first; overpaying early covers later ones (decisions/0023).

The reminder run (reminders.py) sends each instalment's reminders; the escalation state machine asks
`check_plan` when the next instalment could fall into default, and hands a defaulted plan to collections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from receivables import clock, money
from receivables.invoices import get_invoice
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.outbox import DomainEvent, new_event

ACTIVE, DEFAULTED, PAID = "active", "defaulted", "paid"
NOTICE_STEP, OVERDUE_STEP = "instalment_notice", "instalment"  # reminder step names: "<step>:<number>"
DUNNABLE = ("open", "partially_paid")


@dataclass(frozen=True)
class InstalmentStanding:
    number: int
    of: int
    amount: Decimal
    due_date: date
    covered: Decimal  # what the payments on the plan cover of this instalment

    @property
    def paid(self) -> bool:
        return self.covered >= self.amount

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.covered


@dataclass(frozen=True)
class PlanReminder:
    step_name: str
    template: str
    instalment: InstalmentStanding


def plan_total(instalments: Sequence[dict[str, Any]]) -> Decimal:
    return sum((Decimal(i["amount"]) for i in instalments), Decimal(0))


def paid_on_plan(instalments: Sequence[dict[str, Any]], amount_due: Decimal) -> Decimal:
    """What payments and credits since the plan began cover: the plan's total less the principal still due
    (the instalments add up to the amount due when the plan was offered)."""
    total = plan_total(instalments)
    return min(total, max(Decimal(0), total - amount_due))


def standing(instalments: Sequence[dict[str, Any]], paid: Decimal) -> list[InstalmentStanding]:
    """Each instalment with what `paid` covers of it, the oldest first."""
    ordered = sorted(instalments, key=lambda i: int(i["number"]))
    remaining, result = paid, []
    for instalment in ordered:
        amount = Decimal(instalment["amount"])
        covered = min(amount, max(Decimal(0), remaining))
        remaining -= covered
        result.append(
            InstalmentStanding(
                number=int(instalment["number"]),
                of=len(ordered),
                amount=amount,
                due_date=date.fromisoformat(instalment["due_date"]),
                covered=covered,
            )
        )
    return result


def standing_of(invoice: dict[str, Any]) -> list[InstalmentStanding]:
    instalments = invoice["payment_plan"]["instalments"]
    return standing(instalments, paid_on_plan(instalments, Decimal(invoice["amount_due"])))


def plan_reminders(
    standings: Sequence[InstalmentStanding], notice_days_before: int | None, sent: Sequence[str], today: date
) -> tuple[list[PlanReminder], date | None]:
    """The reminders due today (a due-soon notice, or a reminder once overdue) for each unpaid instalment,
    and the next day one will be due. Catch-up as in dunning.py: an overdue reminder due makes the
    instalment's notice pass unsent."""
    due: list[PlanReminder] = []
    upcoming: list[date] = []
    for instalment in standings:
        if instalment.paid:
            continue
        overdue = PlanReminder(f"{OVERDUE_STEP}:{instalment.number}", "instalment_reminder", instalment)
        if overdue.step_name in sent:
            continue
        overdue_on = instalment.due_date + timedelta(days=1)
        if overdue_on <= today:
            due.append(overdue)
            continue
        upcoming.append(overdue_on)
        notice = PlanReminder(f"{NOTICE_STEP}:{instalment.number}", "instalment_notice", instalment)
        if notice_days_before is None or notice.step_name in sent:
            continue
        notice_on = instalment.due_date - timedelta(days=notice_days_before)
        if notice_on <= today:
            due.append(notice)
        else:
            upcoming.append(notice_on)
    return due, min(upcoming, default=None)


def defaulted_instalment(
    standings: Sequence[InstalmentStanding], grace_days: int, today: date
) -> InstalmentStanding | None:
    """The oldest instalment still unpaid after its grace period, if any."""
    limit = timedelta(days=grace_days)
    return next((i for i in standings if not i.paid and i.due_date + limit < today), None)


def next_check_on(standings: Sequence[InstalmentStanding], grace_days: int) -> date | None:
    """The first day on which an unpaid instalment would be in default."""
    days = [i.due_date + timedelta(days=grace_days + 1) for i in standings if not i.paid]
    return min(days, default=None)


def check_plan(table: str, invoice_id: str, grace_days: int) -> dict[str, str | None]:
    """The state machine's look at the plan: `paid`, `ended` (void, written off), `defaulted` (the plan is
    ended now, once), or `running` with `check_at`, the instant to look again (None otherwise: the state
    machine's ResultSelector needs the key)."""
    invoice = get_invoice(table, invoice_id)
    plan = invoice.get("payment_plan") or {}
    state = plan.get("state", ACTIVE)
    if state == DEFAULTED:
        return {"outcome": "defaulted", "check_at": None}  # a retried Task: the plan ended before
    if invoice["status"] == "paid" or state == PAID:
        _close(table, invoice_id, PAID, {"paid_at": clock.iso(clock.now())}, "payment plan paid in full")
        return {"outcome": "paid", "check_at": None}
    if invoice["status"] not in DUNNABLE:
        return {"outcome": "ended", "check_at": None}
    today = clock.today()
    standings = standing_of(invoice)
    missed = None if invoice.get("disputed") else defaulted_instalment(standings, grace_days, today)
    if missed is not None:
        _default(table, invoice, missed)
        return {"outcome": "defaulted", "check_at": None}
    # a dispute pauses the plan: look again tomorrow
    look_on = None if invoice.get("disputed") else next_check_on(standings, grace_days)
    look_on = max(look_on or today, today + timedelta(days=1))
    return {"outcome": "running", "check_at": f"{look_on.isoformat()}T00:00:00Z"}


def _default(table: str, invoice: dict[str, Any], missed: InstalmentStanding) -> None:
    currency = invoice["currency"]
    paid = paid_on_plan(invoice["payment_plan"]["instalments"], Decimal(invoice["amount_due"]))
    event = new_event(
        "invoice.payment_plan_defaulted",
        {
            "invoice_id": invoice["id"],
            "number": invoice["number"],
            "customer_id": invoice["customer_id"],
            "currency": currency,
            "instalment": missed.number,
            "instalment_due_date": missed.due_date.isoformat(),
            "instalment_open": money.format_amount(missed.open_amount, currency),
            "paid_on_plan": money.format_amount(paid, currency),
            "amount_due": money.format_amount(Decimal(invoice["amount_due"]), currency),
        },
    )
    values = {"defaulted_at": clock.iso(clock.now()), "defaulted_instalment": missed.number}
    cause = f"payment plan defaulted: instalment {missed.number} of {missed.of} unpaid after its grace period"
    _close(table, invoice["id"], DEFAULTED, values, cause, events=[event])


def _close(
    table: str,
    invoice_id: str,
    state: str,
    values: dict[str, Any],
    cause: str,
    events: Sequence[DomainEvent] = (),
) -> None:
    """Ends the active plan once (`state` paid or defaulted); its instalments are no longer reminded."""

    def decide(current: Invoice) -> Decision | None:
        plan = current.get("payment_plan")
        if not plan or plan.get("state", ACTIVE) != ACTIVE:
            return None
        after = current.with_attributes(payment_plan=dict(plan) | {"state": state} | values)
        if state == PAID and current.get("escalation"):
            after = after.with_attributes(escalation=dict(current.get("escalation")) | {"state": "plan_paid"})
        return Decision(after=after.without("gsi2pk", "gsi2sk", "next_reminder_at"), events=events)

    store.change(table, invoice_id, decide, changed_by="escalation", change_cause=cause)
