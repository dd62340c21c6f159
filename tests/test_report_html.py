"""The drill report page: self-contained, inert against hostile names, drawn without errors.

Unit tests read the HTML text. Browser tests open the written file in real headless Chromium
(Debian's /usr/bin/chromium, CI-RECIPES flags) ONCE per page with `--screenshot`, `--dump-dom`
and `--enable-logging=stderr --v=0` together, and judge the page by three independent signals:

1. Console: Chromium prints every console message of the page to stderr as a `CONSOLE` line.
   Chromium 156 logs them all at INFO, whatever their console level, so "error level" cannot
   be told apart there; the page logs nothing by design, so ANY `CONSOLE` line fails the test
   (errors, warnings, logs, uncaught exceptions, and Content-Security-Policy violations such as
   a blocked network fetch or a blocked injected script). `Uncaught` anywhere fails it too.
   `test_harness_sees_console_messages` proves with a canary page that these lines really
   appear, so a Chromium that stopped logging cannot pass silently.
2. Self-report: the page's script sets `<body data-rendered="ok">` and `data-charts-drawn` only
   after every chart is drawn, catching its own failures per chart into `data-render-errors`
   (a caught error never reaches the console, so signal 1 alone would miss it).
3. The dumped DOM: every expected chart id holds drawn SVG marks (series paths, breaker bands,
   bars, outcome segments) and the strategies table holds the expected figures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import subprocess
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import pytest

from payrouter_lab.report import render_html, write_report

CHROMIUM = Path(os.environ.get("PAYROUTER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
CONSOLE_LINE = re.compile(r"CONSOLE[:(]|Uncaught")
HOSTILE = "</script><script>alert(1)</script>"
PROVIDERS = {"card_a": "card", "card_b": "card", "wallet_main": "wallet", "bank_sepa": "bank"}
PHASES = [
    (7.5, 13.5, "wallet_main", "busy", "main wallet busy"),
    (18.0, 24.0, "card_a", "timeout", "card acquirer A times out after sending"),
    (28.0, 31.0, "card_b", "http_503", "card acquirer B answers 503"),
]
TARGETS = [
    {"name": "double charges", "target": "0", "value": "0", "met": True},
    {"name": "success of possible", "target": ">= 99 %", "value": "99.7 %", "met": True},
    {"name": "attempts / payment at peak", "target": "<= 1.05", "value": "1.08", "met": False},
]


# --- a realistic report ----------------------------------------------------------------------


def _faulty(provider: str, t: float) -> bool:
    return any(start <= t < end and name == provider for start, end, name, _, _ in PHASES)


def _strategy(
    name: str, providers: list[str], rng: random.Random, seconds: int
) -> dict[str, object]:
    """One strategy's figures over `seconds` one-second buckets of 100 payments each."""
    resilient = name == "payrouter"
    timeline: list[dict[str, object]] = []
    for t in range(seconds):
        per_provider: dict[str, dict[str, int]] = {}
        per_method: dict[str, dict[str, int]] = {}
        for provider in providers:
            attempts = 0 if (resilient and _faulty(provider, t) and t % 3) else rng.randint(20, 30)
            ok_share = 0.35 if _faulty(provider, t) else 0.97
            succeeded = sum(rng.random() < ok_share for _ in range(attempts))
            failed = (attempts - succeeded) // 2
            per_provider[provider] = {
                "attempts": attempts,
                "succeeded": succeeded,
                "failed": failed,
                "unknown": attempts - succeeded - failed,
            }
            method = per_method.setdefault(PROVIDERS[provider], {"payments": 0, "succeeded": 0})
            method["payments"] += attempts
            method["succeeded"] += succeeded if not resilient else min(attempts, succeeded + 3)
        slow = 4.0 if any(_faulty(p, t) for p in providers) else 1.0
        p50 = round(rng.uniform(1.0, 1.4) * slow, 2)
        latency = {"p50": p50, "p95": round(p50 * 2.4, 2), "p99": round(p50 * 4.8, 2)}
        timeline.append(
            {"t": float(t), "providers": per_provider, "methods": per_method, "latency_ms": latency}
        )
    payments = seconds * 100
    share = {"payrouter": 0.9875, "single provider + tenacity": 0.84, "try/except chain": 0.92}
    won = round(payments * share[name])
    declined, pending = 40, 10 if resilient else 35
    failed = payments - won - declined - pending
    histogram = (
        {"1": 3880, "2": 104, "3": 16}
        if resilient
        else {"1": 3060, "2": 560, "3": 330, "4": 50}
        if name == "try/except chain"
        else {"1": 2800, "2": 700, "3": 500}
    )
    return {
        "name": name,
        "payments": payments,
        "succeeded": won,
        "declined": declined,
        "pending": pending,
        "pending_after_reconcile": 0 if resilient else None,
        "failed": failed,
        "double_charges": 3 if name == "try/except chain" else 0,
        "records_lost": 1 if name == "single provider + tenacity" else 0,
        "success_rate": won / payments,
        "success_of_possible": won / (payments - declined),
        "attempts_per_payment": 1.03 if resilient else 1.41,
        "attempts_per_payment_at_peak": 1.08 if resilient else 2.2,
        "attempts_histogram": histogram,
        "outcomes": {"succeeded": won, "declined": declined, "pending": pending, "failed": failed},
        "latency_ms": {"p50": 1.2, "p95": 3.0, "p99": 6.1}
        if resilient
        else {"p50": 1.9, "p95": 9.5, "p99": 31.0},
        "failover_added_latency_ms": {"p50": 0.4, "p99": 1.9}
        if resilient
        else {"p50": 5.5, "p99": 30.2},
        "routing": {
            "first_choice": {"card_a": 3000, "wallet_main": 1000},
            "taken": {"card_a": 2900, "wallet_main": 900},
            "fees_minor": {"card_a": 12000, "wallet_main": 345} if resilient else {"card_a": 13020},
            "fees_total_minor": 12345 if resilient else 13020,
            "fees_currency": "EUR",
            "unpriced_providers": [],
        },
        "timeline": timeline,
        "breaker_events": _breaker_events() if resilient else [],
    }


