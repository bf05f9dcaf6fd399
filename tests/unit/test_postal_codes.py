"""Postal codes per country (postal_codes.py), and intake's 422 naming the postal code that does not fit."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from receivables.customers import patched_values
from receivables.errors import InvalidRequest
from receivables.intake import ORDER_EXAMPLE, parse_order
from receivables.postal_codes import normalized_postal_code, postal_code_problem
from tests.support import load_event

VALID = [
    ("DE", "10115"),
    ("DE", "01067"),
    ("AT", "1010"),
    ("CH", "8001"),
    ("NL", "1012 AB"),
    ("NL", "1012AB"),
    ("FR", "75001"),
    ("FR", "97400"),  # La Réunion, a French overseas department
    ("GB", "SW1A 1AA"),
    ("GB", "EC1A 1BB"),
    ("GB", "M1 1AE"),
    ("US", "90210"),
    ("US", "20500-0003"),
    ("JP", "100-0001"),
    ("JP", "1000001"),
    ("CA", "K1A 0B1"),
    ("PL", "00-950"),
    ("IE", "D02 X285"),
]

INVALID = [
    ("DE", "ABC"),
    ("DE", "1011"),  # four digits: an Austrian or Swiss code, not a German one
    ("DE", "101150"),
    ("AT", "10100"),
    ("CH", "CH-8001"),  # the country prefix belongs on an envelope, not in the postal code field
    ("CH", "800"),
    ("NL", "0123 AB"),  # Dutch codes never start with 0
    ("NL", "1012 SA"),  # SA, SD and SS are not issued
    ("NL", "1012"),
    ("FR", "7500"),
    ("GB", "SW1A"),
    ("GB", "12345"),
    ("US", "9021"),
    ("US", "90210-12"),
    ("JP", "100-001"),
    ("JP", "ABC-DEFG"),
]


@pytest.mark.parametrize(("country", "postal_code"), VALID)
def test_a_postal_code_in_its_country_s_format_is_accepted(country: str, postal_code: str) -> None:
    assert postal_code_problem(postal_code, country) is None


@pytest.mark.parametrize(("country", "postal_code"), INVALID)
def test_a_postal_code_not_in_its_country_s_format_is_named_with_examples(
    country: str, postal_code: str
) -> None:
    problem = postal_code_problem(postal_code, country)

    assert problem is not None
    assert problem.startswith(f"Input should be a valid postal code for {country}, e.g. ")


def test_british_and_canadian_codes_are_upper_cased_as_the_data_says_and_others_left_alone() -> None:
    assert postal_code_problem("sw1a 1aa", "GB") is None
    assert normalized_postal_code("sw1a 1aa", "GB") == "SW1A 1AA"
    assert normalized_postal_code("k1a 0b1", "CA") == "K1A 0B1"
    # the Dutch data does not mark its postal code upper case: lower case letters are not a Dutch code
    assert normalized_postal_code("1012 ab", "NL") == "1012 ab"
    assert postal_code_problem("1012 ab", "NL") is not None


def test_a_country_without_postal_codes_accepts_what_it_is_given() -> None:
    # Hong Kong has no postal codes; the data knows the country but no format
    assert postal_code_problem("anything", "HK") is None
    assert normalized_postal_code("anything", "HK") == "anything"


def test_a_country_the_data_does_not_know_is_not_rejected() -> None:
    # The data knows every country pycountry does today; a code assigned later must not be refused by us.
    assert postal_code_problem("ABC", "XX") is None


def _order_with_address(**address: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(dict(ORDER_EXAMPLE))
    body["customer"]["address"].update(address)
    if address.get("country", "DE") != "DE":
        body["customer"]["vat_id"] = None  # the example's German VAT id belongs to a German address
    return body


def _invalid_fields(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_order(json.dumps(body))
    return {error.field: error.message for error in caught.value.errors}


def test_an_order_with_a_german_postal_code_abc_names_customer_address_postal_code() -> None:
    assert _invalid_fields(_order_with_address(postal_code="ABC")) == {
        "customer.address.postal_code": 'Input should be a valid postal code for DE, e.g. "26133", "53225"'
    }


def test_the_postal_code_is_named_beside_every_other_bad_field() -> None:
    body = _order_with_address(postal_code="ABC", city="")

    assert set(_invalid_fields(body)) == {"customer.address.postal_code", "customer.address.city"}


def test_the_postal_code_is_checked_against_the_country_given_beside_it() -> None:
    # "10115" is German; for Austria it has a digit too many
    assert "customer.address.postal_code" in _invalid_fields(_order_with_address(country="AT"))
    # a bad country is reported by itself, without a postal code error that would depend on it
    assert set(_invalid_fields(_order_with_address(country="ZZ"))) == {"customer.address.country"}


def test_an_order_keeps_the_british_postal_code_upper_cased_and_stripped() -> None:
    order = parse_order(json.dumps(_order_with_address(postal_code="  ec1a 1bb ", country="GB")))

    assert order.customer.address.postal_code == "EC1A 1BB"


def test_a_subscription_with_a_german_postal_code_abc_names_customer_address_postal_code() -> None:
    from receivables.subscriptions.requests import parse_subscription

    body = load_event("http/create_subscription_body.json")
    body["customer"]["address"]["postal_code"] = "ABC"

    with pytest.raises(InvalidRequest) as caught:
        parse_subscription(json.dumps(body))

    assert [error.field for error in caught.value.errors] == ["customer.address.postal_code"]


STORED_CUSTOMER: dict[str, Any] = {
    "email": "anna@example.de",
    "name": "Anna Schmidt GmbH",
    "locale": "de",
    "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "vat_id": "DE136695976",
}


def test_patching_a_customer_s_postal_code_checks_it_against_the_stored_country() -> None:
    with pytest.raises(InvalidRequest) as caught:
        patched_values(STORED_CUSTOMER, {"address": {"postal_code": "ABC"}})

    assert [error.field for error in caught.value.errors] == ["address.postal_code"]


def test_patching_the_country_without_the_postal_code_checks_the_stored_code_against_the_new_country() -> (
    None
):
    with pytest.raises(InvalidRequest) as caught:
        patched_values(STORED_CUSTOMER, {"address": {"country": "AT", "city": "Wien"}, "vat_id": None})

    assert [error.field for error in caught.value.errors] == ["address.postal_code"]


def test_patching_a_customer_s_address_to_a_valid_one_answers_it_normalised() -> None:
    values = patched_values(
        STORED_CUSTOMER,
        {"address": {"country": "GB", "city": "London", "postal_code": "sw1a 1aa"}, "vat_id": None},
    )

    assert values["address"]["postal_code"] == "SW1A 1AA"
