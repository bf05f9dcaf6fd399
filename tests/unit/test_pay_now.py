"""Pay now's pure parts: which methods an invoice offers, the Stripe keys, and a declined card's event."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from receivables.pay_now import offered_methods
from receivables.provider_events import parse_stripe
from receivables.stripe_api import STRIPE_JS, StripeNotConfigured, js_url, parse_keys
from tests.support import load_event


def test_sepa_direct_debit_is_offered_for_euro_invoices_only() -> None:
    both = ("card", "sepa_debit")

    assert offered_methods(both, "EUR") == ["card", "sepa_debit"]
    assert offered_methods(both, "CHF") == ["card"]
    assert offered_methods(("sepa_debit",), "EUR") == ["sepa_debit"]
    assert offered_methods((), "EUR") == []


@pytest.mark.parametrize(
    "raw",
    [
        "Xq3kR8s0pLm2",  # a fresh stack's generated placeholder
        json.dumps({"secret_key": "sk_test_1"}),
        json.dumps({"secret_key": "whatever", "publishable_key": "pk_test_1"}),
        json.dumps(["sk_test_1", "pk_test_1"]),
    ],
)
def test_keys_that_are_not_a_secret_and_a_publishable_key_mean_stripe_is_not_set_up(raw: str) -> None:
    with pytest.raises(StripeNotConfigured):
        parse_keys(raw)


def test_the_secret_key_never_shows_in_the_keys_repr() -> None:
    keys = parse_keys(json.dumps({"secret_key": "sk_live_abc123", "publishable_key": "pk_live_xyz"}))

    assert keys.secret_key == "sk_live_abc123"
    assert "sk_live_abc123" not in repr(keys)


def test_stripe_js_comes_from_stripe_or_from_the_local_stand_in() -> None:
    assert js_url("https://api.stripe.com") == STRIPE_JS
    assert js_url("http://127.0.0.1:4000/") == "http://127.0.0.1:4000/js.stripe.com/v3/"


def test_a_declined_payment_intent_is_a_failed_attempt_with_stripes_reason() -> None:
    body = json.dumps(load_event("stripe/payment_intent.payment_failed.json")).encode()

    event = parse_stripe(body)

    assert event.kind == "payment_failed"
    assert (event.invoice_id, event.payment_ref) == (
        "inv_c060d9732b6f5c158fe6ec18b68018b6",
        "pi_3QKx9cLkdIwHu7ix1dEcL1nE",
    )
    assert (event.amount, event.currency, event.method) == (Decimal("42.82"), "EUR", "card")
    assert event.reason == "Your card was declined."


def test_a_declined_payment_intent_of_no_invoice_of_ours_is_ignored() -> None:
    sample = load_event("stripe/payment_intent.payment_failed.json")
    sample["data"]["object"]["metadata"] = {}

    event = parse_stripe(json.dumps(sample).encode())

    assert event.kind == "ignored"
