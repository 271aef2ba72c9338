"""Figures and the report section of call graphs (target groups whose code calls services).

* ``call_graph``: clients and services as nodes, left to right by depth; an arrow per call edge
  (a client's entry requests, or a service's target group calling another service) labelled with
  its request rate and p99 (``summary["clients"]``, ``summary["edges"]``); red when over 1 % of
  its requests failed.
* ``critical_path``: one stacked bar per entry request class (``summary["critical_path"]``): the
  mean end-to-end time split by hop along the critical path; solid = working (the code's own
  work), hatched = waiting (Lattice and the network, a worker's queue, earlier attempts and
  backoff).

``render_callgraph`` draws both (only for runs with call graphs) as ``latsim.plots`` draws its
figures; ``report_section`` is the HTML of the report's "Call graph" section: the figures, the
edge table and the critical-path table.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from latsim.plots import RenderedPlot, Scene, _figure, _save, _styled

__all__ = ["entry_edges", "plot_call_graph", "plot_critical_path", "render_callgraph", "report_section"]

WAITING = ("queue", "lattice", "retries")  # critical-path kinds that are not the code's own work
KIND_LABEL = {"work": "working", "queue": "waiting for a worker", "lattice": "Lattice and network",
              "retries": "earlier attempts and backoff"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def _window(s: dict[str, Any]) -> float:
    """Seconds of the run after the warm-up (request rates are per second of it)."""
    return max(float(s.get("simulated_s", s.get("duration_s", 0.0))) - float(s.get("warmup_s", 0.0)), 1e-9)


def _tg_services(s: dict[str, Any], scn: Any) -> dict[str, list[str]]:
    """Target group -> the services that forward to it (the rules that hit it, and the scenario's,
    or its ``Scene``'s)."""
    out: dict[str, set[str]] = {}
    for key, rule in s.get("rules", {}).items():
        for tg in rule.get("target_groups", {}):
            out.setdefault(tg, set()).add(key.split("/", 1)[0])
    scene = Scene.of(scn)
    if scene is not None:
        for tg, svc in scene.tg_services:
            out.setdefault(tg, set()).add(svc)
    return {tg: sorted(v) for tg, v in out.items()}


def entry_edges(s: dict[str, Any], scn: Any) -> list[dict[str, Any]]:
    """Every arrow of the call-graph figure: {src, dst, label, requests, failed, p99}; a client's
    arrow goes to each service its requests' URLs name (needs the scenario, or its ``Scene``)."""
    edges: list[dict[str, Any]] = []
    scene = Scene.of(scn)
    if scene is not None:
        for client, services in scene.client_services.items():
            d = s.get("clients", {}).get(client)
            if d is None:
                continue
            for svc in services:
                edges.append({"src": client, "dst": svc, "label": client, "requests": d["requests"],
                              "failed": d["failed"], "p99": d["RequestTime"]["p99"]})
    owners = _tg_services(s, scene)
    for key, d in s.get("edges", {}).items():
        for src in owners.get(d["caller"], [d["caller"]]):
            edges.append({"src": src, "dst": d["service"], "label": key, "requests": d["requests"],
                          "failed": d["failed"], "p99": d["RequestTime"]["p99"]})
    return edges


@_styled
def plot_call_graph(result: Any, scn: Any, path: Path) -> list[Path]:
    """Clients and services left to right by depth; arrows labelled with request rate and p99."""
    s = result.summary
    if not s.get("edges"):
        return []
    from matplotlib.patches import FancyArrowPatch
    edges = entry_edges(s, scn)
    clients = {e["src"] for e in edges if e["src"] in s.get("clients", {})}
    nodes = sorted({e["src"] for e in edges} | {e["dst"] for e in edges})
    depth = {n: 0 for n in nodes}
    for _ in nodes:  # longest path from an entry (the graph has no cycle: validate refuses them)
        for e in edges:
            if e["src"] != e["dst"]:
                depth[e["dst"]] = max(depth[e["dst"]], depth[e["src"]] + 1)
    layers: dict[int, list[str]] = {}
    for n in nodes:
        layers.setdefault(depth[n], []).append(n)
    tall = max(len(v) for v in layers.values())
    fig = _figure(max(7.0, 2.6 * len(layers) + 1.0), max(2.6, 1.0 * tall + 0.9))
    ax = fig.add_subplot()
    ax.set_axis_off()
    pos: dict[str, tuple[float, float]] = {}
    for d, names in layers.items():
        for i, n in enumerate(sorted(names)):
            pos[n] = (float(d), (len(names) - 1) / 2.0 - i)
    ax.set_xlim(-0.6, max(layers) + 0.6)
    ax.set_ylim(-tall / 2.0, tall / 2.0)
    window = _window(s)
    services = s.get("services", {})
    for e in edges:
        (x0, y0), (x1, y1) = pos[e["src"]], pos[e["dst"]]
        rate = e["requests"] / window
        bad = e["requests"] and e["failed"] / e["requests"] > 0.01
        color = "#d1342f" if bad else "#4a6f94"
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, shrinkA=34,
                                     shrinkB=34, color=color, lw=1.0 + min(4.0, rate ** 0.5 / 4.0),
                                     connectionstyle="arc3,rad=0.0"))
        p99 = "-" if e["p99"] is None else f"{e['p99']:.0f} ms"
        text = f"{rate:,.1f}/s  p99 {p99}" + (f"\n{100 * e['failed'] / e['requests']:.1f}% failed" if bad else "")
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, ha="center", va="center", fontsize=7.5, color=color,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9})
    for n, (x, y) in pos.items():
        if n in clients:
            label, fc = f"{n}\n(client)", "#eef1f4"
        else:
            svc_p99 = (services.get(n, {}).get("RequestTime") or {}).get("p99")
            label, fc = n + ("" if svc_p99 is None else f"\np99 {svc_p99:.0f} ms"), "#dbe9f6"
        ax.text(x, y, label, ha="center", va="center", fontsize=9, fontweight="bold",
                bbox={"boxstyle": "round,pad=0.45", "fc": fc, "ec": "#4a6f94"})
    ax.set_title(f"Call graph: request rate and p99 per edge ({window:g} s after the warm-up)")
    return _save(fig, path)


