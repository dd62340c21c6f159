"""The ledger on SQLAlchemy Core: SQLite by default, PostgreSQL by URL, the same code for both.

Calls run on a small private thread pool so the event loop never waits on disk or network;
SQLite gets one thread (it has one writer anyway), other databases one per pooled connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, Row, create_engine, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from .._errors import LedgerUnavailableError
from .._models import AttemptSummary, PaymentMethod, PaymentResult, PaymentStatus
from .._money import Money
from .._taxonomy import FailureKind, Outcome
from ._records import AttemptOutcome, AttemptRow, Claim, ClaimKind, PaymentUpdate
from ._schema import attempts, metadata, payments

__all__ = ["SqlLedger"]

T = TypeVar("T")

_UNRESOLVED_STATUSES: Final = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


class SqlLedger:
    """A ledger in any SQLAlchemy database; `sqlite:///payments.db` or `postgresql+psycopg://…`.

    Args:
        url: SQLAlchemy database URL.
        sqlite_synchronous: SQLite's `synchronous` pragma. "NORMAL" (default, with WAL)
            survives any crash of the process, `kill -9` included, but an operating-system
            crash or power cut may lose the last transactions; "FULL" survives those too,
            at the cost of an fsync per commit.
        pool_size: connections (and worker threads) for databases other than SQLite.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 8) -> None:
        if sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError("sqlite_synchronous must be one of OFF, NORMAL, FULL, EXTRA")
        self.url = url
        self._synchronous = sqlite_synchronous.upper()
        self._pool_size = pool_size
        self._engine: Engine | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._is_sqlite = url.startswith("sqlite")

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set SQLite to WAL, and create the tables if they are missing."""
        workers = 1 if self._is_sqlite else self._pool_size
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="payrouter-ledger")
        self._engine = self._create_engine()
        await self._run(lambda: metadata.create_all(self._require_engine()))

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.get_running_loop().run_in_executor(self._executor, engine.dispose)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _create_engine(self) -> Engine:
        if not self._is_sqlite:
            return create_engine(self.url, pool_size=self._pool_size, pool_pre_ping=True)
        in_memory = self.url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            self.url,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=StaticPool if in_memory else None,
        )
        synchronous = self._synchronous

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine

    def _require_engine(self) -> Engine:
        if self._engine is None:
            raise LedgerUnavailableError("the ledger is not open")
        return self._engine

    async def _run(self, work: Callable[[], T]) -> T:
        if self._executor is None:
            raise LedgerUnavailableError("the ledger is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except SQLAlchemyError as error:
            raise LedgerUnavailableError(f"ledger write or read failed: {error}") from error

    def _insert(self) -> Any:
        dialect = postgresql if not self._is_sqlite else sqlite
        return dialect.insert(payments)

    # -- the write path ----------------------------------------------------------------------

    async def claim(
        self, order_id: str, fingerprint: str, amount: Money, owner: str, lease_seconds: float
    ) -> Claim:
        return await self._run(
            lambda: self._claim(order_id, fingerprint, amount, owner, lease_seconds)
        )

    def _claim(
        self, order_id: str, fingerprint: str, amount: Money, owner: str, lease_seconds: float
    ) -> Claim:
        now = time.time()
        with self._require_engine().begin() as conn:
            inserted = conn.execute(
                self._insert()
                .values(
                    order_id=order_id,
                    fingerprint=fingerprint,
                    status=PaymentStatus.PROCESSING.value,
                    amount_minor=amount.minor_units,
                    currency=amount.currency,
                    owner=owner,
                    lease_until=now + lease_seconds,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=[payments.c.order_id])
            )
            if inserted.rowcount == 1:
                return Claim(ClaimKind.NEW)
            row = conn.execute(select(payments).where(payments.c.order_id == order_id)).one()
            if row.fingerprint != fingerprint:
                return Claim(ClaimKind.CONFLICT)
            if row.status != PaymentStatus.FAILED:
                return Claim(ClaimKind.EXISTING, payment=self._load(conn, row))
            retaken = conn.execute(
                update(payments)
                .where(payments.c.order_id == order_id, payments.c.status == PaymentStatus.FAILED)
                .values(
                    status=PaymentStatus.PROCESSING.value,
                    owner=owner,
                    lease_until=now + lease_seconds,
                    updated_at=now,
                    provider=None,
                    method=None,
                    provider_reference=None,
                    action_url=None,
                    failure_kind=None,
                    decline_reason=None,
                )
            )
            if retaken.rowcount != 1:  # another worker retook it between our two statements
                return Claim(ClaimKind.EXISTING, payment=self._load(conn, row))
            last = conn.execute(
                select(func.coalesce(func.max(attempts.c.number), 0)).where(
                    attempts.c.order_id == order_id
                )
            ).scalar_one()
            return Claim(ClaimKind.RETAKEN, next_attempt=int(last) + 1)

    async def record_attempt(self, row: AttemptRow) -> None:
        await self._run(lambda: self._record_attempt(row))

    def _record_attempt(self, row: AttemptRow) -> None:
        with self._require_engine().begin() as conn:
            conn.execute(
                attempts.insert().values(
                    order_id=row.order_id,
                    number=row.number,
                    provider=row.provider,
                    method=row.method.value,
                    idempotency_key=row.idempotency_key,
                    tries=0,
                    started_at=time.time(),
                )
            )

    async def finish_attempt(
        self,
        order_id: str,
        number: int,
        outcome: AttemptOutcome,
        payment: PaymentUpdate | None = None,
    ) -> None:
        await self._run(lambda: self._finish_attempt(order_id, number, outcome, payment))

    def _finish_attempt(
        self, order_id: str, number: int, outcome: AttemptOutcome, payment: PaymentUpdate | None
    ) -> None:
        now = time.time()
        with self._require_engine().begin() as conn:
            conn.execute(
                update(attempts)
                .where(attempts.c.order_id == order_id, attempts.c.number == number)
                .values(
                    outcome=outcome.outcome.value,
                    failure_kind=_value(outcome.failure_kind),
                    provider_code=_clip(outcome.provider_code, 100),
                    provider_reference=outcome.provider_reference,
                    action_url=_clip(outcome.action_url, 2000),
                    tries=outcome.tries,
                    latency_ms=outcome.latency_ms,
                    finished_at=now,
                )
            )
            if payment is not None:
                self._update_payment(conn, order_id, payment, now)

    async def finish_payment(self, order_id: str, update: PaymentUpdate) -> None:
        def work() -> None:
            with self._require_engine().begin() as conn:
                self._update_payment(conn, order_id, update, time.time())

        await self._run(work)

    @staticmethod
    def _update_payment(conn: Connection, order_id: str, change: PaymentUpdate, now: float) -> None:
        values: dict[str, object] = {
            "status": change.status.value,
            "provider": change.provider,
            "method": _value(change.method),
            "provider_reference": change.provider_reference,
            "action_url": _clip(change.action_url, 2000),
            "failure_kind": _value(change.failure_kind),
            "decline_reason": change.decline_reason,
            "updated_at": now,
        }
        if change.status is not PaymentStatus.PROCESSING:
            values |= {"owner": None, "lease_until": None}
        conn.execute(update(payments).where(payments.c.order_id == order_id).values(**values))

    # -- reading and reconciling -----------------------------------------------------------

    async def get(self, order_id: str) -> PaymentResult | None:
        def work() -> PaymentResult | None:
            with self._require_engine().connect() as conn:
                row = conn.execute(
                    select(payments).where(payments.c.order_id == order_id)
                ).one_or_none()
                return None if row is None else self._load(conn, row)

        return await self._run(work)

    async def acquire(self, order_id: str, owner: str, lease_seconds: float) -> bool:
        def work() -> bool:
            now = time.time()
            with self._require_engine().begin() as conn:
                taken = conn.execute(
                    update(payments)
                    .where(
                        payments.c.order_id == order_id,
                        payments.c.status.in_(
                            [
                                PaymentStatus.PROCESSING.value,
                                *(s.value for s in _UNRESOLVED_STATUSES),
                            ]
                        ),
                        or_(payments.c.lease_until.is_(None), payments.c.lease_until < now),
                    )
                    .values(owner=owner, lease_until=now + lease_seconds)
                )
                return taken.rowcount == 1

        return await self._run(work)

    async def unresolved(self, limit: int) -> list[str]:
        def work() -> list[str]:
            now = time.time()
            with self._require_engine().connect() as conn:
                rows = conn.execute(
                    select(payments.c.order_id)
                    .where(
                        or_(
                            payments.c.status.in_([s.value for s in _UNRESOLVED_STATUSES]),
                            (payments.c.status == PaymentStatus.PROCESSING.value)
                            & (payments.c.lease_until < now),
                        )
                    )
                    .order_by(payments.c.updated_at)
                    .limit(limit)
                )
                return [row.order_id for row in rows]

        return await self._run(work)

    @staticmethod
    def _load(conn: Connection, row: Row[Any]) -> PaymentResult:
        attempt_rows = conn.execute(
            select(attempts).where(attempts.c.order_id == row.order_id).order_by(attempts.c.number)
        ).all()
        return PaymentResult(
            order_id=row.order_id,
            status=PaymentStatus(row.status),
            amount=Money(minor_units=row.amount_minor, currency=row.currency),
            provider=row.provider,
            method=PaymentMethod(row.method) if row.method else None,
            provider_reference=row.provider_reference,
            action_url=row.action_url,
            failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
            decline_reason=row.decline_reason,
            attempts=tuple(_summary(attempt) for attempt in attempt_rows),
            created_at=_when(row.created_at),
            updated_at=_when(row.updated_at),
        )


def _summary(row: Row[Any]) -> AttemptSummary:
    return AttemptSummary(
        number=row.number,
        provider=row.provider,
        method=PaymentMethod(row.method),
        outcome=Outcome(row.outcome) if row.outcome else None,
        failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
        provider_code=row.provider_code,
        provider_reference=row.provider_reference,
        action_url=row.action_url,
        idempotency_key=row.idempotency_key,
        tries=row.tries,
        latency_ms=row.latency_ms,
        started_at=_when(row.started_at),
        finished_at=_when(row.finished_at) if row.finished_at is not None else None,
    )


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _value(member: FailureKind | PaymentMethod | None) -> str | None:
    return None if member is None else member.value


def _clip(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]
