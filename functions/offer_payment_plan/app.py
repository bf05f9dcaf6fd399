"""Escalation step: the final notice with a payment-plan offer; the execution waits on its task token."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

# Every invocation renders the final notice: jinja2 and Babel are imported during init, not in the first
# invocation (docs/decisions/0019-cold-start.md). The layer imports them lazily for the other steps.
import receivables.rendering.emails  # noqa: F401
from receivables import mailer
from receivables.escalation import offer_payment_plan
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import EscalationSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    settings = load(EscalationSettings)
    mailer.use_configuration_set(settings.ses_configuration_set)
    offer_payment_plan(
        settings.table_name,
        str(event["invoice_id"]),
        int(event["level"]),
        str(event["task_token"]),
        settings.sender_address,
        settings.public_base_url,
        load_seller_profile(settings.seller_profile_parameter),
    )
    return {"offered": "true"}  # the answer comes later, through SendTaskSuccess
