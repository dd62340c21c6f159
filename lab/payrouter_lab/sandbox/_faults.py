"""Programmable faults: what a stand-in does wrong, when, how often, and to whom.

A fault is posted as JSON (`FaultSpec`) to `POST /_admin/{provider}/faults`. Each kind acts at
one point of a request, its *phase*, so a drill knows whether money moved:

- listener (`down`): the provider's port is closed; clients get a refused connection.
- before processing (`busy`, `maintenance`, `credentials`, `timeout`, `reset`, and `error` /
  `gateway` unless `processed`): nothing is booked. An `error` that is `saved` is Stripe's
  own 500 from an endpoint that began and failed: nothing booked, the 500 kept under the key.
- outcome (`insufficient_funds`, `account_*`, `region_restricted`, `declined`, `pending`,
  `cancel_fails`): the stand-in answers with the provider's own code for it.
- after processing (`success_after_timeout`, `error` / `gateway` with `processed`): the money
  is booked first, then the answer is late, aborted or replaced.
`slow` adds latency to any request it matches and then lets it proceed.
"""

from __future__ import annotations

import enum
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Fault", "FaultBoard", "FaultKind", "FaultSpec", "Phase"]


class FaultKind(enum.StrEnum):
    """Every fault a stand-in can play."""

    BUSY = "busy"
    DOWN = "down"
    ERROR = "error"
    SLOW = "slow"
    MAINTENANCE = "maintenance"
    TIMEOUT = "timeout"
    RESET = "reset"
    SUCCESS_AFTER_TIMEOUT = "success_after_timeout"
    GATEWAY = "gateway"
    CREDENTIALS = "credentials"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_FROZEN = "account_frozen"
    ACCOUNT_CLOSED = "account_closed"
    REGION_RESTRICTED = "region_restricted"
    DECLINED = "declined"
    PENDING = "pending"
    CANCEL_FAILS = "cancel_fails"
    SEARCH_LAG = "search_lag"
    """Stripe's search does not show intents younger than `delay_seconds` (eventual
    consistency: usually under a minute, up to an hour during incidents)."""


class Phase(enum.Enum):
    """Where in a request a fault acts; see the module docstring."""

    LISTENER = "listener"
    LATENCY = "latency"
    BEFORE = "before"
    OUTCOME = "outcome"
    AFTER = "after"


_BEFORE = frozenset(
    {
        FaultKind.BUSY,
        FaultKind.MAINTENANCE,
        FaultKind.CREDENTIALS,
        FaultKind.TIMEOUT,
        FaultKind.RESET,
    }
)
_AFTER_IF_PROCESSED = frozenset({FaultKind.ERROR, FaultKind.GATEWAY})
_STATUSES = {FaultKind.BUSY: (429, 503), FaultKind.GATEWAY: (502, 504)}


