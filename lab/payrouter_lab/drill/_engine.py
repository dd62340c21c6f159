"""Running a drill: stand-ins up, then every strategy on the same traffic and the same faults.

The three strategies run one at a time, each alone on the event loop against its own set of
stand-ins, in an order that rotates with the seed, and all under the same CPU-bound
neighbours (`pressure`), which run for the whole drill. Run at once on one loop, the
baselines (no admission, no deadline) kept an unbounded backlog that took the loop from
payrouter under pressure. Before each run its stand-ins are reset and the faults posted, so
every strategy meets the same fault timeline from its own start. The stand-ins' books, read
after each run, are the ground truth for double charges and lost records.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from payrouter import CardSource, PaymentSource
from payrouter.provider import Adapter, adapters_from_config

from ._baselines import serve_with_chain, serve_with_single
from ._browsers import browsers_in_a_process
from ._card_failovers import card_failover_figures
from ._conditions import Conditions, watch_conditions
from ._credentials import cards_of, to_issue, wallets_to_issue
from ._figures import PaymentRecord, StrategyRun, routing_figures, strategy_figures
from ._findings import REQUIRES_ACTION, targets
from ._pressure import cpu_pressure
from ._scenario import DrillProvider, Scenario
from ._standin_process import StandinAddress, standins_in_a_process
from ._strategies import Progress, adapter_options, router_config, serve_with_router
from ._traffic import Arrival, arrivals

__all__ = ["BLOCKING_FAULTS", "STRATEGIES", "DrillOutcome", "run_drill"]

STRATEGIES = ("payrouter", "single provider + tenacity", "try/except chain")

BLOCKING_FAULTS = frozenset({"down", "maintenance", "credentials", "busy"})
"""Fault kinds that, at probability 1 and for everyone, leave a provider unable to take money."""
_TAKES_MONEY = frozenset({"charge", "authorization"})


@dataclass(frozen=True, slots=True)
class DrillOutcome:
    """The drill's report (the `report.json` document) and where its files are."""

    report: dict[str, object]
    folder: Path


StrategyStarted = Callable[[str, int], None]


async def run_drill(
    scenario: Scenario,
    folder: Path | None = None,
    *,
    on_start: StrategyStarted = lambda name, total: None,
    on_payment: Callable[[str, PaymentRecord], None] = lambda strategy, record: None,
    on_breaker: Callable[[dict[str, object]], None] = lambda change: None,
    pressure: int = 0,
) -> DrillOutcome:
    """Run every strategy over the scenario against fresh stand-ins in a process of their own.

    `pressure` CPU-bound neighbour processes run for the drill's whole length.

    `on_start`, `on_payment` and `on_breaker` feed a live display: a strategy starting, each
    payment finishing (with its strategy's name), and each
    breaker state change of payrouter's run.
    """
    folder = folder or Path(tempfile.mkdtemp(prefix="payrouter-drill-"))
    folder.mkdir(parents=True, exist_ok=True)
    traffic = arrivals(scenario)
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        neighbours = stack.enter_context(cpu_pressure(pressure))
        conditions = await stack.enter_async_context(watch_conditions())
        # The customers' browsers start before any strategy's fault timeline does.
        browsers = (
            await stack.enter_async_context(browsers_in_a_process()) if scenario.approvals else None
        )
        # Each strategy has its own stand-ins (faults and books are per stand-in), all
        # served from one process of their own, as real providers are (`_standin_process`).
        sandboxes = await _Sandboxes.start(stack, scenario, _issuing(scenario, traffic), folder)
        config = router_config(scenario, sandboxes[0].urls, folder)
        takers = await _network_token_takers(scenario, sandboxes[0].urls)
        checked: dict[str, object] = {}

        async def router_run() -> StrategyRun:
            served = await serve_with_router(
                traffic,
                config,
                lambda record: on_payment(STRATEGIES[0], record),
                on_breaker,
                scenario.approvals,
                scenario.seed,
                browsers,
            )
            checked.update(served.records_check)
            return served.strategy_run(STRATEGIES[0], await sandboxes[0].books())

        runners: dict[str, Callable[[], Awaitable[StrategyRun]]] = {
            STRATEGIES[0]: router_run,
            STRATEGIES[1]: lambda: _baseline(
                STRATEGIES[1], serve_with_single, sandboxes[1], scenario, traffic, on_payment
            ),
            STRATEGIES[2]: lambda: _baseline(
                STRATEGIES[2], serve_with_chain, sandboxes[2], scenario, traffic, on_payment
            ),
        }
        # One at a time, each alone on the event loop (no strategy's backlog takes the loop
        # from another's payments) and under the same neighbours, which run for the whole
        # drill; the order rotates with the seed, so no strategy always goes first.
        order = _order(scenario.seed)
        done: dict[str, StrategyRun] = {}
        for name in order:
            on_start(name, len(traffic))
            await sandboxes[STRATEGIES.index(name)].arm()  # its fault timeline starts now
            with conditions.during(name):
                done[name] = await runners[name]()
        runs = [done[name] for name in STRATEGIES]
        conditions.order = order
        conditions.pressure_processes = len(neighbours)

    for run in runs:
        _mark_possible(run.records, traffic, scenario, takers)
    report = _report(scenario, runs, time.perf_counter() - started, conditions)
    report["records_check"] = checked
    return DrillOutcome(report, folder)


