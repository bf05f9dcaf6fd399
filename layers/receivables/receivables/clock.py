"""The one source of "now" for the domain.

On AWS it is the system clock. The local runtime moves it forward (simulated days for dunning) through
`advance`; nothing else may change it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def today() -> date:
    return now().date()


def advance(by: timedelta) -> datetime:
    """Moves the clock forward; time never runs backwards, so negative steps are refused."""
    global _offset
    if by < timedelta(0):
        raise ValueError("the clock only moves forward")
    _offset += by
    return now()


def iso(instant: datetime) -> str:
    """ISO 8601 UTC with a `Z`, millisecond precision: the contract's instant format."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(instant: str) -> datetime:
    """An instant as the contract writes it (`...Z`) or as Python does (`+00:00`)."""
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def local_day(instant: str, zone: ZoneInfo) -> date:
    """The calendar day an instant falls on where the seller is: what invoices and reports date by."""
    return parse(instant).astimezone(zone).date()


def reset() -> None:
    """Back to the real time: a new local system is a new world (tests start several in one process)."""
    global _offset
    _offset = timedelta(0)
