"""The run report: one self-contained ``report.html`` (inline PNG figures and CSS, no script, no
network) with the scenario summary, the SLO verdicts, the service / target-group / rule /
client tables, the canary steps, the timeline, the cost estimate and every figure of
``latsim.plots``.

``write_report`` also leaves what is needed to rebuild the report later beside it:
``scenario.json`` (the validated scenario, reloadable with ``latsim.scenario.scenario_from_data``)
and ``histograms.json`` (the whole-run latency histograms, for the CDFs). ``load_run`` reads a
run directory (``summary.json``, ``metrics.parquet`` or ``metrics.csv``, and those two files when
present) back into a ``Result`` — what ``latsim report DIR`` does.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from latsim import __version__
from latsim.atomic_write import atomic_write_text
from latsim.results import Result
from latsim.slo import interrupted_text

__all__ = ["load_run", "render_html", "write_report"]

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1d2329;
background:#f6f7f9;font-size:14px;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px;background:#fff;box-shadow:0 0 6px rgba(0,0,0,.08)}
h1{margin:0 0 4px;font-size:26px}h2{margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid #e3e6ea;
font-size:19px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:#5b6570;margin:0 0 14px}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px;color:#fff}
.ok{background:#2e9d4a}.bad{background:#d1342f}.none{background:#8a949e}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:14px 0}
.fact{background:#f3f5f7;border-radius:6px;padding:8px 10px}.fact b{display:block;font-size:17px}
.fact span{color:#5b6570;font-size:12px}
nav{margin:10px 0 0;font-size:13px}nav a{margin-right:12px;color:#1f5fa8;text-decoration:none}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e6e8eb;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
.met{color:#1f7a36;font-weight:600}.breached{color:#b3261e;font-weight:600}
figure{margin:14px 0 22px}figure img{max-width:100%;height:auto;border:1px solid #e6e8eb}
figcaption{color:#5b6570;font-size:12.5px;margin-top:4px}
code{background:#f0f2f4;padding:1px 4px;border-radius:3px;font-size:12.5px}
.small{font-size:12px;color:#5b6570}ul.small{margin:4px 0 0 18px;padding:0}
footer{margin-top:40px;color:#8a949e;font-size:12px}
.scroll{overflow-x:auto;margin:6px 0 12px}.scroll table{margin:0}
@media (max-width:720px){main{padding:14px 12px 32px}h1{font-size:21px}
.facts{grid-template-columns:repeat(2,1fr)}figure{overflow-x:auto}figure img{max-width:none;width:680px}
th,td{padding:4px 6px}}
"""


# -- writing ------------------------------------------------------------------------------------------
def write_report(result: Any, scn: Any, out_dir: str | Path, *, painter: Any = None, redraw: bool = False) -> Path:
    """Write ``plots/``, ``scenario.json``, ``histograms.json`` and ``report.html`` into
    ``out_dir``; return the path of ``report.html``. ``scn`` may be None (no topology figure).
    Figures still fresh in ``out_dir/plots`` are reused unless ``redraw`` (``latsim.figures``);
    ``painter`` (a ``latsim.figures.Painter``) draws the others."""
    return build_report(result, scn, out_dir, painter=painter, redraw=redraw)[0]


def build_report(result: Any, scn: Any, out_dir: str | Path, *, painter: Any = None,
                 redraw: bool = False) -> tuple[Path, int, int]:
    """``write_report``, returning (report.html, figures drawn, figures reused)."""
    from latsim.figures import update_figures
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenario_text = histograms_text = ""
    if scn is not None:
        data = scn.model_dump(mode="json", by_alias=True)
        scenario_text = json.dumps(data, indent=2) + "\n"
        atomic_write_text(out / "scenario.json", scenario_text)
        if "cost" not in result.summary:
            from latsim.cost import estimate_cost
            result.summary["cost"] = estimate_cost(scn, result.summary)
    hists = getattr(result, "histograms", None) or {}
    if any(hists.values()):
        payload = {group: {name: h.to_dict() for name, h in sorted(hs.items())} for group, hs in sorted(hists.items())}
        histograms_text = json.dumps(payload, separators=(",", ":")) + "\n"
        atomic_write_text(out / "histograms.json", histograms_text)
    if scn is not None and painter is not None:
        # the access section's analysis (``latsim matrix``, 10 ms to import) loaded while the
        # drawing processes work, not after them, when the report is all that is left to do
        import latsim.analysis.matrix  # noqa: F401
    plots, drawn, reused = update_figures(result, scn, out / "plots", scenario_text=scenario_text,
                                  histograms_text=histograms_text, painter=painter, redraw=redraw)
    path = out / "report.html"
    atomic_write_text(path, render_html(result, scn, plots))
    return path, drawn, reused


