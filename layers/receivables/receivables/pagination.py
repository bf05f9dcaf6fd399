"""Opaque `next_token`s for DynamoDB pagination, and the page-size rule."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from receivables import aws
from receivables.errors import FieldError, InvalidRequest
from receivables.items import from_item, to_item

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


def filled_page(
    request: dict[str, Any], limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of an index Query with a filter: every page but the last is full.

    DynamoDB applies `Limit` before the filter, so a filtered Query may return fewer items than asked
    while more match further on; this keeps reading, then ends the page at the limit-th item and
    continues right after it (the key of that item on the queried index).
    """
    request = dict(request, Limit=limit)
    if start:
        request["ExclusiveStartKey"] = start
    found: list[dict[str, Any]] = []
    while True:
        page = aws.client("dynamodb").query(**request)
        found += [from_item(i) for i in page["Items"]]
        last = page.get("LastEvaluatedKey")
        if len(found) >= limit or last is None:
            break
        request["ExclusiveStartKey"] = last
    if len(found) > limit:
        found = found[:limit]
        index = request["IndexName"]
        last = to_item({name: found[-1][name] for name in ("pk", "sk", f"{index}pk", f"{index}sk")})
    return found, last
