"""Reminder and plan wording: every policy template speaks both languages; instalments add up exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables import money
from receivables.dunning import default_policy
from receivables.escalation import PLAN_INSTALMENTS, propose_instalments
from receivables.rendering.emails import InstalmentFigures, render_reminder
from receivables.rendering.samples import sample_invoice_document

TEMPLATES = sorted({step.template for step in default_policy().steps} | {"endless_reminder"})


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_each_reminder_template_renders_in_both_languages_with_fees(template: str, locale: str) -> None:
    document = sample_invoice_document(3, locale)  # type: ignore[arg-type]

    email = render_reminder(
        document,
        template,
        "https://pay.example/i/t",
        "https://pay.example/i/t/pdf",
        Decimal("5"),
        Decimal("7.5"),
    )

    assert document.number in email.subject
    assert "https://pay.example/i/t#pay" in email.text
    text = email.text.replace("\xa0", " ")  # Babel puts a no-break space before the euro sign
    assert ("720,79 €" if locale == "de" else "€720.79") in text  # 713.29 due + 7.50 fees
    assert "{" not in email.text + email.html  # no unfilled placeholder


@pytest.mark.parametrize(
    ("locale", "named", "amount", "due", "paid"),
    [
        ("de", "Rate 2 von 3", "33,33 €", "31.03.2027", "33,34 €"),
        ("en", "Instalment 2 of 3", "€33.33", "31 March 2027", "€33.34"),
    ],
)
@pytest.mark.parametrize("template", ["instalment_notice", "instalment_reminder"])
def test_a_plan_reminder_names_its_instalment_its_amount_due_date_and_what_was_paid(
    template: str, locale: str, named: str, amount: str, due: str, paid: str
) -> None:
    document = sample_invoice_document(3, locale)  # type: ignore[arg-type]
    instalment = InstalmentFigures(
        number=2,
        of=3,
        amount=Decimal("33.33"),
        open_amount=Decimal("33.33"),
        due_date=date(2027, 3, 31),
        paid_on_plan=Decimal("33.34"),
    )

    email = render_reminder(
        document,
        template,
        "https://pay.example/i/t",
        "https://pay.example/i/t/pdf",
        Decimal(0),
        Decimal(0),
        instalment=instalment,
    )

    assert named.lower() in email.subject.lower()
    assert document.number in email.subject
    for shown in (email.text.replace("\xa0", " "), email.html.replace("\xa0", " ").replace("&nbsp;", " ")):
        assert all(figure in shown for figure in (named, amount, due, paid)), shown
    assert "{" not in email.text + email.html


@given(
    minor=st.integers(min_value=PLAN_INSTALMENTS, max_value=10**9),
    currency=st.sampled_from(["EUR", "JPY", "BHD"]),
)
def test_instalments_add_up_to_the_amount_due_in_the_currencys_digits(minor: int, currency: str) -> None:
    amount_due = money.from_minor_units(minor, currency)

    plan = propose_instalments(amount_due, currency, date(2027, 1, 1))

    amounts = [plan_item["amount"] for plan_item in plan]
    assert sum(amounts) == amount_due
    assert all(a == money.quantize(a, currency) and a > 0 for a in amounts)
    assert max(amounts) - min(amounts) <= money.from_minor_units(PLAN_INSTALMENTS, currency)
    assert [p["due_date"] for p in plan] == ["2027-01-01", "2027-01-31", "2027-03-02"]
