"""Money: minor units from ISO 4217, commercial rounding, the API's string form."""

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.money import (
    UnsupportedCurrency,
    format_amount,
    from_minor_units,
    is_invoicing_currency,
    minor_digits,
    quantize,
    to_minor_units,
)

# Derandomized and without the example database: every run tries the same examples.
repeatable = settings(derandomize=True, database=None, deadline=None, max_examples=200)

# Minor digits 0, 2, 3 and 4 (CLF), the range ISO 4217 uses.
CURRENCIES = ["JPY", "EUR", "USD", "CHF", "BHD", "KWD", "CLF"]


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("EUR", 2), ("BHD", 3), ("CLF", 4)])
def test_minor_digits_come_from_iso4217(currency: str, digits: int) -> None:
    assert minor_digits(currency) == digits
    assert is_invoicing_currency(currency)


@pytest.mark.parametrize("code", ["XXX", "XAU", "XTS", "ZZZ", "eur", "EURO", "", "€"])
def test_codes_without_a_minor_unit_or_unknown_are_not_invoicing_currencies(code: str) -> None:
    assert not is_invoicing_currency(code)
    with pytest.raises(UnsupportedCurrency):
        minor_digits(code)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "EUR", "2.35"),  # half up, not half even
        ("2.335", "EUR", "2.34"),
        ("2.344", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),  # half away from zero for credits
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),
        ("1.2345", "BHD", "1.235"),
        ("23.8", "EUR", "23.80"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    rounded = quantize(Decimal(amount), currency)

    assert str(rounded) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("23.8"), "EUR", "23.80"),
        (Decimal("1200"), "JPY", "1200"),
        (Decimal("1E+3"), "JPY", "1000"),
        (Decimal("1.25"), "BHD", "1.250"),
        (Decimal("1E+12"), "EUR", "1000000000000.00"),
        (Decimal("0"), "EUR", "0.00"),
        (Decimal("-0.001"), "EUR", "0.00"),  # never "-0.00"
        (Decimal("-5"), "EUR", "-5.00"),
    ],
)
def test_format_amount_shows_exactly_the_minor_digits_in_plain_notation(
    amount: Decimal, currency: str, expected: str
) -> None:
    assert format_amount(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("23.80", "EUR", 2380), ("23.8", "EUR", 2380), ("1200", "JPY", 1200), ("1.250", "BHD", 1250)],
)
def test_minor_units_match_what_payment_providers_count(amount: str, currency: str, units: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == units
    assert from_minor_units(units, currency) == Decimal(amount)


def test_from_minor_units_carries_the_currency_digits() -> None:
    assert str(from_minor_units(2380, "EUR")) == "23.80"
    assert str(from_minor_units(1200, "JPY")) == "1200"
    assert str(from_minor_units(5, "BHD")) == "0.005"


def test_to_minor_units_refuses_an_amount_that_was_never_rounded() -> None:
    with pytest.raises(ValueError, match="decimal digits"):
        to_minor_units(Decimal("19.999"), "EUR")


@repeatable
@given(currency=st.sampled_from(CURRENCIES), units=st.integers(min_value=-(10**15), max_value=10**15))
def test_minor_units_round_trip(currency: str, units: int) -> None:
    amount = from_minor_units(units, currency)

    assert to_minor_units(amount, currency) == units
    assert from_minor_units(to_minor_units(amount, currency), currency) == amount


@repeatable
@given(
    currency=st.sampled_from(CURRENCIES),
    amount=st.decimals(
        min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False, places=6
    ),
)
def test_formatted_amounts_always_have_the_currency_digits(currency: str, amount: Decimal) -> None:
    text = format_amount(amount, currency)

    digits = minor_digits(currency)
    pattern = r"-?\d+" + (rf"\.\d{{{digits}}}" if digits else "")
    assert re.fullmatch(pattern, text), text
    assert abs(Decimal(text) - amount) <= Decimal(1).scaleb(-digits) / 2
