"""A pytest plugin for suites that use payrouter: a router over simulated providers.

Installing `payrouter` registers this module through the `pytest11` entry point, so the
`payrouter_simulated` fixture is there in any suite without an import. It needs no network,
no sandbox and no event-loop plugin: the fixture hands out an un-entered `Router` (use it
with `async with` under pytest-asyncio or anyio) or a `SyncRouter` for synchronous code.

    async def test_wallet_outage_falls_back_to_card(payrouter_simulated):
        payrouter_simulated["wallet"].default = Behavior.refuse_connection()
        async with payrouter_simulated.router() as router:
            result = await router.pay(request)
        assert result.provider == "card_a"
        assert len(payrouter_simulated["card_a"].charges(request.order_id)) == 1

Testing mode (`set_testing(True)`: no backoff waits) is on for the fixture's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .._models import PaymentMethod
from .._router import Router
from .._sync import SyncRouter
from .._testmode import set_testing
from ..instrumentation import Event
from ..provider import Capabilities
from ._adapter import SimulatedAdapter
from ._simulator import SimulatedProvider

__all__ = ["SimulatedProviders", "payrouter_simulated"]

_METHODS = {
    "card_a": PaymentMethod.CARD,
    "card_b": PaymentMethod.CARD,
    "wallet": PaymentMethod.WALLET,
    "bank": PaymentMethod.BANK_TRANSFER,
}


class _SharedProviderAdapter(SimulatedAdapter):
    """A simulated adapter whose router leaves the provider open when it closes, so the
    provider's books can be read after `async with` and several routers can share it."""

    async def aclose(self) -> None:
        """Nothing to release: the client's only transport is the in-memory provider, and
        closing the client would close the provider's books with it."""


class SimulatedProviders:
    """Four simulated providers (`card_a`, `card_b`, `wallet`, `bank`), in that order of
    preference, each taking one method; script them, then build routers over them.

    `events` collects every event the routers built here emitted, in order. The providers'
    books stay readable after a router closes (`charges`, `followups`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.providers = {name: SimulatedProvider(name) for name in _METHODS}
        self.events: list[Event] = []
        self._ledgers = 0

    def __getitem__(self, name: str) -> SimulatedProvider:
        return self.providers[name]

    def adapters(self, *names: str) -> list[SimulatedAdapter]:
        """Adapters for the named providers (default: all four) in the order given; closing
        them leaves the providers and their books open until the fixture ends."""
        chosen = names or tuple(self.providers)
        return [
            _SharedProviderAdapter(
                self.providers[name], capabilities=Capabilities(methods=frozenset({_METHODS[name]}))
            )
            for name in chosen
        ]

    def router(self, *names: str, ledger: str | None = None, **options: Any) -> Router:
        """An un-entered `Router` over the named providers, on its own SQLite ledger file.

        `options` go to `Router` (settings, limits, ...); events also reach `self.events`.
        """
        if ledger is None:
            self._ledgers += 1
            ledger = f"sqlite:///{self.folder / f'ledger-{self._ledgers}.db'}"
        hooks: Sequence[Any] = (*options.pop("hooks", ()), self.events.append)
        return Router(self.adapters(*names), ledger=ledger, hooks=hooks, **options)

    def sync_router(self, *names: str, **options: Any) -> SyncRouter:
        """The same as a `SyncRouter`, for synchronous code (close it when done)."""
        return SyncRouter(self.router(*names, **options))


@pytest.fixture
def payrouter_simulated(tmp_path: Path) -> Iterator[SimulatedProviders]:
    """Simulated providers and routers over them, with testing mode on."""
    with set_testing(True):
        simulated = SimulatedProviders(tmp_path)
        try:
            yield simulated
        finally:
            for provider in simulated.providers.values():
                provider.close()
