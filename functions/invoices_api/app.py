"""Invoice reads for storefronts; follow-up tasks and dispute resolution for the finance team."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from receivables import document_store
from receivables.customers import get_customer
from receivables.disputes import resolve_dispute
from receivables.einvoice import EInvoiceFormat
from receivables.einvoice.records import XML_MEDIA_TYPE, invoice_xml
from receivables.http import API_KEY, InvoiceId, create_api, documented, json_response, require_caller
from receivables.invoices import get_own_invoice, hosted_url, list_invoices, public_invoice
from receivables.invoicing.store import read_item as read_invoice_item
from receivables.observability import logger
from receivables.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_token, encode_token
from receivables.payment_records import list_invoice_payments, public_payment
from receivables.seller import load_seller_profile
from receivables.settings import EInvoiceApiSettings, InvoicesApiSettings, load
from receivables.subscriptions.store import billed_invoice_ids
from receivables.tasks import complete_task, list_tasks

app = create_api()
Limit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")]
NextToken = Annotated[
    str | None, Query(max_length=2000, description="The `next_token` of the previous page.")
]


class TaskCompletion(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class DisputeResolution(BaseModel):
    outcome: Literal["upheld", "rejected"]
    note: str | None = Field(default=None, max_length=2000)


def _view(item: dict[str, Any], settings: InvoicesApiSettings) -> dict[str, Any]:
    pdf_url = None
    if item.get("pdf_key"):
        pdf_url = document_store.presigned_url(
            settings.documents_bucket, item["pdf_key"], f"{item['number']}.pdf"
        )
    return public_invoice(item, pdf_url, hosted_url(settings.public_base_url, item))


@app.get(
    "/invoices/<invoice_id>",
    summary="Read an invoice",
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(200, "The invoice.", 401, 403, 404),
)
def read_invoice(invoice_id: InvoiceId) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    return json_response(
        200, _view(get_own_invoice(settings.table_name, invoice_id, caller.storefront_id), settings)
    )


@app.get(
    "/invoices/<invoice_id>/e-invoice",
    summary="The invoice as an EN 16931 e-invoice: Factur-X/ZUGFeRD or XRechnung 3.0 CII XML",
    description=(
        "`zugferd`: the CII XML of profile EN 16931 that every invoice PDF embeds as factur-x.xml. "
        "`xrechnung`: XRechnung 3.0 CII, which needs the customer's `buyer_reference` (Leitweg-ID). "
        "A 422 problem lists every field the format requires and the invoice lacks."
    ),
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(
        200, "The e-invoice XML.", 400, 401, 403, 404, 422, ok_content_types=(XML_MEDIA_TYPE,)
    ),
)
def read_einvoice(
    invoice_id: InvoiceId,
    format_name: Annotated[
        EInvoiceFormat, Query(alias="format", description="zugferd (default) or xrechnung")
    ] = "zugferd",
) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(EInvoiceApiSettings)
    invoice = get_own_invoice(settings.table_name, invoice_id, caller.storefront_id)
    xml = invoice_xml(
        settings.table_name, invoice, load_seller_profile(settings.seller_profile_parameter), format_name
    )
    filename = f"{invoice['number']}.{'xrechnung' if format_name == 'xrechnung' else 'factur-x'}.xml"
    return Response(
        status_code=200,
        content_type=XML_MEDIA_TYPE,
        body=xml.decode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@app.get(
    "/invoices",
    summary="List invoices, newest first, by status, customer or subscription",
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(200, "A page of invoices (`items`, `next_token`).", 400, 401, 403),
)
def read_invoices(
    status: Annotated[
        Literal["open", "partially_paid", "paid", "void", "uncollectible"] | None, Query()
    ] = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    subscription_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = None,
    next_token: NextToken = None,
) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    if subscription_id:
        # The subscription's period records, newest period first (a Query), each naming its invoice.
        ids, last = billed_invoice_ids(
            settings.table_name, subscription_id, limit or DEFAULT_LIMIT, decode_token(next_token)
        )
        items = [
            invoice
            for invoice in (read_invoice_item(settings.table_name, i) for i in ids)
            if invoice is not None
            and invoice["storefront_id"] == caller.storefront_id
            and (status is None or invoice["status"] == status)
            and (customer_id is None or invoice["customer_id"] == customer_id)
        ]
        return json_response(
            200, {"items": [_view(i, settings) for i in items], "next_token": encode_token(last)}
        )
    items, last = list_invoices(
        settings.table_name,
        caller.storefront_id,
        status,
        customer_id,
        limit or DEFAULT_LIMIT,
        decode_token(next_token),
    )
    return json_response(
        200, {"items": [_view(i, settings) for i in items], "next_token": encode_token(last)}
    )


@app.get(
    "/invoices/<invoice_id>/payments",
    summary="The payments, refunds and chargebacks recorded against an invoice",
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(200, "The invoice's payments.", 401, 403, 404),
)
def read_payments(invoice_id: InvoiceId) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(InvoicesApiSettings)
    get_own_invoice(settings.table_name, invoice_id, caller.storefront_id)
    payments = [public_payment(p) for p in list_invoice_payments(settings.table_name, invoice_id)]
    return json_response(200, {"invoice_id": invoice_id, "items": payments})


@app.get(
    "/customers/<customer_id>",
    summary="Read a customer (finance scope)",
    tags=["Customers"],
    security=API_KEY,
    responses=documented(200, "The customer, with its version for If-Match.", 401, 403, 404),
)
def read_customer(customer_id: Annotated[str, Path(max_length=200)]) -> Response[str]:
    require_caller(app, "finance")
    return json_response(200, get_customer(load(InvoicesApiSettings).table_name, customer_id))


@app.get(
    "/tasks",
    summary="Follow-up tasks for the finance team (finance scope)",
    tags=["Tasks"],
    security=API_KEY,
    responses=documented(200, "A page of tasks (`items`, `next_token`).", 400, 401, 403),
)
def read_tasks(
    status: Annotated[Literal["open", "completed"], Query()] = "open",
    limit: Limit = None,
    next_token: NextToken = None,
) -> Response[str]:
    require_caller(app, "finance")
    items, last = list_tasks(
        load(InvoicesApiSettings).table_name,
        status,
        limit or DEFAULT_LIMIT,
        decode_token(next_token),
    )
    return json_response(200, {"items": items, "next_token": encode_token(last)})


@app.post(
    "/tasks/<task_id>/complete",
    summary="Complete a follow-up task, with an optional note (finance scope)",
    tags=["Tasks"],
    security=API_KEY,
    responses=documented(200, "The completed task.", 401, 403, 404, 409, 415),
)
def finish_task(
    task_id: Annotated[str, Path(max_length=200)],
    completion: Annotated[TaskCompletion | None, Body()] = None,
) -> Response[str]:
    caller = require_caller(app, "finance")
    note = completion.note if completion else None
    return json_response(
        200, complete_task(load(InvoicesApiSettings).table_name, task_id, caller.storefront_id, note)
    )


@app.post(
    "/invoices/<invoice_id>/dispute/resolve",
    summary="Resolve an open dispute: upheld or rejected (finance scope)",
    tags=["Invoices"],
    security=API_KEY,
    responses=documented(200, "The invoice after the resolution.", 401, 403, 404, 409, 415),
)
def settle_dispute(invoice_id: InvoiceId, resolution: Annotated[DisputeResolution, Body()]) -> Response[str]:
    caller = require_caller(app, "finance")
    settings = load(InvoicesApiSettings)
    resolved = resolve_dispute(
        settings.table_name, invoice_id, resolution.outcome, caller.storefront_id, resolution.note
    )
    return json_response(200, _view(resolved, settings))


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
