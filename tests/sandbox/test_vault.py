"""A card held by a forwarding vault: router -> adapter -> vault proxy -> provider stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    ProviderRejectedRequestError,
    RetrySettings,
    Router,
    RouterSettings,
    VaultCard,
)
from payrouter.instrumentation import Event, RoutePlanned
from payrouter.provider import ForwardProxyVault
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_lab.sandbox import Sandbox, VaultProxy
from tests.sandbox.kit import add_fault, books, options, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

CARD_NUMBER = "4111111111111111"


@pytest_asyncio.fixture(loop_scope="session")
async def vault() -> AsyncIterator[VaultProxy]:
    async with VaultProxy() as proxy:
        yield proxy


def adyen_through(sandbox: Sandbox, vault: VaultProxy, name: str) -> AdyenAdapter:
    """An Adyen merchant account reached through the vault (`name`: its provider name)."""
    return AdyenAdapter.from_options(
        name=name,
        capabilities=None,
        options=options(
            sandbox,
            "adyen",
            api_key="key",
            merchant_account=f"Shop{name}",
            return_url="https://shop.example/return",
        ),
        vault=ForwardProxyVault("vgs", vault.url),
    )


def vault_card(vault: VaultProxy, *, known: bool = True) -> CardSource:
    stored = vault.store(CARD_NUMBER, "737")
    number = stored.number if known else "tok_sandbox_" + "x" * 22
    return CardSource(
        vault_card=VaultCard(
            vault="vgs",
            number=SecretStr(number),
            expiry_month=3,
            expiry_year=2030,
            cvc=SecretStr(stored.cvc or ""),
        )
    )


def request(source: CardSource, order_id: str = "o-vault") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[source],
        customer_country="DE",
    )


async def test_a_vault_card_is_charged_through_the_vault_never_where_the_vault_is_not(
    sandbox: Sandbox, admin: httpx.AsyncClient, vault: VaultProxy
) -> None:
    """Stripe, not behind the vault, is skipped with the reason; Adyen behind it is sent the
    aliases, the vault swaps them, and the card is charged once."""
    events: list[Event] = []
    adapters = [stripe_adapter(sandbox), adyen_through(sandbox, vault, "adyen_eu")]
    async with Router(adapters, ledger="sqlite://", hooks=(events.append,)) as router:
        result = await router.pay(request(vault_card(vault)))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "adyen_eu")
    planned = next(event for event in events if isinstance(event, RoutePlanned))
    assert any(reason.startswith("stripe:") for reason in planned.excluded)
    assert vault.forwarded == 1
    entries = (await books(admin, "adyen"))["entries"]
    assert isinstance(entries, list)
    assert len(entries) == 1
    assert entries[0]["payer"].startswith("card_")  # the stand-in saw a real card number
    assert (await books(admin, "stripe"))["entries"] == []


async def test_a_vault_card_fails_over_between_two_providers_behind_the_vault(
    sandbox: Sandbox, admin: httpx.AsyncClient, vault: VaultProxy
) -> None:
    """The first account is busy; the same aliases go to the second, which charges once."""
    await add_fault(admin, "adyen", kind="busy", status=503, count=1)
    adapters = [
        adyen_through(sandbox, vault, "adyen_eu"),
        adyen_through(sandbox, vault, "adyen_us"),
    ]
    settings = RouterSettings(retry=RetrySettings(max_tries=1))  # busy: on to the next at once
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=settings) as router:
        result = await router.pay(request(vault_card(vault)))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "adyen_us")
    assert [attempt.provider for attempt in result.attempts] == ["adyen_eu", "adyen_us"]
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]
    assert vault.forwarded == 2


async def test_an_unknown_alias_is_refused_by_the_vault_and_never_reaches_a_provider(
    sandbox: Sandbox, admin: httpx.AsyncClient, vault: VaultProxy
) -> None:
    """An alias the vault never issued is refused at the vault; nothing is charged, and the
    payment ends failed, so the order can be paid again with the right card."""
    adapters = [adyen_through(sandbox, vault, "adyen_eu")]
    async with Router(adapters, ledger="sqlite://", hooks=()) as router:
        with pytest.raises(ProviderRejectedRequestError):
            await router.pay(request(vault_card(vault, known=False)))
        again = await router.pay(request(vault_card(vault)))
    assert vault.refused == 1
    assert again.status is PaymentStatus.SUCCEEDED
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]
