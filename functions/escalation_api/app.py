"""`GET /invoices/{id}/escalation`: where the escalation of an invoice stands, with its history."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import escalation_view
from receivables.http import API_KEY, InvoiceId, create_api, documented, json_response, require_caller
from receivables.invoices import get_own_invoice
from receivables.observability import logger
from receivables.settings import TableSettings, load

app = create_api()


@app.get(
    "/invoices/<invoice_id>/escalation",
    summary="Where an overdue invoice stands in the escalation (tasks, alerts, payment plan, collections)",
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(200, "The escalation.", 401, 403, 404),
)
def read_escalation(invoice_id: InvoiceId) -> Response[str]:
    caller = require_caller(app, "orders")
    table = load(TableSettings).table_name
    invoice = get_own_invoice(table, invoice_id, caller.storefront_id)
    return json_response(200, escalation_view(table, invoice))


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
