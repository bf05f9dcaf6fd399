"""Escalation step: an invoice still unpaid long after collections is marked uncollectible."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import write_off
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, bool]:
    write_off(load(TableSettings).table_name, str(event["invoice_id"]))
    return {"written_off": True}
