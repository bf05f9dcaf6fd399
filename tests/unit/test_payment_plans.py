"""A payment plan's instalments: what payments cover (oldest first), which reminder is due, when it ends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables import money
from receivables.dunning import default_policy, merge_policy
from receivables.escalation import propose_instalments
from receivables.payment_plans import (
    defaulted_instalment,
    next_check_on,
    paid_on_plan,
    plan_reminders,
    standing,
)

FIRST_DUE = date(2027, 3, 1)  # instalments on 1 March, 31 March, 30 April


def _plan(amount: str, currency: str = "EUR") -> list[dict[str, object]]:
    return propose_instalments(Decimal(amount), currency, FIRST_DUE)


@pytest.mark.parametrize(
    ("amount", "currency", "shares"),
    [
        ("100.00", "EUR", ["33.33", "33.33", "33.34"]),
        ("100", "JPY", ["33", "33", "34"]),
        ("100.000", "BHD", ["33.333", "33.333", "33.334"]),
    ],
)
def test_paying_exactly_the_first_instalment_covers_it_and_nothing_of_the_second(
    amount: str, currency: str, shares: list[str]
) -> None:
    plan = _plan(amount, currency)
    assert [str(i["amount"]) for i in plan] == shares
    due_after_first = Decimal(amount) - Decimal(shares[0])

    paid = paid_on_plan(plan, due_after_first)
    first, second, third = standing(plan, paid)

    assert paid == Decimal(shares[0])
    assert (first.paid, second.paid, third.paid) == (True, False, False)
    assert (second.covered, second.open_amount, second.number, second.of) == (0, Decimal(shares[1]), 2, 3)


def test_one_cent_short_leaves_the_instalment_open_by_a_cent() -> None:
    plan = _plan("100.00")

    first, _, _ = standing(plan, paid_on_plan(plan, Decimal("66.68")))

    assert (first.paid, first.open_amount) == (False, Decimal("0.01"))


def test_paying_early_more_than_an_instalment_covers_the_later_ones() -> None:
    plan = _plan("100.00")

    standings = standing(plan, paid_on_plan(plan, Decimal("20.00")))  # 80.00 paid at once

    assert [(i.paid, i.covered) for i in standings] == [
        (True, Decimal("33.33")),
        (True, Decimal("33.33")),
        (False, Decimal("13.34")),
    ]


def test_a_refund_beyond_the_plan_counts_as_nothing_paid() -> None:
    plan = _plan("100.00")

    assert paid_on_plan(plan, Decimal("130.00")) == 0
    assert paid_on_plan(plan, Decimal("0")) == Decimal("100.00")


@given(
    minor=st.integers(min_value=3, max_value=10**9),
    paid_share=st.fractions(min_value=0, max_value=1),
    currency=st.sampled_from(["JPY", "EUR", "BHD"]),
)
def test_instalments_sum_to_the_amount_due_and_payments_fill_them_oldest_first(
    minor: int, paid_share: object, currency: str
) -> None:
    amount_due = money.from_minor_units(minor, currency)
    plan = propose_instalments(amount_due, currency, FIRST_DUE)
    paid = money.from_minor_units(int(minor * paid_share), currency)  # type: ignore[operator]

    standings = standing(plan, paid_on_plan(plan, amount_due - paid))

    assert sum(Decimal(i["amount"]) for i in plan) == amount_due
    assert all(money.quantize(Decimal(i["amount"]), currency) == i["amount"] for i in plan)
    assert sum(i.covered for i in standings) == paid
    first_open = next((n for n, i in enumerate(standings) if not i.paid), len(standings))
    assert all(i.paid for i in standings[:first_open])
    assert all(i.covered == 0 for i in standings[first_open + 1 :])


def test_each_instalment_gets_a_notice_before_and_a_reminder_after_its_due_date() -> None:
    standings = standing(_plan("100.00"), Decimal("33.33"))  # the first is paid

    before, look_on = plan_reminders(standings, 3, [], date(2027, 3, 20))
    notice, after_notice = plan_reminders(standings, 3, [], date(2027, 3, 28))
    overdue, _ = plan_reminders(standings, 3, ["instalment_notice:2"], date(2027, 4, 1))
    again, _ = plan_reminders(standings, 3, ["instalment_notice:2", "instalment:2"], date(2027, 4, 2))

    assert (before, look_on) == ([], date(2027, 3, 28))  # 31 March − 3 days
    assert [(r.step_name, r.template, r.instalment.number) for r in notice] == [
        ("instalment_notice:2", "instalment_notice", 2)
    ]
    assert after_notice == date(2027, 4, 1)
    assert [r.step_name for r in overdue] == ["instalment:2"]
    assert again == []


def test_catch_up_sends_the_overdue_reminder_without_the_missed_notice() -> None:
    standings = standing(_plan("100.00"), Decimal(0))

    due, _ = plan_reminders(standings, 3, [], date(2027, 3, 5))

    assert [r.step_name for r in due] == ["instalment:1"]


def test_an_instalment_unpaid_after_its_grace_period_defaults_the_plan() -> None:
    standings = standing(_plan("100.00"), Decimal("33.33"))  # the second is due 31 March

    assert next_check_on(standings, grace_days=7) == date(2027, 4, 8)
    assert defaulted_instalment(standings, 7, date(2027, 4, 7)) is None  # the last day of grace
    missed = defaulted_instalment(standings, 7, date(2027, 4, 8))
    assert missed is not None
    assert missed.number == 2
    assert next_check_on(standing(_plan("100.00"), Decimal("100.00")), grace_days=7) is None


def test_the_grace_period_is_a_policy_setting_a_customer_can_override() -> None:
    seller = default_policy()

    customer = merge_policy(seller, {"plan_grace_days": 14, "plan_notice_days_before": None})

    assert (seller.plan_grace_days, seller.plan_notice_days_before) == (7, 3)
    assert (customer.plan_grace_days, customer.plan_notice_days_before) == (14, None)
    with pytest.raises(ValueError, match="plan_grace_days"):
        merge_policy(seller, {"plan_grace_days": -1})
