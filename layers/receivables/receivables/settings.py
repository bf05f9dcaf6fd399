"""Configuration read once from the environment, at the handler edge, into typed models."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

if TYPE_CHECKING:
    from receivables.stripe_api import StripeKeys

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class TableSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    table_name: str


class OrdersSettings(TableSettings):
    idempotency_table_name: str
    seller_profile_parameter: str  # the seller's country, VAT id and OSS registration decide each line's VAT


class EventBusSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    event_bus_name: str


def load(model: type[SettingsT]) -> SettingsT:
    """Validates the environment against `model`; a missing variable names itself in the error.

    Not cached: it costs microseconds, and the local runtime runs many functions in one process.
    """
    env = {key.lower(): value for key, value in os.environ.items()}
    try:
        return model.model_validate(env)
    except ValidationError as error:
        # a field names itself; a rule across fields (a model validator) gives its message
        missing = ", ".join(str(e["loc"][0]).upper() if e["loc"] else e["msg"] for e in error.errors())
        raise RuntimeError(f"configuration incomplete: {missing}") from error


class SellerSettings(TableSettings):
    seller_profile_parameter: str


class RenderSettings(SellerSettings):
    documents_bucket: str


class SendSettings(RenderSettings):
    sender_address: str
    public_base_url: str
    ses_configuration_set: str = ""


class InvoicesApiSettings(TableSettings):
    documents_bucket: str
    public_base_url: str


class EInvoiceApiSettings(InvoicesApiSettings):
    """`GET /invoices/{id}/e-invoice` builds the XML with the seller's details (decisions/0036)."""

    seller_profile_parameter: str


class HostedPageSettings(InvoicesApiSettings):
    seller_profile_parameter: str
    # "Pay now" (decisions/0037): the seller's Stripe keys, and where Stripe is (only the local runtime
    # sets STRIPE_API_BASE, to its stand-in). No keys secret: the page offers no online payment.
    stripe_api_keys_arn: str = ""
    stripe_api_base: str = "https://api.stripe.com"


def stripe_keys(secret_arn: str) -> StripeKeys:
    """The seller's Stripe keys from Secrets Manager through Powertools (cached 5 minutes); never logged."""
    from aws_lambda_powertools.utilities import parameters

    from receivables.stripe_api import StripeNotConfigured, parse_keys

    if not secret_arn:
        raise StripeNotConfigured("no Stripe keys secret")
    return parse_keys(str(parameters.get_secret(secret_arn, max_age=300)))


class NotifySettings(SellerSettings):
    sender_address: str
    public_base_url: str
    ses_configuration_set: str = ""


class WebhookSettings(SellerSettings):
    stripe_webhook_secret_arn: str
    generic_webhook_secret_arn: str


def webhook_secrets(provider: str) -> list[str]:
    """The provider's signing secrets, from Secrets Manager through Powertools (cached five minutes).

    The secret may hold several values, one per line, while a provider secret is being rotated.
    Never logged.
    """
    from aws_lambda_powertools.utilities import parameters

    settings = load(WebhookSettings)
    arn = settings.stripe_webhook_secret_arn if provider == "stripe" else settings.generic_webhook_secret_arn
    value = str(parameters.get_secret(arn, max_age=300))
    return [line.strip() for line in value.splitlines() if line.strip()]


class DunningSettings(SellerSettings):
    sender_address: str
    public_base_url: str
    escalation_state_machine_arn: str
    ses_configuration_set: str = ""
    sms_enabled: bool = False
    sms_state_machine_arn: str = ""
    plan_offer_days: int = 14
    write_off_after_days: int = 90

    @model_validator(mode="after")
    def _sms_needs_its_state_machine(self) -> DunningSettings:
        if self.sms_enabled and not self.sms_state_machine_arn:
            raise ValueError("SMS_ENABLED needs SMS_STATE_MACHINE_ARN")
        return self


class SmsSettings(TableSettings):
    """The SMS reminder task: the pay link in the text points at the hosted invoice page."""

    public_base_url: str


class EscalationSettings(SellerSettings):
    sender_address: str = ""
    public_base_url: str = ""
    ses_configuration_set: str = ""


class AggregatesSettings(SellerSettings):
    """The project_aggregates stream consumer: the table, and the seller's time zone for booking days."""


class ReportsSettings(SellerSettings):
    journal_accounts_parameter: str


class JournalExportSettings(ReportsSettings):
    documents_bucket: str


class DatevExportSettings(SellerSettings):
    documents_bucket: str


class SubscriptionsSettings(OrdersSettings):
    """The subscriptions API reads what order intake reads: items are order lines."""


class SubscriptionRunSettings(SellerSettings):
    billing_queue_url: str
