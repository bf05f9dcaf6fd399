"""Payments, refunds and chargebacks applied to invoices exactly once (docs/decisions/0011-payments.md).

Every provider event is applied in ONE DynamoDB transaction that also records the event id
(`attribute_not_exists`), so the event is recorded if and only if its effect is: a replay, or a
concurrent second delivery, is cancelled on that record and changes nothing. The invoice update is
conditioned on the invoice's `version`; a transaction that lost a race to another payment reads the
invoice again and retries, so concurrent payments never lose an update.

The balance rule (pure, property-tested): amount_due = total − amount_paid + amount_refunded, never below
zero and never above the total: what a payment brings beyond the amount due becomes customer credit, and
a refund beyond what was paid on the invoice is taken from that credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables import aws, clock, money
from receivables.disputes import chargeback_closed, chargeback_opened
from receivables.dunning_index import index_keys
from receivables.errors import NotFound
from receivables.invoices import days_to_pay, get_invoice, invoice_number_key
from receivables.invoicing import store
from receivables.invoicing.ledger import (
    Balance,
    allocate_payment,
    apply_refund,
    balance_of,
    status_for,
    vat_share,
)
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.outbox import DomainEvent, new_event, outbox_put
from receivables.payment_records import (
    AlreadyRecorded,
    Retry,
    credit_update,
    failed_payment_puts,
    payment_key,
    payment_ref_key,
    payment_refunded_update,
    provider_event_put,
    raise_for,
    transact_once,
    unapplied_record_puts,
)
from receivables.records import put_new, read
from receivables.tasks import FINANCE_QUEUE, NewTask, task_put

if TYPE_CHECKING:  # annotations only: the webhook parsers' pydantic models stay out of other functions
    from receivables.provider_events import ProviderEvent

_MAX_ATTEMPTS = 50
PAYABLE = ("open", "partially_paid", "paid", "uncollectible")


# --------------------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Outcome:
    result: str  # applied | unapplied | failed (a declined attempt, kept) | duplicate | ignored
    invoice_id: str | None = None
    detail: str = ""


@dataclass
class _Change:
    """What one provider event does: invoice attributes to set, further writes, events to publish."""

    invoice_sets: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


def record(table: str, event: ProviderEvent, seller_id: str) -> Outcome:
    """Applies the provider event once; safe under redelivery and concurrency."""
    if event.kind == "ignored":
        return _record_event_only(table, event, "ignored", None, event.reason or "")
    if event.kind == "payment_failed":
        return _record_failed_attempt(table, event)
    for _ in range(_MAX_ATTEMPTS):
        try:
            return _attempt(table, event, seller_id)
        except Retry:
            continue
        except AlreadyRecorded:
            return Outcome("duplicate", event.invoice_id, "event already recorded")
    raise RuntimeError(f"invoice kept changing while applying {event.provider} event {event.event_id}")


def _attempt(table: str, event: ProviderEvent, seller_id: str) -> Outcome:
    invoice, payment = _locate(table, event, seller_id)
    if invoice is None:  # a bank statement's matching says why it found none, and names candidates
        named = event.reason if event.kind == "payment" else None  # a dispute's reason is the card network's
        reason = named or "no invoice matches this payment"
        return _unapplied(table, event, None, reason, seller_id)
    if event.currency and event.currency != invoice["currency"]:
        return _unapplied(
            table,
            event,
            invoice,
            f"paid in {event.currency}, invoiced in {invoice['currency']}: not converted",
            seller_id,
        )
    if event.kind == "payment":
        if invoice["status"] not in PAYABLE:
            return _unapplied(table, event, invoice, f"the invoice is {invoice['status']}", seller_id)
        if payment is not None:
            return _record_event_only(table, event, "duplicate", invoice["id"], "payment already applied")
        change = payment_change(table, event, invoice)
    elif event.kind == "refund":
        if event.cumulative and payment is None:
            return _unapplied(
                table, event, invoice, "a refund of a payment this system never recorded", seller_id
            )
        refund = _refund_change(table, event, invoice, payment)
        if refund is None:
            return _record_event_only(table, event, "duplicate", invoice["id"], "refund already applied")
        change = refund
    elif event.kind == "dispute_opened":
        change = _dispute_opened_change(table, event, invoice)
    else:
        change = _dispute_closed_change(table, event, invoice, payment)
    _commit(table, event, invoice, change)
    return Outcome("applied", invoice["id"])


def _locate(
    table: str, event: ProviderEvent, seller_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The invoice the event is about, and the payment it refers to (refunds, disputes, repeats)."""
    payment = None
    invoice_id = event.invoice_id
    if event.payment_ref:
        reference = read(table, payment_ref_key(event.provider, event.payment_ref))
        if reference is not None:
            invoice_id = reference["invoice_id"]
            payment = read(table, payment_key(invoice_id, event.provider, event.payment_ref))
    if invoice_id is None and event.invoice_number:
        number = read(table, invoice_number_key(seller_id, event.invoice_number))
        invoice_id = number["invoice_id"] if number else None
    if invoice_id is None:
        return None, None
    try:
        return get_invoice(table, invoice_id), payment
    except NotFound:
        return None, None


