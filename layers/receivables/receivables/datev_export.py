"""The DATEV export's reads and writes: the journal over a period, each customer's debitor account, and
the monthly file in the documents bucket (docs/decisions/0031-datev-export.md).

Debitor accounts are numbered in order of first export, from 10000: an atomic counter hands out the
next number and a conditional put (`attribute_not_exists`) binds it to the customer, so a customer keeps
its number forever and two concurrent exports agree on it (the loser reads the winner's; its counter
value stays unused, a gap nobody books on).

Items: DATEV#DEBITORS / COUNTER (next_number), DATEV#DEBITOR#<customer_id> / DEBITOR (account).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from botocore.exceptions import ClientError

from receivables import aws, datev, document_store, money
from receivables.errors import FieldError, InvalidRequest
from receivables.items import from_item, to_item
from receivables.journal import JournalEntry
from receivables.report_reads import journal_entries
from receivables.seller import SellerProfile

COUNTER_KEY = {"pk": "DATEV#DEBITORS", "sk": "COUNTER"}


class DebitorRangeExhausted(RuntimeError):
    """Every debitor number from 10000 to 69998 is taken: the seller needs a longer account length."""


def _debitor_key(customer_id: str) -> dict[str, str]:
    return {"pk": f"DATEV#DEBITOR#{customer_id}", "sk": "DEBITOR"}


def _assigned(table: str, customer_id: str) -> str | None:
    found = aws.client("dynamodb").get_item(
        TableName=table, Key=to_item(_debitor_key(customer_id)), ConsistentRead=True
    )
    return str(from_item(found["Item"])["account"]) if "Item" in found else None


def debitor_account(table: str, customer_id: str) -> str:
    """The customer's debitor account; assigned on first use, never changed afterwards."""
    known = _assigned(table, customer_id)
    if known:
        return known
    ddb = aws.client("dynamodb")
    counter = ddb.update_item(
        TableName=table,
        Key=to_item(COUNTER_KEY),
        UpdateExpression="ADD next_number :one",
        ExpressionAttributeValues=to_item({":one": 1}),
        ReturnValues="UPDATED_NEW",
    )
    number = datev.FIRST_DEBITOR + int(from_item(counter["Attributes"])["next_number"]) - 1
    if number >= datev.LAST_DEBITOR:  # the last one is the "various debitors" account
        raise DebitorRangeExhausted(f"debitor number {number} is beyond {datev.LAST_DEBITOR - 1}")
    try:
        ddb.put_item(
            TableName=table,
            Item=to_item(
                _debitor_key(customer_id)
                | {"entity": "datev_debitor", "customer_id": customer_id, "account": str(number)}
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return str(_assigned(table, customer_id))
    return str(number)


def debitor_accounts(table: str, entries: Iterable[JournalEntry]) -> dict[str, str]:
    return {c: debitor_account(table, c) for c in sorted({e.customer_id for e in entries if e.customer_id})}


def check_period(start: date, end: date, first_month: int) -> None:
    """A Buchungsstapel lies within one fiscal year (DATEV refuses the import otherwise)."""
    if datev.fiscal_year_start(start, first_month) != datev.fiscal_year_start(end, first_month):
        raise InvalidRequest([FieldError("to", "from and to must lie in the same fiscal year.")])


def batch(
    table: str, start: date, end: date, profile: SellerProfile, currency: str, created_at: datetime
) -> bytes:
    """The Buchungsstapel of the journal's entries in `currency` booked from `start` to `end`."""
    check_period(start, end, profile.fiscal_year_start_month)
    if not money.is_invoicing_currency(currency) or money.minor_digits(currency) > 2:
        raise InvalidRequest([FieldError("currency", "Use an ISO 4217 code with at most two decimals.")])
    entries = [e for e in journal_entries(table, start, end) if e.currency == currency]
    return _file(table, start, end, profile, currency, created_at, entries)


def _file(
    table: str,
    start: date,
    end: date,
    profile: SellerProfile,
    currency: str,
    created_at: datetime,
    entries: list[JournalEntry],
) -> bytes:
    header = datev.BatchHeader(
        consultant_number=profile.datev_consultant_number,
        client_number=profile.datev_client_number,
        fiscal_year_start=datev.fiscal_year_start(start, profile.fiscal_year_start_month),
        start=start,
        end=end,
        chart=profile.chart_of_accounts,
        currency=currency,
        created_at=created_at,
        title=f"Forderungen {start.strftime('%m/%Y')}",
    )
    return datev.buchungsstapel(header, entries, debitor_accounts(table, entries))


# ================================================================================== monthly export
@dataclass(frozen=True)
class DatevExport:
    key: str
    entries: int
    created: bool  # False: an earlier run stored the month already (the file is never rewritten)
    matches_stored: bool  # False: entries arrived after the stored file was written


def previous_month(day: date) -> tuple[date, date]:
    """The calendar month before `day`'s."""
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def export_key(start: date, currency: str) -> str:
    return f"exports/datev/{start.year}/EXTF_Buchungsstapel_{start.isoformat()[:7]}_{currency}.csv"


def export_month(
    table: str, bucket: str, start: date, end: date, profile: SellerProfile, created_at: datetime
) -> list[DatevExport]:
    """One file per currency booked in the month, each written once (`store_once`).

    `created_at` is the schedule's fire time, so a re-run builds the same bytes and can tell whether
    entries arrived after the stored file was written."""
    entries = journal_entries(table, start, end)
    exports = []
    for currency in sorted({e.currency for e in entries}):
        mine = [e for e in entries if e.currency == currency]
        body = _file(table, start, end, profile, currency, created_at, mine)
        stored = document_store.store_once(bucket, export_key(start, currency), body, datev.CONTENT_TYPE)
        exports.append(
            DatevExport(
                stored.key, len(mine), stored.created, stored.sha256 == hashlib.sha256(body).hexdigest()
            )
        )
    return exports
