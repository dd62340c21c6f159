"""The `payrouter` command: drill, reconcile, status, version.

typer parses and documents the commands, rich draws the tables; the work itself lives in the
library so that every command is also an API call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from ._drill import DrillResult, StrategyFigures, run_drill
from ._errors import ConfigurationError
from ._router import Router
from ._version import __version__

app = typer.Typer(
    name="payrouter",
    help="Route payments across providers; rehearse outages before the big day.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
_console = Console()

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML or TOML router config.", exists=False)
]


def _version(show: bool) -> None:
    if show:
        _console.print(f"payrouter {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """payrouter: failover that never charges a customer twice."""


@app.command()
def drill(
    payments: Annotated[int, typer.Option(min=10, max=200_000, help="Payments to send.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same customers, same faults.")] = 7,
    concurrency: Annotated[int, typer.Option(min=1, max=1024)] = 32,
    report: Annotated[Path | None, typer.Option(help="Folder to write report.json into.")] = None,
) -> None:
    """Rehearse a promotion-day outage on simulated providers, router vs a naive chain."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console,
        transient=True,
    ) as bar:
        task = bar.add_task("drill", total=payments * 2)
        result = asyncio.run(
            run_drill(
                payments=payments,
                seed=seed,
                concurrency=concurrency,
                progress=lambda: bar.advance(task),
            )
        )
    _print_drill(result)
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        target = report / "report.json"
        target.write_text(json.dumps(_drill_json(result), indent=2))
        _console.print(f"report written to {target}")


def _print_drill(result: DrillResult) -> None:
    _console.print(
        f"[bold]promotion-day drill[/bold], seed {result.seed}, {result.payments} payments"
    )
    for phase in result.phases:
        _console.print(f"  - {phase}")
    table = Table(title=f"outcome per strategy ({result.seconds:.1f} s)")
    table.add_column("figure")
    for figures in result.strategies:
        table.add_column(figures.name, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("payments", [str(f.payments) for f in result.strategies]),
        ("succeeded", [f"{f.succeeded} ({f.success_rate:.1%})" for f in result.strategies]),
        ("declined", [str(f.declined) for f in result.strategies]),
        ("pending", [str(f.pending) for f in result.strategies]),
        ("pending after reconcile", [_maybe(f.pending_after_reconcile) for f in result.strategies]),
        ("failed (no money moved)", [str(f.failed) for f in result.strategies]),
        ("double charges (books)", [_alarm(f.double_charges) for f in result.strategies]),
        ("records lost (books vs ledger)", [_alarm(f.records_lost) for f in result.strategies]),
        ("attempts per payment", [f"{f.attempts_per_payment:.2f}" for f in result.strategies]),
        ("latency p50 / p99 ms", [_latency(f) for f in result.strategies]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    _console.print(table)


def _maybe(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def _alarm(value: int) -> str:
    return f"[bold red]{value}[/bold red]" if value else "[green]0[/green]"


def _latency(figures: StrategyFigures) -> str:
    return f"{figures.percentile_ms(0.5):.2f} / {figures.percentile_ms(0.99):.2f}"


def _drill_json(result: DrillResult) -> dict[str, object]:
    strategies = []
    for figures in result.strategies:
        entry = asdict(figures)
        del entry["latencies_ms"]
        entry |= {
            "success_rate": figures.success_rate,
            "attempts_per_payment": figures.attempts_per_payment,
            "latency_p50_ms": figures.percentile_ms(0.5),
            "latency_p99_ms": figures.percentile_ms(0.99),
        }
        strategies.append(entry)
    return {
        "seed": result.seed,
        "payments": result.payments,
        "seconds": result.seconds,
        "phases": list(result.phases),
        "strategies": strategies,
    }


@app.command()
def reconcile(config: ConfigOption = Path("payrouter.yaml")) -> None:
    """Resolve pending, awaiting-action and crashed payments by asking their providers."""

    async def run() -> None:
        async with Router.from_config(config) as router:
            report = await router.reconcile()
        table = Table(title=f"reconcile: {report.examined} payment(s) examined")
        for column in ("order id", "before", "after", "provider"):
            table.add_column(column)
        for change in report.changes:
            table.add_row(change.order_id, change.before, change.after, change.provider or "-")
        _console.print(table)
        _console.print(f"still open: {len(report.still_open)}")

    _guarded(run)


@app.command()
def status(config: ConfigOption = Path("payrouter.yaml")) -> None:
    """Show each configured provider, its methods and its breaker state in this process."""

    async def run() -> None:
        async with Router.from_config(config) as router:
            table = Table(title="providers")
            for column in ("provider", "methods", "breaker"):
                table.add_column(column)
            states = router.breaker_states()
            for adapter in router.adapters:
                methods = sorted(adapter.capabilities.methods)
                breakers = {states.get((adapter.name, m), "closed") for m in methods}
                table.add_row(adapter.name, ", ".join(methods), ", ".join(sorted(breakers)))
            _console.print(table)

    _guarded(run)


def _guarded(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        asyncio.run(run())
    except ConfigurationError as error:
        _console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None


def main() -> None:
    """Console-script entry point."""
    app()
