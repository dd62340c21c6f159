"""The router's tunables, validated like any other input; every field has a safe default.

Each setting is defined once, here: the breakers, retry loop and retry budget read these
frozen models directly rather than copying them into parallel dataclasses.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ._errors import InvalidPaymentError
from ._money import MAX_MINOR_UNITS, CurrencyCode, Money

__all__ = [
    "AdmissionSettings",
    "BreakerSettings",
    "OutboxSettings",
    "RetryBudgetSettings",
    "RetrySettings",
    "RouterSettings",
    "SoftDeclineSettings",
]

_DEFAULT_DEADLINE_SECONDS = 20.0
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RetrySettings(BaseModel):
    """Retries of one attempt at one provider, with the same idempotency key."""

    model_config = _FROZEN

    max_tries: int = Field(default=3, ge=1, le=10, description="Calls per attempt, first included.")
    initial_wait_seconds: float = Field(default=0.05, ge=0)
    max_wait_seconds: float = Field(default=1.0, ge=0, description="Caps Retry-After too.")
    jitter_seconds: float = Field(default=0.05, ge=0)


class BreakerSettings(BaseModel):
    """One breaker per provider and method."""

    model_config = _FROZEN

    fail_max: int = Field(default=5, ge=1, description="Health failures in a row that open it.")
    reset_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Open time before a trial."
    )


class RetryBudgetSettings(BaseModel):
    """Retries may be at most `ratio` of first attempts over the window, plus a small floor,
    across every worker when shared state is on: a provider's bad minute never becomes a
    retry storm."""

    model_config = _FROZEN

    ratio: float = Field(default=0.2, ge=0, le=10, description="Retries per first attempt.")
    min_per_second: float = Field(default=5.0, ge=0, description="Retries always allowed.")
    window_seconds: float = Field(default=10.0, gt=0, le=600)


class AdmissionSettings(BaseModel):
    """Overload is shed at the door, not timed out: an adaptive limit (AIMD) on payments in
    flight in this process, backed off while the process runs late (event-loop lag, or the
    delay from admitting a payment to sending its first call) and grown while it keeps up. A
    payment over the limit raises `CapacityExhaustedError` before anything is written or sent.
    """

    model_config = _FROZEN

    enabled: bool = Field(default=True, description="False admits every payment.")
    initial_limit: int = Field(default=500, ge=1, description="Payments in flight at start.")
    min_limit: int = Field(default=4, ge=1, description="Never shed below this many in flight.")
    max_limit: int = Field(default=10_000, ge=1)
    target_lag_seconds: float = Field(
        default=0.1, gt=0, description="Lateness above this backs the limit off."
    )
    backoff: float = Field(default=0.9, gt=0, lt=1, description="Multiplier when late.")
    probe_interval_seconds: float = Field(
        default=0.05, gt=0, description="How often the event loop's lag is measured."
    )

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        if not self.min_limit <= self.max_limit:
            raise ValueError("admission.min_limit must not exceed admission.max_limit")
        return self


class OutboxSettings(BaseModel):
    """Follow-ups (captures, refunds, voids, mandate cancellations) waiting for their provider.

    A queued follow-up is sent again by `router.process_outbox()` (which `payrouter reconcile`
    and `payrouter worker` run) once its backoff has passed; it is never given up on its own.
    """

    model_config = _FROZEN

    initial_backoff_seconds: float = Field(
        default=5.0, ge=0, description="Wait after the first answer that keeps it queued."
    )
    max_backoff_seconds: float = Field(
        default=300.0, ge=0, description="The backoff doubles per try up to this."
    )
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Follow-ups per round.")
    lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A sender that crashed mid-call gives its follow-up up after this.",
    )


class SoftDeclineSettings(BaseModel):
    """A merchant's policy for soft-declined cards: one reattempt at another acquirer.

    A soft decline (do not honour, issuer unavailable, try again later) may pass through
    another acquirer that holds a credential for the same card: the next card candidate of
    the same source in the plan. Never for a hard decline, never against the network's
    advice (do not try again, confirm card data, wait), at most once per payment, and at
    most `max_per_card` times per card over `window_days`, counted in the ledger for every
    process (Visa allows 15 reattempts in 30 days per card; these settings can only be
    stricter).

    Off by default: a reattempt is a second authorization at a second acquirer, with its fee,
    it counts against the card's network retry limit, and some acquiring contracts forbid
    cross-acquirer retries; a merchant turns it on knowingly.
    """

    model_config = _FROZEN

    reattempts: int = Field(
        default=0,
        ge=0,
        le=1,
        description="Reattempts of a soft-declined card per payment: 0 off, 1 once (the cap).",
    )
    max_per_card: int = Field(
        default=15,
        ge=1,
        le=15,
        description="Reattempts per card over the window, every payment and process counted.",
    )
    window_days: float = Field(
        default=30.0,
        ge=30.0,
        le=365.0,
        description="The rolling window of `max_per_card`: at least the networks' 30 days.",
    )


class RouterSettings(BaseModel):
    """How the router pays; `Router(..., settings=RouterSettings(deadline_seconds=10))`."""

    model_config = _FROZEN

    deadline_seconds: float = Field(
        default=_DEFAULT_DEADLINE_SECONDS,
        gt=0,
        description="A payment never takes longer, so checkout never hangs.",
    )
    min_send_seconds: float | None = Field(
        default=None,
        ge=0,
        description="A provider is called only while at least this much of the payment's "
        "deadline is left, so the call has that long to answer, counted from when it is "
        "sent; with less left (the payment waited for a busy process or ledger), it is not "
        "sent at all and no money moves, instead of being cut off after sending and left "
        "unknown. Without a value: a quarter of `deadline_seconds`.",
    )
    lookup_tries: int = Field(
        default=3, ge=1, le=10, description="Lookups of an unknown outcome before `pending`."
    )
    lookup_wait_seconds: float = Field(default=0.25, ge=0)
    key_namespace: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = Field(
        default="payrouter",
        description="Prefix of provider idempotency keys; one per environment sharing an account.",
    )
    fallback_on_decline: bool = Field(
        default=False,
        description="After a hard decline, try the customer's next payment source.",
    )
    in_progress_wait_seconds: float = Field(
        default=10.0, ge=0, description="How long a duplicate `pay` waits for the first one."
    )
    lease_seconds: float = Field(
        default=40.0,
        gt=0,
        description="After this, `pay` or reconcile may take over a crashed payment. "
        "Without a value: twice `deadline_seconds`, so a killed worker's orders are free again "
        "soon after the payment could no longer have been running.",
    )
    replay_max_age_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="An unknown outcome may be completed by replaying its own request (same "
        "key, same provider, within the provider's key window) only while the attempt is "
        "younger than this; past it, only the provider's authoritative answers settle it. "
        "0 never replays.",
    )
    last_resort_when_all_open: bool = Field(
        default=True,
        description="When every eligible provider's breaker is open, try each once anyway "
        "rather than fail the payment untried.",
    )
    maintenance_drain_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Stop sending to a provider this long before its announced window opens.",
    )
    max_amount_minor: dict[CurrencyCode, Annotated[int, Field(gt=0, le=MAX_MINOR_UNITS)]] = Field(
        default_factory=dict,
        description="Per currency, the largest payment accepted, in minor units "
        "({EUR: 5000000} is 50,000.00 EUR): a typo or a tampered amount above it is refused "
        "before any provider is called. Currencies not listed have no ceiling of their own.",
    )
    retry: RetrySettings = RetrySettings()
    retry_budget: RetryBudgetSettings = RetryBudgetSettings()
    breaker: BreakerSettings = BreakerSettings()
    admission: AdmissionSettings = AdmissionSettings()
    outbox: OutboxSettings = OutboxSettings()
    soft_declines: SoftDeclineSettings = SoftDeclineSettings()

    @property
    def send_budget_seconds(self) -> float:
        """The least time before the deadline at which a provider call may still be sent."""
        if self.min_send_seconds is not None:
            return self.min_send_seconds
        return self.deadline_seconds / 4

    @model_validator(mode="before")
    @classmethod
    def _lease_follows_deadline(cls, data: object) -> object:
        if isinstance(data, dict) and "lease_seconds" not in data:
            deadline = data.get("deadline_seconds", _DEFAULT_DEADLINE_SECONDS)
            if isinstance(deadline, int | float) and not isinstance(deadline, bool):
                return {**data, "lease_seconds": 2.0 * deadline}
        return data

    @model_validator(mode="after")
    def _lease_outlives_deadline(self) -> Self:
        if self.min_send_seconds is not None and self.min_send_seconds >= self.deadline_seconds:
            raise ValueError(
                "min_send_seconds must be less than deadline_seconds, or no provider would "
                "ever be called"
            )
        if self.lease_seconds <= self.deadline_seconds:
            raise ValueError(
                "lease_seconds must exceed deadline_seconds, or reconcile could take over a "
                "payment that is still running"
            )
        if self.outbox.lease_seconds <= self.deadline_seconds:
            raise ValueError(
                "outbox.lease_seconds must exceed deadline_seconds, or a second worker could "
                "send a follow-up whose first sender is still waiting for the provider"
            )
        return self

    def check_ceiling(self, amount: Money) -> None:
        """Refuse `amount` when it is above the merchant's ceiling for its currency.

        Checked before the order id is claimed, so a refused amount leaves no ledger row and
        the same order id can be paid with the corrected amount.

        Raises:
            InvalidPaymentError: above `max_amount_minor` for the amount's currency.
        """
        ceiling = self.max_amount_minor.get(amount.currency)
        if ceiling is not None and amount.minor_units > ceiling:
            limit = Money(minor_units=ceiling, currency=amount.currency)
            raise InvalidPaymentError(
                f"amount: {amount} is above this router's ceiling of {limit} "
                f"(router.max_amount_minor.{amount.currency}): check the amount, or raise "
                "the ceiling in the config"
            )
