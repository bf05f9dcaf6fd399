"""Invoice reads for storefronts; follow-up tasks and dispute resolution for the finance team."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import document_store
from receivables.disputes import resolve_dispute
from receivables.errors import FieldError, InvalidRequest, NotFound
from receivables.http import create_api, json_response, parse_json_body, require_caller
from receivables.invoices import get_invoice, hosted_url, list_invoices, public_invoice
from receivables.observability import logger
from receivables.orders import get_customer
from receivables.pagination import decode_token, encode_token, page_size
from receivables.payments import list_invoice_payments, public_payment
from receivables.settings import InvoicesApiSettings, load
from receivables.tasks import complete_task, list_tasks

app = create_api()
INVOICE_STATUSES = ("open", "partially_paid", "paid", "void", "uncollectible")
TASK_STATUSES = ("open", "completed")


def _view(item: dict[str, Any], settings: InvoicesApiSettings) -> dict[str, Any]:
    pdf_url = None
    if item.get("pdf_key"):
        pdf_url = document_store.presigned_url(
            settings.documents_bucket, item["pdf_key"], f"{item['number']}.pdf"
        )
    return public_invoice(item, pdf_url, hosted_url(settings.public_base_url, item))


@app.get("/invoices/<invoice_id>")
def read_invoice(invoice_id: str) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    item = get_invoice(settings.table_name, invoice_id)
    if item["storefront_id"] != caller.storefront_id:
        raise NotFound(f"No invoice {invoice_id}.")
    return json_response(200, _view(item, settings))


@app.get("/invoices")
def read_invoices() -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    query = app.current_event.query_string_parameters or {}
    status = query.get("status")
    if status is not None and status not in INVOICE_STATUSES:
        raise InvalidRequest([FieldError("status", f"Use one of {', '.join(INVOICE_STATUSES)}.")])
    items, last = list_invoices(
        settings.table_name,
        caller.storefront_id,
        status,
        query.get("customer_id"),
        page_size(query.get("limit")),
        decode_token(query.get("next_token")),
    )
    return json_response(
        200, {"items": [_view(i, settings) for i in items], "next_token": encode_token(last)}
    )


@app.get("/invoices/<invoice_id>/payments")
def read_payments(invoice_id: str) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    item = get_invoice(settings.table_name, invoice_id)
    if item["storefront_id"] != caller.storefront_id:
        raise NotFound(f"No invoice {invoice_id}.")
    payments = [public_payment(p) for p in list_invoice_payments(settings.table_name, invoice_id)]
    return json_response(200, {"invoice_id": invoice_id, "items": payments})


@app.get("/customers/<customer_id>")
def read_customer(customer_id: str) -> Response[str]:
    require_caller(app, "finance")
    return json_response(200, get_customer(load(InvoicesApiSettings).table_name, customer_id))


@app.get("/tasks")
def read_tasks() -> Response[str]:
    require_caller(app, "finance")
    query = app.current_event.query_string_parameters or {}
    status = query.get("status", "open")
    if status not in TASK_STATUSES:
        raise InvalidRequest([FieldError("status", f"Use one of {', '.join(TASK_STATUSES)}.")])
    items, last = list_tasks(
        load(InvoicesApiSettings).table_name,
        status,
        page_size(query.get("limit")),
        decode_token(query.get("next_token")),
    )
    return json_response(200, {"items": items, "next_token": encode_token(last)})


@app.post("/tasks/<task_id>/complete")
def finish_task(task_id: str) -> Response[str]:
    caller = require_caller(app, "finance")
    body = parse_json_body(app, required=False)
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidRequest([FieldError("note", "A note is text of at most 2000 characters.")])
    return json_response(
        200, complete_task(load(InvoicesApiSettings).table_name, task_id, caller.storefront_id, note)
    )


@app.post("/invoices/<invoice_id>/dispute/resolve")
def settle_dispute(invoice_id: str) -> Response[str]:
    caller = require_caller(app, "finance")
    settings = load(InvoicesApiSettings)
    body = parse_json_body(app)
    note = body.get("note")
    resolved = resolve_dispute(
        settings.table_name,
        invoice_id,
        str(body.get("outcome", "")),
        caller.storefront_id,
        note if isinstance(note, str) else None,
    )
    return json_response(200, _view(resolved, settings))


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
