"""Faults played by the stand-ins reach the real adapters as the taxonomy says they should."""

from __future__ import annotations

import httpx
import pytest

from payrouter.provider import FailureKind, Outcome
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import (
    BEYOND_TIMEOUT,
    add_fault,
    adyen_adapter,
    books,
    charge,
    stripe_adapter,
)

CARD_PROVIDERS = ["stripe", "adyen"]

pytestmark = pytest.mark.asyncio(loop_scope="session")


def adapter(sandbox: Sandbox, provider: str) -> StripeAdapter | AdyenAdapter:
    return stripe_adapter(sandbox) if provider == "stripe" else adyen_adapter(sandbox)


def taken(book: dict[str, object]) -> int:
    entries = book["entries"]
    assert isinstance(entries, list)
    return len(entries)


@pytest.mark.parametrize("provider", CARD_PROVIDERS)
@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ({"kind": "busy", "status": 429, "retry_after_seconds": 3}, FailureKind.RATE_LIMITED),
        ({"kind": "busy", "status": 503}, FailureKind.BUSY),
        ({"kind": "maintenance", "duration_seconds": 60}, FailureKind.BUSY),
        ({"kind": "credentials"}, FailureKind.CREDENTIALS_REJECTED),
        ({"kind": "error"}, FailureKind.UNKNOWN_OUTCOME),
        ({"kind": "gateway", "status": 502}, FailureKind.UNKNOWN_OUTCOME),
        ({"kind": "gateway", "status": 504, "processed": True}, FailureKind.UNKNOWN_OUTCOME),
    ],
)
async def test_http_faults_classify_as_the_taxonomy_says(
    sandbox: Sandbox,
    admin: httpx.AsyncClient,
    provider: str,
    spec: dict[str, object],
    kind: FailureKind,
) -> None:
    """Each HTTP-level fault gives the kind the adapter's tables assign to the provider's answer."""
    await add_fault(admin, provider, **spec)
    client = adapter(sandbox, provider)
    reply = await client.pay(charge(provider), idempotency_key="k1")
    await client.aclose()
    assert reply.failure_kind is kind
    if spec.get("status") == 429:
        assert reply.retry_after == 3.0
    processed = spec.get("processed") is True
    assert taken(await books(admin, provider)) == (1 if processed else 0)


@pytest.mark.parametrize("provider", CARD_PROVIDERS)
async def test_down_refuses_the_connection_until_cleared(
    sandbox: Sandbox, admin: httpx.AsyncClient, provider: str
) -> None:
    """`down` closes the provider's port (ConnectError); clearing it reopens the same port."""
    await add_fault(admin, provider, kind="down")
    client = adapter(sandbox, provider)
    with pytest.raises(httpx.ConnectError):
        await client.pay(charge(provider), idempotency_key="k1")
    assert (await admin.delete(f"/{provider}/faults")).status_code == 204
    reply = await client.pay(charge(provider), idempotency_key="k1")
    await client.aclose()
    assert reply.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize("provider", CARD_PROVIDERS)
async def test_timeout_before_processing_moves_no_money(
    sandbox: Sandbox, admin: httpx.AsyncClient, provider: str
) -> None:
    """A flaky-network timeout raises ReadTimeout and nothing is booked."""
    await add_fault(admin, provider, kind="timeout", delay_seconds=BEYOND_TIMEOUT)
    client = adapter(sandbox, provider)
    with pytest.raises(httpx.ReadTimeout):
        await client.pay(charge(provider), idempotency_key="k1")
    await client.aclose()
    assert taken(await books(admin, provider)) == 0


@pytest.mark.parametrize("provider", CARD_PROVIDERS)
async def test_reset_aborts_mid_response_and_moves_no_money(
    sandbox: Sandbox, admin: httpx.AsyncClient, provider: str
) -> None:
    """A reset cuts the response short: httpx reads a truncated body."""
    await add_fault(admin, provider, kind="reset")
    client = adapter(sandbox, provider)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.pay(charge(provider), idempotency_key="k1")
    await client.aclose()
    assert taken(await books(admin, provider)) == 0


