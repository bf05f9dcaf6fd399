"""What payment providers tell us, parsed from their webhook bodies into one normalised shape.

Stripe sends its own event objects (https://docs.stripe.com/api/events); banks and other providers use
the generic format of ../shared/API.md. Both become `ProviderEvent`s, which the payments module applies.
Amounts arrive in minor units from Stripe (lowercase currency) and as decimal strings from the generic
format; both become Decimal in the currency's ISO 4217 digits. Nothing here touches AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from receivables import money
from receivables.errors import FieldError, field_errors_from_pydantic

# payment_failed: a declined card or a returned debit; kept in the invoice's payment history, applies nothing.
Kind = Literal["payment", "payment_failed", "refund", "dispute_opened", "dispute_closed", "ignored"]


class MalformedEvent(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class ProviderEvent:
    provider: str  # "stripe", or the generic body's provider name ("bank", ...)
    event_id: str  # the provider's id, applied once
    event_type: str
    kind: Kind
    occurred_at: str
    invoice_id: str | None = None
    invoice_number: str | None = None
    # The provider's id of the payment (Stripe PaymentIntent): refunds and disputes find the invoice by it,
    # and a payment reported twice (payment_intent.succeeded and checkout.session.completed) applies once.
    payment_ref: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    method: str = "unknown"
    cumulative: bool = False  # a refund amount that is the running total for the payment (Stripe)
    dispute_ref: str | None = None
    dispute_outcome: Literal["won", "lost"] | None = None
    reason: str | None = None  # why it is ignored, or the dispute reason
    payer: str | None = None  # who paid, as the provider reports it (shown with unapplied money)
    reference: str | None = None  # the payer's remittance text / reference


# ------------------------------------------------------------------------------------------- Stripe
class StripeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=255)
    created: int
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _has_object(cls, data: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data.get("object"), dict):
            raise ValueError("data.object must be an object")
        return data


class _StripeObject(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=255)
    currency: str = Field(min_length=3, max_length=3)
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not money.is_invoicing_currency(value.upper()):
            raise ValueError("not an ISO 4217 currency")
        return value.upper()


class _PaymentIntent(_StripeObject):
    amount_received: int = Field(ge=0)
    payment_method_types: list[str] = Field(default_factory=list)


class _FailedPaymentIntent(_StripeObject):
    amount: int = Field(ge=0)
    payment_method_types: list[str] = Field(default_factory=list)
    last_payment_error: dict[str, Any] | None = None


class _CheckoutSession(_StripeObject):
    amount_total: int = Field(ge=0)
    payment_intent: str | None = None
    payment_status: str
    payment_method_types: list[str] = Field(default_factory=list)


class _Charge(_StripeObject):
    amount_refunded: int = Field(ge=0)
    payment_intent: str | None = None


class _Dispute(_StripeObject):
    amount: int = Field(ge=0)
    charge: str | None = None
    payment_intent: str | None = None
    reason: str | None = None
    status: str


def parse_stripe(body: bytes) -> ProviderEvent:
    event = _validated(StripeEvent, _json(body), prefix="")
    occurred_at = datetime.fromtimestamp(event.created, UTC).isoformat(timespec="milliseconds")
    occurred_at = occurred_at.replace("+00:00", "Z")
    common: dict[str, Any] = {
        "provider": "stripe",
        "event_id": event.id,
        "event_type": event.type,
        "occurred_at": occurred_at,
    }
    raw = event.data["object"]
    if event.type == "payment_intent.succeeded":
        intent = _validated(_PaymentIntent, raw, prefix="data.object.")
        return _stripe_payment(common, intent, intent.id, intent.amount_received, intent.payment_method_types)
    if event.type == "payment_intent.payment_failed":
        failed = _validated(_FailedPaymentIntent, raw, prefix="data.object.")
        error = failed.last_payment_error or {}
        attempt = _stripe_payment(common, failed, failed.id, failed.amount, failed.payment_method_types)
        if attempt.kind == "ignored":
            return attempt
        # Stripe's message is written for the payer ("Your card was declined."); the page shows it.
        reason = str(error.get("message") or error.get("code") or "declined")[:500]
        return replace(attempt, kind="payment_failed", reason=reason)
    if event.type == "checkout.session.completed":
        session = _validated(_CheckoutSession, raw, prefix="data.object.")
        if session.payment_status != "paid":  # delayed methods complete later, with their own event
            return ProviderEvent(**common, kind="ignored", reason=f"payment_status {session.payment_status}")
        ref = session.payment_intent or session.id
        return _stripe_payment(common, session, ref, session.amount_total, session.payment_method_types)
    if event.type == "charge.refunded":
        charge = _validated(_Charge, raw, prefix="data.object.")
        return ProviderEvent(
            **common,
            kind="refund",
            invoice_id=charge.metadata.get("invoice_id"),
            payment_ref=charge.payment_intent or charge.id,
            amount=money.from_minor_units(charge.amount_refunded, charge.currency),
            currency=charge.currency,
            cumulative=True,
        )
    if event.type in ("charge.dispute.created", "charge.dispute.closed"):
        dispute = _validated(_Dispute, raw, prefix="data.object.")
        closed = event.type == "charge.dispute.closed"
        outcome: Literal["won", "lost"] | None = None
        if closed:
            outcome = "lost" if dispute.status == "lost" else "won"  # won, warning_closed: money stays
        return ProviderEvent(
            **common,
            kind="dispute_closed" if closed else "dispute_opened",
            payment_ref=dispute.payment_intent or dispute.charge,
            amount=money.from_minor_units(dispute.amount, dispute.currency),
            currency=dispute.currency,
            dispute_ref=dispute.id,
            dispute_outcome=outcome,
            reason=dispute.reason,
        )
    return ProviderEvent(**common, kind="ignored", reason="event type not used")


def _stripe_payment(
    common: dict[str, Any], obj: _StripeObject, ref: str, minor: int, methods: list[str]
) -> ProviderEvent:
    invoice_id = obj.metadata.get("invoice_id")
    if not invoice_id:
        return ProviderEvent(
            **common, kind="ignored", reason="no metadata.invoice_id: not one of our invoices"
        )
    return ProviderEvent(
        **common,
        kind="payment",
        invoice_id=invoice_id,
        payment_ref=ref,
        amount=money.from_minor_units(minor, obj.currency),
        currency=obj.currency,
        method=methods[0] if methods else "card",
    )


# ------------------------------------------------------------------------------------------ generic
class GenericPaymentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=255)
    type: Literal["payment.succeeded", "payment.refunded"]
    invoice_id: str | None = Field(default=None, max_length=255)
    invoice_number: str | None = Field(default=None, max_length=64)
    amount: str
    currency: str = Field(min_length=3, max_length=3)
    method: str = Field(default="bank_transfer", min_length=1, max_length=64)
    occurred_at: datetime
    provider: str = Field(default="generic", min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    payer: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=500)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not money.is_invoicing_currency(value):
            raise ValueError('Input should be an ISO 4217 currency code with a minor unit, e.g. "EUR"')
        return value

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(
                "Input should be an ISO 8601 instant with a time zone, e.g. 2026-11-22T09:00:00Z"
            )
        return value


def parse_generic(body: bytes) -> ProviderEvent:
    event = _validated(GenericPaymentEvent, _json(body), prefix="")
    errors: list[FieldError] = []
    if not event.invoice_id and not event.invoice_number:
        errors.append(FieldError("invoice_id", "Send invoice_id or invoice_number."))
    amount = _amount(event.amount, event.currency, errors)
    if errors:
        raise MalformedEvent(errors)
    assert amount is not None
    return ProviderEvent(
        provider=event.provider,
        event_id=event.id,
        event_type=event.type,
        kind="payment" if event.type == "payment.succeeded" else "refund",
        occurred_at=event.occurred_at.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        invoice_id=event.invoice_id,
        invoice_number=event.invoice_number,
        payment_ref=event.id,
        amount=amount,
        currency=event.currency,
        method=event.method,
        payer=event.payer,
        reference=event.reference,
    )


def _amount(text: str, currency: str, errors: list[FieldError]) -> Decimal | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.append(FieldError("amount", 'Input should be a decimal string, e.g. "12.34"'))
        return None
    digits = money.minor_digits(currency)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-digits)):
        errors.append(
            FieldError("amount", f"Input should be a positive amount with at most {digits} decimals")
        )
        return None
    return money.quantize(amount, currency)


# ------------------------------------------------------------------------------------------- shared
def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise MalformedEvent([FieldError("body", "not valid JSON")]) from error


def _validated(model: type[Any], raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise MalformedEvent([FieldError(prefix.rstrip(".") or "body", "Input should be an object")])
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise MalformedEvent(
            [
                FieldError(prefix + e.field if e.field != "body" else prefix.rstrip(".") or "body", e.message)
                for e in field_errors_from_pydantic(error)
            ]
        ) from error