class FaultSpec(BaseModel):
    """One fault as the admin API takes it; omitted fields keep their defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    starts_in_seconds: float = Field(default=0.0, ge=0.0)
    duration_seconds: float | None = Field(default=None, gt=0.0)
    count: int | None = Field(default=None, ge=1, description="Stop after this many hits.")
    operations: frozenset[str] | None = Field(
        default=None, description="Only these operations (pay, lookup, capture, ...)."
    )
    payer_prefix: str | None = Field(
        default=None, min_length=1, description="Only payers (token, wallet, IBAN) so prefixed."
    )
    status: int | None = Field(default=None, description="busy: 429|503; gateway: 502|504.")
    retry_after_seconds: int = Field(default=1, ge=0)
    delay_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    jitter_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    processed: bool = Field(default=False, description="error/gateway: book the money first.")
    saved: bool = Field(
        default=False,
        description="error, not processed: the endpoint began, failed and booked nothing, and "
        "a provider that saves its own 500s (Stripe) keeps it under the idempotency key.",
    )
    abort: bool = Field(
        default=False, description="success_after_timeout: abort instead of answering late."
    )
    settle_after_seconds: float = Field(default=1.0, ge=0.0)

    @model_validator(mode="before")
    @classmethod
    def _search_lag_is_a_lookup_fault(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("kind") == FaultKind.SEARCH_LAG.value:
            return {"operations": ["lookup"], **data}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        allowed = _STATUSES.get(self.kind)
        if self.status is not None and (allowed is None or self.status not in allowed):
            raise ValueError(f"status for {self.kind} must be one of {allowed}")
        if self.saved and (self.kind is not FaultKind.ERROR or self.processed):
            raise ValueError("saved is an error that booked nothing: kind error, not processed")
        if self.kind is FaultKind.DOWN and (
            self.probability != 1.0 or self.operations or self.payer_prefix or self.count
        ):
            raise ValueError(
                "down closes the whole listener: no probability, count, operation or payer"
            )
        return self

    @property
    def phase(self) -> Phase:
        """Where this fault acts."""
        if self.kind is FaultKind.DOWN:
            return Phase.LISTENER
        if self.kind is FaultKind.SLOW:
            return Phase.LATENCY
        if self.kind in _BEFORE or (self.kind in _AFTER_IF_PROCESSED and not self.processed):
            return Phase.BEFORE
        if self.kind in _AFTER_IF_PROCESSED or self.kind is FaultKind.SUCCESS_AFTER_TIMEOUT:
            return Phase.AFTER
        return Phase.OUTCOME


@dataclass(slots=True)
class Fault:
    """A posted fault with its window in wall-clock seconds and how often it fired."""

    fault_id: str
    spec: FaultSpec
    starts_at: float
    ends_at: float | None
    hits: int = 0

    def active(self, now: float) -> bool:
        """Inside its window and not used up."""
        in_window = self.starts_at <= now and (self.ends_at is None or now < self.ends_at)
        return in_window and (self.spec.count is None or self.hits < self.spec.count)

    def as_json(self) -> dict[str, object]:
        """The fault as the admin API lists it."""
        return {
            "id": self.fault_id,
            "spec": self.spec.model_dump(mode="json", exclude_defaults=True),
            "starts_at": _iso(self.starts_at),
            "ends_at": _iso(self.ends_at) if self.ends_at is not None else None,
            "hits": self.hits,
        }


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


class FaultBoard:
    """The faults of one provider, drawn per request with a seeded random generator.

    Draws are reproducible for a given seed and request order, so a drill can be replayed.
    """

    def __init__(self, seed: int, clock: Callable[[], float] = time.time) -> None:
        self._random = random.Random(seed)  # noqa: S311  (fault dice, not cryptography)
        self._clock = clock
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> Fault:
        """Arm a fault; its window starts `starts_in_seconds` from now."""
        starts_at = self._clock() + spec.starts_in_seconds
        ends_at = None if spec.duration_seconds is None else starts_at + spec.duration_seconds
        fault = Fault(f"flt_{next(self._ids)}", spec, starts_at, ends_at)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    def draw(self, phase: Phase, operation: str, payer: str | None) -> Fault | None:
        """The first armed fault of `phase` matching the request whose dice say yes."""
        now = self._clock()
        for fault in self._faults:
            spec = fault.spec
            if spec.phase is not phase or not fault.active(now):
                continue
            if spec.operations is not None and operation not in spec.operations:
                continue
            if spec.payer_prefix is not None and not (payer or "").startswith(spec.payer_prefix):
                continue
            if spec.probability < 1.0 and self._random.random() >= spec.probability:
                continue
            fault.hits += 1
            return fault
        return None

    def latency(self, spec: FaultSpec) -> float:
        """Seconds to wait for a slow, timeout or late fault: fixed plus uniform jitter."""
        return spec.delay_seconds + self._random.uniform(0.0, spec.jitter_seconds)

    def is_down(self) -> bool:
        """True while a `down` fault is in its window: the listener must be closed."""
        now = self._clock()
        return any(f.spec.kind is FaultKind.DOWN and f.active(now) for f in self._faults)

    def maintenance_windows(self) -> list[dict[str, object]]:
        """Current and upcoming maintenance windows, as a provider's status page announces."""
        now = self._clock()
        return [
            {
                "id": fault.fault_id,
                "starts_at": _iso(fault.starts_at),
                "ends_at": _iso(fault.ends_at) if fault.ends_at is not None else None,
                "in_progress": fault.active(now),
            }
            for fault in self._faults
            if fault.spec.kind is FaultKind.MAINTENANCE
            and (fault.ends_at is None or fault.ends_at > now)
        ]

    def as_json(self) -> list[dict[str, object]]:
        """Every armed fault."""
        return [fault.as_json() for fault in self._faults]
