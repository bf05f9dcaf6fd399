"""The determination table: which EN 16931 VAT category a line falls in, and at which rate.

Seller established in Germany (or another member state), per line (docs/decisions/0027):

| buyer                         | goods                              | services                              |
|-------------------------------|------------------------------------|---------------------------------------|
| same country                  | S (Z, E when the line says so)     | S (Z, E when the line says so)        |
| other EU state, valid VAT id  | K  § 4 Nr. 1b / § 6a UStG, Art. 138| AE § 13b UStG, § 3a (2), Art. 44/196  |
| other EU state, consumer      | S: seller's rate; OSS: buyer's (§ 3c, § 3a (5) UStG; Art. 33/58)          |
| outside the EU, business      | G  § 4 Nr. 1a / § 6 UStG, Art. 146 | O  § 3a (2) UStG (not taxable here)   |
| outside the EU, consumer      | G  § 4 Nr. 1a / § 6 UStG, Art. 146 | S  § 3a (1) UStG, seller's rate       |

A VAT id that python-stdnum finds invalid, or one of another state than the buyer's address, is no
evidence of a business (§ 6a (1) Nr. 2, § 13b (5) UStG need it): the buyer is treated as a consumer.
"exempt" on a line (an Art. 132 / § 4 Nr. 8-29 UStG supply) stays exempt wherever the buyer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from receivables.documents import VatCategory
from receivables.tax.categories import SupplyType, TaxCategory, exemption_code
from receivables.tax.rates import CountryRates, eu_member_states, rates_for


@dataclass(frozen=True)
class Parties:
    seller_country: str
    seller_vat_id: str | None
    buyer_country: str
    buyer_vat_id: str | None
    oss_registered: bool = False


@dataclass(frozen=True)
class Decision:
    category: VatCategory
    exemption_code: str | None
    rate_country: str | None  # whose rates apply (S); None when the category charges no VAT
    reason: str  # one phrase for the 422's message


def valid_eu_vat_id(vat_id: str | None, country: str) -> bool:
    """A VAT id with valid check digits issued by `country`'s member state (GR issues "EL" ids)."""
    if not vat_id:
        return False
    from stdnum.eu import vat as eu_vat

    number = vat_id.strip().upper()
    expected = "EL" if country.upper() == "GR" else country.upper()
    prefix = "EL" if number.startswith("GR") else number[:2]
    return prefix == expected and bool(eu_vat.is_valid(number))


def is_business(country: str, vat_id: str | None) -> bool:
    """EU buyers prove it by a valid VAT id of their state; elsewhere any tax id given is taken as one."""
    if country.upper() in eu_member_states():
        return valid_eu_vat_id(vat_id, country)
    return bool(vat_id and vat_id.strip())


def decide_category(parties: Parties, supply_type: SupplyType, tax_category: TaxCategory) -> Decision:
    seller, buyer = parties.seller_country.upper(), parties.buyer_country.upper()
    eu = eu_member_states()

    def decided(category: VatCategory, reason: str, rate_country: str | None = None) -> Decision:
        if category == "S" and tax_category == "zero":
            category, rate_country = "Z", None
        return Decision(category, exemption_code(category), rate_country, reason)

    if tax_category == "exempt":
        return decided("E", "an exempt supply")
    if buyer == seller:
        return decided("S", f"a domestic supply in {seller}", seller)
    business = is_business(buyer, parties.buyer_vat_id)
    if seller not in eu:
        # Our rules are the EU's: a seller elsewhere charges its own VAT at home and none abroad.
        return decided("O", f"a supply from {seller} outside its own country")
    if buyer in eu:
        if business and valid_eu_vat_id(parties.seller_vat_id, seller):
            if supply_type == "goods":
                return decided("K", f"an intra-community supply of goods to a business in {buyer}")
            return decided("AE", f"a service to a business in {buyer} (reverse charge)")
        if parties.oss_registered:
            return decided("S", f"a sale to a consumer in {buyer} under the OSS scheme", buyer)
        return decided("S", f"a sale to a consumer in {buyer} (seller's rate, no OSS registration)", seller)
    if supply_type == "goods":
        return decided("G", f"an export of goods to {buyer}")
    if business:
        return decided("O", f"a service to a business in {buyer} (taxable where it is established)")
    return decided("S", f"a service to a consumer in {buyer} (taxable where the seller is)", seller)


@dataclass(frozen=True)
class RateProblem:
    message: str


def decide_rate(
    decision: Decision, tax_category: TaxCategory, given: Decimal | None
) -> Decimal | RateProblem:
    """The line's rate, or why the rate given (or missing) cannot stand."""
    if decision.rate_country is None:
        expected: Decimal | None = Decimal(0)
        allowed: tuple[Decimal, ...] = (Decimal(0),)
    else:
        rates = rates_for(decision.rate_country)
        if rates is None:  # a country the rate data lacks: the storefront's rate is all there is
            return given if given is not None else RateProblem(_unknown(decision.rate_country))
        expected, allowed = _expected_and_allowed(rates, tax_category)
    if given is None:
        if expected is None:
            return RateProblem(_choose(decision, allowed))
        return expected
    if given in allowed:
        return given
    want = _join(allowed)
    return RateProblem(
        f"The VAT rate is decided, not taken: this line is {decision.reason}, VAT category "
        f"{decision.category}, rate {want} %. Send {want} or leave tax_rate out"
        if len(allowed) == 1
        else f"The VAT rate is decided, not taken: this line is {decision.reason}; the reduced rates "
        f"there are {want} %"
    )


def _expected_and_allowed(
    rates: CountryRates, tax_category: TaxCategory
) -> tuple[Decimal | None, tuple[Decimal, ...]]:
    if tax_category == "reduced":
        allowed = rates.all_reduced
        return (rates.reduced[0] if len(rates.reduced) == 1 else None), allowed
    return rates.standard, (rates.standard,)


def _join(rates: tuple[Decimal, ...]) -> str:
    return ", ".join(format(rate, "f") for rate in rates)


def _choose(decision: Decision, allowed: tuple[Decimal, ...]) -> str:
    if not allowed:
        return f'{decision.rate_country} has no reduced VAT rate: send tax_category "standard"'
    return (
        f"{decision.rate_country} has several reduced VAT rates ({_join(allowed)} %): name the line's "
        "in tax_rate"
    )


def _unknown(country: str) -> str:
    return f"No VAT rates are known for {country}: send the line's tax_rate"
