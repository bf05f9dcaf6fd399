"""Dunning: which reminder an overdue invoice gets next, catch-up after missed runs, fees and interest."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from receivables.dunning import (
    DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR,
    DunningPolicy,
    NextAction,
    ReminderStep,
    default_policy,
    late_fee,
    local_today,
    merge_policy,
    next_action,
    next_action_date,
    statutory_interest,
    step_by_name,
)
from receivables.money import minor_digits

# Derandomized and without the example database: every run tries the same examples.
repeatable = settings(derandomize=True, database=None, deadline=None, max_examples=200)

DUE = date(2025, 3, 10)


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


def step(name: str, offset: int, template: str = "reminder", **fees: Any) -> ReminderStep:
    return ReminderStep(name=name, offset_days=offset, template=template, **fees)


def run_daily(policy: DunningPolicy, first: int, last: int, every: int = 1) -> list[NextAction]:
    """What a scheduler running every `every` days from due+first to due+last would do, in order."""
    sent: list[str] = []
    escalated = False
    performed: list[NextAction] = []
    for offset in range(first, last + 1, every):
        action = next_action(policy, DUE, sent, escalated, today=day(offset))
        if action is None or not action.is_due(day(offset)):
            continue
        performed.append(action)
        if action.kind == "escalate":
            escalated = True
        else:
            assert action.step_name is not None
            sent.append(action.step_name)
    return performed


def test_default_policy_sends_courtesy_three_reminders_then_escalates_at_21_days() -> None:
    performed = run_daily(default_policy(), first=-10, last=60)

    assert [(a.kind, a.step_name, a.template, a.due_on) for a in performed] == [
        ("reminder", "courtesy", "courtesy", day(-3)),
        ("reminder", "reminder_1", "reminder", day(1)),
        ("reminder", "reminder_2", "reminder", day(7)),
        ("reminder", "reminder_3", "final_reminder", day(14)),
        ("escalate", None, None, day(21)),
    ]


def test_nothing_is_due_before_the_courtesy_date_but_it_is_announced() -> None:
    action = next_action(default_policy(), DUE, [], escalated=False, today=day(-4))

    assert action == NextAction("reminder", "courtesy", "courtesy", day(-3))
    assert not action.is_due(day(-4))


def test_catch_up_sends_only_the_latest_missed_reminder_and_never_an_earlier_one() -> None:
    # given an invoice 10 days overdue whose reminders never ran
    policy = default_policy()

    # when dunning finally runs
    action = next_action(policy, DUE, [], escalated=False, today=day(10))

    # then it sends the +7 reminder, not a burst starting at +1
    assert action == NextAction("reminder", "reminder_2", "reminder", day(7))
    # and once recorded, the skipped courtesy and +1 reminders stay skipped: next is +14
    after = next_action(policy, DUE, ["reminder_2"], escalated=False, today=day(10))
    assert after == NextAction("reminder", "reminder_3", "final_reminder", day(14))
    assert not after.is_due(day(10))
    assert next_action_date(policy, DUE, ["reminder_2"], escalated=False) == day(14)


def test_an_already_sent_step_is_never_returned_again() -> None:
    policy = default_policy()
    sent = ["courtesy", "reminder_1"]

    for offset in range(1, 7):
        action = next_action(policy, DUE, sent, escalated=False, today=day(offset))
        assert action is not None
        assert action.step_name == "reminder_2"
        assert not action.is_due(day(offset))


def test_escalation_takes_precedence_over_missed_reminders_and_happens_once() -> None:
    policy = default_policy()

    action = next_action(policy, DUE, ["courtesy"], escalated=False, today=day(30))
    assert action == NextAction("escalate", None, None, day(21))

    assert next_action(policy, DUE, ["courtesy"], escalated=True, today=day(30)) is None
    assert next_action_date(policy, DUE, ["courtesy"], escalated=True) is None


def test_escalation_announced_ahead_of_a_reminder_on_the_same_day() -> None:
    policy = DunningPolicy(steps=(step("reminder_1", 1), step("reminder_2", 21)), escalate_offset_days=21)

    preview = next_action(policy, DUE, ["reminder_1"], escalated=False, today=day(15))

    assert preview == NextAction("escalate", None, None, day(21))
    assert next_action(policy, DUE, ["reminder_1"], escalated=False, today=day(21)) == preview


def test_escalation_after_a_step_follows_the_reminder_that_passed_it() -> None:
    policy = DunningPolicy(
        steps=(step("reminder_1", 1), step("reminder_2", 7), step("reminder_3", 14)),
        escalate_after_step="reminder_2",
    )
    assert next_action(policy, DUE, ["reminder_1"], escalated=False, today=day(6)) == NextAction(
        "reminder", "reminder_2", "reminder", day(7)
    )
    # Sent: escalation is due on that reminder's date, ahead of the +14 reminder.
    assert next_action(policy, DUE, ["reminder_1", "reminder_2"], escalated=False, today=day(8)) == (
        NextAction("escalate", None, None, day(7))
    )
    # Skipped by catch-up counts as passed too, so a missed run never means "never escalate".
    assert next_action(policy, DUE, ["reminder_3"], escalated=False, today=day(20)) == (
        NextAction("escalate", None, None, day(14))
    )


def test_endless_reminders_follow_the_last_step_every_n_days_and_catch_up_to_the_latest() -> None:
    policy = DunningPolicy(steps=(step("reminder_1", 1), step("reminder_2", 7)), endless_every_days=5)

    performed = run_daily(policy, first=0, last=30)
    assert [(a.step_name, a.due_on) for a in performed] == [
        ("reminder_1", day(1)),
        ("reminder_2", day(7)),
        ("endless:1", day(12)),
        ("endless:2", day(17)),
        ("endless:3", day(22)),
        ("endless:4", day(27)),
    ]
    assert {a.template for a in performed[2:]} == {"endless_reminder"}

    # Forgotten for a year after endless:1: one reminder, the latest due (+367 = 7 + 72 * 5).
    late = next_action(policy, DUE, ["reminder_1", "reminder_2", "endless:1"], False, today=day(370))
    assert late == NextAction("reminder", "endless:72", "endless_reminder", day(367))
    assert next_action_date(policy, DUE, ["endless:72"], escalated=False) == day(372)


def test_a_policy_without_steps_never_dunns() -> None:
    policy = DunningPolicy()

    assert next_action(policy, DUE, [], escalated=False, today=day(400)) is None
    assert next_action_date(policy, DUE, [], escalated=False) is None


def test_reminders_unknown_to_the_policy_are_ignored() -> None:
    # A step renamed or removed since it was sent neither blocks nor passes the current steps.
    action = next_action(default_policy(), DUE, ["old_first_reminder"], escalated=False, today=day(2))

    assert action == NextAction("reminder", "reminder_1", "reminder", day(1))


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([step("a", 1), step("b", 1)], "offset_days must strictly increase: 'b' (1) comes after 'a' (1)"),
        ([step("a", 7), step("b", 1)], "offset_days must strictly increase"),
        ([step("a", 1), step("a", 2)], "step names must be unique; repeated: a"),
    ],
)
def test_policy_rejects_steps_out_of_order_or_with_repeated_names(
    steps: list[ReminderStep], message: str
) -> None:
    with pytest.raises(ValidationError, match="steps") as raised:
        DunningPolicy(steps=tuple(steps))

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"escalate_after_step": "reminder_9"}, "escalate_after_step", "'reminder_9' is not a step"),
        (
            {"escalate_after_step": "a", "escalate_offset_days": 21},
            "escalate_offset_days",
            "either escalate_after_step or escalate_offset_days",
        ),
        ({"escalate_offset_days": 0}, "escalate_offset_days", "greater than or equal to 1"),
        ({"endless_every_days": 0}, "endless_every_days", "greater than 0"),
        ({"interest_rate_percent_per_year": 8.12}, "interest_rate_percent_per_year", "not a float"),
        ({"surprise": True}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_policy_validation_names_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        DunningPolicy.model_validate({"steps": [step("a", 1)], **fields})

    [error] = raised.value.errors()
    assert error["loc"] == (field,)
    assert message in error["msg"]


def test_endless_reminders_need_a_step_to_follow() -> None:
    with pytest.raises(ValidationError, match="endless_every_days"):
        DunningPolicy(endless_every_days=7)


@pytest.mark.parametrize(
    "fees",
    [
        {"late_fee_fixed": Decimal("-0.01")},
        {"late_fee_percent": Decimal("-1")},
        {"late_fee_percent": Decimal("101")},
        {"late_fee_fixed": "NaN"},
        {"late_fee_fixed": 5.0},
    ],
)
def test_reminder_step_rejects_negative_nonfinite_or_float_fees(fees: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(fees))):
        step("reminder_1", 1, **fees)


def test_step_names_reserved_for_endless_reminders_are_refused() -> None:
    with pytest.raises(ValidationError, match="reserved"):
        step("endless:1", 1)


def test_merge_policy_replaces_given_fields_and_escalation_as_one_rule() -> None:
    seller = default_policy()

    assert merge_policy(seller, None) is seller
    merged = merge_policy(
        seller, {"escalate_after_step": "reminder_2", "interest_rate_percent_per_year": "6.27"}
    )

    assert merged.steps == seller.steps
    assert merged.escalate_after_step == "reminder_2"
    assert merged.escalate_offset_days is None  # the seller's "+21" does not clash with the override
    assert merged.interest_rate_percent_per_year == Decimal("6.27")
    assert seller.escalate_offset_days == 21  # the seller's policy is untouched


def test_merge_policy_rejects_an_override_that_breaks_the_policy() -> None:
    # A misspelt key must not silently leave the seller's value in place.
    with pytest.raises(ValidationError, match="endles_every_days"):
        merge_policy(default_policy(), {"endles_every_days": 3})
    with pytest.raises(ValidationError, match="endless_every_days"):
        merge_policy(default_policy(), {"steps": [], "endless_every_days": 3})


def test_step_by_name_finds_configured_steps_only() -> None:
    policy = default_policy()

    assert step_by_name(policy, "reminder_2") == policy.steps[2]
    assert step_by_name(policy, "endless:1") is None
    assert step_by_name(policy, "missing") is None


def test_local_today_uses_the_sellers_midnight_and_refuses_naive_times() -> None:
    late_evening_utc = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)

    assert local_today(late_evening_utc, ZoneInfo("Europe/Berlin")) == date(2025, 3, 11)
    assert local_today(late_evening_utc, ZoneInfo("America/New_York")) == date(2025, 3, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(datetime(2025, 3, 10, 12, 0), ZoneInfo("Europe/Berlin"))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("fixed", "percent", "amount", "currency", "fee"),
    [
        ("40", None, "1000.00", "EUR", "40.00"),  # § 288 (5) BGB flat fee
        ("5", "2.5", "99.99", "EUR", "7.50"),  # 5 + 2.49975 = 7.49975 -> 7.50
        (None, "1.5", "12345", "JPY", "185"),  # 185.175 -> 185, no decimals
        (None, "0.5", "10.005", "BHD", "0.050"),  # 0.050025 -> 0.050, three decimals
        ("0.0005", None, "1.000", "BHD", "0.001"),  # half up at the third decimal
        (None, None, "500.00", "EUR", "0.00"),
        ("40", "5", "0", "EUR", "0.00"),  # nothing owed, no fee
    ],
)
def test_late_fee_is_fixed_plus_percent_rounded_to_the_currency(
    fixed: str | None, percent: str | None, amount: str, currency: str, fee: str
) -> None:
    reminder = step(
        "reminder_1",
        1,
        late_fee_fixed=None if fixed is None else Decimal(fixed),
        late_fee_percent=None if percent is None else Decimal(percent),
    )

    result = late_fee(reminder, Decimal(amount), currency)

    assert result == Decimal(fee)
    assert str(result) == fee  # exactly the currency's digits


@pytest.mark.parametrize(
    ("amount", "currency", "until", "rate", "interest"),
    [
        ("1000.00", "EUR", day(30), "10.27", "8.44"),  # 1000 * 10.27 % * 30/365 = 8.4411
        ("1000.00", "EUR", day(365), "10.27", "102.70"),  # a full year is the rate itself
        ("1000000", "JPY", day(10), "10.27", "2814"),  # 2813.70 -> 2814
        ("250.000", "BHD", day(1), "10.27", "0.070"),  # 0.070342 -> 0.070
        ("1000.00", "EUR", day(0), "10.27", "0.00"),  # the due date itself is not late
        ("1000.00", "EUR", day(-5), "10.27", "0.00"),
        ("-50.00", "EUR", day(30), "10.27", "0.00"),  # a credit earns no interest
    ],
)
def test_statutory_interest_is_simple_interest_on_actual_days_over_365(
    amount: str, currency: str, until: date, rate: str, interest: str
) -> None:
    result = statutory_interest(Decimal(amount), currency, DUE, until, Decimal(rate))

    assert str(result) == interest


def test_default_interest_rate_is_the_german_b2b_rate() -> None:
    assert default_policy().interest_rate_percent_per_year == DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR
    assert Decimal("10.27") == DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR
    with pytest.raises(ValueError, match="negative"):
        statutory_interest(Decimal(1), "EUR", DUE, day(3), Decimal("-1"))


# Properties -----------------------------------------------------------------------------------------

CURRENCIES = ["JPY", "EUR", "USD", "BHD", "KWD", "CLF"]


@st.composite
def policies(draw: st.DrawFn) -> DunningPolicy:
    offsets = sorted(draw(st.sets(st.integers(-10, 60), max_size=5)))
    steps = tuple(step(f"step_{i}", offset) for i, offset in enumerate(offsets))
    endless = draw(st.none() | st.integers(1, 15)) if steps else None
    escalation = draw(st.sampled_from(["none", "offset", "after_step"] if steps else ["none", "offset"]))
    return DunningPolicy(
        steps=steps,
        endless_every_days=endless,
        escalate_offset_days=draw(st.integers(1, 90)) if escalation == "offset" else None,
        escalate_after_step=draw(st.sampled_from(steps)).name if escalation == "after_step" else None,
    )


@repeatable
@given(policy=policies(), first=st.integers(-15, 20), every=st.integers(1, 12))
def test_any_run_schedule_sends_each_action_at_most_once_in_date_order(
    policy: DunningPolicy, first: int, every: int
) -> None:
    performed = run_daily(policy, first=first, last=first + 200, every=every)

    names = [a.step_name for a in performed if a.kind == "reminder"]
    assert len(names) == len(set(names))
    assert sum(a.kind == "escalate" for a in performed) <= 1
    if any(a.kind == "escalate" for a in performed):
        assert performed[-1].kind == "escalate"  # nothing automatic follows the hand-over
    dates = [a.due_on for a in performed]
    assert dates == sorted(dates)
    # Runs every day from before the first step: nothing is skipped, every configured step is sent
    # unless escalation came first.
    if every == 1 and first <= min((s.offset_days for s in policy.steps), default=0):
        escalated_on = next((a.due_on for a in performed if a.kind == "escalate"), date.max)
        expected = [s.name for s in policy.steps if day(s.offset_days) < escalated_on]
        assert names[: len(expected)] == expected


@repeatable
@given(policy=policies(), sent_count=st.integers(0, 6), today_offset=st.integers(-20, 200))
def test_the_index_date_is_exactly_when_the_next_action_becomes_due(
    policy: DunningPolicy, sent_count: int, today_offset: int
) -> None:
    sent = [s.name for s in policy.steps[:sent_count]]
    index_date = next_action_date(policy, DUE, sent, escalated=False)
    today = day(today_offset)

    action = next_action(policy, DUE, sent, escalated=False, today=today)

    if index_date is None:
        assert action is None
    elif today < index_date:
        assert action is not None
        assert action.due_on == index_date
        assert not action.is_due(today)
    else:
        assert action is not None
        assert action.is_due(today)
        assert action.step_name not in sent


amounts = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1e9"), places=3)
percents = st.none() | st.decimals(min_value=0, max_value=100, places=4)
fixed_fees = st.none() | st.decimals(min_value=0, max_value=Decimal("1000"), places=4)


@repeatable
@given(fixed=fixed_fees, percent=percents, amount=amounts, currency=st.sampled_from(CURRENCIES))
def test_late_fees_are_never_negative_and_have_the_currencys_digits(
    fixed: Decimal | None, percent: Decimal | None, amount: Decimal, currency: str
) -> None:
    reminder = step("reminder_1", 1, late_fee_fixed=fixed, late_fee_percent=percent)

    fee = late_fee(reminder, amount, currency)

    assert fee >= 0
    assert fee.as_tuple().exponent == -minor_digits(currency)
    if amount > 0 and (fixed or percent):
        # Never more than the unrounded fee plus half a minor unit.
        unrounded = (fixed or 0) + amount * (percent or 0) / 100
        assert abs(fee - unrounded) <= Decimal(1).scaleb(-minor_digits(currency)) / 2


@repeatable
@given(amount=amounts, days=st.integers(-30, 800), currency=st.sampled_from(CURRENCIES))
def test_interest_grows_with_time_and_has_the_currencys_digits(
    amount: Decimal, days: int, currency: str
) -> None:
    rate = DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR
    today = statutory_interest(amount, currency, DUE, day(days), rate)
    tomorrow = statutory_interest(amount, currency, DUE, day(days + 1), rate)

    assert Decimal(0) <= today <= tomorrow
    assert today.as_tuple().exponent == -minor_digits(currency)
