"""What every payrouter command shares: the console, the --config option, error handling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .._errors import ConfigurationError

__all__ = ["ConfigOption", "console", "guarded"]

console = Console()

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML or TOML router config.", exists=False)
]


def guarded(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        asyncio.run(run())
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
