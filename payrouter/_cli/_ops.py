"""The operator's commands: reconcile, the outbox worker, and status.

`payrouter worker` is what a merchant runs beside the app: each round it finishes payments
left pending or orphaned and sends the follow-ups that are due, until it is stopped.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .._config import load_config
from .._followups import FollowUp, FollowUpStatus
from .._health._maintenance import MaintenanceWindow
from .._reconcile._payments import OpenPayment
from .._reconcile._records import RecordsReport
from .._reconcile._schedule import RecordsSchedule
from .._router import Router
from ._common import CommandError, ConfigOption, console, describe, guarded, plain

__all__ = ["reconcile", "status", "worker"]


def reconcile(config: ConfigOption = Path("payrouter.yaml")) -> None:
    """Resolve pending, awaiting-action and crashed payments by asking their providers, then
    send the follow-ups (captures, refunds, voids, cancellations) that are due.

    Lists every payment left open with the reason, since when, and the next step; exits 1
    when one is open past its provider's bound (an operator should look).
    """
    overdue = 0

    async def run() -> None:
        nonlocal overdue
        async with Router.from_config(config) as router:
            report = await router.reconcile()
            sent = await router.process_outbox()
            outbox = await router.read_outbox_stats()
        table = Table(title=f"reconcile: {report.examined} payment(s) examined")
        for column in ("order id", "before", "after", "provider"):
            table.add_column(column)
        for change in report.changes:
            table.add_row(
                *(plain(cell) for cell in (change.order_id, change.before, change.after)),
                plain(change.provider or "-"),
            )
        console.print(table)
        console.print(f"still open: {len(report.still_open)}")
        _print_open(report.open)
        _print_followups(sent)
        _print_outbox(outbox.depth, outbox.oldest_age_seconds, outbox.pending, outbox.refused)
        overdue = len(report.overdue)

    guarded(run)
    if overdue:
        console.print(f"[red]{overdue} payment(s) open past their provider's bound[/red]")
        raise typer.Exit(1)


def _print_open(still_open: tuple[OpenPayment, ...]) -> None:
    """One row per payment left open: why, since when, and what comes next."""
    if not still_open:
        return
    table = Table(title="left open")
    for column in ("order id", "provider", "status", "since", "why", "next step"):
        table.add_column(column)
    for payment in still_open:
        since = payment.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        why = f"[red]OVERDUE[/red] {payment.reason}" if payment.overdue else payment.reason
        table.add_row(
            payment.order_id,
            payment.provider or "-",
            payment.status,
            since,
            why,
            payment.next_step,
        )
    console.print(table)


def worker(
    config: ConfigOption = Path("payrouter.yaml"),
    interval: Annotated[float, typer.Option(help="Seconds between rounds.", min=0.1)] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Run one round and exit (cron).")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve Prometheus metrics (outbox depth and age...) on this port.",
            min=0,
            max=65535,
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            help="Address the metrics port listens on: loopback by default, so the metrics "
            "are not on the network unless you choose an address (e.g. 0.0.0.0 in a container)."
        ),
    ] = "127.0.0.1",
    records_every: Annotated[
        float | None,
        typer.Option(
            help="Also compare the ledger with each provider's records every this many "
            "seconds (e.g. 3600), over the provider's report window; off when not given.",
            min=1,
        ),
    ] = None,
    records_span: Annotated[
        float,
        typer.Option(help="Hours of records each scheduled comparison covers.", min=0.01),
    ] = 24.0,
) -> None:
    """Run beside the app: every round, reconcile open payments and send due follow-ups.

    With `--records-every`, records reconciliation runs on that schedule: each provider is
    compared over the `--records-span` hours that end its documented report delay ago, and
    a provider whose records are still missing then is reported late. Stops after the round
    in progress on SIGINT or SIGTERM. Several workers may run at once on a shared ledger:
    each payment and follow-up is leased to one of them.
    """
    schedule = (
        RecordsSchedule(records_every, timedelta(hours=records_span))
        if records_every is not None
        else None
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        hooks = _metrics_hooks(metrics_host, metrics_port) if metrics_port is not None else None
        async with Router.from_config(config, hooks=hooks) as router:
            if hooks is not None:
                hooks[0].watch(router)
            rounds = 0
            while True:
                rounds += 1
                report = await router.reconcile()
                sent = await router.process_outbox()
                outbox = router.outbox_stats()
                if report.changes or sent or once:
                    console.print(
                        f"round {rounds}: {len(report.changes)} payment(s) resolved, "
                        f"{len(sent)} follow-up(s) sent; outbox depth {outbox.depth}, "
                        f"oldest {outbox.oldest_age_seconds:.0f}s, refused {outbox.refused}"
                    )
                    _print_followups(sent)
                if schedule is not None and schedule.due():
                    await _compare_on_schedule(router, schedule)
                if once:
                    return
                try:
                    await asyncio.wait_for(stop.wait(), interval)
                except TimeoutError:
                    continue
                console.print("stopping: the round in progress has finished")
                return

    guarded(run)


async def _compare_on_schedule(router: Router, schedule: RecordsSchedule) -> None:
    by_name = {adapter.name: adapter for adapter in router.adapters}

    async def compare(since: datetime, until: datetime, names: Sequence[str]) -> RecordsReport:
        return await router.compare_records(since, until, providers=names)

    for run in await schedule.run(by_name, compare):
        colour = "red" if run.late or run.report.mismatches or run.report.failed else "green"
        console.print(f"[{colour}]{run.summary()}[/{colour}]")
    books = await router.discrepancy_stats()
    console.print(f"records: {books.open} open discrepancies (`payrouter records open`)")


def _metrics_hooks(host: str, port: int) -> list[Any]:
    """A Prometheus hook on its own registry, served on `host:port`, beside the default log
    hook. prometheus_client would listen on every interface; we pass the host it binds."""
    from prometheus_client import CollectorRegistry, start_http_server

    from ..instrumentation._events import LoggingHook
    from ..instrumentation._metrics import PrometheusHook

    registry = CollectorRegistry()
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise CommandError(
            f"--metrics-port: cannot listen on {host}:{port} ({describe(error)}): choose a free "
            "port, or an address of this machine with --metrics-host"
        ) from None
    return [PrometheusHook(registry), LoggingHook()]


def _print_followups(sent: list[FollowUp]) -> None:
    for followup in sent:
        colour = {FollowUpStatus.REFUSED: "red", FollowUpStatus.QUEUED: "yellow"}.get(
            followup.status, "green"
        )
        why = (
            f" ({followup.failure_kind}: {followup.provider_code})" if followup.failure_kind else ""
        )
        console.print(
            f"  [{colour}]{plain(followup.followup_id)} at {plain(followup.provider)}: "
            f"{followup.status.value}[/{colour}]{plain(why)}"
        )


def _print_outbox(depth: int, oldest: float, pending: int, refused: int) -> None:
    console.print(
        f"outbox: {depth} queued (oldest {oldest:.0f}s), {pending} awaiting the provider's "
        f"confirmation, {refused} refused"
    )


def status(
    config: ConfigOption = Path("payrouter.yaml"),
    minutes: Annotated[
        float, typer.Option(help="How far back the success rates look, in minutes.")
    ] = 15.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show each provider and method: recent attempts and success rate (from the ledger, so
    every process's), breaker state, the next announced maintenance window, how many
    payments were shed at admission (overload refused before anything was sent), and the
    merchant's code rows over each adapter's tables."""

    async def run() -> None:
        codes = {
            provider.name: {
                code: row.model_dump(mode="json") for code, row in provider.codes.items()
            }
            for provider in load_config(config).providers
            if provider.codes
        }
        async with Router.from_config(config, hooks=()) as router:
            health = {
                (row.provider, row.method): row
                for row in await router.provider_health(minutes=minutes)
            }
            states = router.breaker_states()
            outbox = await router.read_outbox_stats()
            books = await router.discrepancy_stats()
            shed = await router.shed_count(minutes=minutes)
            rows: list[dict[str, Any]] = []
            for adapter in router.adapters:
                for method in sorted(adapter.capabilities.methods):
                    seen = health.get((adapter.name, method))
                    rate = seen.success_rate if seen else None
                    rows.append(
                        {
                            "provider": adapter.name,
                            "method": method.value,
                            "attempts": seen.attempts if seen else 0,
                            "success_rate": rate,
                            "unknown": seen.unknown if seen else 0,
                            "in_flight": seen.in_flight if seen else 0,
                            "breaker": states.get((adapter.name, method), "closed"),
                            "next_maintenance": _window(router.next_maintenance(adapter.name)),
                        }
                    )
        if as_json:
            document = {
                "minutes": minutes,
                "providers": rows,
                "outbox": outbox.model_dump(),
                "discrepancies": {
                    "open": books.open,
                    "oldest_age_seconds": books.oldest_age_seconds,
                },
                "admission": {"shed": shed},
                "codes": codes,
            }
            print(json.dumps(document, indent=2))
            return
        _print_status_table(rows, minutes)
        _print_outbox(outbox.depth, outbox.oldest_age_seconds, outbox.pending, outbox.refused)
        colour = "red" if books.open else "green"
        console.print(
            f"[{colour}]records: {books.open} open discrepancies[/{colour}] (oldest "
            f"{books.oldest_age_seconds:.0f}s); `payrouter records open` lists them"
        )
        console.print(
            f"admission: {shed} payments shed at admission in the last {minutes:g} minutes "
            "(every process; refused with CapacityExhaustedError, nothing sent)"
        )
        _print_codes(codes)

    guarded(run)