def _issuing(scenario: Scenario, traffic: Sequence[Arrival]) -> dict[str, list[dict[str, str]]]:
    """The credentials each provider issued to the customers (cards, PayPal vault tokens),
    as their checkout's tokenization did before the drill."""
    cards = [
        (str(arrival.request.customer_id), card)
        for arrival in traffic
        for card in cards_of(arrival.request.sources)
    ]
    issuing = to_issue(cards)
    paypals = [p.name for p in scenario.providers if p.type == "paypal"]
    wallets = [source for arrival in traffic for source in arrival.request.sources]
    for name, requests in wallets_to_issue(wallets, paypals).items():
        issuing.setdefault(name, []).extend(requests)
    return issuing


class _Sandboxes:
    """One stand-in per provider name (two providers of one type never share faults or
    books), with its admin client: arm the faults, read the books."""

    def __init__(self, scenario: Scenario, issuing: dict[str, list[dict[str, str]]]) -> None:
        self._scenario = scenario
        self._issuing = issuing
        self._type_of = {provider.name: provider.type for provider in scenario.providers}
        self.urls: dict[str, str] = {}
        self.admins: dict[str, httpx.AsyncClient] = {}

    @classmethod
    async def start(
        cls,
        stack: contextlib.AsyncExitStack,
        scenario: Scenario,
        issuing: dict[str, list[dict[str, str]]],
        folder: Path,
    ) -> list[_Sandboxes]:
        """The three strategies' stand-ins, from one process (its output in `folder`); the
        first two share their fault dice's seeds, the third's are its own."""
        count = len(scenario.providers)
        seeds = [
            scenario.seed + offset + index for offset in (0, 0, count) for index in range(count)
        ]
        addresses = await stack.enter_async_context(
            standins_in_a_process(seeds, folder / "standins.log")
        )
        return [
            await cls.open(stack, scenario, issuing, addresses[first : first + count])
            for first in range(0, len(seeds), count)
        ]

    @classmethod
    async def open(
        cls,
        stack: contextlib.AsyncExitStack,
        scenario: Scenario,
        issuing: dict[str, list[dict[str, str]]],
        addresses: Sequence[StandinAddress],
    ) -> _Sandboxes:
        """One sandbox per provider of the scenario, at `addresses` (in the same order)."""
        sandboxes = cls(scenario, issuing)
        for provider, sandbox in zip(scenario.providers, addresses, strict=True):
            sandboxes.urls[provider.name] = sandbox.urls[provider.type]
            sandboxes.admins[provider.name] = await stack.enter_async_context(
                httpx.AsyncClient(base_url=sandbox.admin_url)
            )
        return sandboxes

    async def arm(self) -> None:
        """Empty the books, issue the customers' card credentials at their providers (as
        their checkout's tokenization did), and post the faults: the fault timeline starts
        now."""
        for admin in self.admins.values():
            (await admin.post("/_admin/reset")).raise_for_status()
        for name, credentials in self._issuing.items():
            path = f"/_admin/{self._type_of[name]}/credentials"
            (await self.admins[name].post(path, json=credentials)).raise_for_status()
        for fault in self._scenario.faults:
            path = f"/_admin/{self._type_of[fault.provider]}/faults"
            (await self.admins[fault.provider].post(path, json=fault.spec())).raise_for_status()

    async def books(self) -> Counter[str]:
        """Money-taking entries per order id across every provider's books."""
        charges: Counter[str] = Counter()
        for name, admin in self.admins.items():
            document = (await admin.get(f"/_admin/{self._type_of[name]}/books")).json()
            for entry in document["entries"]:
                if entry["kind"] in _TAKES_MONEY and entry["status"] != "failed":
                    charges[entry["order_id"] or entry["provider_reference"]] += 1
        return charges


def _adapters(scenario: Scenario, urls: dict[str, str]) -> list[Adapter]:
    """The real adapters of the scenario's providers, pointed at the stand-ins at `urls`."""
    config = {
        "providers": [
            {
                "name": provider.name,
                "type": provider.type,
                "methods": [method.value for method in provider.methods],
                "options": adapter_options(provider, urls[provider.name]),
            }
            for provider in scenario.providers
        ]
    }
    return adapters_from_config(config)


