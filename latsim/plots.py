"""Figures of a run (matplotlib, Agg backend, no pyplot state): traffic and 5xx rates, latency
percentiles over time, latency CDFs, the canary's weight against the split it observed, target
health strips, the AZ x target-group heatmap and the topology (laid out by latsim).

Every ``plot_*`` function takes ``(result, scn, path)`` — ``scn`` a scenario, its ``Scene``
(what the figures take from it, as plain data) or None when only a run directory is at hand —
writes ``path`` as PNG and SVG (the suffix of ``path`` is replaced) and
returns the written paths, or an empty list when the run has nothing to draw (no canary, no
target group, ...). ``plot_all`` writes every figure into a directory. Output is deterministic:
no dates in the files, fixed SVG ids.
"""

from __future__ import annotations

import functools
import math
import os
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib is imported by the functions that draw (0.4 s): the report reuses fresh figures
# without it, and the list of figures (PLOTS) is read without it

__all__ = ["PLOTS", "PlotSpec", "RenderedPlot", "plot_all", "plot_az_heatmap", "plot_canary", "plot_latency",
           "plot_latency_cdf", "plot_request_rates", "plot_target_group_latency", "plot_target_health", "plot_topology",
           "denied_pairs", "events", "mark_events", "render_all", "requests_by_az", "time_series"]

