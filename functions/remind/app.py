"""Scheduled dunning run: reminders that are due, once each; escalations when the policy says so."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import mailer
from receivables.observability import logger, metrics
from receivables.reminders import RunSettings, run
from receivables.seller import load_seller_profile
from receivables.settings import DunningSettings, load


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = load(DunningSettings)
    mailer.use_configuration_set(settings.ses_configuration_set)
    counts = run(
        RunSettings(
            table=settings.table_name,
            sender=settings.sender_address,
            base_url=settings.public_base_url,
            state_machine_arn=settings.escalation_state_machine_arn,
            sms_enabled=settings.sms_enabled,
            sms_state_machine_arn=settings.sms_state_machine_arn,
            plan_offer_days=settings.plan_offer_days,
            write_off_after_days=settings.write_off_after_days,
        ),
        load_seller_profile(settings.seller_profile_parameter),
    )
    for name, value in counts.items():
        metrics.add_metric(name=f"Dunning{name.capitalize()}", unit=MetricUnit.Count, value=value)
    logger.info("dunning run", extra=counts | {"scheduled_for": event.get("time")})
    return counts
