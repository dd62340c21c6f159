"""A request whose client left before its body arrived is never processed, as at any real
HTTP server: the provider stores nothing under its idempotency key, and the client's replay
of the same request is processed as the first one.

Before, the stand-in read a body cut short by the client's disconnect as empty, refused it
(Adyen 422 "Required field missing"), and stored that refusal under the key: every replay of
the real request was then refused as "another body under the same key" (422 errorCode 704),
and a payment whose first answer the checkout never read stayed pending for good."""

from __future__ import annotations

import json

import httpx
import pytest

from payrouter_lab.sandbox import Sandbox
from payrouter_lab.sandbox._exchange import _Endpoint
from tests.sandbox.kit import books

pytestmark = pytest.mark.asyncio(loop_scope="session")

BODY = {
    "amount": {"value": 1050, "currency": "EUR"},
    "merchantAccount": "ShopECOM",
    "reference": "r-cut",
    "shopperReference": "shopper-1",
    "paymentMethod": {"type": "scheme", "storedPaymentMethodId": "stored_card_1"},
    "returnUrl": "https://shop.example",
}
HEADERS = {"X-API-Key": "key", "Idempotency-Key": "k-cut"}


async def test_a_body_cut_short_by_the_client_is_never_processed_nor_kept_under_its_key(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    adyen = sandbox.standins["adyen"]
    pay = next(op for op in adyen.operations() if op.name == "pay")
    whole = json.dumps(BODY).encode()
    arriving = [
        {"type": "http.request", "body": whole[:20], "more_body": True},
        {"type": "http.disconnect"},  # the client's deadline cut the upload
    ]
    answered: list[object] = []

    async def receive() -> dict[str, object]:
        return arriving.pop(0)

    async def send(message: object) -> None:
        answered.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v72/payments",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()],
        "server": ("127.0.0.1", 0),
        "path_params": {},
    }
    await _Endpoint(adyen, pay)(scope, receive, send)  # type: ignore[arg-type]
    assert answered == []
    async with httpx.AsyncClient(base_url=sandbox.urls["adyen"], headers=HEADERS) as client:
        replay = await client.post("/payments", json=BODY)
    assert replay.status_code == 200, replay.text
    assert replay.json()["resultCode"] == "Authorised"
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]
