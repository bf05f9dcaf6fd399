"""Reporting: aggregates the table stream maintains from committed domain events, and the reports on them.

Nothing here scans the table. The `project_aggregates` stream consumer turns each committed outbox event
(invoice.issued, payment.received, payment.refunded, invoice.voided, credit_note.issued) into additive
updates and a few records, written in ONE transaction with a once-only marker; every report is a query
over one small partition per currency (docs/reports.md, docs/decisions/0012-reporting.md).

Why it is exact under redelivery and reordering:
- the marker `AGGSEEN#<event_id>` is put with `attribute_not_exists` in the same transaction as the
  aggregate updates, so an event is counted if and only if its marker exists: replaying the whole stream
  changes nothing;
- aggregates only ever `ADD` deltas computed from the event alone (an invoice's open amount falls by what
  a payment `applied`; the open-invoice count falls when the event says `amount_due` reached zero), and
  addition commutes: any delivery order gives the same sums.

Items (entity in parentheses), every key under an `AGG` prefix:
  AGGSEEN#<event_id> / AGGSEEN                                  (agg_seen) the event was projected
  AGG#CURRENCIES / <currency>                                   (agg_currency) currencies with data
  AGG#OPEN#<currency> / DUE#<due_date>#ON#<day>                 (agg_open) ADD amount, count: how the open
        receivables due on <due_date> changed on <day>; aging as of D sums the rows with day <= D
  AGG#DAILY#<currency> / DAY#<day>                              (agg_daily) ADD invoiced, collected, ...
  AGG#PAYMENTS#<currency>#<yyyy-mm> / <day>#<occurred_at>#<event_id>   (agg_payment) one per payment:
        amount, applied, method, provider, days_to_pay (for averages, medians, by method)
  AGG#JOURNAL#<yyyy-mm> / <day>#<occurred_at>#<event_id>        (journal_entry) balanced lines by role
  AGG#STATEMENT#<customer_id> / <day>#<occurred_at>#<event_id>  (statement_line) the customer's ledger

Days are the seller's calendar days (its time zone): invoices and credit notes on their issue date,
everything else on the day the change was committed (the event's `occurred_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables import aws, clock
from receivables.clock import local_day
from receivables.errors import NotFound
from receivables.items import from_item, to_item
from receivables.journal import (
    JournalEntry,
    credit_note_entry,
    entry_to_item,
    invoice_entry,
    payment_entry,
    refund_entry,
    void_entry,
    write_off_entry,
)
from receivables.outbox import DomainEvent

PROJECTED_EVENTS = frozenset(
    {
        "invoice.issued",
        "payment.received",
        "payment.refunded",
        "invoice.voided",
        "invoice.written_off",
        "credit_note.issued",
    }
)
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
_MAX_ATTEMPTS = 8


# ============================================================================== the projection (pure)
@dataclass(frozen=True)
class InvoiceFacts:
    """What never changes on an issued invoice and every projection may need."""

    invoice_id: str
    number: str
    issue_date: str
    due_date: str  # never changes once issued (a payment plan adds instalments, it keeps the due date)
    # For credit_note.issued: the part of the note that went to customer credit because the invoice was
    # already settled beyond what it now asks for (stored on the immutable credit note document).
    credited_to_customer: Decimal = Decimal(0)


@dataclass(frozen=True)
class OpenChange:
    due_date: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PaymentRecord:
    payment_id: str
    invoice_id: str
    number: str
    method: str
    provider: str
    amount: Decimal
    applied: Decimal
    days_to_pay: int


@dataclass(frozen=True)
class StatementLine:
    kind: str  # invoice | payment | refund | credit_note | void
    document: str
    reference: str
    description: str
    debit: Decimal  # raises what the customer owes
    credit: Decimal  # lowers it


@dataclass(frozen=True)
class Projection:
    event_id: str
    event_type: str
    occurred_at: str
    day: date
    currency: str
    customer_id: str
    open_change: OpenChange | None
    daily: dict[str, Decimal]
    payment: PaymentRecord | None
    journal: JournalEntry
    statement: StatementLine


def local_today(zone: ZoneInfo) -> date:
    return clock.now().astimezone(zone).date()


def booking_day(event: DomainEvent, zone: ZoneInfo) -> date:
    """Invoices and credit notes count on their issue date; every other change on the day it was committed."""
    if event.type in ("invoice.issued", "credit_note.issued"):
        return date.fromisoformat(event.data["issue_date"])
    if event.type == "invoice.voided" and event.data.get("voided_at"):
        return local_day(event.data["voided_at"], zone)
    return local_day(event.occurred_at, zone)


def project(event: DomainEvent, invoice: InvoiceFacts, zone: ZoneInfo) -> Projection:
    """The deltas and records one event contributes; computed from the event alone (order-independent)."""
    data = event.data
    day = booking_day(event, zone)
    iso_day = day.isoformat()
    zero = Decimal(0)
    payment: PaymentRecord | None = None
    if event.type == "invoice.issued":
        gross = Decimal(data["gross"])
        open_change = OpenChange(invoice.due_date, gross, 1 if gross > 0 else 0)
        daily = {"invoiced": gross, "invoiced_count": Decimal(1)}
        journal = invoice_entry(event.id, iso_day, event.occurred_at, data)
        statement = StatementLine(
            "invoice",
            data["number"],
            data["number"],
            f"Invoice {data['number']}, due {invoice.due_date}",
            gross,
            zero,
        )
    elif event.type == "payment.received":
        amount, applied = Decimal(data["amount"]), Decimal(data["applied"])
        recovered = Decimal(data.get("recovered") or 0)  # the write-off took it out of the open items
        settled = applied > recovered and Decimal(data["amount_due"]) == 0
        open_change = OpenChange(invoice.due_date, recovered - applied, -1 if settled else 0)
        fees = Decimal(data.get("fees_applied") or 0) + Decimal(data.get("interest_applied") or 0)
        daily = {
            "collected": amount,
            "collected_count": Decimal(1),
            "applied": applied,
            "surplus": amount - applied - fees,
        } | ({"fees_collected": fees} if fees else {})
        method = str(data.get("method") or "unknown")
        from_credit = data.get("source") == "customer_credit"  # an allocation: collected when it arose
        if from_credit:
            daily = {"applied": applied, "surplus": -amount} | ({"fees_collected": fees} if fees else {})
        payment = (
            None
            if from_credit
            else PaymentRecord(
                data["payment_id"],
                data["invoice_id"],
                data["number"],
                method,
                data["provider"],
                amount,
                applied,
                (day - date.fromisoformat(invoice.issue_date)).days,
            )
        )
        journal = payment_entry(event.id, iso_day, event.occurred_at, data)
        # Fees and interest the payment settled show on the statement as charged with it (§ 367 BGB).
        text = f"Payment ({method})" + (f", incl. fees and interest {fees}" if fees else "")
        # The credit already lowered the statement's balance: only the fees it settles are new on it.
        statement = StatementLine(
            "payment", data["payment_id"], data["number"], text, fees, zero if from_credit else amount
        )
    elif event.type == "payment.refunded":
        amount, applied = Decimal(data["amount"]), Decimal(data["applied"])
        reopened = applied > 0 and Decimal(data["amount_due"]) == applied  # nothing was due before it
        open_change = OpenChange(invoice.due_date, applied, 1 if reopened else 0)
        daily = {"refunded": amount, "refunded_count": Decimal(1), "refund_applied": applied}
        journal = refund_entry(event.id, iso_day, event.occurred_at, data)
        statement = StatementLine("refund", data["refund_id"], data["number"], "Refund", amount, zero)
    elif event.type == "invoice.voided":
        amount = Decimal(data["amount_voided"])
        open_change = OpenChange(invoice.due_date, -amount, -1 if amount > 0 else 0)
        daily = {"written_off": amount, "written_off_count": Decimal(1)}
        journal = void_entry(event.id, iso_day, event.occurred_at, data)
        statement = StatementLine(
            "void", data["number"], data["number"], "Invoice voided, amount due written off", zero, amount
        )
    elif event.type == "invoice.written_off":
        amount = Decimal(data["amount_written_off"])
        open_change = OpenChange(invoice.due_date, -amount, -1 if amount > 0 else 0)
        daily = {"written_off": amount, "written_off_count": Decimal(1)}
        journal = write_off_entry(event.id, iso_day, event.occurred_at, data)
        statement = StatementLine(
            "write_off", data["number"], data["number"], "Written off as uncollectible", zero, amount
        )
    elif event.type == "credit_note.issued":
        gross = Decimal(data["gross"])
        # What reduced the receivable; the rest of the note became customer credit.
        applied = Decimal(data["applied"]) if data.get("applied") else gross - invoice.credited_to_customer
        # The invoice leaves the open count when this note brought its amount due to zero (`applied` > 0
        # means something was due before). Without `amount_due` in the event it stays counted.
        closed = applied > 0 and data.get("amount_due") is not None and Decimal(data["amount_due"]) == 0
        open_change = OpenChange(invoice.due_date, -applied, -1 if closed else 0)
        daily = {"credited": gross, "credited_count": Decimal(1)}
        journal = credit_note_entry(
            event.id,
            iso_day,
            event.occurred_at,
            dict(data) | {"invoice_number": invoice.number, "applied": str(applied)},
        )
        statement = StatementLine(
            "credit_note", data["number"], invoice.number, f"Credit note {data['number']}", zero, gross
        )
    else:
        raise ValueError(f"{event.type} is not a reported event")
    return Projection(
        event_id=event.id,
        event_type=event.type,
        occurred_at=event.occurred_at,
        day=day,
        currency=data["currency"],
        customer_id=data["customer_id"],
        open_change=open_change if open_change.amount or open_change.count else None,
        daily=daily,
        payment=payment,
        journal=journal,
        statement=statement,
    )


# =========================================================================== the projection (writes)
def seen_key(event_id: str) -> dict[str, str]:
    return {"pk": f"AGGSEEN#{event_id}", "sk": "AGGSEEN"}


def _sort_key(projection: Projection) -> str:
    return f"{projection.day.isoformat()}#{projection.occurred_at}#{projection.event_id}"


def _month(day: date) -> str:
    return day.isoformat()[:7]


def project_event(table: str, event: DomainEvent, zone: ZoneInfo) -> bool:
    """Projects the event once; False if it is not reported or was projected before (redelivery, replay)."""
    if event.type not in PROJECTED_EVENTS:
        return False
    projection = project(event, _invoice_facts(table, event), zone)
    writes = _writes(table, projection)
    client = aws.client("dynamodb")
    for _ in range(_MAX_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=writes)
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # the marker exists: counted already
            if "TransactionConflict" in reasons:
                continue  # another event's transaction touched the same aggregate; ADDs just retry
            raise
        return True
    raise RuntimeError(f"aggregates kept conflicting while projecting {event.id}")


def _invoice_facts(table: str, event: DomainEvent) -> InvoiceFacts:
    data = event.data
    if event.type == "invoice.issued":
        return InvoiceFacts(data["invoice_id"], data["number"], data["issue_date"], data["due_date"])
    response = aws.client("dynamodb").get_item(
        TableName=table,
        Key=to_item({"pk": f"INVOICE#{data['invoice_id']}", "sk": "INVOICE"}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        raise NotFound(f"event {event.id} refers to invoice {data['invoice_id']}, which does not exist")
    item = from_item(response["Item"])
    to_customer = Decimal(0)
    if event.type == "credit_note.issued":
        note = aws.client("dynamodb").get_item(
            TableName=table,
            Key=to_item({"pk": f"CREDITNOTE#{data['credit_note_id']}", "sk": "CREDITNOTE"}),
            ConsistentRead=True,
        )
        to_customer = (
            Decimal(from_item(note["Item"]).get("credited_to_customer", 0)) if "Item" in note else to_customer
        )
    return InvoiceFacts(item["id"], item["number"], item["issue_date"], item["due_date"], to_customer)


def _writes(table: str, p: Projection) -> list[dict[str, Any]]:
    now = clock.iso(clock.now())
    sort_key = _sort_key(p)
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(
                    seen_key(p.event_id)
                    | {"entity": "agg_seen", "event_type": p.event_type, "projected_at": now}
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": to_item(
                    {
                        "pk": "AGG#CURRENCIES",
                        "sk": p.currency,
                        "entity": "agg_currency",
                        "currency": p.currency,
                    }
                ),
            }
        },
        _add_update(
            table,
            {"pk": f"AGG#DAILY#{p.currency}", "sk": f"DAY#{p.day.isoformat()}"},
            p.daily,
            {"entity": "agg_daily", "currency": p.currency, "day": p.day.isoformat()},
        ),
    ]
    if p.open_change is not None:
        change = p.open_change
        writes.append(
            _add_update(
                table,
                {"pk": f"AGG#OPEN#{p.currency}", "sk": f"DUE#{change.due_date}#ON#{p.day.isoformat()}"},
                {"amount": change.amount, "count": Decimal(change.count)},
                {
                    "entity": "agg_open",
                    "currency": p.currency,
                    "due_date": change.due_date,
                    "day": p.day.isoformat(),
                },
            )
        )
    if p.payment is not None:
        pay = p.payment
        writes.append(
            _put(
                table,
                {"pk": f"AGG#PAYMENTS#{p.currency}#{_month(p.day)}", "sk": sort_key, "entity": "agg_payment"}
                | {
                    "currency": p.currency,
                    "day": p.day.isoformat(),
                    "payment_id": pay.payment_id,
                    "invoice_id": pay.invoice_id,
                    "number": pay.number,
                    "method": pay.method,
                    "provider": pay.provider,
                    "amount": pay.amount,
                    "applied": pay.applied,
                    "days_to_pay": pay.days_to_pay,
                    "event_id": p.event_id,
                },
            )
        )
    writes.append(
        _put(
            table,
            {"pk": f"AGG#JOURNAL#{_month(p.day)}", "sk": sort_key, "entity": "journal_entry"}
            | entry_to_item(p.journal),
        )
    )
    line = p.statement
    writes.append(
        _put(
            table,
            {"pk": f"AGG#STATEMENT#{p.customer_id}", "sk": sort_key, "entity": "statement_line"}
            | {
                "currency": p.currency,
                "day": p.day.isoformat(),
                "kind": line.kind,
                "document": line.document,
                "reference": line.reference,
                "description": line.description,
                "debit": line.debit,
                "credit": line.credit,
                "event_id": p.event_id,
            },
        )
    )
    return writes


def _put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    # Unconditional: the marker in the same transaction already guarantees one write per event.
    return {"Put": {"TableName": table, "Item": to_item(item)}}


def _add_update(
    table: str, key: dict[str, str], adds: Mapping[str, Decimal], sets: Mapping[str, Any]
) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    add_parts, set_parts = [], []
    for index, (name, delta) in enumerate(adds.items()):
        names[f"#a{index}"] = name
        values[f":a{index}"] = delta
        add_parts.append(f"#a{index} :a{index}")
    for index, (name, value) in enumerate(sets.items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        set_parts.append(f"#s{index} = :s{index}")
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(key),
            "UpdateExpression": f"SET {', '.join(set_parts)} ADD {', '.join(add_parts)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
    }
