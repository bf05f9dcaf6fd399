"""Domain errors: named exceptions that one module at the HTTP edge turns into problem+json.

Each class carries what the problem document needs (`status`, `title`, `type_slug`, `detail`), so the
mapping stays a single generic function and the domain never builds HTTP responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    """One bad input field, named the way the API contract spells it: "lines[0].quantity"."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error the API reports to its caller as a problem document."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type_slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(DomainError):
    """The request body breaks the contract; `errors` names every bad field, not just the first."""

    status = 422
    title = "Invalid request"
    type_slug = "invalid-request"

    def __init__(self, errors: Iterable[FieldError], detail: str | None = None) -> None:
        self.errors: list[FieldError] = list(errors)
        count = len(self.errors)
        default_detail = f"{count} field{'s are' if count != 1 else ' is'} invalid."
        super().__init__(detail if detail is not None else default_detail)


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


# Pydantic prefixes the messages of errors raised inside validators; the API shows the message alone.
_PYDANTIC_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")

# Pydantic's wording names Python types ("valid dictionary or instance of CustomerIn"); say it in JSON.
_MESSAGES_BY_ERROR_TYPE = {
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dict_type": "Input should be an object",
    "list_type": "Input should be an array",
    "tuple_type": "Input should be an array",
}


def field_path(loc: tuple[str | int, ...]) -> str:
    """Pydantic's location as the contract's field path: ("lines", 0, "quantity") -> "lines[0].quantity".

    An empty location (the body as a whole) is reported as "body".
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


# Where Powertools' request validation found an error: the first part of its location.
_REQUEST_PARTS = {"body", "query", "path", "header", "cookie"}
_MESSAGES_BY_ERROR_TYPE |= {
    "json_invalid": "Body is not valid JSON",
    "unsupported_content_type": "Send the body as application/json",
}


def field_errors_from_pydantic(exc: ValidationError) -> list[FieldError]:
    """One FieldError per bad field (the first problem found for it), in the order pydantic reports them."""
    return field_errors_from_dicts(exc.errors(include_url=False))


def field_errors_from_request_validation(raw_errors: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    """The same, for Powertools' request validation, whose locations start with the request part:
    ("body", "lines", 0, "quantity") or ("query", "limit")."""
    return field_errors_from_dicts(raw_errors, request_parts=True)


def field_errors_from_dicts(
    raw_errors: Sequence[Mapping[str, Any]], request_parts: bool = False
) -> list[FieldError]:
    errors: dict[str, FieldError] = {}
    for error in raw_errors:
        loc = tuple(error["loc"])
        if request_parts and loc and loc[0] in _REQUEST_PARTS:
            part, loc = loc[0], loc[1:]
            if part == "body" and error["type"] == "json_invalid":
                loc = ()  # Powertools puts the parse position here
            elif part == "header" and loc:  # Powertools lowers header names; say them as documented
                loc = ("-".join(word.capitalize() for word in str(loc[0]).split("-")), *loc[1:])
        path = field_path(loc)
        if path in errors:
            continue
        message = _MESSAGES_BY_ERROR_TYPE.get(error["type"], error["msg"])
        for prefix in _PYDANTIC_MESSAGE_PREFIXES:
            message = message.removeprefix(prefix)
        errors[path] = FieldError(field=path, message=message)
    return list(errors.values())
