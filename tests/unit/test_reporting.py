"""Reporting arithmetic: aging buckets, DSO, averages, medians, statements, and the projection of events."""

from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.errors import InvalidRequest
from receivables.invoicing.ledger import Balance, apply_payment, apply_refund
from receivables.outbox import DomainEvent
from receivables.report_reads import (
    OpenRow,
    PaymentFact,
    StatementEntry,
    age,
    average,
    bucket_for,
    dso,
    group_payments,
    median,
    months,
    running_statement,
)
from receivables.report_views import (
    aging_csv,
    as_of_parameter,
    group_by_parameter,
    period_parameters,
    wants_csv,
)
from receivables.reporting import InvoiceFacts, booking_day, project

BERLIN = ZoneInfo("Europe/Berlin")
_IDS = itertools.count(1)
INVOICE = InvoiceFacts("inv_1", "2026-000001", "2026-11-02", "2026-11-16")


def _event(
    event_type: str, data: dict[str, object], occurred_at: str = "2026-11-20T10:00:00.000Z"
) -> DomainEvent:
    base = {"invoice_id": "inv_1", "number": "2026-000001", "customer_id": "cus_1", "currency": "EUR"}
    return DomainEvent(f"evt_{next(_IDS)}", event_type, occurred_at, base | data)


