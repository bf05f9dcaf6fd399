"""The period calendar: pure dates in the seller's time zone, no clock and no I/O.

Every period is computed from the anchor (the start date) and its index, never from the previous
period: a month interval anchored on the 31st clamps to a shorter month's end (31 Jan -> 28/29 Feb) and
returns to the 31st (31 Mar), and a year anchored on 29 Feb bills 28 Feb in common years.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Interval = Literal["month", "year"]


def add_months(anchor: date, months: int) -> date:
    """`anchor` moved by whole months, its day clamped to the target month's last day."""
    years, month_index = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + years, month_index + 1
    return date(year, month, min(anchor.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    index: int
    start: date
    end: date  # inclusive: the day before the next period starts

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_start(anchor: date, interval: Interval, interval_count: int, index: int) -> date:
    months_per_period = interval_count * (12 if interval == "year" else 1)
    return add_months(anchor, index * months_per_period)


def period(anchor: date, interval: Interval, interval_count: int, index: int) -> Period:
    start = period_start(anchor, interval, interval_count, index)
    end = period_start(anchor, interval, interval_count, index + 1) - timedelta(days=1)
    return Period(index, start, end)


def period_on(anchor: date, interval: Interval, interval_count: int, day: date) -> Period:
    """The period containing `day` (period 0 for any day before the anchor)."""
    if day < anchor:
        return period(anchor, interval, interval_count, 0)
    months_per_period = interval_count * (12 if interval == "year" else 1)
    index = ((day.year - anchor.year) * 12 + day.month - anchor.month) // months_per_period
    index = max(0, index)
    while period_start(anchor, interval, interval_count, index) > day:
        index -= 1
    while period_start(anchor, interval, interval_count, index + 1) <= day:
        index += 1
    return period(anchor, interval, interval_count, index)


def describe(p: Period, locale: str) -> str:
    """How an invoice line names the period it bills (§ 14 Abs. 4 Nr. 6 UStG: the time of the supply)."""
    if locale == "de":
        return f"Leistungszeitraum {p.start:%d.%m.%Y}–{p.end:%d.%m.%Y}"
    return f"Service period {p.start.isoformat()} – {p.end.isoformat()}"
