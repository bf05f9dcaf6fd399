"""The HTTP edge shared by every API function: problem+json errors in one place, and who is calling.

Every error leaves as `application/problem+json` (RFC 9457) with the contract's `errors` list, so a
storefront developer sees each bad field at once. Unexpected failures are logged and answered with a
generic 500 problem that reveals nothing internal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from receivables.errors import DomainError, FieldError, InvalidRequest

PROBLEM_JSON = "application/problem+json"
logger = Logger()


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


def create_api() -> APIGatewayHttpResolver:
    """A resolver whose failures all become problem responses."""
    app = APIGatewayHttpResolver()

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

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem(500, "Internal error", "internal", "The request failed; it is safe to retry it.")

    return app


def parse_json_body(app: APIGatewayHttpResolver, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400 naming the body."""
    raw = app.current_event.decoded_body
    if not raw:
        if required:
            raise BadRequest("Send a JSON object body.", [FieldError("body", "required")])
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadRequest("The body is not valid JSON.", [FieldError("body", "not valid JSON")]) from error
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", [FieldError("body", "must be an object")])
    return body


@dataclass(frozen=True)
class Caller:
    storefront_id: str
    scopes: frozenset[str]


def require_caller(app: APIGatewayHttpResolver, scope: str) -> Caller:
    """The authorizer resolves keys; the function decides (see docs/decisions/0002-api-key-authorizer.md)."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    storefront_id = str(context.get("storefront_id") or "")
    if not storefront_id:
        raise Unauthenticated("Send a valid storefront API key in the x-api-key header.")
    scopes = frozenset(str(context.get("scopes") or "").split())
    if scope not in scopes:
        raise Forbidden(f"This key lacks the '{scope}' scope.")
    return Caller(storefront_id=storefront_id, scopes=scopes)
