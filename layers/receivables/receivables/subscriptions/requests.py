"""The subscription bodies, validated with order intake's own models and rules (receivables.intake).

A subscription's `items` are order lines: the same customer, currency, quantity and price checks and the
same problem+json naming each bad field, so a storefront learns one set of rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    model_validator,
)
from pydantic_core import InitErrorDetails

from receivables import json_body
from receivables.intake import (
    _BODY_CONFIG,
    CustomerIn,
    OrderLineIn,
    OrderRequest,
    _between_one_and_max_lines,
    _currency_code,
    _unit_price_errors,
    _validate_with_cross_field_errors,
)
from receivables.pricing import PricedOrder, price_order

Items = Annotated[tuple[OrderLineIn, ...], BeforeValidator(_between_one_and_max_lines)]


def _item_price_errors(body: object, currency: object) -> list[InitErrorDetails]:
    """Order intake's unit-price check (no finer than the minor unit), reported under `items`."""
    if not isinstance(body, Mapping):
        return []
    errors = _unit_price_errors({"currency": currency, "lines": body.get("items")})
    return [error | {"loc": ("items", *error["loc"][1:])} for error in errors]


class SubscriptionRequest(BaseModel):
    model_config = ConfigDict(**_BODY_CONFIG)

    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer: CustomerIn
    currency: Annotated[str, AfterValidator(_currency_code)]
    items: Items
    interval: Literal["month", "year"]
    interval_count: Annotated[int, Field(ge=1, le=12)] = 1
    start_date: date | None = None  # default: today on the seller's clock
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] = 14

    @model_validator(mode="wrap")
    @classmethod
    def _check_unit_price_places(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        currency = data.get("currency") if isinstance(data, Mapping) else None
        return _validate_with_cross_field_errors(cls, data, handler, _item_price_errors(data, currency))


class SubscriptionChange(BaseModel):
    """PATCH: the new items (the whole list) and whether the period's rest is prorated."""

    model_config = ConfigDict(**_BODY_CONFIG)

    items: Items
    proration: Literal["create_prorations", "none"] = "create_prorations"


class Cancellation(BaseModel):
    model_config = ConfigDict(**_BODY_CONFIG)

    at: Literal["period_end", "now"] = "period_end"


def parse_subscription(body: str | bytes | None) -> SubscriptionRequest:
    return json_body.validated(SubscriptionRequest, body)


def price_items(currency: str, items: Iterable[OrderLineIn]) -> PricedOrder:
    """The items priced exactly as an order's lines (per-line rounding, VAT once per rate)."""
    # Pricing reads only the currency and the lines: the order's other fields are not needed here.
    order = OrderRequest.model_construct(currency=currency, lines=tuple(items))  # type: ignore[call-arg]
    return price_order(order)