MAX_SERIES = 8          # services drawn in the time-series figures (the busiest ones)
MAX_STRIPS = 60         # targets drawn in the health figure
DPI = 100
PNG_LEVEL = 3  # zlib level of the PNGs (rows unfiltered): 3x faster than level 6, files ~30 % larger
# svg.fonttype none: SVG text as <text> elements, not glyph outlines (laid out again for every label);
# axes.titley 1.0: titles just above their axes, where matplotlib's automatic placement puts them
# when no tick label sits on top (never here) after measuring each y axis whole for every title;
# text.hinting no_hinting: glyphs as the font draws them, without FreeType's autohinter (matplotlib's
# default, force_autohint), which took 10-12 % of the figures' CPU for text hardly different at 100 dpi;
# xtick.bottom / ytick.left off: tick labels and grid lines without tick marks, which repeated the
# grid lines (3.5 % of the figures' instructions: a marker per tick, drawn for the PNG and the SVG)
_RC: dict[str, Any] = {"svg.hashsalt": "latsim", "svg.fonttype": "none", "axes.titley": 1.0, "text.hinting": "no_hinting",
       "xtick.bottom": False, "ytick.left": False,
       "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "axes.grid": True, "grid.alpha": 0.3}
HEALTH_COLORS = {"HEALTHY": "#2e9d4a", "UNHEALTHY": "#d1342f", "INITIAL": "#8fb3d9", "UNAVAILABLE": "#b9b9b9",
                 "DRAINING": "#f0a020", "UNUSED": "#e4e4e4", "REMOVED": "#444444"}
HEALTH_LABELS = {"UNAVAILABLE": "UNAVAILABLE (not health checked:\nLambda, ALB or checks off; routed)"}
DECISION_MARKERS = {"start": ("o", "#1f77b4"), "advance": ("^", "#2e9d4a"), "pass": ("^", "#2e9d4a"),
                    "inconclusive": ("o", "#999999"), "fail": ("x", "#d1342f"), "rollback": ("X", "#d1342f"),
                    "promote": ("*", "#2e9d4a"), "complete": ("*", "#1f77b4")}


# -- plumbing ---------------------------------------------------------------------------------------
PlotFn = Callable[[Any, Any, Path], list[Path]]


@dataclass(frozen=True)
class Scene:
    """What the figures take from a scenario, as plain data (``Scene.of``): names, strings and
    numbers in dicts, lists and tuples, nothing of the model's classes. A drawing process gets a
    ``Scene`` instead of the scenario, so that it never imports pydantic and latsim's models
    (0.15 s): ``latsim run --out`` forks it before the scenario is loaded, and it imports
    matplotlib while latsim loads the scenario.

    ``nodes`` and ``edges`` are the topology graph's (``latsim.model.graph.topology``) clients,
    VPCs, service networks, services and target groups and the edges between them, in the
    graph's order; ``forwards`` its service -> target group rules (``service_forwards``);
    ``denied`` the (client, service, authDeniedReason) pairs the auth policies deny
    (``denied_pairs``: the topology figure draws them, the report lists them);
    ``timeline`` each timeline event's fields as written (JSON, without nulls) and its ``for``
    seconds; ``canaries`` canary name -> (canary group, primary group); ``tg_services`` every
    (target group, service) that a rule forwards by; ``client_services`` client -> the services
    its URLs name."""
    name: str
    accounts: dict[str, str]
    nodes: dict[str, dict[str, Any]]
    edges: tuple[tuple[str, str, dict[str, Any]], ...]
    forwards: dict[tuple[str, str], list[tuple[str, int]]]
    denied: tuple[tuple[str, str, str], ...]
    timeline: tuple[tuple[dict[str, Any], float | None], ...]
    canaries: dict[str, tuple[str, str]]
    tg_services: tuple[tuple[str, str], ...]
    client_services: dict[str, list[str]]

    @classmethod
    def of(cls, scn: Any) -> Scene | None:
        """The scene of a scenario (None for None; a ``Scene`` is its own). The last scenario's
        is kept: a run's painter, its figures and its report ask for the same one, and its
        denied pairs are a whole ``latsim matrix`` (seconds for thousands of services)."""
        if scn is None or isinstance(scn, Scene):
            return scn
        last = _LAST_SCENE.get(id(scn))
        if last is not None and last[0]() is scn:
            return last[1]
        scene = cls._of(scn)
        _LAST_SCENE.clear()
        _LAST_SCENE[id(scn)] = (weakref.ref(scn), scene)
        return scene

    @classmethod
    def _of(cls, scn: Any) -> Scene:
        from latsim.compile import Topology
        from latsim.model.client import split_url
        from latsim.model.graph import service_forwards, topology
        g = topology(scn)
        nodes = {n: dict(d) for n, d in g.nodes.items() if d.get("kind") in _LAYER}
        edges = tuple((u, v, dict(d)) for u, v, d in g.edges() if u in nodes and v in nodes)
        topo = Topology(scn) if scn.clients or scn.services else None
        denied = tuple(denied_pairs(scn, topo)) if topo is not None else ()
        tg_services = tuple((fwd.target_group, svc.name) for svc in scn.services for lst in svc.listeners
                            for action in [lst.default_action, *(r.action for r in lst.rules)]
                            for fwd in getattr(action, "forward", None) or [])
        hosts = topo.hosts if topo is not None else {}
        client_services = {}
        for c in scn.clients:
            found = {hosts.get(split_url(spec.url or c.url)[1].lower().rstrip(".")) for spec in c.requests}
            client_services[c.name] = sorted(x for x in found if x is not None)
        return cls(name=scn.name, accounts={a.id: (a.name or a.id) for a in scn.accounts}, nodes=nodes, edges=edges,
                   forwards=service_forwards(g), denied=denied,
                   timeline=tuple((ev.model_dump(mode="json", by_alias=True, exclude_none=True),
                                   None if ev.for_ is None else float(ev.for_)) for ev in scn.timeline),
                   canaries={c.name: (c.canary, c.primary) for c in scn.canaries}, tg_services=tg_services,
                   client_services=client_services)


_LAST_SCENE: dict[int, tuple[Any, Scene]] = {}  # id -> (weak reference to the scenario, its scene)


def _styled(fn: PlotFn) -> PlotFn:
    """Draw and save under latsim's style, whatever the caller's rcParams (and without pyplot,
    so the caller's backend is never touched)."""
    @functools.wraps(fn)
    def wrapper(result: Any, scn: Any, path: Path) -> list[Path]:
        import matplotlib
        with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
            return fn(result, Scene.of(scn), Path(path))
    return wrapper


def _figure(width: float, height: float, *, measured: bool = False) -> Figure:
    """A figure on an Agg canvas; ``measured``: laid out by ``_fit`` when saved (a grid of
    axes whose surroundings are tick labels, axis labels, titles and legends), else by
    matplotlib's constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=DPI, layout=None if measured else "constrained")
    FigureCanvasAgg(fig)
    return fig


def _fit(fig: Figure) -> None:
    """Margins and gaps of a grid of axes from the text around each one, measured once: tick
    labels (from the locator and formatter, without building ticks), axis labels, titles and
    legends outside the axes. Constrained layout measures every tick of every axes twice,
    which was a third of a figure's cost."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    r = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    px = r.points_to_pixels
    rc: Any = matplotlib.rcParams

    def extent(text: str, size: Any) -> tuple[float, float]:
        if not text:
            return 0.0, 0.0
        prop = FontProperties(size=size)
        sizes = [_text_metrics(r, line or " ", prop, False) for line in text.split("\n")]
        return max(w for w, _, _ in sizes), sum(h for _, h, _ in sizes) * 1.2

    def labels(axis: Any) -> list[str]:
        lo, hi = sorted(axis.get_view_interval())
        span = (hi - lo) * 1e-9
        locs = [v for v in axis.get_major_locator()() if lo - span <= v <= hi + span]
        return [t for t in axis.get_major_formatter().format_ticks(locs) if t]

    def line_height(texts: list[str], size: Any) -> float:
        """The tallest of ``texts`` as matplotlib lays each out (its own line height rule)."""
        from matplotlib.text import Text
        prop = FontProperties(size=size)
        out = 0.0
        for t in texts:
            item = Text(0, 0, t, fontproperties=prop)
            item.set_figure(fig)
            out = max(out, item.get_window_extent(r).height)
        return out

    need: dict[Any, list[float]] = {}  # axes -> [left, right, top, bottom] pixels outside it
    label_gap: dict[Any, tuple[float, float]] = {}  # axes -> pixels from it to its y label, x label
    for ax in fig.axes:
        left = right = top = bottom = 0.0
        if ax.axison:
            gaps = {}
            for axis, k in ((ax.yaxis, "y"), (ax.xaxis, "x")):
                params = axis.get_tick_params()
                texts = labels(axis)
                tick = px(rc[f"{k}tick.major.size"] + rc[f"{k}tick.major.pad"])
                sizes = [extent(t, rc[f"{k}tick.labelsize"]) for t in texts] or [(0.0, 0.0)]
                label = extent(axis.label.get_text(), axis.label.get_fontsize())[1]
                label += px(axis.labelpad) if label else 0.0
                if k == "y":
                    width = max(w for w, _ in sizes)
                    on_right = axis.get_label_position() == "right"  # a colour bar's
                    left += tick + (width if params.get("labelleft", True) else 0.0) + (0.0 if on_right else label)
                    right += (tick + width if params.get("labelright", False) else 0.0) + (label if on_right else 0.0)
                    shown = width if texts and params.get("labelleft", True) else None
                else:
                    height = max(h for _, h in sizes)
                    bottom += tick + (height if params.get("labelbottom", True) else 0.0) + label
                    top += tick + height if params.get("labeltop", False) else 0.0
                    shown = (line_height(texts, rc["xtick.labelsize"])
                             if texts and params.get("labelbottom", True) else None)
                # where matplotlib puts the axis label: beyond the tick labels (or the spine), by
                # its labelpad; said here, it no longer measures every tick label again to find it
                gaps[k] = (tick + shown if shown is not None else 0.0) + px(axis.labelpad)
            label_gap[ax] = (gaps["y"], gaps["x"])
        title = max(extent(ax.get_title(loc), rc["axes.titlesize"])[1] for loc in ("left", "center", "right"))
        top += title + px(rc["axes.titlepad"]) if title else 0.0
        legend = ax.get_legend()
        if legend is not None:
            box = legend.get_window_extent(r)
            right = max(right, box.x1 - ax.bbox.x1)
            top = max(top, box.y1 - ax.bbox.y1)
        need[ax] = [left, right, top, bottom]
    specs = {ax: ax.get_subplotspec() for ax in fig.axes}
    rows, cols = next(iter(specs.values())).get_gridspec().get_geometry()  # type: ignore[union-attr]
    first_row = [ax for ax, s in specs.items() if s.rowspan.start == 0]  # type: ignore[union-attr]
    last_row = [ax for ax, s in specs.items() if s.rowspan.stop == rows]  # type: ignore[union-attr]
    first_col = [ax for ax, s in specs.items() if s.colspan.start == 0]  # type: ignore[union-attr]
    last_col = [ax for ax, s in specs.items() if s.colspan.stop == cols]  # type: ignore[union-attr]
    edge = px(5.0)  # between the outermost text and the figure's border
    pad = px(8.0)  # between one axes' text and the next one's
    width, height = fig.bbox.width, fig.bbox.height
    left = max(need[ax][0] for ax in first_col) + edge
    right = max(need[ax][1] for ax in last_col) + edge
    top = max(need[ax][2] for ax in first_row) + edge
    bottom = max(need[ax][3] for ax in last_row) + edge
    hgap = max([need[a][3] + need[b][2] for a in fig.axes for b in fig.axes
                if specs[a].rowspan.stop == specs[b].rowspan.start] or [0.0]) + pad  # type: ignore[union-attr]
    wgap = max([need[a][1] + need[b][0] for a in fig.axes for b in fig.axes
                if specs[a].colspan.stop == specs[b].colspan.start] or [0.0]) + pad  # type: ignore[union-attr]
    axes_h = (height - top - bottom - (rows - 1) * hgap) / rows
    axes_w = (width - left - right - (cols - 1) * wgap) / cols
    if axes_h < 0.2 * height / rows or axes_w < 0.2 * width / cols:  # text crowds the axes out: let matplotlib try
        fig.set_layout_engine("constrained")
        return
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                        hspace=hgap / axes_h, wspace=wgap / axes_w)
    for ax, (y_gap, x_gap) in label_gap.items():
        box = ax.get_position()
        if ax.yaxis.get_label_position() == "left":
            ax.yaxis.set_label_coords(-y_gap / (box.width * width), 0.5)
        if ax.xaxis.get_label_position() == "bottom":
            ax.xaxis.set_label_coords(0.5, -x_gap / (box.height * height))


