"""Journal entries balance per document; the account mapping is configuration."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from receivables.journal import (
    AccountMappingInvalid,
    account_for,
    credit_note_entry,
    invoice_entry,
    journal_csv,
    merged_accounts,
    payment_entry,
    refund_entry,
    void_entry,
    write_off_entry,
)

INVOICE = {
    "invoice_id": "inv_1",
    "number": "2026-000001",
    "customer_id": "cus_1",
    "currency": "EUR",
    "net": "110.00",
    "tax": "17.30",
    "gross": "127.30",
    "tax_breakdown": [
        {"rate": "19", "net": "80.00", "tax": "15.20"},
        {"rate": "7", "net": "30.00", "tax": "2.10"},
    ],
    "issue_date": "2026-11-02",
    "due_date": "2026-11-16",
}


def _rows(entries: list, accounts: dict | None = None) -> list[dict[str, str]]:
    text = journal_csv(entries, accounts or merged_accounts({}))
    return list(csv.DictReader(io.StringIO(text)))


def test_an_invoice_debits_the_receivable_and_credits_revenue_and_vat_per_rate() -> None:
    entry = invoice_entry("evt_1", "2026-11-02", "2026-11-02T08:00:00.000Z", INVOICE)

    rows = _rows([entry])

    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("1400", "127.30", ""),
        ("8400", "", "80.00"),
        ("1776", "", "15.20"),
        ("8300", "", "30.00"),
        ("1771", "", "2.10"),
    ]
    assert {r["document"] for r in rows} == {"2026-000001"}
    assert {r["currency"] for r in rows} == {"EUR"}


def test_a_breakdown_that_misses_the_gross_by_a_cent_books_the_rounding() -> None:
    entry = invoice_entry("evt_1", "2026-11-02", "t", INVOICE | {"gross": "127.31"})
    assert entry.balance == 0
    assert [ln.role for ln in entry.lines][-1] == "rounding"


def test_payment_with_surplus_and_fee_refund_from_credit_credit_note_and_void_each_balance() -> None:
    payment = payment_entry(
        "evt_2",
        "2026-11-10",
        "t",
        {
            "invoice_id": "inv_1",
            "number": "2026-000001",
            "payment_id": "stripe:pi_1",
            "provider": "stripe",
            "method": "card",
            "currency": "EUR",
            "amount": "150.00",
            "applied": "127.70",
            "fee": "2.40",
        },
    )
    refund = refund_entry(
        "evt_3",
        "2026-11-12",
        "t",
        {"number": "2026-000001", "refund_id": "stripe:re_1", "provider": "stripe", "currency": "EUR"}
        | {"amount": "40.00", "applied": "17.70"},
    )
    note = credit_note_entry(
        "evt_4",
        "2026-11-13",
        "t",
        {
            "number": "GS-2026-000001",
            "invoice_id": "inv_1",
            "invoice_number": "2026-000001",
            "currency": "EUR",
        }
        | {
            "gross": "11.90",
            "applied": "5.00",
            "tax_breakdown": [{"rate": "19", "net": "10.00", "tax": "1.90"}],
        },
    )
    void = void_entry(
        "evt_5", "2026-11-14", "t", {"number": "2026-000002", "currency": "EUR", "amount_voided": "9.99"}
    )

    rows = _rows([payment, refund, note, void])

    by_document: dict[str, Decimal] = {}
    for row in rows:
        change = Decimal(row["debit"] or 0) - Decimal(row["credit"] or 0)
        by_document[row["document"]] = by_document.get(row["document"], Decimal(0)) + change
    assert set(by_document.values()) == {Decimal(0)}
    assert [(r["account"], r["debit"], r["credit"]) for r in rows if r["document"] == "stripe:pi_1"] == [
        ("1360", "147.60", ""),
        ("4970", "2.40", ""),
        ("1400", "", "127.70"),
        ("1710", "", "22.30"),
    ]
    assert [(r["account"], r["debit"], r["credit"]) for r in rows if r["document"] == "stripe:re_1"] == [
        ("1400", "17.70", ""),
        ("1710", "22.30", ""),
        ("1360", "", "40.00"),
    ]
    assert [(r["account"], r["debit"], r["credit"]) for r in rows if r["document"] == "GS-2026-000001"] == [
        ("8400", "10.00", ""),
        ("1776", "1.90", ""),
        ("1400", "", "5.00"),
        ("1710", "", "6.90"),
    ]
    assert [(r["account"], r["debit"], r["credit"]) for r in rows if r["document"] == "2026-000002"] == [
        ("2400", "9.99", ""),
        ("1400", "", "9.99"),
    ]


def test_a_void_reverses_revenue_and_vat_per_rate() -> None:
    breakdown = [{"rate": "19", "net": "20.00", "tax": "3.80"}, {"rate": "7", "net": "10.00", "tax": "0.70"}]
    entry = void_entry(
        "evt_7",
        "2026-11-30",
        "t",
        {"number": "2026-000004", "currency": "EUR", "amount_voided": "34.50", "tax_breakdown": breakdown},
    )

    rows = _rows([entry])

    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("8400", "20.00", ""),
        ("1776", "3.80", ""),
        ("8300", "10.00", ""),
        ("1771", "0.70", ""),
        ("1400", "", "34.50"),
    ]


def test_an_uncollectible_invoice_moves_its_amount_due_to_the_write_off_account() -> None:
    entry = write_off_entry(
        "evt_6",
        "2027-03-01",
        "t",
        {"number": "2026-000003", "currency": "EUR", "amount_written_off": "42.82"},
    )

    rows = _rows([entry])

    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("2400", "42.82", ""),
        ("1400", "", "42.82"),
    ]


def test_the_account_mapping_is_overridden_per_role_and_per_rate() -> None:
    accounts = merged_accounts(
        {"receivable": "10000", "revenue": {"19": "4400", "7.0": "4300"}, "bank": "1800"}
    )

    assert account_for("receivable", accounts) == "10000"
    assert account_for("revenue:19", accounts) == "4400"
    assert account_for("revenue:7", accounts) == "4300"
    assert account_for("revenue:5.5", accounts) == "8200"  # the role's default
    assert account_for("bank:generic", accounts) == "1800"
    assert account_for("bank:stripe", accounts) == "1360"  # other keys of the role keep their default
    assert account_for("vat:19", accounts) == "1776"
    for bad in ({"inventory": "3000"}, {"receivable": 1400}, {"vat": {"19": ""}}):
        with pytest.raises(AccountMappingInvalid):
            merged_accounts(bad)


def test_text_cells_cannot_become_spreadsheet_formulas() -> None:
    entry = void_entry(
        "evt_6", "2026-11-14", "t", {"number": "=HYPERLINK(1)", "currency": "EUR", "amount_voided": "1.00"}
    )
    assert {r["document"] for r in _rows([entry])} == {"'=HYPERLINK(1)"}
