"""Allocating unapplied money or customer credit to invoices: what is refused, and how it is booked
(issue #12, defect 9; docs/decisions/0023-invoice-ledger.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from receivables.allocations import AllocationLine, checked_parts
from receivables.errors import InvalidRequest
from receivables.invoicing.model import Invoice
from receivables.journal import payment_entry
from receivables.unapplied import UnappliedMoney


def _money(remaining: str, currency: str = "EUR", customer_id: str | None = None) -> UnappliedMoney:
    return UnappliedMoney(
        id=f"credit-{customer_id}-{currency}" if customer_id else "generic:evt_1",
        source="customer_credit" if customer_id else "unapplied_payment",
        key={"pk": "UNAPPLIED#generic#evt_1", "sk": "UNAPPLIED"},
        currency=currency,
        remaining=Decimal(remaining),
        received_at="2026-11-22T09:00:00.000Z",
        provider="generic",
        method="bank_transfer",
        customer_id=customer_id,
    )


def _invoice(
    invoice_id: str, due: str, currency: str = "EUR", fees: str = "0", status: str = "open"
) -> Invoice:
    return Invoice(
        id=invoice_id,
        number=f"2026-{invoice_id[-6:]}",
        currency=currency,
        customer_id="cus_1",
        status=status,
        total=Decimal(due),
        amount_due=Decimal(due),
        late_fees=Decimal(fees),
    )


def _lines(*pairs: tuple[str, str]) -> list[AllocationLine]:
    return [AllocationLine(invoice_id=invoice_id, amount=amount) for invoice_id, amount in pairs]


def _refused(
    money: UnappliedMoney, lines: list[AllocationLine], invoices: dict[str, Invoice | None]
) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        checked_parts(money, lines, invoices)
    return {error.field: error.message for error in refused.value.errors}


def test_an_allocation_within_the_money_and_each_amount_due_is_split_as_asked() -> None:
    invoices: dict[str, Invoice | None] = {
        "inv_000001": _invoice("inv_000001", "60.00"),
        "inv_000002": _invoice("inv_000002", "40.00", fees="5.00"),
    }

    parts = checked_parts(
        _money("105.00"), _lines(("inv_000001", "60.00"), ("inv_000002", "45.00")), invoices
    )

    assert [(p.invoice.id, p.amount) for p in parts] == [
        ("inv_000001", Decimal("60.00")),
        ("inv_000002", Decimal("45.00")),  # the reminder fee is owed too (account_amount_due)
    ]


def test_every_bad_allocation_is_named_by_its_field() -> None:
    invoices: dict[str, Invoice | None] = {
        "inv_000001": _invoice("inv_000001", "60.00"),
        "inv_000002": _invoice("inv_000002", "40.00"),
        "inv_000003": _invoice("inv_000003", "40.00", currency="USD"),
        "inv_000004": _invoice("inv_000004", "10.00", status="void"),
        "inv_000005": _invoice("inv_000005", "90.00"),
    }
    lines = _lines(
        ("inv_000001", "60.01"),  # more than due
        ("inv_000002", "0"),  # not positive
        ("inv_000003", "10.00"),  # another currency
        ("inv_000004", "10.00"),  # nothing due
        ("nope", "1.00"),  # unknown
        ("inv_000002", "1.001"),  # too many decimals, and listed twice
        ("inv_000005", "50.00"),
        ("inv_000001", "60.00"),  # listed twice
    )

    errors = _refused(_money("100.00"), lines, invoices)

    assert set(errors) == {
        "allocations[0].amount",
        "allocations[1].amount",
        "allocations[2].invoice_id",
        "allocations[3].invoice_id",
        "allocations[4].invoice_id",
        "allocations[5].amount",
        "allocations[5].invoice_id",
        "allocations[7].invoice_id",
    }
    assert "60.00" in errors["allocations[0].amount"]


def test_allocations_adding_up_to_more_than_is_unapplied_name_the_one_that_overflows() -> None:
    invoices: dict[str, Invoice | None] = {
        "inv_000001": _invoice("inv_000001", "60.00"),
        "inv_000002": _invoice("inv_000002", "60.00"),
    }

    errors = _refused(_money("100.00"), _lines(("inv_000001", "60.00"), ("inv_000002", "40.01")), invoices)

    assert list(errors) == ["allocations[1].amount"]
    assert "100.00 EUR unapplied" in errors["allocations[1].amount"]


def test_customer_credit_pays_only_that_customers_invoices() -> None:
    other = Invoice(
        id="inv_000009", number="2026-000009", currency="EUR", customer_id="cus_2", status="open",
        total=Decimal("10.00"), amount_due=Decimal("10.00"),
    )  # fmt: skip

    errors = _refused(
        _money("50.00", customer_id="cus_1"), _lines(("inv_000009", "10.00")), {"inv_000009": other}
    )

    assert list(errors) == ["allocations[0].invoice_id"]


def test_jpy_money_takes_no_minor_digits() -> None:
    invoices: dict[str, Invoice | None] = {"inv_000001": _invoice("inv_000001", "1200", currency="JPY")}

    assert _refused(_money("5000", currency="JPY"), _lines(("inv_000001", "10.5")), invoices) == {
        "allocations[0].amount": "Input should be a positive amount with ≤ 0 decimals"
    }


def test_credit_put_on_an_invoice_moves_customer_credit_to_the_receivable_and_no_cash() -> None:
    data = {
        "invoice_id": "inv_1",
        "number": "2026-000002",
        "payment_id": "customer_credit:alloc_1-0",
        "provider": "customer_credit",
        "method": "customer_credit",
        "currency": "EUR",
        "amount": "25.00",
        "applied": "20.00",
        "fees_applied": "5.00",
        "source": "customer_credit",
    }

    entry = payment_entry("evt_9", "2026-11-22", "t", data)

    assert entry.balance == 0
    assert [(ln.role, ln.debit, ln.credit) for ln in entry.lines] == [
        ("customer_credit", Decimal("25.00"), Decimal(0)),
        ("fee_income", Decimal(0), Decimal("5.00")),
        ("receivable", Decimal(0), Decimal("20.00")),
    ]
