"""Numbers, money, percentages, dates and country names as a reader of the document's locale expects them.

Renderer-neutral: the PDF, the emails and the hosted page all format through here, so an amount reads the
same everywhere. Babel's `Locale` objects are expensive to build (CLDR data is unpickled), so they are built
once per process; formatting a value then costs a few microseconds.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from receivables.money import minor_digits

# The document locales map to the regional variant whose conventions our customers expect: German as in
# Germany, English as in the UK and Ireland (day before month, the euro sign before the amount).
_BABEL_LOCALE_IDS: dict[str, str] = {"de": "de_DE", "en": "en_GB"}

# German invoices write dates numerically (22.11.2026); English readers get the month spelled out, because
# 11/22 and 22/11 are both read somewhere.
_DATE_FORMATS: dict[str, str] = {"de": "medium", "en": "long"}


@cache
def babel_locale(locale: str) -> BabelLocale:
    return BabelLocale.parse(_BABEL_LOCALE_IDS.get(locale, locale))


@cache
def _currency_pattern(locale: str, digits: int) -> babel_numbers.NumberPattern:
    # The locale's own currency pattern, with the digits of ISO 4217 (the ones amounts were rounded to, see
    # receivables.money) instead of CLDR's, which differ for a few currencies (IQD: 3 in ISO, 0 in CLDR).
    pattern: babel_numbers.NumberPattern = copy.copy(babel_locale(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


# Invoices repeat the same prices and rates on many lines; remembering recent results keeps a 300-line
# document from formatting the same amount hundreds of times. Keyed by the amount's text so that 2.5 and
# 2.50 (equal Decimals) cannot be confused where the digits matter.
@lru_cache(maxsize=4096)
def _format_money(amount_text: str, currency: str, locale: str) -> str:
    amount = Decimal(amount_text)
    if amount.is_zero():
        amount = amount.copy_abs()  # never "-0,00 €"
    pattern = _currency_pattern(locale, minor_digits(currency))
    return str(pattern.apply(amount, babel_locale(locale), currency=currency, currency_digits=False))


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """`1234.5, "EUR"` is "1.234,50 €" in German and "€1,234.50" in English: the currency's own digits."""
    return _format_money(str(amount), currency, locale)


@lru_cache(maxsize=1024)
def _format_decimal(value_text: str, locale: str) -> str:
    return babel_numbers.format_decimal(Decimal(value_text), locale=babel_locale(locale))


def format_decimal(value: Decimal, locale: str) -> str:
    """A quantity: "2,5" / "2.5", grouped thousands, at most three decimals, no trailing zeros."""
    return _format_decimal(str(value), locale)


@lru_cache(maxsize=256)
def _format_percent(percent_text: str, locale: str) -> str:
    fraction = Decimal(percent_text) / 100
    return babel_numbers.format_percent(fraction, locale=babel_locale(locale), decimal_quantization=False)


def format_percent(percent: Decimal, locale: str) -> str:
    """A rate given in percent: `Decimal("19")` is "19 %" in German and "19%" in English; 7.5 keeps its 5."""
    return _format_percent(str(percent.normalize()), locale)


def format_date(value: date, locale: str) -> str:
    """ "22.11.2026" in German, "22 November 2026" in English."""
    return babel_dates.format_date(value, _DATE_FORMATS.get(locale, "medium"), locale=babel_locale(locale))


def format_country(country_code: str, locale: str) -> str:
    """The country's name in the reader's language ("Österreich" / "Austria"); the code if CLDR lacks it."""
    return str(babel_locale(locale).territories.get(country_code.upper(), country_code))