# -- reading a run directory ----------------------------------------------------------------------------
def load_run(run_dir: str | Path) -> tuple[Result, Any]:
    """(Result, Scenario or None) from a run directory written by ``latsim run --out``."""
    from latsim.errors import LatsimError, Location
    d = Path(run_dir)
    summary_path = d / "summary.json"
    if not summary_path.is_file():
        raise LatsimError(f"{d} is not a run directory: summary.json is missing", location=Location(str(d)),
                          hint="run `latsim run SCENARIO --out DIR` first")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LatsimError(f"summary.json is not JSON: {exc.msg}",
                          location=Location(str(summary_path), exc.lineno, exc.colno)) from None
    rows = [(float(r["time_s"]), str(r["dimension"]), str(r["name"]), str(r["az"]), str(r["metric"]),
             float(r["value"])) for r in _read_table(d, "metrics")]
    fine = _read_table(d, "series")
    series = [(float(r["time_s"]), str(r["dimension"]), str(r["name"]), str(r["metric"]), float(r["value"]))
              for r in fine]
    step = int(float(fine[0]["step_s"])) if fine else 60
    hists: dict[str, dict[str, Any]] = {}
    hpath = d / "histograms.json"
    if hpath.is_file():
        from latsim.metrics.histogram import LogHistogram
        raw = json.loads(hpath.read_text(encoding="utf-8"))
        hists = {g: {n: LogHistogram.from_dict(h) for n, h in hs.items()} for g, hs in raw.items()}
    scn = None
    spath = d / "scenario.json"
    if spath.is_file():
        from latsim.scenario import parse_document, scenario_from_data
        data, pos = parse_document(spath.read_text(encoding="utf-8"), str(spath))
        scn = scenario_from_data(data, pos)
    return Result(summary, rows, hists, 0.0, series, step), scn


