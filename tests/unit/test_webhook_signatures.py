"""Webhook signature checks, cross-checked against Stripe's own library."""

from __future__ import annotations

import pytest
import stripe

from receivables.webhook_signatures import SignatureInvalid, verify_generic, verify_stripe
from tests.support import REPOSITORY, generic_signature_headers, stripe_signature

BODY = (REPOSITORY / "events" / "stripe" / "payment_intent.succeeded.json").read_bytes()
NOW = 1_795_338_000


def test_a_header_made_by_stripes_library_verifies() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), "whsec_local", timestamp=NOW)

    verify_stripe(BODY, header, ["whsec_local"], now=NOW + 10)


def test_our_test_signature_is_one_stripe_accepts() -> None:
    header = stripe_signature(BODY, "whsec_local", at=NOW)

    assert stripe.WebhookSignature.verify_header(BODY, header, "whsec_local", tolerance=None)


def test_any_v1_of_a_rotation_is_enough_and_v0_is_ignored() -> None:
    good = stripe_signature(BODY, "whsec_new", at=NOW).split(",")[1]
    header = f"t={NOW},v0={'0' * 64},v1={'f' * 64},{good}"

    verify_stripe(BODY, header, ["whsec_old", "whsec_new"], now=NOW)
    with pytest.raises(SignatureInvalid):
        verify_stripe(BODY, f"t={NOW},v0={good.split('=')[1]}", ["whsec_new"], now=NOW)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        (stripe_signature(BODY, "whsec_other", at=NOW), BODY, NOW),  # forged
        (stripe_signature(BODY, "whsec_local", at=NOW), BODY.replace(b"4282", b"1"), NOW),  # body changed
        (stripe_signature(BODY, "whsec_local", at=NOW), BODY, NOW + 301),  # too old
        (stripe_signature(BODY, "whsec_local", at=NOW + 301), BODY, NOW),  # from the future
        (None, BODY, NOW),
        ("v1=abc", BODY, NOW),
        ("t=soon,v1=abc", BODY, NOW),
    ],
    ids=["forged", "body-changed", "stale", "future", "missing", "no-timestamp", "bad-timestamp"],
)
def test_what_stripe_would_not_have_sent_is_rejected(header: str | None, body: bytes, now: int) -> None:
    with pytest.raises(SignatureInvalid):
        verify_stripe(body, header, ["whsec_local"], now=now)


def test_the_generic_scheme_signs_timestamp_and_body() -> None:
    headers = generic_signature_headers(b'{"id": "x"}', "s3cret", at=NOW)

    verify_generic(
        b'{"id": "x"}', headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], ["s3cret"], NOW
    )
    with pytest.raises(SignatureInvalid):
        verify_generic(
            b'{"id": "y"}', headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], ["s3cret"], NOW
        )
    with pytest.raises(SignatureInvalid):
        verify_generic(b'{"id": "x"}', headers["X-Webhook-Timestamp"], None, ["s3cret"], NOW)
