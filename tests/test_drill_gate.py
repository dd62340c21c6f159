"""What the drill tells a person and a CI job: exit status, JSON summary, advice, conditions.

A missed target exits 1 so CI can gate on it; a bad scenario exits 2 with the field named;
each missed target carries a recommendation and a runbook link, in the target's own unit; the
report states how busy the machine was, because a saturated machine makes timings lie.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from payrouter._cli._app import app
from payrouter_lab.drill import missed_targets
from payrouter_lab.drill._conditions import Conditions
from payrouter_lab.drill._findings import REQUIRES_ACTION, targets
from payrouter_lab.sandbox import FaultKind

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK_SECTIONS = {
    line[3:].strip().lower() for line in (ROOT / "docs/runbook.md").read_text().splitlines()
    if line.startswith("## ")
}  # fmt: skip


def _scenario(tmp_path: Path, faults: list[dict[str, Any]]) -> Path:
    """The provider-down scenario, one second long, with these faults."""
    scenario = yaml.safe_load(
        (ROOT / "lab/payrouter_lab/drill/scenarios/provider-down.yaml").read_text()
    )
    scenario |= {"duration_seconds": 1.0, "rate_per_second": 20, "faults": faults}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def _figures(**changes: object) -> dict[str, object]:
    figures: dict[str, object] = {
        "double_charges": 0,
        "records_lost": 0,
        "pending_after_reconcile": 0,
        "success_of_possible": 0.995,
        "attempts_per_payment_at_peak": 1.1,
        "after_breaker_open_added_latency_ms": {"p50": 0.5, "p99": 1.5},
    }
    return figures | changes


def test_a_bad_fault_is_a_scenario_error_listing_the_valid_kinds(tmp_path: Path) -> None:
    """`kind: bussy, probability: 1.8` exits 2 naming both fields and every valid kind."""
    path = _scenario(tmp_path, [{"provider": "card_a", "kind": "bussy", "probability": 1.8}])
    result = CliRunner().invoke(app, ["drill", str(path), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert "faults.0.kind" in text
    assert "faults.0.probability" in text
    for kind in FaultKind:
        assert f"'{kind.value}'" in text, f"{kind.value} is not listed"
    assert not (tmp_path / "r").exists(), "nothing ran"


def test_a_fault_option_the_sandbox_refuses_is_a_scenario_error(tmp_path: Path) -> None:
    """A misspelt fault option, or one the kind does not take, is refused before any run."""
    for fault, field in (
        ({"provider": "card_a", "kind": "busy", "probabilty": 0.5}, "probabilty"),
        ({"provider": "card_a", "kind": "busy", "status": 500}, "status"),
    ):
        path = _scenario(tmp_path, [fault])
        result = CliRunner().invoke(app, ["drill", str(path), "--report", str(tmp_path / "r")])
        assert result.exit_code == 2, result.output
        assert field in result.output
        assert "Traceback" not in result.output


def test_each_target_states_wanted_and_measured_in_one_unit() -> None:
    """Percent beside percent, milliseconds beside milliseconds: never `>= 99 %` next to 0.441."""
    rows = {row["name"]: row for row in targets(_figures(success_of_possible=0.441))}
    success = rows["success of possible"]
    assert (success["target"], success["value"], success["met"]) == (">= 99.0 %", "44.1 %", False)
    latency = rows["p99 added latency after a breaker opens"]
    assert (latency["target"], latency["value"]) == ("<= 5.0 ms", "1.5 ms")
    assert rows["attempts / payment at peak"]["value"] == "1.10"


def test_every_target_links_the_runbook_and_a_missed_one_says_what_to_do() -> None:
    """Missed targets carry a recommendation; every runbook link names a real section."""
    missed = _figures(
        double_charges=1,
        records_lost=2,
        pending_after_reconcile=3,
        success_of_possible=0.5,
        attempts_per_payment_at_peak=1.9,
        after_breaker_open_added_latency_ms={"p50": 3.0, "p99": 12.0},
    )
    for row in targets(missed):
        assert row["met"] is False, row["name"]
        assert len(str(row["recommendation"])) > 40
        page, anchor = str(row["runbook"]).split("#")
        assert page == "docs/runbook.md"
        slugs = {"".join(c for c in s.replace(" ", "-") if c.isalnum() or c == "-")
                 for s in RUNBOOK_SECTIONS}  # fmt: skip
        assert anchor in slugs, anchor
    assert all("recommendation" not in row for row in targets(_figures()))


def test_missed_targets_names_each_unmet_target() -> None:
    report = {"targets": targets(_figures(records_lost=1, attempts_per_payment_at_peak=1.5))}
    assert missed_targets(report) == ["records lost", "attempts / payment at peak"]
    assert missed_targets({"targets": targets(_figures())}) == []


def test_conditions_warn_when_the_machine_was_saturated() -> None:
    """CPUs 95 % busy or a load above the core count make a warning; an idle run makes none."""
    busy = Conditions(cpus=2, started_ticks=(0, 0), ended_ticks=(950, 1000))
    busy.started_wall, busy.ended_wall = 0.0, 10.0
    busy.ended_process = 4.0
    summary = busy.summary()
    assert summary["saturated"] is True
    assert summary["cpu_busy_percent"] == 95.0
    assert "95 % busy" in str(summary["warning"])
    loaded = Conditions(cpus=2, started_ticks=(0, 0), ended_ticks=(300, 1000))
    loaded.load_averages = [1.0, 3.5]
    assert "load average reached 3.5 on 2 cores" in str(loaded.summary()["warning"])
    idle = Conditions(cpus=2, started_ticks=(0, 0), ended_ticks=(300, 1000))
    idle.load_averages = [0.4, 0.9]
    idle.started_wall, idle.ended_wall, idle.ended_process = 0.0, 10.0, 3.0
    assert idle.summary() | {"warning": None} == idle.summary()
    assert idle.summary()["saturated"] is False


@pytest.mark.slow
def test_a_missed_target_exits_1_and_json_prints_the_summary(tmp_path: Path) -> None:
    """A card provider answering 500 to everything: success of possible is missed, exit 1."""
    faults = [{"provider": name, "kind": "error"} for name in ("card_a", "card_b")]
    path = _scenario(tmp_path, faults)
    result = CliRunner().invoke(
        app, ["drill", str(path), "--report", str(tmp_path / "r"), "--json"]
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert "success of possible" in summary["targets_missed"]
    missed = {row["name"]: row for row in summary["targets"] if not row["met"]}
    assert missed["success of possible"]["recommendation"]
    assert summary["explanations"]["requires_action"] == REQUIRES_ACTION
    conditions = summary["conditions"]
    assert conditions["cpus"] >= 1
    assert isinstance(conditions["saturated"], bool)
    assert (conditions["warning"] is not None) == conditions["saturated"]
    assert "timeline" not in summary["strategies"][0]
    assert Path(summary["report"]["json"]).is_file()


def test_report_page_states_conditions_advice_and_what_requires_action_means() -> None:
    """The HTML report carries the saturation warning, each recommendation and the sentence."""
    from payrouter_lab.report import render_html

    saturated = Conditions(cpus=2, started_ticks=(0, 0), ended_ticks=(990, 1000))
    page = render_html(
        {
            "scenario": {"name": "x"},
            "conditions": saturated.summary(),
            "targets": targets(_figures(success_of_possible=0.5)),
            "explanations": {"requires_action": REQUIRES_ACTION},
        }
    )
    assert 'id="saturated"' in page
    assert "Run the drill again on an idle machine" in page
    assert "docs/runbook.md#provider-down" in page
    assert "give each method a second provider" in page
    assert "requires_action means the payment was accepted" in page
