"""Escalation step: a look at the accepted plan - paid, running (and when to look again) or defaulted."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.observability import logger
from receivables.payment_plans import check_plan
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str | None]:
    table = load(TableSettings).table_name
    return check_plan(table, str(event["invoice_id"]), int(event["grace_days"]))
