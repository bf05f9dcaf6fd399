"""Request bodies as the API reads them: JSON numbers become Decimal (never a binary float), NaN and
Infinity are not JSON, and a model's validation names every bad field (InvalidRequest)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from receivables.errors import FieldError, InvalidRequest, field_errors_from_pydantic

Model = TypeVar("Model", bound=BaseModel)


def _reject_json_constant(name: str) -> NoReturn:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def loads(raw: str | bytes) -> Any:
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_json_constant)


def validated(model: type[Model], body: str | bytes | None) -> Model:
    """The body as `model`, or InvalidRequest; a missing, malformed or non-object body is the field "body"."""
    if body is None or not body.strip():
        raise InvalidRequest([FieldError("body", "A JSON object is required")])
    try:
        data = loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidRequest([FieldError("body", "Body is not valid JSON")]) from None
    if not isinstance(data, dict):
        raise InvalidRequest([FieldError("body", "Body should be a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(field_errors_from_pydantic(exc)) from None
