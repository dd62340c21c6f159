"""Launchers for the external peers tests talk to: Prism mocks and localstripe.

Each launcher starts its server on 127.0.0.1 with a free port, waits until it answers, and
stops it by the PID it started. Where a peer cannot be found, tests skip with the reason;
CI sets `CI=true`, and `tests/conftest.py` turns every such skip into a failure there.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The providers' specs are vendored in specs/; PAYROUTER_SPECS_DIR may point at another copy.
SPECS_DIR = Path(os.environ.get("PAYROUTER_SPECS_DIR") or ROOT / "specs")
PRISM = Path(os.environ.get("PAYROUTER_PRISM", ROOT / ".peers" / "node_modules" / ".bin" / "prism"))

PRISM_SPECS = {
    "stripe": "stripe/payment_intents.prism.json",
    "adyen": "adyen/CheckoutService-v72.prism.json",
    "paypal": "paypal/checkout_orders_v2.prism.json",
    "berlingroup": "berlingroup/psd2-api_v1.3.11.prism.json",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"peer exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"peer did not listen on {port} within {seconds}s: {log.read_text()[-2000:]}"
    )


@contextlib.contextmanager
def _running(command: list[str], port: int, log: Path, seconds: float) -> Iterator[None]:
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log, seconds)
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def prism(provider: str, workdir: Path, *, spec: Path | None = None) -> Iterator[str]:
    """Run a validating Prism mock of `provider`'s official spec; yields its root URL.

    `spec` overrides the shared cut-down, e.g. with one derived from the full spec.
    """
    spec = spec or SPECS_DIR / PRISM_SPECS[provider]
    if not spec.is_file():
        pytest.skip(f"peer prism: spec {spec} absent (check PAYROUTER_SPECS_DIR)")
    if not PRISM.is_file():
        pytest.skip(
            f"peer prism: {PRISM} absent (npm install --prefix .peers @stoplight/prism-cli)"
        )
    port = free_port()
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    with _running(command, port, workdir / f"prism-{provider}.log", 60):
        yield f"http://127.0.0.1:{port}"


_LOCALSTRIPE_MAIN = """
import sys, aiohttp.web
from localstripe.resources import Store
from localstripe.server import app
Store.dump_to_disk = lambda self: None
aiohttp.web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@contextlib.contextmanager
def localstripe(workdir: Path) -> Iterator[str]:
    """Run localstripe (a stateful Stripe stand-in) on 127.0.0.1; yields its root URL."""
    try:
        import localstripe as _probe  # noqa: F401
    except ImportError:
        pytest.skip("peer localstripe: not installed (pip install localstripe)")
    port = free_port()
    command = [sys.executable, "-c", _LOCALSTRIPE_MAIN, str(port)]
    with _running(command, port, workdir / "localstripe.log", 30):
        yield f"http://127.0.0.1:{port}"
