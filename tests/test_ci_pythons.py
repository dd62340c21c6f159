"""The package metadata lists exactly the Pythons CI runs the tests on.

CI (`.ci/run`) runs the full suite on 3.11 (`make test`) and the fast suite on each version
of its `make test-fast` loop; both distributions' classifiers must name the same set.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tested() -> set[str]:
    script = (ROOT / ".ci/run").read_text()
    loop = re.search(r"^for version in ([\d. ]+); do\n\s+make test-fast", script, re.MULTILINE)
    assert loop, ".ci/run has no `make test-fast` loop over versions"
    return {"3.11", *loop.group(1).split()}


def test_classifiers_name_every_python_ci_tests_and_no_other() -> None:
    tested = _tested()
    assert tested == {"3.11", "3.12", "3.13"}
    for pyproject in (ROOT / "pyproject.toml", ROOT / "lab/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        listed = {
            c.rsplit(" :: ", 1)[1]
            for c in project["classifiers"]
            if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
        }
        assert listed == tested, pyproject
        assert project["requires-python"] == ">=3.11"
