"""Order intake: the POST /orders body as the contract defines it, and the totals the API returns."""

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.errors import FieldError, InvalidRequest, field_path
from receivables.intake import ORDER_EXAMPLE, OrderRequest, parse_order
from receivables.money import from_minor_units, minor_digits
from receivables.pricing import format_rate, price_order, totals_json

repeatable = settings(derandomize=True, database=None, deadline=None, max_examples=150)

# The example from /work/shared/API.md (also openapi.json's).
EXAMPLE_ORDER: dict[str, Any] = copy.deepcopy(ORDER_EXAMPLE)


def order_body(**changes: Any) -> dict[str, Any]:
    """The example order with top-level fields replaced."""
    body = copy.deepcopy(EXAMPLE_ORDER)
    body.update(changes)
    return body


def with_customer(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["customer"].update(changes)
    return body


def with_address(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["customer"]["address"].update(changes)
    return body


# Addresses moved to another country take a postal code of that country's format (postal_codes.py).
A_POSTAL_CODE_IN = {"DE": "10115", "AT": "1010", "CH": "8001", "GR": "104 31", "US": "10115"}


def line(**changes: Any) -> dict[str, Any]:
    return {
        "sku": "S",
        "description": "Item",
        "quantity": "1",
        "unit_price": "1.00",
        "tax_rate": "19",
    } | changes


def invalid_fields(body: object) -> dict[str, str]:
    """field -> message of the 422 the body produces."""
    raw = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    with pytest.raises(InvalidRequest) as caught:
        parse_order(raw)
    assert caught.value.status == 422
    return {error.field: error.message for error in caught.value.errors}


def totals_of(body: dict[str, Any]) -> dict[str, Any]:
    return dict(totals_json(price_order(parse_order(json.dumps(body)))))


# --- the happy path ---------------------------------------------------------------------------------------


def test_the_contract_example_is_accepted_and_totals_match() -> None:
    order = parse_order(json.dumps(EXAMPLE_ORDER))

    assert order.customer.locale == "de"
    assert order.lines[0].unit_price == Decimal("19.99")
    assert totals_json(price_order(order)) == {
        "currency": "EUR",
        "net": "35.98",
        "tax": "6.84",
        "gross": "42.82",
        "tax_breakdown": [
            {"rate": "19", "net": "35.98", "tax": "6.84", "category": "S", "exemption_code": None}
        ],
    }


def test_defaults_and_normalisation() -> None:
    body = order_body(currency="eur", shop_version="2.1", lines=[line()])  # unknown fields are ignored
    del body["payment_terms_days"]
    del body["customer"]["locale"]
    body["customer"]["address"].update(country=" de ", line2="  ")
    body["customer"]["email"] = " anna@EXAMPLE.de "

    order = parse_order(json.dumps(body).encode())

    assert order.currency == "EUR"
    assert order.payment_terms_days == 14
    assert order.customer.locale == "en"
    assert order.customer.email == "anna@example.de"
    assert order.customer.address.country == "DE"
    assert order.customer.address.line2 is None
    assert order.lines[0].discount_percent == 0


def test_json_numbers_are_read_as_exact_decimals() -> None:
    body = order_body(lines=[line(quantity=3, unit_price=0.1, tax_rate=19, discount_percent=0)])

    order = parse_order(json.dumps(body))

    assert order.lines[0].unit_price == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert totals_json(price_order(order))["net"] == "0.30"


def test_a_python_float_is_converted_through_its_shortest_repr() -> None:
    body = order_body(lines=[line(unit_price=19.99)])

    assert OrderRequest.model_validate(body).lines[0].unit_price == Decimal("19.99")


# --- pricing ----------------------------------------------------------------------------------------------


def test_tax_is_computed_per_rate_on_the_sum_of_line_nets() -> None:
    # Three lines of 0.03 at 19 %: rounding VAT per line would give 3 x 0.01; on the sum 0.09 it is 0.02.
    body = order_body(lines=[line(unit_price="0.03")] * 3)

    totals = totals_of(body)

    assert totals["tax_breakdown"] == [
        {"rate": "19", "net": "0.09", "tax": "0.02", "category": "S", "exemption_code": None}
    ]
    assert (totals["net"], totals["tax"], totals["gross"]) == ("0.09", "0.02", "0.11")


def test_breakdown_groups_equal_rates_and_lists_the_highest_first() -> None:
    body = order_body(
        lines=[
            line(unit_price="10.00", tax_rate="7"),
            line(unit_price="100.00", tax_rate="19"),
            line(unit_price="20.00", tax_rate="7.0"),
            line(unit_price="5.00", tax_rate="5.5"),
            line(unit_price="50.00", tax_rate="19.00", discount_percent="12.5"),
        ]
    )

    totals = totals_of(body)

    assert totals["tax_breakdown"] == [
        {"rate": "19", "net": "143.75", "tax": "27.31", "category": "S", "exemption_code": None},
        {"rate": "7", "net": "30.00", "tax": "2.10", "category": "S", "exemption_code": None},
        {"rate": "5.5", "net": "5.00", "tax": "0.28", "category": "S", "exemption_code": None},
    ]
    assert (totals["net"], totals["tax"], totals["gross"]) == ("178.75", "29.69", "208.44")


def test_line_net_is_rounded_half_up_to_the_minor_unit() -> None:
    order = parse_order(json.dumps(order_body(lines=[line(quantity="0.5", unit_price="0.05", tax_rate="0")])))

    assert price_order(order).lines[0].net == Decimal("0.03")  # 0.025 rounds up


def test_yen_orders_have_no_minor_digits() -> None:
    body = order_body(currency="JPY", lines=[line(quantity="3", unit_price="1200", tax_rate="10")])

    totals = totals_of(body)

    assert (totals["net"], totals["tax"], totals["gross"]) == ("3600", "360", "3960")


def test_bahraini_dinar_orders_have_three_minor_digits() -> None:
    body = order_body(currency="BHD", lines=[line(quantity="3", unit_price="1.25", tax_rate="10")])

    totals = totals_of(body)

    assert (totals["net"], totals["tax"], totals["gross"]) == ("3.750", "0.375", "4.125")


@pytest.mark.parametrize(
    ("rate", "text"), [("19", "19"), ("7.00", "7"), ("5.50", "5.5"), ("0", "0"), ("100", "100")]
)
def test_rates_are_shown_without_trailing_zeros_or_exponent(rate: str, text: str) -> None:
    assert format_rate(Decimal(rate)) == text


# --- one 422 naming every bad field -----------------------------------------------------------------------


def test_every_bad_field_is_named_in_one_response() -> None:
    body = order_body(currency="XXX", lines=[line(quantity="-1")])
    body["customer"]["email"] = "not-an-email"

    errors = invalid_fields(body)

    assert set(errors) == {"lines[0].quantity", "currency", "customer.email"}


def test_a_bad_currency_does_not_hide_line_errors_and_cross_field_errors_do_not_hide_others() -> None:
    body = order_body(currency="JPY", lines=[line(unit_price="1.5"), line(quantity="abc", unit_price="7")])
    body["customer"]["email"] = "@example.de"
    body["customer"]["vat_id"] = "ATU13585627"  # valid, but for Austria, not the DE address
    body["customer"]["address"]["postal_code"] = " "

    errors = invalid_fields(body)

    assert set(errors) == {
        "lines[0].unit_price",
        "lines[1].quantity",
        "customer.email",
        "customer.vat_id",
        "customer.address.postal_code",
    }
    assert "0 decimal places for JPY" in errors["lines[0].unit_price"]


def test_the_422_explains_itself() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_order(json.dumps(order_body(currency="XXX", lines=[line(quantity="-1")])))

    problem = caught.value
    assert (problem.status, problem.type_slug, problem.detail) == (
        422,
        "invalid-request",
        "2 fields are invalid.",
    )
    assert FieldError("lines[0].quantity", "Input should be greater than 0") in problem.errors
    assert all(not error.message.startswith("Value error") for error in problem.errors)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_body(external_id=""), "external_id"),
        (order_body(external_id="x" * 101), "external_id"),
        (order_body(currency="XAU"), "currency"),
        (order_body(currency=978), "currency"),
        (order_body(lines=[]), "lines"),
        (order_body(lines=[line()] * 1001), "lines"),
        (order_body(lines={"sku": "A"}), "lines"),
        (order_body(payment_terms_days=366), "payment_terms_days"),
        (order_body(payment_terms_days=-1), "payment_terms_days"),
        (order_body(customer="Anna"), "customer"),
        (with_customer(locale="fr"), "customer.locale"),
        (with_customer(name=" "), "customer.name"),
        (with_address(country="XX"), "customer.address.country"),
        (with_address(country="DEU"), "customer.address.country"),
        (with_address(postal_code=""), "customer.address.postal_code"),
        (order_body(lines=[line(quantity="0")]), "lines[0].quantity"),
        (order_body(lines=[line(quantity="1.0001")]), "lines[0].quantity"),
        (order_body(lines=[line(quantity=True)]), "lines[0].quantity"),
        (order_body(lines=[line(quantity="NaN")]), "lines[0].quantity"),
        (order_body(lines=[line(quantity="1e3")]), "lines[0].quantity"),
        (order_body(lines=[line(unit_price="-0.01")]), "lines[0].unit_price"),
        (order_body(lines=[line(unit_price="1.999")]), "lines[0].unit_price"),
        (order_body(lines=[line(unit_price="1" + "0" * 20)]), "lines[0].unit_price"),
        (order_body(lines=[line(tax_rate="101")]), "lines[0].tax_rate"),
        (order_body(lines=[line(discount_percent="-5")]), "lines[0].discount_percent"),
        (order_body(lines=[line(), {"sku": "B"}]), "lines[1].quantity"),
    ],
)
def test_each_bad_field_is_reported_under_its_contract_path(body: dict[str, Any], field: str) -> None:
    assert field in invalid_fields(body)


