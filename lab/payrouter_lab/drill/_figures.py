"""From per-payment records and the providers' books to the figures of `report.json`.

Every figure is computed here from what was observed, never estimated: double charges and
lost records come from the stand-ins' books, not from what a strategy believes it did.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from payrouter import FeeRule, Money, PaymentMethod, PaymentStatus, fee_minor

__all__ = ["PaymentRecord", "StrategyRun", "percentiles", "strategy_figures"]

_FINAL_MONEY = (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)
_SERVED = (PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_ACTION)


@dataclass(slots=True)
class PaymentRecord:
    """What one strategy did with one payment."""

    order_id: str
    sent_at: float
    latency_ms: float
    status: PaymentStatus
    attempts: list[tuple[str, str]] = field(default_factory=list)
    """(provider, outcome) per provider call in order; outcome is an `Outcome` value."""
    method: str | None = None
    breaker_skips: int = 0
    retried: bool = False
    """Some try of this payment waited to retry (backoff or Retry-After)."""
    customer: str | None = None
    """For a payment sent to approve: "approved" or "abandoned" (when customers are played)."""
    before_call_ms: float | None = None
    """From `pay` until the call that ended the payment started (claim, plan, breakers,
    the attempt's ledger write): the router's own time, without the provider's."""
    possible: bool = True
    """Some offered source had a provider not hit by a blocking fault at `sent_at`."""
    amount_minor: int = 0
    shed: bool = False
    """Refused at admission (`CapacityExhaustedError`, `PaymentShed`): nothing was sent."""
    card_failover: str | None = None
    """payrouter's run: whether a card failover was needed and possible (`_card_failovers`)."""


@dataclass(slots=True)
class StrategyRun:
    """One strategy's run over the scenario's traffic."""

    name: str
    records: list[PaymentRecord]
    charges_by_order: Mapping[str, int]
    """Money-taking entries per order id across every provider's books."""
    settled_after_reconcile: Mapping[str, PaymentStatus] | None = None
    breaker_events: list[dict[str, object]] = field(default_factory=list)
    left_pending: list[dict[str, object]] | None = None
    """The payments reconcile left pending, each with why (None: the strategy has none)."""


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None}

    def rank(share: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


def routing_figures(
    records: Sequence[PaymentRecord], fees: Mapping[str, Sequence[FeeRule]], currency: str
) -> dict[str, object]:
    """Where payments were sent first, who took them, and the fees paid for them.

    Fees are each provider's first matching rule applied to the payments it took
    (`succeeded`); a provider without a matching rule adds nothing and is named.
    """
    # The provider each payment's first call went to: the route's head after rules,
    # strategies, open breakers and maintenance windows had their say.
    first_choice = Counter(record.attempts[0][0] for record in records if record.attempts)
    taken: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    unpriced: set[str] = set()
    for record in records:
        if record.status is not PaymentStatus.SUCCEEDED or not record.method:
            continue
        winners = [provider for provider, outcome in record.attempts if outcome == "succeeded"]
        if not winners or record.amount_minor <= 0:
            continue
        provider = winners[-1]
        taken[provider] += 1
        amount = Money(minor_units=record.amount_minor, currency=currency)
        fee = fee_minor(fees.get(provider, ()), PaymentMethod(record.method), amount)
        if fee is None:
            unpriced.add(provider)
        else:
            paid[provider] += fee
    return {
        "first_choice": dict(sorted(first_choice.items())),
        "taken": dict(sorted(taken.items())),
        "fees_minor": dict(sorted(paid.items())),
        "fees_total_minor": sum(paid.values()),
        "fees_currency": currency,
        "unpriced_providers": sorted(unpriced),
    }


def _failover_costs(records: Sequence[PaymentRecord]) -> tuple[list[float], list[float]]:
    """Latency added by failing over, and by an open breaker, beyond a healthy payment's."""
    clean = [r.latency_ms for r in records if len(r.attempts) == 1 and not r.breaker_skips]
    healthy_p50 = percentiles(clean)["p50"] or 0.0
    failed_over = [
        record.latency_ms - healthy_p50
        for record in records
        if len(record.attempts) > 1 or record.breaker_skips
    ]
    # What an open breaker costs the payments it diverts: the time from `pay` until the call
    # that paid them started, beyond a healthy payment's. The provider's own speed, and waits
    # for another provider's Retry-After, are not the open breaker's doing; they are in
    # `failover_added_latency_ms` above.
    healthy_before = percentiles(
        r.before_call_ms
        for r in records
        if r.before_call_ms is not None and len(r.attempts) == 1 and not r.breaker_skips
    )["p50"]
    after_breaker = [
        record.before_call_ms - (healthy_before or 0.0)
        for record in records
        if record.breaker_skips and len(record.attempts) == 1 and record.before_call_ms is not None
    ]
    return failed_over, after_breaker


def _in_time(record: PaymentRecord, deadline_seconds: float | None) -> bool:
    """Served, and within the checkout's deadline when there is one."""
    if record.status not in _SERVED:
        return False
    return deadline_seconds is None or record.latency_ms <= deadline_seconds * 1000


def strategy_figures(
    run: StrategyRun,
    bucket_seconds: float,
    peak: tuple[float, float] | None,
    deadline_seconds: float | None = None,
) -> dict[str, object]:
    """The `strategies[]` entry of report.json for one run.

    `deadline_seconds` is how long the checkout waits for a payment (the scenario's router
    deadline), the same for every strategy: a payment served after it was served too late
    (the customer's request had timed out), so it does not count as served in time.
    """
    records = run.records
    final = {
        record.order_id: (run.settled_after_reconcile or {}).get(record.order_id, record.status)
        for record in records
    }
    outcomes = Counter(record.status.value for record in records)
    succeeded = outcomes[PaymentStatus.SUCCEEDED.value]
    handed_over = outcomes[PaymentStatus.REQUIRES_ACTION.value]
    declined = outcomes[PaymentStatus.DECLINED.value]
    pending = outcomes[PaymentStatus.PENDING.value]
    served = succeeded + handed_over  # a redirect for approval or SCA is the happy path
    possible = [
        record
        for record in records
        if record.possible and record.status is not PaymentStatus.DECLINED
    ]
    # Only the possible ones count above the line: a payment served after waiting out a
    # window that blocked every provider when it was sent is good, but it is not one of the
    # possible payments, and counting it would let it hide a possible one that failed.
    served_possible = sum(1 for record in possible if _in_time(record, deadline_seconds))
    served_late = sum(
        1
        for record in records
        if record.status in _SERVED and not _in_time(record, deadline_seconds)
    )
    double_charges = sum(count - 1 for count in run.charges_by_order.values() if count > 1)
    records_lost = sum(
        1
        for order, count in run.charges_by_order.items()
        if count and final.get(order) not in _FINAL_MONEY
    )
    attempts = [len(record.attempts) for record in records]
    at_peak = [
        len(record.attempts) for record in records if peak and peak[0] <= record.sent_at < peak[1]
    ]
    failed_over, after_breaker = _failover_costs(records)
    pending_after = (
        None
        if run.settled_after_reconcile is None
        else sum(1 for status in final.values() if status is PaymentStatus.PENDING)
    )
    return {
        "name": run.name,
        "payments": len(records),
        "succeeded": succeeded,
        "requires_action": handed_over,
        "declined": declined,
        "pending": pending,
        "pending_after_reconcile": pending_after,
        "pending_after_reconcile_why": run.left_pending,
        "failed": outcomes[PaymentStatus.FAILED.value],
        "shed_at_admission": sum(1 for record in records if record.shed),
        "double_charges": double_charges,
        "records_lost": records_lost,
        "served_late": served_late,
        "success_rate": served / len(records) if records else 0.0,
        "success_of_possible": served_possible / len(possible) if possible else 1.0,
        "attempts_per_payment": sum(attempts) / len(attempts) if attempts else 0.0,
        "attempts_per_payment_at_peak": sum(at_peak) / len(at_peak) if at_peak else None,
        "attempts_histogram": {str(k): v for k, v in sorted(Counter(attempts).items())},
        "outcomes": dict(outcomes),
        "latency_ms": percentiles(record.latency_ms for record in records),
        "failover_added_latency_ms": _two(percentiles(failed_over)),
        "after_breaker_open_added_latency_ms": _two(percentiles(after_breaker)),
        "timeline": _timeline(records, bucket_seconds),
        "breaker_events": run.breaker_events,
        "customers": _customers(records, final),
    }


def _customers(
    records: Sequence[PaymentRecord], final: Mapping[str, PaymentStatus]
) -> dict[str, int] | None:
    """Customers sent to approve: how many approved, abandoned, and were paid in the end."""
    decided = [record for record in records if record.customer is not None]
    if not decided:
        return None
    approved = [record for record in decided if record.customer == "approved"]
    return {
        "approved": len(approved),
        "abandoned": len(decided) - len(approved),
        "approved_and_paid": sum(
            1 for record in approved if final.get(record.order_id) is PaymentStatus.SUCCEEDED
        ),
    }


def _two(values: dict[str, float | None]) -> dict[str, float | None]:
    return {"p50": values["p50"], "p99": values["p99"]}


def _timeline(records: Sequence[PaymentRecord], bucket_seconds: float) -> list[dict[str, object]]:
    buckets: dict[int, list[PaymentRecord]] = defaultdict(list)
    for record in records:
        buckets[int(record.sent_at // bucket_seconds)].append(record)
    timeline = []
    for index in range(max(buckets, default=-1) + 1):
        members = buckets.get(index, [])
        providers: dict[str, dict[str, int]] = defaultdict(
            lambda: {"attempts": 0, "succeeded": 0, "failed": 0, "unknown": 0}
        )
        methods: dict[str, dict[str, int]] = defaultdict(lambda: {"payments": 0, "succeeded": 0})
        for record in members:
            for provider, outcome in record.attempts:
                row = providers[provider]
                row["attempts"] += 1
                key = {"succeeded": "succeeded", "unknown": "unknown"}.get(outcome, "failed")
                if outcome in ("pending", "requires_action"):
                    key = "succeeded"
                row[key] += 1
            if record.method is not None:
                methods[record.method]["payments"] += 1
                methods[record.method]["succeeded"] += record.status is PaymentStatus.SUCCEEDED
        timeline.append(
            {
                "t": index * bucket_seconds,
                "providers": dict(providers),
                "methods": dict(methods),
                "latency_ms": percentiles(record.latency_ms for record in members),
            }
        )
    return timeline
