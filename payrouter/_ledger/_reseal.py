"""Re-sealing kept requests under the first ledger key, so an old key can be retired.

The first key seals, every key opens (`_sealing`): rows sealed under an old key keep needing
it for as long as they are kept. `payrouter ledger-key reseal` reads every kept request in
batches (one short transaction each, in key order, so checkouts keep writing between them),
opens each under the configured keys and writes it back sealed under the first; a value kept
in clear (before sealing) is sealed too. Each write is conditional on the row still holding
the value that was read, so a row written by someone else meanwhile is never overwritten, only
counted. A second run finds nothing left to do: it is idempotent and may be interrupted.
The client secrets kept in attempts' actions (`_sealed_actions`) go the same way, after them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, select, tuple_, update

from .._errors import ConfigurationError
from ._schema import attempts
from ._sealing import ACTION_PURPOSE, NO_KEY, LedgerKeys, RequestSeal, SealedRequestError, sealed_by

__all__ = ["ResealReport", "Resealing"]

T = TypeVar("T")
_BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class ResealReport:
    """What one re-sealing pass found and did, by kept request or action's client secret.

    `resealed` were under an older key or in clear and are now under the first key;
    `current` already were; `unopened` did not open (sealed under a key no longer configured,
    or altered) and were left as they are, by key id in `unopened_keys`; `changed` were
    written by someone else while being re-sealed and were left to the next pass.
    """

    sealing_key: str
    examined: int = 0
    resealed: int = 0
    current: int = 0
    unopened: int = 0
    changed: int = 0
    unopened_keys: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Every kept request is sealed under the first key: the old keys can be retired."""
        return self.examined == self.current + self.resealed


class _Sealed(Protocol):
    sealing: RequestSeal

    async def transact(self, work: Callable[[Connection], T]) -> T: ...


@dataclass(slots=True)
class _Tally:
    """The counts so far, and where the last batch ended."""

    examined: int = 0
    resealed: int = 0
    current: int = 0
    unopened: int = 0
    changed: int = 0
    unopened_keys: dict[str, int] = field(default_factory=dict)
    last: tuple[str, int] | None = None


class Resealing:
    """The re-sealing pass of a ledger with a `sealing` and `transact`."""

    async def reseal_requests(self: _Sealed, *, batch_size: int = _BATCH) -> ResealReport:
        """Re-seal every kept request under the first key, `batch_size` rows a transaction.

        Raises:
            ConfigurationError: the ledger has no key to seal with (a server ledger without
                `ledger_keys`).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.sealing.needs_key_file:  # a SQLite ledger: its key file, created if missing
            await self.transact(lambda _: self.sealing.find_key_file(create=True))
        keys = self.sealing.keys
        if keys is None:
            raise ConfigurationError(f"ledger: {NO_KEY}")
        tally = _Tally()
        while await self.transact(lambda conn: _reseal_batch(conn, keys, batch_size, tally)):
            pass
        tally.last = None
        while await self.transact(lambda conn: _reseal_actions(conn, keys, batch_size, tally)):
            pass
        return ResealReport(
            keys.sealing_id,
            tally.examined,
            tally.resealed,
            tally.current,
            tally.unopened,
            tally.changed,
            dict(tally.unopened_keys),
        )


def _reseal_batch(conn: Connection, keys: LedgerKeys, size: int, tally: _Tally) -> bool:
    """Re-seal up to `size` kept requests after the last batch's; True if there may be more."""
    query = select(attempts.c.order_id, attempts.c.number, attempts.c.request).where(
        attempts.c.request.is_not(None)
    )
    if tally.last is not None:
        query = query.where(tuple_(attempts.c.order_id, attempts.c.number) > tally.last)
    rows = conn.execute(query.order_by(attempts.c.order_id, attempts.c.number).limit(size)).all()
    for order_id, number, stored in rows:
        tally.examined += 1
        resealed = _resealed(keys, str(stored), order_id, number, None, tally)
        if resealed is not None:
            _write_unchanged(
                conn, attempts.c.request, order_id, number, str(stored), resealed, tally
            )
    if rows:
        tally.last = (rows[-1].order_id, rows[-1].number)
    return len(rows) == size


def _reseal_actions(conn: Connection, keys: LedgerKeys, size: int, tally: _Tally) -> bool:
    """Re-seal the client secrets of up to `size` kept actions after the last batch's (those
    kept in clear too); True if there may be more."""
    query = select(attempts.c.order_id, attempts.c.number, attempts.c.next_action).where(
        attempts.c.next_action.contains('"client_secret":"')
    )
    if tally.last is not None:
        query = query.where(tuple_(attempts.c.order_id, attempts.c.number) > tally.last)
    rows = conn.execute(query.order_by(attempts.c.order_id, attempts.c.number).limit(size)).all()
    for order_id, number, kept in rows:
        data = json.loads(kept)
        secret = data.get("client_secret")
        if not isinstance(secret, str):
            continue  # the marker was inside the provider's own data
        tally.examined += 1
        resealed = _resealed(keys, secret, order_id, number, ACTION_PURPOSE, tally)
        if resealed is not None:
            data["client_secret"] = resealed
            action = json.dumps(data, separators=(",", ":"))
            _write_unchanged(conn, attempts.c.next_action, order_id, number, kept, action, tally)
    if rows:
        tally.last = (rows[-1].order_id, rows[-1].number)
    return len(rows) == size


def _resealed(
    keys: LedgerKeys, sealed: str, order_id: str, number: int, purpose: str | None, tally: _Tally
) -> str | None:
    """`sealed` (or a value kept in clear) sealed again under the first key; None, counted,
    when it already is or when no configured key opens it."""
    key_id = sealed_by(sealed)
    if key_id == keys.sealing_id:
        tally.current += 1
        return None
    try:
        plain = keys.open(sealed, order_id, number, purpose)
    except SealedRequestError:
        tally.unopened += 1
        unknown = key_id or "?"
        tally.unopened_keys[unknown] = tally.unopened_keys.get(unknown, 0) + 1
        return None
    return keys.seal(plain, order_id, number, purpose)


def _write_unchanged(
    conn: Connection,
    column: ColumnElement[str],
    order_id: str,
    number: int,
    read: str,
    value: str,
    tally: _Tally,
) -> None:
    """Write `value` to the attempt's `column` only if it still holds what was `read`, never
    over another's write meanwhile; counted as resealed or changed."""
    written = conn.execute(
        update(attempts)
        .where(attempts.c.order_id == order_id, attempts.c.number == number, column == read)
        .values({column: value})
    )
    if written.rowcount == 1:
        tally.resealed += 1
    else:
        tally.changed += 1
