"""The subscription calendar and proration arithmetic (docs/decisions/0026-subscriptions.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from receivables.subscriptions.calendar import add_months, describe, period, period_on
from receivables.subscriptions.proration import prorated_amount, proration_lines


def test_a_month_anchored_on_the_31st_clamps_to_february_and_returns_to_the_31st() -> None:
    starts = [period(date(2027, 1, 31), "month", 1, i).start for i in range(4)]
    assert starts == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert period(date(2028, 1, 31), "month", 1, 1).start == date(2028, 2, 29)  # leap year


def test_a_period_ends_the_day_before_the_next_begins() -> None:
    december = period(date(2026, 12, 4), "month", 1, 0)
    assert (december.start, december.end, december.days) == (date(2026, 12, 4), date(2027, 1, 3), 31)
    assert describe(december, "de") == "Leistungszeitraum 04.12.2026–03.01.2027"
    assert period(date(2027, 1, 31), "month", 1, 0).end == date(2027, 2, 27)


def test_a_year_anchored_on_29_february_bills_28_february_in_common_years() -> None:
    starts = [period(date(2028, 2, 29), "year", 1, i).start for i in range(5)]
    assert starts == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]


def test_interval_count_and_the_period_containing_a_day() -> None:
    assert period(date(2026, 11, 30), "month", 3, 1).start == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 13) == date(2028, 1, 15)
    assert period_on(date(2027, 1, 31), "month", 1, date(2027, 3, 30)).start == date(2027, 2, 28)
    assert period_on(date(2027, 1, 31), "month", 1, date(2027, 3, 31)).index == 2
    assert period_on(date(2027, 1, 31), "month", 1, date(2026, 12, 1)).index == 0


@pytest.mark.parametrize(
    ("net", "currency", "expected"),
    [
        # 49.00 EUR x 16/31 = 25.290322... -> 25.29
        (Decimal("49.00"), "EUR", Decimal("25.29")),
        # 4900 JPY x 16/31 = 2529.03... -> 2529
        (Decimal("4900"), "JPY", Decimal("2529")),
        # 10.000 BHD x 16/31 = 5.1612903... -> 5.161
        (Decimal("10.000"), "BHD", Decimal("5.161")),
    ],
)
def test_a_prorated_amount_is_net_times_remaining_days_over_period_days(
    net: Decimal, currency: str, expected: Decimal
) -> None:
    assert prorated_amount(net, 16, 31, currency) == expected


def test_an_upgrade_mid_period_credits_the_old_line_and_charges_the_new_one_for_the_remaining_days() -> None:
    # given the period 04.12.2026-03.01.2027 (31 days) invoiced at 1 x 49.00, upgraded on 19.12 to 1 x 99.00
    december = period(date(2026, 12, 4), "month", 1, 0)
    old = [{"sku": "PRO", "description": "Pro", "tax_rate": Decimal(19), "net": Decimal("49.00")}]
    new = [{"sku": "MAX", "description": "Max", "tax_rate": Decimal(19), "net": Decimal("99.00")}]

    lines = proration_lines(old, new, december, date(2026, 12, 19), "EUR", "en")

    # then 19.12-03.01 is 16 days: -49.00 x 16/31 = -25.29 and +99.00 x 16/31 = 51.096... = 51.10
    assert [(line["sku"], line["net"]) for line in lines] == [
        ("PRO", Decimal("-25.29")),
        ("MAX", Decimal("51.10")),
    ]
    assert sum(line["net"] for line in lines) == Decimal("25.81")
    # a change outside the invoiced period prorates nothing
    assert proration_lines(old, new, december, date(2027, 1, 4), "EUR", "en") == []
