"""The providers' specs travel with the repository, each under its publisher's licence notice.

A fresh clone runs every contract test with nothing beside it: the tests read `specs/` unless
`PAYROUTER_SPECS_DIR` says otherwise. The Prism cut-downs are kept next to their originals, and
re-deriving them with the vendored tools gives the same documents, so neither can drift.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import peers

VENDORED = Path(__file__).resolve().parents[1] / "specs"
ORIGINALS = (
    "stripe/spec3.json",
    "adyen/CheckoutService-v72.json",
    "paypal/checkout_orders_v2.json",
    "berlingroup/psd2-api_v1.3.11.json",
)


def test_every_spec_the_tests_read_is_vendored_with_a_licence_notice() -> None:
    """Each spec a contract or schema test opens is in specs/, its folder carrying a LICENSE."""
    needed = {*ORIGINALS, *peers.PRISM_SPECS.values()}
    for name in sorted(needed):
        assert (VENDORED / name).is_file(), f"specs/{name} is not vendored"
        notice = (VENDORED / name).parent / "LICENSE"
        assert notice.is_file(), f"{notice} missing"
        assert Path(name).name in notice.read_text(), f"{notice} does not name {name}"
    for tool in ("prune_openapi.py", "derive_for_prism.py", "sanitize_for_prism.js"):
        assert (VENDORED / "tools" / tool).is_file()


def test_specs_are_read_from_the_repository_unless_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without PAYROUTER_SPECS_DIR the tests read the in-repository copy."""
    monkeypatch.delenv("PAYROUTER_SPECS_DIR", raising=False)
    code = "from tests import peers; print(peers.SPECS_DIR)"
    root = VENDORED.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True
    )
    assert Path(out.stdout.strip()) == VENDORED


def _tool(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=120)


def _load(path: Path) -> object:
    return json.loads(path.read_text())


def test_prism_cut_downs_are_what_the_vendored_tools_make_of_the_originals(
    tmp_path: Path,
) -> None:
    """Each *.prism.json equals the output of the tools in specs/tools on its original."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("peer node: absent (Prism needs it too)")
    tools, py = VENDORED / "tools", sys.executable
    _tool(py, tools / "derive_for_prism.py", VENDORED / ORIGINALS[1], tmp_path / "adyen.json",
          "--prefix", "/v72")  # fmt: skip
    _tool(py, tools / "prune_openapi.py", VENDORED / ORIGINALS[0], tmp_path / "stripe.json",
          "--paths", "^/v1/payment_intents", "^/v1/refunds",
          "--stub-expandables", "--drop-encoding")  # fmt: skip
    _tool(node, tools / "sanitize_for_prism.js", VENDORED / ORIGINALS[2], tmp_path / "pp.json")
    _tool(py, tools / "derive_for_prism.py", tmp_path / "pp.json", tmp_path / "paypal.json",
          "--drop-header", "Prefer")  # fmt: skip
    _tool(node, tools / "sanitize_for_prism.js", VENDORED / ORIGINALS[3],
          tmp_path / "berlingroup.json")  # fmt: skip
    for provider, cut_down in peers.PRISM_SPECS.items():
        made = _load(tmp_path / f"{provider}.json")
        assert made == _load(VENDORED / cut_down), f"specs/{cut_down} differs from its derivation"