@pytest.mark.parametrize("provider", CARD_PROVIDERS)
@pytest.mark.parametrize(
    ("abort", "error"), [(False, httpx.ReadTimeout), (True, httpx.RemoteProtocolError)]
)
async def test_success_after_timeout_books_the_money_and_replays_it(
    sandbox: Sandbox,
    admin: httpx.AsyncClient,
    provider: str,
    abort: bool,
    error: type[Exception],
) -> None:
    """The money is taken, the client sees a transport error; a retry replays, not re-charges."""
    delay = 0.0 if abort else BEYOND_TIMEOUT
    await add_fault(
        admin, provider, kind="success_after_timeout", delay_seconds=delay, abort=abort, count=1
    )
    client = adapter(sandbox, provider)
    with pytest.raises(error):
        await client.pay(charge(provider), idempotency_key="k1")
    assert taken(await books(admin, provider)) == 1
    retry = await client.pay(charge(provider), idempotency_key="k1")
    await client.aclose()
    assert retry.outcome is Outcome.SUCCEEDED
    assert taken(await books(admin, provider)) == 1


async def test_slow_within_the_timeout_still_succeeds(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Latency below the client's timeout only delays the answer."""
    await add_fault(admin, "stripe", kind="slow", delay_seconds=0.05, jitter_seconds=0.05)
    client = stripe_adapter(sandbox)
    reply = await client.pay(charge("stripe"), idempotency_key="k1")
    await client.aclose()
    assert reply.outcome is Outcome.SUCCEEDED


async def test_count_probability_and_payer_target_the_fault(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """`count` limits hits, probability 0 never fires, `payer_prefix` picks the payer."""
    await add_fault(admin, "stripe", kind="busy", probability=0.0)
    await add_fault(admin, "stripe", kind="insufficient_funds", payer_prefix="pm_empty", count=1)
    issued = await admin.post("/stripe/credentials", json={"id": "pm_empty_wallet"})
    assert issued.status_code == 201
    client = stripe_adapter(sandbox)
    good = await client.pay(charge("stripe", "o1"), idempotency_key="k1")
    empty = await client.pay(charge("stripe", "o2", token="pm_empty_wallet"), idempotency_key="k2")
    again = await client.pay(charge("stripe", "o3", token="pm_empty_wallet"), idempotency_key="k3")
    await client.aclose()
    assert good.outcome is Outcome.SUCCEEDED
    assert empty.failure_kind is FailureKind.INSUFFICIENT_FUNDS
    assert again.outcome is Outcome.SUCCEEDED


async def test_maintenance_windows_are_announced_before_they_start(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """An upcoming window is listed and does not yet refuse payments."""
    await add_fault(admin, "adyen", kind="maintenance", starts_in_seconds=60, duration_seconds=60)
    windows = (await admin.get("/adyen/maintenance")).json()["windows"]
    client = adyen_adapter(sandbox)
    reply = await client.pay(charge("adyen"), idempotency_key="k1")
    await client.aclose()
    assert [w["in_progress"] for w in windows] == [False]
    assert reply.outcome is Outcome.SUCCEEDED


async def test_admin_rejects_an_incoherent_fault_and_an_unknown_provider(
    admin: httpx.AsyncClient,
) -> None:
    """A down fault with a probability is refused (422); an unknown provider is 404."""
    assert (
        await admin.post("/stripe/faults", json={"kind": "down", "probability": 0.5})
    ).status_code == 422
    assert (await admin.get("/nope/books")).status_code == 404


async def test_reset_forgets_books_and_faults(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """`POST /_admin/reset` empties every provider's books and faults and reopens listeners."""
    client = stripe_adapter(sandbox)
    await client.pay(charge("stripe"), idempotency_key="k1")
    await add_fault(admin, "stripe", kind="down")
    assert (await admin.post("/reset")).status_code == 204
    reply = await client.pay(charge("stripe"), idempotency_key="k1")
    await client.aclose()
    assert reply.outcome is Outcome.SUCCEEDED
    assert (await admin.get("/stripe/faults")).json() == []
    assert taken(await books(admin, "stripe")) == 1