def _save(fig: Figure, path: Path) -> list[Path]:
    """Write ``fig`` as PNG and SVG from one draw: the layout, the ticks and every text are worked
    out once and each drawing call goes to both Agg and the SVG writer (``_tee``). A figure
    drawn once per format cost twice the artist walk, the larger part of a report's time."""
    import io
    import re

    from matplotlib.backends.backend_svg import RendererSVG
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png, svg = path.with_suffix(".png"), path.with_suffix(".svg")
    if fig.get_layout_engine() is None:
        _fit(fig)
    canvas = fig.canvas
    agg = canvas.get_renderer()  # type: ignore[attr-defined]
    agg.clear()
    width, height = agg.get_canvas_width_height()
    text = io.StringIO()
    # the SVG's user units are the PNG's pixels; sizes given in points are scaled to them (_tee)
    # and the header states the size in points, as matplotlib's own SVGs do
    vector = RendererSVG(width, height, text, image_dpi=72, metadata={"Date": None, "Creator": "latsim"})
    fig.draw(_tee(agg, vector, DPI / 72.0))
    vector.finalize()
    _replace(png, png_bytes(agg.buffer_rgba(), DPI))
    w_pt, h_pt = fig.get_size_inches() * 72.0
    out = re.sub(r'width="[^"]*pt" height="[^"]*pt"', f'width="{w_pt:g}pt" height="{h_pt:g}pt"', text.getvalue(),
                 count=1)
    _replace(svg, out.encode("utf-8"))
    return [png, svg]


def png_bytes(rgba: Any, dpi: float) -> bytes:
    """A PNG of an RGBA pixel buffer (rows top to bottom): RGB when every pixel is opaque (a
    figure's are), rows unfiltered and deflated at zlib level ``PNG_LEVEL``, the resolution in a
    pHYs chunk and nothing else (no software, no date: the same pixels give the same bytes).
    Pillow's adaptive row filters took 3x the time for files of about the same size."""
    import struct
    import zlib

    import numpy as np
    pixels = np.asarray(rgba, dtype=np.uint8)
    height, width = pixels.shape[:2]
    if bool((pixels[:, :, 3] == 255).all()):
        pixels, color = pixels[:, :, :3], 2
    else:
        color = 6
    rows = np.zeros((height, 1 + width * pixels.shape[2]), dtype=np.uint8)  # a 0 (no filter) before each row
    rows[:, 1:] = pixels.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    per_metre = round(dpi / 0.0254)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)) + chunk(b"IEND", b""))


@functools.cache
def _tee_class() -> type:
    from matplotlib.backend_bases import GraphicsContextBase, RendererBase

    class Tee(RendererBase):
        """Agg for every measurement and option (the PNG's pixels are the coordinates), every
        drawing call to both renderers, with the SVG's point sizes (line widths, dashes, fonts)
        scaled by ``k`` = dpi / 72 to its pixel units."""

        def __init__(self, agg: Any, svg: Any, k: float) -> None:
            super().__init__()
            self.agg, self.svg, self.k = agg, svg, k

        def __getattr__(self, name: str) -> Any:
            return getattr(self.agg, name)

        def points_to_pixels(self, points: Any) -> Any:
            return self.agg.points_to_pixels(points)

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
            return _text_metrics(self.agg, s, prop, ismath)

        def get_canvas_width_height(self) -> Any:
            return self.agg.get_canvas_width_height()

        def flipy(self) -> bool:
            return bool(self.agg.flipy())

        def option_image_nocomposite(self) -> bool:
            return bool(self.agg.option_image_nocomposite())

        def option_scale_image(self) -> bool:
            return False

        def new_gc(self) -> Any:
            return self.agg.new_gc()

        def open_group(self, s: str, gid: Any = None) -> None:
            self.agg.open_group(s, gid)
            self.svg.open_group(s, gid)

        def close_group(self, s: str) -> None:
            self.agg.close_group(s)
            self.svg.close_group(s)

        def _gc(self, gc: Any) -> Any:
            out = GraphicsContextBase()
            out.copy_properties(gc)
            out.set_linewidth(gc.get_linewidth() * self.k)
            offset, seq = gc.get_dashes()
            if seq is not None:
                out.set_dashes((offset or 0.0) * self.k, [d * self.k for d in seq])
            out.set_hatch_linewidth(gc.get_hatch_linewidth() * self.k)
            return out

        def draw_path(self, gc: Any, path: Any, transform: Any, rgbFace: Any = None) -> None:
            self.agg.draw_path(gc, path, transform, rgbFace)
            self.svg.draw_path(self._gc(gc), path, transform, rgbFace)

        def draw_markers(self, gc: Any, marker_path: Any, marker_trans: Any, path: Any, trans: Any,
                         rgbFace: Any = None) -> None:
            self.agg.draw_markers(gc, marker_path, marker_trans, path, trans, rgbFace)
            self.svg.draw_markers(self._gc(gc), marker_path, marker_trans, path, trans, rgbFace)

        def draw_path_collection(self, gc: Any, master_transform: Any, paths: Any, all_transforms: Any,
                                 offsets: Any, offset_trans: Any, facecolors: Any, edgecolors: Any,
                                 linewidths: Any, linestyles: Any, antialiaseds: Any, urls: Any,
                                 offset_position: Any, **kw: Any) -> None:
            self.agg.draw_path_collection(gc, master_transform, paths, all_transforms, offsets, offset_trans,
                                          facecolors, edgecolors, linewidths, linestyles, antialiaseds, urls,
                                          offset_position, **kw)
            k = self.k
            styles = [(None if o is None else o * k, None if d is None else [x * k for x in d]) for o, d in linestyles]
            self.svg.draw_path_collection(self._gc(gc), master_transform, paths, all_transforms, offsets, offset_trans,
                                          facecolors, edgecolors, [w * k for w in linewidths], styles,
                                          antialiaseds, urls, offset_position, **kw)

        def draw_quad_mesh(self, gc: Any, master_transform: Any, mesh_width: Any, mesh_height: Any,
                           coordinates: Any, offsets: Any, offset_trans: Any, facecolors: Any, antialiased: Any,
                           edgecolors: Any) -> None:  # the colour bar
            self.agg.draw_quad_mesh(gc, master_transform, mesh_width, mesh_height, coordinates, offsets,
                                    offset_trans, facecolors, antialiased, edgecolors)
            svg_gc = self._gc(gc)
            if not len(edgecolors):  # cells edged in their own colour: no hairline seams between them
                edgecolors = facecolors
                svg_gc.set_linewidth(max(svg_gc.get_linewidth(), 0.75))
            self.svg.draw_quad_mesh(svg_gc, master_transform, mesh_width, mesh_height, coordinates, offsets,
                                    offset_trans, facecolors, antialiased, edgecolors)

        def draw_gouraud_triangles(self, gc: Any, *args: Any) -> None:
            self.agg.draw_gouraud_triangles(gc, *args)
            self.svg.draw_gouraud_triangles(self._gc(gc), *args)

        def draw_image(self, gc: Any, x: Any, y: Any, im: Any, transform: Any = None) -> None:
            self.agg.draw_image(gc, x, y, im)
            self.svg.draw_image(self._gc(gc), x, y, im)

        def draw_text(self, gc: Any, x: Any, y: Any, s: str, prop: Any, angle: Any, ismath: Any = False,
                      mtext: Any = None) -> None:
            self.agg.draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            scaled = prop.copy()
            scaled.set_size(prop.get_size_in_points() * self.k)
            self.svg.draw_text(self._gc(gc), x, y, s, scaled, angle, ismath, mtext)

    return Tee


