"""The DATEV Buchungsstapel (EXTF 700): header, columns, encoding, amounts, accounts, and that the file
books exactly what the journal does (docs/decisions/0031-datev-export.md)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables import datev, datev_export, journal, money
from receivables.errors import InvalidRequest
from receivables.journal import JournalEntry

DAY = "2026-11-05"


def _header(chart: datev.Chart = "SKR03", title: str = "Müller GmbH") -> datev.BatchHeader:
    return datev.BatchHeader(
        consultant_number=1234567,
        client_number=4711,
        fiscal_year_start=date(2026, 1, 1),
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        chart=chart,
        currency="EUR",
        created_at=datetime(2026, 12, 1, 3, 0, 5, 123000, tzinfo=UTC),
        title=title,
    )


def _invoice(number: str, customer: str, *taxes: tuple[str, str, str, str]) -> JournalEntry:
    breakdown = [{"rate": r, "net": n, "tax": t, "category": c} for r, n, t, c in taxes]
    gross = sum((Decimal(n) + Decimal(t) for _, n, t, _ in taxes), Decimal(0))
    data = {"gross": str(gross), "number": number, "currency": "EUR", "customer_id": customer}
    return journal.invoice_entry(f"e-{number}", DAY, f"{DAY}T09:00:00Z", data | {"tax_breakdown": breakdown})


def _read(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("cp1252"), newline=""), delimiter=";"))


def _entries() -> list[JournalEntry]:
    """An invoice at two rates, paid with a provider fee and an overpayment; a credit note beyond the
    amount due; a reverse-charge invoice; a refund; a write-off and a payment recovering it; a void."""
    common = {"currency": "EUR", "customer_id": "cus_a"}
    return [
        _invoice("2026-000001", "cus_a", ("19", "100.00", "19.00", "S"), ("7", "50.00", "3.50", "S")),
        journal.payment_entry(
            "e-pay",
            DAY,
            "x",
            common
            | {"amount": "180.00", "applied": "172.50", "fee": "2.90", "payment_id": "pay_1"}
            | {"number": "2026-000001", "provider": "stripe", "method": "card"},
        ),
        journal.credit_note_entry(
            "e-cn",
            DAY,
            "x",
            common
            | {"gross": "23.80", "applied": "10.00", "number": "2026-K-000001", "invoice_id": "inv_1"}
            | {"tax_breakdown": [{"rate": "19", "net": "20.00", "tax": "3.80"}]},
        ),
        _invoice("2026-000002", "cus_b", ("0", "500.00", "0.00", "AE")),
        journal.refund_entry(
            "e-ref",
            DAY,
            "x",
            common
            | {"amount": "20.00", "applied": "0", "refund_id": "re_1", "number": "2026-000001"}
            | {"provider": "stripe"},
        ),
        journal.write_off_entry(
            "e-wo",
            DAY,
            "x",
            {"currency": "EUR", "customer_id": "cus_c", "amount_written_off": "59.50"}
            | {"number": "2026-000003", "tax_breakdown": [{"rate": "19", "net": "50.00", "tax": "9.50"}]},
        ),
        journal.payment_entry(
            "e-rec",
            DAY,
            "x",
            {"currency": "EUR", "customer_id": "cus_c", "amount": "59.50", "applied": "59.50"}
            | {"recovered": "59.50", "payment_id": "pay_2", "number": "2026-000003", "provider": "bank"}
            | {"recovered_tax_breakdown": [{"rate": "19", "net": "50.00", "tax": "9.50"}]},
        ),
        journal.void_entry(
            "e-void",
            DAY,
            "x",
            {"currency": "EUR", "customer_id": "cus_d", "amount_voided": "10.70", "number": "2026-000004"}
            | {"tax_breakdown": [{"rate": "7", "net": "10.00", "tax": "0.70"}]},
        ),
    ]


DEBITORS = {"cus_a": "10000", "cus_b": "10001", "cus_c": "10002", "cus_d": "10003"}


def test_the_header_line_names_the_batch_as_datev_expects() -> None:
    header, columns, *_ = _read(datev.buchungsstapel(_header(), [], {}))

    assert len(header) == 31
    assert header[:6] == ["EXTF", "700", "21", "Buchungsstapel", "13", "20261201030005123"]
    assert header[10:17] == ["1234567", "4711", "20260101", "4", "20261101", "20261130", "Müller GmbH"]
    assert (header[18], header[20], header[21], header[26]) == ("1", "0", "EUR", "03")
    assert columns == list(datev.COLUMNS)
    assert columns[6:10] == ["Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum"]


def test_the_file_is_windows_1252_with_crlf_quoted_text_and_bare_numbers() -> None:
    body = datev.buchungsstapel(
        _header(), [_invoice("2026-000001", "cus_a", ("19", "1037.00", "197.03", "S"))], DEBITORS
    )

    assert b'"M\xfcller GmbH"' in body  # ü is one byte in Windows-1252
    assert "Müller".encode() not in body  # not UTF-8
    assert body.count(b"\r\n") == 3
    assert b"\n" not in body.replace(b"\r\n", b"")
    row = body.split(b"\r\n")[2]
    assert row.startswith(b'1234,03;"S";"EUR";;;;10000;8400;;0511;"2026-000001";;;"Rechnung 2026-000001"')


def test_a_name_outside_windows_1252_does_not_fail_the_batch() -> None:
    body = datev.buchungsstapel(_header(title="Łódź 株式会社"), [], {})

    assert _read(body)[0][16] == "?ód? ????"


@pytest.mark.parametrize(
    ("chart", "revenue", "bank", "code"), [("SKR03", "8400", "1360", "03"), ("SKR04", "4400", "1460", "04")]
)
def test_the_chart_of_accounts_picks_the_accounts(
    chart: datev.Chart, revenue: str, bank: str, code: str
) -> None:
    rows = _read(datev.buchungsstapel(_header(chart), _entries()[:2], DEBITORS))

    assert rows[0][26] == code
    assert ["10000", revenue] in [r[6:8] for r in rows[2:]]
    assert ["10000", bank] in [r[6:8] for r in rows[2:]]


def test_categories_map_to_revenue_accounts_and_write_offs_carry_a_bu_key() -> None:
    rows = _read(datev.buchungsstapel(_header(), _entries(), DEBITORS))[2:]
    by_document = defaultdict(list)
    for row in rows:
        by_document[row[10]].append((row[0], row[1], row[6], row[7], row[8]))

    assert by_document["2026-000001"][:2] == [
        ("119,00", "S", "10000", "8400", ""),
        ("53,50", "S", "10000", "8300", ""),
    ]
    assert by_document["2026-000002"] == [("500,00", "S", "10001", "8336", "")]  # reverse charge (AE)
    assert ("59,50", "H", "10002", "2400", "3") in by_document["2026-000003"]  # § 17 UStG, 19 %
    assert ("59,50", "S", "1200", "2400", "3") in by_document["2026-000003"]  # recovered: VAT owed again
    assert by_document["2026-000004"] == [("10,70", "H", "10003", "8300", "")]  # the void reverses 7 %
    assert by_document["2026-K-000001"] == [
        ("10,00", "H", "10000", "8400", ""),
        ("13,80", "H", "1710", "8400", ""),
    ]


def _expand(rows: Sequence[Sequence[str]], debitors: set[str]) -> dict[str, Decimal]:
    """What DATEV books from the rows, per account (debit positive): the automatic accounts and BU keys
    split their gross into net and the VAT DATEV derives - an independent reading of the file."""
    automatic = {"8400": "19", "8300": "7"}
    vat_account = {"19": "1776", "7": "1771"}
    keys = {"3": "19", "2": "7"}
    booked: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        amount = Decimal(row[0].replace(",", "."))
        sign = 1 if row[1] == "S" else -1
        account, contra, key = row[6], row[7], row[8]
        booked["receivable" if account in debitors else account] += sign * amount
        rate = keys.get(key) or automatic.get(contra)
        tax = money.quantize(amount * Decimal(rate) / (100 + Decimal(rate)), "EUR") if rate else Decimal(0)
        booked[contra] -= sign * (amount - tax)
        if rate:
            booked[vat_account[rate]] -= sign * tax
    return booked


def test_the_rows_book_exactly_what_the_journal_books() -> None:
    entries = _entries()
    rows = _read(datev.buchungsstapel(_header(), entries, DEBITORS))[2:]

    expected: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for line in entry.lines:
            role = line.role
            account = (
                "receivable" if role == "receivable" else journal.account_for(role, journal.DEFAULT_ACCOUNTS)
            )
            if role.startswith("revenue:"):  # the DATEV chart splits revenue by category, not only rate
                account = {"revenue:19": "8400", "revenue:7": "8300", "revenue:0": "8336"}[role]
            expected[account] += line.debit - line.credit
    booked = _expand(rows, set(DEBITORS.values()))
    total = sum((Decimal(r[0].replace(",", ".")) for r in rows), Decimal(0))

    assert {a: v for a, v in booked.items() if v} == {a: v for a, v in expected.items() if v}
    assert total == sum((line.debit for e in entries for line in e.lines), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(
    net=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
    rate=st.sampled_from(["19", "7"]),
)
def test_datev_derives_the_stored_vat_from_the_gross(net: Decimal, rate: str) -> None:
    # A tax computed on the net per category is what DATEV computes back from the gross: folding holds.
    tax = money.quantize(net * Decimal(rate) / 100, "EUR")

    assert datev.vat_in_gross(net + tax, rate, "EUR") == tax


def test_a_vat_datev_would_derive_differently_is_booked_separately() -> None:
    odd = _invoice("2026-000009", "cus_a", ("19", "100.00", "19.01", "S"))  # not net x 19 %

    rows = _read(datev.buchungsstapel(_header(), [odd], DEBITORS))[2:]

    assert [(r[0], r[7], r[8]) for r in rows] == [("100,00", "8200", ""), ("19,01", "1776", "")]


def test_entries_without_a_customer_or_category_fall_back() -> None:
    entry = journal.invoice_entry(
        "e-old",
        DAY,
        "x",
        {"gross": "100.00", "number": "2025-000001", "currency": "EUR"}
        | {"tax_breakdown": [{"rate": "0", "net": "100.00", "tax": "0.00"}]},
    )

    rows = _read(datev.buchungsstapel(_header(), [entry], {}))[2:]

    assert [(r[6], r[7]) for r in rows] == [(datev.UNKNOWN_DEBITOR, "8200")]  # Z: no category, rate 0


def test_the_document_field_keeps_what_datev_allows() -> None:
    assert datev.document_field("RE 2026_000123 / Kd.77") == "RE2026000123/Kd77"
    assert len(datev.document_field("x" * 50)) == 36


@pytest.mark.parametrize(
    ("day", "first_month", "start"),
    [("2026-11-05", 1, "2026-01-01"), ("2026-03-31", 4, "2025-04-01"), ("2026-04-01", 4, "2026-04-01")],
)
def test_the_fiscal_year_begins_in_the_profiles_month(day: str, first_month: int, start: str) -> None:
    assert datev.fiscal_year_start(date.fromisoformat(day), first_month) == date.fromisoformat(start)


def test_a_batch_stays_within_one_fiscal_year() -> None:
    with pytest.raises(InvalidRequest) as raised:
        datev_export.check_period(date(2026, 12, 1), date(2027, 1, 31), 1)

    assert [e.field for e in raised.value.errors] == ["to"]
    datev_export.check_period(date(2026, 4, 1), date(2027, 3, 31), 4)


def test_the_previous_month_of_the_first() -> None:
    assert datev_export.previous_month(date(2027, 1, 1)) == (date(2026, 12, 1), date(2026, 12, 31))
