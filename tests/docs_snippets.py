"""Run a documentation page's code blocks in order, the way a reader would.

Conventions in `docs/*.md` (all invisible in the rendered page):
- a fenced block with `title="FILE"` is written to FILE in the page's working folder;
  a titled `python` block is only written (a later `<!-- output: python FILE -->` runs it);
- an untitled `python` block runs as a script there;
- `<!-- output -->` before a `text` block: it must equal what the last python block printed;
- `<!-- output: COMMAND -->` before a `text` block: run COMMAND (`python` means this
  interpreter) and compare what it printed;
- `<!-- no-run -->` before a `python` block: shown, never run (it needs something a test
  cannot have, such as a live account);
- `<!-- docs-test: sandbox PORT -->` anywhere: the page needs `payrouter sandbox --port PORT`;
- a block that only includes a file (`--8<-- "path"`) is not run here: the included file is
  real code with its own tests;
- `<!-- include: PATH -->` before a block: the block shows the repository file PATH in full
  (readable on GitHub, unlike `--8<--`), and must equal it;
- `<!-- docs-test: serve PORT -->` before an `sh` block: run it with bash in the background,
  as printed, until the page is done; wait until PORT answers;
- `<!-- docs-test: sh -->` before an `sh` block: run it with bash, as printed; each of its
  `# ` comment lines is output the commands must print (`...` stands for anything).
Shell blocks run with the test interpreter's `bin` folder first on PATH, as in an activated
virtual environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_BLOCK = re.compile(
    r"(?:<!--\s*(?P<directive>[^>]*?)\s*-->\s*\n)?"
    r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL,
)
_TITLE = re.compile(r'title="([^"]+)"')
ROOT = Path(__file__).resolve().parents[1]
_SANDBOX = re.compile(r"<!--\s*docs-test:\s*sandbox\s+(\d+)\s*-->")


@dataclass(frozen=True)
class Block:
    lang: str
    title: str | None
    directive: str
    body: str
    line: int

    @property
    def runnable(self) -> bool:
        """True for blocks this runner executes, writes or checks."""
        if self.body.lstrip().startswith("--8<--") or self.directive == "no-run":
            return False
        if self.lang == "sh" and not self.directive.startswith("docs-test:"):
            return False  # shown only, e.g. the install line the test environment ran
        return self.lang == "python" or self.title is not None or bool(self.directive)


def blocks(markdown: str) -> list[Block]:
    """The page's fenced blocks, in order, with the directive comment just above each."""
    found = []
    for match in _BLOCK.finditer(markdown):
        title = _TITLE.search(match.group("info"))
        found.append(
            Block(
                lang=match.group("lang"),
                title=title.group(1) if title else None,
                directive=(match.group("directive") or "").strip(),
                body=match.group("body"),
                line=markdown.count("\n", 0, match.start()) + 1,
            )
        )
    return found


def sandbox_port(markdown: str) -> int | None:
    match = _SANDBOX.search(markdown)
    return int(match.group(1)) if match else None


def run_page(page: Path, workdir: Path, timeout: float = 60) -> int:
    """Run every block of `page` in `workdir`; raise AssertionError on the first mismatch.

    Returns how many blocks were run or checked, so a test can tell a page was exercised.
    """
    with contextlib.ExitStack() as servers:
        return _run_blocks(page, workdir, timeout, servers)


def _run_blocks(page: Path, workdir: Path, timeout: float, servers: contextlib.ExitStack) -> int:
    exercised = 0
    last_output: str | None = None
    for block in blocks(page.read_text()):
        where = f"{page.name}:{block.line}"
        if not block.runnable:
            continue
        if block.directive.startswith("include:"):
            shown = ROOT / block.directive.removeprefix("include:").strip()
            assert block.body == shown.read_text(), (
                f"{where}: differs from {shown} (`python -m tests.docs_snippets` copies it in)"
            )
            exercised += 1
            continue
        if block.directive.startswith("docs-test: serve"):
            port = int(block.directive.split()[-1])
            servers.enter_context(_serving(block.body, workdir, port, where))
            exercised += 1
            continue
        if block.directive == "docs-test: sh":
            printed = _run(["bash", "-euo", "pipefail", "-c", block.body], workdir, where, timeout)
            for line in block.body.splitlines():
                if line.startswith("# "):
                    expected = re.escape(line[2:]).replace(re.escape("..."), ".*?")
                    assert re.search(expected, printed), (
                        f"{where}: expected {line[2:]!r} in what the commands printed:\n{printed}"
                    )
            exercised += 1
            continue
        if block.title is not None:
            (workdir / block.title).write_text(block.body)
            exercised += 1
            continue
        if block.lang == "python":
            last_output = _run([sys.executable, "-c", block.body], workdir, where, timeout)
            exercised += 1
        elif block.lang == "text" and block.directive.startswith("output"):
            command = block.directive.removeprefix("output").lstrip(":").strip()
            if command:
                argv = [
                    sys.executable if word == "python" else word for word in shlex.split(command)
                ]
                last_output = _run(argv, workdir, where, timeout)
            assert last_output is not None, f"{where}: an output block with nothing run before it"
            assert last_output.rstrip() == block.body.rstrip(), (
                f"{where}: the page shows\n{block.body}\nbut the code printed\n{last_output}"
            )
            exercised += 1
    return exercised


def _shell_env() -> dict[str, str]:
    """The environment of an activated virtual environment: its `bin` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextlib.contextmanager
def _serving(script: str, workdir: Path, port: int, where: str) -> Iterator[None]:
    """Run `script` with bash in its own process group until the block ends.

    The page's port must be free first: otherwise the commands after it would talk to
    whatever else listens there, and the check would prove nothing.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise AssertionError(f"{where}: port {port} is in use by another process") from None
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=workdir,
            env=_shell_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"{where}: exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{where}: {port} silent: {log.read_text()[-3000:]}"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.2)
        assert process.poll() is None, f"{where}: exited: {log.read_text()[-3000:]}"
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _run(argv: list[str], workdir: Path, where: str, timeout: float) -> str:
    env = _shell_env() if argv[0] == "bash" else None
    done = subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert done.returncode == 0, f"{where}: exited {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


_INCLUDE = re.compile(
    r"^<!-- include: (?P<path>\S+) -->\n```(?P<info>[^\n]*)\n.*?^```$", re.MULTILINE | re.DOTALL
)


def sync_includes(docs: Path = ROOT / "docs") -> list[Path]:
    """Copy each `<!-- include: PATH -->` block's file into the page again; the pages changed."""
    changed = []
    for page in sorted(docs.rglob("*.md")):
        text = page.read_text()
        synced = _INCLUDE.sub(
            lambda m: (
                f"<!-- include: {m['path']} -->\n```{m['info']}\n"
                f"{(ROOT / m['path']).read_text()}```"
            ),
            text,
        )
        if synced != text:
            page.write_text(synced)
            changed.append(page)
    return changed


if __name__ == "__main__":
    for page in sync_includes():
        print(f"synced {page.relative_to(ROOT)}")
