"""The report page's advice: the run's conditions, what to do about each missed target, and
what `requires_action` means, in words an operator reads before the charts.

Loosely typed like the rest of the page: a missing or odd field is left out, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["advice"]


def _conditions(conditions: object) -> list[str]:
    if not isinstance(conditions, Mapping):
        return []
    busy = conditions.get("cpu_busy_percent")
    lines = [
        f'<p id="conditions">Conditions: {escape(str(conditions.get("cpus")))} cores, CPU '
        f"busy {escape('n/a' if busy is None else f'{busy} %')} during the run, load average "
        f"peak {escape(str(conditions.get('load_average_peak')))}, the drill used "
        f"{escape(str(conditions.get('drill_cpu_percent_of_one_core')))} % of one core; "
        f"{escape(str(conditions.get('pressure_processes', 0)))} CPU-bound neighbour processes "
        f"(<code>--pressure</code>); the strategies ran "
        f"{escape(str(conditions.get('strategies_ran', 'one after another')))}.</p>"
    ]
    warning = conditions.get("warning")
    if isinstance(warning, str) and warning:
        lines.append(f'<p class="unmet" id="saturated"><strong>Warning:</strong> '
                     f"{escape(warning)}</p>")  # fmt: skip
    return lines


def _recommendations(targets: Sequence[Mapping[str, object]]) -> list[str]:
    items = [
        f"<li><strong>{escape(str(target.get('name')))}</strong>: "
        f"{escape(str(target['recommendation']))} "
        f"(runbook: <code>{escape(str(target.get('runbook')))}</code>)</li>"
        for target in targets
        if isinstance(target.get("recommendation"), str)
    ]
    return ['<ul id="recommendations">', *items, "</ul>"] if items else []


def advice(doc: Mapping[str, object], targets: Sequence[Mapping[str, object]]) -> str:
    """A section with the conditions, each missed target's recommendation, and explanations."""
    lines = ["<section>", "<h2>Conditions and advice</h2>"]
    lines += _conditions(doc.get("conditions"))
    lines += _recommendations(targets)
    explanations = doc.get("explanations")
    if isinstance(explanations, Mapping):
        for key, text in explanations.items():
            if isinstance(text, str):
                lines.append(f'<p class="explanation" id="explain-{escape(str(key))}">'
                             f"{escape(text)}</p>")  # fmt: skip
    lines.append("</section>")
    return "\n".join(lines) if len(lines) > 3 else ""
