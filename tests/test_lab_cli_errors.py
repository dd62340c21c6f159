"""The lab's commands end an operator's error with one clear line and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from payrouter._cli._app import app


def _lines(args: list[str]) -> list[str]:
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    return [line for line in result.output.splitlines() if line.strip()]


def test_a_taken_sandbox_port_is_one_line() -> None:
    """`payrouter sandbox --port N` on a taken port says which port, without a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        lines = _lines(["sandbox", "--port", str(port)])
    assert len(lines) == 1, lines
    assert f"127.0.0.1:{port}" in lines[0]


def test_a_scenario_error_prints_bracketed_text_literally(tmp_path: Path) -> None:
    """A scenario field such as `[/x]` is printed as written, not read as rich markup."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("'[/x]': 1\n")
    lines = _lines(["drill", str(scenario)])
    assert any("[/x]" in line for line in lines), lines


def test_an_unwritable_report_folder_is_one_line(tmp_path: Path) -> None:
    """`--report` through a file is refused before the drill runs, naming the folder."""
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "report"
    lines = _lines(["drill", "provider-down", "--report", str(folder)])
    assert len(lines) == 1, lines
    assert str(folder) in lines[0]
