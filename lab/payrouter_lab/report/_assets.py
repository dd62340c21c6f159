"""The report page's script and style sheet, read from the package files beside this module.

`report.js` is vanilla JavaScript drawing SVG, no library, no fetch. It reads the report JSON
embedded in the page, draws every `<figure data-chart>` as SVG (charts laid out by `_page`),
sets only `textContent` and attributes (never HTML), and marks `<body data-rendered="ok"
data-charts-drawn="N">` once every chart is drawn; a chart that fails gets a visible note and
`data-rendered="error"`. `report.css` uses system fonts and the Okabe-Ito colours, and no
`url(...)`: the page fetches nothing. Both are inlined verbatim and allowed by their hashes in the
page's Content-Security-Policy, so an edit to either file is picked up automatically. They are
files, not Python strings, so editors, linters and diffs treat them as what they are.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

__all__ = ["SCRIPT", "STYLE"]

_HERE = files(__package__ or "payrouter_lab.report")
SCRIPT: Final[str] = _HERE.joinpath("report.js").read_text(encoding="utf-8")
STYLE: Final[str] = _HERE.joinpath("report.css").read_text(encoding="utf-8")