# ----------------------------------------------------------------------------------- the changes
def payment_change(table: str, event: ProviderEvent, invoice: dict[str, Any]) -> _Change:
    assert event.amount is not None
    assert event.payment_ref is not None
    currency = invoice["currency"]
    before = Invoice.from_item(invoice)
    allocation = allocate_payment(before, event.amount)
    outcome = allocation.principal
    now = clock.iso(clock.now())
    change = _balance_change(invoice, outcome.balance, now)
    if allocation.fees:
        change.invoice_sets |= {
            "fees_paid": before.fees_paid + allocation.fees,
            "interest_paid": before.interest_paid + allocation.interest,
        }
    payment_id = f"{event.provider}:{event.payment_ref}"
    change.items += [
        put_new(
            table,
            payment_key(invoice["id"], event.provider, event.payment_ref)
            | {
                "entity": "payment",
                "id": payment_id,
                "kind": "payment",
                "invoice_id": invoice["id"],
                "customer_id": invoice["customer_id"],
                "provider": event.provider,
                "provider_event_id": event.event_id,
                "method": event.method,
                "currency": currency,
                "amount": event.amount,
                "applied": outcome.applied,
                "fees_applied": allocation.costs,
                "interest_applied": allocation.interest,
                "surplus": outcome.credit_change,
                "refunded": Decimal(0),
                "occurred_at": event.occurred_at,
                "recorded_at": now,
                "issue_date": invoice["issue_date"],
            },
        ),
        put_new(
            table,
            payment_ref_key(event.provider, event.payment_ref)
            | {"entity": "payment_ref", "invoice_id": invoice["id"]},
        ),
    ]
    money_data = {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "customer_id": invoice["customer_id"],
        "payment_id": payment_id,
        "provider": event.provider,
        "method": event.method,
        "currency": currency,
        "amount": money.format_amount(event.amount, currency),
        "applied": money.format_amount(outcome.applied, currency),
        "fees_applied": money.format_amount(allocation.costs, currency),
        "interest_applied": money.format_amount(allocation.interest, currency),
        "amount_due": money.format_amount(outcome.balance.due, currency),
        "account_amount_due": money.format_amount(
            max(outcome.balance.due, Decimal(0)) + before.fees_due - allocation.fees, currency
        ),
        "occurred_at": event.occurred_at,
        "issue_date": invoice["issue_date"],
    }
    if invoice["status"] == "uncollectible" and outcome.applied > 0:  # after a write-off: a recovery
        money_data["recovered"] = money.format_amount(outcome.applied, currency)
        money_data["recovered_tax_breakdown"] = vat_share(before, outcome.applied)
    change.events.append(new_event("payment.received", money_data))
    if outcome.credit_change > 0:
        change.items.append(credit_update(table, invoice, outcome.credit_change))
        change.events.append(
            new_event(
                "credit.created",
                {
                    "customer_id": invoice["customer_id"],
                    "currency": currency,
                    "amount": money.format_amount(outcome.credit_change, currency),
                    "source": "overpayment",
                    "invoice_id": invoice["id"],
                    "payment_id": payment_id,
                },
            )
        )
    if change.invoice_sets["status"] == "paid" and invoice["status"] != "paid":
        change.events.append(new_event("invoice.paid", _paid_data(invoice, outcome.balance, now)))
    return change


