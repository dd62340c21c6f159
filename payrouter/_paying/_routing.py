"""Routing rules and ordering strategies as data: who may take a payment, and in what order.

`plan()` gives every candidate the adapters' capabilities allow, in the customer's and the
merchant's order. The policy then removes the ones a merchant rule excludes (card network,
tags), each with its reason, and reorders the rest within each payment source by the
method's strategy. It never reorders across sources: the customer's preference comes first.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._models import CardSource, PaymentMethod, PaymentRequest
from ..instrumentation._events import Hook, RoutePlanned, emit, listening
from ._fees import FeeRule, fee_minor
from ._plan import Candidate, Exclusion, Plan

__all__ = [
    "ProviderRouting",
    "RoutingPolicy",
    "Strategy",
    "StrategyName",
]

_NEUTRAL_SUCCESS = 0.5
"""A provider with no recent attempts ranks as if half of them succeeded: below a healthy
provider, above a failing one, so it gets traffic (and data) without taking it all."""


class StrategyName(enum.StrEnum):
    PRIORITY = "priority"
    LOWEST_COST = "lowest_cost"
    SUCCESS_RATE = "success_rate"
    WEIGHTED = "weighted"


class Strategy(BaseModel):
    """How the providers that can take one method are ordered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: StrategyName = StrategyName.PRIORITY
    exploration: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="success_rate: share of payments sent first to a random provider, so a "
        "recovered one wins traffic back.",
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="weighted: provider name -> weight (A/B splits)."
    )

    @model_validator(mode="after")
    def _weights_for_weighted(self) -> Strategy:
        if self.strategy is StrategyName.WEIGHTED and not any(w > 0 for w in self.weights.values()):
            raise ValueError("weighted needs `weights` with at least one positive weight")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("weights cannot be negative")
        return self


class ProviderRouting(BaseModel):
    """A provider's merchant-side rules: beyond what it can take, what it should take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    networks: frozenset[str] | None = Field(
        default=None, description="Card networks it takes ('visa', ...); None: any."
    )
    requires_tags: frozenset[str] = Field(
        default=frozenset(), description="Only payments carrying all of these tags."
    )
    excludes_tags: frozenset[str] = Field(
        default=frozenset(), description="Never payments carrying any of these tags."
    )
    fees: tuple[FeeRule, ...] = ()
    three_d_secure: bool = Field(
        default=False,
        description="3-D Secure is enabled at this provider: a customer-initiated card "
        "payment it refuses for want of authentication is resent to it once, asking for it.",
    )

    def exclusion(self, candidate: Candidate, request: PaymentRequest) -> str | None:
        """Why this provider must not take this candidate, or None."""
        source = candidate.source
        if (
            self.networks is not None
            and isinstance(source, CardSource)
            and (source.network or "").lower() not in self.networks
        ):
            return f"card network {source.network or 'unknown'} not in {sorted(self.networks)}"
        missing = self.requires_tags - request.tags
        if missing:
            return f"payment lacks required tags {sorted(missing)}"
        barred = self.excludes_tags & request.tags
        if barred:
            return f"payment carries excluded tags {sorted(barred)}"
        return None


@dataclass(slots=True)
class RoutingPolicy:
    """The merchant's rules per provider and strategy per method; empty: today's order."""

    providers: Mapping[str, ProviderRouting] = field(default_factory=dict)
    strategies: Mapping[PaymentMethod, Strategy] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def fee(self, provider: str, method: PaymentMethod, request: PaymentRequest) -> int | None:
        rules = self.providers.get(provider)
        return None if rules is None else fee_minor(rules.fees, method, request.amount)

    def decide(
        self,
        planned: Plan,
        request: PaymentRequest,
        success_rate: Callable[[str, PaymentMethod], float | None],
        hooks: Sequence[Hook],
    ) -> list[Candidate]:
        """`apply`, and a `RoutePlanned` event saying what was decided and why.

        The event's `excluded` lists the providers the plan left out for want of a credential
        first, then the ones a merchant's rule excluded.
        """
        ordered, excluded = self.apply(planned.candidates, request, success_rate)
        if not listening(hooks, RoutePlanned):  # nobody listens: spare the path the strings
            return ordered
        excluded = planned.excluded + excluded
        methods = dict.fromkeys(candidate.method for candidate in ordered)
        event = RoutePlanned(
            request.order_id,
            tuple(
                f"{m.value}: {self.strategies[m].strategy.value}"
                for m in methods
                if m in self.strategies
            ),
            tuple(self._entry(c, request) for c in ordered),
            tuple(f"{e.provider}: {e.reason}" for e in excluded),
        )
        emit(hooks, event)
        return ordered

    def _entry(self, candidate: Candidate, request: PaymentRequest) -> str:
        entry = f"{candidate.adapter.name}/{candidate.method.value}"
        fee = self.fee(candidate.adapter.name, candidate.method, request)
        return entry if fee is None else f"{entry} fee={fee}"

    def apply(
        self,
        candidates: Sequence[Candidate],
        request: PaymentRequest,
        success_rate: Callable[[str, PaymentMethod], float | None],
    ) -> tuple[list[Candidate], list[Exclusion]]:
        """The candidates to try, in order, and the ones a rule excluded (with why)."""
        if not self.providers and not self.strategies:  # no rules: the plan's own order
            return list(candidates), []
        kept: list[Candidate] = []
        excluded: list[Exclusion] = []
        for candidate in candidates:
            rules = self.providers.get(candidate.adapter.name)
            reason = rules.exclusion(candidate, request) if rules else None
            if reason is None:
                kept.append(candidate)
            else:
                excluded.append(Exclusion(candidate.adapter.name, candidate.method, reason))
        ordered: list[Candidate] = []
        for _, group in groupby(kept, key=lambda c: c.source_index):
            ordered.extend(self._order(list(group), request, success_rate))
        return ordered, excluded

    def _order(
        self,
        group: list[Candidate],
        request: PaymentRequest,
        success_rate: Callable[[str, PaymentMethod], float | None],
    ) -> list[Candidate]:
        strategy = self.strategies.get(group[0].method) if group else None
        if strategy is None or len(group) < 2:
            return group
        match strategy.strategy:
            case StrategyName.LOWEST_COST:
                # Unknown cost ranks after every known one; ties keep the merchant's order.
                return sorted(
                    group, key=lambda c: _cost_key(self.fee(c.adapter.name, c.method, request))
                )
            case StrategyName.SUCCESS_RATE:

                def rate(candidate: Candidate) -> float:
                    seen = success_rate(candidate.adapter.name, candidate.method)
                    return _NEUTRAL_SUCCESS if seen is None else seen

                ranked = sorted(group, key=rate, reverse=True)  # stable: ties keep the order
                if self.rng.random() < strategy.exploration:
                    ranked.insert(0, ranked.pop(self.rng.randrange(len(ranked))))
                return ranked
            case StrategyName.WEIGHTED:
                weights = [max(0.0, strategy.weights.get(c.adapter.name, 0.0)) for c in group]
                if not any(weights):
                    return group
                chosen = self.rng.choices(range(len(group)), weights=weights)[0]
                return [group[chosen], *(c for i, c in enumerate(group) if i != chosen)]
            case _:
                return group


def _cost_key(fee: int | None) -> tuple[int, int]:
    return (1, 0) if fee is None else (0, fee)
