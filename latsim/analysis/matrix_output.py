"""Writing a matrix: CSV and JSON streamed from its tables (a fragment per endpoint and per
distinct cell, not a dict per cell), and the table ``latsim matrix`` prints."""

from __future__ import annotations

import csv
import io
import json
import operator
from collections.abc import Iterable, Mapping
from typing import IO, Any

from latsim.analysis.equivalence import Cell, summary, uniform_summary
from latsim.analysis.matrix import CSV_COLUMNS, Matrix
from latsim.compile import FORWARDED, RequestClass


def write_csv(m: Matrix, fh: IO[str]) -> None:
    """The rows as CSV (``csv.writer``'s dialect, ``\\n`` line ends), from fragments
    rendered once per endpoint and per distinct cell."""
    fh.write(_csv_line(CSV_COLUMNS) + "\n")
    heads = [_csv_line((ep.service, ep.listener, ep.port)) + "," for ep in m.endpoints]
    frags: dict[int, dict[int, str]] = {}
    starts: dict[tuple[Any, ...], str] = {}  # the columns before the reason, of uniform cells
    verdicts = m.table.verdicts
    for name in m.clients:
        g = m.group(name)
        k = len(g.requests)
        known = frags.setdefault(k, {})
        for code in set(g.row).difference(known):
            if code < 0:
                v = verdicts[~code]
                key = (v.outcome, v.status, v.failure, v.auth_denied_reason, v.rule, v.target_groups, k)
                start = starts.get(key)
                if start is None:
                    start = starts[key] = _csv_line(uniform_summary(v, k)[:-1]) + ","
                known[code] = start + _csv_field(v.reason) + "\n"
            else:
                known[code] = _csv_line(m.tail(code, k)) + "\n"
        prefix = _csv_field(name) + ","
        fh.write(prefix + prefix.join(map(operator.add, heads, map(known.__getitem__, g.row))))
    for row in m.call_rows:
        for i, items in row.cells.items():
            fh.write(_csv_field(row.name) + "," + heads[i] + _csv_line(summary([v for _, _, v in items])) + "\n")


def write_json(m: Matrix, fh: IO[str]) -> None:
    """``json.dump(m.to_dict(), fh, indent=1)`` and a newline, streamed: each cell is
    rendered from a fragment per client, per endpoint and per distinct cell."""
    marker = "\x00latsim matrix cells\x00"
    text = json.dumps({**m.head(), "cells": marker, "summary": m.stats()}, indent=1)
    before, after = text.split(json.dumps(marker), 1)
    fh.write(before)
    if not m.clients or not m.endpoints:
        calls = _call_cells_json(m, "[\n  ")
        fh.write(calls + "\n ]" if calls else "[]")
    else:
        heads = [_json_members({"service": ep.service, "listener": ep.listener, "port": ep.port})
                 for ep in m.endpoints]
        frags: dict[tuple[RequestClass, ...], dict[int, str]] = {}
        sep = "[\n  "
        for name in m.clients:
            g = m.group(name)
            known = frags.setdefault(g.requests, {})
            for code in set(g.row).difference(known):
                known[code] = ",\n   " + _json_members(m.json_cell(code, g.requests)) + "\n  }"
            prefix = "{\n   " + _json_members({"client": name}) + ",\n   "
            fh.write(sep + ",\n  ".join(map(operator.add, [prefix + h for h in heads],
                                              map(known.__getitem__, g.row))))
            sep = ",\n  "
        fh.write(_call_cells_json(m, ",\n  "))
        fh.write("\n ]")
    fh.write(after)
    fh.write("\n")


def _call_cells_json(m: Matrix, sep: str) -> str:
    """``m.call_cells()`` as ``write_json`` writes cells, each preceded by ``sep`` (then ``,``)."""
    parts = []
    for d in m.call_cells():
        parts.append(sep + "{\n   " + _json_members(d) + "\n  }")
        sep = ",\n  "
    return "".join(parts)


def _csv_field(x: Any) -> str:
    """One field as ``csv.writer(fh, lineterminator="\\n")`` writes it inside a row of several
    fields: quoted (quotes doubled) when it holds the delimiter, a quote or a line end."""
    if x is None:
        return ""
    s = x if isinstance(x, str) else str(x)
    if "," in s or '"' in s or "\n" in s:
        return '"' + s.replace('"', '""') + '"'
    if "\r" in s:  # quoted or not depending on the Python version: ask the csv module
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow((s, ""))
        return buf.getvalue()[:-2]
    return s


