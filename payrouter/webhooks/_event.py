"""The provider-neutral side of a notification: one event shape and the source protocol.

A provider's adapter package implements `WebhookSource` (verify one delivery, parse it into
`WebhookEvent`s); the receiver applies the events without knowing which provider sent them.
`WebhookEvent` checks its own fields when it is built, so whatever a source reads from a
body, a value the ledger cannot hold (an amount past 2^63, a four-letter currency, a
reference longer than its column) is refused as malformed instead of failing in the ledger.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from .._followups import FollowUpStatus
from .._models import PaymentStatus
from .._taxonomy import FailureKind, policy_for
from ._errors import MalformedNotificationError

__all__ = ["Effect", "WebhookEvent", "WebhookSource", "load_json_object"]

_MAX_MINOR: Final = 2**63 - 1  # the ledger's BIGINT
_LIMITS: Final = {"provider": 100, "event_id": 255, "type": 100, "provider_reference": 255}


class Effect(enum.Enum):
    """What a notification does to the ledger."""

    PAYMENT = "payment"
    """Moves a payment's status (only forward: the transitions table decides)."""
    FOLLOW_UP = "follow_up"
    """Confirms or refuses a capture, refund or void the provider had accepted."""
    DISPUTE = "dispute"
    """A chargeback or dispute opened: recorded against the payment."""
    NONE = "none"
    """A type we do not act on: acknowledged, recorded, ignored."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a notification says, whichever provider sent it.

    `status` is the payment status a PAYMENT event moves to; `followup_status` what a
    FOLLOW_UP event makes of the follow-up whose provider reference is `provider_reference`.
    `amount_minor`/`currency` are what the provider reports (ISO 4217 minor units): a
    PAYMENT event is applied only when they match the ledger's payment. `authorisation`
    marks an event reporting an authorisation, which an issuer may grant for less than asked
    (Adyen's AUTHORISATION): a smaller amount in the same currency then makes the payment
    `partially_authorised` instead of a mismatch. `failure_kind` is why a payment event
    declines the payment, from the provider's own tables (a failed 3-D Secure challenge is
    `authentication_failed`); None means a decline the notification does not explain.

    Raises:
        MalformedNotificationError: a field the ledger cannot hold, or an effect without
            the status it needs.
    """

    provider: str
    event_id: str
    type: str
    provider_reference: str | None
    our_reference: str | None
    amount_minor: int | None
    currency: str | None
    occurred_at: datetime
    status: PaymentStatus | None
    effect: Effect = Effect.NONE
    followup_status: FollowUpStatus | None = None
    authorisation: bool = False
    failure_kind: FailureKind | None = None

    def __post_init__(self) -> None:
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if value is not None and not (_is_text(value) and 0 < len(value) <= limit):
                raise MalformedNotificationError(f"{name} must be 1 to {limit} characters")
        if self.our_reference is not None and not (
            _is_text(self.our_reference) and len(self.our_reference) <= 255
        ):
            raise MalformedNotificationError("our_reference must be at most 255 characters")
        amount = self.amount_minor
        if amount is not None and (
            not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= _MAX_MINOR
        ):
            raise MalformedNotificationError("amount must be whole minor units from 0 to 2^63-1")
        currency = self.currency
        if currency is not None and not (
            isinstance(currency, str) and len(currency) == 3 and currency.isascii()
            and currency.isalpha() and currency.isupper()
        ):  # fmt: skip
            raise MalformedNotificationError("currency must be three upper-case letters")
        if not isinstance(self.occurred_at, datetime) or self.occurred_at.tzinfo is None:
            raise MalformedNotificationError("occurred_at must be a timezone-aware datetime")
        if self.effect is Effect.PAYMENT and self.status is None:
            raise MalformedNotificationError(f"{self.type} moves a payment but names no status")
        if self.effect is Effect.FOLLOW_UP and self.followup_status is None:
            raise MalformedNotificationError(f"{self.type} finishes a follow-up but says no status")
        if self.failure_kind is not None and not (
            self.status is PaymentStatus.DECLINED and policy_for(self.failure_kind).is_decline
        ):
            raise MalformedNotificationError(f"{self.type}: only a decline carries a decline kind")


class WebhookSource(Protocol):
    """One provider's notifications: verify a delivery and read it into neutral events.

    Implemented in each provider's adapter package (`payrouter_adapters.stripe.StripeWebhooks`,
    `.adyen.AdyenWebhooks`, `.paypal.PayPalWebhooks`) and given to `WebhookReceiver`.
    """

    provider: str
    """The adapter name the events' payments were made with; also the route `/<provider>`."""
    acknowledgement: str
    """The body of the 200 answer the provider expects (Adyen: `[accepted]`)."""

    async def read(self, body: bytes, headers: Mapping[str, str]) -> Sequence[WebhookEvent]:
        """Verify the delivery (`headers` have lower-case names) and parse it.

        Raises:
            WebhookError: only its subclasses, whatever the bytes: forged or stale (401),
                malformed (400), verification unavailable (503).
        """
        ...


def load_json_object(body: bytes, what: str) -> dict[str, Any]:
    """`body` as a JSON object, or MalformedNotificationError saying why not.

    Nesting too deep for the parser, invalid UTF-8, NaN/Infinity and non-object documents are
    all refused here, so a source never sees anything but plain JSON values.
    """
    try:
        document = json.loads(body, parse_constant=_no_constants)
    except RecursionError:
        raise MalformedNotificationError(f"{what} is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, int too long
        raise MalformedNotificationError(f"{what} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise MalformedNotificationError(f"{what} is not a JSON object")
    return document


def _is_text(value: object) -> bool:
    """A string the ledger can store: UTF-8 encodable (JSON may carry lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