_METRICS: dict[tuple[Any, ...], Any] = {}  # (text, font, math, dpi, hinting) -> Agg's extent, for every figure


def _text_metrics(agg: Any, s: str, prop: Any, ismath: Any) -> Any:
    """Agg's text extent, measured once per process: the layout (``_fit``) and the draw (through
    ``_tee``, a renderer of its own) measure the same texts, and so do the figures one after the
    other (tick labels, axis labels, legends). matplotlib's own cache is per renderer, that is per
    figure; an extent depends only on the text, the font, the dpi and the hinting."""
    import matplotlib
    key = (s, prop.copy(), ismath, agg.dpi, matplotlib.rcParams["text.hinting"])
    out = _METRICS.get(key)
    if out is None:
        out = _METRICS[key] = agg.get_text_width_height_descent(s, prop, ismath)
    return out


def _tee(agg: Any, svg: Any, k: float) -> Any:
    return _tee_class()(agg, svg, k)


def _replace(path: Path, data: bytes) -> None:
    """Write a figure under a temporary name, then rename it over ``path``: a reader (the report,
    a browser) never sees half a file, and a redrawn figure is a new file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _colormap(name: str) -> Any:
    import matplotlib
    return matplotlib.colormaps[name]


def _rows(result: Any) -> Iterable[tuple[float, str, str, str, str, float]]:
    return getattr(result, "metric_rows", None) or []  # iterated once: a long run's rows are read back


def _duration(result: Any) -> float:
    s = result.summary
    return float(s.get("simulated_s") or s.get("duration_s") or 60.0)


def _clock(result: Any) -> tuple[float, str]:
    """(seconds per x-axis unit, axis label): seconds for runs up to 5 minutes, minutes beyond."""
    return (1.0, "simulated time (s)") if _duration(result) <= 300.0 else (60.0, "simulated time (min)")


def _series(result: Any, kind: str, metric: str, *, az: str | None = None) -> dict[str, dict[float, float]]:
    """name -> {minute start s: value summed over AZs} for one metric of one dimension kind."""
    out: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for t, k, name, row_az, m, value in _rows(result):
        if k == kind and m == metric and (az is None or row_az == az):
            out[name][t] += value
    return {n: dict(sorted(v.items())) for n, v in sorted(out.items())}


def time_series(result: Any, kind: str, metric: str) -> tuple[dict[str, dict[float, float]], int]:
    """(name -> {bucket start s: value over all AZs}, bucket length s) at the finest resolution the
    run recorded: its fine series (``Result.series``) when it has one, else CloudWatch's minutes."""
    fine = getattr(result, "series", None)
    if fine:
        out: dict[str, dict[float, float]] = defaultdict(dict)
        for t, k, name, m, value in fine:
            if k == kind and m == metric:
                out[name][t] = value
        return {n: dict(sorted(v.items())) for n, v in sorted(out.items())}, int(result.series_step)
    return _series(result, kind, metric), 60


def resolution_text(step: int) -> str:
    return "per minute" if step >= 60 else f"per {step} s"


def _busiest(result: Any, section: str, limit: int = MAX_SERIES) -> list[str]:
    data = result.summary.get(section, {})
    names = sorted(data, key=lambda n: (-data[n].get("TotalRequestCount", 0), n))
    return names[:limit]


def _of(shown: int, total: int) -> str:
    return f" (busiest {shown} of {total})" if total > shown else ""


def _shade_warmup(ax: Any, warmup_s: float, unit: float = 60.0) -> None:
    if warmup_s > 0:
        ax.axvspan(0, warmup_s / unit, color="#999999", alpha=0.15, lw=0, label="warm-up")


def _steps(ax: Any, series: dict[float, float], duration: float, per_second: bool, *, step: int = 60,
           unit: float = 60.0, **kw: Any) -> None:
    """A bucketed series as a step line (each bucket's value holds over its ``step`` seconds)."""
    if not series:
        return
    xs, ys = [], []
    for t, v in series.items():
        xs.append(t / unit)
        ys.append(v / max(min(float(step), duration - t), 1e-9) if per_second else v)
    xs.append(min(duration, max(series) + step) / unit)
    ys.append(ys[-1])
    ax.step(xs, ys, where="post", **kw)


EVENT_COLOR = "#7b3294"
CANARY_COLOR = "#1a9850"


def events(result: Any, scn: Any) -> list[tuple[float, float | None, str, str]]:
    """What happened when: (start s, end s or None, label, colour) for each timeline event (with
    its ``for`` window when the scenario, or its ``Scene``, is at hand) and each canary step."""
    out: list[tuple[float, float | None, str, str]] = []
    scene = Scene.of(scn)
    timeline = scene.timeline if scene is not None else ()
    for ev in result.summary.get("timeline") or []:
        t = float(ev.get("t_ms", 0.0)) / 1000.0
        kind = str(ev.get("kind", "event"))
        label, end = kind, None
        i = ev.get("event")
        if isinstance(i, int) and 0 <= i < len(timeline):
            fields, for_ = timeline[i]
            detail = fields.get(kind)
            if isinstance(detail, (str, int, float)):
                label = f"{kind} {detail}"
            elif isinstance(detail, list) and detail:
                label = f"{kind} {', '.join(map(str, detail[:2]))}{'…' if len(detail) > 2 else ''}"
            elif isinstance(detail, dict) and detail.get("service"):
                label = f"{kind} {detail['service']}"
            if for_:
                end = t + for_
        out.append((t, end, label, EVENT_COLOR))
    for c in result.summary.get("canary") or []:
        for st in c.get("steps") or []:
            out.append((float(st["t_ms"]) / 1000.0, None, f"{st['weight']}% {st['decision']}", CANARY_COLOR))
    return out


def mark_events(ax: Any, marks: list[tuple[float, float | None, str, str]], unit: float, *,
                labels: bool = True) -> None:
    """Timeline events (dashed, their window shaded) and canary steps (dotted) on a time axis;
    marks at the same time share one label."""
    texts: dict[tuple[float, str], list[str]] = {}
    for start, end, label, color in marks:
        ax.axvline(start / unit, color=color, lw=1.0, ls="--" if color == EVENT_COLOR else ":", alpha=0.9, zorder=4)
        if end is not None:
            ax.axvspan(start / unit, end / unit, color=color, alpha=0.08, lw=0, zorder=4)
        texts.setdefault((start, color), []).append(label)
    if not labels:
        return
    for (start, color), parts in texts.items():
        ax.text(start / unit, 0.97, " " + ", ".join(dict.fromkeys(parts)), transform=ax.get_xaxis_transform(),
                rotation=90, va="top", ha="left", fontsize=6.5, color=color, clip_on=True, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})


def _event_handles(marks: list[tuple[float, float | None, str, str]]) -> list[Any]:
    from matplotlib.lines import Line2D
    colors = {c for *_, c in marks}
    out: list[Any] = []
    if EVENT_COLOR in colors:
        out.append(Line2D([], [], color=EVENT_COLOR, ls="--", label="timeline event"))
    if CANARY_COLOR in colors:
        out.append(Line2D([], [], color=CANARY_COLOR, ls=":", label="canary step"))
    return out


