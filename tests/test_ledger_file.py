"""A SQLite ledger file that cannot fool the router: a file that cannot be opened, is corrupt,
was deleted or replaced, or is being created by many processes at once is either handled or
refused with `LedgerUnavailableError` naming the file, before any provider is called."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from payrouter import (
    CardSource,
    LedgerUnavailableError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._cli._app import app
from payrouter._ledger import SqlLedger
from payrouter._ledger._migrate import current_revisions, head_revisions
from payrouter.testing import SimulatedAdapter, SimulatedProvider


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


# -- unopenable and corrupt files (they raise our error, never SQLAlchemy's) -------------------


async def test_a_ledger_in_a_missing_directory_names_the_file_and_the_fix(tmp_path: Path) -> None:
    """A path whose directory does not exist is refused naming the path and what to do."""
    path = tmp_path / "no-such-dir" / "ledger.db"
    ledger = SqlLedger(f"sqlite:///{path}")
    with pytest.raises(LedgerUnavailableError) as raised:
        await ledger.open()
    message = str(raised.value)
    assert str(path) in message
    assert "directory" in message
    assert "sqlalchemy" not in message.lower()
    await ledger.close()


async def test_a_corrupt_ledger_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    """A file that is not a SQLite database is refused naming it, with the fix."""
    path = tmp_path / "ledger.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(LedgerUnavailableError) as raised:
        async with Router(
            [SimulatedAdapter(SimulatedProvider("card_a"))], ledger=f"sqlite:///{path}", hooks=()
        ):
            pass
    message = str(raised.value)
    assert str(path) in message
    assert "not a SQLite database" in message
    assert "backup" in message
    assert "sqlalchemy" not in message.lower()


def test_the_cli_reports_a_corrupt_ledger_in_one_line_and_exits_2(tmp_path: Path) -> None:
    """`payrouter status` on a corrupt ledger: one clear line, exit 2, no traceback."""
    (tmp_path / "ledger.db").write_bytes(b"garbage" * 1000)
    (tmp_path / "payrouter.yaml").write_text(
        "ledger: sqlite:///ledger.db\n"
        "providers:\n"
        "  - {name: card_main, type: simulated, methods: [card]}\n"
    )
    result = CliRunner().invoke(app, ["status", "--config", str(tmp_path / "payrouter.yaml")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "ledger.db" in lines[0]
    assert "Traceback" not in result.output


# -- a deleted or replaced file ---------------------------------------------------------------


async def test_a_deleted_ledger_file_is_refused_before_any_provider_call(tmp_path: Path) -> None:
    """Deleting the open ledger file stops payments before a charge, naming the file."""
    path = tmp_path / "ledger.db"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=()) as router:
        assert (await router.pay(request("order-1"))).status is PaymentStatus.SUCCEEDED
        calls = adapter.provider.calls
        path.unlink()
        with pytest.raises(LedgerUnavailableError) as raised:
            await router.pay(request("order-2"))
        assert str(path) in str(raised.value)
        assert "deleted or replaced" in str(raised.value)
        assert adapter.provider.calls == calls
        assert adapter.provider.charges("order-2") == []


async def test_a_replaced_ledger_file_is_refused_before_any_provider_call(tmp_path: Path) -> None:
    """A different file moved over the open ledger's path (a restore, a deploy) is refused."""
    path = tmp_path / "ledger.db"
    other = tmp_path / "other.db"
    spare = SqlLedger(f"sqlite:///{other}")
    await spare.open()
    await spare.close()
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=()) as router:
        await router.pay(request("order-1"))
        calls = adapter.provider.calls
        os.replace(other, path)
        with pytest.raises(LedgerUnavailableError) as raised:
            await router.pay(request("order-2"))
        assert str(path) in str(raised.value)
        assert adapter.provider.calls == calls


# -- many processes creating one fresh file ---------------------------------------------------

_OPENER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from payrouter._ledger import SqlLedger

    url, go = sys.argv[1], Path(sys.argv[2])
    Path(sys.argv[3]).touch()  # ready
    while not go.exists():
        time.sleep(0.001)

    async def main() -> None:
        ledger = SqlLedger(url)
        await ledger.open()
        await ledger.close()

    asyncio.run(main())
    """
)


def test_many_processes_opening_one_fresh_sqlite_file_migrate_it_once(tmp_path: Path) -> None:
    """Sixteen processes open a new ledger file at the same instant: all succeed, one schema."""
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    go = tmp_path / "go"
    openers = 16
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, url, str(go), str(tmp_path / f"ready-{number}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(openers)
    ]
    while len(list(tmp_path.glob("ready-*"))) < openers:  # every opener has imported payrouter
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.01)
    go.touch()
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append([line for line in stderr.splitlines() if "Error" in line][-1:])
    assert failures == []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert current_revisions(conn) == head_revisions()
            assert "payrouter_payments" in inspect(conn).get_table_names()
    finally:
        engine.dispose()
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        check.close()


def test_an_opener_waits_for_a_lock_on_a_fresh_file_while_switching_it_to_wal(
    tmp_path: Path,
) -> None:
    """SQLite runs no busy handler for the switch to WAL: the opener waits for the lock itself.

    Another connection holds the write lock of a file not yet in WAL. The ledger's opening
    neither fails nor finishes while the lock is held (SQLite alone refuses it in 0 ms), and
    succeeds once the lock is released.
    """
    path = tmp_path / "ledger.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    outcomes: list[BaseException | None] = []

    async def open_and_close() -> None:
        ledger = SqlLedger(f"sqlite:///{path}")
        await ledger.open()
        await ledger.close()

    def opener() -> None:
        try:
            asyncio.run(open_and_close())
        except BaseException as error:  # the test reports it
            outcomes.append(error)
        else:
            outcomes.append(None)

    thread = threading.Thread(target=opener)
    thread.start()
    thread.join(timeout=1.0)  # time to try the switch: while the lock is held it cannot end
    assert outcomes == []
    holder.execute("COMMIT")
    holder.close()
    thread.join(timeout=120)
    assert outcomes == [None]
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        check.close()


async def test_an_unreachable_database_server_is_named_without_its_password() -> None:
    """A server nobody answers on: LedgerUnavailableError naming it, the password hidden."""
    ledger = SqlLedger("postgresql+psycopg://app:s3cret-pw@127.0.0.1:9/appdb?connect_timeout=2")
    with pytest.raises(LedgerUnavailableError) as raised:
        await ledger.open()
    message = str(raised.value)
    assert "127.0.0.1:9/appdb" in message
    assert "s3cret-pw" not in message
    assert "running and reachable" in message