def _refund_change(
    table: str, event: ProviderEvent, invoice: dict[str, Any], payment: dict[str, Any] | None
) -> _Change | None:
    assert event.amount is not None
    currency = invoice["currency"]
    amount = event.amount
    if event.cumulative and payment is not None:  # Stripe reports the running total refunded on the charge
        amount = event.amount - Decimal(payment.get("refunded", 0))
        if amount <= 0:
            return None
    outcome = apply_refund(balance_of(invoice), amount)
    now = clock.iso(clock.now())
    change = _balance_change(invoice, outcome.balance, now)
    if payment is not None and event.payment_ref:
        change.items.append(payment_refunded_update(table, invoice["id"], event, payment, amount))
    change.items.append(
        put_new(
            table,
            {"pk": f"INVOICE#{invoice['id']}", "sk": f"REFUND#{event.provider}#{event.event_id}"}
            | {
                "entity": "refund",
                "id": f"{event.provider}:{event.event_id}",
                "kind": "refund",
                "invoice_id": invoice["id"],
                "customer_id": invoice["customer_id"],
                "provider": event.provider,
                "payment_ref": event.payment_ref,
                "currency": currency,
                "amount": amount,
                "applied": outcome.applied,
                "occurred_at": event.occurred_at,
                "recorded_at": now,
            },
        )
    )
    if outcome.credit_change < 0:
        change.items.append(credit_update(table, invoice, outcome.credit_change))
    change.events.append(
        new_event(
            "payment.refunded",
            {
                "invoice_id": invoice["id"],
                "number": invoice["number"],
                "customer_id": invoice["customer_id"],
                "refund_id": f"{event.provider}:{event.event_id}",
                "provider": event.provider,
                "currency": currency,
                "amount": money.format_amount(amount, currency),
                "applied": money.format_amount(outcome.applied, currency),
                "amount_due": money.format_amount(outcome.balance.due, currency),
                "occurred_at": event.occurred_at,
            },
        )
    )
    return change


def _dispute_opened_change(table: str, event: ProviderEvent, invoice: dict[str, Any]) -> _Change:
    return _Change(**chargeback_opened(table, invoice, event))


def _dispute_closed_change(
    table: str, event: ProviderEvent, invoice: dict[str, Any], payment: dict[str, Any] | None
) -> _Change:
    change = _Change(**chargeback_closed(table, invoice, event))
    if event.dispute_outcome == "lost" and event.amount:
        # The card network took the money back: it is a refund of that payment, and it is not applied
        # twice if Stripe also reports it as charge.refunded (the payment's refunded total moves).
        lost = replace(event, kind="refund", cumulative=False)
        refund = _refund_change(table, lost, invoice, payment) if payment else None
        if refund is not None:
            refund.invoice_sets.update(change.invoice_sets)
            refund.items += change.items
            refund.events += change.events
            return refund
    return change


def _balance_change(invoice: dict[str, Any], balance: Balance, now: str) -> _Change:
    status = status_for(balance, invoice["status"])
    sets: dict[str, Any] = {
        "amount_paid": balance.paid,
        "amount_refunded": balance.refunded,
        "amount_due": max(balance.due, Decimal(0)),
        "status": status,
        "updated_at": now,
    }
    if status == "paid" and invoice["status"] != "paid":
        sets["paid_at"] = now
    if invoice["status"] == "paid" and status in ("open", "partially_paid"):
        # Reopened (a refund, a lost chargeback): back on the dunning schedule; the next run decides the
        # step from the policy and the reminders already sent.
        today = clock.today()
        sets |= index_keys(invoice["id"], today) | {"next_reminder_at": today.isoformat()}
    return _Change(invoice_sets=sets)