def _time_axes(ax: Any, result: Any, scn: Any, *, labels: bool = True) -> list[Any]:
    """Warm-up band, events and limits of one time axis; returns legend handles for the marks."""
    unit, _ = _clock(result)
    _shade_warmup(ax, float(result.summary.get("warmup_s", 0)), unit)
    marks = events(result, scn)
    mark_events(ax, marks, unit, labels=labels)
    ax.set_xlim(0, _duration(result) / unit)
    return _event_handles(marks)


def _legend(ax: Any, extra: list[Any], **kw: Any) -> None:
    handles, _labels = ax.get_legend_handles_labels()
    ax.legend(handles=handles + extra, loc="upper left", bbox_to_anchor=(1.01, 1.0), **kw)


def _empty_note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777")


# -- figures -----------------------------------------------------------------------------------------
@_styled
def plot_request_rates(result: Any, scn: Any, path: Path) -> list[Path]:
    """Requests/s and 5xx/s per service, at the run's resolution, with the timeline's events."""
    names = _busiest(result, "services")
    if not names:
        return []
    duration = _duration(result)
    unit, xlabel = _clock(result)
    total, step = time_series(result, "service", "TotalRequestCount")
    errors, _ = time_series(result, "service", "HTTPCode_5XX_Count")
    fig = _figure(10, 5.5, measured=True)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    colors = _colormap("tab10")
    for i, name in enumerate(names):
        for ax, data in ((ax1, total), (ax2, errors)):
            _steps(ax, data.get(name, {}), duration, True, step=step, unit=unit, color=colors(i % 10), label=name,
                   lw=1.6)
    extra = _time_axes(ax1, result, scn)
    _time_axes(ax2, result, scn, labels=False)
    for ax in (ax1, ax2):
        ax.set_ylim(bottom=0)
    ax1.set_title(f"Request rate per service, {resolution_text(step)}"
                  + _of(len(names), len(result.summary.get("services", {}))))
    ax1.set_ylabel("requests (req/s)")
    ax2.set_title(f"5xx rate per service, {resolution_text(step)}")
    ax2.set_ylabel("HTTP 5xx (req/s)")
    ax2.set_xlabel(xlabel)
    _legend(ax1, extra, title="service")
    return _save(fig, path)


def _latency_panels(result: Any, scn: Any, path: Path, kind: str, section: str, what: str) -> list[Path]:
    """RequestTime p50/p90/p99 over time, one panel per dimension of ``kind`` (the busiest ones)."""
    names = _busiest(result, section)
    series: dict[int, dict[str, dict[float, float]]] = {}
    step = 60
    for q in (50, 90, 99):
        series[q], step = time_series(result, kind, f"RequestTime_p{q}")
    names = [n for n in names if any(n in series[q] for q in series)]
    if not names:
        return []
    duration = _duration(result)
    unit, xlabel = _clock(result)
    fig = _figure(10, 1.2 + 2.2 * len(names), measured=True)
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    styles = {50: ("#2e9d4a", "p50"), 90: ("#f0a020", "p90"), 99: ("#d1342f", "p99")}
    handles: dict[str, Any] = {}  # label -> handle, over every panel (they share their series)
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        for q, (color, label) in styles.items():
            _steps(ax, series[q].get(name, {}), duration, False, step=step, unit=unit, color=color, label=label,
                   lw=1.6)
        extra = _time_axes(ax, result, scn, labels=i == 0)
        ax.set_title(f"RequestTime of {what} {name}, {resolution_text(step)}")
        ax.set_ylabel("latency (ms)")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(_few_ticks())
        for handle in ax.get_legend_handles_labels()[0] + extra:
            handles.setdefault(handle.get_label(), handle)
    # one legend beside the top panel for all of them: each panel's own said the same (and ten
    # legends were a tenth of the figures' time)
    axes[0].legend(handles=list(handles.values()), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1].set_xlabel(xlabel)
    return _save(fig, path)


def _few_ticks() -> Any:
    """A y axis locator for panels a few inches tall: at most 6 labelled values (matplotlib's
    default puts up to 9 there, each tick a line, a grid line and a label to build and draw)."""
    from matplotlib.ticker import MaxNLocator
    return MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10])


@_styled
def plot_latency(result: Any, scn: Any, path: Path) -> list[Path]:
    """RequestTime p50/p90/p99 per service over time (from the per-bucket histograms)."""
    return _latency_panels(result, scn, path, "service", "services", "service")


@_styled
def plot_target_group_latency(result: Any, scn: Any, path: Path) -> list[Path]:
    """RequestTime p50/p90/p99 per target group over time: where a rule's requests go, and how
    long each destination takes."""
    return _latency_panels(result, scn, path, "target_group", "target_groups", "target group")


@_styled
def plot_latency_cdf(result: Any, scn: Any, path: Path) -> list[Path]:
    """Latency CDFs: clients (end to end, retries included) and target groups (RequestTime)."""
    hists = getattr(result, "histograms", None) or {}
    groups = [("clients", "Client latency CDF (end to end)"), ("target_groups", "Target-group RequestTime CDF")]
    if not any(h.count for g, _ in groups for h in hists.get(g, {}).values()):
        return []
    fig = _figure(11, 4.5, measured=True)
    axes = fig.subplots(1, 2)
    colors = _colormap("tab10")
    for ax, (group, title) in zip(axes, groups, strict=True):
        drawn = 0
        for i, (name, h) in enumerate(sorted(hists.get(group, {}).items())):
            if not h.count or drawn >= MAX_SERIES:
                continue
            xs, ys = h.cdf()
            xs = [max(x * 1000.0, 1e-3) for x in xs]
            ax.step(xs, ys, where="post", color=colors(i % 10), lw=1.6,
                    label=f"{name} (p99 {h.percentile(99) * 1000:.1f} ms)")
            drawn += 1
        for q in (0.5, 0.9, 0.99):
            ax.axhline(q, color="#777777", lw=0.6, ls=":")
        ax.set_xscale("log")
        # plain numbers (0.1, 1, 10 ms) instead of the default 10^x mathtext, whose parser alone
        # costs 0.2-0.3 s to build; the ticks are the same
        from matplotlib.ticker import LogFormatter, LogLocator
        ax.xaxis.set_major_formatter(LogFormatter())
        ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        # minor ticks at 2 and 5 times each power of ten (matplotlib's default, 2 to 9, built
        # and drew 56 ticks for the two panels: a quarter of all the figures' ticks)
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.set_ylim(0, 1.01)
        ax.set_title(title)
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("fraction of requests ≤ latency")
        if drawn:
            ax.legend(loc="lower right")
        else:
            _empty_note(ax, "no requests")
    return _save(fig, path)


