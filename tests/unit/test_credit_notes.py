"""Credit notes, pure: the request rules, the amounts, where the credit goes, and the PDF a customer reads."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.cancellations import cancellation_id_for, cancellation_record
from receivables.credit_note_pricing import (
    CreditNoteRequest,
    parse_credit_note,
    price_credit_note,
    settle_credit,
)
from receivables.credit_notes import credit_note_document, credit_note_pdf_key, format_credit_note_number
from receivables.errors import InvalidRequest
from receivables.invoicing.ledger import Balance, status_for
from receivables.money import quantize
from receivables.rendering.invoice_pdf import render_invoice_pdf
from receivables.seller import SellerProfile

RATES = [Decimal(19), Decimal(7)]


def _request(**body: Any) -> CreditNoteRequest:
    return parse_credit_note(json.dumps({"reason": "Korrektur"} | body))


def _errors(call: Any) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as raised:
        call()
    return {error.field: error.message for error in raised.value.errors}


def test_a_gross_amount_is_split_so_the_gross_stays_exactly_what_was_asked() -> None:
    priced = price_credit_note(_request(amount="11.90", tax_rate="19"), "EUR", RATES, Decimal("100.00"))

    assert (priced.net, priced.tax, priced.gross) == (Decimal("10.00"), Decimal("1.90"), Decimal("11.90"))
    assert [(t.rate, t.net, t.tax) for t in priced.tax_breakdown] == [
        (Decimal(19), Decimal("10.00"), Decimal("1.90"))
    ]


def test_lines_are_priced_like_an_invoice_with_vat_once_per_rate() -> None:
    request = _request(
        lines=[
            {"description": "Rabatt Stühle", "quantity": "3", "unit_price": "3.33", "tax_rate": "19"},
            {"description": "Porto", "unit_price": "4.90", "tax_rate": "19"},
            {"description": "Buch", "quantity": "1", "unit_price": "10.00", "tax_rate": "7"},
        ]
    )

    priced = price_credit_note(request, "EUR", RATES, Decimal("1000"))

    assert [line.net for line in priced.lines] == [Decimal("9.99"), Decimal("4.90"), Decimal("10.00")]
    assert [(t.rate, t.net, t.tax) for t in priced.tax_breakdown] == [
        (Decimal(19), Decimal("14.89"), Decimal("2.83")),
        (Decimal(7), Decimal("10.00"), Decimal("0.70")),
    ]
    assert (priced.net, priced.tax, priced.gross) == (Decimal("24.89"), Decimal("3.53"), Decimal("28.42"))


def test_with_one_rate_on_the_invoice_the_amount_needs_no_tax_rate() -> None:
    priced = price_credit_note(_request(amount="10.70"), "EUR", [Decimal(7)], Decimal("50"))

    assert priced.tax_breakdown[0].rate == Decimal(7)
    assert _errors(lambda: price_credit_note(_request(amount="10.70"), "EUR", RATES, Decimal("50"))) == {
        "tax_rate": "The invoice has several VAT rates; name one of 19, 7"
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"lines"}),
        (
            {"amount": "1.00", "lines": [{"description": "x", "unit_price": "1", "tax_rate": "19"}]},
            {"amount"},
        ),
        ({"amount": "1.005", "tax_rate": "16"}, {"amount", "tax_rate"}),
        (
            {"lines": [{"description": "x", "unit_price": "0.001", "tax_rate": "5"}], "tax_rate": "19"},
            {"tax_rate", "lines[0].unit_price", "lines[0].tax_rate"},
        ),
        ({"amount": "100.01", "tax_rate": "19"}, {"amount"}),
    ],
)
def test_each_bad_field_is_named(body: dict[str, Any], expected: set[str]) -> None:
    errors = _errors(lambda: price_credit_note(_request(**body), "EUR", RATES, Decimal("100.00")))

    assert set(errors) == expected


def test_the_credit_may_not_exceed_what_is_left_to_credit() -> None:
    errors = _errors(lambda: price_credit_note(_request(amount="30.01"), "EUR", [Decimal(19)], Decimal("30")))

    assert errors == {
        "amount": "The credit (30.01 gross) exceeds what is left to credit on the invoice (30.00)"
    }


def test_yen_amounts_have_no_decimals() -> None:
    assert "amount" in _errors(
        lambda: price_credit_note(_request(amount="10.5"), "JPY", [Decimal(10)], Decimal(99))
    )
    assert price_credit_note(_request(amount="110"), "JPY", [Decimal(10)], Decimal(999)).net == Decimal(100)


def test_the_request_model_names_missing_unknown_and_malformed_fields() -> None:
    errors = _errors(
        lambda: parse_credit_note(
            json.dumps({"ammount": "1", "lines": [{"unit_price": "abc", "tax_rate": "101"}], "reason": ""})
        )
    )

    assert set(errors) == {
        "ammount",
        "reason",
        "lines[0].description",
        "lines[0].unit_price",
        "lines[0].tax_rate",
    }
    assert _errors(lambda: parse_credit_note(b"[1]")) == {"body": "Body should be a JSON object"}
    assert "lines" in _errors(lambda: parse_credit_note(json.dumps({"lines": [], "reason": "x"})))


def test_a_json_number_never_passes_through_a_binary_float() -> None:
    assert parse_credit_note('{"amount": 0.1, "reason": "x"}').amount == Decimal("0.1")


@given(
    gross=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    rate=st.sampled_from([Decimal(0), Decimal(7), Decimal("5.5"), Decimal(19), Decimal(21)]),
)
def test_an_amount_split_always_adds_up_and_its_vat_is_the_rate_within_a_cent(
    gross: Decimal, rate: Decimal
) -> None:
    priced = price_credit_note(_request(amount=str(gross), tax_rate=str(rate)), "EUR", [rate], Decimal(10**6))

    assert priced.net + priced.tax == priced.gross == gross
    assert abs(priced.tax - quantize(priced.net * rate / 100, "EUR")) <= Decimal("0.01")


@given(
    total=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("1000"), places=2),
    paid_fraction=st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2),
    credit_fraction=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2),
)
def test_credit_reduces_what_is_due_first_and_only_the_rest_becomes_customer_credit(
    total: Decimal, paid_fraction: Decimal, credit_fraction: Decimal
) -> None:
    paid = quantize(total * paid_fraction, "EUR")
    credit = max(quantize(total * credit_fraction, "EUR"), Decimal("0.01"))
    before = Balance(total=total, paid=paid, refunded=Decimal(0))

    after, to_customer = settle_credit(before, credit)

    assert after.credited == credit
    assert to_customer == max(credit - before.due, Decimal(0))
    assert max(after.due, Decimal(0)) + credit - to_customer == before.due
    assert (status_for(after, "open") == "paid") == (after.due <= 0)


def test_numbers_and_pdf_keys_have_their_own_range() -> None:
    assert format_credit_note_number(2026, 7) == "GS-2026-000007"
    assert credit_note_pdf_key("GS-2026-000007") == "credit-notes/2026/GS-2026-000007.pdf"


SELLER = SellerProfile.model_validate(
    {
        "name": "Muster Handel GmbH",
        "address": {"line1": "Musterstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "vat_id": "DE811569869",
        "iban": "DE89370400440532013000",
    }
)


def _stored_credit_note(locale: str, reason: str = "Ein Widget beschädigt geliefert") -> dict[str, Any]:
    return {
        "id": "cn_" + "0" * 32,
        "number": "GS-2026-000001",
        "invoice_id": "inv_" + "1" * 32,
        "invoice_number": "2026-000042",
        "external_id": "SHOP-1001",
        "customer": {
            "email": "anna@example.de",
            "name": "Anna Schmidt GmbH",
            "locale": locale,
            "vat_id": "DE136695976",
            "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        },
        "currency": "EUR",
        "lines": [
            {
                "sku": "",
                "description": reason,
                "quantity": Decimal(1),
                "unit_price": Decimal("10.00"),
                "discount_percent": Decimal(0),
                "tax_rate": Decimal(19),
                "net": Decimal("10.00"),
            }
        ],
        "totals": {
            "net": Decimal("10.00"),
            "tax": Decimal("1.90"),
            "gross": Decimal("11.90"),
            "tax_breakdown": [{"rate": Decimal(19), "net": Decimal("10.00"), "tax": Decimal("1.90")}],
        },
        "reason": reason,
        "issue_date": "2026-11-25",
        "supply_date": "2026-11-20",
        "invoice_issue_date": "2026-11-10",
    }


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize(
    ("locale", "expected", "absent"),
    [
        (
            "de",
            [
                "Rechnungskorrektur GS-2026-000001",
                "Korrekturnummer",
                "Rechnungskorrektur zu Rechnung 2026-000042 vom 10.11.2026",
                "Korrekturbetrag",
                "11,90 €",
                "Ein Widget beschädigt geliefert",
            ],
            # "Gutschrift" would be a self-billed invoice (§ 14 (2) UStG), owing its VAT under § 14c
            ["Gutschrift", "Zahlbar", "Fälligkeitsdatum", "Rechnungsbetrag"],
        ),
        (
            "en",
            [
                "Credit note GS-2026-000001",
                "Correction of invoice 2026-000042 dated 10 November 2026",
                "Credit total",
                "€11.90",
            ],
            ["Payable", "Due date", "Invoice total"],
        ),
    ],
)
def test_the_credit_note_pdf_names_itself_and_the_invoice_it_corrects(
    locale: str, expected: list[str], absent: list[str]
) -> None:
    pdf = render_invoice_pdf(credit_note_document(_stored_credit_note(locale), SELLER))

    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    shown = text.decode().replace("\xa0", " ").replace("\u202f", " ")
    for words in expected:
        assert words in shown
    for words in absent:
        assert words not in shown
    assert b"<dc:title>" in pdf  # PDF/A-3 keeps the title in its XMP metadata stream


def test_a_credit_note_with_lines_prints_its_reason_as_a_note() -> None:
    stored = _stored_credit_note("de") | {"reason": "Preisnachlass laut Absprache"}

    document = credit_note_document(stored, SELLER)

    assert document.notes == ("Preisnachlass laut Absprache",)
    assert (document.document_kind, document.corrects_invoice) == ("credit_note", "2026-000042")
    assert credit_note_document(_stored_credit_note("de"), SELLER).notes == ()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "de",
            [
                "Stornorechnung GS-2026-000007",
                "Stornonummer GS-2026-000007",
                "Storniert wird die Rechnung 2026-000042 vom 10.11.2026 in voller Höhe.",
                "Stornobetrag -11,90 €",
                "-10,00 €",
            ],
        ),
        (
            "en",
            [
                "Cancellation invoice GS-2026-000007",
                "This cancels invoice 2026-000042 dated 10 November 2026 in full.",
                "Cancelled total -€11.90",
            ],
        ),
    ],
)
def test_the_voids_stornorechnung_negates_the_invoice_and_names_its_number_and_date(
    locale: str, expected: list[str]
) -> None:
    invoice = _stored_credit_note(locale) | {
        "id": "inv_" + "1" * 32,
        "number": "2026-000042",
        "issue_date": "2026-11-10",
        "seller_id": "default",
        "storefront_id": "shop",
        "customer_id": "cus_1",
    }
    at = "2026-11-30T09:00:00Z"
    stored = cancellation_record(invoice, (2026, 7), date(2026, 11, 30), "storniert", "finance", at)

    pdf = render_invoice_pdf(credit_note_document(stored, SELLER))

    command = ["pdftotext", "-layout", "-", "-"]
    text = subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()
    shown = " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())
    for words in expected:
        assert words in shown, words
    assert "Gutschrift" not in shown
    assert (stored["kind"], stored["gross"]) == ("cancellation", Decimal("-11.90"))
    assert stored["id"] == cancellation_id_for(invoice["id"])  # one per invoice
