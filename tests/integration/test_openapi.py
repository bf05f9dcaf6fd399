"""openapi.json is generated from the handlers, committed, current, and covers every served route."""

from __future__ import annotations

import json
from typing import Any

import requests

from local_runtime.openapi import COMMITTED, build, render
from local_runtime.template import Template
from tests.support import REPOSITORY

PAGE_ROUTES = {"/i/{token}", "/c/{token}", "/payment-plans/{token}", "/payment-plans/{token}/accept"}


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_the_committed_document_is_current() -> None:
    generated = render(build(Template.load(REPOSITORY / "template.yaml")))

    assert COMMITTED.read_text() == generated, "openapi.json is stale: run `make openapi` and commit it"


def test_every_route_of_the_template_is_documented_and_nothing_else(local_system: Any) -> None:
    served = {(route.method, route.path) for route in local_system.topology.routes}

    assert _operations(json.loads(COMMITTED.read_text())) == served


def test_every_error_is_documented_as_problem_json_and_storefront_routes_need_a_key() -> None:
    document = json.loads(COMMITTED.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("4"):
                    continue
                content = set(response["content"])
                if path in PAGE_ROUTES and status == "404":
                    assert content == {"text/html"}, (method, path)  # a person reads it
                else:
                    assert content == {"application/problem+json"}, (method, path, status)
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}
            public = path.startswith(("/webhooks/", "/i/", "/c/", "/payment-plans/"))
            assert ("security" not in operation) == public, (method, path)
            assert "422" in operation["responses"], (method, path)
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "Your storefront API key (make api-key).",
    }


def test_the_order_body_is_the_intake_model() -> None:
    document = json.loads(COMMITTED.read_text())
    operation = document["paths"]["/orders"]["post"]
    schemas = document["components"]["schemas"]

    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderRequest"
    }
    assert set(schemas["OrderRequest"]["required"]) == {"external_id", "customer", "currency", "lines"}
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert (header["name"].lower(), header["required"]) == ("idempotency-key", True)


def test_the_runtime_serves_the_committed_document(running_system: Any) -> None:
    response = requests.get(running_system.url("/openapi.json"), timeout=120)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(COMMITTED.read_text())