@_styled
def plot_canary(result: Any, scn: Any, path: Path) -> list[Path]:
    """Per canary: the weight the controller set against the share of requests the canary
    target group actually received each minute, with the controller's decisions marked."""
    canaries = result.summary.get("canary") or []
    if not canaries:
        return []
    models = scn.canaries if scn is not None else {}
    duration = _duration(result)
    unit, xlabel = _clock(result)
    tg_counts, step = time_series(result, "target_group", "TotalRequestCount")
    fig = _figure(10, 1.4 + 3.0 * len(canaries), measured=True)
    axes = fig.subplots(len(canaries), 1, squeeze=False)[:, 0]
    for ax, c in zip(axes, canaries, strict=True):
        steps = c.get("steps") or []
        if steps:
            xs = [s["t_ms"] / 1000.0 / unit for s in steps] + [duration / unit]
            ys = [s["weight"] for s in steps] + [steps[-1]["weight"]]
            ax.step(xs, ys, where="post", color="#1f77b4", lw=2, label="canary weight set (%)")
        m = models.get(c["name"])
        if m is not None:
            canary, primary = m
            can, prim = tg_counts.get(canary, {}), tg_counts.get(primary, {})
            obs = [((t + min(step, duration - t) / 2.0) / unit, 100.0 * can.get(t, 0) / (can.get(t, 0) + prim.get(t, 0)))
                   for t in sorted(set(can) | set(prim)) if t >= 0 and can.get(t, 0) + prim.get(t, 0) > 0]
            if obs:
                ax.plot([o[0] for o in obs], [o[1] for o in obs], "o--", color="#ff7f0e", ms=3, lw=0.8,
                        label=f"observed share of {canary} (%, {resolution_text(step)})")
        seen: set[str] = set()
        for s in steps:
            marker, color = DECISION_MARKERS.get(s["decision"], ("o", "#333333"))
            ax.scatter([s["t_ms"] / 1000.0 / unit], [s["weight"]], marker=marker, color=color, s=70, zorder=5,
                       label=s["decision"] if s["decision"] not in seen else None)
            seen.add(s["decision"])
        unit_marks = [e for e in events(result, scn) if e[3] == EVENT_COLOR]  # its own steps are drawn above
        mark_events(ax, unit_marks, unit)
        _shade_warmup(ax, float(result.summary.get("warmup_s", 0)), unit)
        ax.set_xlim(0, duration / unit)
        ax.set_ylim(-5, 105)
        ax.set_title(f"Canary {c['name']}: {c.get('outcome', '?')}")
        ax.set_ylabel("traffic to canary (%)")
        ax.set_xlabel(xlabel)
        _legend(ax, _event_handles(unit_marks), title="weight, split, decisions")
    return _save(fig, path)


def _short_id(target_id: str) -> str:
    """A target id short enough for an axis label: an ARN keeps its resource part."""
    if target_id.startswith("arn:") and target_id.count(":") >= 5:
        return "…" + target_id.split(":", 5)[5]
    return target_id


@_styled
def plot_target_health(result: Any, scn: Any, path: Path) -> list[Path]:
    """A strip per target: its health state over the run."""
    from matplotlib.patches import Patch
    strips: list[tuple[str, list[list[Any]]]] = []
    for tg_name, tg in sorted(result.summary.get("target_groups", {}).items()):
        for tid, t in sorted(tg.get("targets", {}).items()):
            strips.append((f"{tg_name} / {_short_id(tid)}", t.get("health") or []))
    if not strips:
        return []
    shown = strips[:MAX_STRIPS]
    duration = _duration(result)
    unit, xlabel = _clock(result)
    fig = _figure(10, 1.3 + 0.32 * len(shown), measured=True)
    ax = fig.subplots()
    used: set[str] = set()
    for i, (_label, log) in enumerate(shown):
        y = len(shown) - 1 - i
        for j, (t_ms, state) in enumerate(log):
            start = t_ms / 1000.0 / unit
            end = log[j + 1][0] / 1000.0 / unit if j + 1 < len(log) else duration / unit
            if end > start or j + 1 == len(log):
                ax.broken_barh([(start, max(end - start, 1e-6))], (y - 0.38, 0.76),
                               color=HEALTH_COLORS.get(state, "#000000"))
                used.add(state)
    ax.set_yticks(range(len(shown)), [label for label, _ in reversed(shown)])
    ax.set_ylim(-0.6, len(shown) - 0.4)
    extra = _time_axes(ax, result, scn)
    ax.grid(axis="y", visible=False)
    more = f" (first {MAX_STRIPS} of {len(strips)})" if len(strips) > MAX_STRIPS else ""
    ax.set_title(f"Target health over time{more}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("target group / target")
    ax.legend(handles=[Patch(color=HEALTH_COLORS.get(s, "#000000"), label=HEALTH_LABELS.get(s, s))
                       for s in HEALTH_COLORS if s in used] + extra,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), title="health state (as Lattice reports it)")
    return _save(fig, path)


def requests_by_az(result: Any) -> dict[tuple[str, str], float]:
    """(target group, AZ of the target) -> requests its targets served after the warm-up: the
    summary's per-target counts, so that the heatmap and the tables agree."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for tg_name, tg in result.summary.get("target_groups", {}).items():
        for t in tg.get("targets", {}).values():
            counts[(tg_name, str(t.get("az") or "-"))] += float(t.get("TotalRequestCount", 0))
    return dict(counts)


@_styled
def plot_az_heatmap(result: Any, scn: Any, path: Path) -> list[Path]:
    """Requests per target group and target AZ after the warm-up (the tables' figures)."""
    counts = requests_by_az(result)
    if not any(counts.values()):
        return []
    tgs = sorted({k[0] for k in counts})
    azs = sorted({k[1] for k in counts})
    grid = [[counts.get((tg, az), 0.0) for az in azs] for tg in tgs]
    fig = _figure(max(5.5, 1.8 + 1.3 * len(azs)), max(2.8, 1.2 + 0.45 * len(tgs)), measured=True)
    # the colour bar in a narrow column of the measured grid (constrained layout measured every
    # tick twice to place it)
    ax, cax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 0.035]})
    peak = max(max(r) for r in grid) or 1.0
    ax.imshow(grid, cmap="Blues", aspect="auto", vmin=0, vmax=peak)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=8,
                    color="white" if v > 0.6 * peak else "black")
    ax.set_xticks(range(len(azs)), azs)
    ax.set_yticks(range(len(tgs)), tgs)
    ax.grid(False)
    ax.set_xlabel("availability zone of the target")
    ax.set_ylabel("target group")
    ax.set_title("Requests per target group and AZ (after the warm-up)")
    # the colour bar: the colour map as an image beside a value axis (matplotlib's colorbar draws
    # it as 256 quadrilaterals, each written to the SVG as a path of its own: a fifth of the figure)
    cax.imshow([[v] for v in range(256)], cmap="Blues", aspect="auto", origin="lower", extent=(0.0, 1.0, 0.0, peak),
               interpolation="nearest")
    cax.set_xticks([])
    cax.grid(False)
    cax.yaxis.tick_right()
    cax.yaxis.set_label_position("right")
    cax.set_ylabel("requests (count)")
    return _save(fig, path)


_LAYER = {"client": 0, "vpc": 1, "service_network": 2, "service": 3, "target_group": 4}
_SHAPES = {"client": "v", "vpc": "s", "service_network": "h", "service": "o", "target_group": "D"}
_KIND_LABEL = {"client": "client", "vpc": "VPC", "service_network": "service network", "service": "service",
               "target_group": "target group"}


NODE_SIZE = 900  # a node's marker area (points squared)
_EDGE_STYLES = {"placement": ("#9a9a9a", "dotted"), "association": ("#1f77b4", "solid"),
                "forward": ("#d62728", "solid")}


