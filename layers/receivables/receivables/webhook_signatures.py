"""Webhook signatures, checked on the raw body before anything is parsed.

Stripe (https://docs.stripe.com/webhooks#verify-manually): `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
HMAC-SHA256 over `"<t>.<raw body>"` with the endpoint secret. Several `v1` entries appear while a secret is
being rolled; any match is enough. `v0` (test-mode legacy) is ignored. The timestamp must be within the
tolerance of now, so a captured request cannot be replayed later.

Generic providers: `X-Webhook-Timestamp: <unix>` and `X-Webhook-Signature: v1=<hex>` over the same
`"<timestamp>.<raw body>"` string (../shared/API.md).

Comparisons are constant-time (`hmac.compare_digest`). Every secret of a rotation is tried.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    """The request is not provably from the provider; `reason` is safe to return and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def expected_signature(secret: str, timestamp: str, payload: bytes) -> str:
    signed = timestamp.encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_stripe(
    payload: bytes, header: str | None, secrets: Sequence[str], now: int, tolerance: int = TOLERANCE_SECONDS
) -> None:
    if not header:
        raise SignatureInvalid("missing Stripe-Signature header")
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("Stripe-Signature needs t= and at least one v1=")
    _check(payload, timestamp, candidates, secrets, now, tolerance)


def verify_generic(
    payload: bytes,
    timestamp: str | None,
    signature: str | None,
    secrets: Sequence[str],
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    if not timestamp or not signature:
        raise SignatureInvalid("missing X-Webhook-Timestamp or X-Webhook-Signature header")
    candidates = [
        value for name, _, value in (p.strip().partition("=") for p in signature.split(",")) if name == "v1"
    ]
    if not candidates:
        raise SignatureInvalid("X-Webhook-Signature needs v1=<hex>")
    _check(payload, timestamp, candidates, secrets, now, tolerance)


def _check(
    payload: bytes,
    timestamp: str,
    candidates: Sequence[str],
    secrets: Sequence[str],
    now: int,
    tolerance: int,
) -> None:
    if not timestamp.isdigit():
        raise SignatureInvalid("the signature timestamp is not a number")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureInvalid(f"the signature timestamp is more than {tolerance} s from now")
    expected = [expected_signature(secret, timestamp, payload) for secret in secrets if secret]
    # Every pair is compared (no early exit), so timing reveals nothing about which part matched.
    matched = False
    for signature in candidates:
        for wanted in expected:
            matched |= hmac.compare_digest(signature.encode(), wanted.encode())
    if not matched:
        raise SignatureInvalid("no signature matches the payload")