def _issued(gross: str = "119.00") -> DomainEvent:
    net = (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01"))
    return _event(
        "invoice.issued",
        {
            "order_id": "ord_1",
            "net": str(net),
            "tax": str(Decimal(gross) - net),
            "gross": gross,
            "tax_breakdown": [{"rate": "19", "net": str(net), "tax": str(Decimal(gross) - net)}],
            "issue_date": "2026-11-02",
            "due_date": "2026-11-16",
        },
        "2026-11-02T08:00:00.000Z",
    )


def _payment(amount: str, applied: str, due_after: str, at: str = "2026-11-20T10:00:00.000Z") -> DomainEvent:
    return _event(
        "payment.received",
        {
            "payment_id": f"generic:{at}",
            "provider": "generic",
            "method": "bank_transfer",
            "amount": amount,
            "applied": applied,
            "amount_due": due_after,
            "occurred_at": at,
            "issue_date": "2026-11-02",
        },
        at,
    )


def _refund(amount: str, applied: str, due_after: str, at: str = "2026-11-25T10:00:00.000Z") -> DomainEvent:
    data = {"refund_id": f"generic:r{at}", "provider": "generic", "amount": amount, "applied": applied}
    return _event("payment.refunded", data | {"amount_due": due_after, "occurred_at": at}, at)


# ------------------------------------------------------------------------------------------- aging
@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_days_past_due_fall_into_the_documented_buckets(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket


def test_aging_sums_amounts_and_counts_per_bucket_as_they_stood_on_the_day() -> None:
    rows = [
        OpenRow(date(2026, 11, 16), date(2026, 11, 2), Decimal("100.00"), 1),  # issued
        OpenRow(date(2026, 11, 16), date(2026, 11, 20), Decimal("-40.00"), 0),  # partial payment
        OpenRow(date(2026, 10, 1), date(2026, 9, 17), Decimal("50.00"), 1),
        OpenRow(date(2026, 10, 1), date(2026, 12, 5), Decimal("-50.00"), -1),  # paid in December
        OpenRow(date(2026, 12, 30), date(2026, 12, 16), Decimal("10.00"), 1),  # not yet issued on Dec 1
    ]

    on_dec_1 = age("EUR", rows, date(2026, 12, 1))
    later = age("EUR", rows, date(2027, 1, 31))

    assert {b.name: (b.amount, b.count) for b in on_dec_1.buckets} == {
        "current": (Decimal(0), 0),
        "1-30": (Decimal("60.00"), 1),  # due Nov 16: 15 days past due
        "31-60": (Decimal(0), 0),
        "61-90": (Decimal("50.00"), 1),  # due Oct 1: 61 days past due, paid only in December
        "90+": (Decimal(0), 0),
    }
    assert (on_dec_1.amount, on_dec_1.count) == (Decimal("110.00"), 2)
    assert {b.name: (b.amount, b.count) for b in later.buckets if b.count} == {
        "31-60": (Decimal("10.00"), 1),  # due Dec 30: 32 days
        "61-90": (Decimal("60.00"), 1),  # due Nov 16: 76 days
    }
    assert aging_csv(date(2026, 12, 1), [on_dec_1]).splitlines()[-1] == "2026-12-01,EUR,total,110.00,2"


# --------------------------------------------------------------------------------- DSO and trends
def test_dso_is_receivables_over_credit_sales_times_days() -> None:
    assert dso(Decimal("5000.00"), Decimal("15000.00"), 30) == Decimal("10.0")
    assert dso(Decimal("1000.00"), Decimal("3000.00"), 31) == Decimal("10.3")  # 10.333 rounds half up
    assert dso(Decimal("0.00"), Decimal("100.00"), 30) == Decimal("0.0")
    assert dso(Decimal("100.00"), Decimal(0), 30) is None  # nothing sold: undefined, not infinite


def test_average_and_median_of_days_to_pay() -> None:
    assert median([7]) == Decimal("7.0")
    assert median([30, 1, 7]) == Decimal("7.0")
    assert median([1, 2]) == Decimal("1.5")
    assert median([10, 2, 4, 40]) == Decimal("7.0")
    assert average([1, 2, 2]) == Decimal("1.7")  # 1.666... half up
    assert average([0, 1]) == Decimal("0.5")
    with pytest.raises(ValueError, match="median"):
        median([])


def test_payments_group_by_month_or_method_per_currency() -> None:
    facts = [
        PaymentFact("EUR", date(2026, 11, 3), "card", Decimal("10.00"), 1),
        PaymentFact("EUR", date(2026, 11, 20), "bank_transfer", Decimal("30.00"), 18),
        PaymentFact("EUR", date(2026, 12, 1), "card", Decimal("5.50"), 4),
        PaymentFact("JPY", date(2026, 11, 5), "card", Decimal("1200"), 3),
    ]

    by_month = {(g.currency, g.group): g for g in group_payments(facts, "month")}
    by_method = {(g.currency, g.group): g for g in group_payments(facts, "method")}

    assert sorted(by_month) == [("EUR", "2026-11"), ("EUR", "2026-12"), ("JPY", "2026-11")]
    november = by_month[("EUR", "2026-11")]
    assert (november.count, november.amount) == (2, Decimal("40.00"))
    assert (november.average_days_to_pay, november.median_days_to_pay) == (Decimal("9.5"), Decimal("9.5"))
    card = by_method[("EUR", "card")]
    assert (card.count, card.amount, card.median_days_to_pay) == (2, Decimal("15.50"), Decimal("2.5"))


def test_months_between_two_days() -> None:
    assert months(date(2026, 11, 30), date(2027, 2, 1)) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert months(date(2026, 1, 31), date(2026, 1, 31)) == ["2026-01"]


# -------------------------------------------------------------------------------------- statements
def test_a_statement_carries_the_opening_balance_and_a_running_balance_per_currency() -> None:
    def line(day: int, kind: str, debit: str, credit: str, currency: str = "EUR") -> StatementEntry:
        return StatementEntry(
            currency, date(2026, 11, day), kind, f"D{day}", "R", kind, Decimal(debit), Decimal(credit)
        )

    entries = [
        line(1, "invoice", "100.00", "0"),
        line(3, "invoice", "50.00", "0"),
        line(3, "invoice", "1200", "0", "JPY"),
        line(10, "payment", "0", "170.00"),  # 20 more than owed: the customer is in credit
        line(12, "refund", "20.00", "0"),
    ]

    statements = {s.currency: s for s in running_statement(entries, date(2026, 11, 2))}

    eur = statements["EUR"]
    assert eur.opening_balance == Decimal("100.00")
    assert [balance for _, balance in eur.lines] == [Decimal("150.00"), Decimal("-20.00"), Decimal("0.00")]
    assert eur.closing_balance == Decimal("0.00")
    assert statements["JPY"].closing_balance == Decimal("1200")


# ---------------------------------------------------------------------------------- the projection
def test_each_event_projects_its_deltas() -> None:
    issued = project(_issued("119.00"), INVOICE, BERLIN)
    paid = project(_payment("150.00", "119.00", "0.00"), INVOICE, BERLIN)
    refunded = project(_refund("30.00", "30.00", "30.00"), INVOICE, BERLIN)

    assert issued.open_change is not None
    assert paid.open_change is not None
    assert (issued.day, issued.open_change.due_date) == (date(2026, 11, 2), "2026-11-16")
    assert (issued.open_change.amount, issued.open_change.count) == (Decimal("119.00"), 1)
    assert (paid.open_change.amount, paid.open_change.count) == (Decimal("-119.00"), -1)
    assert paid.daily == {
        "collected": Decimal("150.00"),
        "collected_count": 1,
        "applied": Decimal("119.00"),
        "surplus": Decimal("31.00"),
    }
    assert paid.payment is not None
    assert paid.payment.days_to_pay == 18
    assert refunded.open_change is not None
    assert (refunded.open_change.amount, refunded.open_change.count) == (Decimal("30.00"), 1)  # reopened
    assert (refunded.statement.debit, paid.statement.credit) == (Decimal("30.00"), Decimal("150.00"))


def test_a_void_writes_off_what_was_due_and_closes_the_invoice() -> None:
    voided = project(
        _event("invoice.voided", {"amount_voided": "119.00", "voided_at": "2026-11-21T23:30:00.000Z"}),
        INVOICE,
        BERLIN,
    )

    assert voided.day == date(2026, 11, 22)  # 23:30 UTC is already the next day in Berlin
    assert voided.open_change is not None
    assert (voided.open_change.amount, voided.open_change.count) == (Decimal("-119.00"), -1)
    assert voided.daily == {"written_off": Decimal("119.00"), "written_off_count": 1}
    assert [(ln.role, ln.debit, ln.credit) for ln in voided.journal.lines] == [
        ("write_off", Decimal("119.00"), Decimal(0)),
        ("receivable", Decimal(0), Decimal("119.00")),
    ]


def _credit_note(gross: str, due_after: str | None) -> DomainEvent:
    net = (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01"))
    data = {
        "credit_note_id": "cn_1",
        "number": "GS-2026-000001",
        "invoice_number": "2026-000001",
        "net": str(net),
        "tax": str(Decimal(gross) - net),
        "gross": gross,
        "tax_breakdown": [{"rate": "19", "net": str(net), "tax": str(Decimal(gross) - net)}],
        "issue_date": "2026-11-24",
    }
    return _event("credit_note.issued", data | ({"amount_due": due_after} if due_after is not None else {}))


def test_a_credit_note_reduces_the_receivable_and_reverses_revenue_and_vat() -> None:
    partial = project(_credit_note("11.90", "107.10"), INVOICE, BERLIN)
    closing = project(_credit_note("119.00", "0.00"), INVOICE, BERLIN)
    # the invoice was paid already: the whole note became customer credit, the receivable did not move
    after_payment = project(
        _credit_note("11.90", "0.00"),
        InvoiceFacts("inv_1", "2026-000001", "2026-11-02", "2026-11-16", Decimal("11.90")),
        BERLIN,
    )

    assert partial.open_change is not None
    assert closing.open_change is not None
    assert (partial.open_change.amount, partial.open_change.count) == (Decimal("-11.90"), 0)
    assert (closing.open_change.amount, closing.open_change.count) == (Decimal("-119.00"), -1)
    assert after_payment.open_change is None
    assert [(ln.role, ln.debit, ln.credit) for ln in partial.journal.lines] == [
        ("revenue:19", Decimal("10.00"), Decimal(0)),
        ("vat:19", Decimal("1.90"), Decimal(0)),
        ("receivable", Decimal(0), Decimal("11.90")),
    ]
    assert [(ln.role, ln.credit) for ln in after_payment.journal.lines if ln.credit] == [
        ("customer_credit", Decimal("11.90"))
    ]
    assert partial.daily == {"credited": Decimal("11.90"), "credited_count": 1}
    assert partial.journal.reference == "2026-000001"


def test_payments_are_booked_on_the_sellers_calendar_day_they_were_committed() -> None:
    late = _payment("10.00", "10.00", "109.00", at="2026-11-30T23:10:00.000Z")
    assert booking_day(late, BERLIN) == date(2026, 12, 1)
    assert booking_day(_issued(), BERLIN) == date(2026, 11, 2)  # invoices on their issue date


cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))


@settings(max_examples=200, deadline=None)
@given(
    total=cents,
    operations=st.lists(st.tuples(st.sampled_from(["pay", "refund"]), cents), max_size=12),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_projected_in_any_order_the_open_amount_and_count_match_the_invoice(
    total: Decimal, operations: list[tuple[str, Decimal]], seed: int
) -> None:
    # given the events the payment rules emit for a sequence of payments and refunds
    events = [_issued(str(total))]
    events[0].data["tax_breakdown"] = [{"rate": "0", "net": str(total), "tax": "0.00"}]
    balance = Balance(total, Decimal(0), Decimal(0))
    for step, (kind, amount) in enumerate(operations):
        at = f"2026-11-{3 + step:02d}T10:00:00.000Z"
        if kind == "pay":
            outcome = apply_payment(balance, amount)
            events.append(_payment(str(amount), str(outcome.applied), str(outcome.balance.due), at))
        else:
            outcome = apply_refund(balance, amount)
            events.append(_refund(str(amount), str(outcome.applied), str(outcome.balance.due), at))
        balance = outcome.balance

    # when they are projected in a shuffled order
    random.Random(seed).shuffle(events)
    projections = [project(e, INVOICE, BERLIN) for e in events]

    # then the open receivable is the invoice's amount due, counted once while something is due
    changes = [p.open_change for p in projections if p.open_change]
    assert sum((c.amount for c in changes), Decimal(0)) == balance.due
    assert sum(c.count for c in changes) == (1 if balance.due > 0 else 0)
    assert all(p.journal.balance == 0 for p in projections)


def test_every_order_of_a_small_history_gives_the_same_aging() -> None:
    history = [
        _issued("119.00"),
        _payment("50.00", "50.00", "69.00", "2026-11-05T10:00:00.000Z"),
        _payment("69.00", "69.00", "0.00", "2026-11-09T10:00:00.000Z"),
        _refund("20.00", "20.00", "20.00", "2026-11-12T10:00:00.000Z"),
    ]
    results = set()
    for order in itertools.permutations(history):
        rows = [
            OpenRow(
                date.fromisoformat(p.open_change.due_date), p.day, p.open_change.amount, p.open_change.count
            )
            for p in (project(e, INVOICE, BERLIN) for e in order)
            if p.open_change
        ]
        aged = age("EUR", rows, date(2026, 11, 30))
        results.add(tuple((b.name, b.amount, b.count) for b in aged.buckets))
    assert results == {
        (
            ("current", Decimal(0), 0),
            ("1-30", Decimal("20.00"), 1),
            ("31-60", Decimal(0), 0),
            ("61-90", Decimal(0), 0),
            ("90+", Decimal(0), 0),
        )
    }


# ------------------------------------------------------------------------------------- parameters
def test_period_defaults_to_the_month_so_far_and_names_bad_parameters() -> None:
    today = date(2026, 11, 23)
    assert period_parameters({}, today) == (date(2026, 11, 1), today)
    assert period_parameters({"to": "2026-10-15"}, today) == (date(2026, 10, 1), date(2026, 10, 15))
    assert as_of_parameter({}, today) == today

    cases = [
        ({"from": "2026-13-01"}, ["from"]),
        ({"from": "yesterday", "to": "2026/11/01"}, ["from", "to"]),
        ({"from": "2026-11-20", "to": "2026-11-01"}, ["from"]),
        ({"from": "2024-01-01", "to": "2026-11-01"}, ["from"]),
    ]
    for query, fields in cases:
        with pytest.raises(InvalidRequest) as raised:
            period_parameters(query, today)
        assert [e.field for e in raised.value.errors] == fields, query
    with pytest.raises(InvalidRequest) as raised:
        as_of_parameter({"as_of": "20261123"}, today)
    assert [e.field for e in raised.value.errors] == ["as_of"]
    with pytest.raises(InvalidRequest) as raised:
        group_by_parameter({"group_by": "week"})
    assert [e.field for e in raised.value.errors] == ["group_by"]


def test_csv_is_chosen_by_the_accept_header() -> None:
    assert wants_csv("text/csv")
    assert wants_csv("text/csv;q=0.9, application/json;q=0.5")
    assert not wants_csv("application/json, text/csv")
    assert not wants_csv(None)
    assert not wants_csv("*/*")
