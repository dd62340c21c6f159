"""Rotating the ledger key: `reseal` writes every kept request again under the first key.

The first key seals, every key opens; without re-sealing, rows sealed under an old key need it
for as long as they are kept, so it could never be retired. Re-sealing goes in batches, seals
the requests kept in clear too, is idempotent, never overwrites a row written meanwhile, and
leaves what no configured key opens as it is, saying which key it needs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from sqlalchemy import Connection, create_engine, event, text
from typer.testing import CliRunner

from payrouter import Money, PaymentMethod
from payrouter._cli._app import app
from payrouter._ledger import AttemptRow, SqlLedger
from payrouter._ledger._sealing import LedgerKeys, new_key, sealed_by

T = TypeVar("T")
OLD_KEY, NEW_KEY, LOST_KEY = new_key(), new_key(), new_key()
ORDERS = 7


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


def _plain(order: int) -> str:
    return f'{{"source": {{"token": "pm_card_{order}"}}}}'


async def _keep(url: str, keys: list[str], orders: range) -> None:
    """Attempts whose requests a checkout on `keys` kept (sealed under the first)."""
    ledger = SqlLedger(url, keys=keys)
    await ledger.open()
    try:
        for order in orders:
            order_id = f"order-{order:02d}"
            await ledger.claim(order_id, "f" * 64, Money.of("1.00", "EUR"), "w#1", 60.0)
            key = f"payrouter:{order_id}:1"
            row = AttemptRow(order_id, 1, "card_a", PaymentMethod.CARD, key, _plain(order))
            await ledger.record_attempt(row)
    finally:
        await ledger.close()


def _stored(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT order_id, request FROM payrouter_attempts"))
            return {order_id: request for order_id, request in rows}
    finally:
        engine.dispose()


def _write(url: str, order_id: str, value: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE payrouter_attempts SET request = :value WHERE order_id = :order_id"),
                {"value": value, "order_id": order_id},
            )
    finally:
        engine.dispose()


async def _reseal(url: str, keys: list[str], batch_size: int = 3) -> Any:
    ledger = SqlLedger(url, keys=keys)
    await ledger.open()
    try:
        return await ledger.reseal_requests(batch_size=batch_size)
    finally:
        await ledger.close()


async def test_reseal_moves_every_kept_request_under_the_first_key(ledger_url: str) -> None:
    """Old-key rows and a row kept in clear end under the new key; the old key can go."""
    await _keep(ledger_url, [OLD_KEY], range(ORDERS))
    _write(ledger_url, "order-03", _plain(3))  # kept in clear, before sealing existed
    report = await _reseal(ledger_url, [NEW_KEY, OLD_KEY])
    assert (report.examined, report.resealed, report.current) == (ORDERS, ORDERS, 0)
    assert report.done
    new_only = LedgerKeys([NEW_KEY])
    for order_id, stored in _stored(ledger_url).items():
        assert sealed_by(stored) == new_only.sealing_id
        assert new_only.open(stored, order_id, 1) == _plain(int(order_id[-2:]))


async def test_reseal_twice_changes_nothing_the_second_time(ledger_url: str) -> None:
    await _keep(ledger_url, [OLD_KEY], range(ORDERS))
    await _reseal(ledger_url, [NEW_KEY, OLD_KEY])
    before = _stored(ledger_url)
    again = await _reseal(ledger_url, [NEW_KEY, OLD_KEY], batch_size=ORDERS)
    assert (again.examined, again.resealed, again.current) == (ORDERS, 0, ORDERS)
    assert _stored(ledger_url) == before


async def test_a_request_no_configured_key_opens_is_left_and_named(ledger_url: str) -> None:
    """Its key is not in the list: the row is kept as it is and the run is not done."""
    await _keep(ledger_url, [OLD_KEY], range(2))
    await _keep(ledger_url, [LOST_KEY], range(2, 3))
    lost = _stored(ledger_url)["order-02"]
    report = await _reseal(ledger_url, [NEW_KEY, OLD_KEY])
    assert (report.resealed, report.unopened) == (2, 1)
    assert report.unopened_keys == {LedgerKeys([LOST_KEY]).sealing_id: 1}
    assert not report.done
    assert _stored(ledger_url)["order-02"] == lost


class _Interleaved(SqlLedger):
    """Runs `between` once after the first batch's transaction, as checkouts write on."""

    between: Callable[[], Awaitable[None]] | None = None

    async def transact(self, work: Callable[[Connection], T]) -> T:
        done = await super().transact(work)
        if self.between is not None:
            between, self.between = self.between, None
            await between()
        return done


