"""Applies the determination to request lines: each line leaves with its decided rate and category, or
the request is refused with a 422 naming `lines[N].tax_rate` (or `items[N].tax_rate`) for every line whose
rate cannot stand. Nothing is priced or stored before every line is decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from receivables.errors import FieldError, InvalidRequest
from receivables.tax.rules import Parties, RateProblem, decide_category, decide_rate

if TYPE_CHECKING:
    from receivables.intake import OrderLineIn, OrderRequest
    from receivables.seller import SellerProfile


def parties(seller: SellerProfile, buyer_country: str, buyer_vat_id: str | None) -> Parties:
    return Parties(
        seller_country=seller.address.country,
        seller_vat_id=seller.vat_id,
        buyer_country=buyer_country,
        buyer_vat_id=buyer_vat_id,
        oss_registered=seller.oss_registered,
    )


def decide_lines(
    lines: Sequence[OrderLineIn], between: Parties, default_supply_type: str, field: str = "lines"
) -> tuple[OrderLineIn, ...]:
    """The lines with `tax_rate` and `vat_category` decided, or InvalidRequest naming each bad rate."""
    decided: list[OrderLineIn] = []
    errors: list[FieldError] = []
    for index, line in enumerate(lines):
        supply_type = line.supply_type or ("services" if default_supply_type == "services" else "goods")
        decision = decide_category(between, supply_type, line.tax_category)
        rate = decide_rate(decision, line.tax_category, line.tax_rate)
        if isinstance(rate, RateProblem):
            errors.append(FieldError(f"{field}[{index}].tax_rate", rate.message))
            continue
        decided.append(line.model_copy(update={"tax_rate": rate, "vat_category": decision.category}))
    if errors:
        raise InvalidRequest(errors)
    return tuple(decided)


def decide_for_customer(
    lines: Sequence[OrderLineIn], customer: Mapping[str, Any], seller: SellerProfile, field: str
) -> tuple[OrderLineIn, ...]:
    """As decide_lines, for a customer as records keep it (`address.country`, `vat_id`)."""
    between = parties(seller, customer["address"]["country"], customer.get("vat_id"))
    return decide_lines(lines, between, seller.default_supply_type, field)


def decide_order(order: OrderRequest, seller: SellerProfile) -> OrderRequest:
    """The order with every line's VAT decided (docs/decisions/0027)."""
    customer = order.customer
    between = parties(seller, customer.address.country, customer.vat_id)
    lines = decide_lines(order.lines, between, seller.default_supply_type)
    return order.model_copy(update={"lines": lines})
