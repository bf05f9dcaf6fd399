"""Order pricing, pure domain: per-line nets, VAT per (category, rate), totals, and the contract's `totals`.

Each line's net is rounded to the minor unit (it is printed on the invoice); VAT is then computed once per
category and rate on the sum of that group's line nets, as German/EU invoicing expects, so the invoice's
VAT equals rate x printed net and never drifts by a cent per line (ADR 0003). Lines arrive with their VAT
decided (receivables.tax.lines, decisions/0027).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, TypedDict

from receivables.documents import VatCategory
from receivables.money import MONEY_CONTEXT, format_amount, quantize
from receivables.tax.categories import exemption_code

if TYPE_CHECKING:
    from receivables.intake import OrderLineIn, OrderRequest


@dataclass(frozen=True)
class PricedLine:
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal
    net: Decimal  # quantity x unit_price less discount, rounded to the minor unit
    vat_category: VatCategory = "S"


@dataclass(frozen=True)
class TaxBreakdown:
    rate: Decimal
    net: Decimal  # sum of the line nets at this rate
    tax: Decimal  # rate applied to that sum, rounded once
    category: VatCategory = "S"
    exemption_code: str | None = None  # VATEX, for every category but S and Z


@dataclass(frozen=True)
class PricedOrder:
    currency: str
    lines: tuple[PricedLine, ...]
    tax_breakdown: tuple[TaxBreakdown, ...]  # per (category, rate), highest rate first
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_net(line: OrderLineIn, currency: str) -> Decimal:
    """quantity x unit_price x (1 - discount/100), rounded half-up to the currency's minor unit."""
    with localcontext(MONEY_CONTEXT):  # exact: the field bounds keep every product within its precision
        return quantize(line.quantity * line.unit_price * (100 - line.discount_percent) / 100, currency)


def price_order(order: OrderRequest) -> PricedOrder:
    """Prices lines whose VAT is decided (receivables.tax.lines); a line without a rate is a bug."""
    currency = order.currency
    lines = tuple(
        PricedLine(
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=_decided_rate(line),
            discount_percent=line.discount_percent,
            net=line_net(line, currency),
            vat_category=line.vat_category or "S",
        )
        for line in order.lines
    )
    with localcontext(MONEY_CONTEXT):
        # One subtotal per category and rate (EN 16931 BG-23); Decimal("19") and Decimal("19.0") are one key.
        net_by_group: dict[tuple[Decimal, VatCategory], Decimal] = {}
        for line in lines:
            group = (line.tax_rate, line.vat_category)
            net_by_group[group] = net_by_group.get(group, Decimal(0)) + line.net
        tax_breakdown = tuple(
            TaxBreakdown(
                rate,
                net=quantize(base, currency),
                tax=quantize(base * rate / 100, currency),
                category=category,
                exemption_code=exemption_code(category),
            )
            for (rate, category), base in sorted(net_by_group.items(), reverse=True)
        )
        net = quantize(sum((line.net for line in lines), Decimal(0)), currency)
        tax = quantize(sum((entry.tax for entry in tax_breakdown), Decimal(0)), currency)
        gross = quantize(net + tax, currency)
    return PricedOrder(currency, lines, tax_breakdown, net=net, tax=tax, gross=gross)


def _decided_rate(line: OrderLineIn) -> Decimal:
    if line.tax_rate is None:
        raise ValueError(f"line {line.sku!r} is priced before its VAT rate was decided")
    return line.tax_rate


def stored_tax_entry(entry: TaxBreakdown) -> dict[str, object]:
    """A tax subtotal as order and invoice records keep it: `exemption_code` only where there is one."""
    stored: dict[str, object] = {"rate": entry.rate, "net": entry.net, "tax": entry.tax}
    stored["category"] = entry.category
    return stored | ({"exemption_code": entry.exemption_code} if entry.exemption_code else {})


def format_rate(rate: Decimal) -> str:
    """A tax rate as the API shows it: "19", "7", "5.5" (no trailing zeros, no exponent)."""
    return format(rate.normalize(), "f")


class TaxBreakdownJson(TypedDict):
    rate: str
    net: str
    tax: str
    category: str
    exemption_code: str | None


class TotalsJson(TypedDict):
    currency: str
    net: str
    tax: str
    gross: str
    tax_breakdown: list[TaxBreakdownJson]


def totals_json(priced: PricedOrder) -> TotalsJson:
    """The contract's `totals` object, money as strings with exactly the currency's minor digits."""
    currency = priced.currency
    return {
        "currency": currency,
        "net": format_amount(priced.net, currency),
        "tax": format_amount(priced.tax, currency),
        "gross": format_amount(priced.gross, currency),
        "tax_breakdown": [
            {
                "rate": format_rate(entry.rate),
                "net": format_amount(entry.net, currency),
                "tax": format_amount(entry.tax, currency),
                "category": entry.category,
                "exemption_code": entry.exemption_code,
            }
            for entry in priced.tax_breakdown
        ],
    }
