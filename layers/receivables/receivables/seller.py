"""The seller printed on every invoice, from the SSM parameter the template creates."""

from __future__ import annotations

import json
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from receivables.documents import PostalAddress, Seller
from receivables.dunning import DunningPolicy, default_policy


class AddressConfig(BaseModel):
    model_config = ConfigDict(frozen=True)
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str = Field(min_length=2, max_length=2)


class SellerProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    seller_id: str = "default"
    name: str
    address: AddressConfig
    vat_id: str | None = None
    tax_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    # "register" in the JSON; renamed here because BaseModel has a method of that name
    commercial_register: str | None = Field(default=None, alias="register")
    timezone: str = "Europe/Berlin"
    dispute_window_days: int = 30
    # The seller's reminder schedule, fees and escalation point (dunning.py); customers may override it.
    dunning_policy: DunningPolicy = Field(default_factory=default_policy)
    # Tax determination (receivables.tax, decisions/0027): what a line sells when it does not say, and
    # whether the seller declares distance sales through the One-Stop-Shop (then B2C sales to other EU
    # states carry the buyer's country's rate).
    default_supply_type: Literal["goods", "services"] = "goods"
    oss_registered: bool = False
    # The DATEV export (datev.py, docs/decisions/0031): chart of accounts, the tax advisor's numbers
    # (Beraternummer, Mandantennummer) and the month the fiscal year begins in (WJ-Beginn).
    chart_of_accounts: Literal["SKR03", "SKR04"] = "SKR03"
    datev_consultant_number: int | None = Field(default=None, ge=1001, le=9999999)
    datev_client_number: int | None = Field(default=None, ge=1, le=99999)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    # "Pay now" on the hosted invoice page (pay_now.py, decisions/0037): the Stripe methods offered.
    payment_methods: tuple[Literal["card", "sepa_debit"], ...] = ("card", "sepa_debit")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_party(self) -> Seller:
        a = self.address
        return Seller(
            name=self.name,
            address=PostalAddress(
                line1=a.line1, line2=a.line2, city=a.city, postal_code=a.postal_code, country=a.country
            ),
            vat_id=self.vat_id,
            email=self.email,
            tax_number=self.tax_number,
            iban=self.iban,
            bic=self.bic,
            bank_name=self.bank_name,
            phone=self.phone,
            website=self.website,
            register=self.commercial_register,
        )


def load_seller_profile(parameter_name: str) -> SellerProfile:
    """Read through Powertools Parameters, cached for five minutes per container."""
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_parameter(parameter_name, max_age=300)
    return SellerProfile.model_validate(json.loads(str(raw)))
