"""The documentation cannot rot: its code runs, its outputs are real, and it builds strictly."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from payrouter_lab.testing import running_sandbox
from tests.docs_snippets import blocks, run_page, sandbox_port

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES_WITH_CODE = sorted(
    page for page in DOCS.rglob("*.md") if any(block.runnable for block in blocks(page.read_text()))
)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda page: page.name)
def test_every_code_block_of_the_page_runs_and_prints_what_the_page_shows(
    page: Path, tmp_path: Path
) -> None:
    # The guides' commands run "from the repository root": a copy of what they use of it.
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.db-*"),
    )
    port = sandbox_port(page.read_text())
    with _the_guides_ports():
        if port is None:
            assert run_page(page, tmp_path) > 0
            return
        with running_sandbox(port):
            assert run_page(page, tmp_path) > 0


@contextlib.contextmanager
def _the_guides_ports() -> Iterator[None]:
    """Test runs sharing a machine take turns at the pages.

    The guides name the ports a reader types (8000, 8700-8704), so two runs of this test at once
    would find them taken. One lock file per machine makes the second run wait for the first.
    """
    with open(Path(tempfile.gettempdir()) / "payrouter-guides-ports.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_the_quickstart_is_among_the_pages_whose_code_runs() -> None:
    assert DOCS / "quickstart.md" in PAGES_WITH_CODE


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    assert mkdocs is not None, "mkdocs is part of the dev extra"
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    taxonomy = (tmp_path / "site" / "concepts" / "index.html").read_text()
    assert "insufficient_funds" in taxonomy  # the table generated from POLICY is in the page
    # The API reference covers every public package, the lab's included, from docstrings.
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    lab = (tmp_path / "site" / "reference" / "lab" / "index.html").read_text()
    for name in ("payrouter.provider", "WebhookReceiver", "LoggingHook", "payrouter_simulated"):
        assert name in api, name
    for name in ("SandboxControl", "FaultSpec", "run_drill", "write_report"):
        assert name in lab, name


def test_an_included_file_is_copied_into_its_page_again_by_sync(tmp_path: Path) -> None:
    """`python -m tests.docs_snippets` brings a stale include back in line with its file."""
    from tests.docs_snippets import sync_includes

    page = tmp_path / "page.md"
    page.write_text("Text\n\n<!-- include: examples/deploy/payrouter.yaml -->\n```yaml\nold\n```\n")
    assert sync_includes(tmp_path) == [page]
    body = (ROOT / "examples/deploy/payrouter.yaml").read_text()
    assert (
        page.read_text()
        == f"Text\n\n<!-- include: examples/deploy/payrouter.yaml -->\n```yaml\n{body}```\n"
    )
    assert sync_includes(tmp_path) == []
