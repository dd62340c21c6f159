"""`payrouter ledger-key`: a new key for `ledger_keys`, and `reseal` for rotating one out.

Kept requests are sealed under the first key and open under any (`_ledger/_sealing`), so a
rotation is: the new key first, the old one after it, restart every process, then `reseal`,
which writes every kept request again under the first key; once it reports them all current,
the old key can leave the list (docs/runbook.md, "Rotating the ledger key").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._config import load_config
from .._ledger import SqlLedger
from .._ledger._reseal import ResealReport
from .._ledger._sealing import new_key
from ._common import ConfigOption, console, guarded, plain

__all__ = ["ledger_key_app"]

ledger_key_app = typer.Typer(
    name="ledger-key",
    help="Print a new ledger key; `reseal` re-seals kept requests under the first key.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@ledger_key_app.callback()
def ledger_key(ctx: typer.Context) -> None:
    """Print a new ledger key for `ledger_keys` (32 random bytes, URL-safe base64): export it
    as PAYROUTER_LEDGER_KEY, never write it in the config file."""
    if ctx.invoked_subcommand is None:
        typer.echo(new_key())


@ledger_key_app.command()
def reseal(
    config: ConfigOption = Path("payrouter.yaml"),
    batch: Annotated[
        int, typer.Option(help="Kept requests re-sealed per transaction.", min=1)
    ] = 500,
) -> None:
    """Re-seal every kept request under the first of `ledger_keys` (and seal those kept in
    clear), in batches, while checkouts run. Safe to repeat or interrupt. Exits 1 while some
    request is left under another key (one that no configured key opens, or one written
    meanwhile): keep the old key until a run reports 0 left."""
    report: ResealReport | None = None

    async def run() -> None:
        nonlocal report
        loaded = load_config(config)
        ledger = SqlLedger(loaded.ledger_url(config.parent), keys=loaded.ledger_keys)
        await ledger.open()
        try:
            report = await ledger.reseal_requests(batch_size=batch)
        finally:
            await ledger.close()

    guarded(run)
    assert report is not None
    _print(report)
    if not report.done:
        raise typer.Exit(1)


def _print(report: ResealReport) -> None:
    table = Table(title=f"reseal under ledger key {report.sealing_key}")
    for column in ("kept requests and client secrets", "count"):
        table.add_column(column)
    table.add_row("examined", str(report.examined))
    table.add_row("re-sealed now", str(report.resealed))
    table.add_row("already under the first key", str(report.current))
    table.add_row("written meanwhile (run again)", str(report.changed))
    table.add_row("not opened (left as they are)", str(report.unopened))
    console.print(table)
    for key_id, count in sorted(report.unopened_keys.items()):
        console.print(
            f"{count} sealed under ledger key {plain(key_id)}, which no configured key opens "
            "(or altered): list that key in ledger_keys and run reseal again"
        )
    left = report.examined - report.current - report.resealed
    console.print(f"left under another key: {left}")
