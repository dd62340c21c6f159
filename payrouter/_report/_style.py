"""The report page's inline style sheet: system fonts only, colours from the Okabe-Ito set.

Inlined verbatim and allowed by its hash in the page's Content-Security-Policy, so an edit here
is picked up by the hash automatically. No `url(...)`: the page fetches nothing.
"""

from __future__ import annotations

from typing import Final

__all__ = ["STYLE"]

STYLE: Final[str] = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #595959; --line: #d0d0d0;
  --bad: #b3001b; --bad-bg: #fde7ea; --good: #00704f; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 16px 20px 40px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: var(--muted); font-weight: 600; }
.description { margin: 0 0 8px; max-width: 90ch; }
dl.scenario { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 8px 0; }
dl.scenario div { display: flex; gap: 6px; } dl.scenario dt { color: var(--muted); }
dl.scenario dd { margin: 0; font-weight: 600; }
ol.phases { margin: 4px 0; padding-left: 0; list-style: none; }
ol.phases li { margin: 2px 0; } .tag { display: inline-block; min-width: 2.4em;
  padding: 0 4px; border-radius: 3px; background: #e6e6e6; font-weight: 600; text-align: center; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th[scope="row"], td.text, th.text { text-align: left; } thead th { background: #f2f2f2; }
tbody tr:nth-child(even) { background: #fafafa; }
td.bad { color: var(--bad); background: var(--bad-bg); font-weight: 700; }
td.met { color: var(--good); font-weight: 700; } td.unmet { color: var(--bad);
  background: var(--bad-bg); font-weight: 700; } .note { color: var(--muted); font-size: 13px; }
.row, .pair { display: grid; gap: 12px; }
.row { grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); }
.pair { grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); }
figure.chart { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.plot { display: block; width: 100%; height: auto; }
svg.plot text { font-size: 11px; fill: var(--ink); }
.tick-y { text-anchor: end; } .tick-x, .bar-label, .phase-label { text-anchor: middle; }
.axis-label { text-anchor: middle; fill: var(--muted); font-size: 12px; }
.grid line { stroke: #e6e6e6; } .axis { stroke: #4d4d4d; }
.phase { fill: #7a7a7a; fill-opacity: 0.16; } svg.plot .phase-label { font-size: 10px; }
.phase-edge { stroke: #4d4d4d; stroke-width: 1; stroke-dasharray: 3 3; }
.series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg.plot .no-data { fill: var(--muted); font-style: italic; text-anchor: middle; }
svg.plot .state-label, svg.plot .segment-label { font-size: 10px; text-anchor: middle; }
svg.plot .bar-label { font-size: 10px; }
.chart-error { color: var(--bad); font-weight: 700; }
@media print { body { max-width: none; } figure.chart { break-inside: avoid; } }
"""
