"""Customer disputes: opened from the hosted invoice page, resolved by the finance team.

While an invoice is disputed, dunning leaves it alone; the dispute task tells the team to look.
A resolution answers the customer (dispute_answers.py, one email per resolution): the event
`invoice.dispute_resolved` carries what the answer says. Upheld: the credit notes issued on the invoice
while it was disputed (a void can only follow the resolution: voiding refuses a disputed invoice, and its
Stornorechnung is emailed on its own). Rejected: the reason (finance's note) and the date to pay by, the
invoice's own payment terms counted again from the answer, never earlier than its due date; dunning
next looks at the invoice the day after (docs/decisions/0034).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables import clock, money
from receivables.dunning_index import index_keys
from receivables.errors import Conflict, FieldError, InvalidRequest
from receivables.invoices import get_invoice
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.outbox import new_event
from receivables.tasks import DISPUTES_QUEUE, NewTask, complete_open_tasks_update, task_is_open, task_put

if TYPE_CHECKING:  # annotations only: the webhook parsers' pydantic models stay out of other functions
    from receivables.provider_events import ProviderEvent

MAX_REASON_LENGTH = 2000
DISPUTABLE_STATUSES = ("open", "partially_paid")


def can_dispute(invoice: dict[str, Any], window_days: int, today: date) -> bool:
    last_day = date.fromisoformat(invoice["issue_date"]) + timedelta(days=window_days)
    return invoice["status"] in DISPUTABLE_STATUSES and not invoice.get("disputed") and today <= last_day


def open_dispute(
    table_name: str, invoice: dict[str, Any], reason: str, window_days: int, channel: str
) -> None:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise InvalidRequest(
            [FieldError("reason", f"Describe the problem in 1 to {MAX_REASON_LENGTH} characters.")]
        )
    now = clock.now()
    if not can_dispute(invoice, window_days, now.date()):
        raise Conflict("This invoice can no longer be disputed here; please contact us directly.")
    task = NewTask(
        kind="dispute",
        title=f"Customer disputes invoice {invoice['number']}",
        queue=DISPUTES_QUEUE,
        due_date=now.date() + timedelta(days=2),
        invoice_id=invoice["id"],
        reason=reason[:200],
    )
    dispute = {"state": "open", "reason": reason, "opened_at": clock.iso(now), "channel": channel}
    cause_id = invoice["id"] + clock.iso(now)

    def decide(current: Invoice) -> Decision:
        if current.disputed or current.status not in DISPUTABLE_STATUSES:
            raise Conflict("This invoice is already disputed or no longer open.")
        after = current.with_attributes(
            disputed=True, dispute=dispute, dispute_task_id=task.task_id(cause_id)
        )
        event = new_event(
            "invoice.disputed",
            {"invoice_id": current.id, "number": current.number, "channel": channel},
            at=now,
        )
        return Decision(after=after, events=[event], items=[task_put(table_name, task, cause_id=cause_id)])

    store.change(
        table_name,
        invoice["id"],
        decide,
        changed_by="customer",
        change_cause=f"dispute opened on the {channel.replace('_', ' ')}",
    )


def resolve_dispute(
    table_name: str, invoice_id: str, outcome: str, resolved_by: str, note: str | None
) -> dict[str, Any]:
    if outcome not in ("upheld", "rejected"):
        raise InvalidRequest([FieldError("outcome", "Use 'upheld' (the customer was right) or 'rejected'.")])
    invoice = get_invoice(table_name, invoice_id)
    if not invoice.get("disputed"):
        raise Conflict(f"Invoice {invoice['number']} has no open dispute.")
    now = clock.now()
    resolved_at = clock.iso(now)
    task_id = str(invoice.get("dispute_task_id") or "")
    task_open = bool(task_id) and task_is_open(table_name, task_id)
    opened_at = str((invoice.get("dispute") or {}).get("opened_at") or "")
    credit_notes = _credit_notes_since(table_name, invoice_id, opened_at) if outcome == "upheld" else []

    def decide(current: Invoice) -> Decision:
        if not current.disputed:
            raise Conflict("The dispute changed meanwhile; reload and try again.")
        dispute = dict(current.get("dispute") or {}) | {
            "state": "resolved",
            "outcome": outcome,
            "resolved_at": resolved_at,
            "resolved_by": resolved_by,
            "note": note or "",
        }
        answer: dict[str, Any] = {"credit_notes": credit_notes}
        schedule: dict[str, Any] = {}
        if outcome == "rejected":
            pay_by = pay_by_after_rejection(current, now.date())
            dispute["pay_by"] = answer["pay_by"] = pay_by.isoformat()
            answer.pop("credit_notes")
            schedule = _dunning_resumes_after(current, pay_by)
        after = current.with_attributes(disputed=False, dispute=dispute, **schedule)
        event = new_event(
            "invoice.dispute_resolved",
            {
                "invoice_id": current.id,
                "number": current.number,
                "outcome": outcome,
                "customer_id": current.customer_id,
                "currency": current.currency,
                "account_amount_due": money.format_amount(current.account_amount_due, current.currency),
            }
            | ({"note": note} if note else {})
            | answer,
            at=now,
        )
        items = (
            [complete_open_tasks_update(table_name, task_id, resolved_at, resolved_by)] if task_open else []
        )
        return Decision(after=after, events=[event], items=items)

    store.change(
        table_name, invoice_id, decide, changed_by=resolved_by, change_cause=f"dispute resolved: {outcome}"
    )
    return get_invoice(table_name, invoice_id)


def pay_by_after_rejection(invoice: Invoice, today: date) -> date:
    """The invoice's own payment terms counted again from the answer: the customer waited for it in good
    faith while dunning paused. Never earlier than the invoice's due date. The due date itself stays: it is
    printed on the invoice, default interest runs from it (§ 286 BGB) and the aging reports count by it."""
    due_date = date.fromisoformat(str(invoice.get("due_date")))
    terms = invoice.get("payment_terms_days")
    if terms is None:  # issued before the terms were stored: what the printed dates say
        terms = (due_date - date.fromisoformat(str(invoice.get("issue_date")))).days
    return max(due_date, today + timedelta(days=int(terms)))


def _dunning_resumes_after(invoice: Invoice, pay_by: date) -> dict[str, Any]:
    """The invoice's next dunning look the day after `pay_by` (or later, if it was later already): no
    reminder reaches the customer before the date the answer gave them."""
    if invoice.status not in DISPUTABLE_STATUSES:
        return {}
    resume_on = pay_by + timedelta(days=1)
    scheduled_on = invoice.get("next_reminder_at")
    if scheduled_on and date.fromisoformat(str(scheduled_on)) > resume_on:
        return {}
    return index_keys(invoice.id, resume_on) | {"next_reminder_at": resume_on.isoformat()}


def _credit_notes_since(table_name: str, invoice_id: str, opened_at: str) -> list[dict[str, str]]:
    """The credit notes issued on the invoice since the dispute was opened: what upholding it led to."""
    from receivables.credit_notes import list_credit_notes  # only the resolve path reads them

    return [
        {
            "credit_note_id": note["id"],
            "number": note["number"],
            "gross": money.format_amount(note["gross"], note["currency"]),
        }
        for note in list_credit_notes(table_name, invoice_id)
        if str(note.get("created_at", "")) >= opened_at
    ]


# ------------------------------------------------------------------ chargebacks (provider disputes)
# The payments module commits these with the provider event, in its one versioned invoice transaction.
def chargeback_opened(table_name: str, invoice: dict[str, Any], event: ProviderEvent) -> dict[str, Any]:
    """The cardholder disputed a payment with their bank: dunning pauses and the team responds."""
    now = clock.now()
    task = NewTask(
        kind="chargeback",
        title=f"Chargeback on invoice {invoice['number']} ({event.provider})",
        queue=DISPUTES_QUEUE,
        due_date=now.date() + timedelta(days=3),  # card networks give about a week to respond
        invoice_id=invoice["id"],
        reason=(event.reason or "dispute")[:200],
    )
    cause = f"{event.provider}:{event.dispute_ref}"
    dispute = {
        "state": "open",
        "channel": event.provider,
        "provider_dispute_id": event.dispute_ref,
        "reason": event.reason or "",
        "opened_at": clock.iso(now),
    }
    return {
        "invoice_sets": {"disputed": True, "dispute": dispute, "dispute_task_id": task.task_id(cause)},
        "items": [task_put(table_name, task, cause_id=cause)],
        "events": [
            new_event(
                "invoice.disputed",
                {"invoice_id": invoice["id"], "number": invoice["number"], "channel": event.provider},
                at=now,
            )
        ],
    }


def chargeback_closed(table_name: str, invoice: dict[str, Any], event: ProviderEvent) -> dict[str, Any]:
    """Won: the money stays. Lost: the payments module also books it as a refund."""
    now = clock.iso(clock.now())
    dispute = dict(invoice.get("dispute") or {}) | {
        "state": "resolved",
        "outcome": event.dispute_outcome,
        "resolved_at": now,
        "resolved_by": event.provider,
    }
    items = []
    task_id = invoice.get("dispute_task_id")
    if task_id and invoice.get("disputed") and task_is_open(table_name, task_id):
        items.append(complete_open_tasks_update(table_name, invoice["dispute_task_id"], now, event.provider))
    return {
        "invoice_sets": {"disputed": False, "dispute": dispute},
        "items": items,
        "events": [
            new_event(
                "invoice.dispute_resolved",
                {"invoice_id": invoice["id"], "number": invoice["number"], "outcome": event.dispute_outcome},
            )
        ],
    }
