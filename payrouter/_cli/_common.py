"""What every payrouter command shares: the console, the --config option, error handling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .._errors import ConfigurationError, LedgerUnavailableError

__all__ = ["ConfigOption", "console", "guarded"]

console = Console()

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML or TOML router config.", exists=False)
]


def guarded(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a command; errors an operator fixes outside payrouter end it with exit code 2."""
    try:
        asyncio.run(run())
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    except LedgerUnavailableError as error:  # one line, never wrapped: it names a file path
        console.print(f"[red]ledger unavailable:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None
