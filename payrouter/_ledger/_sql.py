"""The ledger on SQLAlchemy Core: SQLite by default, PostgreSQL by URL, the same code for both.

Its operations: the claim and the attempts written before and after each provider call, the
payment's status, and the reads and lease reconciliation and the return page take. Where they
run is `_sql_connections`. Statements are built once, at import; on SQLite the hot ones are
fixed SQL on the DBAPI connection (`_sqlite_path`).
"""

from __future__ import annotations

import time
from typing import TypeVar

from .._models import PaymentResult, PaymentStatus
from .._money import Money
from . import _claims, _sqlite_path
from ._claims import PaymentRows, claim_values, load, read_rows, settle_existing
from ._fence import current_holder, insert_attempt, update_payment
from ._kept_requests import KeptRequests
from ._leases import acquire, lease_values
from ._operations import BooksOperations
from ._pg import attempt_step, claim_step, finish_step, one_statement_values, outcome_step
from ._records import AttemptOutcome, AttemptRow, Claim, ClaimKind, PaymentUpdate
from ._reseal import Resealing
from ._rows import attempt_values, outcome_values, payment_result, payment_values
from ._sql_connections import SqlConnections

__all__ = ["SqlLedger"]

T = TypeVar("T")


class SqlLedger(SqlConnections, BooksOperations, KeptRequests, Resealing):
    """A ledger in any SQLAlchemy database; `sqlite:///payments.db` or `postgresql+psycopg://…`.

    Args:
        url: SQLAlchemy database URL.
        sqlite_synchronous: SQLite's `synchronous` pragma. "NORMAL" (default, with WAL)
            survives any crash of the process, `kill -9` included, but an operating-system
            crash or power cut may lose the last transactions; "FULL" survives those too,
            at the cost of an fsync per commit.
        pool_size: connections (and worker threads) for databases other than SQLite.
        keys: the keys sealing kept requests (`_sealing`), the first seals; default: a key
            file beside a SQLite file, none on a server (then replaying providers refused).
    """

    # -- the write path ----------------------------------------------------------------------

    async def claim(
        self,
        order_id: str,
        fingerprint: str,
        amount: Money,
        owner: str,
        lease_seconds: float,
        *,
        authorize_only: bool = False,
        first_attempt: AttemptRow | None = None,
    ) -> Claim:
        """See `Ledger.claim`: with `first_attempt`, a new payment's row and its attempt 1
        go in one transaction (SQLite) or one statement (PostgreSQL, `_pg.claim_step`)."""
        request = None if first_attempt is None else await self._sealed(first_attempt)
        now = time.time()
        until = now + lease_seconds
        values = claim_values(order_id, fingerprint, amount, owner, until, authorize_only, now)
        attempt = None
        if first_attempt is not None:  # fenced by its own claim's owner, as it is inside
            attempt = attempt_values(first_attempt, request, owner, now)

        def work() -> Claim:
            with self._raw() as db:
                if _sqlite_path.insert_claim(db, values):
                    if attempt is not None:
                        _sqlite_path.insert_attempt(db, attempt)
                    return Claim(ClaimKind.NEW, attempt_recorded=attempt is not None)
            return existing()

        def existing() -> Claim:
            return settle_existing(read, retake, fingerprint, self.sealing.open_secret)

        def read() -> PaymentRows:
            rows = self._read(order_id)
            if rows is None:  # a payment's row is never deleted
                raise LookupError(f"no payment {order_id!r}, though its claim found one")
            return rows

        def retake() -> int | None:
            with self._transaction() as conn:
                return _claims.retake(conn, values)

        if not self._is_sqlite:
            return await self._step(claim_step(values, attempt, existing), before_call=True)
        return await self._run(work, before_call=True, here=True)

    async def _sealed(self, row: AttemptRow) -> str | None:
        """The request to keep for `row`, sealed here on the event loop's side: never stored
        in clear, and the writer's thread does no per-payment crypto."""
        if row.request is None:
            return None
        if self.sealing.needs_key_file:
            await self._run(lambda: self.sealing.find_key_file(create=True))
        return self.sealing.seal(row.request, row.order_id, row.number)

    async def record_attempt(self, row: AttemptRow) -> None:
        request, holder = await self._sealed(row), current_holder()  # read off the thread

        values = attempt_values(row, request, holder, time.time())

        def work() -> None:
            if self._dbapi is not None:
                with self._raw() as db:
                    _sqlite_path.insert_attempt(db, values)
                return
            with self._statement() as conn:
                insert_attempt(conn, values)

        if holder is not None and not self._is_sqlite:  # the pay path's: fenced, may share
            return await self._step(attempt_step(values), before_call=True)
        await self._run(work, before_call=True, here=True)

    async def finish_attempt(
        self,
        order_id: str,
        number: int,
        outcome: AttemptOutcome,
        payment: PaymentUpdate | None = None,
    ) -> PaymentResult | None:
        """Write the attempt's outcome; with `payment`, also its new status, and return it."""
        holder, action = current_holder(), await self.kept_action(order_id, number, outcome)
        attempt = outcome_values(outcome, action)
        if not self._is_sqlite and payment is None:  # failing over: the outcome alone
            await self._step(outcome_step(order_id, number, attempt, time.time()))
            return None
        if not self._is_sqlite and payment is not None:  # one statement for both
            values = one_statement_values(order_id, number, attempt, payment, time.time())
            values |= {"holder": holder}
            return await self._step(finish_step(values, self.sealing.open_secret))

        def work() -> PaymentResult | None:
            now = time.time()
            keys = {"key_order_id": order_id, "key_number": number, "finished_at": now}
            return self._finish_on_sqlite(keys | attempt | {"holder": holder}, payment, now)

        return await self._run(work, here=True)

    def _finish_on_sqlite(
        self, attempt: dict[str, object], payment: PaymentUpdate | None, now: float
    ) -> PaymentResult | None:
        """The outcome (and the payment's status) in one transaction, built from the rows
        the writes return (`_sqlite_path.finish`)."""
        with self._raw() as db:
            rows = _sqlite_path.finish(db, attempt, payment, now)
        return None if rows is None else self._result(rows)

    def _result(self, rows: PaymentRows) -> PaymentResult:
        """A payment's row and its attempts' rows, as read by `_sqlite_path`, as the result."""
        return payment_result(*rows, secrets=self.sealing.open_secret)

    def _read(self, order_id: str) -> PaymentRows | None:
        """The payment's row and its attempts as of one commit; None when there is no such
        order. On SQLite as fixed SQL (a third of SQLAlchemy's cost, `_sqlite_path`)."""
        if self._dbapi is not None:
            with self._raw() as db:
                return _sqlite_path.read(db, order_id)
        with self._snapshot() as conn:
            return read_rows(conn, order_id)

    async def finish_payment(self, order_id: str, update: PaymentUpdate) -> PaymentResult:
        """Write the payment's new status and return the payment as it now stands."""
        holder, keep_lease = current_holder(), update.status is PaymentStatus.PROCESSING

        def work() -> PaymentResult:
            values = payment_values(update, time.time()) | {"key_order_id": order_id}
            values |= {"holder": holder, "keep_lease": keep_lease}
            if self._dbapi is not None:  # SQLite: fixed SQL on the DBAPI connection
                with self._raw() as db:
                    return self._result(_sqlite_path.finish_payment(db, values))
            with self._transaction() as conn:
                return load(conn, update_payment(conn, values), self.sealing.open_secret)

        return await self._run(work, here=True)

    # -- reading and reconciling -----------------------------------------------------------

    async def get(self, order_id: str) -> PaymentResult | None:
        def work() -> PaymentResult | None:
            rows = self._read(order_id)
            return None if rows is None else self._result(rows)

        # `Router.refresh`'s reads, lease and status run on the loop as the pay path's do.
        return await self._run(work, here=True)

    async def acquire(self, order_id: str, owner: str, lease_seconds: float) -> bool:
        def work() -> bool:
            values = lease_values(order_id, owner, lease_seconds)
            if self._dbapi is not None:  # SQLite: fixed SQL on the DBAPI connection
                with self._raw() as db:
                    return _sqlite_path.acquire(db, values)
            with self._transaction() as conn:
                return acquire(conn, values)

        return await self._run(work, here=True)
