"""Dunning policy: which reminder an overdue invoice gets next, when, and what it may charge.

Pure and deterministic: the caller passes the invoice's state (due date, reminders already sent, whether
it was escalated) and the seller's local `today`; nothing here reads a clock, a table or the network.
Late fees and interest are computed as separate amounts; the invoice itself is never changed.
See docs/decisions/0010-dunning-policy.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from receivables.money import MONEY_CONTEXT, quantize

# German statutory default interest between businesses (§ 288 (2) BGB): 9 points above the Bundesbank's
# base rate, which changes every 1 January and 1 July (1.27 % from 1 July 2025). A seller or a customer
# override sets the current figure; consumers are owed only 5 points above base (§ 288 (1) BGB).
DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR = Decimal("10.27")
# The policy's rate is the business figure; a consumer's is 4 points lower (base + 5 instead of base + 9).
BUSINESS_POINTS, CONSUMER_POINTS = Decimal(9), Decimal(5)
# § 288 (5) BGB: a business debtor in default owes a flat EUR 40 (set against the costs of pursuit).
LUMP_SUM_EUR = Decimal("40.00")
ENDLESS_PREFIX = "endless:"
# Keeps every scheduled date a few years around the due date, far from date.min and date.max.
MAX_OFFSET_DAYS = 3650


def _reject_float(value: object) -> object:
    # A float cannot hold 0.10 exactly; money and rates arrive as strings, ints or Decimals.
    if isinstance(value, float):
        raise ValueError("must be a string or Decimal, not a float")
    return value


class ReminderStep(BaseModel):
    """One reminder, sent `offset_days` after the due date (negative: before it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    offset_days: int = Field(ge=-MAX_OFFSET_DAYS, le=MAX_OFFSET_DAYS)
    template: str = Field(min_length=1, max_length=64)
    late_fee_fixed: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    late_fee_percent: Decimal | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    # The reminder states statutory interest (computed with `statutory_interest`) besides any fee.
    interest: bool = False
    # The reminder claims the EUR 40 lump sum of § 288 (5) BGB (business buyers, EUR invoices only).
    lump_sum: bool = False

    @field_validator("late_fee_fixed", "late_fee_percent", mode="before")
    @classmethod
    def _no_float_money(cls, value: object) -> object:
        return _reject_float(value)

    @field_validator("name")
    @classmethod
    def _name_is_not_reserved(cls, name: str) -> str:
        if name.startswith(ENDLESS_PREFIX):
            raise ValueError(
                f"step names starting with {ENDLESS_PREFIX!r} are reserved for endless reminders"
            )
        return name


class DunningPolicy(BaseModel):
    """A seller's reminder schedule; `steps=()` means no reminders at all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[ReminderStep, ...] = ()
    endless_every_days: int | None = Field(default=None, gt=0, le=MAX_OFFSET_DAYS)
    endless_template: str = Field(default="endless_reminder", min_length=1, max_length=64)
    escalate_after_step: str | None = None
    escalate_offset_days: int | None = Field(default=None, ge=1, le=MAX_OFFSET_DAYS)
    interest_rate_percent_per_year: Decimal = Field(
        default=DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR, ge=0, le=100, allow_inf_nan=False
    )
    # Payment plans (payment_plans.py): a due-soon notice this many days before each instalment (None: none),
    # and the days an instalment may stay unpaid after its due date before the plan ends in default.
    plan_notice_days_before: int | None = Field(default=3, ge=0, le=MAX_OFFSET_DAYS)
    plan_grace_days: int = Field(default=7, ge=0, le=MAX_OFFSET_DAYS)

    @field_validator("interest_rate_percent_per_year", mode="before")
    @classmethod
    def _no_float_rate(cls, value: object) -> object:
        return _reject_float(value)

    @field_validator("steps")
    @classmethod
    def _steps_strictly_increase(cls, steps: tuple[ReminderStep, ...]) -> tuple[ReminderStep, ...]:
        for earlier, later in pairwise(steps):
            if later.offset_days <= earlier.offset_days:
                raise ValueError(
                    f"offset_days must strictly increase: {later.name!r} ({later.offset_days}) "
                    f"comes after {earlier.name!r} ({earlier.offset_days})"
                )
        if sum(step.lump_sum for step in steps) > 1:
            raise ValueError("the § 288 (5) BGB lump sum is owed once per invoice: one step may claim it")
        names = [step.name for step in steps]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"step names must be unique; repeated: {', '.join(duplicates)}")
        return steps

    @field_validator("endless_every_days")
    @classmethod
    def _endless_follows_a_step(cls, every: int | None, info: ValidationInfo) -> int | None:
        if every is not None and info.data.get("steps") == ():
            raise ValueError("endless reminders repeat after the last step, so at least one step is needed")
        return every

    @field_validator("escalate_after_step")
    @classmethod
    def _escalation_step_exists(cls, name: str | None, info: ValidationInfo) -> str | None:
        steps: tuple[ReminderStep, ...] | None = info.data.get("steps")
        if name is not None and steps is not None and name not in {step.name for step in steps}:
            known = ", ".join(step.name for step in steps) or "none"
            raise ValueError(f"{name!r} is not a step of this policy (steps: {known})")
        return name

    @field_validator("escalate_offset_days")
    @classmethod
    def _one_escalation_rule(cls, days: int | None, info: ValidationInfo) -> int | None:
        if days is not None and info.data.get("escalate_after_step") is not None:
            raise ValueError("set either escalate_after_step or escalate_offset_days, not both")
        return days


def default_policy() -> DunningPolicy:
    """Courtesy note 3 days before due, reminders 1, 7 and 14 days after, hand-over to a person at 21."""
    return DunningPolicy(
        steps=(
            ReminderStep(name="courtesy", offset_days=-3, template="courtesy"),
            ReminderStep(name="reminder_1", offset_days=1, template="reminder"),
            ReminderStep(name="reminder_2", offset_days=7, template="reminder"),
            ReminderStep(name="reminder_3", offset_days=14, template="final_reminder"),
        ),
        escalate_offset_days=21,
    )


_ESCALATION_FIELDS = ("escalate_after_step", "escalate_offset_days")


def merge_policy(seller_policy: DunningPolicy, override: dict[str, Any] | None) -> DunningPolicy:
    """The seller's policy with a customer's override: each key given replaces that field whole.

    The two escalation fields are one rule, so an override naming either replaces both (the other
    becomes None); otherwise a customer's "after reminder_2" would clash with the seller's "at +21".
    Unknown keys and invalid results raise pydantic's ValidationError naming the field.
    """
    if not override:
        return seller_policy
    merged = seller_policy.model_dump()
    if any(key in override for key in _ESCALATION_FIELDS):
        merged.update(dict.fromkeys(_ESCALATION_FIELDS))
    merged.update(override)
    return DunningPolicy.model_validate(merged)


@dataclass(frozen=True)
class NextAction:
    """What dunning does next for an invoice.

    Escalation has no step or template: it hands the invoice to a person (a task for the finance team),
    and no automatic reminder follows it.
    """

    kind: Literal["reminder", "escalate"]
    step_name: str | None
    template: str | None
    due_on: date

    def is_due(self, today: date) -> bool:
        return self.due_on <= today


def step_by_name(policy: DunningPolicy, name: str) -> ReminderStep | None:
    """The configured step called `name`; None for endless reminders ("endless:3") and unknown names."""
    return next((step for step in policy.steps if step.name == name), None)


def endless_reminder_name(number: int) -> str:
    return f"{ENDLESS_PREFIX}{number}"


def _endless_number(name: str) -> int | None:
    digits = name.removeprefix(ENDLESS_PREFIX)
    if name.startswith(ENDLESS_PREFIX) and digits.isdigit() and int(digits) > 0:
        return int(digits)
    return None


# Reminders form one sequence: the steps at positions 0..k-1, then endless reminder n at k-1+n. A
# reminder counts as passed when it, or any later one, was sent: that is how a step skipped by catch-up
# is never sent afterwards, without recording skipped steps anywhere.
def _last_passed_position(policy: DunningPolicy, reminders_sent: Sequence[str]) -> int:
    positions = {step.name: index for index, step in enumerate(policy.steps)}
    last = -1
    for name in reminders_sent:
        endless = _endless_number(name)
        if endless is not None:
            last = max(last, len(policy.steps) - 1 + endless)
        elif name in positions:
            last = max(last, positions[name])
        # Other names belong to steps a later policy change removed; they neither pass nor block anything.
    return last


def _reminder_at(policy: DunningPolicy, due_date: date, position: int) -> NextAction | None:
    if position < len(policy.steps):
        step = policy.steps[position]
        return NextAction("reminder", step.name, step.template, due_date + timedelta(days=step.offset_days))
    if policy.endless_every_days is None:
        return None
    number = position - len(policy.steps) + 1
    last_step_on = due_date + timedelta(days=policy.steps[-1].offset_days)
    on = last_step_on + timedelta(days=number * policy.endless_every_days)
    return NextAction("reminder", endless_reminder_name(number), policy.endless_template, on)


def _latest_due_reminder(
    policy: DunningPolicy, due_date: date, first_open: int, today: date
) -> NextAction | None:
    # Catch-up: of all open reminders already due, only the latest is sent; the earlier ones then pass.
    latest = None
    for position in range(first_open, len(policy.steps)):
        reminder = _reminder_at(policy, due_date, position)
        if reminder is None or not reminder.is_due(today):
            return latest  # offsets increase, so no later reminder is due either
        latest = reminder
    if policy.endless_every_days is not None:
        # Every step is due, so cycles >= 0 (cycle 0 is the last step itself). Computed, not walked cycle by
        # cycle: an invoice forgotten for years costs no more than a new one.
        last_step_on = due_date + timedelta(days=policy.steps[-1].offset_days)
        cycles = (today - last_step_on).days // policy.endless_every_days
        position = len(policy.steps) - 1 + cycles
        if position >= first_open:
            latest = _reminder_at(policy, due_date, position)
    return latest


def _escalation_on(policy: DunningPolicy, due_date: date, last_passed: int) -> date | None:
    if policy.escalate_offset_days is not None:
        return due_date + timedelta(days=policy.escalate_offset_days)
    if policy.escalate_after_step is not None:
        trigger = next(i for i, step in enumerate(policy.steps) if step.name == policy.escalate_after_step)
        if last_passed >= trigger:
            # Due together with the reminder that passed the trigger step, so actions never go back in time.
            passed = _reminder_at(policy, due_date, last_passed)
            if passed is not None:
                return passed.due_on
            # Endless reminders sent before the policy dropped them have no date now; the last step has.
            return due_date + timedelta(days=policy.steps[-1].offset_days)
    return None


def next_action(
    policy: DunningPolicy, due_date: date, reminders_sent: Sequence[str], escalated: bool, today: date
) -> NextAction | None:
    """The action to take for an unpaid invoice: due now if `action.is_due(today)`, else the upcoming one.

    Escalation wins once due. Of several reminders due because runs were missed, only the latest is
    returned. None once escalated or when the policy has nothing left to do.
    """
    if escalated:
        return None
    last_passed = _last_passed_position(policy, reminders_sent)
    escalation_on = _escalation_on(policy, due_date, last_passed)
    if escalation_on is not None and escalation_on <= today:
        return NextAction("escalate", None, None, escalation_on)
    due_now = _latest_due_reminder(policy, due_date, last_passed + 1, today)
    if due_now is not None:
        return due_now
    upcoming = _reminder_at(policy, due_date, last_passed + 1)
    if escalation_on is not None and (upcoming is None or escalation_on <= upcoming.due_on):
        return NextAction("escalate", None, None, escalation_on)
    return upcoming


def next_action_date(
    policy: DunningPolicy, due_date: date, reminders_sent: Sequence[str], escalated: bool
) -> date | None:
    """When the invoice next needs attention, from its state alone: the sparse index's sort key."""
    action = next_action(policy, due_date, reminders_sent, escalated, today=date.min)
    return action.due_on if action is not None else None


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The seller's calendar date at `now`: a reminder "1 day after due" follows the seller's midnight."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware; a naive datetime names no instant")
    return now.astimezone(zone).date()


