"""An answer the payment's deadline cut off, still read when its provider cannot repeat it.

A provider that replays no request by key (`Resolution.replay_window_seconds` 0: Berlin Group
PIS, whose `X-Request-ID` identifies a request and deduplicates nothing) gives the reference
of what it created only in the answer to the request that created it. Cut off at the
payment's deadline, that answer was lost for good: the payment stayed `pending` until a
search could prove something (for a bank transfer's credit, days). So the call is not
cancelled at the deadline: the checkout gets its `unknown` on time as before, the request
runs on, bounded by the adapter's own HTTP timeouts, and the reference its answer brings is
written to the attempt (only while it is still unknown without one), so that reconcile asks
the provider by it. The router cancels what is still running when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any
from weakref import WeakKeyDictionary

from .._adapter import ProviderReply
from .._ledger import Ledger
from .._money import Money
from ._amounts import check_amount
from ._transport import reply_for_exception

__all__ = ["call_reading_late_answer", "stop_reading_late_answers"]

_WAIT_FOR_OUTCOME_SECONDS = 0.05
"""How often the reference's write looks again for the attempt's own outcome write, which
follows the deadline's `unknown` (after the payment's lookups)."""
_GIVE_UP_SECONDS = 60.0
"""An outcome still unwritten by then will not be (its payment's worker is gone): reconcile
finds the attempt open and climbs its ladder without the reference."""
_READERS: WeakKeyDictionary[Ledger, set[asyncio.Task[None]]] = WeakKeyDictionary()


async def call_reading_late_answer(
    call: Coroutine[Any, Any, ProviderReply],
    deadline: float,
    expected: Money,
    ledger: Ledger,
    order_id: str,
    number: int,
) -> ProviderReply:
    """`call_safely` for a pay call whose answer cannot be had again: past `deadline` it is
    `unknown` (deadline_exceeded) as there, but the call runs on (see the module)."""
    request = asyncio.ensure_future(call)
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            reply = await asyncio.shield(request)
    except TimeoutError as error:
        reader = asyncio.create_task(_write_reference(request, ledger, order_id, number))
        readers = _READERS.setdefault(ledger, set())
        readers.add(reader)
        reader.add_done_callback(readers.discard)
        return reply_for_exception(error)
    except asyncio.CancelledError:
        request.cancel()  # the payment itself was cancelled: so is its call
        raise
    except Exception as error:  # every exception is an outcome, mapped by one table
        return reply_for_exception(error)
    return check_amount(reply, expected)


async def _write_reference(
    request: asyncio.Future[ProviderReply], ledger: Ledger, order_id: str, number: int
) -> None:
    try:
        reply = await request
    except Exception:  # no answer after all: the attempt stays as it is
        return
    except asyncio.CancelledError:
        request.cancel()
        raise
    reference = reply.provider_reference
    if reference is None:
        return
    give_up = time.monotonic() + _GIVE_UP_SECONDS
    with contextlib.suppress(Exception):  # a ledger that cannot take it now: reconcile's job
        while await ledger.note_late_reference(order_id, number, reference) is None:
            if time.monotonic() >= give_up:
                return
            await asyncio.sleep(_WAIT_FOR_OUTCOME_SECONDS)


async def stop_reading_late_answers(ledger: Ledger) -> None:
    """Cancel the calls still running past their deadline for `ledger`'s payments (the
    router is closing); their attempts stay unknown, for reconcile."""
    readers = _READERS.pop(ledger, set())
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
