"""Prorations, Stripe's model: when items change inside an invoiced period, the next invoice carries a
credit for the unused time of each old line and a charge for the remaining time of each new one.

Time is counted in whole days, the change day included: remaining = end - change day + 1 of the period's
days. Each line's amount is its net x remaining / days, rounded half-up (away from zero) to the currency's
minor unit once, so a credit and a charge of equal lines cancel exactly (ADR 0003).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from receivables.money import MONEY_CONTEXT, quantize
from receivables.subscriptions.calendar import Period


def prorated_amount(net: Decimal, remaining_days: int, period_days: int, currency: str) -> Decimal:
    with localcontext(MONEY_CONTEXT):
        return quantize(net * remaining_days / period_days, currency)


def proration_lines(
    old_lines: Sequence[Mapping[str, Any]],
    new_lines: Sequence[Mapping[str, Any]],
    invoiced: Period,
    change_day: date,
    currency: str,
    locale: str,
) -> list[dict[str, Any]]:
    """The lines for the next invoice; none when the change falls outside the invoiced period."""
    if not invoiced.start <= change_day <= invoiced.end:
        return []
    remaining = (invoiced.end - change_day).days + 1
    span = (
        f"{change_day:%d.%m.%Y}–{invoiced.end:%d.%m.%Y}"
        if locale == "de"
        else (f"{change_day.isoformat()} – {invoiced.end.isoformat()}")
    )
    unused, rest = (
        ("Nicht genutzte Zeit", "Restzeit") if locale == "de" else ("Unused time on", "Remaining time on")
    )
    lines: list[dict[str, Any]] = []
    for sign, label, source in ((-1, unused, old_lines), (1, rest, new_lines)):
        for line in source:
            amount = sign * prorated_amount(Decimal(line["net"]), remaining, invoiced.days, currency)
            lines.append(
                {
                    "sku": line["sku"],
                    "description": f"{label} {line['description']} ({span})",
                    "quantity": Decimal(1),
                    "unit_price": amount,
                    "tax_rate": Decimal(line["tax_rate"]),
                    "discount_percent": Decimal(0),
                    "net": amount,
                    "vat_category": line.get("vat_category", "S"),
                }
            )
    return lines
