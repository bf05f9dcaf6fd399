"""SNS subscriber: SES's bounce, complaint and delivery events for our emails, each applied once.

SNS invokes asynchronously (one record per invocation); an error is retried by Lambda and then lands in the
dead-letter queue (Globals), so an event for a message not recorded yet is simply retried.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.email_feedback import SesEvent, apply_feedback
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    table = load(TableSettings).table_name
    applied = []
    for record in event["Records"]:
        outcome = apply_feedback(table, SesEvent.model_validate(json.loads(record["Sns"]["Message"])))
        logger.info(
            "email feedback applied",
            extra={"invoice_id": outcome.invoice_id, "purpose": outcome.purpose, "status": outcome.status},
        )
        applied.append({"invoice_id": outcome.invoice_id, "status": outcome.status})
    return {"applied": applied}