def _read_table(d: Path, stem: str) -> list[dict[str, Any]]:
    """The rows of ``stem.parquet`` or ``stem.csv`` in ``d`` (none when neither is there)."""
    parquet, csv_path = d / f"{stem}.parquet", d / f"{stem}.csv"
    records: list[dict[str, Any]]
    if parquet.is_file():
        try:
            import pyarrow.parquet as pq
        except ImportError:
            from latsim.errors import LatsimError, Location
            raise LatsimError("reading metrics.parquet needs pyarrow", location=Location(str(parquet)),
                              hint="pip install 'latsim[export]'") from None
        # ParquetFile.read, unlike read_table, does not import pandas (0.2-0.4 s)
        columns = pq.ParquetFile(parquet).read().to_pydict()
        names = list(columns)
        records = [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    elif csv_path.is_file():
        with open(csv_path, encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
    else:
        return []
    return records


# -- HTML ---------------------------------------------------------------------------------------------
def render_html(result: Any, scn: Any, plots: Sequence[Any]) -> str:
    """The report as one HTML string; ``plots`` are ``latsim.plots.RenderedPlot``s (PNG inlined)."""
    s = result.summary
    figures = {p.name: _figure(p) for p in plots}
    sections: list[tuple[str, str, str]] = [
        ("slo", "Service-level objectives", _slo_section(s)),
        ("topology", "Topology", _pop(figures, "topology") + _topology_text(scn)),
        ("access", "Access", _access_section(scn)),
        ("services", "Services", _services_table(s) + _pop(figures, "request_rates") + _pop(figures, "latency")),
        ("target-groups", "Target groups", _target_groups_table(s) + _pop(figures, "target_group_latency")
         + _pop(figures, "target_health") + _pop(figures, "az_heatmap")),
        ("targets", "Targets", _targets_table(s)),
        ("rules", "Rules", _rules_table(s)),
        ("clients", "Clients", _clients_table(s) + _pop(figures, "latency_cdf")),
    ]
    if s.get("edges"):  # call graphs: the graph, the edge table, the critical paths
        from latsim.plots_callgraph import report_section
        sections.append(("call-graph", "Call graph", report_section(s, lambda name: _pop(figures, name))))
    if s.get("canary"):
        sections.append(("canary", "Canary", _canary_section(s) + _pop(figures, "canary")))
    if s.get("timeline"):
        sections.append(("timeline", "Timeline", _timeline_table(s, scn)))
    sections.append(("cost", "Cost estimate", _cost_section(s.get("cost"))))
    if figures:
        sections.append(("figures", "More figures", "".join(figures.values())))
    sections = [sec for sec in sections if sec[2]]
    nav = "".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{escape(title)}</h2>{html}</section>' for sid, title, html in sections)
    title = f"latsim report: {s.get('scenario', 'scenario')}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
            f"{_header(s, scn, result)}<nav>{nav}</nav>{body}"
            f"<footer>Generated by latsim {escape(__version__)} from a simulation: every figure is a model "
            "estimate, not a measurement of AWS.</footer></main></body></html>\n")


def _pop(figures: dict[str, str], name: str) -> str:
    return figures.pop(name, "")


def _figure(plot: Any) -> str:
    data = base64.b64encode(Path(plot.png).read_bytes()).decode("ascii")
    svg = Path(plot.svg).name
    return (f'<figure id="fig-{escape(plot.name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(plot.title)}"><figcaption><b>{escape(plot.title)}.</b> {escape(plot.caption)} '
            f'<span class="small">(vector: <code>plots/{escape(svg)}</code>)</span></figcaption></figure>')


def _header(s: dict[str, Any], scn: Any, result: Any = None) -> str:
    slos = s.get("slo") or []
    if not slos:
        badge = '<span class="badge none">no SLOs</span>'
    elif s.get("partial"):
        badge = '<span class="badge none">SLOs not judged: the run was interrupted</span>'
    elif all(v["ok"] for v in slos):
        badge = f'<span class="badge ok">SLOs met ({len(slos)}/{len(slos)})</span>'
    else:
        bad = sum(1 for v in slos if not v["ok"])
        badge = f'<span class="badge bad">SLO breached ({bad} of {len(slos)})</span>'
    desc = f'<p class="sub">{escape(scn.description)}</p>' if scn is not None and scn.description else ""
    inventory = f'<p class="small">{escape(scn.summary_line())}</p>' if scn is not None else ""
    cost = s.get("cost") or {}
    step = int(getattr(result, "series_step", 60) or 60) if getattr(result, "series", None) else 60
    facts = [
        ("seed", str(s.get("seed", "-"))),
        ("simulated", interrupted_text(s) or _duration(s.get("simulated_s"))),
        ("warm-up (left out of every table)", _duration(s.get("warmup_s"))),
        ("requests after warm-up", _int(s.get("requests"))),
        ("client request rate", _rate(s.get("requests"), _measured_s(s))),
        ("time resolution of the plots", "1 minute" if step >= 60 else f"{step} s"),
        ("services", str(len(s.get("services", {})))),
        ("target groups", str(len(s.get("target_groups", {})))),
    ]
    if scn is not None:
        facts += [("region", scn.region), ("simulated start", scn.start_time.strftime("%Y-%m-%d %H:%M UTC"))]
    if cost:
        facts.append(("Lattice cost / month", f"${cost.get('monthly_usd', 0):,.2f}"))
    cards = "".join(f'<div class="fact"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in facts)
    return (f"<header><h1>{escape(str(s.get('scenario', 'scenario')))} {badge}</h1>{desc}"
            f'<div class="facts">{cards}</div>{inventory}</header>')


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = ()) -> str:
    nums = set(numeric)
    head = "".join(f'<th class="n">{escape(h)}</th>' if i in nums else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell.html if isinstance(cell, _Html) else escape(str(cell))
            cells.append(f'<td class="n">{text}</td>' if i in nums else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        return ""
    # a wide table scrolls inside its own box on a narrow screen instead of widening the page
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


class _Html:
    """A cell that is already HTML."""

    __slots__ = ("html",)

    def __init__(self, html: str) -> None:
        self.html = html


def _num(v: Any, nd: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.{nd}f}"
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def _duration(v: Any) -> str:
    """``90 s``, ``2 min``, ``1 h 30 min``."""
    if v is None:
        return "-"
    x = float(v)
    if x < 120 or x % 60:
        return f"{x:,.{0 if x.is_integer() else 1}f} s"
    m = int(x // 60)
    return f"{m} min" if m < 60 else f"{m // 60} h" + (f" {m % 60} min" if m % 60 else "")


def _measured_s(s: dict[str, Any]) -> float:
    """Simulated seconds after the warm-up (what the tables count)."""
    return max(float(s.get("simulated_s") or 0.0) - float(s.get("warmup_s") or 0.0), 0.0)


def _rate(count: Any, seconds: float) -> str:
    if count is None or seconds <= 0:
        return "-"
    r = float(count) / seconds
    return f"{r:,.1f} req/s" if r < 100 else f"{r:,.0f} req/s"


def _int(v: Any) -> str:
    return "-" if v is None else f"{int(v):,}"


def _ms(v: Any) -> str:
    """Milliseconds for people: 0.42, 12.3, 1,250."""
    if v is None:
        return "-"
    x = float(v)
    return f"{x:,.2f}" if x < 1 else f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _pct(part: float, whole: float) -> str:
    """``12.5%``, ``0.04%``, ``0%``, ``100%``: enough digits to see a small share."""
    if not whole:
        return "-"
    x = 100.0 * part / whole
    if x == 0 or x == 100:
        return f"{x:.0f}%"
    return f"{x:.1f}%" if x >= 10 else f"{x:.2f}%" if x >= 0.1 else f"{x:.3f}%"


def _slo_section(s: dict[str, Any]) -> str:
    slos = s.get("slo") or []
    if not slos:
        return '<p class="small">The scenario declares no SLOs.</p>'
    rows = []
    for v in slos:
        verdict = _Html('<span>not judged (interrupted)</span>' if v["ok"] is None else
                        '<span class="met">met</span>' if v["ok"] else '<span class="breached">breached</span>')
        for i, c in enumerate(v["checks"] or [{}]):
            value = c.get("value")
            check_ok = c.get("ok")
            mark = "" if check_ok is None else ("✓ " if check_ok else "✗ ")
            unit = c.get("unit", "")
            rows.append([v["slo"] if i == 0 else "", verdict if i == 0 else "", _int(v.get("requests")) if i == 0
                         else "", mark + str(c.get("metric", "-")), _slo_value(value, unit),
                         _slo_value(c.get("limit"), unit)])
    return _table(["objective", "verdict", "requests", "check", "measured", "limit"], rows, [2, 4, 5])


def _slo_value(v: Any, unit: str) -> str:
    """An SLO figure in its unit: fractions as percentages, latencies in ms, rates in req/s."""
    if v is None:
        return "-"
    if unit == "fraction":
        return f"{100 * float(v):.3f}".rstrip("0").rstrip(".") + "%"
    if unit == "ms":
        return f"{_ms(v)} ms"
    return f"{float(v):,.1f} {unit}".strip() if isinstance(v, (int, float)) else str(v)


def _services_table(s: dict[str, Any]) -> str:
    rows = []
    secs = _measured_s(s)
    for name, d in s.get("services", {}).items():
        rt = d.get("RequestTime", {})
        n = d.get("TotalRequestCount", 0)
        lattice = ", ".join(f"{k.split('_')[2]}: {v:,}" for k, v in d.items()
                            if k.startswith("HTTPCode_VpcLattice_") and v)
        rows.append([name, _int(n), _rate(n, secs), _int(d.get("HTTPCode_2XX_Count")), _int(d.get("HTTPCode_4XX_Count")),
                     _int(d.get("HTTPCode_5XX_Count")), _pct(d.get("HTTPCode_5XX_Count", 0), n),
                     _int(d.get("RequestTimeoutCount")), _ms(rt.get("p50")), _ms(rt.get("p90")), _ms(rt.get("p99")),
                     _ms(rt.get("max")), _bytes(d.get("TotalReceivedBytes")), _bytes(d.get("TotalSentBytes")),
                     lattice or "-"])
    return _table(["service", "requests", "rate", "2xx", "4xx", "5xx", "5xx rate", "timeouts", "p50 ms", "p90 ms",
                   "p99 ms", "max ms", "request bodies", "response bodies", "Lattice-generated"], rows, range(1, 14)) \
        + ('<p class="small">Bytes are the simulated request and response bodies (headers are not modelled): '
           "a service that only receives GETs has no request bytes.</p>" if rows else "")


def _bytes(v: Any) -> str:
    if v is None:
        return "-"
    x = float(v)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if x < 1024 or unit == "TiB":
            return f"{x:,.0f} {unit}" if unit == "B" else f"{x:,.1f} {unit}"
        x /= 1024
    return f"{x:,.1f} TiB"


def _target_groups_table(s: dict[str, Any]) -> str:
    from latsim.results import cold_start_label, target_health_label
    rows = []
    lambdas = any("cold_starts" in d for d in s.get("target_groups", {}).values())
    for name, d in s.get("target_groups", {}).items():
        rt = d.get("RequestTime", {})
        targets = d.get("targets", {})
        tgt = "; ".join(f"{tid}: {t.get('TotalRequestCount', 0):,} ({t.get('az') or '-'}, "
                        f"{target_health_label(d, t)})" for tid, t in targets.items())
        n = d.get("TotalRequestCount", 0)
        rows.append([name, _int(n), _int(d.get("HTTPCode_5XX_Count")), _pct(d.get("HTTPCode_5XX_Count", 0), n),
                     _int(d.get("ConnectionErrorCount")), _int(d.get("RequestTimeoutCount")), _ms(rt.get("p50")),
                     _ms(rt.get("p99")), d.get("health_checks", "-"),
                     *([cold_start_label(d)] if lambdas else []), tgt or "-"])
    return _table(["target group", "requests", "5xx", "5xx rate", "conn. errors", "timeouts", "p50 ms", "p99 ms",
                   "health checks", *(["cold starts (added latency)"] if lambdas else []),
                   "targets: requests (AZ, last health)"], rows, range(1, 8))


def _rules_table(s: dict[str, Any]) -> str:
    rows = []
    for key, d in s.get("rules", {}).items():
        hits = d.get("hits", 0)
        split = ", ".join(f"{tg} {n:,} ({_pct(n, hits)})" for tg, n in d.get("target_groups", {}).items())
        rt = d.get("RequestTime", {})
        rows.append([key, _int(hits), split or "-", _ms(rt.get("p50")), _ms(rt.get("p99"))])
    return _table(["service / listener / rule", "hits", "split by target group", "p50 ms", "p99 ms"], rows,
                  [1, 3, 4])


def _targets_table(s: dict[str, Any]) -> str:
    """Latency per target (its share of its group's RequestTime)."""
    rows = []
    for name, d in s.get("target_groups", {}).items():
        for tid, t in d.get("targets", {}).items():
            rt = t.get("RequestTime", {})
            rows.append([name, tid, t.get("az") or "-", _int(t.get("TotalRequestCount")), _ms(rt.get("p50")),
                         _ms(rt.get("p90")), _ms(rt.get("p99")), _ms(rt.get("max"))])
    return _table(["target group", "target", "AZ", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows,
                  range(3, 8))


def _clients_table(s: dict[str, Any]) -> str:
    rows = []
    for name, d in s.get("clients", {}).items():
        rt = d.get("RequestTime", {})
        status = " ".join(f"{k}: {v:,}" for k, v in d.get("status", {}).items())
        failures = " ".join(f"{k}: {v:,}" for k, v in d.get("failures", {}).items())
        rows.append([name, _int(d.get("requests")), _int(d.get("sent")), _int(d.get("retries")),
                     _int(d.get("succeeded")), _int(d.get("failed")), status or "-", failures or "-",
                     _ms(rt.get("p50")), _ms(rt.get("p99"))])
    return _table(["client", "requests", "attempts", "retries", "succeeded", "failed", "status codes",
                   "failures", "p50 ms", "p99 ms"], rows, [1, 2, 3, 4, 5, 8, 9])


def _canary_section(s: dict[str, Any]) -> str:
    parts = []
    for c in s.get("canary", []):
        rows = []
        for st in c.get("steps", []):
            o = st.get("observed") or {}
            rows.append([f"{st['t_ms'] / 1000:,.1f}", f"{st['weight']}%", st["decision"], _int(o.get("requests")),
                         "-" if o.get("success_rate") is None else f"{100 * o['success_rate']:.3f}%",
                         _ms(o.get("p99_ms"))])
        parts.append(f"<h3>{escape(c['name'])}: {escape(str(c.get('outcome', '?')))}</h3>"
                     + _table(["t (s)", "weight", "decision", "requests in interval", "success rate", "p99 ms"],
                              rows, [0, 1, 3, 4, 5]))
    return "".join(parts)


def _timeline_table(s: dict[str, Any], scn: Any) -> str:
    rows = []
    for ev in s.get("timeline", []):
        detail = "-"
        i = ev.get("event")
        if scn is not None and isinstance(i, int) and 0 <= i < len(scn.timeline):
            dumped = scn.timeline[i].model_dump(mode="json", by_alias=True, exclude_none=True)
            dumped.pop("at", None)
            detail = json.dumps(dumped, separators=(", ", ": "))
        rows.append([f"{ev.get('t_ms', 0) / 1000:,.1f}", ev.get("kind", "-"), detail])
    return _table(["t (s)", "event", "detail"], rows, [0]) + (
        '<p class="small">Each event is a dashed line on every time plot; its <code>for</code> window is shaded.</p>'
        if rows else "")


def _cost_section(cost: dict[str, Any] | None) -> str:
    if not cost:
        return ""
    p = cost.get("prices", {})
    rows = [[name, _int(d.get("requests_per_month")), _int(d.get("billable_requests_per_month")),
             f"{d.get('gb_per_month', 0):,.2f}", f"${d.get('service_hours_usd', 0):,.2f}",
             f"${d.get('data_processing_usd', 0):,.2f}", f"${d.get('requests_usd', 0):,.2f}",
             f"${d.get('monthly_usd', 0):,.2f}"] for name, d in cost.get("services", {}).items()]
    t = cost.get("totals", {})
    rows.append([_Html("<b>total</b>"), "", "", "", f"${t.get('service_hours_usd', 0):,.2f}",
                 f"${t.get('data_processing_usd', 0):,.2f}", f"${t.get('requests_usd', 0):,.2f}",
                 _Html(f"<b>${cost.get('monthly_usd', 0):,.2f}</b>")])
    prices = (f"{cost.get('region', 'us-east-1')} prices as of {cost.get('prices_as_of', '?')}: "
              f"${p.get('service_hour', 0)}/service-hour, ${p.get('gb_processed', 0)}/GB processed, "
              f"${p.get('per_million_requests', 0):.2f}/1M requests beyond {p.get('free_requests_per_hour', 0):,} "
              f"per hour per service; {cost.get('hours_per_month', 730):g} h/month.")
    assumptions = "".join(f"<li>{escape(a)}</li>" for a in cost.get("assumptions", []))
    return (_table(["service", "requests / month", "billable requests", "GB / month", "service-hours",
                    "data processing", "requests", "total / month"], rows, range(1, 8))
            + f'<p class="small">{escape(prices)}</p><ul class="small">{assumptions}</ul>')


def _topology_text(scn: Any) -> str:
    if scn is None:
        return '<p class="small">No scenario.json in the run directory: topology not shown.</p>'
    rows = []
    for sn in scn.service_networks:
        vpcs = ", ".join(f"{a.vpc} (SG {', '.join(a.security_groups)})" if a.security_groups else a.vpc
                         for a in sn.vpc_associations) or "-"
        endpoints = ", ".join(v.name for v in scn.vpcs if sn.name in v.service_network_endpoints) or "-"
        rows.append([sn.name, sn.auth_type, vpcs, endpoints, ", ".join(sn.services) or "-"])
    services = [[svc.name, svc.auth_type, svc.custom_domain or "-",
                 ", ".join(f"{lst.protocol}:{lst.effective_port}" for lst in svc.listeners) or "-"]
                for svc in scn.services]
    return (_table(["service network", "auth", "VPC associations (security groups)", "SN endpoints", "services"], rows)
            + _table(["service", "auth", "custom domain", "listeners"], services))


def _access_section(scn: Any) -> str:
    """Client -> service pairs the auth policies deny, with who says no (``latsim matrix``)."""
    if scn is None:
        return ""
    from latsim.plots import Scene
    scene = Scene.of(scn)  # the topology figure's, computed once
    pairs = scene.denied if scene is not None else ()
    if not pairs:
        return '<p class="small">No auth policy denies any client of the scenario (see <code>latsim matrix</code>).</p>'
    domains = {svc.name: svc.custom_domain for svc in scn.services}
    clients = {c.name: c.url for c in scn.clients}
    rows = [[c, svc, why, _Html("<code>" + escape(f"latsim explain SCENARIO --client {c} --url "
                                                  + (f"https://{domains[svc]}" if domains.get(svc) else clients[c]))
                                + "</code>")]
            for c, svc, why in pairs]
    return ('<p class="small">Client → service pairs where an auth policy answers 403 for some of the client\'s '
            "requests (red dashed arcs in the topology).</p>"
            + _table(["client", "service", "denied by (authDeniedReason)", "to see why"], rows))