def _breaker_events() -> list[dict[str, object]]:
    changes = [
        (9.1, "wallet_main", "wallet", "closed", "open"),
        (11.1, "wallet_main", "wallet", "open", "half-open"),
        (11.3, "wallet_main", "wallet", "half-open", "open"),
        (13.3, "wallet_main", "wallet", "open", "half-open"),
        (14.0, "wallet_main", "wallet", "half-open", "closed"),
        (18.6, "card_a", "card", "closed", "open"),
        (22.6, "card_a", "card", "open", "half-open"),
        (24.1, "card_a", "card", "half-open", "closed"),
        (28.4, "card_b", "card", "closed", "open"),
        (31.5, "card_b", "card", "open", "half-open"),
        (32.0, "card_b", "card", "half-open", "closed"),
    ]
    return [
        {"t": t, "provider": provider, "method": method, "from": old, "to": new}
        for t, provider, method, old, new in changes
    ]


def build_report(seconds: int = 40, seed: int = 7) -> dict[str, object]:
    """A report shaped like docs/report-schema.md: 3 strategies, 3 phases, breaker events."""
    rng = random.Random(seed)
    every = list(PROVIDERS)
    return {
        "scenario": {
            "name": "promotion-day",
            "description": "Flash sale at 100 payments/s while providers fail one after another.",
            "seed": seed,
            "duration_seconds": float(seconds),
            "rate_per_second": 100.0,
            "payments": seconds * 100,
        },
        "phases": [
            {"start": s, "end": e, "provider": p, "fault": f, "label": label}
            for s, e, p, f, label in PHASES
        ],
        "targets": TARGETS,
        "strategies": [
            _strategy("payrouter", every, rng, seconds),
            _strategy("single provider + tenacity", ["card_a", "wallet_main"], rng, seconds),
            _strategy("try/except chain", every, rng, seconds),
        ],
    }


def expected_chart_ids(strategies: int, with_breakers: int = 1) -> set[str]:
    per_strategy = ("provider-success", "method-success", "latency")
    ids = {f"chart-{kind}-{i}" for kind in per_strategy for i in range(strategies)}
    return (
        ids
        | {f"chart-breakers-{i}" for i in range(with_breakers)}
        | {
            "chart-attempts",
            "chart-outcomes",
        }
    )


