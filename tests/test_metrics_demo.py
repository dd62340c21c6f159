"""The observability page shows real output: the demo still prints it, and the Grafana
dashboard queries only metrics payrouter defines."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest

from payrouter.instrumentation._metrics import METRIC_NAMES

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "observability.md").read_text()
DASHBOARD = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
_SUFFIXES = ("_bucket", "_count", "_sum")


def base_name(sample: str) -> str:
    name = sample.split("{")[0].split(" ")[0]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in METRIC_NAMES:
            return name.removesuffix(suffix)
    return name


def text_blocks() -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", PAGE, re.MULTILINE | re.DOTALL)


def decisions(lines: list[str]) -> list[tuple[str, str]]:
    """(event, why) of each JSON line: what stays the same from run to run."""
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [(record["event"], record["why"]) for record in records]


@pytest.fixture(scope="module")
def demo_output() -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "examples" / "observability_demo.py"), run_name="__main__")
    return out.getvalue()


def test_the_demo_prints_the_decisions_and_samples_the_page_shows(demo_output: str) -> None:
    """Same decisions with the same reasons, same series with the same values (the page's
    timestamps and latencies are from the run that produced it)."""
    logs_block, metrics_block = text_blocks()[:2]
    lines = demo_output.splitlines()
    assert decisions(lines) == decisions(logs_block.splitlines())
    assert "PAGE: card_a card breaker is open" in lines
    assert "PAGE: card_a card breaker is open" in logs_block
    printed = {line for line in lines if line.startswith("payrouter_")}
    assert printed == set(metrics_block.splitlines())


def test_the_page_documents_every_metric_and_shows_real_samples(demo_output: str) -> None:
    for name in METRIC_NAMES:
        assert f"| `{name}` |" in PAGE, f"{name} is missing from the metrics table"
    shown = {base_name(line) for line in text_blocks()[1].splitlines()}
    assert shown <= set(METRIC_NAMES)
    assert {
        "payrouter_attempts_total",
        "payrouter_failovers_total",
        "payrouter_breaker_state",
    } <= shown


def test_every_dashboard_query_uses_only_metrics_payrouter_defines() -> None:
    exprs = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]
    assert len(exprs) >= 10
    used = {base_name(name) for expr in exprs for name in re.findall(r"payrouter_\w+", expr)}
    assert used <= set(METRIC_NAMES), used - set(METRIC_NAMES)
    state_gauges = {
        "payrouter_breaker_state",
        "payrouter_retry_budget_remaining",
        "payrouter_rate_limit_tokens",
        "payrouter_outbox_depth",
        "payrouter_outbox_oldest_age_seconds",
    }
    assert state_gauges <= used


def test_the_dashboard_is_importable_grafana_json() -> None:
    """Unique panel ids, a Prometheus data source variable, grid positions on every panel."""
    panels = DASHBOARD["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    assert DASHBOARD["uid"]
    assert DASHBOARD["title"] == "payrouter"
    assert DASHBOARD["templating"]["list"][0]["query"] == "prometheus"
    for panel in panels:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["datasource"]["uid"] == "${datasource}"
        assert all(target["refId"] for target in panel["targets"])
