"""Money arithmetic: Decimal amounts rounded to the currency's minor unit, never float.

The number of minor digits per currency (JPY 0, EUR 2, BHD 3) comes from ISO 4217 through the
`iso4217` package, so a new or changed currency needs a dependency bump, not a code change.
Rounding is ROUND_HALF_UP ("kaufmännisches Runden"), the commercial rounding German invoices use.
See docs/decisions/0003-money-and-rounding.md.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from functools import cache

import iso4217

# Precision far above any invoice amount, with every inexact or invalid operation trapped, so a huge
# amount raises instead of being silently rounded to the default context's 28 significant digits.
MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])


class UnsupportedCurrency(ValueError):
    """The code is not an ISO 4217 currency one can invoice in (unknown, or without a minor unit like XAU)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"{code!r} is not an ISO 4217 currency with a minor unit")
        self.code = code


_ALPHA_3 = re.compile(r"[A-Z]{3}")


def _exponent(code: str) -> int | None:
    # Only well-formed codes reach the cache, so arbitrary client input cannot grow it without bound.
    if not _ALPHA_3.fullmatch(code):
        return None
    return _iso4217_exponent(code)


@cache
def _iso4217_exponent(code: str) -> int | None:
    try:
        return iso4217.Currency(code).exponent
    except ValueError:
        return None


def is_invoicing_currency(code: str) -> bool:
    """True for an ISO 4217 code (upper case, e.g. "EUR"; callers upper-case Stripe's "eur") whose minor
    unit is defined.

    Codes without an exponent (XXX "no currency", XTS "testing", XAU gold...) cannot carry a price.
    """
    return _exponent(code) is not None


def minor_digits(currency: str) -> int:
    """Digits after the decimal point for `currency`: JPY 0, EUR 2, BHD 3."""
    exponent = _exponent(currency)
    if exponent is None:
        raise UnsupportedCurrency(currency)
    return exponent


@cache
def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` half-up to the currency's minor unit: 2.345 EUR -> 2.35, 1.5 JPY -> 2."""
    return amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP, context=MONEY_CONTEXT)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Integer minor units (cents) as payment providers count them: 23.80 EUR -> 2380.

    Raises ValueError when `amount` has more digits than the currency allows: an amount that was
    never rounded is a bug upstream, and rounding it here would hide it in a payment.
    """
    rounded = quantize(amount, currency)
    if rounded != amount:
        raise ValueError(f"{amount} has more than {minor_digits(currency)} decimal digits for {currency}")
    return int(rounded.scaleb(minor_digits(currency), context=MONEY_CONTEXT))


def from_minor_units(units: int, currency: str) -> Decimal:
    """The amount for integer minor units: 2380 EUR -> Decimal("23.80"), 1200 JPY -> Decimal("1200")."""
    return Decimal(units).scaleb(-minor_digits(currency), context=MONEY_CONTEXT)


def format_amount(amount: Decimal, currency: str) -> str:
    """The API's money string: exactly the currency's minor digits, plain notation ("23.80", "1200")."""
    rounded = quantize(amount, currency)
    if rounded.is_zero():
        rounded = rounded.copy_abs()  # never show "-0.00"
    return format(rounded, "f")