def late_fee(step: ReminderStep, amount_due: Decimal, currency: str) -> Decimal:
    """The step's fee: fixed part plus percent of the amount due, rounded once to the currency's unit.

    Nothing owed (amount_due <= 0) means no fee, not even the fixed part.
    """
    if amount_due <= 0:
        return quantize(Decimal(0), currency)
    with localcontext(MONEY_CONTEXT):
        fee = (step.late_fee_fixed or Decimal(0)) + amount_due * (step.late_fee_percent or Decimal(0)) / 100
    return quantize(fee, currency)


def statutory_interest(
    amount_due: Decimal, currency: str, due_date: date, until: date, rate_percent_per_year: Decimal
) -> Decimal:
    """Simple interest at the yearly rate for each day from the day after `due_date` to `until`
    inclusive, actual days / 365, rounded once at the end; zero when not overdue or nothing is owed."""
    if rate_percent_per_year < 0:
        raise ValueError("rate_percent_per_year must not be negative")
    days = (until - due_date).days
    if days <= 0 or amount_due <= 0:
        return quantize(Decimal(0), currency)
    with localcontext(MONEY_CONTEXT):
        interest = amount_due * rate_percent_per_year / 100 * days / 365
    return quantize(interest, currency)


@dataclass(frozen=True)
class InterestBasis:
    """The rate a reminder charges and what it consists of (§ 288 (1)/(2) BGB), for the letter to state."""

    rate_percent: Decimal
    base_rate_percent: Decimal  # the Bundesbank's base rate the policy's figure implies
    points: Decimal  # above the base rate: 9 between businesses, 5 where a consumer owes
    business: bool


def interest_basis(policy_rate_percent: Decimal, business: bool) -> InterestBasis:
    """The policy's rate is base + 9 points; a consumer owes base + 5 (never below zero, as the base rate
    itself can be negative). A buyer without a VAT id counts as a consumer: the lower claim is safe."""
    base = policy_rate_percent - BUSINESS_POINTS
    points = BUSINESS_POINTS if business else CONSUMER_POINTS
    return InterestBasis(max(base + points, Decimal(0)), base, points, business)


def lump_sum(step: ReminderStep, business: bool, currency: str, amount_due: Decimal) -> Decimal:
    """EUR 40 when the step claims it from a business buyer of a EUR invoice with something owed, else 0."""
    owed = step.lump_sum and business and currency == "EUR" and amount_due > 0
    return LUMP_SUM_EUR if owed else quantize(Decimal(0), currency)
