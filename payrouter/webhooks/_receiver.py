"""Receiving a provider's notification: verify, parse, apply, and say what to answer.

One place decides the HTTP answer for every outcome, so the ASGI app and the Django view
cannot disagree: forged or stale 401, malformed 400, everything verified 200 (replays and
unknown types included: the provider must stop retrying them), except 503 while the payment
is being paid right now or PayPal cannot be asked: the provider delivers again later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ..instrumentation._events import WebhookReceived, emit
from ._errors import (
    ForgedNotificationError,
    MalformedNotificationError,
    NotificationDeferredError,
    StaleNotificationError,
    VerificationUnavailableError,
)
from ._event import WebhookEvent, parse_adyen, parse_paypal, parse_stripe
from ._signatures import AdyenVerifier, StripeVerifier
from ._store import Receipt, apply_event

if TYPE_CHECKING:
    from .._router import Router
    from .._sync import SyncRouter

__all__ = ["Answer", "AsyncVerifier", "WebhookReceiver"]


class AsyncVerifier(Protocol):
    """A verifier that asks its provider (PayPal's `PayPalWebhookVerifier`)."""

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ForgedNotificationError (or Malformed, or VerificationUnavailable)."""
        ...


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP answer to a notification, and what each of its events did."""

    status: int
    body: str
    receipts: tuple[Receipt, ...] = ()


class WebhookReceiver:
    """Verifies and applies notifications to the router's ledger.

    Args:
        router: the app's `Router` (or `SyncRouter`, for Django views).
        stripe: the verifier built with the endpoint's signing secret (`whsec_...`).
        adyen: the verifier built with the webhook's HMAC key.
        paypal: `payrouter_adapters.paypal.PayPalWebhookVerifier(adapter, webhook_id)`.
        max_age_seconds: Adyen notifications carry no signed timestamp; one whose eventDate
            is older than this is refused as stale (a captured request replayed), while the
            event-id memory stops replays of recent ones.
    """

    def __init__(
        self,
        router: Router | SyncRouter,
        *,
        stripe: StripeVerifier | None = None,
        adyen: AdyenVerifier | None = None,
        paypal: AsyncVerifier | None = None,
        max_age_seconds: float = 31 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from .._sync import SyncRouter

        self._sync = router if isinstance(router, SyncRouter) else None
        self._router: Router = router.router if isinstance(router, SyncRouter) else router
        self._stripe = stripe
        self._adyen = adyen
        self._paypal = paypal
        self._max_age = max_age_seconds
        self._clock = clock
        self.providers = tuple(
            name
            for name, verifier in (("stripe", stripe), ("adyen", adyen), ("paypal", paypal))
            if verifier
        )

    async def receive(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Verify and apply one notification; never raises for what the provider sent."""
        try:
            events = await self._verified(provider, body, headers)
        except (ForgedNotificationError, StaleNotificationError) as refused:
            return Answer(401, f"refused: {refused}")
        except VerificationUnavailableError as unavailable:
            return Answer(503, f"try again later: {unavailable}")
        except MalformedNotificationError as malformed:
            return Answer(400, f"malformed: {malformed}")
        receipts: list[Receipt] = []
        for event in events:
            try:
                receipt = await self._router._apply_webhook(apply_event, event)
            except NotificationDeferredError as busy:
                # Items applied before this one are remembered: the redelivery replays them.
                return Answer(503, f"try again later: {busy}", tuple(receipts))
            emit(
                self._router._hooks,
                WebhookReceived(
                    event.provider, event.event_id, event.type, receipt.result.value,
                    receipt.order_id,
                ),
            )  # fmt: skip
            receipts.append(receipt)
        body_text = "[accepted]" if provider == "adyen" else "ok"  # Adyen expects "[accepted]"
        return Answer(200, body_text, tuple(receipts))

    def receive_sync(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """`receive` from synchronous code, on the `SyncRouter`'s loop."""
        if self._sync is None:
            raise TypeError("receive_sync needs a receiver built with a SyncRouter")
        return self._sync.run_coroutine(self.receive(provider, body, headers))

    async def _verified(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> list[WebhookEvent]:
        lowered = {key.lower(): value for key, value in headers.items()}
        if provider == "stripe" and self._stripe is not None:
            self._stripe.verify(lowered.get("stripe-signature", ""), body)
            return [parse_stripe(body)]
        if provider == "adyen" and self._adyen is not None:
            verified = []
            for item, event in parse_adyen(body):
                self._adyen.verify(item)
                self._check_age(event.occurred_at)
                verified.append(event)
            return verified
        if provider == "paypal" and self._paypal is not None:
            await self._paypal.verify(headers, body)
            event = parse_paypal(body)
            self._check_age(event.occurred_at)
            return [event]
        raise ForgedNotificationError(f"no verifier configured for {provider!r}")

    def _check_age(self, occurred: datetime) -> None:
        age = self._clock() - occurred.timestamp()
        if age > self._max_age:
            raise StaleNotificationError(f"event from {occurred.isoformat()} is {age:.0f}s old")
