"""Bank entries to invoices (docs/decisions/0030): invoice numbers as people type them, several invoices in
one transfer, amount and payer, and the key that makes each entry exactly-once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.bank.matching import (
    OpenInvoice,
    best_candidates,
    decide,
    entry_key,
    invoice_numbers_in,
    match_by_amount_and_payer,
    same_payer,
    split_amount,
)
from receivables.bank.statement_files import BankEntry

years = st.integers(min_value=2000, max_value=2099)
serials = st.integers(min_value=1, max_value=999_999)
cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
prefixes = st.sampled_from(["", "RE ", "Rg.-Nr. ", "Rechnung Nr.", "Invoice no. ", "KD77-RG", "Re:"])
suffixes = st.sampled_from(["", " / Kd 77", " danke", ", Kunde 4711", " vom 23.11.2026", "."])


def _typed(year: int, serial: int, style: int) -> str:
    return [
        f"{year}-{serial:06d}",
        f"{year}{serial:06d}",
        f"{year}/{serial}",
        f"{year} - {serial:06d}",
        f"{year} {serial:06d}",
        f"{year}-{serial}",
    ][style]


def _entry(amount: Decimal = Decimal("119.00"), text: str = "", **changes: object) -> BankEntry:
    entry = BankEntry(
        account="DE89370400440532013000",
        booking_date=date(2026, 11, 23),
        amount=amount,
        currency="EUR",
        direction="credit",
        bank_reference=None,
        remittance=text,
        counterparty_name="Muster Maschinenbau GmbH",
        counterparty_iban="DE02120300000000202051",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def _invoice(
    n: int, due: Decimal, name: str = "Muster Maschinenbau GmbH", customer: str = "cus_1"
) -> OpenInvoice:
    return OpenInvoice(f"inv_{n}", f"2026-{n:06d}", customer, name, "EUR", due, "open")


# ------------------------------------------------------------------------------------ invoice numbers
@settings(max_examples=200)
@given(years, serials, st.integers(min_value=0, max_value=5), prefixes, suffixes)
def test_an_invoice_number_is_found_however_it_is_typed(
    year: int, serial: int, style: int, prefix: str, suffix: str
) -> None:
    text = f"{prefix}{_typed(year, serial, style)}{suffix}"
    assert f"{year}-{serial:06d}" in invoice_numbers_in(text)


def test_the_issue_examples_and_what_is_not_an_invoice_number() -> None:
    assert invoice_numbers_in("RE 2026-000123") == ["2026-000123"]
    assert invoice_numbers_in("2026000123") == ["2026-000123"]
    assert invoice_numbers_in("Rg.-Nr. 2026-000123 / Kd 77") == ["2026-000123"]
    assert invoice_numbers_in("Rechnungen 2026000125 und 2026-000126, 2026-000125") == [
        "2026-000125",
        "2026-000126",
    ]
    # an IBAN, an amount, a date followed by a customer number: no invoice number
    assert invoice_numbers_in("DE02120300000000202051 EUR 2026,00 vom 23.11.2026 12 Kd 77") == []
    assert invoice_numbers_in("Abschlag Projekt Nord") == []


@settings(max_examples=100)
@given(st.text(alphabet=st.characters(categories=["L", "Zs", "P"]), max_size=80))
def test_text_without_digits_names_no_invoice(text: str) -> None:
    assert invoice_numbers_in(text) == []


# ------------------------------------------------------------------------- several invoices, one transfer
@settings(max_examples=300)
@given(cents, st.lists(cents, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_a_transfer_is_split_in_number_order_and_nothing_is_lost(
    amount: Decimal, dues: list[Decimal], shuffle: object
) -> None:
    invoices = [_invoice(n + 1, due) for n, due in enumerate(dues)]
    typed_order = list(invoices)
    shuffle.shuffle(typed_order)  # type: ignore[attr-defined]
    parts = split_amount(amount, typed_order)
    assert sum(p.amount for p in parts) == amount
    assert [p.number for p in parts] == sorted(p.number for p in parts)
    assert all(p.amount > 0 for p in parts)
    by_id = {i.id: i for i in invoices}
    last = max(invoices, key=lambda i: i.number)
    for part in parts:
        if part.invoice_id != last.id:  # all but the last get at most what they ask for
            assert part.amount <= by_id[part.invoice_id].amount_due
    if amount >= sum(dues):  # enough for everything: each earlier one exactly its due, the rest to the last
        assert [p.amount for p in parts if p.invoice_id != last.id] == [i.amount_due for i in invoices[:-1]]


def test_a_transfer_for_two_invoices_pays_both_and_an_overpayment_goes_to_the_last() -> None:
    first, second = _invoice(1, Decimal("100.00")), _invoice(2, Decimal("50.00"))
    match = decide(
        _entry(Decimal("160.00"), "RE 2026-000002 + 2026-000001"), [second, first], [], frozenset()
    )
    assert match.how == "reference"
    assert [(p.invoice_id, p.amount) for p in match.parts] == [
        ("inv_1", Decimal("100.00")),
        ("inv_2", Decimal("60.00")),
    ]
    partial = decide(_entry(Decimal("80.00"), "2026-000001 2026-000002"), [first, second], [], frozenset())
    assert [(p.invoice_id, p.amount) for p in partial.parts] == [("inv_1", Decimal("80.00"))]


def test_a_reference_typed_as_printed_is_more_certain_than_one_typed_loosely() -> None:
    invoice = _invoice(123, Decimal("119.00"))
    assert decide(_entry(text="RE 2026-000123"), [invoice], [], frozenset()).confidence == Decimal("1.00")
    assert decide(_entry(text="2026000123"), [invoice], [], frozenset()).confidence == Decimal("0.90")


# ------------------------------------------------------------------------------------ amount and payer
@settings(max_examples=200)
@given(cents, st.integers(min_value=0, max_value=4), st.integers(min_value=0, max_value=4))
def test_amount_and_payer_matches_only_when_exactly_one_open_invoice_fits(
    amount: Decimal, fitting: int, others: int
) -> None:
    invoices = [_invoice(n, amount) for n in range(fitting)]
    invoices += [
        _invoice(100 + n, amount, name="Weber Logistik GmbH", customer="cus_2") for n in range(others)
    ]
    invoices += [_invoice(200, amount + Decimal("0.01"))]  # the payer's, but another amount
    found = match_by_amount_and_payer(_entry(amount), invoices, frozenset())
    assert (found is not None) == (fitting == 1)
    if found is not None:
        assert (found.amount_due, found.customer_name) == (amount, "Muster Maschinenbau GmbH")


def test_a_known_iban_matches_whatever_name_the_bank_shows() -> None:
    invoice = _invoice(7, Decimal("119.00"), name="MM Maschinen", customer="cus_9")
    entry = _entry(counterparty_name="M. MASCHINENBAU")
    assert match_by_amount_and_payer(entry, [invoice], frozenset()) is None
    match = decide(entry, [], [invoice], frozenset({"cus_9"}))
    assert (match.how, match.parts[0].invoice_id) == ("amount_and_payer", "inv_7")


def test_payer_names_compare_without_case_accents_and_legal_forms() -> None:
    assert same_payer("MUELLER + SOEHNE GMBH, BERLIN", "Müller & Söhne GmbH")  # banks spell umlauts out
    assert same_payer("Société Générale", "SOCIETE GENERALE SA")
    assert same_payer("ANNA SCHMIDT", "Anna Schmidt GmbH")
    assert not same_payer("Nordlicht Design UG", "Anna Schmidt GmbH")
    assert not same_payer(None, "Anna Schmidt GmbH")


def test_an_unmatched_credit_names_the_best_candidates_first() -> None:
    exact_payer = _invoice(3, Decimal("119.00"))
    same_amount = _invoice(1, Decimal("119.00"), name="Weber Logistik GmbH", customer="cus_2")
    unrelated = _invoice(2, Decimal("5.00"), name="Weber Logistik GmbH", customer="cus_2")
    entry = _entry(counterparty_name="Muster Maschinenbau GmbH Werk 2")
    assert best_candidates(entry, [unrelated, same_amount, exact_payer], frozenset()) == (
        exact_payer,
        same_amount,
    )
    match = decide(_entry(counterparty_name="Unbekannt"), [], [unrelated, same_amount], frozenset())
    assert (match.how, match.parts, match.candidates) == ("none", (), (same_amount,))
    assert "candidates: 2026-000001" in match.reason


def test_a_debit_is_never_applied() -> None:
    invoice = _invoice(1, Decimal("119.00"))
    match = decide(_entry(text="2026-000001", direction="debit"), [invoice], [invoice], frozenset())
    assert (match.how, match.parts) == ("none", ())


# ---------------------------------------------------------------------------------------- exactly once
@settings(max_examples=50)
@given(cents, st.text(max_size=60), st.lists(st.sampled_from([" ", "\n", "  "]), max_size=5))
def test_an_entry_without_the_banks_reference_is_keyed_by_what_identifies_the_booking(
    amount: Decimal, text: str, breaks: list[str]
) -> None:
    entry = _entry(amount, text)
    wrapped = "".join(
        text[i : i + 27] + (breaks[i // 27] if i // 27 < len(breaks) else "") for i in range(0, len(text), 27)
    )
    assert entry_key(entry) == entry_key(replace(entry, remittance=wrapped))  # MT940 wraps at 27
    assert entry_key(entry).startswith("sum-")
    assert entry_key(entry) != entry_key(replace(entry, amount=amount + Decimal("0.01")))
    assert entry_key(entry) != entry_key(replace(entry, booking_date=date(2026, 11, 24)))
    assert entry_key(entry) != entry_key(replace(entry, direction="debit"))


def test_the_banks_reference_keys_an_entry_whatever_else_the_format_says() -> None:
    camt = _entry(text="RE 2026-000123", bank_reference="2026112300012345")
    mt940 = replace(camt, remittance="SVWZ+RE 2026-000123", counterparty_name="MUSTER MASCHINENBAU")
    assert entry_key(camt) == entry_key(mt940)
    assert entry_key(camt) != entry_key(replace(camt, account="DE02120300000000202051"))
    assert entry_key(camt).startswith("ref-")
