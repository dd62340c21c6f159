"""`payrouter records`: compare the ledger with the providers' own records for a period."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._router import Router
from ._common import ConfigOption, console, guarded

__all__ = ["records"]


def records(
    since: Annotated[
        str, typer.Option(help="Period start, ISO 8601 (e.g. 2026-11-01); UTC unless it says.")
    ],
    until: Annotated[
        str, typer.Option(help="Period end, ISO 8601 (e.g. 2026-11-02T00:00); UTC unless it says.")
    ],
    config: ConfigOption = Path("payrouter.yaml"),
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Compare the ledger with the providers' own records for a period; exit 1 on mismatches."""
    start, end = _utc(since, "--since"), _utc(until, "--until")

    async def run() -> None:
        async with Router.from_config(config, hooks=()) as router:
            report = await router.compare_records(start, end)
        if json_file is not None:
            json_file.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        table = Table(title=f"records {since} .. {until}: {report.compared} compared")
        for column in ("kind", "provider", "provider ref", "order id", "ledger", "provider side"):
            table.add_column(column)
        for m in report.mismatches:
            table.add_row(
                m.kind.value,
                m.provider,
                m.provider_reference or "-",
                m.order_id or "-",
                m.ledger or "-",
                m.provider_side or "-",
            )
        console.print(table)
        for name in report.unlisted_providers:
            console.print(f"{name}: no list API, checked by lookup (missing-in-ledger not seen)")
        if not report.ok:
            raise typer.Exit(1)

    guarded(run)


def _utc(text: str, option: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not ISO 8601, e.g. 2026-11-01T00:00", param_hint=option
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