def _print_status_table(rows: list[dict[str, Any]], minutes: float) -> None:
    """One row per provider and method; provider data printed as text, never as markup."""
    table = Table(title=f"providers, last {minutes:g} minutes")
    table.add_column("provider")
    table.add_column("method")
    for column in ("attempts", "success", "unknown", "in flight"):
        table.add_column(column, justify="right")
    table.add_column("breaker (this process)")
    table.add_column("next maintenance (UTC)")
    for row in rows:
        share = row["success_rate"]
        table.add_row(
            plain(row["provider"]),
            plain(row["method"]),
            str(row["attempts"]),
            "-" if share is None else f"{share:.1%}",
            str(row["unknown"]),
            str(row["in_flight"]),
            plain(row["breaker"]),
            plain(row["next_maintenance"] or "-"),
        )
    console.print(table)


def _print_codes(codes: dict[str, dict[str, dict[str, str | None]]]) -> None:
    """The merchant's rows over the adapters' code tables, as the router applies them."""
    if not codes:
        console.print("codes: no merchant rows; each adapter's own tables apply")
        return
    table = Table(title="merchant code rows (config `codes`)")
    for column in ("provider", "provider code", "kind", "decline"):
        table.add_column(column)
    for provider, rows in codes.items():
        for code, row in rows.items():
            decline = row["decline"] or "-"
            table.add_row(plain(provider), plain(code), plain(row["kind"] or ""), plain(decline))
    console.print(table)


def _window(window: MaintenanceWindow | None) -> str | None:
    if window is None:
        return None
    start, end = (m.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for m in (window.start, window.end))
    return f"{start} to {end}"