@pytest.mark.parametrize(
    "body", [None, "", "   ", b"", "{", '{"currency": NaN}', "[]", '"order"', b"\xff\xfe"]
)
def test_a_body_that_is_not_a_json_object_is_one_error_on_body(body: str | bytes | None) -> None:
    assert list(invalid_fields(body)) == ["body"]


def test_trailing_zeros_within_the_minor_unit_are_fine() -> None:
    assert parse_order(json.dumps(order_body(lines=[line(unit_price="19.990")]))).lines[
        0
    ].unit_price == Decimal("19.99")


# --- VAT ids ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vat_id", "country", "normalised"),
    [
        ("DE136695976", "DE", "DE136695976"),
        ("de 136.695.976", "DE", "DE136695976"),
        ("EL094259216", "GR", "EL094259216"),
        ("GR094259216", "GR", "EL094259216"),  # Greece's VAT prefix is EL
        ("CHE-123.456.788 MWST", "CH", "CHE123456788MWST"),  # outside the EU: kept, not checked
        ("DE136695977", "US", "DE136695977"),
    ],
)
def test_valid_vat_ids_are_stored_compact(vat_id: str, country: str, normalised: str) -> None:
    body = with_customer(vat_id=vat_id)
    body["customer"]["address"] |= {"country": country, "postal_code": A_POSTAL_CODE_IN[country]}

    assert parse_order(json.dumps(body)).customer.vat_id == normalised


