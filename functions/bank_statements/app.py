"""Bank statements for finance: import a camt.053 or MT940 file (once per Idempotency-Key) and read how each
entry was matched (docs/decisions/0030-bank-statement-matching.md)."""

import hashlib
import uuid
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import aws
from receivables.bank.reconcile import import_statement, read_statement
from receivables.bank.statement_files import UnreadableStatement, parse_statement
from receivables.errors import FieldError, InvalidRequest
from receivables.http import (
    API_KEY,
    IdempotencyKey,
    create_api,
    documented,
    json_response,
    problem,
    require_caller,
)
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import OrdersSettings, SellerSettings, load

app = create_api()
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[storefront_id, idempotency_key]",
    payload_validation_jmespath="request_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
_STATEMENT_IDS = uuid.UUID("5d1c7a52-7f0e-4d8e-9a43-0e2b6c1f8a31")
STATEMENT_TYPES = {"application/xml": "camt.053", "text/xml": "camt.053", "text/plain": "MT940"}


class BankStatementSettings(SellerSettings, OrdersSettings):
    pass


def statement_id_for(storefront_id: str, idempotency_key: str) -> str:
    return f"bst_{uuid.uuid5(_STATEMENT_IDS, f'{storefront_id}|{idempotency_key}').hex}"


@cache
def _import_once() -> Any:
    """import_statement wrapped in Powertools idempotency (built on first use: it needs a client)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=load(BankStatementSettings).idempotency_table_name, boto3_client=aws.client("dynamodb")
    )

    def run(request: dict[str, str], body: bytes, content_type: str) -> dict[str, Any]:
        settings = load(BankStatementSettings)
        try:
            statement = parse_statement(body, content_type)
        except UnreadableStatement as unreadable:
            raise InvalidRequest(unreadable.errors, "The statement cannot be read.") from unreadable
        return import_statement(
            settings.table_name,
            statement,
            statement_id=statement_id_for(request["storefront_id"], request["idempotency_key"]),
            seller_id=load_seller_profile(settings.seller_profile_parameter).seller_id,
            storefront_id=request["storefront_id"],
            source="api",
        )

    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=IDEMPOTENCY
    )(run)


@app.post(
    "/bank-statements",
    summary="Import a bank statement (camt.053 .001.02/.001.08 as application/xml, MT940 as text/plain)",
    description=(
        "Finance scope, once per Idempotency-Key. Each entry is applied once across all statements (the"
        " bank's reference, else account, date, amount and text); credits are matched by invoice number,"
        " else by amount and payer; the rest becomes unapplied money with a finance task."
    ),
    tags=["Payments"],
    security=API_KEY,
    responses=documented(
        202, "`id`, `entries`, `matched`, `unmatched`, `already_recorded`.", 400, 401, 403, 409, 415
    ),
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {
                    "schema": {"type": "string", "description": "camt.053.001.02 or .001.08"}
                },
                "text/plain": {"schema": {"type": "string", "description": "MT940 (SWIFT, German :86:)"}},
            },
        }
    },
)
def post_statement(idempotency_key: IdempotencyKey) -> Response[str]:
    caller = require_caller(app, "finance")
    content_type = (app.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in STATEMENT_TYPES:
        return problem(
            415,
            "Unsupported media type",
            "unsupported-media-type",
            "Send a camt.053 as application/xml or an MT940 as text/plain.",
            [FieldError("content-type", "use application/xml or text/plain")],
        )
    raw = app.current_event.decoded_body or ""
    body = raw.encode() if isinstance(raw, str) else raw
    if not body.strip():
        raise InvalidRequest([FieldError("body", "send the statement file")], "The statement is empty.")
    request = {
        "storefront_id": caller.storefront_id,
        "idempotency_key": idempotency_key.strip(),
        "request_sha256": hashlib.sha256(content_type.encode() + b"\n" + body).hexdigest(),
    }
    summary = _import_once()(request=request, body=body, content_type=content_type)
    logger.info(
        "bank statement imported", extra={"statement_id": summary["id"], "entries": summary["entries"]}
    )
    return json_response(202, summary)


@app.get(
    "/bank-statements/<statement_id>",
    summary="A bank statement's entries and how each was matched (finance scope)",
    tags=["Payments"],
    security=API_KEY,
    responses=documented(200, "The statement with `items`: each entry and its `match`.", 401, 403, 404),
)
def get_statement(statement_id: Annotated[str, Path(min_length=1, max_length=100)]) -> Response[str]:
    require_caller(app, "finance")
    settings = load(BankStatementSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    return json_response(200, read_statement(settings.table_name, statement_id, seller.seller_id))


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
