"""Credentials: API keys the authorizer no longer (or never) knew, and the tokens of customer links.

Through the local runtime's HTTP API: an unknown or revoked key is a 401 problem+json and nothing is
stored (docs/decisions/0002-api-key-authorizer.md). The hosted invoice page and the payment-plan offer
have no key: their link's token is the credential, so it must be unguessable - at least 128 bits straight
from `secrets` - and must not be, or be derived from, the record's id (docs/decisions/0009).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event

MIN_BITS = 128  # what a link credential needs; ours carry 192 (secrets.token_urlsafe(24))


@dataclass
class TokenSource:
    """Every secrets.token_urlsafe(n) call of the process, with what it returned."""

    calls: list[tuple[int, str]] = field(default_factory=list)

    def bytes_behind(self, token: str) -> int:
        sizes = [n for n, produced in self.calls if produced == token]
        assert sizes, f"{token!r} did not come from secrets.token_urlsafe"
        return sizes[0]


@pytest.fixture(scope="module")
def token_source() -> Iterator[TokenSource]:
    source = TokenSource()
    original = secrets.token_urlsafe

    def recording(nbytes: int | None = None) -> str:
        token = original(nbytes)
        source.calls.append((nbytes or 32, token))
        return token

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secrets, "token_urlsafe", recording)
        yield source


def _table(system: Any) -> str:
    return str(system.global_environment()["TABLE_NAME"])


def _stored(system: Any) -> set[str]:
    """Every item of both tables, in full, once the streams are drained."""
    assert system.settle()
    dynamodb = boto3.client("dynamodb")
    items: set[str] = set()
    for table in (_table(system), system.resolver.refs["IdempotencyTable"]):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items |= {json.dumps([table, item], sort_keys=True) for item in page["Items"]}
    return items


def _order(external_id: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load_event("http/create_order_body.json"))
    return body | {"external_id": external_id}


def _assert_unauthenticated(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["type"]) == (401, "/problems/unauthenticated")


def test_an_unknown_key_is_a_401_problem_and_nothing_is_stored(
    local_system: Any, served: RunningSystem
) -> None:
    before = _stored(local_system)
    unknown = "sk_" + secrets.token_urlsafe(32)

    created = served.post_order(_order("KEY-UNKNOWN"), key="key-unknown", api_key=unknown)
    listed = requests.get(served.url("/invoices"), headers={"x-api-key": unknown}, timeout=120)

    _assert_unauthenticated(created)
    _assert_unauthenticated(listed)
    assert _stored(local_system) == before


def test_a_revoked_key_is_a_401_problem_and_nothing_is_stored(
    local_system: Any, served: RunningSystem
) -> None:
    from receivables.api_keys import register_api_key, revoke_api_key

    key = register_api_key(_table(local_system), "security-shop", frozenset({"orders"}))
    accepted = served.post_order(_order("KEY-BEFORE"), key="key-before", api_key=key)
    assert accepted.status_code == 201, accepted.text
    revoke_api_key(_table(local_system), key)
    before = _stored(local_system)

    created = served.post_order(_order("KEY-REVOKED"), key="key-revoked", api_key=key)
    read = requests.get(
        served.url(f"/orders/{accepted.json()['id']}"), headers={"x-api-key": key}, timeout=120
    )

    _assert_unauthenticated(created)
    _assert_unauthenticated(read)
    assert _stored(local_system) == before


def test_a_missing_key_is_refused_before_any_function_runs(local_system: Any, served: RunningSystem) -> None:
    before = _stored(local_system)

    response = requests.post(served.url("/orders"), json=_order("KEY-NONE"), timeout=120)

    # API Gateway itself answers a missing identity header (decision 0002): 401, not problem+json
    assert response.status_code == 401
    assert _stored(local_system) == before


def test_api_keys_are_256_random_bits_stored_only_as_their_digest(
    local_system: Any, token_source: TokenSource
) -> None:
    from receivables.api_keys import register_api_key

    key = register_api_key(_table(local_system), "digest-shop", frozenset({"orders"}))

    assert key.startswith("sk_")
    assert token_source.bytes_behind(key.removeprefix("sk_")) * 8 == 256
    item = boto3.client("dynamodb").get_item(
        TableName=_table(local_system),
        Key={"pk": {"S": f"APIKEY#{hashlib.sha256(key.encode()).hexdigest()}"}, "sk": {"S": "APIKEY"}},
    )["Item"]
    assert key not in json.dumps(item)
    assert key.removeprefix("sk_") not in json.dumps(item)


def _random_bits(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


def _invoice_item(system: Any, invoice_id: str) -> dict[str, Any]:
    from receivables.items import from_item

    item = boto3.client("dynamodb").get_item(
        TableName=_table(system), Key={"pk": {"S": f"INVOICE#{invoice_id}"}, "sk": {"S": "INVOICE"}}
    )["Item"]
    return dict(from_item(item))


def _related_ids(item: dict[str, Any]) -> set[str]:
    ids = {item["id"], item["order_id"], item["customer_id"], item["number"]}
    return ids | {i.split("_", 1)[1] for i in ids if "_" in i}  # the hex behind inv_, ord_, cus_


@pytest.fixture(scope="module")
def invoices(served: RunningSystem, token_source: TokenSource) -> list[dict[str, Any]]:
    orders = [served.post_order(_order(f"TOKEN-{n}"), key=f"token-{n}").json() for n in range(3)]
    return [served.invoice_of(order["id"]) for order in orders]


def test_hosted_page_tokens_are_random_from_secrets_and_not_the_invoice_id(
    local_system: Any, served: RunningSystem, token_source: TokenSource, invoices: list[dict[str, Any]]
) -> None:
    tokens = []
    for invoice in invoices:
        item = _invoice_item(local_system, invoice["id"])
        token = item["hosted_token"]
        tokens.append(token)

        assert token_source.bytes_behind(token) * 8 == _random_bits(token) >= MIN_BITS
        assert invoice["hosted_url"].endswith(f"/i/{token}")
        assert not {i for i in _related_ids(item) if i in token or token in i}
        page = requests.get(served.url(f"/i/{token}"), timeout=120)
        assert page.status_code == 200
        assert invoice["number"] in page.text
    assert len(set(tokens)) == len(tokens)
    # neither the invoice id nor a near miss opens a page
    for guess in (invoices[0]["id"], tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")):
        assert requests.get(served.url(f"/i/{guess}"), timeout=120).status_code == 404


def test_payment_plan_tokens_are_random_from_secrets_and_not_the_invoice_id(
    local_system: Any, served: RunningSystem, token_source: TokenSource, invoices: list[dict[str, Any]]
) -> None:
    # given the escalation of an overdue invoice, started the way the dunning run starts it
    from receivables.reminders import RunSettings, start_escalation

    invoice = invoices[0]
    settings = RunSettings(
        table=_table(local_system),
        sender=local_system.resolver.refs["SenderAddress"],
        base_url=local_system.public_url,
        state_machine_arn=local_system.resolver.refs["EscalationStateMachine"],
    )
    start_escalation(settings, _invoice_item(local_system, invoice["id"]), level=1)

    # when it reaches the payment-plan offer
    def offered() -> str | None:
        escalation = _invoice_item(local_system, invoice["id"]).get("escalation") or {}
        return escalation.get("offer_token")

    assert local_system.settle()
    token = offered()
    assert token, "the escalation parked without offering a payment plan"

    # then its link's token is fresh randomness, unrelated to the invoice
    item = _invoice_item(local_system, invoice["id"])
    assert token_source.bytes_behind(token) * 8 == _random_bits(token) >= MIN_BITS
    assert not {i for i in _related_ids(item) if i in token or token in i}
    assert token != item["hosted_token"]
    offer = requests.get(served.url(f"/payment-plans/{token}"), timeout=120)
    assert offer.status_code == 200
    assert invoice["number"] in offer.text
    assert requests.get(served.url(f"/payment-plans/{invoice['id']}"), timeout=120).status_code == 404
