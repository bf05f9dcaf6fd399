"""The reports' edge: request parameters (named problems for bad ones) and each report as JSON or CSV.

The figures themselves come from receivables.reporting; this module only reads queries and shapes answers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from receivables import money
from receivables.errors import FieldError, InvalidRequest
from receivables.journal import safe_cell
from receivables.report_reads import (
    Bucket,
    CurrencyAging,
    CurrencyDso,
    CurrencyStatement,
    TrendGroup,
)
from receivables.reporting import BUCKETS

GROUP_BY = ("month", "method")
MAX_PERIOD_DAYS = 366
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ============================================================================ request parameters
def _day_parameter(query: Mapping[str, str], name: str, errors: list[FieldError]) -> date | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    errors.append(FieldError(name, "Use a date as YYYY-MM-DD."))
    return None


def as_of_parameter(query: Mapping[str, str], today: date) -> date:
    errors: list[FieldError] = []
    as_of = _day_parameter(query, "as_of", errors)
    if errors:
        raise InvalidRequest(errors)
    return as_of or today


def period_parameters(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """`from`/`to` (inclusive); `to` defaults to today, `from` to the first day of `to`'s month."""
    errors: list[FieldError] = []
    start, end = _day_parameter(query, "from", errors), _day_parameter(query, "to", errors)
    if errors:
        raise InvalidRequest(errors)
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidRequest([FieldError("from", "from must not be after to.")])
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidRequest([FieldError("from", f"A period spans at most {MAX_PERIOD_DAYS} days.")])
    return start, end


def group_by_parameter(query: Mapping[str, str]) -> str:
    value = query.get("group_by") or "month"
    if value not in GROUP_BY:
        raise InvalidRequest([FieldError("group_by", f"Use one of {', '.join(GROUP_BY)}.")])
    return value


def trend_parameters(query: Mapping[str, str], today: date) -> tuple[date, date, str]:
    """`group_by` and the period, every bad parameter named at once."""
    errors: list[FieldError] = []
    group_by, period = "month", (today, today)
    try:
        group_by = group_by_parameter(query)
    except InvalidRequest as invalid:
        errors += invalid.errors
    try:
        period = period_parameters(query, today)
    except InvalidRequest as invalid:
        errors += invalid.errors
    if errors:
        raise InvalidRequest(errors)
    return period[0], period[1], group_by


def wants_csv(accept: str | None) -> bool:
    """`Accept: text/csv` (alone or preferred in a list) asks for the CSV variant."""
    if not accept:
        return False
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "text/csv" in kinds and (
        "application/json" not in kinds or kinds.index("text/csv") < kinds.index("application/json")
    )


# ==================================================================================== presentation
def _fmt(amount: Decimal, currency: str) -> str:
    return money.format_amount(amount, currency)


def _days(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        return safe_cell(value)
    return value


def aging_view(as_of: date, report: Sequence[CurrencyAging]) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "buckets": list(BUCKETS),
        "currencies": [
            {
                "currency": a.currency,
                "buckets": [
                    {"bucket": b.name, "amount": _fmt(b.amount, a.currency), "count": b.count}
                    for b in a.buckets
                ],
                "total": {"amount": _fmt(a.amount, a.currency), "count": a.count},
            }
            for a in report
        ],
    }


def aging_csv(as_of: date, report: Sequence[CurrencyAging]) -> str:
    rows = [
        (as_of.isoformat(), a.currency, b.name, _fmt(b.amount, a.currency), b.count)
        for a in report
        for b in (*a.buckets, Bucket("total", a.amount, a.count))
    ]
    return _csv(("as_of", "currency", "bucket", "amount", "count"), rows)


DSO_FORMULA = "DSO = receivables at end of period / net credit sales in period x days in period"


def dso_view(start: date, end: date, report: Sequence[CurrencyDso]) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": (end - start).days + 1,
        "formula": DSO_FORMULA,
        "currencies": [
            {
                "currency": d.currency,
                "receivables_end": _fmt(d.receivables_end, d.currency),
                "credit_sales": _fmt(d.credit_sales, d.currency),
                "dso": _days(d.dso),
            }
            for d in report
        ],
    }


def dso_csv(start: date, end: date, report: Sequence[CurrencyDso]) -> str:
    rows = [
        (
            start.isoformat(),
            end.isoformat(),
            d.days,
            d.currency,
            _fmt(d.receivables_end, d.currency),
            _fmt(d.credit_sales, d.currency),
            _days(d.dso),
        )
        for d in report
    ]
    return _csv(("from", "to", "days", "currency", "receivables_end", "credit_sales", "dso"), rows)


def trends_view(start: date, end: date, group_by: str, groups: Sequence[TrendGroup]) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": group_by,
        "groups": [
            {
                "currency": g.currency,
                "group": g.group,
                "count": g.count,
                "amount": _fmt(g.amount, g.currency),
                "average_days_to_pay": _days(g.average_days_to_pay),
                "median_days_to_pay": _days(g.median_days_to_pay),
            }
            for g in groups
        ],
    }


def trends_csv(group_by: str, groups: Sequence[TrendGroup]) -> str:
    rows = [
        (
            g.currency,
            g.group,
            g.count,
            _fmt(g.amount, g.currency),
            _days(g.average_days_to_pay),
            _days(g.median_days_to_pay),
        )
        for g in groups
    ]
    header = ("currency", group_by, "count", "amount", "average_days_to_pay", "median_days_to_pay")
    return _csv(header, rows)


def statement_view(
    customer_id: str, start: date, end: date, statements: Sequence[CurrencyStatement]
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currencies": [
            {
                "currency": s.currency,
                "opening_balance": _fmt(s.opening_balance, s.currency),
                "closing_balance": _fmt(s.closing_balance, s.currency),
                "lines": [
                    {
                        "date": e.day.isoformat(),
                        "kind": e.kind,
                        "document": e.document,
                        "reference": e.reference,
                        "description": e.description,
                        "debit": _fmt(e.debit, s.currency),
                        "credit": _fmt(e.credit, s.currency),
                        "balance": _fmt(balance, s.currency),
                    }
                    for e, balance in s.lines
                ],
            }
            for s in statements
        ],
    }


def statement_csv(start: date, statements: Sequence[CurrencyStatement]) -> str:
    rows: list[Sequence[Any]] = []
    for s in statements:
        cur = s.currency
        rows.append(
            (
                start.isoformat(),
                cur,
                "opening",
                "",
                "",
                "Opening balance",
                "",
                "",
                _fmt(s.opening_balance, cur),
            )
        )
        rows += [
            (
                e.day.isoformat(),
                cur,
                e.kind,
                e.document,
                e.reference,
                e.description,
                _fmt(e.debit, cur),
                _fmt(e.credit, cur),
                _fmt(balance, cur),
            )
            for e, balance in s.lines
        ]
    header = (
        "date",
        "currency",
        "kind",
        "document",
        "reference",
        "description",
        "debit",
        "credit",
        "balance",
    )
    return _csv(header, rows)