def _csv_line(fields: Iterable[Any]) -> str:
    return ",".join(map(_csv_field, fields))


def _json_members(d: Mapping[str, Any]) -> str:
    """``d``'s members as ``json.dumps(..., indent=1)`` writes them for a dict three levels deep
    (a cell of the ``cells`` list), without the braces."""
    return json.dumps(d, indent=1)[2:-2].replace("\n", "\n  ")[1:]


_CELL_STYLE = {"forwarded": ("✓", "green"), "fixed_response": (None, "yellow"), "denied": (None, "red"),
               "unreachable": ("✗", "red"), "target_failure": ("✗", "red"), "mixed": ("~", "yellow")}
GRID_MAX_ENDPOINTS = 24


def render_table(m: Matrix, console: Any) -> None:
    """A coloured grid (clients x endpoints) with the reasons below it; a long table when wide."""
    from rich.markup import escape as e
    from rich.table import Table
    if len(m.endpoints) <= GRID_MAX_ENDPOINTS:
        multi = {e_.service for e_ in m.endpoints if sum(1 for x in m.endpoints if x.service == e_.service) > 1}
        t = Table(title="reachability view: what each client could reach, its whole mix against every listener "
                  "(rows: clients" + (", then calling target groups" if m.call_rows else "")
                  + ", columns: services)", title_justify="left")
        t.add_column("client")
        for ep in m.endpoints:
            t.add_column(ep.label if ep.service in multi else ep.service, justify="center")
        reasons: dict[str, list[str]] = {}
        for name in m.clients:
            g = m.group(name)
            cells = []
            for ep, c in zip(m.endpoints, g.cells, strict=True):
                verdict = c.verdict
                mark, style = _CELL_STYLE[verdict]
                main = c.main()
                text = mark or (str(main.status) if main.status is not None else "✗")  # TLS: closed
                cells.append(f"[{style}]{text}[/{style}]")
                if verdict != FORWARDED:
                    reason = m.row_tail(c)[-1]
                    reasons.setdefault(f"{verdict}: {reason}", []).append(f"{name} -> {ep.label}")
            t.add_row(e(name), *cells)
        for crow in m.call_rows:
            cells = []
            for i, ep in enumerate(m.endpoints):
                items = crow.cells.get(i)
                if not items:
                    cells.append("[dim]·[/dim]")
                    continue
                c = Cell(tuple(v for _, _, v in items))
                mark, style = _CELL_STYLE[c.verdict]
                status = c.main().status
                cells.append(f"[{style}]{mark or (str(status) if status is not None else '✗')}[/{style}]")
                if c.verdict != FORWARDED:
                    reasons.setdefault(f"{c.verdict}: {summary(c.results)[-1]}", []).append(
                        f"{crow.name} -> {ep.label}")
            t.add_row(f"[italic]{e(crow.name)}[/italic]", *cells)
        console.print(t)
        console.print("[green]✓[/green] forwarded  [yellow]404/500[/yellow] fixed response  [red]403[/red] denied  "
                      "[red]✗[/red] unreachable or target failure  [yellow]~[/yellow] some requests of the mix only"
                      + ("  [dim]·[/dim] not called; [italic]italic[/italic] rows: calling target groups, their "
                         "calls" if m.call_rows else ""))
        for reason, where in reasons.items():
            shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
            console.print(f"  {e(reason)}  [dim]({e(shown)})[/dim]")
    else:
        t = Table(title="reachability", title_justify="left")
        for col in ("client", "service", "listener", "verdict", "status", "reason"):
            t.add_column(col)
        for row in m.rows():
            verdict = row[4]
            style = _CELL_STYLE[verdict][1]
            t.add_row(e(row[0]), e(row[1]), e(row[2]), f"[{style}]{verdict}[/{style}]",
                      "" if row[5] is None else str(row[5]), e(str(row[-1])))
        console.print(t)
    s = m.stats()
    counts = ", ".join(f"{k} {v:,}" for k, v in s["by_verdict"].items() if v)
    console.print(f"{s['cells']:,} cells ({counts}); {s['caller_groups']:,} caller classes, "
                  f"{s['routes_evaluated']:,} route decisions", markup=False)
    if m.call_rows:
        calls = [v for crow in m.call_rows for items in crow.cells.values() for _, _, v in items]
        bad = sum(1 for v in calls if v.outcome != FORWARDED)
        console.print(f"{len(m.call_rows)} calling target groups, {len(calls)} calls ({bad} not forwarded)",
                      markup=False)


__all__ = ["render_table", "write_csv", "write_json"]
