"""The command line ends every documented error with one clear line and exit code 2.

No traceback, no message eaten by rich markup (`providers[card_main]` is text, not a tag),
and no crash of the printer itself on text such as `[/x]`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payrouter._cli._app import app

_SIMULATED = "providers: [{name: card_main, type: simulated, methods: [card]}]\n"


def _run(tmp_path: Path, config: str, *extra: str, command: str = "status") -> list[str]:
    path = tmp_path / "payrouter.yaml"
    path.write_text(config)
    result = CliRunner().invoke(app, [command, "--config", str(path), *extra])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    return [line for line in result.output.splitlines() if line.strip()]


def test_an_option_key_that_looks_like_a_closing_tag_is_printed(tmp_path: Path) -> None:
    """`[/x]` in an error message is printed as written, not parsed as markup."""
    config = "providers: [{name: card_main, type: simulated, options: {'[/x]': 1}}]\n"
    lines = _run(tmp_path, config)
    assert len(lines) == 1, lines
    assert "providers[card_main].options: unknown option(s) ['[/x]']" in lines[0]


def test_bracketed_names_in_messages_are_kept(tmp_path: Path) -> None:
    """`providers[card_main].type` reaches the operator with the provider's name in it."""
    lines = _run(tmp_path, "providers: [{name: card_main, type: nosuch}]\n")
    assert len(lines) == 1, lines
    assert "providers[card_main].type: no adapter named 'nosuch'" in lines[0]


@pytest.mark.parametrize(
    ("ledger", "words"),
    [
        ("sqlite:///{tmp}/missing/ledger.db", "missing/ledger.db"),
        ("sqlite:///{tmp}/a-file/ledger.db", "a-file/ledger.db"),
        ("foo://x/y", "no database driver for 'foo'"),
    ],
    ids=["missing-directory", "unwritable-path", "unknown-scheme"],
)
def test_a_ledger_that_cannot_be_opened_is_one_line(
    tmp_path: Path, ledger: str, words: str
) -> None:
    """A missing directory, a path through a file and an unknown scheme: one line each."""
    (tmp_path / "a-file").write_text("not a directory")
    lines = _run(tmp_path, f"ledger: {ledger.format(tmp=tmp_path)}\n" + _SIMULATED)
    assert len(lines) == 1, lines
    assert words in lines[0]


def test_an_unknown_state_scheme_is_one_line(tmp_path: Path) -> None:
    """`state` must be a Redis URL; another scheme is a configuration error in one line."""
    lines = _run(tmp_path, "state: ftp://x/y\n" + _SIMULATED)
    assert len(lines) == 1, lines
    assert lines[0].startswith("configuration error: state")


def test_a_long_message_is_not_wrapped_into_several_lines(tmp_path: Path) -> None:
    """Errors are soft-wrapped: one logical line stays one line whatever the width."""
    name = "a_provider_with_a_rather_long_name_" + "x" * 60
    lines = _run(tmp_path, f"providers: [{{name: {name}, type: nosuch}}]\n")
    assert len(lines) == 1, lines


def test_a_metrics_port_in_use_is_one_line(tmp_path: Path) -> None:
    """The worker cannot serve metrics on a taken port: it says which, and exits 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        lines = _run(
            tmp_path,
            "ledger: sqlite:///ledger.db\n" + _SIMULATED,
            "--once",
            "--metrics-port",
            str(port),
            command="worker",
        )
    assert len(lines) == 1, lines
    assert f"127.0.0.1:{port}" in lines[0]


def test_records_json_to_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    """`--json` into a missing directory names the file instead of a traceback."""
    target = tmp_path / "missing" / "report.json"
    lines = _run(
        tmp_path,
        "ledger: sqlite:///ledger.db\n" + _SIMULATED,
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-02",
        "--json",
        str(target),
        command="records",
    )
    assert len(lines) == 1, lines
    assert str(target) in lines[0]


@pytest.mark.parametrize("books", ["{tmp}/missing/books.db", "{tmp}/a-file/books.db", "a\x00b"])
def test_simulated_books_that_cannot_be_opened_are_one_line(tmp_path: Path, books: str) -> None:
    """The simulated provider's books file is an option like any other: a bad path is a
    configuration error naming it, not a raw sqlite3 traceback."""
    (tmp_path / "a-file").write_text("not a directory")
    path = books.format(tmp=tmp_path)
    config = (
        "ledger: sqlite:///ledger.db\n"
        f"providers: [{{name: card_main, type: simulated, options: {{books_path: {path!r}}}}}]\n"
    ).replace("\x00", "\\0")
    lines = _run(tmp_path, config.replace("'", '"'))
    assert len(lines) == 1, lines
    assert "providers[card_main].options.books_path" in lines[0]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("providers: [\n  {a: 1\n", "line 3, column 1"),
        ("a: 1\n a: 2\n", "line 2, column 3"),
        ("a: [1, 2\nb: 3\n", "line 2"),
    ],
)
def test_a_yaml_syntax_error_is_one_line_with_its_position(
    tmp_path: Path, text: str, where: str
) -> None:
    """PyYAML's multi-line report (with a caret drawing) becomes one line with the position."""
    lines = _run(tmp_path, text)
    assert len(lines) == 1, lines
    assert "is not valid yaml" in lines[0]
    assert where in lines[0]


_COMMANDS = {
    "status": ["status"],
    "reconcile": ["reconcile"],
    "worker": ["worker", "--once"],
    "records": ["records", "--since", "2026-11-01", "--until", "2026-11-02"],
    "records-open": ["records", "open"],
    "records-ack": ["records", "ack", "amount_differs:card_main:x", "--note", "done"],
}
_BROKEN = {
    "missing-directory": "ledger: sqlite:///{tmp}/missing/ledger.db\n" + _SIMULATED,
    "unwritable-path": "ledger: sqlite:///{tmp}/a-file/ledger.db\n" + _SIMULATED,
    "unknown-scheme": "ledger: foo://x/y\n" + _SIMULATED,
    "unknown-adapter": "providers: [{name: card_main, type: nosuch}]\n",
    "markup-in-option": "providers: [{name: card_main, type: simulated, options: {'[/x]': 1}}]\n",
    "state-scheme": "state: ftp://x/y\n" + _SIMULATED,
    "not-yaml": "providers: [\n",
    "inline-live-key": (
        "providers: [{name: s, type: stripe, methods: [card], options: "
        "{api_key: sk_live_abcdefghijklmnop, base_url: 'https://stripe.test'}}]\n"
    ),
}


@pytest.mark.parametrize("broken", sorted(_BROKEN), ids=sorted(_BROKEN))
@pytest.mark.parametrize("command", sorted(_COMMANDS), ids=sorted(_COMMANDS))
def test_every_command_ends_every_configuration_error_with_one_line(
    tmp_path: Path, command: str, broken: str
) -> None:
    """The same one clear line and exit 2 whichever operator command reads the config."""
    (tmp_path / "a-file").write_text("not a directory")
    path = tmp_path / "payrouter.yaml"
    path.write_text(_BROKEN[broken].replace("{tmp}", str(tmp_path)))
    words = _COMMANDS[command]
    result = CliRunner().invoke(app, [*words, "--config", str(path)])

    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
