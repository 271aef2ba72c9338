"""SLO verdicts: each objective of the scenario's ``slo:`` list against what a run measured."""

from __future__ import annotations

from typing import Any


def caller_error_rate(section: dict[str, Any]) -> float | None:
    """The error rate callers experience at a service or target group: every response that is
    not 2xx/3xx (Lattice's own 403/404/5xx and the targets' 4xx/5xx alike), requests closed
    without a response (a client timeout), and attempts that failed before Lattice answered
    (connection errors: ``unreached``) -- over every attempt. None without requests."""
    total = section.get("TotalRequestCount", 0)
    unreached = section.get("unreached", 0)
    attempts = total + unreached
    if not attempts:
        return None
    ok = section.get("HTTPCode_2XX_Count", 0) + section.get("HTTPCode_3XX_Count", 0)
    return (attempts - ok) / attempts


def server_error_rate(section: dict[str, Any]) -> float | None:
    """The 5xx-only figure: HTTPCode_5XX_Count / TotalRequestCount (None without requests)."""
    total = section.get("TotalRequestCount", 0)
    return section.get("HTTPCode_5XX_Count", 0) / total if total else None


def client_server_error_rate(c: dict[str, Any]) -> float | None:
    """A client's attempts answered with a 5xx, over the attempts answered."""
    status = c.get("status", {})
    answered = sum(status.values())
    return sum(n for k, n in status.items() if int(k) >= 500) / answered if answered else None


def only_4xx_warnings(summary: dict[str, Any]) -> list[str]:
    """Services that answered requests but nothing except 4xx: almost always a mistake (a policy
    typo that denies everyone), and an error-rate SLO is the only gate that would catch it."""
    out = []
    for name, d in summary.get("services", {}).items():
        total = d.get("TotalRequestCount", 0)
        if total and d.get("HTTPCode_4XX_Count", 0) == total:
            lattice = ", ".join(f"{k.split('_')[2]} x{v:,}" for k, v in d.items()
                                if k.startswith("HTTPCode_VpcLattice_4") and v)
            why = f" (Lattice's own: {lattice})" if lattice else ""
            out.append(f"service {name} answered all {total:,} requests with a 4xx{why}: nothing got through; "
                       "check its auth policies, rules and the clients' URLs (latsim explain)")
    return out


def interrupted_text(summary: dict[str, Any]) -> str | None:
    """"interrupted at X of Y simulated seconds" for a partial run, else None (one wording for
    the terminal, the JSON summary and the report)."""
    if not summary.get("partial"):
        return None
    return (f"interrupted at {summary.get('simulated_s', 0):g} of {summary.get('duration_s', 0):g} "
            "simulated seconds")


def evaluate_slos(scn: Any, result: Any, sim: Any) -> list[dict[str, Any]]:
    """Each objective's checks; on a partial run every verdict is ``ok: null`` (``verdict:
    "not_judged"``): an interrupted run measured part of the scenario, which says nothing of the
    whole (a breach to come, or errors diluted by the missing minutes)."""
    out: list[dict[str, Any]] = []
    s = result.summary
    partial = bool(s.get("partial"))
    for slo in scn.slo:
        kind, name = slo.subject
        if kind == "client":
            c = s["clients"].get(name, {})
            hist = sim.clients[name].stats.hist
            total = c.get("succeeded", 0) + c.get("failed", 0)
            rate = c.get("failed", 0) / total if total else None  # every final outcome that is not 2xx/3xx
            server_rate = client_server_error_rate(c)
        else:
            section = s["services" if kind == "service" else "target_groups"].get(name, {})
            hist = result.histograms["services" if kind == "service" else "target_groups"].get(name)
            total = section.get("TotalRequestCount", 0) + section.get("unreached", 0)
            rate = caller_error_rate(section)
            server_rate = server_error_rate(section)
        checks = []
        measured_span = max(scn.duration - scn.warmup, 1e-9)
        for bound in ("p50", "p90", "p99", "p999", "mean"):
            limit = getattr(slo, bound)
            if limit is None:
                continue
            if hist is None or hist.count == 0:
                value = None
            elif bound == "mean":
                value = hist.mean * 1000
            else:
                q = {"p50": 50, "p90": 90, "p99": 99, "p999": 99.9}[bound]
                value = hist.percentile(q) * 1000
            ok = value is not None and value <= limit * 1000
            checks.append({"metric": bound, "limit": round(limit * 1000, 3), "value": _r(value), "unit": "ms",
                           "ok": ok})
        if slo.error_rate is not None:
            checks.append({"metric": "error_rate", "limit": slo.error_rate, "value": _r(rate, 6),
                           "unit": "fraction", "ok": rate is not None and rate <= slo.error_rate})
        if slo.server_error_rate is not None:
            checks.append({"metric": "server_error_rate", "limit": slo.server_error_rate, "value": _r(server_rate, 6),
                           "unit": "fraction", "ok": server_rate is not None and server_rate <= slo.server_error_rate})
        if slo.availability is not None:
            avail = 1 - rate if rate is not None else None
            checks.append({"metric": "availability", "limit": slo.availability, "value": _r(avail, 6),
                           "unit": "fraction", "ok": avail is not None and avail >= slo.availability})
        if slo.min_throughput is not None:
            thr = total / measured_span
            checks.append({"metric": "min_throughput", "limit": slo.min_throughput, "value": _r(thr, 3),
                           "unit": "req/s", "ok": thr >= slo.min_throughput})
        if slo.window is not None and kind != "client":
            checks.extend(_window_checks(slo, kind, name, result, scn))
        held: bool | None = None if partial else all(c["ok"] for c in checks)
        verdict = "not_judged" if held is None else ("met" if held else "breached")
        out.append({"slo": slo.label, "subject": kind, "name": name, "requests": total,
                    "ok": held, "verdict": verdict, "checks": checks})
    return out


def _window_checks(slo: Any, kind: str, name: str, result: Any, scn: Any) -> list[dict[str, Any]]:
    """Every window of ``slo.window`` (whole minutes) must meet the error-rate bound."""
    minutes = max(1, int(round(slo.window / 60.0)))
    per_min: dict[float, list[float]] = {}
    for t, k, n, _az, metric, value in result.metric_rows_of(kind, name):
        if k != kind or n != name or t < scn.warmup - 60:
            continue
        row = per_min.setdefault(t, [0.0, 0.0])
        if metric == "TotalRequestCount":  # errors: every request that is not 2xx/3xx (caller_error_rate)
            row[0] += value
            row[1] += value
        elif metric in ("HTTPCode_2XX_Count", "HTTPCode_3XX_Count"):
            row[1] -= value
    times = sorted(per_min)
    worst = None
    for i in range(0, max(1, len(times) - minutes + 1)):
        win = times[i:i + minutes]
        tot = sum(per_min[t][0] for t in win)
        err = sum(per_min[t][1] for t in win)
        if tot:
            r = err / tot
            worst = r if worst is None else max(worst, r)
    if slo.error_rate is None:
        return []
    return [{"metric": f"error_rate_worst_{minutes}m_window", "limit": slo.error_rate, "value": _r(worst, 6),
             "unit": "fraction", "ok": worst is None or worst <= slo.error_rate}]


def _r(value: float | None, nd: int = 3) -> float | None:
    return None if value is None else round(value, nd)
