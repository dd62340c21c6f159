"""The operator command line. Its libraries (typer, rich) are the `cli` extra, so a checkout that
only imports payrouter does not carry them; `main` says how to add them when they are missing."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point: run the typer app, or explain the missing extra."""
    try:
        from ._app import main as run
    except ImportError as error:
        missing = error.name or "a CLI library"
        sys.stderr.write(
            f"payrouter: the command line needs {missing}; install it with "
            '`pip install "payrouter[cli]"` (from a clone: `pip install ".[cli]"`)\n'
        )
        raise SystemExit(2) from None
    run()
