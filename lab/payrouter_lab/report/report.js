
(function () {
  "use strict";
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
    "#999999"];
  var DASHES = ["", "7 3", "2 3", "9 3 2 3"];
  var STATES = {closed: "#009E73", "half-open": "#E69F00", open: "#D55E00"};
  var OUTCOMES = {succeeded: "#009E73", declined: "#E69F00", pending: "#56B4E9",
    failed: "#D55E00"};
  var LATENCY = [["p50", "#0072B2", ""], ["p95", "#E69F00", "7 3"], ["p99", "#D55E00", "2 3"]];
  var TIME = "seconds since drill start";
  var scenario, strategies, phases, width, xMax;

  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function obj(v) { return isObj(v) ? v : {}; }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
  function str(v) { return v === null || v === undefined ? "" : String(v); }
  function ratio(a, b) {
    a = num(a); b = num(b);
    return a !== null && b !== null && b > 0 ? a / b : null;
  }
  function pct(v) { return Math.round(v * 100) + " %"; }
  function fmt(v) {
    return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en") : String(+v.toFixed(3));
  }
  function style(i) {
    return {color: PALETTE[i % PALETTE.length],
      dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length]};
  }
  function strategyName(s, i) { return str(s.name) || "strategy " + (i + 1); }

  function add(parent, name, attrs, text) {
    var node = document.createElementNS(parent.namespaceURI, name);
    Object.keys(attrs || {}).forEach(function (key) {
      var v = attrs[key];
      if (v !== null && v !== undefined && v !== "") { node.setAttribute(key, String(v)); }
    });
    if (text !== undefined) { node.textContent = text; }
    parent.appendChild(node);
    return node;
  }

  function ticks(lo, hi, count) {
    var span = hi - lo;
    if (!(span > 0)) { return [lo]; }
    var step = Math.pow(10, Math.floor(Math.log10(span / count)));
    var err = span / count / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.round(v / step) * step);
    }
    return out;
  }
  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var t = ticks(0, v, 5), last = t[t.length - 1];
    return last >= v ? last : last + (t.length > 1 ? t[1] - t[0] : v);
  }

  function buckets(s) {
    return arr(s.timeline).map(obj).filter(function (b) { return num(b.t) !== null; })
      .sort(function (a, b) { return a.t - b.t; });
  }
  function names(key) {
    var seen = new Set();
    strategies.forEach(function (s) {
      buckets(s).forEach(function (b) { Object.keys(obj(b[key])).forEach(function (n) {
        seen.add(n);
      }); });
    });
    return Array.from(seen).sort();
  }

  function frame(svg, o) {
    var f = {pl: o.left || 56, pr: o.w - 24};
    f.x = function (v) { return f.pl + Math.max(0, Math.min(1, v / o.xMax)) * (f.pr - f.pl); };
    // Faults lasting the whole run are named above the chart, not shaded over all of it; timed
    // faults get a band each, and their labels take the first row where they overlap nothing.
    var whole = o.time ? phases.filter(function (p) { return p.whole; }) : [];
    var rowEnds = [], placed = [];
    (o.time ? phases : []).forEach(function (p) {
      var x0 = f.x(p.start), x1 = f.x(p.end);
      if (p.whole || x1 <= x0) { return; }
      var cx = (x0 + x1) / 2, half = ("P" + p.n).length * 3.5 + 3, row = 0;
      while (rowEnds[row] !== undefined && rowEnds[row] > cx - half) { row += 1; }
      rowEnds[row] = cx + half;
      placed.push({p: p, x0: x0, x1: x1, cx: cx, row: row});
    });
    var top = whole.length ? 26 : 12;
    f.pt = top + 12 * rowEnds.length + (rowEnds.length ? 2 : 0);
    f.pb = f.pt + o.plotH;
    f.y = function (v) { return f.pb - Math.max(0, Math.min(1, v / o.yMax)) * (f.pb - f.pt); };
    if (whole.length) {
      add(svg, "text", {x: f.pl, y: 16, "class": "phase-whole"}, "whole run: " + whole
        .map(function (p) { return "P" + p.n + " " + p.text; }).join("; "));
    }
    placed.forEach(function (l) {
      var band = add(svg, "rect", {x: l.x0, y: f.pt, width: l.x1 - l.x0, height: o.plotH,
        "class": "phase"});
      add(band, "title", {}, "P" + l.p.n + " " + l.p.text);
      add(svg, "text", {x: l.cx, y: top + 12 * l.row + 9, "class": "phase-label"}, "P" + l.p.n);
    });
    f.timed = placed.length;
    var grid = add(svg, "g", {"class": "grid"});
    (o.yTicks || ticks(0, o.yMax, 5)).forEach(function (v) {
      add(grid, "line", {x1: f.pl, x2: f.pr, y1: f.y(v), y2: f.y(v)});
      add(svg, "text", {x: f.pl - 6, y: f.y(v) + 4, "class": "tick-y"}, (o.yFmt || fmt)(v));
    });
    if (o.xTicks !== false) {
      (o.xTicks || ticks(0, o.xMax, 8)).forEach(function (v) {
        add(svg, "line", {x1: f.x(v), x2: f.x(v), y1: f.pb, y2: f.pb + 4, "class": "axis"});
        add(svg, "text", {x: f.x(v), y: f.pb + 16, "class": "tick-x"}, (o.xFmt || fmt)(v));
      });
    }
    add(svg, "line", {x1: f.pl, x2: f.pr, y1: f.pb, y2: f.pb, "class": "axis"});
    add(svg, "line", {x1: f.pl, x2: f.pl, y1: f.pt, y2: f.pb, "class": "axis"});
    add(svg, "text", {x: (f.pl + f.pr) / 2, y: f.pb + 33, "class": "axis-label"}, o.xLabel);
    if (o.yLabel) {
      var my = (f.pt + f.pb) / 2;
      add(svg, "text", {x: 13, y: my, transform: "rotate(-90 13 " + my + ")",
        "class": "axis-label"}, o.yLabel);
    }
    f.finish = function (items) {
      if (o.time) {
        phases.forEach(function (p) {
          [p.start, p.end].forEach(function (t) {
            if (t <= 0 || t >= o.xMax) { return; }
            add(svg, "line", {x1: f.x(t), x2: f.x(t), y1: f.pt, y2: f.pb, "class": "phase-edge"});
          });
        });
      }
      if (o.time && f.timed) {
        items = items.concat([{name: "fault phase (P1, P2, ...)", color: "#7a7a7a",
          opacity: 0.3}]);
      }
      var x = f.pl, y = f.pb + 50;
      items.forEach(function (it) {
        var w = 38 + it.name.length * 6.4;
        if (x > f.pl && x + w > o.w) { x = f.pl; y += 17; }
        if (it.line) {
          add(svg, "line", {x1: x, x2: x + 20, y1: y, y2: y, stroke: it.color,
            "stroke-width": 2.5, "stroke-dasharray": it.dash});
        } else {
          add(svg, "rect", {x: x, y: y - 6, width: 20, height: 12, fill: it.color,
            "fill-opacity": it.opacity});
        }
        add(svg, "text", {x: x + 25, y: y + 4, "class": "legend-text"}, it.name);
        x += w;
      });
      svg.setAttribute("viewBox", "0 0 " + o.w + " " + (y + 12));
    };
    f.empty = function (message) {
      add(svg, "text", {x: (f.pl + f.pr) / 2, y: (f.pt + f.pb) / 2, "class": "no-data"},
        message || "no data");
    };
    return f;
  }

  function lineChart(svg, series, o) {
    var f = frame(svg, o), shown = [];
    series.forEach(function (s) {
      var d = "", pts = s.points;
      pts.forEach(function (p, i) {
        if (p.y === null) { return; }
        var before = i > 0 && pts[i - 1].y !== null;
        var after = i + 1 < pts.length && pts[i + 1].y !== null;
        d += (before ? "L" : "M") + f.x(p.x).toFixed(1) + "," + f.y(p.y).toFixed(1);
        if (!before && !after) {
          var dot = add(svg, "circle", {cx: f.x(p.x), cy: f.y(p.y), r: 3, fill: s.color,
            "class": "point"});
          add(dot, "title", {}, s.name + ": " + (o.yFmt || fmt)(p.y));
        }
      });
      if (!d) { return; }
      var path = add(svg, "path", {d: d, stroke: s.color, "stroke-dasharray": s.dash,
        "class": "series"});
      add(path, "title", {}, s.name);
      shown.push({name: s.name, color: s.color, dash: s.dash, line: true});
    });
    if (!shown.length) { f.empty(); }
    f.finish(shown);
  }

  function rateChart(svg, s, key, denominator, yLabel) {
    var list = buckets(s);
    lineChart(svg, names(key).map(function (n, i) {
      var st = style(i);
      return {name: n, color: st.color, dash: st.dash, points: list.map(function (b) {
        var c = obj(obj(b[key])[n]);
        return {x: b.t + width / 2, y: ratio(c.succeeded, c[denominator])};
      })};
    }), {w: 400, plotH: 170, xMax: xMax, yMax: 1, yTicks: [0, 0.25, 0.5, 0.75, 1], yFmt: pct,
      xLabel: TIME, yLabel: yLabel, time: true});
  }

  function latencyMax() {
    var m = 0;
    strategies.forEach(function (s) { buckets(s).forEach(function (b) {
      LATENCY.forEach(function (l) { m = Math.max(m, num(obj(b.latency_ms)[l[0]]) || 0); });
    }); });
    return niceMax(m);
  }

  function state(v) {
    var s = str(v).toLowerCase().replace(/[_ ]/g, "-");
    return s === "halfopen" ? "half-open" : s;
  }

  function breakers(svg, s) {
    var rows = new Map();
    arr(s.breaker_events).map(obj).filter(function (e) { return num(e.t) !== null; })
      .sort(function (a, b) { return a.t - b.t; }).forEach(function (e) {
        var key = str(e.provider) + " \u00d7 " + str(e.method);
        if (!rows.has(key)) { rows.set(key, []); }
        rows.get(key).push(e);
      });
    var keys = Array.from(rows.keys()).sort(), rowH = 24;
    var longest = keys.reduce(function (m, k) { return Math.max(m, k.length); }, 0);
    var f = frame(svg, {w: 1000, plotH: Math.max(1, keys.length) * rowH, xMax: xMax, yMax: 1,
      yTicks: [], left: Math.min(260, Math.max(80, longest * 6.4 + 14)), xLabel: TIME,
      time: true});
    keys.forEach(function (key, r) {
      var top = f.pt + r * rowH + 3, list = rows.get(key);
      var current = state(list[0].from) || "closed", from = 0;
      list.concat([null]).forEach(function (e) {
        var to = e ? Math.min(e.t, xMax) : xMax;
        if (to > from) {
          var x0 = f.x(from), x1 = f.x(to);
          var band = add(svg, "rect", {x: x0, y: top, width: x1 - x0, height: rowH - 6,
            fill: STATES[current] || "#999999", "class": "state"});
          add(band, "title", {}, key + ": " + current + " " + fmt(from) + "-" + fmt(to) + " s");
          if (x1 - x0 > current.length * 6 + 8) {
            add(svg, "text", {x: (x0 + x1) / 2, y: top + rowH / 2 + 1, "class": "state-label"},
              current);
          }
        }
        if (e) { current = state(e.to) || current; from = Math.max(from, e.t); }
      });
      add(svg, "text", {x: f.pl - 6, y: top + rowH / 2, "class": "tick-y"}, key);
    });
    if (!keys.length) { f.empty("no breaker state changes"); }
    f.finish(Object.keys(STATES).map(function (k) { return {name: k, color: STATES[k]}; }));
  }

  function attempts(svg) {
    var seen = new Set();
    strategies.forEach(function (s) { Object.keys(obj(s.attempts_histogram)).forEach(
      function (k) { seen.add(k); }); });
    var cats = Array.from(seen).sort(function (a, b) {
      var x = parseFloat(a), y = parseFloat(b);
      if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y) || (a < b ? -1 : a > b ? 1 : 0); }
      return x - y;
    });
    var top = 0;
    strategies.forEach(function (s) { cats.forEach(function (c) {
      top = Math.max(top, num(obj(s.attempts_histogram)[c]) || 0);
    }); });
    var f = frame(svg, {w: 560, plotH: 200, xMax: 1, yMax: niceMax(top), xTicks: false,
      xLabel: "attempts per payment", yLabel: "payments"});
    var n = Math.max(1, strategies.length), gw = (f.pr - f.pl) / Math.max(1, cats.length);
    var bw = Math.min(44, (gw * 0.8) / n);
    cats.forEach(function (c, i) {
      var gx = f.pl + gw * i + (gw - bw * n) / 2;
      strategies.forEach(function (s, j) {
        var v = num(obj(s.attempts_histogram)[c]);
        if (v === null || v <= 0) { return; }
        var bar = add(svg, "rect", {x: gx + j * bw, y: f.y(v), width: Math.max(1, bw - 2),
          height: f.pb - f.y(v), fill: style(j).color, "class": "bar"});
        add(bar, "title", {}, strategyName(s, j) + ": " + fmt(v) + " with " + c + " attempt(s)");
        if (bw >= 20) {
          add(svg, "text", {x: gx + j * bw + bw / 2 - 1, y: f.y(v) - 3, "class": "bar-label"},
            fmt(v));
        }
      });
      add(svg, "text", {x: gx + (bw * n) / 2, y: f.pb + 16, "class": "tick-x"}, c);
    });
    if (!cats.length) { f.empty(); }
    f.finish(strategies.map(function (s, j) {
      return {name: strategyName(s, j), color: style(j).color};
    }));
  }

  function outcomes(svg) {
    var keys = Object.keys(OUTCOMES);
    strategies.forEach(function (s) { Object.keys(obj(s.outcomes)).forEach(function (k) {
      if (keys.indexOf(k) < 0) { keys.push(k); }
    }); });
    var colour = function (k, i) { return OUTCOMES[k] || style(i + 4).color; };
    var longest = strategies.reduce(function (m, s, i) {
      return Math.max(m, strategyName(s, i).length);
    }, 0), rowH = 30;
    var f = frame(svg, {w: 560, plotH: Math.max(1, strategies.length) * rowH, xMax: 1, yMax: 1,
      yTicks: [], xTicks: [0, 0.25, 0.5, 0.75, 1], xFmt: pct, xLabel: "share of payments",
      left: Math.min(220, Math.max(60, longest * 6.4 + 14))});
    strategies.forEach(function (s, r) {
      var counts = obj(s.outcomes), top = f.pt + r * rowH + 4, name = strategyName(s, r);
      var total = keys.reduce(function (m, k) { return m + Math.max(0, num(counts[k]) || 0); }, 0);
      add(svg, "text", {x: f.pl - 6, y: top + rowH / 2, "class": "tick-y"}, name);
      if (!(total > 0)) {
        add(svg, "text", {x: f.pl + 8, y: top + rowH / 2, "class": "legend-text"}, "no payments");
        return;
      }
      var done = 0;
      keys.forEach(function (k, i) {
        var v = Math.max(0, num(counts[k]) || 0);
        if (!v) { return; }
        var x0 = f.x(done / total), x1 = f.x((done + v) / total);
        done += v;
        var seg = add(svg, "rect", {x: x0, y: top, width: x1 - x0, height: rowH - 8,
          fill: colour(k, i), "class": "segment"});
        add(seg, "title", {}, name + ": " + k + " " + fmt(v) + " (" + pct(v / total) + ")");
        if (x1 - x0 > 34) {
          add(svg, "text", {x: (x0 + x1) / 2, y: top + rowH / 2, "class": "segment-label"},
            pct(v / total));
        }
      });
    });
    if (!strategies.length) { f.empty(); }
    f.finish(keys.map(function (k, i) { return {name: k, color: colour(k, i)}; }));
  }

  var DRAW = {
    "provider-success": function (svg, s) {
      rateChart(svg, s, "providers", "attempts", "succeeded / attempts");
    },
    "method-success": function (svg, s) {
      rateChart(svg, s, "methods", "payments", "succeeded / payments");
    },
    latency: function (svg, s) {
      var list = buckets(s);
      lineChart(svg, LATENCY.map(function (l) {
        return {name: l[0], color: l[1], dash: l[2], points: list.map(function (b) {
          return {x: b.t + width / 2, y: num(obj(b.latency_ms)[l[0]])};
        })};
      }), {w: 400, plotH: 170, xMax: xMax, yMax: latencyMax(), xLabel: TIME,
        yLabel: "latency (ms)", time: true});
    },
    breakers: breakers,
    attempts: attempts,
    outcomes: outcomes
  };

  function load() {
    var report = obj(JSON.parse(document.getElementById("report-data").textContent || "{}"));
    scenario = obj(report.scenario);
    strategies = arr(report.strategies).filter(isObj);
    phases = arr(report.phases).filter(isObj).map(function (p, i) {
      return {n: i + 1, start: num(p.start), end: num(p.end), text: [p.provider, p.fault, p.label]
        .map(str).filter(Boolean).join(" / ")};
    }).filter(function (p) { return p.start !== null && p.end !== null; });
    width = num(scenario.bucket_seconds);
    if (!(width > 0)) {
      width = null;
      strategies.forEach(function (s) {
        var b = buckets(s);
        for (var i = 1; i < b.length; i += 1) {
          var d = b[i].t - b[i - 1].t;
          if (d > 0 && (width === null || d < width)) { width = d; }
        }
      });
      width = width || 1;
    }
    var end = num(scenario.duration_seconds) || 0;
    strategies.forEach(function (s) {
      buckets(s).forEach(function (b) { end = Math.max(end, b.t + width); });
      arr(s.breaker_events).forEach(function (e) { end = Math.max(end, num(obj(e).t) || 0); });
    });
    phases.forEach(function (p) { end = Math.max(end, p.end); });
    xMax = end > 0 ? end : 1;
    phases.forEach(function (p) { p.whole = p.start <= 0 && p.end >= xMax; });
  }

  function main() {
    load();
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-chart]"));
    var drawn = 0, errors = [];
    figures.forEach(function (fig) {
      var svg = fig.querySelector("svg.plot"), draw = DRAW[fig.getAttribute("data-chart")];
      try {
        if (!svg || !draw) { throw new Error("no drawing for this chart"); }
        draw(svg, obj(strategies[Number(fig.getAttribute("data-strategy")) || 0]));
        drawn += 1;
      } catch (err) {
        errors.push(fig.id + ": " + str(err && err.message ? err.message : err));
        var note = document.createElement("p");
        note.className = "chart-error";
        note.textContent = "This chart could not be drawn: " + errors[errors.length - 1];
        fig.appendChild(note);
      }
    });
    document.body.setAttribute("data-charts-expected", String(figures.length));
    document.body.setAttribute("data-charts-drawn", String(drawn));
    if (errors.length) { document.body.setAttribute("data-render-errors", errors.join(" | ")); }
    document.body.setAttribute("data-rendered", errors.length ? "error" : "ok");
  }

  try {
    main();
  } catch (err) {
    document.body.setAttribute("data-rendered", "error");
    document.body.setAttribute("data-render-errors", str(err && err.message ? err.message : err));
  }
})();
