"""The HTTP edge shared by every API function: problem+json errors in one place, and who is calling.

Every error leaves as `application/problem+json` (RFC 9457) with the contract's `errors` list, so a
storefront developer sees each bad field at once. Unexpected failures are logged and answered with a
generic 500 problem that reveals nothing internal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel, Field

from receivables import json_body
from receivables.errors import DomainError, FieldError, InvalidRequest, field_errors_from_request_validation
from receivables.observability import logger

PROBLEM_JSON = "application/problem+json"


class Unauthenticated(DomainError):
    status = 401
    title = "Missing or unknown API key"
    type_slug = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "This API key may not use this operation"
    type_slug = "forbidden"


class BadRequest(DomainError):
    status = 400
    title = "The request is malformed"
    type_slug = "bad-request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


def problem(
    status: int, title: str, slug: str, detail: str, errors: list[FieldError] | None = None
) -> Response[str]:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(body), headers=headers or {}
    )


class FieldProblem(BaseModel):
    field: str = Field(description='The bad input, as the contract spells it: "lines[0].quantity".')
    message: str


class Problem(BaseModel):
    """Every error response (RFC 9457 problem details, `application/problem+json`)."""

    type: str = Field(
        description="A URI reference naming the kind of problem, e.g. /problems/invalid-request."
    )
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="Each bad field, for 400 and 422 answers to bad input."
    )


_PROBLEM_DESCRIPTIONS = {
    400: "The request is malformed (a header, the signature or the body); `errors` names each bad field.",
    401: "Missing, unknown or revoked API key.",
    403: "The API key lacks the scope this operation needs.",
    404: "No such resource for this caller.",
    409: "The request conflicts with the resource's state or reuses an Idempotency-Key with another body.",
    412: "The If-Match version is not the current one.",
    415: "The body's content type is not one this operation reads; `errors` names it.",
    422: "Invalid input; `errors` names every bad field.",
    503: "A service this operation needs (the payment provider) is unavailable or not set up; try later.",
}


def documented(
    ok_status: int,
    ok_description: str,
    *problems: int,
    ok_content_types: tuple[str, ...] = ("application/json",),
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of an operation: its success, then each problem+json error it can answer."""
    responses: dict[int, OpenAPIResponse] = {
        ok_status: {
            "description": ok_description,
            "content": {content_type: {"schema": {}} for content_type in ok_content_types},
        }
    }
    for status in sorted({*problems, 422}):
        responses[status] = {
            "description": _PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"model": Problem}},
        }
    return responses


API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
HTML = "text/html"


def page_responses(*problems: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a customer-facing page: HTML, also for an unknown link (a person reads it)."""
    responses = documented(200, "The page.", *problems, ok_content_types=(HTML,))
    responses[404] = {"description": "No document has this link.", "content": {HTML: {"schema": {}}}}
    return responses


InvoiceId = Annotated[str, Path(max_length=200)]
# The random part of a hosted-invoice or payment-plan link.
LinkToken = Annotated[str, Path(max_length=200, description="The unguessable token of the link.")]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"\S",
        description="Your unique key for this request: a replay with the same body returns the same answer.",
    ),
]


def create_api() -> APIGatewayHttpResolver:
    """A resolver whose failures all become problem responses.

    Validation is on: parameters and bodies declared with Query/Header/Body are checked against their
    types before a route runs, and the same declarations generate `openapi.json`.
    """
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=json_body.loads)

    @app.exception_handler(RequestValidationError)
    def _invalid_input(error: RequestValidationError) -> Response[str]:
        # Validation runs before the route, but an unknown key must not learn what a valid body is.
        authorizer = app.current_event.request_context.authorizer.get_lambda
        if authorizer is not None and "storefront_id" in authorizer and not authorizer["storefront_id"]:
            return problem(401, Unauthenticated.title, Unauthenticated.type_slug, _SEND_A_KEY)
        fields = field_errors_from_request_validation(error.errors())
        if all(e["loc"][:1] == ("header",) for e in error.errors()):
            return problem(400, BadRequest.title, BadRequest.type_slug, _count(fields), fields)
        return problem(422, InvalidRequest.title, InvalidRequest.type_slug, _count(fields), fields)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response[str]:
        errors = error.errors if isinstance(error, InvalidRequest | BadRequest) else None
        return problem(error.status, error.title, error.type_slug, error.detail, errors)

    @app.exception_handler(IdempotencyValidationError)
    def _key_reused(_: Exception) -> Response[str]:
        return problem(
            409,
            "Idempotency-Key reused",
            "idempotency-key-reused",
            "This Idempotency-Key was already used with a different request body.",
        )

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def _in_progress(_: Exception) -> Response[str]:
        return problem(
            409,
            "Request in progress",
            "request-in-progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return problem(404, "Not found", "not-found", f"No route for {app.current_event.path}.")

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_: Exception) -> Response[str]:
        return problem(
            422,
            InvalidRequest.title,
            InvalidRequest.type_slug,
            "The body is not UTF-8 text.",
            [FieldError("body", "not UTF-8")],
        )

    @app.exception_handler(ValueError)
    def _unreadable_body(error: ValueError) -> Response[str]:
        # Powertools' body parsing raises a bare ValueError for a multipart body without a boundary.
        if "multipart" in str(error):
            return _unsupported_media_type()
        return _internal_error()

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_: Exception) -> Response[str]:
        return _unsupported_media_type()

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response[str]:
        return _internal_error()

    return app


def _internal_error() -> Response[str]:
    logger.exception("unhandled error")
    return problem(500, "Internal error", "internal", "The request failed; it is safe to retry it.")


def _unsupported_media_type() -> Response[str]:
    return problem(
        415,
        "Unsupported media type",
        "unsupported-media-type",
        "Send the body as application/json.",
        [FieldError("content-type", "use application/json")],
    )


def _count(fields: list[FieldError]) -> str:
    return f"{len(fields)} field{'s are' if len(fields) != 1 else ' is'} invalid."


_SEND_A_KEY = "Send a valid storefront API key in the x-api-key header."


@dataclass(frozen=True)
class Caller:
    storefront_id: str
    scopes: frozenset[str]


def require_caller(app: APIGatewayHttpResolver, scope: str) -> Caller:
    """The authorizer resolves keys; the function decides (see docs/decisions/0002-api-key-authorizer.md)."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    storefront_id = str(context.get("storefront_id") or "")
    if not storefront_id:
        raise Unauthenticated(_SEND_A_KEY)
    scopes = frozenset(str(context.get("scopes") or "").split())
    if scope not in scopes:
        raise Forbidden(f"This key lacks the '{scope}' scope.")
    return Caller(storefront_id=storefront_id, scopes=scopes)
