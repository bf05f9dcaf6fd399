"""Finance corrections and records: void an invoice, issue credit notes, update a customer, allocate
unapplied money, and read each invoice's credit notes and audit trail
(docs/decisions/0013-voids-credit-notes-history.md, 0023-invoice-ledger.md)."""

import hashlib
import json
from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from receivables import aws, document_store
from receivables.allocations import AllocationRequest, allocate, allocation_id_for
from receivables.credit_notes import (
    CreditNoteRequest,
    credit_note_id_for,
    issue_credit_note,
    list_credit_notes,
    public_credit_note,
)
from receivables.customers import update_customer
from receivables.errors import FieldError
from receivables.history import list_history, public_entry
from receivables.http import (
    API_KEY,
    BadRequest,
    Caller,
    IdempotencyKey,
    InvoiceId,
    create_api,
    documented,
    json_response,
    require_caller,
)
from receivables.invoices import get_own_invoice, hosted_url, public_invoice
from receivables.money import format_amount
from receivables.observability import logger
from receivables.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_token, encode_token
from receivables.seller import load_seller_profile
from receivables.settings import RenderSettings, load
from receivables.unapplied import list_unapplied, public_unapplied
from receivables.voiding import MAX_REASON_LENGTH, void_invoice

app = create_api()
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[storefront_id, invoice_id, idempotency_key]",
    payload_validation_jmespath="request_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
ALLOCATION_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[storefront_id, payment_id, idempotency_key]",
    payload_validation_jmespath="request_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
PaymentId = Annotated[
    str, Path(min_length=1, max_length=300, description="The money's `id` from the listing.")
]


class AccountingApiSettings(RenderSettings):
    idempotency_table_name: str
    public_base_url: str


def _own_invoice(settings: AccountingApiSettings, invoice_id: str, caller: Caller) -> dict[str, Any]:
    return get_own_invoice(settings.table_name, invoice_id, caller.storefront_id)


def _invoice_view(item: dict[str, Any], settings: AccountingApiSettings) -> dict[str, Any]:
    pdf_url = None
    if item.get("pdf_key"):
        pdf_url = document_store.presigned_url(
            settings.documents_bucket, item["pdf_key"], f"{item['number']}.pdf"
        )
    return public_invoice(item, pdf_url, hosted_url(settings.public_base_url, item))


class VoidRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=MAX_REASON_LENGTH)


@app.post(
    "/invoices/<invoice_id>/void",
    summary="Void an unpaid invoice (finance scope); the journal reverses it",
    tags=["Accounting"],
    security=API_KEY,
    responses=documented(200, "The voided invoice.", 401, 403, 404, 409, 415),
)
def void(invoice_id: InvoiceId, request: Annotated[VoidRequest | None, Body()] = None) -> Response[str]:
    caller = require_caller(app, "finance")
    settings = load(AccountingApiSettings)
    _own_invoice(settings, invoice_id, caller)
    reason = (request.reason or "").strip() or None if request else None
    zone = load_seller_profile(settings.seller_profile_parameter).zone  # dates the Stornorechnung
    voided = void_invoice(settings.table_name, invoice_id, reason, caller.storefront_id, zone)
    logger.info("invoice voided", extra={"invoice_id": invoice_id})
    return json_response(200, _invoice_view(voided, settings))


