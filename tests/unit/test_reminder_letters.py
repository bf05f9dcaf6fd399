"""The reminder letter (Mahnung): which reminders carry one, what it claims on which basis, and that it
adds up (§§ 286, 288 BGB; docs/decisions/0029-document-titles-and-reminder-letters.md)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from receivables import dunning
from receivables.dunning import DunningPolicy, ReminderStep
from receivables.reminder_letters import letter_filename, reminder_letter
from receivables.rendering.reminder_letter_pdf import render_reminder_letter_pdf
from receivables.rendering.samples import SAMPLE_SELLER

TODAY = date(2026, 12, 1)
FEE_STEP = ReminderStep(
    name="reminder_2",
    offset_days=7,
    template="reminder",
    late_fee_fixed=Decimal("5"),
    late_fee_percent=Decimal("2"),
    interest=True,
    lump_sum=True,
)


def _invoice(locale: str, vat_id: str | None = "DE136695976", amount_due: str = "100.00") -> dict[str, Any]:
    return {
        "number": "2026-000042",
        "issue_date": "2026-10-18",
        "due_date": "2026-11-01",
        "currency": "EUR",
        "amount_due": Decimal(amount_due),
        "totals": {"gross": Decimal("119.00")},
        "customer": {
            "name": "Anna Schmidt GmbH",
            "locale": locale,
            "vat_id": vat_id,
            "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        },
    }


def _charges(invoice: dict[str, Any], step: ReminderStep = FEE_STEP) -> tuple[Any, ...]:
    """What reminders.send_reminder computes for the step: (fee, lump sum, interest) and the basis."""
    business = bool(invoice["customer"]["vat_id"])
    basis = dunning.interest_basis(dunning.DEFAULT_INTEREST_RATE_PERCENT_PER_YEAR, business)
    due, amount = date.fromisoformat(invoice["due_date"]), invoice["amount_due"]
    interest = (
        dunning.statutory_interest(amount, "EUR", due, TODAY, basis.rate_percent) if step.interest else 0
    )
    fee, lump = dunning.late_fee(step, amount, "EUR"), dunning.lump_sum(step, business, "EUR", amount)
    return (fee, lump, Decimal(interest)), basis


def _text(pdf: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    return " ".join(out.decode().replace("\xa0", " ").replace("\u202f", " ").split())


def test_a_business_owes_base_plus_9_points_and_the_lump_sum_a_consumer_base_plus_5_and_no_lump_sum() -> None:
    business = dunning.interest_basis(Decimal("10.27"), business=True)
    consumer = dunning.interest_basis(Decimal("10.27"), business=False)

    assert (business.rate_percent, business.base_rate_percent, business.points) == (
        Decimal("10.27"),
        Decimal("1.27"),
        9,
    )
    assert (consumer.rate_percent, consumer.points) == (Decimal("6.27"), 5)
    assert dunning.lump_sum(FEE_STEP, True, "EUR", Decimal("100")) == Decimal("40.00")
    assert dunning.lump_sum(FEE_STEP, False, "EUR", Decimal("100")) == 0
    assert dunning.lump_sum(FEE_STEP, True, "USD", Decimal("100")) == 0  # § 288 (5) names euros
    assert dunning.lump_sum(FEE_STEP, True, "EUR", Decimal(0)) == 0


def test_the_lump_sum_is_claimed_by_one_step_at_most() -> None:
    second = FEE_STEP.model_copy(update={"name": "reminder_3", "offset_days": 14})
    with pytest.raises(ValidationError, match="lump sum"):
        DunningPolicy(steps=(FEE_STEP, second))


def test_a_reminder_that_charges_nothing_has_no_letter() -> None:
    invoice = _invoice("de")
    plain = ReminderStep(name="reminder_1", offset_days=1, template="reminder")
    (charges, basis) = _charges(invoice, plain)

    assert reminder_letter(invoice, SAMPLE_SELLER, plain, charges, basis, Decimal(0), TODAY) is None


@settings(max_examples=40, deadline=None)
@given(
    amount_due=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
    fees_before=st.decimals(min_value=Decimal(0), max_value=Decimal("500"), places=2),
    business=st.booleans(),
)
def test_the_new_total_is_what_is_open_plus_every_claim(
    amount_due: Decimal, fees_before: Decimal, business: bool
) -> None:
    invoice = _invoice("en", "DE136695976" if business else None, str(amount_due))
    charges, basis = _charges(invoice)

    letter = reminder_letter(invoice, SAMPLE_SELLER, FEE_STEP, charges, basis, fees_before, TODAY)

    assert letter is not None
    assert letter.new_total == amount_due + fees_before + sum(charges)
    kinds = [fee.kind for fee in letter.fees]
    assert kinds == (["reminder_fee", "lump_sum"] if business else ["reminder_fee"])
    if charges[2] == 0:  # a few cents for a month round to no interest, and the letter claims none
        assert letter.interest is None
    else:
        assert letter.interest is not None
        assert (letter.interest.days, letter.interest.principal) == (30, amount_due)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "de",
            [
                "Mahnung 2026-000042",
                "Offener Betrag der Rechnung 2026-000042 vom 18.10.2026 100,00 €",
                "Offene Mahngebühren und Zinsen aus früheren Mahnungen 2,50 €",
                "Mahngebühr (pauschal 5,00 € + 2 % von 100,00 €) 7,00 €",
                "Verzugspauschale nach § 288 Abs. 5 BGB 40,00 €",
                # the amount sits on the basis's first line, the basis wraps under it
                "Verzugszinsen: 10,27 % p. a. (1,27 % Basiszinssatz + 9 Prozentpunkte, § 288 Abs. 2 0,84 €",
                "BGB) auf 100,00 € für 30 Tage vom 02.11.2026 bis 01.12.2026",
                "Neuer Gesamtbetrag 150,34 €",
                "bis zum 11.12.2026",
                "(§ 286 BGB)",
            ],
        ),
        (
            "en",
            [
                "Payment reminder 2026-000042",
                "Amount open on invoice 2026-000042 dated 18 October 2026 €100.00",
                "Reminder fee (flat €5.00 + 2% of €100.00) €7.00",
                "Flat-rate default charge (§ 288 (5) BGB) €40.00",
                "Default interest: 10.27% a year (1.27% base rate + 9 percentage points, § 288 (2) €0.84",
                "BGB) on €100.00 for 30 days from 2 November 2026 to 1 December 2026",
                "New total €150.34",
                "by 11 December 2026",
            ],
        ),
    ],
)
def test_the_letter_lists_the_invoice_each_claim_with_its_basis_the_new_total_and_the_deadline(
    locale: str, expected: list[str]
) -> None:
    invoice = _invoice(locale)
    charges, basis = _charges(invoice)
    letter = reminder_letter(invoice, SAMPLE_SELLER, FEE_STEP, charges, basis, Decimal("2.50"), TODAY)
    assert letter is not None

    pdf = render_reminder_letter_pdf(letter)

    shown = _text(pdf)
    for words in expected:
        assert words in shown, words
    assert render_reminder_letter_pdf(letter) == pdf  # the same step's retry attaches the same letter
    assert letter_filename(letter, "reminder_2") == (
        "Mahnung-2026-000042-reminder_2.pdf" if locale == "de" else "Reminder-2026-000042-reminder_2.pdf"
    )


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_a_consumers_letter_states_5_points_and_a_name_in_another_script_is_drawn() -> None:
    invoice = _invoice("de", vat_id=None)
    invoice["customer"]["name"] = "山田太郎"
    charges, basis = _charges(invoice)
    letter = reminder_letter(invoice, SAMPLE_SELLER, FEE_STEP, charges, basis, Decimal(0), TODAY)
    assert letter is not None

    shown = _text(render_reminder_letter_pdf(letter))

    assert "6,27 % p. a. (1,27 % Basiszinssatz + 5 Prozentpunkte, § 288 Abs. 1" in shown
    assert "Verzugspauschale" not in shown
    assert "山田太郎" in shown
