"""Receipts, payment confirmations and credit note emails: what each payment did, in both languages;
the hosted page's sums take the total to what is left to pay."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from receivables.hosted_account import CreditNoteEntry, InvoiceAccount
from receivables.payment_receipts import PaymentReceipt
from receivables.rendering.emails import render_credit_note_email, render_payment_email
from receivables.rendering.hosted_page import account_rows, render_hosted_invoice
from receivables.rendering.samples import sample_invoice_document

LINK = "https://pay.example/i/t"
# 30.00 received: 5.00 reminder fees, 1.20 interest, 23.80 of the invoice; 19.02 left (§ 367 (1) BGB)
PART_PAYMENT = {
    "amount": "30.00",
    "fees_applied": "5.00",
    "interest_applied": "1.20",
    "applied": "23.80",
    "account_amount_due": "19.02",
}


def _payment(**data: str) -> PaymentReceipt:
    base = {"currency": "EUR", "amount": "0.00", "applied": "0.00", "occurred_at": "2026-11-25T08:00:00.000Z"}
    return PaymentReceipt.of(base | data)


def test_a_part_payment_is_a_receipt_naming_what_is_left_and_what_it_settled() -> None:
    receipt = _payment(**PART_PAYMENT)

    assert (receipt.kind, receipt.remaining, receipt.credit) == ("receipt", Decimal("19.02"), Decimal(0))
    assert (receipt.fees, receipt.interest) == (Decimal(5), Decimal("1.2"))
    assert receipt.principal == Decimal("23.8")


def test_an_overpayment_is_a_confirmation_with_the_credit_kept() -> None:
    receipt = _payment(amount="50.00", applied="42.82", account_amount_due="0.00")

    assert (receipt.kind, receipt.credit, receipt.remaining) == ("confirmation", Decimal("7.18"), Decimal(0))


def test_an_event_from_before_the_fee_fields_reads_its_amount_due() -> None:
    receipt = _payment(amount="20.00", applied="20.00", amount_due="22.82")

    assert (receipt.kind, receipt.remaining, receipt.fees) == ("receipt", Decimal("22.82"), Decimal(0))


@pytest.mark.parametrize(
    ("locale", "received", "left", "subject"),
    [
        ("de", "30,00 €", "19,02 €", "Teilzahlung erhalten"),
        ("en", "€30.00", "€19.02", "Part payment received"),
    ],
)
def test_the_receipt_names_the_amount_received_its_parts_and_what_is_left(
    locale: str, received: str, left: str, subject: str
) -> None:
    document = sample_invoice_document(2, locale)  # type: ignore[arg-type]
    receipt = _payment(**PART_PAYMENT)

    email = render_payment_email(document, receipt, date(2026, 11, 25), LINK)

    text = email.text.replace("\xa0", " ")
    assert email.subject.startswith(subject)
    assert document.number in email.subject
    assert received in text
    assert left in text
    assert LINK in text
    assert ("Mahngebühren" if locale == "de" else "late fees") in text
    assert ("vollständig bezahlt" if locale == "de" else "paid in full") not in text


@pytest.mark.parametrize(("locale", "credit"), [("de", "7,18 €"), ("en", "€7.18")])
def test_the_confirmation_of_an_overpayment_names_the_amount_received_and_the_credit(
    locale: str, credit: str
) -> None:
    document = sample_invoice_document(2, locale)  # type: ignore[arg-type]

    email = render_payment_email(
        document, _payment(amount="50.00", applied="42.82", account_amount_due="0.00"), None, LINK
    )

    text = email.text.replace("\xa0", " ")
    assert ("Zahlungsbestätigung" if locale == "de" else "Payment received") in email.subject
    assert ("50,00 €" if locale == "de" else "€50.00") in text
    assert credit in text
    assert credit in email.html.replace("\xa0", " ")


@pytest.mark.parametrize(
    ("locale", "subject", "said"),
    [
        ("de", "Guthaben verrechnet", "aus Ihrem Guthaben mit der Rechnung"),
        ("en", "Credit applied", "of your account credit to invoice"),
    ],
)
def test_credit_set_against_an_invoice_is_not_thanked_for_as_a_payment(
    locale: str, subject: str, said: str
) -> None:
    document = sample_invoice_document(2, locale)  # type: ignore[arg-type]
    from_credit = _payment(amount="7.18", applied="7.18", account_amount_due="0.00", source="customer_credit")

    email = render_payment_email(document, from_credit, date(2026, 11, 25), LINK)

    assert email.subject.startswith(subject)
    assert said in email.text
    assert said in email.html
    assert ("Zahlung" if locale == "de" else "payment") not in email.text.split("\n\n")[1]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_credit_note_email_names_the_credit_note_and_the_invoice(locale: str) -> None:
    invoice = sample_invoice_document(2, locale)  # type: ignore[arg-type]
    note = dataclasses.replace(invoice, number="GS-2026-000007", document_kind="credit_note")

    email = render_credit_note_email(note, invoice.number, Decimal("10.00"), Decimal(0), LINK)

    assert "GS-2026-000007" in email.subject
    assert invoice.number in email.subject
    assert ("Rechnungskorrektur" if locale == "de" else "Credit note") in email.subject
    assert "Gutschrift" not in email.subject + email.text + email.html  # self-billing, § 14 (2) UStG
    assert ("10,00 €" if locale == "de" else "€10.00") in email.text.replace("\xa0", " ")


def test_the_page_sums_go_from_the_total_to_what_is_left_to_pay() -> None:
    account = InvoiceAccount(
        total=Decimal("100.00"),
        paid=Decimal("60.00"),
        refunded=Decimal("10.00"),
        credited=Decimal("20.00"),
        amount_due=Decimal("30.00"),
        fees_charged=Decimal("5.00"),
        fees_paid=Decimal("2.00"),
        account_amount_due=Decimal("33.00"),
    )

    rows = account_rows(account, "EUR", "en")

    assert [(label, value) for label, value, _ in rows] == [
        ("Invoice total", "€100.00"),
        ("Paid", "-€60.00"),
        ("Refunded", "+€10.00"),
        ("Credit notes", "-€20.00"),
        ("Invoice amount still due", "€30.00"),
        ("Late fees and default interest", "+€5.00"),
        ("Of these, paid", "-€2.00"),
        ("Still to pay", "€33.00"),
    ]


def test_the_page_shows_the_account_only_once_something_happened_and_links_each_credit_note() -> None:
    document = sample_invoice_document(2, "de")
    untouched = InvoiceAccount(
        total=document.gross,
        paid=Decimal(0),
        refunded=Decimal(0),
        credited=Decimal(0),
        amount_due=document.gross,
        fees_charged=Decimal(0),
        fees_paid=Decimal(0),
        account_amount_due=document.gross,
    )
    credited = dataclasses.replace(
        untouched,
        credited=Decimal("50.00"),
        amount_due=document.gross - 50,
        account_amount_due=document.gross - 50,
        credit_notes=(CreditNoteEntry("cn_1", "GS-2026-000007", date(2026, 11, 20), Decimal("50.00"), True),),
    )

    def page(account: InvoiceAccount) -> str:
        return render_hosted_invoice(
            document,
            "open",
            {},
            "/pdf",
            "/dispute",
            True,
            None,
            date(2026, 11, 10),
            14,
            account,
            "/cn/{id}/pdf",
        )

    assert "Zahlungen und Korrekturen" not in page(untouched)
    shown = page(credited).replace("\xa0", " ")
    assert '<a href="/cn/cn_1/pdf" download' in shown
    assert '<th scope="row">Noch zu zahlen</th><td class="num">257,71 €</td>' in shown
    assert "Rechnungskorrektur GS-2026-000007</a>" in shown
    # a void: the Stornorechnung is listed, the sums go from the total to nothing, and it is emailed as one
    voided = dataclasses.replace(
        untouched,
        amount_due=Decimal(0),
        account_amount_due=Decimal(0),
        cancelled=document.gross,
        credit_notes=(
            CreditNoteEntry(
                "cn_2", "GS-2026-000008", date(2026, 11, 21), -document.gross, True, "cancellation"
            ),
        ),
    )
    shown = page(voided).replace("\xa0", " ")
    assert "Stornorechnung GS-2026-000008</a>" in shown
    assert '<th scope="row">Storniert</th><td class="num">-307,71 €</td>' in shown
    assert '<th scope="row">Noch zu zahlen</th><td class="num">0,00 €</td>' in shown


@pytest.mark.parametrize(
    ("locale", "subject", "said"),
    [
        ("de", "Stornorechnung GS-2026-000008 zu Rechnung", "wir haben die Rechnung RE-2026-000123 vom"),
        (
            "en",
            "Cancellation invoice GS-2026-000008 for invoice",
            "we have cancelled invoice RE-2026-000123 dated",
        ),
    ],
)
def test_the_cancellation_email_names_the_stornorechnung_and_the_cancelled_invoice_with_its_date(
    locale: str, subject: str, said: str
) -> None:
    invoice = sample_invoice_document(2, locale)  # type: ignore[arg-type]
    note = dataclasses.replace(
        invoice,
        number="GS-2026-000008",
        document_kind="cancellation",
        corrects_invoice=invoice.number,
        corrects_invoice_date=invoice.issue_date,
        gross=-invoice.gross,
    )

    email = render_credit_note_email(note, invoice.number, Decimal(0), Decimal(0), LINK)

    assert email.subject.startswith(subject)
    assert said in email.text
    assert "Gutschrift" not in email.subject + email.text + email.html
