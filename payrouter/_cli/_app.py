"""The `payrouter` command: reconcile, worker, status, records, ledger-key (and its reseal),
plug-in commands.

typer parses and documents the commands, rich draws the tables; the work itself lives in the
library so that every command is also an API call. Other distributions (the lab's `drill` and
`sandbox`) add commands through the `payrouter.cli` entry-point group: each entry is a callable
that receives the typer app, so the core never imports them.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Annotated

import typer

from .._version import __version__
from ._common import console
from ._keys import ledger_key_app
from ._ops import reconcile, status, worker
from ._records import records_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="payrouter",
    help="Route payments across providers; rehearse outages before the big day.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command()(reconcile)
app.command()(worker)
app.command()(status)
app.add_typer(records_app)
app.add_typer(ledger_key_app)


def _version(show: bool) -> None:
    if show:
        console.print(f"payrouter {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """payrouter: failover that never charges a customer twice."""


def _add_plugin_commands() -> None:
    for entry in entry_points(group="payrouter.cli"):
        entry.load()(app)


_add_plugin_commands()


def main() -> None:
    """Console-script entry point."""
    app()
