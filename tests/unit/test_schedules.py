"""EventBridge Scheduler's time zones and context attributes, as the local runtime evaluates them."""

from __future__ import annotations

from datetime import UTC, datetime

from local_runtime.provision import Schedule
from local_runtime.schedules import fire_times, scheduled_event


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_cron_in_the_sellers_time_zone_follows_daylight_saving_time() -> None:
    # Germany switches to summer time on 2027-03-28 at 02:00 local.
    after, until = _utc("2027-03-26T12:00"), _utc("2027-03-30T00:00")

    times = fire_times("cron(0 7 * * ? *)", _utc("2027-03-01"), after, until, "Europe/Berlin")

    assert times == [
        _utc("2027-03-27T06:00"),  # 07:00 CET
        _utc("2027-03-28T05:00"),  # 07:00 CEST
        _utc("2027-03-29T05:00"),
    ]


def test_a_cron_without_time_zone_is_utc() -> None:
    times = fire_times("cron(0 2 * * ? *)", _utc("2027-01-01"), _utc("2027-01-01"), _utc("2027-01-03"))

    assert times == [_utc("2027-01-01T02:00"), _utc("2027-01-02T02:00")]


def test_the_input_gets_the_schedulers_context_attributes() -> None:
    schedule = Schedule(
        "ExportJournalFunction/Nightly",
        "cron(0 2 * * ? *)",
        "fn",
        None,
        {"time": "<aws.scheduler.scheduled-time>", "resources": ["<aws.scheduler.schedule-arn>"]},
        "Europe/Berlin",
    )

    event = scheduled_event(schedule, _utc("2027-01-02T01:00"))

    assert event["time"] == "2027-01-02T01:00:00Z"
    assert event["resources"][0].endswith(":schedule/default/ExportJournalFunction/Nightly")
