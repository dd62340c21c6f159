"""The drill report as one self-contained HTML page that opens offline and fetches nothing.

Python writes the text an operator reads first (scenario, fault phases, targets, strategies side
by side), so those figures show even with scripts off. A small inline script draws the charts as
SVG from the report JSON embedded in the page (`_assets.SCRIPT`). The page's
Content-Security-Policy allows only the hashes of our own style and script and no source at
all, so the browser makes no network request, and an injected script would not run even if
escaping ever failed. Escaping is the first line: every text goes through `html.escape`, and the
embedded JSON has `<`, `>` and `&` as `\\u003c`-style escapes, so no value can close its tag.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._advice import advice
from ._assets import SCRIPT, STYLE
from ._format import (
    _DASH,
    _count,
    _count_or_na,
    _e,
    _fees,
    _items,
    _mapping,
    _ms,
    _number,
    _percent,
    _plain,
    _ratio,
    _script_json,
    _seconds,
    _sha256,
    _tally,
    _text,
)

__all__ = ["render_html", "write_report"]

_BAD: Final = ' class="bad"'
# `met` is a JSON boolean; anything else (missing, "yes", 1) is shown as unknown, not guessed.
_VERDICTS: Final[Mapping[object, tuple[str, str]]] = {
    True: ("met", "\u2714 met"),
    False: ("unmet", "\u2718 not met"),
}


def render_html(report: Mapping[str, object]) -> str:
    """The report page for a `report.json` dict (see docs/report-schema.md).

    Missing keys, wrong types and non-finite numbers are shown as a dash, never raised: the
    page is written after a drill, when a crash would lose the only view of what happened.
    """
    data = _plain(report)
    doc = _mapping(data)
    strategies = _items(doc.get("strategies"))
    scenario = _mapping(doc.get("scenario"))
    title = f"payrouter drill: {_text(scenario.get('name')) or 'unnamed scenario'}"
    csp = (
        f"default-src 'none'; script-src '{_sha256(SCRIPT)}'; style-src '{_sha256(STYLE)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            '<body data-rendered="pending">',
            _header(scenario, _items(doc.get("phases"))),
            _targets(_items(doc.get("targets"))),
            advice(doc, _items(doc.get("targets"))),
            _strategies_table(strategies),
            _charts(strategies),
            f'<script type="application/json" id="report-data">{_script_json(data)}</script>',
            f"<script>{SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(report: Mapping[str, object], folder: Path) -> tuple[Path, Path]:
    """Write `report.json` and `report.html` into `folder` (created if missing).

    Both are drawn from the same cleaned data: non-finite numbers become `null`, since JSON
    has no NaN and the page must parse what the file holds.

    Returns:
        The paths of `report.json` and `report.html`, in that order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "report.json", folder / "report.html"
    json_path.write_text(json.dumps(_plain(report), indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


# --- sections ------------------------------------------------------------------------------


def _header(scenario: Mapping[str, object], phases: list[Mapping[str, object]]) -> str:
    facts = [
        ("seed", _count(scenario.get("seed"))),
        ("duration", _seconds(scenario.get("duration_seconds"))),
        ("rate", f"{_count(scenario.get('rate_per_second'))} payments/s"),
        ("payments", _count(scenario.get("payments"))),
    ]
    lines = [
        "<header>",
        f"<h1>Drill report: {_e(scenario.get('name')) or 'unnamed scenario'}</h1>",
        f'<p class="description">{_e(scenario.get("description"))}</p>',
        '<dl class="scenario">',
        *(f"<div><dt>{name}</dt><dd>{_e(value)}</dd></div>" for name, value in facts),
        "</dl>",
        "<h2>Fault phases</h2>",
    ]
    if not phases:
        lines.append('<p class="note">No fault phases: a calm-traffic drill.</p>')
    else:
        lines.append('<ol class="phases" id="phases">')
        for number, phase in enumerate(phases, start=1):
            span = f"{_seconds(phase.get('start'))} to {_seconds(phase.get('end'))}"
            lines.append(
                f'<li><span class="tag">P{number}</span> {_e(span)}: '
                f"<strong>{_e(phase.get('provider'))}</strong> {_e(phase.get('fault'))}"
                f"{' (' + _e(phase.get('label')) + ')' if phase.get('label') else ''}</li>"
            )
        lines.append("</ol>")
    lines.append("</header>")
    return "\n".join(lines)


def _targets(targets: list[Mapping[str, object]]) -> str:
    rows = []
    for target in targets:
        verdict = _VERDICTS.get(target.get("met"), ("", _DASH))
        rows.append(
            f'<tr><th scope="row">{_e(target.get("name"))}</th>'
            f"<td>{_e(target.get('target'))}</td><td>{_e(target.get('value'))}</td>"
            f'<td class="{verdict[0]}">{verdict[1]}</td></tr>'
        )
    if not rows:
        rows.append(f'<tr><td class="text" colspan="4">{_DASH} no targets in this report</td></tr>')
    return "\n".join(
        [
            "<section>",
            "<h2>Targets</h2>",
            '<table id="targets"><thead><tr><th class="text">target</th><th>wanted</th>'
            "<th>measured</th><th>met</th></tr></thead><tbody>",
            *rows,
            "</tbody></table>",
            "</section>",
        ]
    )


@dataclass(frozen=True, slots=True)
class _Row:
    """One line of the strategies table: where the figure lives and how it reads."""

    label: str
    path: tuple[str, ...]
    show: Callable[[object], str]
    alarm: bool = False  # any value above zero is shown in red: money or records went wrong


_ROWS: Final[tuple[_Row, ...]] = (
    _Row("payments", ("payments",), _count),
    _Row("succeeded", ("succeeded",), _count),
    _Row("declined", ("declined",), _count),
    _Row("pending", ("pending",), _count),
    _Row("pending after reconcile", ("pending_after_reconcile",), _count_or_na),
    _Row("failed", ("failed",), _count),
    _Row("of them shed at admission", ("shed_at_admission",), _count_or_na),
    _Row("served after the checkout's deadline", ("served_late",), _count),
    _Row("double charges", ("double_charges",), _count, alarm=True),
    _Row("records lost", ("records_lost",), _count, alarm=True),
    _Row("success rate", ("success_rate",), _percent),
    _Row("success of possible", ("success_of_possible",), _percent),
    _Row("attempts / payment", ("attempts_per_payment",), _ratio),
    _Row("attempts / payment at peak", ("attempts_per_payment_at_peak",), _ratio),
    _Row("latency p50", ("latency_ms", "p50"), _ms),
    _Row("latency p95", ("latency_ms", "p95"), _ms),
    _Row("latency p99", ("latency_ms", "p99"), _ms),
    _Row("failover added latency p50", ("failover_added_latency_ms", "p50"), _ms),
    _Row("failover added latency p99", ("failover_added_latency_ms", "p99"), _ms),
    _Row("card failovers needed", ("card_failovers", "needed"), _count_or_na),
    _Row("card failovers possible", ("card_failovers", "possible"), _count_or_na),
    _Row("of them made", ("card_failovers", "made"), _count_or_na),
    _Row("card failovers not possible, why", ("card_failovers", "not_possible"), _tally),
    _Row("first provider called", ("routing", "first_choice"), _tally),
    _Row("took the payment", ("routing", "taken"), _tally),
    _Row("fees paid", ("routing",), _fees),
    _Row("customers who approved", ("customers", "approved"), _count_or_na),
    _Row("customers who abandoned", ("customers", "abandoned"), _count_or_na),
    _Row("approved, then paid", ("customers", "approved_and_paid"), _count_or_na),
)


def _dig(strategy: Mapping[str, object], path: tuple[str, ...]) -> object:
    value: object = strategy
    for key in path:
        value = _mapping(value).get(key)
    return value


def _strategies_table(strategies: list[Mapping[str, object]]) -> str:
    head = "".join(f'<th scope="col">{_e(_name(s, i))}</th>' for i, s in enumerate(strategies))
    rows = []
    for row in _ROWS:
        cells = []
        for strategy in strategies:
            value = _dig(strategy, row.path)
            number = _number(value)
            alarm = row.alarm and (number > 0 if number is not None else value is not None)
            cells.append(f"<td{_BAD if alarm else ''}>{_e(row.show(value))}</td>")
        rows.append(f'<tr><th scope="row">{row.label}</th>{"".join(cells)}</tr>')
    note = (
        '<p class="note">The first column is payrouter; the others replay the same traffic. '
        "Double charges and lost records above zero are shown in red.</p>"
        if strategies
        else f'<p class="note">{_DASH} no strategies in this report</p>'
    )
    return "\n".join(
        [
            "<section>",
            "<h2>Strategies side by side</h2>",
            note,
            f'<table id="strategies"><thead><tr><th class="text">figure</th>{head}</tr></thead>',
            "<tbody>",
            *rows,
            "</tbody></table>",
            "</section>",
        ]
    )


def _name(strategy: Mapping[str, object], index: int) -> str:
    return _text(strategy.get("name")) or f"strategy {index + 1}"


def _figure(kind: str, caption: str, index: int | None = None) -> str:
    ident = f"chart-{kind}" if index is None else f"chart-{kind}-{index}"
    return (
        f'<figure class="chart" id="{ident}" data-chart="{kind}" data-strategy="{index or 0}">'
        f"<figcaption>{_e(caption)}</figcaption>"
        f'<svg class="plot" role="img" aria-label="{_e(caption)}"></svg></figure>'
    )


def _charts(strategies: list[Mapping[str, object]]) -> str:
    names = [_name(s, i) for i, s in enumerate(strategies)]
    with_breakers = [i for i, s in enumerate(strategies) if _items(s.get("breaker_events"))]

    def row(kind: str, caption: str) -> str:
        figures = (_figure(kind, f"{caption}: {name}", i) for i, name in enumerate(names))
        return f'<div class="row">{"".join(figures)}</div>'

    if not with_breakers and strategies:
        with_breakers = [0]  # an empty timeline still says "no breaker state changes"
    breaker_figures = [
        _figure("breakers", f"Breaker state per provider \u00d7 method: {names[i]}", i)
        for i in with_breakers
    ]
    return "\n".join(
        [
            "<section>",
            "<h2>Success rate over time</h2>",
            '<p class="note">Shaded bands are the fault phases (P1, P2, ... above). Buckets '
            "with no attempts leave a gap instead of a made-up rate.</p>",
            "<h3>Per provider: succeeded / attempts</h3>",
            row("provider-success", "Success rate per provider"),
            "<h3>Per payment method: succeeded / payments</h3>",
            row("method-success", "Success rate per method"),
            "<h2>Circuit breakers</h2>",
            '<p class="note">Baselines have no breakers, so only strategies with breaker '
            "events get a timeline.</p>",
            *breaker_figures,
            "<h2>Latency over time</h2>",
            row("latency", "Latency percentiles"),
            "<h2>Attempts and outcomes</h2>",
            '<div class="pair">',
            _figure("attempts", "Attempts per payment, per strategy"),
            _figure("outcomes", "Outcome mix per strategy"),
            "</div>",
            "</section>",
        ]
    )