# --- reading pages ---------------------------------------------------------------------------


class Dom(HTMLParser):
    """Just enough of a DOM: every element's attributes, and the text of table cells by id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._cell_class = ""
        self._figure: str | None = None
        self.marks: dict[str, dict[str, int]] = {}
        self.source = text
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._cell_class = [], attributes.get("class", "")
        elif tag == "figure":
            self._figure = attributes.get("id", "")
            self.marks[self._figure] = {}
        if self._figure and tag in ("path", "rect", "circle", "text"):
            name = f"{tag}.{attributes.get('class', '')}"
            self.marks[self._figure][name] = self.marks[self._figure].get(name, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(("".join(self._cell).strip(), self._cell_class))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def first(self, tag: str) -> dict[str, str]:
        return next(attrs for name, attrs in self.elements if name == tag)

    def row(self, table: str, label: str) -> list[tuple[str, str]]:
        return next(cells[1:] for cells in self.tables[table] if cells and cells[0][0] == label)


def script_blocks(page: str) -> list[tuple[str, str]]:
    """(opening tag, content) of every <script> element, read the way an HTML parser would."""
    return re.findall(r"(<script\b[^>]*>)(.*?)</script", page, flags=re.DOTALL | re.IGNORECASE)


def embedded_report(page: str) -> object:
    blocks = [body for tag, body in script_blocks(page) if 'id="report-data"' in tag]
    assert len(blocks) == 1
    return json.loads(blocks[0])


def open_in_chromium(page: Path, workdir: Path) -> tuple[Dom, list[str], Path]:
    """Open `page` once in headless Chromium; the dumped DOM, console lines and screenshot."""
    if not CHROMIUM.is_file():
        pytest.skip("peer chromium: apt-get install chromium")
    screenshot = workdir / f"{page.stem}.png"
    command = [
        str(CHROMIUM),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={workdir / 'chrome-profile'}",
        "--window-size=1280,3400",
        f"--screenshot={screenshot}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    console = [line for line in done.stderr.splitlines() if CONSOLE_LINE.search(line)]
    return Dom(done.stdout), console, screenshot


def assert_drawn_cleanly(dom: Dom, console: list[str], charts: set[str]) -> dict[str, str]:
    body = dom.first("body")
    assert console == [], "\n".join(console)
    assert body.get("data-rendered") == "ok", body.get("data-render-errors")
    assert body["data-charts-drawn"] == body["data-charts-expected"] == str(len(charts))
    figures = {attrs["id"] for tag, attrs in dom.elements if tag == "figure"}
    assert figures == charts
    return body


def degenerate_reports() -> dict[str, dict[str, object]]:
    """Reports the page must survive: empty, one silent bucket, missing keys, junk values."""
    hostile = json.loads(json.dumps(build_report(seconds=6)).replace("wallet_main", HOSTILE))
    hostile["scenario"] = {"name": HOSTILE, "description": HOSTILE}
    silent_bucket = {
        "t": 0.0,
        "providers": {"card_a": {"attempts": 0, "succeeded": 0, "failed": 0, "unknown": 0}},
        "methods": {"card": {"payments": 0, "succeeded": 0}},
    }
    return {
        "empty": {},
        "single silent bucket": {
            "scenario": {"name": "blip", "duration_seconds": 0},
            "phases": [{"start": 0, "end": 0, "provider": "card_a", "fault": "busy"}],
            "strategies": [
                {
                    "name": "payrouter",
                    "payments": 0,
                    "timeline": [silent_bucket],
                    "attempts_histogram": {},
                    "outcomes": {"succeeded": 0, "failed": 0},
                    "breaker_events": [],
                }
            ],
        },
        "missing optional keys": {
            "scenario": {"name": "sparse"},
            "phases": [{"start": 2.0, "provider": "card_a"}, {"end": 3}],
            "targets": [{"name": "double charges"}],
            "strategies": [
                {"name": "payrouter", "breaker_events": [{"provider": "card_a", "to": "open"}]},
                {},
                {"timeline": [{"t": 1.0}, {"providers": {"x": {}}}]},
            ],
        },
        "junk values": {
            "scenario": {"name": 42, "duration_seconds": float("inf"), "seed": "seven"},
            "phases": "not a list",
            "targets": [{"name": None, "met": "yes"}],
            "strategies": [
                {
                    "name": "payrouter",
                    "payments": float("nan"),
                    "double_charges": "3",
                    "timeline": [
                        {"t": float("nan")},
                        {"t": 2.0, "latency_ms": {"p50": float("inf"), "p99": "slow"}},
                        {"t": 1.0, "providers": {"a": {"attempts": -1, "succeeded": 5}}},
                    ],
                    "attempts_histogram": {"1": "many", "two": 3},
                    "outcomes": {"succeeded": -4, "odd": 2},
                    "breaker_events": [{"t": 1.0, "provider": "a", "method": "b", "to": "OPEN"}],
                    "routing": {
                        "fees_minor": {"a": 12.5},
                        "fees_total_minor": "lots",
                        "fees_currency": "ZZZ",
                    },
                },
                "not a strategy",
            ],
        },
        "hostile names": hostile,
    }


# --- without a browser -----------------------------------------------------------------------


def test_hostile_names_stay_inert_text() -> None:
    """A name like `</script><script>...` is escaped in HTML and cannot close the data tag."""
    report = degenerate_reports()["hostile names"]
    page = render_html(report)
    assert [tag for tag, _ in script_blocks(page)] == [
        '<script type="application/json" id="report-data">',
        "<script>",
    ]
    assert "alert(1)" not in script_blocks(page)[1][1]
    assert "<script>alert" not in page
    assert embedded_report(page) == report
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_only_our_own_script_and_style_may_run() -> None:
    """The Content-Security-Policy allows exactly the hashes of the inline script and style."""
    page = render_html(build_report(seconds=3))
    metas = [attrs for tag, attrs in Dom(page).elements if tag == "meta"]
    policy = next(m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy")
    script = script_blocks(page)[1][1]
    style = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert style is not None
    for source, directive in ((script, "script-src"), (style.group(1), "style-src")):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none';")


def test_page_references_no_network_url() -> None:
    """Nothing is fetched: no src/href attributes, no url(), no @import, no fetch in the script."""
    page = render_html(build_report(seconds=3))
    for pattern in (r'src\s*=\s*"?http', r'href\s*=\s*"?http', r"url\(\s*['\"]?http"):
        assert re.search(pattern, page, flags=re.IGNORECASE) is None, pattern
    assert re.search(r"\b(src|href)\s*=|url\(|@import|<link|<iframe|<img", page) is None
    script = script_blocks(page)[1][1]
    for forbidden in ("fetch(", "XMLHttpRequest", "innerHTML", "console.", "eval(", "http"):
        assert forbidden not in script, forbidden


def test_strategies_sit_side_by_side_with_alarms_in_red() -> None:
    """One column per strategy; double charges and lost records above zero carry class "bad"."""
    dom = Dom(render_html(build_report(seconds=3)))
    header = [text for text, _ in dom.tables["strategies"][0]]
    assert header == ["figure", "payrouter", "single provider + tenacity", "try/except chain"]
    assert dom.row("strategies", "double charges") == [("0", ""), ("0", ""), ("3", "bad")]
    assert dom.row("strategies", "records lost") == [("0", ""), ("1", "bad"), ("0", "")]
    assert [text for text, _ in dom.row("strategies", "pending after reconcile")] == [
        "0",
        "n/a",
        "n/a",
    ]


def test_unreadable_alarm_figures_are_shown_as_is_and_in_red() -> None:
    """A double-charge count that is not a number is shown verbatim and flagged, not hidden."""
    report = {"strategies": [{"name": "p", "double_charges": "3?", "records_lost": None}]}
    dom = Dom(render_html(report))
    assert dom.row("strategies", "double charges") == [("3?", "bad")]
    assert dom.row("strategies", "records lost") == [("\u2014", "")]


def test_targets_say_met_or_not_in_words_and_colour() -> None:
    """Each target row ends in ✔ met (class met) or ✘ not met (class unmet); unknown is a dash."""
    report = build_report(seconds=3)
    report["targets"] = [*TARGETS, {"name": "unknown", "met": "yes"}]
    rows = Dom(render_html(report)).tables["targets"][1:]
    assert [row[-1] for row in rows] == [
        ("\u2714 met", "met"),
        ("\u2714 met", "met"),
        ("\u2718 not met", "unmet"),
        ("\u2014", ""),
    ]


def test_fees_read_in_major_units_of_their_currency() -> None:
    """Minor units are divided by the currency's own exponent: JPY 0, EUR 2, KWD 3."""

    def fees(currency: str, total: int) -> dict[str, object]:
        routing = {"fees_minor": {"a": total}, "fees_total_minor": total, "fees_currency": currency}
        return {"name": currency, "routing": routing}

    report = {"strategies": [fees("EUR", 12345), fees("JPY", 900), fees("KWD", 1500)]}
    assert Dom(render_html(report)).row("strategies", "fees paid") == [
        ("123.45 EUR (a 123.45 EUR)", ""),
        ("900 JPY (a 900 JPY)", ""),
        ("1.500 KWD (a 1.500 KWD)", ""),
    ]


