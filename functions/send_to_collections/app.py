"""Escalation step: no plan accepted in time - the invoice goes to collections, with a task for the team."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import send_to_collections
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, bool]:
    table = load(TableSettings).table_name
    return {"in_collections": send_to_collections(table, str(event["invoice_id"]), int(event["level"]))}