def _bars(s: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{client} / {label}", d) for client, classes in s.get("critical_path", {}).items()
            for label, d in classes.items() if d.get("requests")]


@_styled
def plot_critical_path(result: Any, scn: Any, path: Path) -> list[Path]:
    """Mean end-to-end time per entry request class, stacked by hop: solid working, hatched waiting."""
    s = result.summary
    bars = _bars(s)
    if not bars:
        return []
    from matplotlib.patches import Patch
    owners = _tg_services(s, scn)

    def group(hop: str) -> str:  # a target group's time is its service's (one colour per service)
        return owners[hop][0] if hop in owners else hop
    totals: dict[str, float] = {}
    for _, d in bars:
        for h in d["hops"]:
            totals[group(h["hop"])] = totals.get(group(h["hop"]), 0.0) + h["mean_ms"]
    groups = sorted(totals, key=lambda g: (-totals[g], g))
    colors = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    order = {"work": 0, "queue": 1, "lattice": 2, "retries": 3}
    fig = _figure(10.0, 1.8 + 0.55 * len(bars))
    ax = fig.add_subplot()
    for i, (_, d) in enumerate(bars):
        left = 0.0
        parts = sorted(d["hops"], key=lambda h: (groups.index(group(h["hop"])), order.get(h["kind"], 9), h["hop"]))
        for h in parts:
            if h["mean_ms"] <= 0.0:
                continue
            waiting = h["kind"] in WAITING
            color = colors[group(h["hop"])]
            ax.barh(i, h["mean_ms"], left=left, height=0.6, color=color, alpha=0.4 if waiting else 0.95,
                    hatch="//" if waiting else None, edgecolor=color if waiting else "white", lw=0.5)
            left += h["mean_ms"]
        ax.text(left, i, f"  {d['mean_ms']:.1f} ms ({d['waiting_ms']:.1f} waiting)", va="center", fontsize=8)
    ax.set_yticks(range(len(bars)), [name for name, _ in bars])
    ax.invert_yaxis()
    ax.set_xlabel("mean end-to-end time after the warm-up (ms), along the critical path")
    ax.set_xlim(0, max(d["mean_ms"] for _, d in bars) * 1.3 or 1.0)
    handles = [Patch(color=colors[g], label=g) for g in groups]
    handles += [Patch(facecolor="#888888", label="working (own code)"),
                Patch(facecolor="#888888", alpha=0.4, hatch="//", label="waiting (Lattice, queue, retries)")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    ax.set_title("Where the end-to-end time goes (critical path per entry request class)")
    return _save(fig, path)


CALLGRAPH_PLOTS: tuple[tuple[str, str, str, Callable[[Any, Any, Path], list[Path]]], ...] = (
    ("call_graph", "Call graph",
     "Clients and services (left to right by call depth); each arrow is a call edge — a client's entry "
     "requests or a service's target group calling another service — with its request rate after the "
     "warm-up and the p99 its callers saw (retries included). Red: over 1% of the edge's requests failed.",
     plot_call_graph),
    ("critical_path", "Critical path",
     "Mean end-to-end time of each entry request class, split by hop along the critical path (the "
     "branch that ended last of every parallel step). Solid: the code's own work; hatched: waiting "
     "(Lattice and the network, a worker's queue, earlier attempts and backoff).",
     plot_critical_path),
)


def render_callgraph(result: Any, scn: Any, out_dir: str | Path) -> list[RenderedPlot]:
    """Write the call-graph figures into ``out_dir`` (none for a run without call graphs)."""
    drawn = []
    scn = Scene.of(scn)  # once for both figures
    for name, title, caption, fn in CALLGRAPH_PLOTS:
        paths = fn(result, scn, Path(out_dir) / name)
        if paths:
            drawn.append(RenderedPlot(name, title, caption, tuple(paths)))
    return drawn


def _html_table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if rows else ""


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.1f}"


