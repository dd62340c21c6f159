"""What README's install section promises holds for the built archives, not only for a clone.

`make dist` builds the wheels and sdists; they install into a clean virtual environment (no
access to this checkout), where README's fifteen-line example prints what README says and
the lab's commands join the `payrouter` command line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _fifteen_lines() -> tuple[str, str]:
    """README's example under "Fifteen lines", and the output its last comment shows."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Fifteen lines", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "README has no fifteen-line example"
    shown = re.search(r"asyncio\.run\(main\(\)\)\s+# (.*)$", code.group(1), re.MULTILINE)
    assert shown, "the example's last line shows no output"
    return code.group(1), shown.group(1)


def _run(command: list[str | Path], cwd: Path, timeout: float = 600) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


def test_make_dist_archives_install_cleanly_and_run_the_readme_example(tmp_path: Path) -> None:
    """Wheels and sdists for both distributions; installed, the example prints README's line."""
    dist = tmp_path / "dist"
    _run(["make", "-s", "dist", f"DIST={dist}"], ROOT)
    names = sorted(path.name for path in dist.iterdir())
    for prefix in ("payrouter-", "payrouter_lab-"):
        built = [name for name in names if name.startswith(prefix)]
        assert any(name.endswith(".whl") for name in built), names
        assert any(name.endswith(".tar.gz") for name in built), names

    venv, shop = tmp_path / "venv", tmp_path / "shop"
    shop.mkdir()
    _run([sys.executable, "-m", "venv", venv], shop)
    python = venv / "bin" / "python"
    wheels = sorted(dist.glob("*.whl"))
    _run([python, "-m", "pip", "install", "--quiet", *wheels], shop)

    where = _run([python, "-c", "import payrouter, payrouter_lab; print(payrouter.__file__)"], shop)
    assert Path(where.strip()).is_relative_to(venv), "payrouter came from the checkout"

    code, shown = _fifteen_lines()
    (shop / "example.py").write_text(code)
    printed = _run([python, "example.py"], shop, timeout=120).strip().splitlines()[-1]
    # README elides the enum's repr with "...": everything else must match to the character.
    pattern = re.escape(shown).replace(re.escape(" ..."), ".*")
    assert re.fullmatch(pattern, printed), (printed, shown)

    listed = _run([venv / "bin" / "payrouter", "drill", "--list"], shop)
    assert "promotion-day" in listed, "the lab's commands are not on the command line"
