"""Pricing a credit note: the request (lines, or one gross amount at a rate) and its amounts.

Lines are priced like order lines (net per line rounded, VAT once per rate); one gross `amount` at a
`tax_rate` keeps exactly the gross finance typed (net = gross ÷ (1 + rate), VAT = the rest).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from receivables import json_body, money
from receivables.errors import FieldError, InvalidRequest
from receivables.intake import MAX_QUANTITY, MAX_UNIT_PRICE, DecimalInput, Percent
from receivables.invoicing.ledger import Balance
from receivables.pricing import TaxBreakdown, format_rate

MAX_CREDIT_LINES = 100
MAX_REASON_LENGTH = 500


# ------------------------------------------------------------------------------------ the request
def _one_to_max_lines(value: object) -> object:
    if isinstance(value, list | tuple) and not 1 <= len(value) <= MAX_CREDIT_LINES:
        raise ValueError(f"Input should have between 1 and {MAX_CREDIT_LINES} lines")
    return value


_BODY_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class CreditLineIn(BaseModel):
    model_config = _BODY_CONFIG

    description: Annotated[str, Field(min_length=1, max_length=1000)]
    quantity: Annotated[DecimalInput, Field(gt=0, le=MAX_QUANTITY, decimal_places=3)] = Decimal(1)
    # Decimal places depend on the invoice's currency: checked by price_credit_note.
    unit_price: Annotated[DecimalInput, Field(gt=0, le=MAX_UNIT_PRICE)]
    tax_rate: Percent


class CreditNoteRequest(BaseModel):
    """Either `lines`, or one gross `amount` at one `tax_rate` (optional when the invoice has one rate)."""

    model_config = _BODY_CONFIG

    lines: Annotated[tuple[CreditLineIn, ...], BeforeValidator(_one_to_max_lines)] | None = None
    amount: Annotated[DecimalInput, Field(gt=0, le=MAX_UNIT_PRICE)] | None = None
    tax_rate: Percent | None = None
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]


def parse_credit_note(body: str | bytes | None) -> CreditNoteRequest:
    """The validated request, or InvalidRequest naming every bad field. Numbers never pass through float."""
    return json_body.validated(CreditNoteRequest, body)


# ------------------------------------------------------------------------------------ the amounts
@dataclass(frozen=True)
class CreditLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal


@dataclass(frozen=True)
class PricedCredit:
    currency: str
    lines: tuple[CreditLine, ...]
    tax_breakdown: tuple[TaxBreakdown, ...]  # highest rate first
    net: Decimal
    tax: Decimal
    gross: Decimal


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: the request model rejects NaN and Infinity
    return max(0, -exponent)


def _rates_text(rates: Sequence[Decimal]) -> str:
    return ", ".join(format_rate(rate) for rate in rates)


def price_credit_note(
    request: CreditNoteRequest, currency: str, invoice_rates: Sequence[Decimal], creditable: Decimal
) -> PricedCredit:
    """The credit note's lines and totals, checked against the invoice it corrects.

    Lines are priced like order lines (net per line rounded, VAT once per rate on the rate's net sum).
    A gross `amount` is split so the gross stays exactly what was asked: net = gross / (1 + rate)
    rounded, VAT = gross - net. Raises InvalidRequest naming every bad field.
    """
    errors: list[FieldError] = []
    digits = money.minor_digits(currency)
    rates = sorted(set(invoice_rates), reverse=True)

    def check_rate(field: str, rate: Decimal) -> None:
        if rate not in rates:
            errors.append(
                FieldError(field, f"The invoice has no {format_rate(rate)} % VAT; use {_rates_text(rates)}")
            )

    def check_digits(field: str, amount: Decimal) -> None:
        if _places(amount) > digits:
            errors.append(
                FieldError(field, f"Input should have no more than {digits} decimal places for {currency}")
            )

    if (request.lines is None) == (request.amount is None):
        field = "lines" if request.lines is None else "amount"
        errors.append(FieldError(field, "Send either lines or an amount (with its tax_rate), not both"))
        raise InvalidRequest(errors)
    if request.lines is not None:
        if request.tax_rate is not None:
            errors.append(FieldError("tax_rate", "With lines, each line names its own tax_rate"))
        for index, line in enumerate(request.lines):
            check_digits(f"lines[{index}].unit_price", line.unit_price)
            check_rate(f"lines[{index}].tax_rate", line.tax_rate)
        if errors:
            raise InvalidRequest(errors)
        priced = _priced_lines(request.lines, currency)
        field = "lines"
    else:
        assert request.amount is not None
        rate = request.tax_rate
        if rate is None and len(rates) == 1:
            rate = rates[0]
        if rate is None:
            errors.append(
                FieldError("tax_rate", f"The invoice has several VAT rates; name one of {_rates_text(rates)}")
            )
        else:
            check_rate("tax_rate", rate)
        check_digits("amount", request.amount)
        if errors or rate is None:
            raise InvalidRequest(errors)
        priced = _priced_amount(request.amount, rate, request.reason, currency)
        field = "amount"
    if priced.gross <= 0:
        raise InvalidRequest([FieldError(field, "The credit rounds to nothing in this currency")])
    if priced.gross > creditable:
        shown = money.format_amount(max(creditable, Decimal(0)), currency)
        raise InvalidRequest(
            [
                FieldError(
                    field,
                    f"The credit ({money.format_amount(priced.gross, currency)} gross) exceeds what is left "
                    f"to credit on the invoice ({shown})",
                )
            ]
        )
    return priced


def _priced_lines(lines: Sequence[CreditLineIn], currency: str) -> PricedCredit:
    with localcontext(money.MONEY_CONTEXT):
        priced = tuple(
            CreditLine(
                line.description,
                line.quantity,
                line.unit_price,
                line.tax_rate,
                money.quantize(line.quantity * line.unit_price, currency),
            )
            for line in lines
        )
        net_by_rate: dict[Decimal, Decimal] = {}
        for line in priced:
            net_by_rate[line.tax_rate] = net_by_rate.get(line.tax_rate, Decimal(0)) + line.net
        breakdown = tuple(
            TaxBreakdown(rate, net=base, tax=money.quantize(base * rate / 100, currency))
            for rate, base in sorted(net_by_rate.items(), reverse=True)
        )
        net = sum((t.net for t in breakdown), Decimal(0))
        tax = sum((t.tax for t in breakdown), Decimal(0))
    return PricedCredit(currency, priced, breakdown, net, tax, net + tax)


def _priced_amount(gross: Decimal, rate: Decimal, description: str, currency: str) -> PricedCredit:
    with localcontext(money.MONEY_CONTEXT):
        net = money.quantize(gross * 100 / (100 + rate), currency)
        tax = gross - net
    line = CreditLine(description, Decimal(1), net, rate, net)
    return PricedCredit(currency, (line,), (TaxBreakdown(rate, net, tax),), net, tax, gross)


def settle_credit(balance: Balance, gross: Decimal) -> tuple[Balance, Decimal]:
    """The invoice's balance with `gross` more credited, and what becomes customer credit.

    Credit first reduces what is due; beyond that (the invoice was paid already), it is the customer's.
    """
    after = dataclasses.replace(balance, credited=balance.credited + gross)
    to_customer = max(-after.due, Decimal(0)) - max(-balance.due, Decimal(0))
    return after, to_customer
