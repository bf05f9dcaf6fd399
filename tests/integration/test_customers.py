"""PATCH /customers/{id} on the sample events: intake's validation, versions, audit, issued invoices kept."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support import load_event

SAMPLE_INVOICE = "inv_c060d9732b6f5c158fe6ec18b68018b6"
SAMPLE_CUSTOMER = "cus_dcc46d538724594a91ed3d9e66117e26"


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _patch(
    system: Any,
    body: Any = None,
    if_match: str | None = None,
    customer_id: str = SAMPLE_CUSTOMER,
    **authorizer: str,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    event = load_event("accounting_api/update_customer.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/customers/{customer_id}"
    if body is not None:
        event["body"] = json.dumps(body)
    if if_match is None:
        del event["headers"]["if-match"]
    else:
        event["headers"]["if-match"] = if_match
    event["requestContext"]["authorizer"]["lambda"].update(authorizer)
    response = _invoke(system, "AccountingApiFunction", event)
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def _customer(system: Any) -> dict[str, Any]:
    event = load_event("invoices_api/get_invoice.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/customers/{SAMPLE_CUSTOMER}"
    event["requestContext"]["authorizer"]["lambda"]["scopes"] = "finance"
    response = _invoke(system, "InvoicesApiFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(response["body"]))


def _fields(problem: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["message"] for error in problem["errors"]}


def _updates(system: Any) -> list[dict[str, Any]]:
    return [e["detail"]["data"] for e in system.events() if e["detail-type"] == "customer.updated"]


def test_the_sample_patch_merges_the_address_sets_sms_reminders_and_is_audited(local_system: Any) -> None:
    created = _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    assert created["statusCode"] == 201
    assert local_system.settle()
    assert _customer(local_system)["version"] == 1

    status, customer, headers = _patch(local_system, if_match='"1"')
    assert local_system.settle()

    assert (status, headers["ETag"]) == (200, '"2"')
    assert customer["address"] == {
        "line1": "Neue Straße 5",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    assert (customer["reminder_channel"], customer["phone"], customer["version"]) == (
        "email_and_sms",
        "+4915112345678",
        2,
    )
    assert _customer(local_system) == customer
    assert _updates(local_system) == [
        {
            "customer_id": SAMPLE_CUSTOMER,
            "changed_fields": ["address", "reminder_channel", "phone"],
            "changed_by": "local-storefront",
            "version": 2,
        }
    ]
    table = local_system.global_environment()["TABLE_NAME"]
    history = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
        ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{SAMPLE_CUSTOMER}"}, ":h": {"S": "HISTORY#"}},
    )["Items"]
    assert [h["changes"]["M"]["address"]["M"]["old"]["M"]["line1"]["S"] for h in history] == ["Hauptstr. 1"]


def test_the_issued_invoice_keeps_the_address_it_was_issued_with(local_system: Any) -> None:
    invoice = json.loads(
        _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))["body"]
    )

    assert invoice["customer"]["address"]["line1"] == "Hauptstr. 1"


def test_a_stale_if_match_is_412_and_changes_nothing(local_system: Any) -> None:
    status, problem, _ = _patch(local_system, {"name": "Anna Schmidt AG"}, if_match='"1"')
    malformed = _patch(local_system, {"name": "Anna Schmidt AG"}, if_match="version-two")

    assert (status, problem["status"]) == (412, 412)
    assert malformed[0] == 400
    assert _customer(local_system)["name"] == "Anna Schmidt GmbH"


def test_every_bad_field_is_named_with_intakes_rules(local_system: Any) -> None:
    status, problem, _ = _patch(
        local_system,
        {
            "email": "not-an-email",
            "address": {"country": "XX", "postal_code": ""},
            "reminder_channel": "pigeon",
            "dunning_overrides": {
                "steps": [
                    {"name": "a", "offset_days": 5, "template": "reminder"},
                    {"name": "b", "offset_days": 1, "template": "reminder"},
                ],
                "endless_every_days": 0,
                "colour": "red",
            },
            "id": "cus_other",
        },
    )

    assert status == 422
    assert set(_fields(problem)) == {
        "email",
        "address.country",
        "address.postal_code",
        "reminder_channel",
        "dunning_overrides.steps",
        "dunning_overrides.endless_every_days",
        "dunning_overrides.colour",
        "id",
    }
    assert _customer(local_system)["version"] == 2


def test_sms_needs_a_phone_and_a_vat_id_must_match_the_address_country(local_system: Any) -> None:
    no_phone = _patch(local_system, {"phone": None})
    bad_phone = _patch(local_system, {"phone": "0151 123"})
    foreign_vat = _patch(local_system, {"address": {"country": "AT", "postal_code": "1010"}})

    assert (no_phone[0], _fields(no_phone[1])) == (422, {"phone": "SMS reminders need a phone number"})
    assert set(_fields(bad_phone[1])) == {"phone"}
    assert set(_fields(foreign_vat[1])) == {"vat_id"}


def test_a_postal_code_must_have_the_format_of_the_address_country(local_system: Any) -> None:
    # the stored German postal code "10115" has a digit too many for Austria
    moved = _patch(local_system, {"address": {"country": "AT", "city": "Wien"}, "vat_id": None})
    not_german = _patch(local_system, {"address": {"postal_code": "ABC"}})

    assert (moved[0], set(_fields(moved[1]))) == (422, {"address.postal_code"})
    assert (not_german[0], set(_fields(not_german[1]))) == (422, {"address.postal_code"})
    assert _customer(local_system)["address"]["postal_code"] == "10115"


def test_overrides_are_stored_as_given_and_null_removes_a_field(local_system: Any) -> None:
    overrides = {
        "steps": [{"name": "reminder_1", "offset_days": 3, "template": "reminder", "late_fee_fixed": "5.00"}]
    }

    status, customer, _ = _patch(
        local_system, {"dunning_overrides": overrides, "vat_id": None, "locale": "en"}
    )
    assert local_system.settle()

    assert status == 200
    assert customer["dunning_overrides"] == overrides
    assert (customer["vat_id"], customer["locale"], customer["version"]) == (None, "en", 3)
    assert _updates(local_system)[-1]["changed_fields"] == ["locale", "vat_id", "dunning_overrides"]


def test_a_patch_that_changes_nothing_writes_nothing(local_system: Any) -> None:
    before = len(_updates(local_system))

    status, customer, headers = _patch(local_system, {"name": "  Anna Schmidt GmbH ", "locale": "en"})
    assert local_system.settle()

    assert (status, customer["version"], headers["ETag"]) == (200, 3, '"3"')
    assert len(_updates(local_system)) == before


def test_unknown_customers_bodies_and_scopes_are_refused(local_system: Any) -> None:
    assert _patch(local_system, {"name": "X"}, customer_id="cus_" + "0" * 32)[0] == 404
    assert _patch(local_system, ["name"])[0] == 422
    assert _patch(local_system, {"name": "X"}, scopes="orders")[0] == 403