async def _network_token_takers(scenario: Scenario, urls: dict[str, str]) -> frozenset[str]:
    """The providers whose adapter takes card network tokens (Adyen's; Stripe's does not)."""
    adapters = _adapters(scenario, urls)
    takers = frozenset(a.name for a in adapters if a.capabilities.credentials.network_tokens)
    for adapter in adapters:
        await adapter.aclose()
    return takers


async def _baseline(
    name: str,
    serve_with: Callable[
        [Sequence[DrillProvider], dict[str, Adapter], Sequence[Arrival], Progress],
        Awaitable[list[PaymentRecord]],
    ],
    sandboxes: _Sandboxes,
    scenario: Scenario,
    traffic: Sequence[Arrival],
    on_payment: Callable[[str, PaymentRecord], None],
) -> StrategyRun:
    """One naive strategy over the traffic with the real adapters, pointed at `sandboxes`."""
    adapters = {adapter.name: adapter for adapter in _adapters(scenario, sandboxes.urls)}
    try:
        records = await serve_with(
            scenario.providers, adapters, traffic, lambda record: on_payment(name, record)
        )
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
    return StrategyRun(name, records, await sandboxes.books())


def _order(seed: int) -> tuple[str, ...]:
    """The strategies in the order they run: rotated by the seed."""
    shift = seed % len(STRATEGIES)
    return STRATEGIES[shift:] + STRATEGIES[:shift]


def _blocked(scenario: Scenario, provider: str, at: float) -> bool:
    for fault in scenario.faults:
        spec = fault.spec()
        everyone = spec.get("probability", 1.0) >= 1.0 and "payer_prefix" not in spec
        in_window = fault.start <= at and (fault.end is None or at < fault.end)
        if fault.provider == provider and fault.kind in BLOCKING_FAULTS and everyone and in_window:
            return True
    return False


def _mark_possible(
    records: list[PaymentRecord],
    traffic: Sequence[Arrival],
    scenario: Scenario,
    network_token_takers: frozenset[str],
) -> None:
    """A payment was possible if an offered source had a provider holding a credential for
    it (a card's token, or a network token) that was not blocked at send time."""
    by_order = {arrival.request.order_id: arrival for arrival in traffic}
    for record in records:
        arrival = by_order[record.order_id]
        record.possible = any(
            not _blocked(scenario, provider.name, arrival.at)
            for source in arrival.request.sources
            for provider in scenario.providers
            if source.method in provider.methods
            and _holds(source, provider.name, network_token_takers)
        )


def _holds(source: PaymentSource, provider: str, network_token_takers: frozenset[str]) -> bool:
    """The drill's cards carry a token per provider that issued one, or a network token that
    only some providers' APIs take."""
    if not isinstance(source, CardSource):
        return True
    if source.network_token is not None:
        return provider in network_token_takers
    return provider in source.tokens


def _peak(scenario: Scenario) -> tuple[float, float] | None:
    windows = [
        (fault.start, fault.end or scenario.duration_seconds)
        for fault in scenario.faults
        if fault.kind in ("busy", "down")
    ]
    return (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None


def _report(
    scenario: Scenario, runs: list[StrategyRun], seconds: float, conditions: Conditions
) -> dict[str, object]:
    peak = _peak(scenario)
    deadline = scenario.router.deadline_seconds
    strategies = [strategy_figures(run, scenario.bucket_seconds, peak, deadline) for run in runs]
    fees = {provider.name: provider.fees for provider in scenario.providers}
    for figures, run in zip(strategies, runs, strict=True):
        figures["routing"] = routing_figures(run.records, fees, scenario.currency)
        # Only payrouter's run says which providers held a credential (its RoutePlanned).
        figures["card_failovers"] = (
            card_failover_figures(run.records) if run.name == STRATEGIES[0] else None
        )
    return {
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "seed": scenario.seed,
            "duration_seconds": scenario.duration_seconds,
            "rate_per_second": scenario.rate_per_second,
            "payments": len(runs[0].records),
            "wall_seconds": round(seconds, 2),
            "routing": {
                method.value: strategy.strategy.value
                for method, strategy in scenario.routing.items()
            },
        },
        "phases": [
            {
                "start": fault.start,
                "end": fault.end if fault.end is not None else scenario.duration_seconds,
                "provider": fault.provider,
                "fault": fault.kind.value,
                "label": fault.title,
            }
            for fault in scenario.faults
        ],
        "conditions": conditions.summary(),
        "targets": targets(strategies[0]),
        "explanations": {"requires_action": REQUIRES_ACTION},
        "strategies": strategies,
    }