@dataclass
class _Flow:
    """The topology figure's graph: nodes (in the topology graph's order) with their kind, and
    edges as they are drawn — a client points at its VPC, a service's rules collapse into one
    service -> target group edge labelled with them."""
    kind: dict[str, str]
    succ: dict[str, dict[str, dict[str, Any]]]
    pred: dict[str, dict[str, None]]

    def edges(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(u, v, d) for u, out in self.succ.items() for v, d in out.items()]

    def add_edge(self, u: str, v: str, **attrs: Any) -> None:
        self.succ[u].setdefault(v, {}).update(attrs)
        self.pred[v][u] = None


def _flow(scene: Scene, labels: dict[str, str]) -> _Flow:
    """The flow view of the scene's topology graph; a target group's VPC goes under its name in
    ``labels`` instead of an edge."""
    nodes = scene.nodes
    flow = _Flow({n: d["kind"] for n, d in nodes.items()}, {n: {} for n in nodes}, {n: {} for n in nodes})
    for u, v, d in scene.edges:
        if d["kind"] == "placement" and flow.kind[v] == "client":
            flow.add_edge(v, u, kind="placement")
        elif d["kind"] == "placement":  # a target group's VPC: named under it, not drawn as a back edge
            labels[v] += f"\n(in {nodes[u]['label']})"
        elif d["kind"] == "association":
            flow.add_edge(u, v, **d)
    for (svc, tg), rules in scene.forwards.items():
        text = ", ".join(f"{r} {w}" for r, w in rules) if len(rules) <= 3 else f"{len(rules)} rules"
        flow.add_edge(svc, tg, kind="forward", weight=text)
    # VPCs that only hold targets need no node of their own (Lattice reaches them without an association).
    lone = [n for n, k in flow.kind.items() if k == "vpc" and not flow.succ[n] and not flow.pred[n]]
    for n in lone:
        del flow.kind[n], flow.succ[n], flow.pred[n]
    return flow


@_styled
def plot_topology(result: Any, scn: Any, path: Path) -> list[Path]:
    """Clients, VPCs, service networks, services and target groups, left to right; colour = account.
    Drawn with matplotlib alone: nodes as one marker collection per kind, edges as arrows
    stopping at the markers' edges, labels as plain texts."""
    if scn is None:
        return []
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, Patch
    from matplotlib.transforms import ScaledTranslation

    attrs = {n: dict(d) for n, d in scn.nodes.items()}  # clients take their VPC's account below
    labels = {n: d["label"] for n, d in attrs.items()}
    if not labels:
        return []
    flow = _flow(scn, labels)
    nodes = list(flow.kind)
    pos = _layered_positions(flow)
    for n in nodes:
        labels[n] += _auth_label(attrs[n])
    tallest = max(sum(1 for n in nodes if flow.kind[n] == k) for k in _LAYER)
    fig = _figure(12, min(30.0, max(4.5, 1.2 + 0.9 * tallest)), measured=True)
    ax = fig.subplots()
    ax.set_axis_off()
    accounts = sorted({str(attrs[n].get("account") or "") for n in nodes} - {""})
    for n in nodes:  # clients take their VPC's account
        if flow.kind[n] == "client":
            vpcs = [v for v in flow.succ[n] if flow.kind[v] == "vpc"]
            attrs[n]["account"] = attrs[vpcs[0]].get("account") if vpcs else None
    palette = _colormap("Pastel1")
    acct_color = {a: palette(i % 9) for i, a in enumerate(accounts)}
    names = scn.accounts
    for kind, shape in _SHAPES.items():
        members = [n for n in nodes if flow.kind[n] == kind]
        if members:
            ax.scatter([pos[n][0] for n in members], [pos[n][1] for n in members], s=NODE_SIZE, marker=shape,
                       c=[acct_color.get(str(attrs[n].get("account")), "#dddddd") for n in members],
                       edgecolors="#333333", linewidths=1.0, zorder=2, gid=f"topology-nodes-{kind}")
    # arrows end at the markers' edges (the radius of a round marker of NODE_SIZE, in points)
    margin = NODE_SIZE ** 0.5 / 2
    for kind, (color, style) in _EDGE_STYLES.items():
        edges = [(u, v, d) for u, v, d in flow.edges() if d["kind"] == kind]
        endpoint = [(u, v) for u, v, d in edges if d.get("via") == "endpoint"]
        plain = [(u, v) for u, v, d in edges if d.get("via") != "endpoint"]
        for group, ls in ((plain, style), (endpoint, "dashed")):
            for u, v in group:  # the SVG names each (its group's id), for readers and tests
                ax.add_patch(FancyArrowPatch(pos[u], pos[v], arrowstyle="-|>", mutation_scale=12, color=color,
                                             ls=ls, lw=1.3, shrinkA=margin, shrinkB=margin, zorder=1,
                                             gid=f"topology-edge-{kind}-{len(ax.patches)}"))
    edge_labels = {(u, v): str(d["weight"]) for u, v, d in flow.edges() if d["kind"] == "forward"}
    edge_labels.update(_association_labels(flow))
    for (u, v), text in edge_labels.items():
        (x0, y0), (x1, y1) = pos[u], pos[v]
        # along the edge, upright: the angle is in data units, turned into the screen's by the
        # transform when drawn (transform_rotates_text)
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        angle = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle < -90.0 else angle
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, fontsize=7, ha="center", va="center", rotation=angle,
                rotation_mode="anchor", transform_rotates_text=True, zorder=1, clip_on=True,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})
    denied = _draw_denied(ax, pos, scn.denied, {(d["kind"], d["name"]): n for n, d in attrs.items()})
    iam = [n for n in nodes if attrs[n].get("auth_type") == "AWS_IAM"]
    if iam:  # a thick dark ring marks where an auth policy decides
        ax.scatter([pos[n][0] for n in iam], [pos[n][1] for n in iam], s=1500, marker="o", c="none",
                   edgecolors="#b35806", linewidths=2.2, zorder=2, gid="topology-auth-rings")
    below = ax.transData + ScaledTranslation(0, -19 / 72, fig.dpi_scale_trans)  # 19 points under the node
    for n in nodes:
        ax.text(pos[n][0], pos[n][1], labels[n], transform=below, ha="center", va="top", fontsize=8)
    for kind, layer in _LAYER.items():
        ax.text(layer, 1.1, _KIND_LABEL[kind] + "s", ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set_xlim(-0.6, 4.6)
    ax.set_ylim(-0.25, 1.2)
    handles: list[Any] = [Line2D([], [], marker=_SHAPES[k], ls="none", color="#666666", label=_KIND_LABEL[k], ms=8)
               for k in _LAYER]
    handles += [Patch(facecolor=acct_color[a], edgecolor="#333333", label=f"account {names.get(a, a)}")
                for a in accounts]
    kinds = {d["kind"] for _, _, d in flow.edges()}
    vias = {d.get("via") for _, _, d in flow.edges()}
    legend_edges = [("client in VPC", _EDGE_STYLES["placement"], "placement" in kinds),
                    ("association", _EDGE_STYLES["association"], "association" in kinds),
                    ("SN endpoint", (_EDGE_STYLES["association"][0], "dashed"), "endpoint" in vias),
                    ("forward (rule weight)", _EDGE_STYLES["forward"], "forward" in kinds)]
    handles += [Line2D([], [], color=c, ls=ls, label=lbl) for lbl, (c, ls), used in legend_edges if used]
    if iam:
        handles.append(Line2D([], [], marker="o", ls="none", mfc="none", mec="#b35806", mew=2.2, ms=11,
                              label="auth_type AWS_IAM"))
    if denied:
        handles.append(Line2D([], [], color=DENIED_COLOR, ls="dashed", label=f"denied (403): {denied} pair"
                              + ("s" if denied != 1 else "")))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="legend")
    ax.set_title(f"Topology of {scn.name}")
    return _save(fig, path)


