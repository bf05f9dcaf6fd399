"""Pay now (`POST /i/{token}/pay`) through the local gateway, against the local Stripe stand-in (localstripe).

Each test places its own order, so the tests hold in any order and on either xdist worker.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import requests

from local_runtime.gateway import HttpRequest, HttpResponse
from tests.support import generic_signature_headers, load_event


def _request(
    system: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    all_headers = {"content-type": "application/json"} | (headers or {})
    response: HttpResponse = system.gateway.handle(
        HttpRequest(method=method, raw_path=path, raw_query="", headers=all_headers, body=raw)
    )
    return replace(response, headers={name.lower(): value for name, value in response.headers.items()})


def _open_invoice(system: Any, currency: str = "EUR") -> dict[str, Any]:
    """A new order's invoice (42.82), issued and emailed."""
    key = uuid.uuid4().hex
    order = load_event("http/create_order_body.json") | {"external_id": f"PAY-{key}", "currency": currency}
    api_key = {"x-api-key": system.seeded["api_key"]}
    created = _request(system, "POST", "/orders", order, api_key | {"idempotency-key": key})
    assert created.status == 201, created.body
    assert system.settle()
    order_id = json.loads(created.body)["id"]
    invoice_id = json.loads(_request(system, "GET", f"/orders/{order_id}", headers=api_key).body)[
        "invoice_id"
    ]
    return dict(json.loads(_request(system, "GET", f"/invoices/{invoice_id}", headers=api_key).body))


def _pay_path(invoice: dict[str, Any]) -> str:
    return "/i/" + str(invoice["hosted_url"]).rsplit("/i/", 1)[1] + "/pay"


def _pay(system: Any, invoice: dict[str, Any], method: Any) -> HttpResponse:
    return _request(system, "POST", _pay_path(invoice), {"method": method})


def _stripe_intent(system: Any, payment_intent: str) -> dict[str, Any]:
    response = requests.get(
        f"{system.stripe.api_base}/v1/payment_intents/{payment_intent}",
        headers={"Authorization": f"Bearer {system.stripe.secret_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_pay_now_answers_a_payment_intent_of_the_amount_due_that_names_the_invoice(local_system: Any) -> None:
    invoice = _open_invoice(local_system)

    response = _pay(local_system, invoice, "card")

    assert response.status == 200, response.body
    assert response.headers["cache-control"] == "no-store"
    body = json.loads(response.body)
    assert body.keys() == {"client_secret", "publishable_key", "payment_intent", "amount", "currency"}
    assert (body["amount"], body["currency"], body["publishable_key"]) == ("42.82", "EUR", "pk_test_local")
    intent = _stripe_intent(local_system, body["payment_intent"])
    assert (intent["amount"], intent["currency"]) == (4282, "eur")
    assert intent["metadata"] == {"invoice_id": invoice["id"], "invoice_number": invoice["number"]}
    assert intent["client_secret"] == body["client_secret"]


def test_a_second_click_gets_the_same_payment_intent_and_another_method_its_own(local_system: Any) -> None:
    invoice = _open_invoice(local_system)

    first = json.loads(_pay(local_system, invoice, "card").body)
    again = json.loads(_pay(local_system, invoice, "card").body)
    by_debit = json.loads(_pay(local_system, invoice, "sepa_debit").body)

    assert again["payment_intent"] == first["payment_intent"]
    assert again["client_secret"] == first["client_secret"]
    assert by_debit["payment_intent"] != first["payment_intent"]


def test_a_payment_intent_paid_at_stripe_is_not_offered_again_before_its_webhook_arrives(
    local_system: Any,
) -> None:
    # given: the card is charged at Stripe; this in-process system receives no webhooks, so the invoice is
    # still open, as it is on AWS for the moment between Stripe's charge and its webhook
    invoice = _open_invoice(local_system)
    intent = json.loads(_pay(local_system, invoice, "card").body)["payment_intent"]
    auth = {"Authorization": f"Bearer {local_system.stripe.secret_key}"}
    url = f"{local_system.stripe.api_base}/v1/payment_intents/{intent}"
    assert requests.post(url, data={"payment_method": "pm_card_visa"}, headers=auth, timeout=30).ok
    assert requests.post(f"{url}/confirm", headers=auth, timeout=30).json()["status"] == "succeeded"

    # when: the customer clicks again
    response = _pay(local_system, invoice, "card")

    # then: no second PaymentIntent to pay the same amount twice
    assert response.status == 409, response.body
    assert "already being processed" in json.loads(response.body)["detail"]


def test_a_paid_invoice_has_nothing_to_pay_and_answers_409(local_system: Any) -> None:
    invoice = _open_invoice(local_system)
    payment = load_event("http/generic_payment_body.json") | {
        "id": f"evt_{uuid.uuid4().hex}",
        "invoice_number": invoice["number"],
        "amount": invoice["total"],
    }
    raw = json.dumps(payment).encode()
    now = int(local_system.clock.now().timestamp())
    paid = _request(local_system, "POST", "/webhooks/generic", raw, generic_signature_headers(raw, at=now))
    assert json.loads(paid.body)["result"] == "applied", paid.body

    response = _pay(local_system, invoice, "card")

    assert response.status == 409, response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert invoice["number"] in json.loads(response.body)["detail"]


def test_an_unknown_method_is_a_422_that_names_method(local_system: Any) -> None:
    invoice = _open_invoice(local_system)

    responses = [_pay(local_system, invoice, method) for method in ("paypal", None, 3)]

    for response in responses:
        assert response.status == 422, response.body
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in json.loads(response.body)["errors"]] == ["method"]


def test_sepa_direct_debit_is_refused_for_a_franc_invoice_and_the_card_is_charged_in_francs(
    local_system: Any,
) -> None:
    invoice = _open_invoice(local_system, currency="CHF")

    by_debit = _pay(local_system, invoice, "sepa_debit")
    by_card = _pay(local_system, invoice, "card")

    assert by_debit.status == 422, by_debit.body
    assert [e["field"] for e in json.loads(by_debit.body)["errors"]] == ["method"]
    assert by_card.status == 200, by_card.body
    intent = _stripe_intent(local_system, json.loads(by_card.body)["payment_intent"])
    assert (intent["amount"], intent["currency"]) == (4282, "chf")


def test_an_unknown_link_cannot_pay(local_system: Any) -> None:
    response = _request(local_system, "POST", "/i/" + "x" * 43 + "/pay", {"method": "card"})

    assert response.status == 404, response.body


def test_the_page_offers_card_and_sepa_debit_with_stripe_js_from_the_stand_in(local_system: Any) -> None:
    invoice = _open_invoice(local_system)

    page = _request(local_system, "GET", _pay_path(invoice).removesuffix("/pay"))

    assert page.status == 200
    html = page.body.decode()
    assert 'data-method="card"' in html
    assert 'data-method="sepa_debit"' in html
    assert f'src="{local_system.stripe.api_base}/js.stripe.com/v3/"' in html
    policy = page.headers["content-security-policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert html.count(f'nonce="{nonce}"') == 2  # Stripe.js and the page's own script, nothing else
