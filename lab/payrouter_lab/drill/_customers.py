"""Customers who are sent to approve (3-D Secure, a wallet's page, a bank's SCA) and act.

After a think time each customer opens the provider's page from `action_url` (the sandbox's
customer pages approve on a GET) or abandons it; one who approved comes back to the shop,
whose return page asks the provider through `router.refresh`. Decisions are seeded per order,
so a drill replays the same customers. Their browsers run in a process of their own
(`_browsers`), started once per drill: only the return page is the checkout's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from pydantic import BaseModel, ConfigDict, Field

from payrouter import PaymentResult, PaymentStatus, Router

from ._browsers import Browsers

__all__ = ["Approvals", "Customers"]


class Approvals(BaseModel):
    """How customers behave when a payment needs their approval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approve_share: float = Field(default=0.9, ge=0, le=1, description="The rest abandon.")
    think_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Mean time on the provider's page (exponential)."
    )


class Customers:
    """Plays each customer sent to approve, for an `async with` block; `settle()` waits
    until they all have acted. Their browsers are `browsers`, a process of their own."""

    def __init__(self, approvals: Approvals, seed: int, router: Router, browsers: Browsers) -> None:
        self._approvals, self._seed, self._router = approvals, seed, router
        self._browsers = browsers
        self._on_their_page: set[str] = set()
        self._all_back = asyncio.Event()
        self._all_back.set()
        self._returns: set[asyncio.Task[None]] = set()
        self._listening: asyncio.Task[None] | None = None
        self.decisions: dict[str, str] = {}
        """Order id -> "approved" or "abandoned"."""
        self.after_return: dict[str, PaymentStatus] = {}
        """Order id -> the payment's status once an approving customer came back."""

    async def __aenter__(self) -> Customers:
        self._listening = asyncio.create_task(self._listen())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening

    def sent_to_approve(self, result: PaymentResult) -> None:
        """Called for each `requires_action` result that carries a page to send them to."""
        if result.status is not PaymentStatus.REQUIRES_ACTION or not result.action_url:
            return
        order_id = result.order_id
        dice = random.Random(f"{self._seed}:{order_id}")  # noqa: S311 - a simulation, not crypto
        think = (
            dice.expovariate(1 / self._approvals.think_seconds)
            if self._approvals.think_seconds
            else 0.0
        )
        if dice.random() >= self._approvals.approve_share:
            self.decisions[order_id] = "abandoned"
            return
        self._on_their_page.add(order_id)
        self._all_back.clear()
        self._browsers.open_page(order_id, result.action_url, think)

    async def settle(self) -> None:
        """Wait for every customer still on a provider's page and every return page.

        Raises:
            RuntimeError: the browsers' process ended with customers still on a page (their
                answers will never come).
        """
        listening = self._listening
        assert listening is not None, "settle() inside `async with Customers(...)`"
        back = asyncio.ensure_future(self._all_back.wait())
        # The listener ends only when the browsers' process has.
        await asyncio.wait([back, listening], return_when=asyncio.FIRST_COMPLETED)
        back.cancel()
        if listening.done() and not listening.cancelled() and (error := listening.exception()):
            raise error
        if self._on_their_page:
            raise RuntimeError(
                f"the customers' browsers ended with {len(self._on_their_page)} customers "
                "still on a provider's page"
            )
        while self._returns:
            await asyncio.gather(*list(self._returns))

    async def _listen(self) -> None:
        async for answer in self._browsers.answers():
            if answer.loaded:
                self.decisions[answer.order_id] = "approved"
                task = asyncio.create_task(self._come_back(answer.order_id))
                self._returns.add(task)
                task.add_done_callback(self._returns.discard)
            else:  # the page did not load: nothing approved, they give up
                self.decisions[answer.order_id] = "abandoned"
            self._on_their_page.discard(answer.order_id)
            if not self._on_their_page:
                self._all_back.set()

    async def _come_back(self, order_id: str) -> None:
        refreshed = await self._router.refresh(order_id)  # the shop's return page
        if refreshed is not None:
            self.after_return[order_id] = refreshed.status
