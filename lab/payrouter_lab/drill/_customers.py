"""Customers who are sent to approve (3-D Secure, a wallet's page, a bank's SCA) and act.

After a think time each customer opens the provider's page from `action_url` (the sandbox's
customer pages approve on a GET) or abandons it; one who approved comes back to the shop,
whose return page asks the provider through `router.refresh`. Decisions are seeded per order,
so a drill replays the same customers.
"""

from __future__ import annotations

import asyncio
import random

import httpx
from pydantic import BaseModel, ConfigDict, Field

from payrouter import PaymentResult, PaymentStatus, Router

__all__ = ["Approvals", "Customers"]


class Approvals(BaseModel):
    """How customers behave when a payment needs their approval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approve_share: float = Field(default=0.9, ge=0, le=1, description="The rest abandon.")
    think_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Mean time on the provider's page (exponential)."
    )


class Customers:
    """Plays each customer sent to approve; `settle()` waits until they all have acted."""

    def __init__(self, approvals: Approvals, seed: int, router: Router) -> None:
        self._approvals, self._seed, self._router = approvals, seed, router
        self._client = httpx.AsyncClient(timeout=10.0)
        self._pending: set[asyncio.Task[None]] = set()
        self.decisions: dict[str, str] = {}
        """Order id -> "approved" or "abandoned"."""
        self.after_return: dict[str, PaymentStatus] = {}
        """Order id -> the payment's status once an approving customer came back."""

    def sent_to_approve(self, result: PaymentResult) -> None:
        """Called for each `requires_action` result that carries a page to send them to."""
        if result.status is PaymentStatus.REQUIRES_ACTION and result.action_url:
            task = asyncio.create_task(self._act(result.order_id, result.action_url))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait for every customer still thinking, then release the HTTP client."""
        while self._pending:
            await asyncio.gather(*list(self._pending))
        await self._client.aclose()

    async def _act(self, order_id: str, page: str) -> None:
        dice = random.Random(f"{self._seed}:{order_id}")  # noqa: S311 - a simulation, not crypto
        think = (
            dice.expovariate(1 / self._approvals.think_seconds)
            if self._approvals.think_seconds
            else 0.0
        )
        await asyncio.sleep(think)
        if dice.random() >= self._approvals.approve_share:
            self.decisions[order_id] = "abandoned"
            return
        try:
            await self._client.get(page)  # the customer approves on the provider's page
        except httpx.HTTPError:  # the page did not load: nothing approved, they give up
            self.decisions[order_id] = "abandoned"
            return
        self.decisions[order_id] = "approved"
        refreshed = await self._router.refresh(order_id)  # ...and comes back to the shop
        if refreshed is not None:
            self.after_return[order_id] = refreshed.status