@pytest.mark.parametrize("vat_id", [None, "", "  "])
def test_the_vat_id_is_optional(vat_id: str | None) -> None:
    assert parse_order(json.dumps(with_customer(vat_id=vat_id))).customer.vat_id is None


@pytest.mark.parametrize(
    ("vat_id", "country", "message"),
    [
        ("DE136695977", "DE", "valid DE VAT id"),  # check digit wrong
        ("DE13669597", "DE", "valid DE VAT id"),  # too short
        ("DE136695976", "AT", "should start with AT"),
        ("136695976", "DE", "should start with DE"),
        ("DE136695976", "GR", "should start with EL"),
    ],
)
def test_invalid_or_foreign_vat_ids_are_rejected(vat_id: str, country: str, message: str) -> None:
    body = with_customer(vat_id=vat_id)
    body["customer"]["address"] |= {"country": country, "postal_code": A_POSTAL_CODE_IN[country]}

    errors = invalid_fields(body)

    assert list(errors) == ["customer.vat_id"]
    assert message in errors["customer.vat_id"]


# --- field paths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("lines", 0, "quantity"), "lines[0].quantity"),
        (("customer", "address", "country"), "customer.address.country"),
        (("currency",), "currency"),
        ((), "body"),
    ],
)
def test_pydantic_locations_become_contract_field_paths(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path


# --- properties -------------------------------------------------------------------------------------------

CURRENCIES = ["EUR", "JPY", "BHD", "USD", "CLF"]
RATES = ["0", "5.5", "7", "10", "19", "20", "21"]


@st.composite
def random_orders(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCIES))
    lines = [
        line(
            quantity=str(draw(st.decimals(min_value="0.001", max_value="10000", places=3))),
            unit_price=str(from_minor_units(draw(st.integers(0, 10**9)), currency)),
            tax_rate=draw(st.sampled_from(RATES)),
            discount_percent=str(draw(st.decimals(min_value=0, max_value=100, places=2))),
        )
        for _ in range(draw(st.integers(1, 12)))
    ]
    return order_body(currency=currency, lines=lines)


@repeatable
@given(body=random_orders())
def test_gross_is_always_net_plus_tax(body: dict[str, Any]) -> None:
    priced = price_order(parse_order(json.dumps(body)))

    assert priced.gross == priced.net + priced.tax
    assert priced.net == sum(line.net for line in priced.lines)
    assert priced.net == sum(entry.net for entry in priced.tax_breakdown)
    assert priced.tax == sum(entry.tax for entry in priced.tax_breakdown)


@repeatable
@given(body=random_orders())
def test_every_total_has_exactly_the_currency_minor_digits(body: dict[str, Any]) -> None:
    totals = totals_of(body)

    digits = minor_digits(body["currency"])
    money = re.compile(r"\d+" + (rf"\.\d{{{digits}}}" if digits else ""))
    amounts = [totals["net"], totals["tax"], totals["gross"]]
    amounts += [entry[key] for entry in totals["tax_breakdown"] for key in ("net", "tax")]
    assert all(money.fullmatch(amount) for amount in amounts), amounts
