"""The SMS reminder state machine's task: the step's SMS, once, unless no longer due or wanted."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.observability import logger
from receivables.settings import SmsSettings, load
from receivables.sms_reminders import SmsRequest, send_sms_reminder


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    settings = load(SmsSettings)
    request = SmsRequest(str(event["invoice_id"]), str(event["step"]), str(event["description"]))
    outcome = send_sms_reminder(settings.table_name, settings.public_base_url, request)
    logger.info(
        "sms reminder", extra={"invoice_id": request.invoice_id, "step": request.step, "outcome": outcome}
    )
    return {"outcome": outcome}
