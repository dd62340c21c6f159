"""Receiving a provider's notification: size, verify, parse, apply, and say what to answer.

One place decides the HTTP answer for every outcome, so the ASGI app and the Django view
cannot disagree: too large 413, forged or stale 401, malformed 400, everything verified 200
(replays, mismatches and unknown types included: the provider must stop retrying them),
except 503 while the payment is being paid right now or the provider cannot be asked to
verify: the provider delivers again later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ._errors import (
    ForgedNotificationError,
    NotificationDeferredError,
    NotificationTooLargeError,
    WebhookError,
)
from ._event import WebhookEvent, WebhookSource
from ._receipt import Receipt

if TYPE_CHECKING:
    from .._router import Router
    from .._sync import SyncRouter

__all__ = ["MAX_BODY_BYTES", "Answer", "WebhookReceiver"]

MAX_BODY_BYTES: Final = 1024 * 1024
"""The default body limit: Stripe's and PayPal's events are a few KiB, and Adyen sends one
item per notification; a mebibyte leaves room without letting a stranger fill memory."""

_PREFIX: Final = {
    400: "malformed",
    401: "refused",
    413: "too large",
    503: "try again later",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP answer to a notification, and what each of its events did."""

    status: int
    body: str
    receipts: tuple[Receipt, ...] = ()


class WebhookReceiver:
    """Verifies notifications with their provider's source and applies them to the ledger.

    Args:
        router: the app's `Router` (or `SyncRouter`, for Django views).
        sources: one `WebhookSource` per provider, e.g.
            `payrouter_adapters.stripe.StripeWebhooks(secret)`; each answers at `/<provider>`.
        max_body_bytes: larger bodies are refused with 413, while reading, before any parsing.
    """

    def __init__(
        self,
        router: Router | SyncRouter,
        sources: Iterable[WebhookSource],
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        from .._sync import SyncRouter

        self._sync = router if isinstance(router, SyncRouter) else None
        self._router: Router = router.router if isinstance(router, SyncRouter) else router
        self._sources = {source.provider: source for source in sources}
        self.max_body_bytes = max_body_bytes
        self.providers = tuple(self._sources)

    async def receive(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Verify and apply one notification; never raises for what the provider sent."""
        try:
            events = await self._read(provider, body, headers)
        except WebhookError as refused:
            return refusal(refused)
        receipts: list[Receipt] = []
        for event in events:
            try:
                receipt = await self._router.apply_webhook(event)
            except NotificationDeferredError as busy:
                # Items applied before this one are remembered: the redelivery replays them.
                return Answer(503, f"try again later: {busy}", tuple(receipts))
            receipts.append(receipt)
        return Answer(200, self._sources[provider].acknowledgement, tuple(receipts))

    def receive_sync(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """`receive` from synchronous code, on the `SyncRouter`'s loop."""
        if self._sync is None:
            raise TypeError("receive_sync needs a receiver built with a SyncRouter")
        return self._sync.run_coroutine(self.receive(provider, body, headers))

    async def _read(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> list[WebhookEvent]:
        if len(body) > self.max_body_bytes:
            raise NotificationTooLargeError(f"body over {self.max_body_bytes} bytes")
        source = self._sources.get(provider)
        if source is None:
            raise ForgedNotificationError(f"no webhook source configured for {provider!r}")
        lowered = {key.lower(): value for key, value in headers.items()}
        return list(await source.read(body, lowered))


def refusal(error: WebhookError) -> Answer:
    """The answer for a refused notification: its status and one line saying why."""
    return Answer(error.status, f"{_PREFIX.get(error.status, 'refused')}: {error}")