async def test_attempts_written_by_checkouts_between_batches_are_not_lost(
    ledger_url: str,
) -> None:
    """A checkout still on the old key writes between two batches: its row is kept, opens,
    and (being after the batch) is re-sealed by the same run."""
    await _keep(ledger_url, [OLD_KEY], range(ORDERS))
    ledger = _Interleaved(ledger_url, keys=[NEW_KEY, OLD_KEY])

    async def checkout_writes() -> None:
        await _keep(ledger_url, [OLD_KEY], range(ORDERS, ORDERS + 2))

    ledger.between = checkout_writes
    await ledger.open()
    try:
        report = await ledger.reseal_requests(batch_size=3)
    finally:
        await ledger.close()
    assert report.examined == report.resealed == ORDERS + 2
    stored = _stored(ledger_url)
    assert len(stored) == ORDERS + 2
    new_only = LedgerKeys([NEW_KEY])
    for order_id, value in stored.items():
        assert new_only.open(value, order_id, 1) == _plain(int(order_id[-2:]))


async def test_a_row_written_while_it_is_resealed_is_not_overwritten(postgres_url: str) -> None:
    """Another pass re-seals the row between our read and our write: ours changes nothing.
    (SQLite runs a batch as one write transaction, so only PostgreSQL interleaves there.)"""
    await _keep(postgres_url, [OLD_KEY], range(1))
    theirs = LedgerKeys([NEW_KEY]).seal(_plain(0), "order-00", 1)
    ledger = SqlLedger(postgres_url, keys=[NEW_KEY, OLD_KEY])
    other = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    raced: list[str] = []

    def written_first(conn: object, cursor: object, statement: str, *args: object) -> None:
        if raced or not statement.lstrip().startswith("UPDATE payrouter_attempts"):
            return
        raced.append(statement)
        with other.connect() as db:
            db.execute(text("UPDATE payrouter_attempts SET request = :value"), {"value": theirs})

    await ledger.open()
    try:
        event.listen(ledger._require_engine(), "before_cursor_execute", written_first)
        report = await ledger.reseal_requests()
    finally:
        await ledger.close()
        other.dispose()
    assert raced
    assert (report.resealed, report.changed) == (0, 1)
    assert _stored(postgres_url)["order-00"] == theirs


def test_the_reseal_command_reports_counts_and_exits_0_once_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`payrouter ledger-key reseal`: the counts, then 0 left; `ledger-key` still prints a
    new key."""
    database = tmp_path / "ledger.db"
    asyncio.run(_keep(f"sqlite:///{database}", [OLD_KEY], range(ORDERS)))
    monkeypatch.setenv("PAYROUTER_LEDGER_KEY", NEW_KEY)
    monkeypatch.setenv("PAYROUTER_OLD_LEDGER_KEY", OLD_KEY)
    config = tmp_path / "payrouter.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "ledger": "sqlite:///ledger.db",
                "ledger_keys": ["${PAYROUTER_LEDGER_KEY}", "${PAYROUTER_OLD_LEDGER_KEY}"],
                "providers": [{"name": "sim", "type": "simulated"}],
            }
        )
    )
    runner = CliRunner()
    first = runner.invoke(app, ["ledger-key", "reseal", "--config", str(config), "--batch", "2"])
    assert first.exit_code == 0, first.output
    assert "re-sealed now" in first.output
    assert f"under ledger key {LedgerKeys([NEW_KEY]).sealing_id}" in first.output
    assert "left under another key: 0" in first.output
    second = runner.invoke(app, ["ledger-key", "reseal", "--config", str(config)])
    assert second.exit_code == 0
    assert re.search(rf"already under the first key\s*│\s*{ORDERS}\s", second.output)
    assert len(runner.invoke(app, ["ledger-key"]).output.strip()) == 44