def _paid_data(invoice: dict[str, Any], balance: Balance, now: str) -> dict[str, Any]:
    return {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "customer_id": invoice["customer_id"],
        "currency": invoice["currency"],
        "total": money.format_amount(balance.total, invoice["currency"]),
        "paid_at": now,
        "days_to_pay": days_to_pay(invoice),
    }


# ------------------------------------------------------------------------------------ persistence
def _commit(table: str, event: ProviderEvent, invoice: dict[str, Any], change: _Change) -> None:
    # Who and why, on the item itself, so the audit trail (read from the stream) can say it.
    before = Invoice.from_item(invoice)
    decision = Decision(
        after=before.with_attributes(**change.invoice_sets),
        events=change.events,
        items=change.items,
        lead=[provider_event_put(table, event, "applied", invoice["id"])],
    )
    client = aws.client("dynamodb")
    try:
        store.commit(
            table,
            before,
            decision,
            changed_by=event.provider,
            change_cause=f"{event.event_type} {event.event_id}",
        )
    except client.exceptions.TransactionCanceledException as cancelled:
        raise_for(cancelled)


def _record_event_only(
    table: str, event: ProviderEvent, result: str, invoice_id: str | None, detail: str
) -> Outcome:
    try:
        transact_once(table, event, [provider_event_put(table, event, result, invoice_id)])
    except AlreadyRecorded:
        return Outcome("duplicate", invoice_id, "event already recorded")
    return Outcome(result, invoice_id, detail)


def _record_failed_attempt(table: str, event: ProviderEvent) -> Outcome:
    """A declined card changes no balance and asks nobody to act; the invoice's history keeps it (with
    Stripe's reason) so the customer page and finance can say why the money did not come."""
    invoice = None
    if event.invoice_id:
        try:
            invoice = get_invoice(table, event.invoice_id)
        except NotFound:
            invoice = None
    if invoice is None:
        return _record_event_only(table, event, "ignored", None, "a failed payment of no known invoice")
    items = [
        provider_event_put(table, event, "failed", invoice["id"]),
        *failed_payment_puts(table, event, invoice, clock.iso(clock.now())),
    ]
    try:
        transact_once(table, event, items)
    except AlreadyRecorded:
        return Outcome("duplicate", invoice["id"], "event already recorded")
    return Outcome("failed", invoice["id"], event.reason or "")


def _unapplied(
    table: str, event: ProviderEvent, invoice: dict[str, Any] | None, reason: str, seller_id: str
) -> Outcome:
    """Money we cannot put on an invoice is kept, visible, and handed to a person: never converted.
    Finance allocates it later (`POST /payments/{id}/allocate`, receivables.allocations)."""
    invoice_id = invoice["id"] if invoice else None
    now = clock.now()
    task = NewTask(
        kind="unapplied_payment",
        title=f"Unapplied {event.event_type} from {event.provider}"
        + (f" on invoice {invoice['number']}" if invoice else ""),
        queue=FINANCE_QUEUE,
        due_date=now.date() + timedelta(days=1),
        invoice_id=invoice_id,
        reason=reason,
    )
    amount = money.format_amount(event.amount, event.currency) if event.amount and event.currency else None
    items = [
        provider_event_put(table, event, "unapplied", invoice_id),
        *unapplied_record_puts(table, event, invoice_id, reason, seller_id, clock.iso(now)),
        task_put(table, task, cause_id=f"{event.provider}:{event.event_id}"),
        outbox_put(
            table,
            new_event(
                "payment.unapplied",
                {
                    "provider": event.provider,
                    "provider_event_id": event.event_id,
                    "invoice_id": invoice_id,
                    "currency": event.currency,
                    "amount": amount,
                    "reason": reason,
                },
            ),
        ),
    ]
    try:
        transact_once(table, event, items)
    except AlreadyRecorded:
        return Outcome("duplicate", invoice_id, "event already recorded")
    return Outcome("unapplied", invoice_id, reason)
