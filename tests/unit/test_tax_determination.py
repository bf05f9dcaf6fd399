"""The VAT category and rate of each line are decided from the parties and the line (decisions/0027):
the determination table, OSS, VAT ids that prove nothing, the 422 on a rate that differs, and pricing
per (category, rate)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.errors import InvalidRequest
from receivables.intake import OrderLineIn, parse_order
from receivables.pricing import price_order, totals_json
from receivables.seller import SellerProfile
from receivables.tax.categories import EXEMPTION_CODES, SupplyType, TaxCategory
from receivables.tax.lines import decide_order
from receivables.tax.rates import eu_member_states, rates_for
from receivables.tax.rules import Parties, RateProblem, decide_category, decide_rate

SELLER_VAT_ID = "DE811569869"
# A valid VAT id of each buyer state the tests use (python-stdnum's check digits hold for each).
VALID_VAT_IDS = {
    "AT": "ATU13585627",
    "BE": "BE0403170701",
    "DE": "DE136695976",
    "ES": "ESA28015865",
    "FR": "FR40303265045",
    "GR": "EL094259216",
    "IT": "IT00743110157",
    "NL": "NL004495445B01",
}


def seller(**changes: Any) -> SellerProfile:
    profile = {
        "name": "Muster Handel GmbH",
        "address": {"line1": "Musterstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "vat_id": SELLER_VAT_ID,
    }
    return SellerProfile.model_validate(profile | changes)


def decide(
    country: str,
    vat_id: str | None,
    supply_type: SupplyType = "goods",
    tax_category: TaxCategory = "standard",
    *,
    oss: bool = False,
    given_rate: str | None = None,
    seller_vat_id: str | None = SELLER_VAT_ID,
) -> tuple[str, Decimal | RateProblem, str | None]:
    parties = Parties("DE", seller_vat_id, country, vat_id, oss_registered=oss)
    decision = decide_category(parties, supply_type, tax_category)
    rate = decide_rate(decision, tax_category, None if given_rate is None else Decimal(given_rate))
    return decision.category, rate, decision.exemption_code


@pytest.mark.parametrize(
    ("buyer", "vat_id", "supply", "kind", "oss", "expected"),
    [
        # domestic: the seller's rates, whoever buys
        ("DE", VALID_VAT_IDS["DE"], "goods", "standard", False, ("S", Decimal(19), None)),
        ("DE", None, "services", "reduced", False, ("S", Decimal(7), None)),
        ("DE", None, "goods", "zero", False, ("Z", Decimal(0), None)),
        ("DE", None, "services", "exempt", False, ("E", Decimal(0), "VATEX-EU-132")),
        # another member state, a business with a valid VAT id: § 6a / § 13b UStG
        ("AT", VALID_VAT_IDS["AT"], "goods", "standard", False, ("K", Decimal(0), "VATEX-EU-IC")),
        ("GR", VALID_VAT_IDS["GR"], "goods", "reduced", True, ("K", Decimal(0), "VATEX-EU-IC")),
        ("FR", VALID_VAT_IDS["FR"], "services", "standard", False, ("AE", Decimal(0), "VATEX-EU-AE")),
        # another member state, a consumer: the seller's rate, or with OSS the buyer's country's
        ("AT", None, "goods", "standard", False, ("S", Decimal(19), None)),
        ("AT", None, "goods", "standard", True, ("S", Decimal(20), None)),
        ("NL", None, "services", "reduced", True, ("S", Decimal(9), None)),
        ("ES", None, "goods", "reduced", True, ("S", Decimal(10), None)),
        # outside the EU: export of goods (§ 6 UStG), services to businesses taxed where they are
        ("US", None, "goods", "standard", False, ("G", Decimal(0), "VATEX-EU-G")),
        ("CH", "CHE-123.456.789", "goods", "standard", True, ("G", Decimal(0), "VATEX-EU-G")),
        ("US", "12-3456789", "services", "standard", False, ("O", Decimal(0), "VATEX-EU-O")),
        ("US", None, "services", "standard", False, ("S", Decimal(19), None)),
        # exempt stays exempt abroad
        ("AT", VALID_VAT_IDS["AT"], "services", "exempt", False, ("E", Decimal(0), "VATEX-EU-132")),
    ],
)
def test_the_determination_table(
    buyer: str,
    vat_id: str | None,
    supply: SupplyType,
    kind: TaxCategory,
    oss: bool,
    expected: tuple[str, Decimal, str | None],
) -> None:
    assert decide(buyer, vat_id, supply, kind, oss=oss) == expected


@pytest.mark.parametrize(
    "vat_id",
    [
        "ATU13585628",  # check digit wrong
        VALID_VAT_IDS["DE"],  # valid, but another state's than the buyer's address
        "",
        None,
    ],
)
def test_a_vat_id_that_proves_no_business_in_the_buyers_state_is_a_consumer_sale(vat_id: str | None) -> None:
    assert decide("AT", vat_id, "goods") == ("S", Decimal(19), None)
    assert decide("AT", vat_id, "services", oss=True) == ("S", Decimal(20), None)


def test_without_its_own_vat_id_the_seller_cannot_supply_tax_free_within_the_eu() -> None:
    assert decide("AT", VALID_VAT_IDS["AT"], "goods", seller_vat_id=None) == ("S", Decimal(19), None)


def test_a_reduced_rate_must_be_named_where_the_country_has_several() -> None:
    category, problem, _ = decide("FR", None, "goods", "reduced", oss=True)
    assert category == "S"
    assert isinstance(problem, RateProblem)
    assert "several reduced VAT rates" in problem.message
    assert "5.5" in problem.message
    assert decide("FR", None, "goods", "reduced", oss=True, given_rate="5.5")[1] == Decimal("5.5")
    assert decide("FR", None, "goods", "reduced", oss=True, given_rate="2.1")[1] == Decimal(
        "2.1"
    )  # super-reduced
    assert isinstance(decide("FR", None, "goods", "reduced", oss=True, given_rate="7")[1], RateProblem)
    _, none_there, _ = decide("DK", None, "goods", "reduced", oss=True)
    assert isinstance(none_there, RateProblem)
    assert "no reduced VAT rate" in none_there.message


def test_a_rate_that_differs_from_the_decision_is_refused_with_the_decided_one() -> None:
    _, problem, _ = decide("DE", None, "goods", given_rate="25")
    assert isinstance(problem, RateProblem)
    assert "rate 19 %" in problem.message
    assert "VAT category S" in problem.message
    _, zero_owed, _ = decide("AT", VALID_VAT_IDS["AT"], "goods", given_rate="19")
    assert isinstance(zero_owed, RateProblem)
    assert "VAT category K" in zero_owed.message
    assert decide("DE", None, "goods", given_rate="19.00") == ("S", Decimal("19.00"), None)


BUYER_COUNTRIES = sorted(eu_member_states() | {"CH", "GB", "NO", "US", "JP", "CN"})


@settings(max_examples=150, deadline=None)
@given(
    buyer=st.sampled_from(BUYER_COUNTRIES),
    with_valid_vat_id=st.booleans(),
    supply=st.sampled_from(["goods", "services"]),
    kind=st.sampled_from(["standard", "zero", "exempt"]),
    oss=st.booleans(),
)
def test_every_decision_is_consistent_and_accepts_its_own_rate_back(
    buyer: str, with_valid_vat_id: bool, supply: SupplyType, kind: TaxCategory, oss: bool
) -> None:
    vat_id = VALID_VAT_IDS.get(buyer) if with_valid_vat_id else None
    category, rate, code = decide(buyer, vat_id, supply, kind, oss=oss)
    assert isinstance(rate, Decimal)

    if category == "S":
        country = buyer if (oss and buyer in eu_member_states() and buyer != "DE") else "DE"
        expected = rates_for(country)
        assert expected is not None
        assert rate == expected.standard
    else:
        assert rate == 0
    assert code == EXEMPTION_CODES.get(category)  # type: ignore[call-overload]
    assert (category == "K") == (supply == "goods" and buyer != "DE" and bool(vat_id) and kind != "exempt")
    assert (category == "AE") == (
        supply == "services" and buyer != "DE" and bool(vat_id) and kind != "exempt"
    )
    assert category != "E" or kind == "exempt"
    # the storefront may send the decided rate back; any other rate is refused
    assert decide(buyer, vat_id, supply, kind, oss=oss, given_rate=str(rate)) == (category, rate, code)
    assert isinstance(decide(buyer, vat_id, supply, kind, oss=oss, given_rate=str(rate + 1))[1], RateProblem)


def order(country: str, vat_id: str | None, lines: list[dict[str, Any]]) -> dict[str, Any]:
    postal_code = {"DE": "10115", "AT": "1010"}[country]  # each in its country's format (postal_codes.py)
    address = {"line1": "Hauptstr. 1", "city": "Wien", "postal_code": postal_code, "country": country}
    customer = {"email": "a@example.com", "name": "Kundin", "address": address, "vat_id": vat_id}
    defaults = {"sku": "A", "description": "Ding", "quantity": "1"}
    return {
        "external_id": "X-1",
        "customer": customer,
        "currency": "EUR",
        "lines": [defaults | line for line in lines],
    }


def test_an_order_is_refused_naming_each_line_whose_rate_differs() -> None:
    body = order(
        "DE",
        None,
        [{"unit_price": "10", "tax_rate": "19"}, {"unit_price": "10", "tax_rate": "25"}, {"unit_price": "1"}],
    )
    with pytest.raises(InvalidRequest) as refused:
        decide_order(parse_order(json.dumps(body)), seller())
    assert [error.field for error in refused.value.errors] == ["lines[1].tax_rate"]


def test_lines_leave_with_their_rate_and_category_and_the_body_cannot_set_the_category() -> None:
    body = order("AT", VALID_VAT_IDS["AT"], [{"unit_price": "10", "vat_category": "S"}, {"unit_price": "5"}])
    parsed = parse_order(json.dumps(body))
    assert [line.vat_category for line in parsed.lines] == [None, None]
    assert "vat_category" not in OrderLineIn.model_json_schema()["properties"]

    decided = decide_order(parsed, seller())

    assert [(line.vat_category, line.tax_rate) for line in decided.lines] == [("K", 0), ("K", 0)]
    services = decide_order(parsed, seller(default_supply_type="services"))
    assert {line.vat_category for line in services.lines} == {"AE"}
    named = parse_order(
        json.dumps(order("AT", VALID_VAT_IDS["AT"], [{"unit_price": "1", "supply_type": "services"}]))
    )
    assert decide_order(named, seller()).lines[0].vat_category == "AE"


def test_the_breakdown_has_one_subtotal_per_category_and_rate() -> None:
    body = order(
        "DE",
        None,
        [
            {"unit_price": "100.00"},
            {"unit_price": "10.00", "tax_category": "reduced"},
            {"unit_price": "30.00", "tax_category": "zero"},
            {"unit_price": "20.00", "tax_category": "exempt"},
            {"unit_price": "50.00", "tax_rate": "19"},
        ],
    )

    totals = totals_json(price_order(decide_order(parse_order(json.dumps(body)), seller())))

    assert totals["tax_breakdown"] == [
        {"rate": "19", "net": "150.00", "tax": "28.50", "category": "S", "exemption_code": None},
        {"rate": "7", "net": "10.00", "tax": "0.70", "category": "S", "exemption_code": None},
        {"rate": "0", "net": "30.00", "tax": "0.00", "category": "Z", "exemption_code": None},
        {"rate": "0", "net": "20.00", "tax": "0.00", "category": "E", "exemption_code": "VATEX-EU-132"},
    ]
    assert (totals["net"], totals["tax"], totals["gross"]) == ("210.00", "29.20", "239.20")


def test_the_rates_come_from_the_data_package_as_exact_decimals() -> None:
    germany, finland = rates_for("DE"), rates_for("FI")
    assert germany is not None
    assert (germany.standard, germany.reduced) == (Decimal(19), (Decimal(7),))
    assert finland is not None
    assert finland.standard == Decimal("25.5")
    assert len(eu_member_states()) == 27
    assert "GR" in eu_member_states()
    assert "GB" not in eu_member_states()


def test_a_credit_note_carries_the_vat_category_of_the_invoice_it_corrects() -> None:
    from receivables.credit_note_pricing import parse_credit_note, price_credit_note
    from receivables.credit_notes import _credit_note_record

    invoice = {
        "id": "inv_1",
        "number": "2026-000001",
        "seller_id": "default",
        "storefront_id": "shop",
        "customer_id": "cus_1",
        "customer": {"name": "Wiener Handels GmbH"},
        "issue_date": "2026-12-01",
        "supply_date": "2026-12-01",
        "totals": {
            "tax_breakdown": [
                {
                    "rate": Decimal(0),
                    "net": Decimal(50),
                    "tax": Decimal(0),
                    "category": "K",
                    "exemption_code": "VATEX-EU-IC",
                }
            ]
        },
    }
    request = parse_credit_note(json.dumps({"amount": "10.00", "reason": "Beschädigt"}))
    priced = price_credit_note(request, "EUR", [Decimal(0)], Decimal(50))

    record = _credit_note_record(
        "cn_1", "GS-2026-000001", invoice, request, priced, date(2026, 12, 2), "finance"
    )

    assert record["lines"][0]["vat_category"] == "K"
    assert record["totals"]["tax_breakdown"][0] | {"net": None} == {
        "rate": Decimal(0),
        "net": None,
        "tax": Decimal("0.00"),
        "category": "K",
        "exemption_code": "VATEX-EU-IC",
    }


def test_subscription_items_are_decided_for_the_stored_customer_and_named_as_items() -> None:
    from receivables.tax.lines import decide_for_customer

    items = parse_order(json.dumps(order("DE", None, [{"unit_price": "9", "tax_rate": "16"}]))).lines
    austrian = {"address": {"country": "AT"}, "vat_id": VALID_VAT_IDS["AT"]}

    with pytest.raises(InvalidRequest) as refused:
        decide_for_customer(items, {"address": {"country": "DE"}}, seller(), "items")
    assert [error.field for error in refused.value.errors] == ["items[0].tax_rate"]
    unrated = tuple(line.model_copy(update={"tax_rate": None}) for line in items)
    decided = decide_for_customer(unrated, austrian, seller(default_supply_type="services"), "items")
    assert [(line.vat_category, line.tax_rate) for line in decided] == [("AE", 0)]
