"""What a follow-up is, as the merchant sees it: capture, refund, void or mandate cancellation."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .._models import PaymentMethod
from .._money import Money
from .._taxonomy import FailureKind

__all__ = ["FollowUp", "FollowUpKind", "FollowUpStatus", "OutboxStats"]


class FollowUpKind(enum.StrEnum):
    """The four operations that must reach the provider holding the payment or mandate."""

    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    CANCEL_MANDATE = "cancel_mandate"


class FollowUpStatus(enum.StrEnum):
    """Where a follow-up stands; it is written `queued` before its provider is ever called."""

    QUEUED = "queued"
    """Recorded, not yet confirmed: waiting for its provider (busy, down, or not tried yet)."""
    SENDING = "sending"
    """A worker is calling the provider right now (its lease says until when)."""
    SUCCEEDED = "succeeded"
    """The provider confirmed it."""
    PENDING = "pending"
    """The provider accepted it and confirms later (Adyen's `received`): a webhook finishes it."""
    REFUSED = "refused"
    """The provider definitely refused it; `failure_kind` and `message` say why. Never retried."""

    @property
    def holds_money(self) -> bool:
        """True when the follow-up counts against what may still be captured or refunded."""
        return self is not FollowUpStatus.REFUSED

    @property
    def is_open(self) -> bool:
        """True while it still waits for its provider: the outbox."""
        return self in (FollowUpStatus.QUEUED, FollowUpStatus.SENDING)


class FollowUp(BaseModel):
    """One follow-up, as recorded in the ledger's outbox."""

    model_config = ConfigDict(frozen=True)

    followup_id: str = Field(description="'<order id>/<kind>/<n>', or the mandate's for a cancel.")
    kind: FollowUpKind
    provider: str = Field(description="The provider that holds the payment: never another one.")
    method: PaymentMethod
    order_id: str | None = None
    mandate_id: str | None = None
    amount: Money | None = Field(default=None, description="None for voids and cancellations.")
    reason: str | None = None
    merchant_key: str | None = Field(
        default=None, description="The merchant's key: asking again with it returns this one."
    )
    idempotency_key: str = Field(description="Sent to the provider on every try of this one.")
    status: FollowUpStatus
    failure_kind: FailureKind | None = None
    provider_code: str | None = None
    provider_reference: str | None = None
    message: str | None = None
    tries: int = Field(description="Calls sent to the provider so far.")
    next_try_at: datetime | None = Field(
        default=None, description="When a queued follow-up is sent again."
    )
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


class OutboxStats(BaseModel):
    """How the outbox stands, across every process sharing the ledger."""

    model_config = ConfigDict(frozen=True)

    depth: int = Field(description="Follow-ups queued or being sent.")
    oldest_age_seconds: float = Field(description="Age of the oldest of them; 0 when empty.")
    pending: int = Field(description="Accepted by their provider, awaiting its confirmation.")
    refused: int = Field(description="Refused by their provider: each needs a person to look.")
