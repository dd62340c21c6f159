"""`payrouter records open`, `payrouter records ack` and `payrouter status` on discrepancies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from payrouter import Router, SyncRouter
from payrouter._cli._app import app
from tests.records.kit import plant_payment


def test_a_discrepancy_is_listed_shown_in_status_and_acknowledged(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    database = tmp_path / "ledger.db"
    config.write_text(
        f"ledger: sqlite:///{database}\n"
        "providers:\n"
        "  - {name: card, type: simulated, methods: [card]}\n"
    )
    SyncRouter(Router.from_config(config, hooks=())).close()  # creates the ledger's tables
    plant_payment(database, "order-ghost", "card", "sim_never_made")
    now = datetime.now(UTC)
    window = ("--since", (now - timedelta(hours=1)).isoformat(), "--until", now.isoformat())
    run = CliRunner().invoke
    at = ("--config", str(config))

    found = run(app, ["records", *at, *window], env={"COLUMNS": "200"})
    listed = run(app, ["records", "open", *at, "--json"])
    status = run(app, ["status", *at, "--json"])
    ack = run(
        app,
        [
            "records",
            "ack",
            "missing_at_provider:card:sim_never_made",
            *at,
            "--note",
            "test order, never shipped",
        ],
    )
    again = run(
        app, ["records", "ack", "missing_at_provider:card:sim_never_made", *at, "--note", "twice"]
    )
    after = run(app, ["status", *at])

    assert found.exit_code == 1, found.output
    assert "hold the goods" in found.output  # the suggested action
    [open_one] = json.loads(listed.stdout)
    assert open_one["id"] == "missing_at_provider:card:sim_never_made"
    assert open_one["order_id"] == "order-ghost"
    assert json.loads(status.stdout)["discrepancies"]["open"] == 1
    assert ack.exit_code == 0, ack.output
    assert again.exit_code == 1
    assert "records: 0 open discrepancies" in after.output
