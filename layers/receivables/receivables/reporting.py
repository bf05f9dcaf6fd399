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

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables import aws, clock
from receivables.errors import NotFound
from receivables.items import from_item, to_item
from receivables.journal import (
    JournalEntry,
    credit_note_entry,
    entry_from_item,
    entry_to_item,
    invoice_entry,
    journal_csv,
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
_DAYS = Decimal("0.1")


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


def local_day(instant: str, zone: ZoneInfo) -> date:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(zone).date()


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
        settled = applied > 0 and Decimal(data["amount_due"]) == 0
        open_change = OpenChange(invoice.due_date, -applied, -1 if settled else 0)
        daily = {
            "collected": amount,
            "collected_count": Decimal(1),
            "applied": applied,
            "surplus": amount - applied,
        }
        method = str(data.get("method") or "unknown")
        payment = PaymentRecord(
            data["payment_id"],
            data["invoice_id"],
            data["number"],
            method,
            data["provider"],
            amount,
            applied,
            (day - date.fromisoformat(invoice.issue_date)).days,
        )
        journal = payment_entry(event.id, iso_day, event.occurred_at, data)
        statement = StatementLine(
            "payment", data["payment_id"], data["number"], f"Payment ({method})", zero, amount
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


# ================================================================================== reads (queries)
def _query(table: str, key_condition: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": to_item(values),
    }
    items: list[dict[str, Any]] = []
    while True:
        page = aws.client("dynamodb").query(**request)
        items += [from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def currencies(table: str) -> list[str]:
    return sorted(i["currency"] for i in _query(table, "pk = :pk", {":pk": "AGG#CURRENCIES"}))


def _between(table: str, pk: str, low: str, high: str) -> list[dict[str, Any]]:
    return _query(table, "pk = :pk AND sk BETWEEN :low AND :high", {":pk": pk, ":low": low, ":high": high})


def months(start: date, end: date) -> list[str]:
    """Every yyyy-mm from start's month to end's month."""
    found, cursor = [], start.replace(day=1)
    while cursor <= end:
        found.append(cursor.isoformat()[:7])
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return found


# ==================================================================================== aging (pure)
@dataclass(frozen=True)
class OpenRow:
    due_date: date
    day: date
    amount: Decimal
    count: int


@dataclass(frozen=True)
class Bucket:
    name: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class CurrencyAging:
    currency: str
    buckets: tuple[Bucket, ...]

    @property
    def amount(self) -> Decimal:
        return sum((b.amount for b in self.buckets), Decimal(0))

    @property
    def count(self) -> int:
        return sum(b.count for b in self.buckets)


def bucket_for(days_past_due: int) -> str:
    """current (not yet due or due today), 1-30, 31-60, 61-90, 90+ days past the due date."""
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def age(currency: str, rows: Iterable[OpenRow], as_of: date) -> CurrencyAging:
    """The open receivables as they stood at the end of `as_of`, in buckets of days past due."""
    by_due: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in rows:
        if row.day <= as_of:
            by_due[row.due_date][0] += row.amount
            by_due[row.due_date][1] += row.count
    amounts = dict.fromkeys(BUCKETS, Decimal(0))
    counts = dict.fromkeys(BUCKETS, 0)
    for due, (amount, count) in by_due.items():
        name = bucket_for((as_of - due).days)
        amounts[name] += amount
        counts[name] += int(count)
    return CurrencyAging(currency, tuple(Bucket(n, amounts[n], counts[n]) for n in BUCKETS))


def _open_rows(table: str, currency: str) -> list[OpenRow]:
    return [
        OpenRow(date.fromisoformat(i["due_date"]), date.fromisoformat(i["day"]), i["amount"], int(i["count"]))
        for i in _query(table, "pk = :pk", {":pk": f"AGG#OPEN#{currency}"})
    ]


def aging_report(table: str, as_of: date) -> list[CurrencyAging]:
    return [age(currency, _open_rows(table, currency), as_of) for currency in currencies(table)]


# ====================================================================================== DSO (pure)
@dataclass(frozen=True)
class CurrencyDso:
    currency: str
    receivables_end: Decimal
    credit_sales: Decimal
    days: int
    dso: Decimal | None


def dso(receivables_end: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """DSO = receivables at the end of the period / net credit sales in the period x days in the period.

    None when nothing was sold in the period (the ratio is undefined, not zero or infinite).
    """
    if credit_sales <= 0:
        return None
    return (receivables_end / credit_sales * days).quantize(_DAYS, rounding=ROUND_HALF_UP)


def dso_report(table: str, start: date, end: date) -> list[CurrencyDso]:
    days = (end - start).days + 1
    report = []
    for currency in currencies(table):
        receivables = age(currency, _open_rows(table, currency), end).amount
        daily = _between(table, f"AGG#DAILY#{currency}", f"DAY#{start.isoformat()}", f"DAY#{end.isoformat()}")
        sales = sum((i.get("invoiced", 0) - i.get("credited", 0) for i in daily), Decimal(0))
        report.append(CurrencyDso(currency, receivables, sales, days, dso(receivables, sales, days)))
    return report


# =================================================================================== trends (pure)
@dataclass(frozen=True)
class PaymentFact:
    currency: str
    day: date
    method: str
    amount: Decimal
    days_to_pay: int


@dataclass(frozen=True)
class TrendGroup:
    currency: str
    group: str
    count: int
    amount: Decimal
    average_days_to_pay: Decimal
    median_days_to_pay: Decimal


def average(values: Sequence[int]) -> Decimal:
    if not values:
        raise ValueError("average of nothing")
    return (Decimal(sum(values)) / len(values)).quantize(_DAYS, rounding=ROUND_HALF_UP)


def median(values: Sequence[int]) -> Decimal:
    """The middle value; for an even count the mean of the two middle values."""
    if not values:
        raise ValueError("median of nothing")
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = (
        Decimal(ordered[middle]) if len(ordered) % 2 else Decimal(ordered[middle - 1] + ordered[middle]) / 2
    )
    return value.quantize(_DAYS, rounding=ROUND_HALF_UP)


def group_payments(facts: Iterable[PaymentFact], group_by: str) -> list[TrendGroup]:
    key: Callable[[PaymentFact], str] = (
        (lambda f: f.day.isoformat()[:7]) if group_by == "month" else (lambda f: f.method)
    )
    groups: dict[tuple[str, str], list[PaymentFact]] = defaultdict(list)
    for fact in facts:
        groups[(fact.currency, key(fact))].append(fact)
    return [
        TrendGroup(
            currency=currency,
            group=name,
            count=len(members),
            amount=sum((m.amount for m in members), Decimal(0)),
            average_days_to_pay=average([m.days_to_pay for m in members]),
            median_days_to_pay=median([m.days_to_pay for m in members]),
        )
        for (currency, name), members in sorted(groups.items())
    ]


def payment_trends(table: str, start: date, end: date, group_by: str) -> list[TrendGroup]:
    facts = [
        PaymentFact(
            i["currency"], date.fromisoformat(i["day"]), i["method"], i["amount"], int(i["days_to_pay"])
        )
        for currency in currencies(table)
        for month in months(start, end)
        for i in _between(
            table, f"AGG#PAYMENTS#{currency}#{month}", start.isoformat(), f"{end.isoformat()}#~"
        )
    ]
    return group_payments(facts, group_by)


# ================================================================================ statement (pure)
@dataclass(frozen=True)
class StatementEntry:
    currency: str
    day: date
    kind: str
    document: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class CurrencyStatement:
    currency: str
    opening_balance: Decimal
    lines: tuple[tuple[StatementEntry, Decimal], ...] = field(default_factory=tuple)  # with running balance

    @property
    def closing_balance(self) -> Decimal:
        return self.lines[-1][1] if self.lines else self.opening_balance


def running_statement(entries: Iterable[StatementEntry], start: date) -> list[CurrencyStatement]:
    """Per currency: the balance before `start`, then each entry from `start` on with the running balance.

    Entries must come in booking order. A negative balance is money the customer has to its credit.
    """
    opening: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, list[tuple[StatementEntry, Decimal]]] = defaultdict(list)
    for entry in entries:
        change = entry.debit - entry.credit
        if entry.day < start:
            opening[entry.currency] += change
            continue
        previous = lines[entry.currency][-1][1] if lines[entry.currency] else opening[entry.currency]
        lines[entry.currency].append((entry, previous + change))
    return [
        CurrencyStatement(currency, opening[currency], tuple(lines[currency]))
        for currency in sorted(set(opening) | set(lines))
    ]


def customer_statement(table: str, customer_id: str, start: date, end: date) -> list[CurrencyStatement]:
    response = aws.client("dynamodb").get_item(
        TableName=table, Key=to_item({"pk": f"CUSTOMER#{customer_id}", "sk": "PROFILE"})
    )
    if "Item" not in response:
        raise NotFound(f"No customer {customer_id}.")
    items = _query(
        table,
        "pk = :pk AND sk < :after",
        {":pk": f"AGG#STATEMENT#{customer_id}", ":after": (end + timedelta(days=1)).isoformat()},
    )
    entries = [
        StatementEntry(
            i["currency"],
            date.fromisoformat(i["day"]),
            i["kind"],
            i["document"],
            i["reference"],
            i["description"],
            i["debit"],
            i["credit"],
        )
        for i in items
    ]
    return running_statement(entries, start)


# ========================================================================================== journal
def journal_entries(table: str, start: date, end: date) -> list[JournalEntry]:
    """The stored journal entries booked from `start` to `end`, in booking order."""
    return [
        entry_from_item(i)
        for month in months(start, end)
        for i in _between(table, f"AGG#JOURNAL#{month}", start.isoformat(), f"{end.isoformat()}#~")
    ]


def journal_export_key(day: date) -> str:
    return f"exports/journal/{day.year}/{day.isoformat()}.csv"


@dataclass(frozen=True)
class JournalExport:
    key: str
    entries: int
    created: bool  # False: an earlier run stored the day already (the file is never rewritten)
    matches_stored: bool  # False: entries arrived after the stored file was written


def export_journal_day(
    table: str, bucket: str, day: date, accounts: Mapping[str, str | dict[str, str]]
) -> JournalExport:
    """Writes the day's journal CSV once (`store_once`): a re-run never writes a second version."""
    import hashlib

    from receivables import document_store

    entries = journal_entries(table, day, day)
    body = journal_csv(entries, accounts).encode()
    stored = document_store.store_once(bucket, journal_export_key(day), body, CSV_CONTENT_TYPE)
    return JournalExport(
        stored.key, len(entries), stored.created, stored.sha256 == hashlib.sha256(body).hexdigest()
    )


def day_before(instant: str, zone: ZoneInfo) -> date:
    """The seller's calendar day before the one `instant` falls on (the nightly run exports yesterday)."""
    return local_day(instant, zone) - timedelta(days=1)