@cache
def _issue_once() -> Any:
    """issue_credit_note wrapped in Powertools idempotency (built on first use: it needs a client)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=load(AccountingApiSettings).idempotency_table_name, boto3_client=aws.client("dynamodb")
    )

    def issue(request: dict[str, str], credit_note: CreditNoteRequest) -> dict[str, Any]:
        settings = load(AccountingApiSettings)
        item = issue_credit_note(
            settings.table_name,
            request["invoice_id"],
            credit_note,
            load_seller_profile(settings.seller_profile_parameter),
            credit_note_id_for(request["storefront_id"], request["invoice_id"], request["idempotency_key"]),
            request["storefront_id"],
        )
        return public_credit_note(item, None)

    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=IDEMPOTENCY
    )(issue)


@app.post(
    "/invoices/<invoice_id>/credit-notes",
    summary="Issue a credit note against an invoice (finance scope), once per Idempotency-Key",
    tags=["Accounting"],
    security=API_KEY,
    responses=documented(201, "The credit note (or its replay).", 400, 401, 403, 404, 409, 415),
)
def create_credit_note(
    invoice_id: InvoiceId,
    credit_note: Annotated[CreditNoteRequest, Body()],
    idempotency_key: IdempotencyKey,
) -> Response[str]:
    caller = require_caller(app, "finance")
    idempotency_key = idempotency_key.strip()
    settings = load(AccountingApiSettings)
    _own_invoice(settings, invoice_id, caller)
    request = {
        "storefront_id": caller.storefront_id,
        "invoice_id": invoice_id,
        "idempotency_key": idempotency_key,
        "request_sha256": _canonical_sha256(credit_note),
    }
    created = _issue_once()(request=request, credit_note=credit_note)
    logger.info("credit note issued", extra={"invoice_id": invoice_id, "credit_note_id": created["id"]})
    return json_response(201, created)


@app.get(
    "/invoices/<invoice_id>/credit-notes",
    summary="An invoice's credit notes, with their PDFs",
    tags=["Accounting"],
    security=API_KEY,
    responses=documented(200, "The credit notes.", 401, 403, 404),
)
def read_credit_notes(invoice_id: InvoiceId) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(AccountingApiSettings)
    invoice = _own_invoice(settings, invoice_id, caller)
    items = []
    for note in list_credit_notes(settings.table_name, invoice_id):
        pdf_url = None
        if note.get("pdf_key"):
            pdf_url = document_store.presigned_url(
                settings.documents_bucket, note["pdf_key"], f"{note['number']}.pdf"
            )
        items.append(public_credit_note(note, pdf_url))
    credited = format_amount(invoice.get("amount_credited", 0), invoice["currency"])
    return json_response(
        200,
        {
            "invoice_id": invoice_id,
            "invoice_number": invoice["number"],
            "amount_credited": credited,
            "items": items,
        },
    )


@app.get(
    "/invoices/<invoice_id>/history",
    summary="An invoice's audit trail",
    tags=["Accounting"],
    security=API_KEY,
    responses=documented(200, "The history entries, oldest first.", 401, 403, 404),
)
def read_history(invoice_id: InvoiceId) -> Response[str]:
    caller = require_caller(app, "orders")
    settings = load(AccountingApiSettings)
    _own_invoice(settings, invoice_id, caller)
    entries = [public_entry(item) for item in list_history(settings.table_name, invoice_id)]
    return json_response(200, {"invoice_id": invoice_id, "items": entries})


def _canonical_sha256(body: BaseModel) -> str:
    """The same key with a different body is a conflict; key order and whitespace are not."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@app.get(
    "/payments",
    summary="Money no invoice took: unapplied payments and customer credit, oldest first (finance scope)",
    tags=["Payments"],
    security=API_KEY,
    responses=documented(200, "A page of unapplied money (`items`, `next_token`).", 400, 401, 403),
)
def read_unapplied(
    status: Annotated[Literal["unapplied"], Query(description="Only `unapplied` is listed.")],
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
    ] = None,
    next_token: Annotated[
        str | None, Query(max_length=2000, description="The previous page's `next_token`.")
    ] = None,
) -> Response[str]:
    require_caller(app, "finance")
    settings = load(AccountingApiSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    items, last = list_unapplied(
        settings.table_name, seller.seller_id, limit or DEFAULT_LIMIT, decode_token(next_token)
    )
    return json_response(
        200, {"items": [public_unapplied(i) for i in items], "next_token": encode_token(last)}
    )


@cache
def _allocate_once() -> Any:
    """allocate wrapped in Powertools idempotency (built on first use: it needs a client)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=load(AccountingApiSettings).idempotency_table_name, boto3_client=aws.client("dynamodb")
    )

    def allocate_money(request: dict[str, str], allocation: AllocationRequest) -> dict[str, Any]:
        settings = load(AccountingApiSettings)
        return allocate(
            settings.table_name,
            request["payment_id"],
            allocation,
            seller_id=load_seller_profile(settings.seller_profile_parameter).seller_id,
            storefront_id=request["storefront_id"],
            allocation_id=allocation_id_for(
                request["storefront_id"], request["payment_id"], request["idempotency_key"]
            ),
            request_sha256=request["request_sha256"],
        )

    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=ALLOCATION_IDEMPOTENCY
    )(allocate_money)


@app.post(
    "/payments/<payment_id>/allocate",
    summary="Put unapplied money or customer credit on invoices (finance scope), once per Idempotency-Key",
    description="All allocations apply or none; each settles fees, interest, then the invoice (§ 367 BGB).",
    tags=["Payments"],
    security=API_KEY,
    responses=documented(
        200, "What remains unapplied, and each invoice's new state.", 400, 401, 403, 404, 409, 415
    ),
)
def allocate_payment(
    payment_id: PaymentId,
    allocation: Annotated[AllocationRequest, Body()],
    idempotency_key: IdempotencyKey,
) -> Response[str]:
    caller = require_caller(app, "finance")
    request = {
        "storefront_id": caller.storefront_id,
        "payment_id": payment_id,
        "idempotency_key": idempotency_key.strip(),
        "request_sha256": _canonical_sha256(allocation),
    }
    allocated = _allocate_once()(request=request, allocation=allocation)
    logger.info(
        "money allocated", extra={"money_id": payment_id, "allocation_id": allocated["allocation_id"]}
    )
    return json_response(200, allocated)


def _expected_version(header: str | None) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"`; `*` or no header: any version."""
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 12:
        raise BadRequest(
            "If-Match must be the customer's version (see its ETag).",
            [FieldError("If-Match", 'a version number such as "3"')],
        )
    return int(tag)


@app.patch(
    "/customers/<customer_id>",
    summary="Change a customer's contact, address, locale or dunning overrides (finance scope)",
    description="JSON Merge Patch: a null member removes it. Send If-Match with the version from the ETag.",
    tags=["Customers"],
    security=API_KEY,
    responses=documented(
        200, "The customer, with its new version in the ETag.", 400, 401, 403, 404, 412, 415
    ),
)
def patch_customer(
    customer_id: Annotated[str, Path(max_length=200)],
    patch: Annotated[dict[str, Any], Body(description="The fields to change.")],
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=40)] = None,
) -> Response[str]:
    caller = require_caller(app, "finance")
    expected = _expected_version(if_match)
    customer = update_customer(
        load(AccountingApiSettings).table_name, customer_id, patch, expected, caller.storefront_id
    )
    return json_response(200, customer, headers={"ETag": f'"{customer["version"]}"'})


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    ALLOCATION_IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
