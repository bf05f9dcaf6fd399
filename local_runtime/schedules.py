"""EventBridge schedule expressions evaluated on the simulated clock.

`rate(...)` schedules count from the runtime's start, as a rule counts from its creation;
`cron(...)` uses EventBridge's six fields (minutes hours day-of-month month day-of-week year), read on
the schedule's time zone (EventBridge Scheduler's `ScheduleExpressionTimezone`; UTC for rules).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from local_runtime.provision import Schedule
from local_runtime.template import ACCOUNT_ID, REGION

_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def fire_times(
    expression: str, anchor: datetime, after: datetime, until: datetime, timezone: str = "UTC"
) -> list[datetime]:
    """Every instant in (after, until] at which `expression` fires (cron fields on `timezone`'s clock)."""
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        period = timedelta(seconds=int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")])
        if until <= anchor:
            return []
        first = max(1, int((after - anchor) / period) + 1) if after > anchor else 1
        times = []
        tick = anchor + first * period
        while tick <= until:
            times.append(tick)
            tick += period
        return times
    if expression.startswith("cron(") and expression.endswith(")"):
        iterator = croniter(_to_croniter(expression[5:-1]), after.astimezone(ZoneInfo(timezone)))
        times = []
        while (tick := iterator.get_next(datetime).astimezone(UTC)) <= until:
            times.append(tick)
        return times
    raise ValueError(f"unsupported schedule expression {expression!r}")


def _to_croniter(fields_text: str) -> str:
    fields = fields_text.split()
    if len(fields) != 6:
        raise ValueError(f"EventBridge cron needs 6 fields: {fields_text!r}")
    minutes, hours, day_of_month, month, day_of_week, _year = fields
    day_of_week = re.sub(r"\d", lambda m: str(int(m.group()) - 1), day_of_week)  # AWS: 1=SUN; cron: 0=SUN
    return " ".join(f.replace("?", "*") for f in (minutes, hours, day_of_month, month, day_of_week))


def scheduled_event(schedule: Schedule, at: datetime) -> Any:
    """What the target receives: the configured Input (with EventBridge Scheduler's context attributes
    filled in), or EventBridge's "Scheduled Event"."""
    if schedule.payload is not None:
        context = {
            "<aws.scheduler.scheduled-time>": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "<aws.scheduler.execution-id>": str(uuid.uuid4()),
            "<aws.scheduler.schedule-arn>": (
                f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{schedule.name}"
            ),
            "<aws.scheduler.attempt-number>": "1",
        }
        text = json.dumps(schedule.payload)
        for placeholder, value in context.items():
            text = text.replace(placeholder, value)
        return json.loads(text)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule.name}"],
        "detail": {},
    }
