"""The wheel and sdist build cleanly, pass `twine check`, and carry what the library needs.

The core install stays small: database drivers, Redis, metrics, OTel, web frameworks and
the command line are extras, and the lab (stand-ins, drills, report) is its own distribution,
`payrouter-lab`, built from `lab/`. The version is written once (`payrouter/_version.py`).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from payrouter import __version__

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = (
    "psycopg",
    "redis",
    "prometheus-client",
    "opentelemetry-api",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


@pytest.fixture(scope="module")
def lab_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab-dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT / "lab")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


@pytest.mark.slow
def test_twine_accepts_both_archives(dist: Path) -> None:
    archives = sorted(str(path) for path in dist.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *archives],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(archives) == 2


@pytest.mark.slow
def test_the_wheel_carries_the_code_its_data_and_its_type_marker(dist: Path) -> None:
    names = set(zipfile.ZipFile(_wheel(dist)).namelist())
    for package in ("payrouter", "payrouter_adapters"):
        assert f"{package}/py.typed" in names
    sources = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "payrouter").rglob("*.py"))
    missing = [path for path in sources if path not in names and "__pycache__" not in path]
    assert missing == []
    assert "payrouter_adapters/stripe/_adapter.py" in names
    assert not [name for name in names if name.startswith("payrouter_lab/")]


@pytest.mark.slow
def test_the_lab_wheel_carries_its_scenarios_report_assets_and_cli_plugin(lab_dist: Path) -> None:
    wheel = zipfile.ZipFile(_wheel(lab_dist))
    names = set(wheel.namelist())
    for path in (
        "payrouter_lab/py.typed",
        "payrouter_lab/drill/scenarios/promotion-day.yaml",
        "payrouter_lab/report/report.js",
        "payrouter_lab/report/report.css",
    ):
        assert path in names
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    assert "[payrouter.cli]" in wheel.read(entry_points).decode()


@pytest.mark.slow
def test_the_version_comes_from_one_place_and_the_core_stays_small(dist: Path) -> None:
    wheel = zipfile.ZipFile(_wheel(dist))
    (metadata_name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    assert metadata["Version"] == __version__
    core = [req for req in metadata.get_all("Requires-Dist") or [] if "extra ==" not in req]
    assert not [req for req in core if req.lower().startswith(OPTIONAL)]
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"cli", "postgres", "redis", "metrics"} <= extras


@pytest.mark.slow
def test_the_sdist_builds_the_same_wheel_again(dist: Path, tmp_path: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path)],
        cwd=unpacked,
        check=True,
        capture_output=True,
        timeout=300,
    )
    rebuilt = set(zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist())
    assert rebuilt == set(zipfile.ZipFile(_wheel(dist)).namelist())
