"""`payrouter records`: compare the ledger with the providers' own records for a period, list
the discrepancies still open, and acknowledge one a person has dealt with."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._ledger._books import Discrepancy
from .._reconcile._records import RecordsReport
from .._router import Router
from ._common import ConfigOption, console, guarded, plain

__all__ = ["records_app"]

records_app = typer.Typer(
    name="records",
    help="Check the ledger against the providers' own records; list and acknowledge discrepancies.",
    no_args_is_help=False,
)


@records_app.callback(invoke_without_command=True)
def records(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Period start, ISO 8601 (e.g. 2026-11-01); UTC unless it says."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Period end, ISO 8601 (e.g. 2026-11-02T00:00); UTC unless it says."),
    ] = None,
    config: ConfigOption = Path("payrouter.yaml"),
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Compare the ledger with each provider's records for a period (default: the last
    day); exit 1 when anything differs or a provider's records are late."""
    if ctx.invoked_subcommand is not None:
        return
    end = _utc(until, "--until") if until else datetime.now(UTC)
    start = _utc(since, "--since") if since else end - timedelta(days=1)

    async def run() -> None:
        async with Router.from_config(config, hooks=()) as router:
            report = await router.compare_records(start, end)
        if json_file is not None:
            json_file.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        print_report(report)
        if not report.ok:
            raise typer.Exit(1)

    guarded(run)


def print_report(report: RecordsReport) -> None:
    """The report as a table, then what could not be compared and why."""
    period = f"{report.since:%Y-%m-%d %H:%M} .. {report.until:%Y-%m-%d %H:%M} UTC"
    table = Table(
        title=f"records {period}: {report.compared} compared, {len(report.mismatches)} differ"
    )
    for column in ("kind", "provider", "provider ref", "order id / our ref", "ledger"):
        table.add_column(column, overflow="fold")
    table.add_column("provider side", overflow="fold")
    table.add_column("suggested action", overflow="fold", ratio=3)
    for m in report.mismatches:
        table.add_row(
            *(
                plain(cell)
                for cell in (
                    m.kind.value,
                    m.provider,
                    m.provider_reference or "-",
                    f"{m.order_id or '-'}\n{m.reference or '-'}",
                    m.ledger or "-",
                    m.provider_side or "-",
                    m.action,
                )
            )
        )
    console.print(table)
    for name, why in sorted(report.failed.items()):
        console.print(f"[red]{name}: records could not be read ({why}); not compared[/red]")
    for name, why in sorted(report.late.items()):
        console.print(f"[yellow]{plain(name)}: records late ({plain(why)}); not compared[/yellow]")
    for name in report.unlisted_providers:
        console.print(
            f"{plain(name)}: no records source, checked by lookup (missing-in-ledger not seen)"
        )


@records_app.command("open")
def open_(
    config: ConfigOption = Path("payrouter.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the discrepancies still open (found, neither resolved nor acknowledged)."""

    async def run() -> None:
        async with Router.from_config(config, hooks=()) as router:
            found = await router.discrepancies()
        if as_json:
            print(json.dumps([_as_json(d) for d in found], indent=2))
            return
        table = Table(title=f"{len(found)} open discrepancies")
        for column in ("id", "first seen (UTC)", "ledger", "provider side", "suggested action"):
            table.add_column(column, overflow="fold")
        for d in found:
            seen = datetime.fromtimestamp(d.first_seen, UTC).strftime("%Y-%m-%d %H:%M")
            cells = (d.discrepancy_id, seen, d.ledger_side or "-", d.provider_side or "-", d.action)
            table.add_row(*(plain(cell) for cell in cells))
        console.print(table)

    guarded(run)


@records_app.command()
def ack(
    discrepancy_id: Annotated[
        str, typer.Argument(help="The id `records` or `records open` shows.")
    ],
    note: Annotated[str, typer.Option(help="What was done about it, kept with it.")],
    config: ConfigOption = Path("payrouter.yaml"),
) -> None:
    """Acknowledge an open discrepancy: a person has dealt with it (refunded, delivered,
    claimed the fee back); it stops counting as open. Exit 1 when no open one has the id."""

    async def run() -> None:
        async with Router.from_config(config, hooks=()) as router:
            done = await router.acknowledge_discrepancy(discrepancy_id, note)
        if done is None:
            console.print(f"[red]no open discrepancy {plain(repr(discrepancy_id))}[/red]")
            raise typer.Exit(1)
        console.print(f"acknowledged {plain(done.discrepancy_id)}: {plain(done.note)}")

    guarded(run)


def _as_json(d: Discrepancy) -> dict[str, object]:
    return {
        "id": d.discrepancy_id,
        "kind": d.kind,
        "provider": d.provider,
        "provider_reference": d.provider_reference,
        "order_id": d.order_id,
        "reference": d.reference,
        "ledger": d.ledger_side,
        "provider_side": d.provider_side,
        "action": d.action,
        "state": d.state,
        "first_seen": d.first_seen,
        "last_seen": d.last_seen,
    }


def _utc(text: str, option: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not ISO 8601, e.g. 2026-11-01T00:00", param_hint=option
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
