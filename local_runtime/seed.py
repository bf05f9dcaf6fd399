"""What a team sets up by hand after `sam deploy`, done for the local system: a storefront API key and
the webhook signing secrets, from the environment variables of ../shared/API.md, and the Stripe keys of
the local Stripe stand-in."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from local_runtime.system import LocalSystem

LOCAL_STOREFRONT = "local-storefront"


def seed(system: LocalSystem) -> dict[str, str]:
    from receivables.api_keys import register_api_key

    api_key = os.environ.get("INVOICING_LOCAL_API_KEY", "dev-storefront-key")
    table = system.global_environment()["TABLE_NAME"]
    register_api_key(table, LOCAL_STOREFRONT, frozenset({"orders", "reports", "finance"}), api_key)
    webhook_secrets = {
        "StripeWebhookSecret": os.environ.get("INVOICING_LOCAL_STRIPE_SECRET", "whsec_local"),
        "GenericWebhookSecret": os.environ.get("INVOICING_LOCAL_WEBHOOK_SECRET", "local-webhook-secret"),
    }
    # Pay now's Stripe keys: those of the local Stripe stand-in (local_runtime/stripe_standin.py).
    stripe_keys = {"secret_key": system.stripe.secret_key, "publishable_key": system.stripe.publishable_key}
    secrets = webhook_secrets | {"StripeApiKeys": json.dumps(stripe_keys)}
    for logical_id, value in secrets.items():
        boto3.client("secretsmanager").put_secret_value(
            SecretId=system.resolver.refs[logical_id], SecretString=value
        )
    return {
        "api_key": api_key,
        "storefront_id": LOCAL_STOREFRONT,
        "stripe_webhook_secret": webhook_secrets["StripeWebhookSecret"].splitlines()[0],
    }