def test_charts_are_laid_out_per_strategy() -> None:
    """Three time charts per strategy, breakers where there are events, two summary charts."""
    dom = Dom(render_html(build_report(seconds=3)))
    figures = {attrs["id"] for tag, attrs in dom.elements if tag == "figure"}
    assert figures == expected_chart_ids(3)


@pytest.mark.parametrize("case", list(degenerate_reports()))
def test_degenerate_reports_render_and_embed_strict_json(case: str) -> None:
    """Empty or junk reports render with dashes; the embedded JSON has no NaN or Infinity."""
    page = render_html(degenerate_reports()[case])

    def refuse(constant: str) -> object:
        raise AssertionError(f"non-standard JSON constant {constant}")

    blocks = [body for tag, body in script_blocks(page) if 'id="report-data"' in tag]
    json.loads(blocks[0], parse_constant=refuse)
    assert 'data-rendered="pending"' in page


def test_empty_report_says_what_is_missing() -> None:
    """With no data the page states it instead of drawing empty tables silently."""
    page = render_html({})
    assert "no strategies in this report" in page
    assert "no targets in this report" in page
    assert "No fault phases" in page
    assert {attrs["id"] for tag, attrs in Dom(page).elements if tag == "figure"} == {
        "chart-attempts",
        "chart-outcomes",
    }


