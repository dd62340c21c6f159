"""The lab's commands on the `payrouter` command line: `drill` and `sandbox`.

Registered through the `payrouter.cli` entry point, so the core's command line gains them only
where the lab is installed, and the lab reaches the core through its public API alone.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from payrouter import ConfigurationError, PaymentStatus, PayrouterError, currency_exponent

from .drill import PaymentRecord, Scenario
from .report import write_report

__all__ = ["register"]

console = Console()


def register(app: typer.Typer) -> None:
    """Add `drill` and `sandbox` to the `payrouter` command line."""
    app.command()(drill)
    app.command()(sandbox)


def drill(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario's name or a scenario YAML file.")
    ] = "promotion-day",
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    report: Annotated[
        Path, typer.Option(help="Folder for report.json, report.html and the router config.")
    ] = Path("drill-report"),
    list_scenarios: Annotated[
        bool, typer.Option("--list", help="List the built-in scenarios and exit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")
    ] = False,
    pressure: Annotated[
        int,
        typer.Option(
            min=0,
            max=32,
            help="CPU-bound neighbour processes to run for the drill's length (a busy server).",
        ),
    ] = 0,
) -> None:
    """Rehearse an outage: payrouter and two naive baselines on the same traffic and faults,
    one at a time under the same conditions (`--pressure N`: N CPU-bound neighbours).

    Exits 1 when payrouter missed a target (so CI can gate on it), 2 on a bad scenario.
    """
    from .drill import builtin_scenarios, load_scenario

    if list_scenarios:
        for name, known in sorted(builtin_scenarios().items()):
            console.print(f"[bold]{name}[/bold]: {known.description}")
        return
    try:
        chosen = load_scenario(scenario)
    except ConfigurationError as error:
        _fail("scenario error", str(error))
    if seed is not None:
        chosen = chosen.model_copy(update={"seed": seed})
    try:
        report.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _fail("error", f"--report {report}: {error.strerror or error}: choose a writable folder")
    try:
        _run_and_report(chosen, report, as_json=as_json, pressure=pressure)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        _fail("error", f"{where}{error.strerror or error}")
    except PayrouterError as error:
        _fail("error", str(error))


def _run_and_report(chosen: Scenario, report: Path, *, as_json: bool, pressure: int) -> None:
    """Run the drill (live table unless `as_json`), write the report, and print the summary;
    exit 1 when payrouter missed a target."""
    from .drill import missed_targets, run_drill

    if as_json:
        outcome = asyncio.run(run_drill(chosen, report, pressure=pressure))
    else:
        live = _LiveDrill()
        with Live(live.render(), console=console, refresh_per_second=4, transient=True) as screen:
            live.screen = screen
            outcome = asyncio.run(
                run_drill(
                    chosen,
                    report,
                    on_start=live.start,
                    on_payment=live.record,
                    on_breaker=live.breaker,
                    pressure=pressure,
                )
            )
    json_path, html_path = write_report(outcome.report, report)
    missed = missed_targets(outcome.report)
    if as_json:
        summary = _summary(outcome.report, missed, (html_path, json_path))
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_report(outcome.report)
        console.print(f"report: {html_path} and {json_path}")
        if missed:
            console.print(f"[bold red]targets missed:[/bold red] {', '.join(missed)}")
    if missed:
        raise typer.Exit(1)


def _summary(
    document: dict[str, Any], missed: list[str], files: tuple[Path, Path]
) -> dict[str, Any]:
    """The report without its per-second timelines and breaker logs: what a CI job reads."""
    strategies = [
        {key: value for key, value in strategy.items() if key not in _BULKY}
        for strategy in document["strategies"]
    ]
    return {
        "scenario": document["scenario"],
        "conditions": document.get("conditions"),
        "targets": document["targets"],
        "targets_missed": missed,
        "strategies": strategies,
        "explanations": document.get("explanations", {}),
        "report": {"html": str(files[0]), "json": str(files[1])},
    }


_BULKY = ("timeline", "breaker_events", "attempts_histogram")


class _LiveDrill:
    """A progress bar per strategy and a live table, updated as payments finish."""

    def __init__(self) -> None:
        self.screen: Live | None = None
        self.rows: dict[str, dict[str, int]] = {}
        self.breakers: dict[str, str] = {}
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        self.tasks: dict[str, TaskID] = {}

    def start(self, name: str, total: int) -> None:
        self.rows[name] = {"total": total, "done": 0, "succeeded": 0, "attempts": 0, "skips": 0}
        self.tasks[name] = self.progress.add_task(name, total=total)

    def record(self, strategy: str, record: PaymentRecord) -> None:
        row = self.rows[strategy]
        row["done"] += 1
        row["succeeded"] += record.status in _SUCCESSFUL
        row["attempts"] += len(record.attempts)
        row["skips"] += record.breaker_skips
        self.progress.advance(self.tasks[strategy])
        if self.screen is not None and row["done"] % 20 == 0:
            self.screen.update(self.render())

    def breaker(self, change: dict[str, object]) -> None:
        self.breakers[f"{change['provider']}/{change['method']}"] = str(change["to"])
        if self.screen is not None:
            self.screen.update(self.render())

    def render(self) -> Group:
        table = Table(title="drill in progress")
        for column in ("strategy", "success", "attempts/payment", "breaker skips"):
            table.add_column(column, justify="right")
        for name, row in self.rows.items():
            done = max(row["done"], 1)
            table.add_row(
                name,
                f"{row['succeeded'] / done:.1%}",
                f"{row['attempts'] / done:.2f}",
                str(row["skips"]),
            )
        states = ", ".join(f"{key} {state}" for key, state in sorted(self.breakers.items()))
        return Group(self.progress, table, f"payrouter's breakers: {states or 'all closed'}")


_SUCCESSFUL = (PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PENDING)


def _print_report(document: dict[str, Any]) -> None:
    scenario = document["scenario"]
    console.print(
        f"[bold]{scenario['name']}[/bold]: {scenario['payments']} payments at "
        f"{scenario['rate_per_second']}/s for {scenario['duration_seconds']} s, "
        f"seed {scenario['seed']} ({scenario['wall_seconds']} s)"
    )
    strategies = document["strategies"]
    table = Table(title="strategies side by side (double charges and lost records from the books)")
    table.add_column("figure")
    for strategy in strategies:
        table.add_column(strategy["name"], justify="right")
    for label, key in _FIGURES:
        table.add_row(label, *(_cell(key, strategy.get(key)) for strategy in strategies))
    console.print(table)
    targets = Table(title="targets (payrouter)")
    for column in ("target", "wanted", "measured", "met"):
        targets.add_column(column)
    for target in document["targets"]:
        met = "[green]yes[/green]" if target["met"] else "[bold red]NO[/bold red]"
        targets.add_row(target["name"], target["target"], target["value"], met)
    console.print(targets)
    for target in document["targets"]:
        if not target["met"]:
            console.print(
                f"[bold]{target['name']}[/bold]: {target['recommendation']} "
                f"(see {target['runbook']})"
            )
    _print_routing(document)
    _print_card_failovers(document)
    _print_records_check(document.get("records_check"))
    _print_left_pending(document["strategies"][0].get("pending_after_reconcile_why") or [])
    explanations = document.get("explanations", {})
    if "requires_action" in explanations:
        console.print(explanations["requires_action"])
    _print_conditions(document.get("conditions"))


def _print_card_failovers(document: dict[str, Any]) -> None:
    """Card failovers payrouter needed, and whether the card held a credential at another
    card provider (none charges another's token)."""
    figures = document["strategies"][0].get("card_failovers")
    if not figures:
        return
    share = figures["possible_share"]
    why_not = ", ".join(f"{why}: {n}" for why, n in figures["not_possible"].items())
    console.print(
        f"card failovers (payrouter): {figures['needed']} needed, {figures['possible']} "
        f"possible ({'n/a' if share is None else f'{share:.1%}'}), {figures['made']} made; "
        f"not possible: {why_not or 'none'}"
    )


def _print_records_check(check: dict[str, Any] | None) -> None:
    """payrouter's ledger against every provider's records, after reconcile."""
    if not check:
        return
    unanswered = check["unanswered"]
    differences = check["differences"]
    before = check.get("unanswered_before_reconcile", {})
    console.print(
        f"records (payrouter's ledger against each provider's records): before reconcile, "
        f"{sum(before.values())} payments a provider took were unanswered in the ledger "
        f"{before or ''}; after it, {check['compared']} compared, {len(unanswered)} still "
        "unanswered"
    )
    for found in unanswered:
        console.print(
            f"  {found['provider']}: order {found['order_id']} -> {found['provider_reference']} "
            f"({found['provider_side']})"
        )
    for kind, by_provider in differences.items():
        if kind != "unanswered":
            console.print(f"  {kind}: {by_provider}")
    for name, why in check["late"].items():
        console.print(f"  {name}: records late ({why})")
    for name, why in check.get("failed", {}).items():
        console.print(f"  {name}: records not read ({why})")


def _print_left_pending(left: list[dict[str, Any]]) -> None:
    """Each payment payrouter's reconcile left pending: why, and what comes next."""
    for open_ in left:
        console.print(
            f"pending after reconcile: {open_['order_id']} at {open_['provider'] or '-'}: "
            f"{open_['reason']}; next: {open_['next_step']}"
        )


def _print_conditions(conditions: dict[str, Any] | None) -> None:
    """The machine's CPU during the run, and a warning when its timings cannot be trusted."""
    if not conditions:
        return
    busy = conditions.get("cpu_busy_percent")
    console.print(
        f"conditions: {conditions['cpus']} cores, "
        f"CPU busy {'n/a' if busy is None else f'{busy} %'} during the run, "
        f"load average peak {conditions.get('load_average_peak')}, "
        f"the drill used {conditions.get('drill_cpu_percent_of_one_core')} % of one core; "
        f"{conditions.get('pressure_processes', 0)} CPU-bound neighbour processes; strategies "
        f"ran {conditions.get('strategies_ran', 'one after another')}"
    )
    if conditions.get("warning"):
        console.print(f"[bold yellow]warning:[/bold yellow] {conditions['warning']}")


def _print_routing(document: dict[str, Any]) -> None:
    """Where each strategy sent payments first, who took them, and the fees they cost."""
    chosen = document["scenario"].get("routing") or {}
    title = "routing: " + (", ".join(f"{m} by {s}" for m, s in chosen.items()) or "priority")
    table = Table(title=f"{title} (fees from each provider's rules, on what it took)")
    table.add_column("strategy")
    for column in ("first called", "took it", "fees paid"):
        table.add_column(column)
    for strategy in document["strategies"]:
        routing = strategy.get("routing") or {}
        exponent = currency_exponent(routing.get("fees_currency", "EUR"))
        fees = routing.get("fees_minor", {})
        table.add_row(
            strategy["name"],
            ", ".join(f"{p} {n}" for p, n in routing.get("first_choice", {}).items()),
            ", ".join(f"{p} {n}" for p, n in routing.get("taken", {}).items()),
            ", ".join(f"{p} {v / 10**exponent:.2f}" for p, v in fees.items())
            + f" = {routing.get('fees_total_minor', 0) / 10**exponent:.2f} "
            f"{routing.get('fees_currency', '')}",
        )
    console.print(table)


_FIGURES = (
    ("payments", "payments"),
    ("succeeded", "succeeded"),
    ("declined", "declined"),
    ("requires action (sent to approve)", "requires_action"),
    ("pending (money may have moved)", "pending"),
    ("pending after reconcile", "pending_after_reconcile"),
    ("failed (no money moved, as far as it knows)", "failed"),
    ("  of them shed at admission (nothing sent)", "shed_at_admission"),
    ("served after the checkout's deadline", "served_late"),
    ("double charges", "double_charges"),
    ("records lost", "records_lost"),
    ("success (succeeded + requires action)", "success_rate"),
    ("success of possible (served in time)", "success_of_possible"),
    ("attempts per payment", "attempts_per_payment"),
    ("attempts per payment at peak", "attempts_per_payment_at_peak"),
    ("latency p50 / p99 ms", "latency_ms"),
    ("failover added latency p99 ms", "failover_added_latency_ms"),
    ("customers approved / abandoned / then paid", "customers"),
)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key in ("double_charges", "records_lost"):
        return f"[bold red]{value}[/bold red]" if value else "[green]0[/green]"
    if key == "latency_ms":
        return f"{_ms(value['p50'])} / {_ms(value['p99'])}"
    if key == "failover_added_latency_ms":
        return _ms(value["p99"])
    if key == "customers":
        return f"{value['approved']} / {value['abandoned']} / {value['approved_and_paid']}"
    if key in ("success_of_possible", "success_rate"):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def sandbox(
    port: Annotated[int, typer.Option(help="Admin port; the providers take the next four.")] = 8700,
) -> None:
    """Serve stateful stand-ins of Stripe, Adyen, PayPal and Berlin Group on 127.0.0.1."""
    from .sandbox import run_sandbox

    try:
        run_sandbox("127.0.0.1", port)
    except OSError as error:
        _fail(
            "error",
            f"cannot listen on 127.0.0.1:{port} or the next four ports "
            f"({error.strerror or error}): choose another --port",
        )


def _fail(kind: str, message: str) -> NoReturn:
    """One line on stderr, printed literally (`[name]` is text, not markup), exit code 2."""
    Console(stderr=True, soft_wrap=True).print(f"[red]{kind}:[/red] {escape(message)}")
    raise typer.Exit(2)
