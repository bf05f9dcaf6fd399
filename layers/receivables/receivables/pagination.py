"""Opaque `next_token`s for DynamoDB pagination, and the page-size rule."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from receivables.errors import FieldError, InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_token(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, separators=(",", ":")).encode()).decode()


def decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest(
            [FieldError("next_token", "Use the next_token of the previous page.")]
        ) from error
    if not isinstance(key, dict):
        raise InvalidRequest([FieldError("next_token", "Use the next_token of the previous page.")])
    return key
