"""§ 367 (1) BGB: a payment settles costs, then interest, then the principal; the rest is credit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.invoicing.ledger import allocate_payment
from receivables.invoicing.model import Invoice

cents = st.integers(min_value=0, max_value=200_000).map(lambda c: Decimal(c).scaleb(-2))


def _invoice(total: Decimal, costs: Decimal, interest: Decimal) -> Invoice:
    return Invoice(
        id="inv_1",
        number="2026-000001",
        currency="EUR",
        customer_id="cus_1",
        status="open",
        total=total,
        amount_due=total,
        late_fees=costs + interest,
        late_interest=interest,
    )


@settings(max_examples=300)
@given(total=cents, costs=cents, interest=cents, amount=cents)
def test_costs_then_interest_then_principal_and_nothing_lost(
    total: Decimal, costs: Decimal, interest: Decimal, amount: Decimal
) -> None:
    allocation = allocate_payment(_invoice(total, costs, interest), amount)

    principal = allocation.principal
    assert allocation.costs + allocation.interest + principal.applied + principal.credit_change == amount
    assert allocation.interest == 0 or allocation.costs == costs  # interest only once costs are settled
    assert principal.applied == 0 or allocation.interest == interest  # principal only after interest
    assert principal.credit_change == 0 or principal.balance.due == 0  # credit only when all is settled


def test_paying_exactly_the_principal_leaves_the_fee_paid_and_that_much_principal_open() -> None:
    allocation = allocate_payment(
        _invoice(Decimal("100.00"), Decimal("5.00"), Decimal("1.20")), Decimal("100.00")
    )

    assert (allocation.costs, allocation.interest, allocation.principal.applied) == (
        Decimal("5.00"),
        Decimal("1.20"),
        Decimal("93.80"),
    )
    assert allocation.principal.balance.due == Decimal("6.20")
