"""What every payrouter command shares: the consoles, the --config option, error handling.

Every error an operator fixes outside payrouter (a config file, a ledger path, a port) ends the
command with one line on stderr and exit code 2. Messages are printed as text, never as rich
markup: `providers[card_main]` keeps its name, and `[/x]` cannot crash the printer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from .._errors import ConfigurationError, LedgerUnavailableError, PayrouterError

__all__ = ["CommandError", "ConfigOption", "console", "describe", "fail", "guarded", "plain"]

console = Console()
errors = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="YAML or TOML router config.", exists=False)
]


class CommandError(Exception):
    """Something outside payrouter stops a command (a port taken, a file not writable); the
    message says what and how to fix it."""


def plain(value: object) -> str:
    """`value` as rich prints it literally: data from ledgers and providers is never markup."""
    return escape(str(value))


def fail(kind: str, message: object) -> NoReturn:
    """End the command: `kind: message` on one line of stderr, exit code 2."""
    errors.print(f"[red]{kind}:[/red] {plain(message)}")
    raise typer.Exit(2)


def describe(error: OSError) -> str:
    """An OSError as a sentence: its reason and the file it concerns, if any."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{error.filename}: {reason}" if error.filename else reason


def guarded(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a command; errors an operator fixes outside payrouter end it with exit code 2."""
    try:
        asyncio.run(run())
    except ConfigurationError as error:
        fail("configuration error", error)
    except LedgerUnavailableError as error:  # one line, never wrapped: it names a file path
        fail("ledger unavailable", error)
    except PayrouterError as error:
        fail("error", error)
    except CommandError as error:
        fail("error", error)
    except OSError as error:
        fail("error", describe(error))
