"""Suite-wide fixtures: testing mode on for every test, and no silent peer skips in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from payrouter.testing import set_testing
from tests.peers.servers import postgres_url, redis_prefix, redis_url

__all__ = ["postgres_url", "redis_prefix", "redis_url"]  # fixtures for every suite


@pytest.fixture(autouse=True)
def _testing_mode() -> Iterator[None]:
    """Zero backoff waits in every test; a test wanting real waits turns the switch off."""
    with set_testing(True):
        yield


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """In CI a skip means a missing peer, and a skipped proof is no proof: say so loudly."""
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") and skipped:
        terminalreporter.section("skips are failures in CI", red=True)
        for report in skipped:
            terminalreporter.write_line(f"{report.nodeid}: {report.longrepr}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