DENIED_COLOR = "#c51b7d"
MAX_DENIED = 30  # denied pairs drawn (the report's table lists them all)


def _auth_label(node: dict[str, Any]) -> str:
    """A service network's or service's auth type under its name."""
    auth = node.get("auth_type")
    return f"\nauth {auth}" if node.get("kind") in ("service_network", "service") and auth else ""


def _association_labels(flow: _Flow) -> dict[tuple[str, str], str]:
    """VPC -> service network associations labelled with their security groups."""
    return {(u, v): "SG " + ", ".join(d["security_groups"]) for u, v, d in flow.edges()
            if d["kind"] == "association" and d.get("security_groups")}


def denied_pairs(scn: Any, topo: Any = None) -> list[tuple[str, str, str]]:
    """(client, service, authDeniedReason) for every client the auth policies deny (403) on some
    listener of a service, as ``latsim matrix`` decides it for the client's own requests
    (``topo``: the scenario's ``latsim.compile.Topology``, when built already)."""
    from latsim.analysis.matrix import CSV_COLUMNS, compute_matrix
    from latsim.compile import Topology
    if not scn.clients or not scn.services:
        return []
    col = {c: i for i, c in enumerate(CSV_COLUMNS)}
    out: dict[tuple[str, str], str] = {}
    for row in compute_matrix(topo if topo is not None else Topology(scn)).rows():
        if row[col["status"]] == 403 and row[col["auth_denied_reason"]]:
            out.setdefault((row[col["client"]], row[col["service"]]), str(row[col["auth_denied_reason"]]))
    return [(c, svc, why) for (c, svc), why in out.items()]


def _draw_denied(ax: Any, pos: dict[str, tuple[float, float]], pairs: Sequence[tuple[str, str, str]],
                 node: dict[tuple[str, str], str]) -> int:
    """Client -> service arcs for denied pairs (``node``: (kind, name) -> the topology's node),
    labelled with who says no; returns how many."""
    from matplotlib.patches import FancyArrowPatch
    drawn = 0
    for client, service, why in pairs[:MAX_DENIED]:
        a, b = pos.get(node.get(("client", client), "")), pos.get(node.get(("service", service), ""))
        if a is None or b is None:
            continue
        ax.add_patch(FancyArrowPatch(a, b, connectionstyle="arc3,rad=-0.18", arrowstyle="-|>", mutation_scale=11,
                                     color=DENIED_COLOR, ls="dashed", lw=1.2, shrinkA=14, shrinkB=16, zorder=0.5))
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.18 * abs(b[0] - a[0]) / 3)
        ax.text(mid[0], mid[1], f"403 {why}", color=DENIED_COLOR, fontsize=6.5, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        drawn += 1
    return drawn


def _layered_positions(flow: _Flow) -> dict[str, tuple[float, float]]:
    """x = layer; y spread evenly in [0, 1], ordered by the mean position of each node's
    neighbours in the previous layer (one barycentre pass, enough for readable drawings)."""
    layers: dict[int, list[str]] = defaultdict(list)
    for n, kind in flow.kind.items():
        layers[_LAYER[kind]].append(n)
    pos: dict[str, tuple[float, float]] = {}
    for layer in sorted(layers):
        members = sorted(layers[layer])

        def key(n: str) -> tuple[float, str]:
            ys = [pos[m][1] for m in list(flow.pred[n]) + list(flow.succ[n]) if m in pos]
            return (-(sum(ys) / len(ys)) if ys else 0.0, n)
        members.sort(key=key)
        k = len(members)
        for i, n in enumerate(members):
            pos[n] = (float(layer), 0.5 if k == 1 else 1.0 - i / (k - 1))
    return pos


# -- all of them --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlotSpec:
    name: str
    title: str
    caption: str
    fn: PlotFn


@dataclass(frozen=True)
class RenderedPlot:
    name: str
    title: str
    caption: str
    paths: tuple[Path, ...]

    @property
    def png(self) -> Path:
        return next(p for p in self.paths if p.suffix == ".png")

    @property
    def svg(self) -> Path:
        return next(p for p in self.paths if p.suffix == ".svg")


_MARKS = "Dashed lines are timeline events (their window shaded), dotted lines canary steps; the grey band is " \
    "the warm-up, left out of every table."
PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("topology", "Topology", "Who can reach what: clients sit in VPCs, VPCs join service networks "
             "(association, labelled with its security groups, or SN endpoint), services forward to target groups "
             "(edge labels: rule and weight). Auth type under each service network and service; red dashed edges: "
             "client -> service pairs that auth policies deny (403).", plot_topology),
    PlotSpec("request_rates", "Request and 5xx rates", "Per service, in buckets chosen for the run's length "
             "(seconds for short runs, minutes for long ones; metrics.parquet keeps CloudWatch's minutes). "
             + _MARKS, plot_request_rates),
    PlotSpec("latency", "Latency over time", "RequestTime p50/p90/p99 per service. " + _MARKS, plot_latency),
    PlotSpec("target_group_latency", "Latency per target group", "RequestTime p50/p90/p99 of each target group: "
             "the destinations of the rules (see the split in the rules table). " + _MARKS,
             plot_target_group_latency),
    PlotSpec("latency_cdf", "Latency distributions", "Whole-run CDFs after warm-up: clients end to end "
             "(retries included) and target groups.", plot_latency_cdf),
    PlotSpec("canary", "Canary", "The weight the controller set and the share the canary target group "
             "received in each bucket, with the controller's decisions and the timeline's events.", plot_canary),
    PlotSpec("target_health", "Target health", "Each target's health state as Lattice reports it; UNAVAILABLE "
             "means not health checked (Lambda and ALB groups never are) and such targets still receive traffic. "
             + _MARKS, plot_target_health),
    PlotSpec("az_heatmap", "Requests by AZ", "Requests each target group's targets served in each Availability "
             "Zone after the warm-up (the tables' figures).", plot_az_heatmap),
)


def render_all(result: Any, scn: Any, out_dir: str | Path, *, only: Iterable[str] | None = None) -> list[RenderedPlot]:
    """Write every applicable figure into ``out_dir``; return what was drawn, in report order."""
    out = Path(out_dir)
    wanted = set(only) if only is not None else None
    scn = Scene.of(scn)  # once for every figure
    drawn: list[RenderedPlot] = []
    for spec in PLOTS:
        if wanted is not None and spec.name not in wanted:
            continue
        paths = spec.fn(result, scn, out / spec.name)
        if paths:
            drawn.append(RenderedPlot(spec.name, spec.title, spec.caption, tuple(paths)))
    return drawn


def plot_all(result: Any, scn: Any, out_dir: str | Path) -> list[Path]:
    """Write every applicable figure (PNG and SVG) into ``out_dir``; return the written paths."""
    return [p for r in render_all(result, scn, out_dir) for p in r.paths]
