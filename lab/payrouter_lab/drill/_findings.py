"""What a drill tells a person: each target met or missed, in one unit, with what to do.

Every target row carries the wanted and measured value in the same unit, whether it was met,
and, where it was missed, a recommendation and the runbook section that explains the cause.
`requires_action` is explained once here, because a router that sends more customers to approve
shows fewer "succeeded" than a baseline that drops them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["REQUIRES_ACTION", "missed_targets", "targets"]

RUNBOOK = "docs/runbook.md"

REQUIRES_ACTION = (
    "requires_action means the payment was accepted and the customer was sent to approve it "
    "(3-D Secure, a wallet or a bank's approval page); it counts as served, and a strategy "
    "that fails over to a method needing approval shows fewer 'succeeded' and more "
    "'requires action' than one that gives up on those customers."
)


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    wanted: str
    runbook: str
    recommendation: str


_TARGETS = {
    "double_charges": _Target(
        "double charges",
        "0",
        f"{RUNBOOK}#network-instability-timeouts-resets",
        "A customer was charged twice: refund the extra charge at the provider, and file a bug "
        "with the scenario and seed; an unknown outcome must be looked up, never re-sent.",
    ),
    "records_lost": _Target(
        "records lost",
        "0",
        f"{RUNBOOK}#paid-but-not-arrived-pending-bank-transfers",
        "Money moved that the ledger does not show: run `payrouter reconcile` and "
        "`payrouter records`, and file a bug with the scenario and seed.",
    ),
    "pending_after_reconcile": _Target(
        "pending after reconcile",
        "0",
        f"{RUNBOOK}#network-instability-timeouts-resets",
        "Payments are still open after reconcile: schedule `payrouter reconcile` every minute "
        "and never re-charge a pending payment by hand.",
    ),
    "success_of_possible": _Target(
        "success of possible",
        ">= 99.0 %",
        f"{RUNBOOK}#provider-down",
        "Payments that another provider could have taken failed: see which provider failed in "
        "the timeline, give each method a second provider, and check the breaker settings.",
    ),
    "attempts_per_payment_at_peak": _Target(
        "attempts / payment at peak",
        "<= 1.20",
        f"{RUNBOOK}#busy-at-peak-429-503",
        "Calls kept going to a failing provider: lower the breaker's `fail_max` or raise "
        "`reset_timeout_seconds`, and ask the provider for a higher quota before a promotion.",
    ),
    "after_breaker_open_added_latency_ms": _Target(
        "p99 added latency after a breaker opens",
        "<= 5.0 ms",
        f"{RUNBOOK}#provider-down",
        "Skipping an open breaker cost time: if the run's conditions say the machine was "
        "saturated, run again on an idle one; otherwise profile the router's claim and plan.",
    ),
}


def _measured(key: str, figures: Mapping[str, object]) -> tuple[str, bool]:
    """The figure as text in the target's unit, and whether the target was met."""
    value = figures.get(key)
    if key == "after_breaker_open_added_latency_ms":
        value = value.get("p99") if isinstance(value, Mapping) else None
    if value is None:
        # No payment in the run measured it (no peak window, no breaker opened): nothing missed.
        return "n/a", key not in ("success_of_possible", "pending_after_reconcile")
    if key == "success_of_possible" and isinstance(value, float):
        return f"{value * 100:.1f} %", value >= 0.99
    if key == "attempts_per_payment_at_peak" and isinstance(value, float):
        return f"{value:.2f}", value <= 1.2
    if key == "after_breaker_open_added_latency_ms" and isinstance(value, float):
        return f"{value:.1f} ms", value <= 5.0
    return str(value), value == 0


def targets(figures: Mapping[str, object]) -> list[dict[str, object]]:
    """The router's targets, measured: `name`, `target`, `value`, `met`, `runbook`, and a
    `recommendation` on each missed one."""
    rows: list[dict[str, object]] = []
    for key, target in _TARGETS.items():
        value, met = _measured(key, figures)
        row: dict[str, object] = {
            "name": target.name,
            "target": target.wanted,
            "value": value,
            "met": met,
            "runbook": target.runbook,
        }
        if not met:
            row["recommendation"] = target.recommendation
        rows.append(row)
    return rows


def missed_targets(report: Mapping[str, object]) -> list[str]:
    """The names of the report's targets that were not met; empty when all were."""
    rows = report.get("targets")
    if not isinstance(rows, list):
        return []
    return [str(row.get("name")) for row in rows if isinstance(row, dict) and not row.get("met")]
