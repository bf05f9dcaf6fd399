"""Escalation step: a task for collections staff and the `invoice.escalated` event."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import open_escalation
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return open_escalation(load(TableSettings).table_name, str(event["invoice_id"]), int(event["level"]))
