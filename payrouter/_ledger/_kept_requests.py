"""Reading back the request an attempt kept for an idempotent replay, opened from its seal;
sealing the client secret of the action an attempt keeps (`_sealed_actions`).

`SqlLedger` seals the request as it writes the attempt (`_sealing`); this is the other half,
off the payment's hot path: resolution asks for it when it replays an unknown outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection, select

from ._records import AttemptOutcome
from ._schema import attempts
from ._sealed_actions import stored_action
from ._sealing import RequestSeal

__all__ = ["KeptRequests"]

T = TypeVar("T")


class _Sealed(Protocol):
    sealing: RequestSeal

    async def transact(self, work: Callable[[Connection], T]) -> T: ...


class KeptRequests:
    """The kept-request reads of a ledger with a `sealing` and `transact`."""

    async def attempt_request(self: _Sealed, order_id: str, number: int) -> str | None:
        """Raises SealedRequestError when the kept request does not open (`_sealing`)."""

        def read(conn: Connection) -> object:
            if self.sealing.needs_key_file:  # another process may have sealed with it since
                self.sealing.find_key_file(create=False)
            return conn.execute(
                select(attempts.c.request).where(
                    attempts.c.order_id == order_id, attempts.c.number == number
                )
            ).scalar_one_or_none()

        stored = await self.transact(read)
        return None if stored is None else self.sealing.open(str(stored), order_id, number)

    async def kept_action(
        self: _Sealed, order_id: str, number: int, outcome: AttemptOutcome
    ) -> str | None:
        """The outcome's action as the attempt keeps it, its client secret sealed here on the
        event loop's side (a SQLite file's key file found, or created, first)."""
        action = outcome.action
        if action is None:
            return None
        if action.client_secret is not None and self.sealing.needs_key_file:
            await self.transact(lambda _: self.sealing.find_key_file(create=True))
        return stored_action(self.sealing, action, order_id, number)
