"""VAT rates per country, from the `eu-vat-rates-data` package (the European Commission's TEDB, checked
daily by its publisher; the pinned version's data is dated in `DATA_VERSION`).

A rate change arrives as a new pinned version. Issued invoices never move: the decided rate is stored on
each order line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache


@dataclass(frozen=True)
class CountryRates:
    country: str
    standard: Decimal
    reduced: tuple[Decimal, ...]  # the ordinary reduced rates, lowest first
    other_reduced: tuple[Decimal, ...]  # super-reduced and parking rates, accepted when named

    @property
    def all_reduced(self) -> tuple[Decimal, ...]:
        return tuple(sorted(set(self.reduced) | set(self.other_reduced)))


def _decimal(value: float | int) -> Decimal:
    # The package stores JSON numbers (19.0, 5.5): through the shortest repr, never the binary float.
    return Decimal(repr(value)).normalize()


@cache
def rates_for(country: str) -> CountryRates | None:
    """The country's rates, or None for a country the data does not cover."""
    import eu_vat_rates_data

    raw = eu_vat_rates_data.get_rate(country)
    if raw is None:
        return None
    others = [value for value in (raw["super_reduced"], raw["parking"]) if value is not None]
    return CountryRates(
        country=country.upper(),
        standard=_decimal(raw["standard"]),
        reduced=tuple(sorted(_decimal(value) for value in raw["reduced"])),
        other_reduced=tuple(sorted(_decimal(value) for value in others)),
    )


@cache
def eu_member_states() -> frozenset[str]:
    """ISO 3166 codes of the EU-27 (Greece as GR; the VAT prefix EL is the VAT id's business)."""
    import eu_vat_rates_data

    return frozenset(code for code, rate in eu_vat_rates_data.get_all_rates().items() if rate["eu_member"])


def data_version() -> str:
    import eu_vat_rates_data

    return str(eu_vat_rates_data.data_version)
