"""The two Stripe API calls "Pay now" makes (create and retrieve a PaymentIntent), over HTTPS with the stdlib.

Not the `stripe` SDK: it adds ~150 ms of imports and 30 MB to the layer for two form-encoded requests
(docs/decisions/0037-stripe-pay-now.md). The base URL is `STRIPE_API_BASE`, which only the local runtime
sets (to its Stripe stand-in); deployed functions talk to api.stripe.com. The secret key never reaches a log.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

STRIPE_API = "https://api.stripe.com"
STRIPE_JS = "https://js.stripe.com/v3/"
_TIMEOUT_SECONDS = 10  # well inside the function's timeout; Stripe answers in well under a second


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str

    def __repr__(self) -> str:  # a key printed in a traceback or log would leak it
        return f"StripeKeys(publishable_key={self.publishable_key!r}, secret_key=***)"


class StripeNotConfigured(Exception):
    """The seller's Stripe keys are not (yet) in the secret: online payment is switched off."""


class StripeError(Exception):
    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"Stripe answered {status}: {code or ''} {message}".strip())
        self.status, self.code, self.message = status, code, message


def parse_keys(raw: str) -> StripeKeys:
    """The secret holds {"secret_key": "sk_...", "publishable_key": "pk_..."}; a fresh stack's random
    placeholder (or anything else) means Stripe is not set up."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise StripeNotConfigured("the Stripe keys secret is not JSON") from None
    secret, publishable = (
        (data.get("secret_key"), data.get("publishable_key")) if isinstance(data, dict) else ("", "")
    )
    if not (isinstance(secret, str) and secret.startswith(("sk_", "rk_"))):
        raise StripeNotConfigured("the Stripe keys secret has no secret_key")
    if not (isinstance(publishable, str) and publishable.startswith("pk_")):
        raise StripeNotConfigured("the Stripe keys secret has no publishable_key")
    return StripeKeys(secret_key=secret, publishable_key=publishable)


def js_url(api_base: str) -> str:
    """Where the page loads Stripe.js from: Stripe's CDN, or the local stand-in's copy."""
    base = api_base.rstrip("/")
    return STRIPE_JS if base == STRIPE_API else f"{base}/js.stripe.com/v3/"


class StripeClient:
    def __init__(self, keys: StripeKeys, api_base: str = STRIPE_API) -> None:
        self._keys = keys
        self._base = api_base.rstrip("/")

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        payment_method_types: list[str],
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> dict[str, Any]:
        form: list[tuple[str, str]] = [("amount", str(amount)), ("currency", currency.lower())]
        form += [(f"payment_method_types[{i}]", method) for i, method in enumerate(payment_method_types)]
        form += [(f"metadata[{key}]", value) for key, value in metadata.items()]
        return self._request("POST", "/v1/payment_intents", form, idempotency_key)

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(payment_intent_id, safe="")
        return self._request("GET", f"/v1/payment_intents/{quoted}", None, None)

    def _request(
        self, method: str, path: str, form: list[tuple[str, str]] | None, idempotency_key: str | None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._keys.secret_key}", "Stripe-Version": "2024-06-20"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # The base is api.stripe.com, or the local runtime's stand-in: never a URL from a request.
        request = urllib.request.Request(self._base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as failed:
            error = _error_of(failed.read())
            raise StripeError(failed.code, error.get("code"), str(error.get("message", ""))) from None


def _error_of(raw: bytes) -> dict[str, Any]:
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}