def test_write_report_writes_json_and_html(tmp_path: Path) -> None:
    """Both files land in the folder; the JSON is the report, the HTML is render_html of it."""
    report = build_report(seconds=3)
    json_path, html_path = write_report(report, tmp_path / "drill")
    assert (json_path.name, html_path.name) == ("report.json", "report.html")
    assert json.loads(json_path.read_text(encoding="utf-8")) == report
    assert html_path.read_text(encoding="utf-8") == render_html(report)


# --- in headless Chromium --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.peer("chromium")
def test_realistic_report_draws_every_chart_in_chromium(tmp_path: Path) -> None:
    """40 buckets, 3 strategies, 3 phases: every chart drawn, no console line, figures shown."""
    report = build_report()
    _, page = write_report(report, tmp_path)
    dom, console, screenshot = open_in_chromium(page, tmp_path)
    assert_drawn_cleanly(dom, console, expected_chart_ids(3))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 100_000  # a blank 1280x3400 page is ~20 KB
    marks = dom.marks
    for i in range(3):
        assert marks[f"chart-provider-success-{i}"]["rect.phase"] == len(PHASES)
        assert marks[f"chart-provider-success-{i}"]["path.series"] >= 2
        assert marks[f"chart-method-success-{i}"]["path.series"] >= 2
        assert marks[f"chart-latency-{i}"]["path.series"] == 3
    assert marks["chart-breakers-0"]["rect.state"] == len(_breaker_events()) + 3  # + 1 per row
    assert marks["chart-attempts"]["rect.bar"] == 10
    outcomes = [s["outcomes"].values() for s in report["strategies"]]  # type: ignore[attr-defined]
    assert marks["chart-outcomes"]["rect.segment"] == sum(n > 0 for o in outcomes for n in o)
    assert dom.row("strategies", "payments") == [("4,000", "")] * 3
    assert dom.row("strategies", "double charges")[2] == ("3", "bad")
    assert dom.row("strategies", "latency p99")[0] == ("6.10 ms", "")
    assert dom.row("strategies", "fees paid")[0] == (
        "123.45 EUR (card_a 120.00 EUR, wallet_main 3.45 EUR)",
        "",
    )
    assert dom.row("strategies", "first provider called")[0] == (
        "card_a 3,000, wallet_main 1,000",
        "",
    )


