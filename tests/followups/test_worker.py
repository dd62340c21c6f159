"""`payrouter worker` and `payrouter reconcile` send the outbox's follow-ups when their provider
is back, and `payrouter status` shows the outbox's depth and age."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
from typer.testing import CliRunner

from payrouter import FollowUpStatus, Router
from payrouter._cli._app import app
from payrouter.testing import Behavior, SimulatedAdapter

from .kit import paid

CONFIG = """\
ledger: sqlite:///ledger.db
router:
  outbox: {initial_backoff_seconds: 0}
providers:
  - {name: card_main, type: simulated, methods: [card], options: {books_path: "BOOKS"}}
"""


def _queue_a_refund_while_the_provider_is_down(config: Path) -> str:
    async def run() -> str:
        async with Router.from_config(config, hooks=()) as router:
            (adapter,) = router.adapters
            assert isinstance(adapter, SimulatedAdapter)
            payment = await paid(router)
            adapter.provider.followup_default = Behavior.unavailable()
            queued = await router.refund(payment)
            assert queued.status is FollowUpStatus.QUEUED
            return payment.provider_reference or ""

    return asyncio.run(run())


def test_the_worker_sends_a_refund_queued_during_an_outage(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(CONFIG.replace("BOOKS", str(tmp_path / "books.db")))
    reference = _queue_a_refund_while_the_provider_is_down(config)

    before = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["outbox"]["depth"] == 1

    done = CliRunner().invoke(app, ["worker", "--config", str(config), "--once"])
    assert done.exit_code == 0, done.output
    assert "order-1/refund/1 at card_main: succeeded" in done.output
    assert "outbox depth 0" in done.output

    after = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert json.loads(after.output)["outbox"] == {
        "depth": 0,
        "oldest_age_seconds": 0.0,
        "pending": 0,
        "refused": 0,
    }

    async def books() -> list[int | None]:
        async with Router.from_config(config, hooks=()) as router:
            (adapter,) = router.adapters
            assert isinstance(adapter, SimulatedAdapter)
            return [entry.amount_minor for entry in adapter.provider.followups(reference)]

    assert asyncio.run(books()) == [1000]  # refunded once, in full


def test_reconcile_sends_due_follow_ups_and_reports_the_outbox(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(CONFIG.replace("BOOKS", str(tmp_path / "books.db")))
    _queue_a_refund_while_the_provider_is_down(config)

    done = CliRunner().invoke(app, ["reconcile", "--config", str(config)])

    assert done.exit_code == 0, done.output
    assert "order-1/refund/1 at card_main: succeeded" in done.output
    assert "outbox: 0 queued" in done.output


def test_the_worker_serves_outbox_metrics(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(CONFIG.replace("BOOKS", str(tmp_path / "books.db")))
    _queue_a_refund_while_the_provider_is_down(config)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    done = CliRunner().invoke(
        app, ["worker", "--config", str(config), "--once", "--metrics-port", str(port)]
    )
    assert done.exit_code == 0, done.output
    scrape = httpx.get(f"http://127.0.0.1:{port}/metrics").text  # still served by its thread

    assert "payrouter_outbox_depth 0.0" in scrape
    assert (
        'payrouter_followups_total{failure_kind="",kind="refund",provider="card_main",'
        'status="succeeded"} 1.0'
    ) in scrape


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _taken(address: tuple[str, int]) -> bool:
    """Whether binding `address` fails because a listener already holds it (or the wildcard)."""
    with socket.socket() as other:
        try:
            other.bind(address)
        except OSError:
            return True
        return False


def test_the_metrics_port_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    """The metrics listener binds 127.0.0.1, not every interface: another loopback address
    can still bind the same port, which a 0.0.0.0 listener would forbid."""
    config = tmp_path / "payrouter.yaml"
    config.write_text(CONFIG.replace("BOOKS", str(tmp_path / "books.db")))
    port = _free_port()
    done = CliRunner().invoke(
        app, ["worker", "--config", str(config), "--once", "--metrics-port", str(port)]
    )
    assert done.exit_code == 0, done.output
    assert _taken(("127.0.0.1", port))
    assert not _taken(("127.0.0.2", port))


def test_metrics_host_chooses_the_listening_address(tmp_path: Path) -> None:
    """`--metrics-host` moves the listener to the address given, and only there."""
    config = tmp_path / "payrouter.yaml"
    config.write_text(CONFIG.replace("BOOKS", str(tmp_path / "books.db")))
    port = _free_port()
    done = CliRunner().invoke(
        app,
        [
            *("worker", "--config", str(config), "--once"),
            *("--metrics-port", str(port), "--metrics-host", "127.0.0.3"),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "payrouter_outbox_depth" in httpx.get(f"http://127.0.0.3:{port}/metrics").text
    assert not _taken(("127.0.0.1", port))
