"""Each function's handler on its sample event from events/, against the emulated account."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support import load_event


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def test_authorizer_resolves_the_seeded_key_and_rejects_others(local_system: Any) -> None:
    known = _invoke(local_system, "AuthorizerFunction", load_event("authorizer/request.json"))
    unknown_event = load_event("authorizer/request.json")
    unknown_event["headers"]["x-api-key"] = "sk_unknown"
    unknown = _invoke(local_system, "AuthorizerFunction", unknown_event)

    assert known == {
        "isAuthorized": True,
        "context": {"storefront_id": "local-storefront", "scopes": "finance orders reports"},
    }
    assert unknown["context"]["storefront_id"] == ""


def test_a_revoked_key_is_unknown(local_system: Any) -> None:
    from receivables.api_keys import register_api_key, revoke_api_key

    table = local_system.global_environment()["TABLE_NAME"]
    key = register_api_key(table, "shop-2", frozenset({"orders"}))
    event = load_event("authorizer/request.json")
    event["headers"]["x-api-key"] = key
    assert _invoke(local_system, "AuthorizerFunction", event)["context"]["storefront_id"] == "shop-2"

    revoke_api_key(table, key)

    assert _invoke(local_system, "AuthorizerFunction", event)["context"]["storefront_id"] == ""


def test_create_order_event_stores_order_customer_and_outbox_event_together(local_system: Any) -> None:
    response = _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))

    assert response["statusCode"] == 201
    order = json.loads(response["body"])
    table = local_system.global_environment()["TABLE_NAME"]
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    entities = sorted(
        item["entity"]["S"] for item in items if "entity" in item and item["entity"]["S"] != "api_key"
    )
    assert entities == ["customer", "order", "order_reference", "outbox_event"]
    customer = next(i for i in items if i.get("entity", {}).get("S") == "customer")
    assert customer["id"]["S"] == order["customer_id"]
    assert customer["vat_id"]["S"] == "DE136695976"


def test_an_order_with_a_postal_code_not_of_its_country_is_a_422_naming_it(local_system: Any) -> None:
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = "SHOP-POSTAL-ABC"
    body["customer"]["address"]["postal_code"] = "ABC"  # the address is German: five digits
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), "order-postal-abc"

    response = _invoke(local_system, "OrdersApiFunction", event)

    assert (response["statusCode"], response["headers"]["Content-Type"]) == (422, "application/problem+json")
    problem = json.loads(response["body"])
    assert problem["status"] == 422
    assert [error["field"] for error in problem["errors"]] == ["customer.address.postal_code"]
    assert "postal code for DE" in problem["errors"][0]["message"]


def test_get_order_of_another_storefront_is_not_found(local_system: Any) -> None:
    created = json.loads(
        _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))["body"]
    )
    event = load_event("orders_api/get_order.json")
    event["pathParameters"]["order_id"] = created["id"]
    event["rawPath"] = f"/orders/{created['id']}"
    own = _invoke(local_system, "OrdersApiFunction", event)
    event["requestContext"]["authorizer"]["lambda"]["storefront_id"] = "another-shop"
    foreign = _invoke(local_system, "OrdersApiFunction", event)

    assert own["statusCode"] == 200
    assert json.loads(own["body"])["totals"]["gross"] == "42.82"
    assert foreign["statusCode"] == 404
    assert foreign["headers"]["Content-Type"] == "application/problem+json"


def test_an_external_id_belongs_to_one_order(local_system: Any) -> None:
    event = load_event("orders_api/create_order.json")
    event["body"] = event["body"].replace("SHOP-1001", "SHOP-UNIQUE")
    event["headers"]["idempotency-key"] = "unique-first"
    first = _invoke(local_system, "OrdersApiFunction", event)
    event["headers"]["idempotency-key"] = "another-key"
    second = _invoke(local_system, "OrdersApiFunction", event)

    assert first["statusCode"] == 201
    assert second["statusCode"] == 409
    assert "SHOP-UNIQUE" in json.loads(second["body"])["detail"]


def test_a_missing_idempotency_key_is_a_bad_request_and_stores_nothing(local_system: Any) -> None:
    table = local_system.global_environment()["TABLE_NAME"]
    assert local_system.settle()  # earlier tests' orders are still being invoiced in the background
    before = boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    event = load_event("orders_api/create_order.json")
    del event["headers"]["idempotency-key"]

    response = _invoke(local_system, "OrdersApiFunction", event)

    assert response["statusCode"] == 400
    assert boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"] == before


def test_publish_events_puts_the_outbox_event_on_the_bus(local_system: Any) -> None:
    response = _invoke(local_system, "PublishEventsFunction", load_event("publish_events/outbox_insert.json"))

    assert response == {"batchItemFailures": []}
    published = [
        e for e in local_system.events() if e["detail"]["id"] == "evt_538d5734d13a40b098881de969ac4400"
    ]
    assert len(published) == 1
    assert published[0]["detail-type"] == "order.received"
    assert published[0]["source"] == "receivables"