@pytest.mark.slow
@pytest.mark.peer("chromium")
@pytest.mark.parametrize("case", list(degenerate_reports()))
def test_degenerate_reports_draw_without_errors_in_chromium(case: str, tmp_path: Path) -> None:
    """Empty timelines, one silent bucket, missing keys, junk and hostile names draw cleanly."""
    report = degenerate_reports()[case]
    _, page = write_report(report, tmp_path)
    dom, console, screenshot = open_in_chromium(page, tmp_path)
    listed = report.get("strategies")
    count = sum(isinstance(s, Mapping) for s in listed) if isinstance(listed, list) else 0
    assert_drawn_cleanly(dom, console, expected_chart_ids(count, min(1, count)))
    assert screenshot.stat().st_size > 5_000


@pytest.mark.slow
@pytest.mark.peer("chromium")
def test_harness_sees_console_messages_and_blocked_scripts(tmp_path: Path) -> None:
    """Canaries: a console.warn shows as a CONSOLE line; an injected script is blocked and seen."""
    canary = tmp_path / "canary.html"
    canary.write_text("<!DOCTYPE html><title>c</title><script>console.warn('canary')</script>")
    _, console, _ = open_in_chromium(canary, tmp_path)
    assert any("canary" in line for line in console), console

    injected = tmp_path / "injected.html"
    page = render_html(build_report(seconds=3))
    injected.write_text(page.replace("</body>", "<script>document.title='pwned'</script></body>"))
    dom, console, _ = open_in_chromium(injected, tmp_path)
    assert any("Content Security Policy" in line for line in console), console
    assert "<title>pwned" not in dom.source
    assert dom.first("body")["data-rendered"] == "ok"


@pytest.mark.slow
@pytest.mark.peer("chromium")
def test_fault_labels_never_overlap_and_whole_run_faults_are_named_not_shaded(
    tmp_path: Path,
) -> None:
    """Three faults starting within a second of each other take separate label rows; a fault
    lasting the whole run is named above each timeline instead of shading all of it."""
    report = build_report()
    duration = report["scenario"]["duration_seconds"]  # type: ignore[index]
    report["phases"] = [
        {"start": 10.0, "end": 10.6, "provider": "card_a", "fault": "busy"},
        {"start": 10.2, "end": 10.8, "provider": "card_b", "fault": "http_503"},
        {"start": 10.4, "end": 11.0, "provider": "wallet_main", "fault": "timeout"},
        {"start": 0.0, "end": duration, "provider": "card_b", "fault": "latency"},
    ]
    _, page = write_report(report, tmp_path)
    dom, console, _ = open_in_chromium(page, tmp_path)
    assert_drawn_cleanly(dom, console, expected_chart_ids(3))
    chart = dom.marks["chart-provider-success-0"]
    assert chart["rect.phase"] == 3  # the whole-run fault has no band
    assert chart["text.phase-whole"] == 1
    labels: dict[str, list[tuple[float, float]]] = {}
    figure = ""
    for tag, attributes in dom.elements:
        if tag == "figure":
            figure = attributes.get("id", "")
        elif tag == "text" and attributes.get("class") == "phase-label":
            labels.setdefault(figure, []).append((float(attributes["x"]), float(attributes["y"])))
    assert len(labels["chart-provider-success-0"]) == 3
    label_width = 14.0  # "P1" at 10 px
    for placed in labels.values():
        for i, (x, y) in enumerate(placed):
            for other_x, other_y in placed[i + 1 :]:
                assert other_y != y or abs(other_x - x) >= label_width, (x, y, other_x, other_y)
