"""The balance rule of payments and refunds, and how providers' events are read."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.invoicing.ledger import Balance, apply_payment, apply_refund, status_for
from receivables.provider_events import MalformedEvent, parse_generic, parse_stripe
from tests.support import REPOSITORY

cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
operations = st.lists(st.tuples(st.sampled_from(["pay", "refund"]), cents), max_size=40)


@settings(max_examples=300)
@given(total=cents, operations=operations)
def test_amount_due_is_total_minus_payments_plus_refunds_and_the_status_matches(
    total: Decimal, operations: list[tuple[str, Decimal]]
) -> None:
    balance, status = Balance(total, Decimal(0), Decimal(0)), "open"
    applied_payments = applied_refunds = credit = Decimal(0)
    for kind, amount in operations:
        outcome = apply_payment(balance, amount) if kind == "pay" else apply_refund(balance, amount)
        balance, status = outcome.balance, status_for(outcome.balance, status)
        if kind == "pay":
            applied_payments += outcome.applied
        else:
            applied_refunds += outcome.applied
        credit += outcome.credit_change
        assert outcome.applied + abs(outcome.credit_change) == amount  # nothing lost, nothing invented

        assert balance.due == total - applied_payments + applied_refunds
        assert Decimal(0) <= balance.due <= total
        expected = "paid" if balance.due == 0 else "open" if balance.due == total else "partially_paid"
        assert status == expected


def test_an_overpayment_pays_the_invoice_and_the_rest_is_credit() -> None:
    outcome = apply_payment(Balance(Decimal("42.82"), Decimal("40.00"), Decimal(0)), Decimal("10.00"))

    assert (outcome.applied, outcome.credit_change, outcome.balance.due) == (
        Decimal("2.82"),
        Decimal("7.18"),
        Decimal("0.00"),
    )


def test_a_written_off_invoice_stays_written_off_until_paid_in_full() -> None:
    partly = Balance(Decimal("100"), Decimal("30"), Decimal(0))
    assert status_for(partly, "uncollectible") == "uncollectible"
    assert status_for(Balance(Decimal("100"), Decimal("100"), Decimal(0)), "uncollectible") == "paid"


def _stripe(name: str) -> bytes:
    return (REPOSITORY / "events" / "stripe" / f"{name}.json").read_bytes()


def test_stripe_minor_units_become_the_currencys_decimals() -> None:
    event = json.loads(_stripe("payment_intent.succeeded"))
    event["data"]["object"] |= {"currency": "jpy", "amount_received": 1200}
    yen = parse_stripe(json.dumps(event).encode())
    event["data"]["object"] |= {"currency": "bhd", "amount_received": 12340}
    dinar = parse_stripe(json.dumps(event).encode())

    assert parse_stripe(_stripe("payment_intent.succeeded")).amount == Decimal("42.82")
    assert (yen.amount, yen.currency) == (Decimal("1200"), "JPY")
    assert (dinar.amount, dinar.currency) == (Decimal("12.340"), "BHD")


def test_stripe_event_kinds() -> None:
    refund = parse_stripe(_stripe("charge.refunded"))
    lost = parse_stripe(_stripe("charge.dispute.closed"))

    assert (refund.kind, refund.payment_ref, refund.amount, refund.cumulative) == (
        "refund",
        "pi_3QKx2bLkdIwHu7ix0bBxT1Qa",
        Decimal("10.00"),
        True,
    )
    assert (lost.kind, lost.dispute_outcome) == ("dispute_closed", "lost")
    unknown = json.loads(_stripe("payment_intent.succeeded")) | {"type": "customer.created"}
    assert parse_stripe(json.dumps(unknown).encode()).kind == "ignored"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"{not json", {"body"}),
        (b"[]", {"body"}),
        (json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}).encode(), {"created", "data"}),
    ],
)
def test_malformed_stripe_bodies_name_the_bad_fields(body: bytes, fields: set[str]) -> None:
    with pytest.raises(MalformedEvent) as raised:
        parse_stripe(body)
    assert {e.field for e in raised.value.errors} == fields


def test_a_generic_event_names_every_bad_field() -> None:
    body = {
        "id": "e1",
        "type": "payment.succeeded",
        "amount": "12.345",
        "currency": "EUR",
        "occurred_at": "x",
    }
    with pytest.raises(MalformedEvent) as raised:
        parse_generic(json.dumps(body).encode())
    assert {e.field for e in raised.value.errors} == {"occurred_at"}

    body["occurred_at"] = "2026-11-22T09:00:00Z"
    with pytest.raises(MalformedEvent) as raised:
        parse_generic(json.dumps(body).encode())
    assert {e.field for e in raised.value.errors} == {"invoice_id", "amount"}
