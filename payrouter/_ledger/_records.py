"""What the router asks of a ledger, independent of the database behind it."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from .._actions import NextAction
from .._models import PaymentMethod, PaymentResult, PaymentStatus
from .._money import Money
from .._taxonomy import Advice, DeclineType, FailureKind, Outcome

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .._adapter import ProviderReply
    from ._amount_discrepancy import AmountDifference
    from ._books import Discrepancy, DiscrepancyStats, PeriodAttempt
    from ._stats import ProviderHealth

T = TypeVar("T")

__all__ = ["AttemptRow", "Claim", "ClaimKind", "Ledger", "PaymentUpdate"]


class ClaimKind(enum.Enum):
    """How a claim on an order id ended."""

    NEW = "new"
    """We own a fresh payment."""
    RETAKEN = "retaken"
    """We own a payment that had failed without moving money; attempts continue numbering.
    Its details may differ from the failed run's (a customer id a provider required, another
    card): nothing was charged, so the new fingerprint and amount replace the old."""
    EXISTING = "existing"
    """Someone else owns it or it is finished: `payment` says where it stands."""
    CONFLICT = "conflict"
    """The order id was used with different money-relevant fields while not failed."""


@dataclass(frozen=True, slots=True)
class Claim:
    kind: ClaimKind
    next_attempt: int = 1
    payment: PaymentResult | None = None
    attempt_recorded: bool = False
    """The claim also wrote the attempt it was given (`Ledger.claim`'s `first_attempt`)."""


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """An attempt as written before its first call."""

    order_id: str
    number: int
    provider: str
    method: PaymentMethod
    idempotency_key: str
    request: str | None = None
    """The request as sent (JSON), for providers that replay it by key; else None."""


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What an attempt ended as, written after its last call."""

    outcome: Outcome
    failure_kind: FailureKind | None
    provider_code: str | None
    provider_reference: str | None
    action_url: str | None
    tries: int
    latency_ms: float
    decline: DeclineType | None = None
    advice: Advice | None = None
    advice_code: str | None = None
    authorised_minor: int | None = None
    """What the issuer authorised, for a `partially_authorised` outcome."""
    action: NextAction | None = None
    """What the customer must do, for a `requires_action` outcome."""

    @classmethod
    def of(
        cls,
        reply: ProviderReply,
        *,
        tries: int,
        latency_ms: float,
        provider_reference: str | None = None,
    ) -> AttemptOutcome:
        """The outcome `reply` stands for; `provider_reference` when the reply lacks one."""
        return cls(
            outcome=reply.outcome,
            failure_kind=reply.failure_kind,
            provider_code=reply.provider_code,
            provider_reference=reply.provider_reference or provider_reference,
            action_url=reply.action_url,
            tries=tries,
            latency_ms=latency_ms,
            decline=reply.decline,
            advice=reply.advice,
            advice_code=reply.advice_code,
            authorised_minor=(
                reply.amount.minor_units
                if reply.outcome is Outcome.PARTIALLY_AUTHORISED and reply.amount
                else None
            ),
            action=reply.action,
        )


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """A payment's new status; the lease is released unless it stays `processing`."""

    status: PaymentStatus
    provider: str | None = None
    method: PaymentMethod | None = None
    provider_reference: str | None = None
    action_url: str | None = None
    failure_kind: FailureKind | None = None
    decline_reason: str | None = None


class Ledger(Protocol):
    """The durable store of payments and attempts; `SqlLedger` is the one implementation."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    async def claim(
        self,
        order_id: str,
        fingerprint: str,
        amount: Money,
        owner: str,
        lease_seconds: float,
        *,
        authorize_only: bool = False,
        first_attempt: AttemptRow | None = None,
    ) -> Claim:
        """Take an order id for paying, atomically across processes; `authorize_only` is
        remembered so follow-ups know a capture or void must come.

        With `first_attempt` (attempt 1, its provider already chosen and admitted), a NEW
        claim writes that attempt too, in the same transaction, before answering: one trip
        to the ledger and one commit where the claim and `record_attempt` took two each.
        Any other kind writes no attempt; `Claim.attempt_recorded` says which happened.
        """
        ...

    async def record_attempt(self, row: AttemptRow) -> None:
        """Write an attempt before its first call; raises if it cannot be written."""
        ...

    async def attempt_request(self, order_id: str, number: int) -> str | None:
        """The request attempt `number` sent, opened if sealed; None if none was kept.

        Raises:
            SealedRequestError: it was kept sealed and does not open (`_sealing`).
        """
        ...

    async def finish_attempt(
        self,
        order_id: str,
        number: int,
        outcome: AttemptOutcome,
        payment: PaymentUpdate | None = None,
    ) -> PaymentResult | None:
        """Write an attempt's outcome; with `payment`, also the payment's new status in the
        same transaction, returning the payment as it now stands."""
        ...

    async def finish_payment(self, order_id: str, update: PaymentUpdate) -> PaymentResult:
        """Write a payment's new status and return the payment as it now stands."""
        ...

    async def get(self, order_id: str) -> PaymentResult | None: ...

    async def acquire(self, order_id: str, owner: str, lease_seconds: float) -> bool:
        """Take the lease of a payment nobody holds (or whose holder's lease expired)."""
        ...

    async def unresolved(self, limit: int) -> list[str]:
        """Order ids that reconcile should look at: pending, awaiting action, or orphaned."""
        ...

    async def provider_health(self, since: float) -> list[ProviderHealth]:
        """Attempts per (provider, method) started since `since` (epoch seconds), by outcome."""
        ...

    async def period_attempts(self, since: float, until: float) -> list[PeriodAttempt]:
        """Attempts started in `[since, until]` (epoch seconds), with their payment's money."""
        ...

    async def save_discrepancies(
        self,
        found: Sequence[Discrepancy],
        providers: Sequence[str],
        since: float,
        until: float,
        now: float,
    ) -> list[Discrepancy]:
        """Record what a comparison found and resolve what it no longer finds, atomically."""
        ...

    async def open_discrepancies(self) -> list[Discrepancy]: ...

    async def acknowledge_discrepancy(
        self, discrepancy_id: str, note: str, now: float
    ) -> Discrepancy | None: ...

    async def discrepancy_stats(self, now: float) -> DiscrepancyStats: ...

    async def record_amount_difference(self, difference: AmountDifference) -> bool:
        """Keep a provider's other amount as an open discrepancy; False when already known."""
        ...

    async def record_sheds(self, owner: str, at: float, count: int) -> None:
        """Add `count` payments `owner` shed at admission up to `at` (epoch seconds)."""
        ...

    async def shed_count(self, since: float) -> int:
        """Payments every process shed at admission since `since` (epoch seconds)."""
        ...

    async def claim_reattempt(
        self,
        card: str,
        order_id: str,
        providers: tuple[str, str],
        *,
        since: float,
        limit: int,
        now: float,
    ) -> bool:
        """Record a reattempt of `card` (a hash) under the limit in the window, atomically."""
        ...

    async def card_reattempts(self, card: str, since: float) -> int:
        """Reattempts of `card` (a hash) recorded since `since` (epoch seconds)."""
        ...

    async def note_late_reference(self, order_id: str, number: int, reference: str) -> bool | None:
        """Give an unknown attempt the reference a late answer brought; None while its
        outcome is not written yet, False when it needs none."""
        ...

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction: the building block of the ledger's own operation
        modules (`_followup_ops`, `_webhook_events`). Code outside `payrouter._ledger` calls
        named operations and never receives the connection."""
        ...