def report_section(s: dict[str, Any], figure: Callable[[str], str]) -> str:
    """The report's call-graph section: figures (``figure(name)`` gives one's HTML), the edge table
    and the critical-path table; empty for a run without call graphs."""
    if not s.get("edges"):
        return ""
    window = _window(s)
    rows = []
    for key, d in s["edges"].items():
        rt = d["RequestTime"]
        rows.append([key.replace("->", " → "), f"{d['requests']:,}", f"{d['requests'] / window:,.2f}",
                     f"{d['sent']:,}", f"{d['retries']:,}", f"{d['failed']:,}",
                     " ".join(f"{k}:{v:,}" for k, v in d["status"].items()) or "-",
                     " ".join(f"{k}:{v:,}" for k, v in d["failures"].items()) or "-",
                     _ms(rt["mean"]), _ms(rt["p50"]), _ms(rt["p99"]), _ms(d["AttemptTime"]["p99"])])
    edges = _html_table(["caller → service", "requests", "per s", "attempts", "retries", "failed", "status",
                         "failures", "mean ms", "p50 ms", "p99 ms", "attempt p99 ms"], rows)
    crit = []
    for name, d in _bars(s):
        top = ", ".join(f"{h['hop']} {KIND_LABEL.get(h['kind'], h['kind'])} {h['mean_ms']:.1f} ms "
                        f"({100 * h['share']:.0f}%)" for h in d["hops"] if h["mean_ms"] > 0)
        crit.append([name, f"{d['requests']:,}", _ms(d["mean_ms"]), _ms(d["working_ms"]), _ms(d["waiting_ms"]), top])
    crit_table = _html_table(["client / request", "requests", "mean ms", "working ms", "waiting ms",
                              "hops on the critical path (mean)"], crit)
    return (figure("call_graph")
            + "<h3>Call edges</h3><p class=\"small\">One row per caller target group → service: the "
              "logical requests its code made (after the warm-up), their attempts and outcomes, and the "
              "time the caller waited (RequestTime, retries included).</p>" + edges
            + figure("critical_path") + "<h3>Critical path</h3>" + crit_table)
