"""Escalation step: the accepted instalment plan goes on the invoice and is dunned like due dates."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import create_payment_plan
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    table = load(TableSettings).table_name
    return {"instalments": create_payment_plan(table, str(event["invoice_id"]), str(event["offer_token"]))}
