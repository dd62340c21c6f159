"""Network tokens at the Adyen stand-in: charged by the real adapter, refused as Adyen refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, NetworkToken, PaymentRequest, PaymentStatus, Router
from payrouter.instrumentation import Event, RoutePlanned
from payrouter.provider import Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, books, charge, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN_PAN = "4895370012003478"


def network_card(**overrides: Any) -> CardSource:
    fields: dict[str, Any] = {
        "number": SecretStr(TOKEN_PAN),
        "expiry_month": 3,
        "expiry_year": 2030,
        "cryptogram": SecretStr("AgAAAAAABk4DWZ4C28yUQAAAAAA="),
        "eci": "05",
    }
    fields.update(overrides)
    return CardSource(network_token=NetworkToken(**fields))


@pytest.mark.parametrize(
    "token",
    [
        {},
        {"cryptogram": None, "eci": None, "network_transaction_id": "583131161310021"},
    ],
    ids=["customer-initiated", "merchant-initiated"],
)
async def test_network_token_is_authorised_and_booked(
    sandbox: Sandbox, admin: httpx.AsyncClient, token: dict[str, Any]
) -> None:
    """A well-formed network token, with its cryptogram or the first payment's id, is charged
    once, booked under a payer that never shows the token PAN."""
    client = adyen_adapter(sandbox)
    reply = await client.pay(
        charge("adyen", source=network_card(**token), customer_id=None), idempotency_key="k1"
    )
    await client.aclose()
    assert reply.outcome is Outcome.SUCCEEDED
    entries = (await books(admin, "adyen"))["entries"]
    assert isinstance(entries, list)
    assert len(entries) == 1
    assert entries[0]["payer"].startswith("network_token_")
    assert TOKEN_PAN not in str(entries)


async def test_expired_network_token_is_refused_as_an_expired_card(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A token past its expiry is Refused "Expired Card" (6), and nothing is booked."""
    client = adyen_adapter(sandbox)
    source = network_card(expiry_year=2020)
    reply = await client.pay(charge("adyen", source=source), idempotency_key="k1")
    await client.aclose()
    assert (reply.outcome, reply.provider_code) == (Outcome.FAILED, "6")
    assert (await books(admin, "adyen"))["entries"] == []


@pytest.mark.parametrize(
    ("method", "mpi", "code"),
    [
        ({"number": "4895370012003479"}, True, "101"),  # fails the Luhn check
        ({"number": "48953700"}, True, "101"),  # too short for a PAN
        ({"expiryMonth": "13"}, True, "129"),
        ({"expiryYear": "30"}, True, "129"),
        ({}, False, "702"),  # neither a cryptogram nor a network transaction id
        # raw card fields still holding a vault's alias: the vault never swapped it
        ({"type": "scheme", "number": "tok_sandbox_bhtsCwFUzoJMw9rWUfEV5e"}, False, "101"),
    ],
)
async def test_malformed_network_token_gets_adyens_validation_error(
    sandbox: Sandbox, admin: httpx.AsyncClient, method: dict[str, str], mpi: bool, code: str
) -> None:
    """What Adyen would not process answers 422 with its errorCode; nothing is booked."""
    payment_method = {
        "type": "networkToken",
        "number": TOKEN_PAN,
        "expiryMonth": "03",
        "expiryYear": "2030",
        **method,
    }
    body: dict[str, object] = {
        "amount": {"value": 1050, "currency": "EUR"},
        "merchantAccount": "ShopECOM",
        "reference": "r1",
        "paymentMethod": payment_method,
        "returnUrl": "https://shop.example",
    }
    if mpi:
        body["mpiData"] = {
            "directoryResponse": "Y",
            "authenticationResponse": "Y",
            "tokenAuthenticationVerificationValue": "AgAAAAAABk4DWZ4C28yUQAAAAAA=",
        }
    headers = {"X-API-Key": "key", "Idempotency-Key": "k1"}
    async with httpx.AsyncClient(base_url=sandbox.urls["adyen"], headers=headers) as raw:
        response = await raw.post("/payments", json=body)
    assert (response.status_code, response.json()["errorCode"]) == (422, code)
    assert (await books(admin, "adyen"))["entries"] == []


async def test_router_sends_a_network_token_card_to_adyen_never_to_stripe(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Stripe, first for cards, takes no network tokens: it is skipped with the reason before
    any call, and Adyen charges the token once."""
    events: list[Event] = []
    adapters = [stripe_adapter(sandbox), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=(events.append,)) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-network-token",
                amount=Money.of("10.50", "EUR"),
                sources=[network_card()],
                customer_country="DE",
            )
        )
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "adyen")
    planned = next(event for event in events if isinstance(event, RoutePlanned))
    assert any("stripe" in reason for reason in planned.excluded)
    assert (await books(admin, "stripe"))["entries"] == []
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]
