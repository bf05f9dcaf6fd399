"""The reports on the aggregates reporting.py maintains: aging, DSO, payment trends, statements, the
journal and its nightly export. Each is a query over small partitions, never a scan of the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from receivables import aws
from receivables.clock import local_day
from receivables.errors import NotFound
from receivables.items import from_item, to_item
from receivables.journal import (
    JournalEntry,
    entry_from_item,
    journal_csv,
)
from receivables.reporting import BUCKETS, CSV_CONTENT_TYPE

_DAYS = Decimal("0.1")


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
