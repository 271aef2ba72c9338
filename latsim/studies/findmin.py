"""``--find-min PATH --slo``: the smallest swept value of PATH at which every SLO holds.

The rule, per design point: each bound of each SLO (``p99 <= 250ms``, ``error_rate <= 0.1%``,
``availability >= 99.9%``, ...) holds when the 95 % t-interval over the replications of the
measured value lies on the right side of the limit — its upper end at or below an upper limit,
its lower end at or above a lower limit (``availability``, ``min_throughput``). So "holds"
means "meets the bound with 95 % confidence", not "met it on average". With one replication
there is no interval and the single value is compared. A replication that failed, or that
measured nothing (no requests), makes the point fail.

Along PATH (for each combination of the other swept parameters) the answer is the smallest
value v such that the SLOs hold at v *and at every larger swept value*: a lucky pass below a
failing value is not a minimum. None when no swept value qualifies.
"""

from __future__ import annotations

import math
from typing import Any

from latsim.studies import stats
from latsim.studies.design import label, magnitude

LOWER_BOUNDS = ("availability", "min_throughput")
RULE = ("each SLO bound holds when the 95% t-interval of its value over the replications is within the "
        "limit (upper end <= an upper limit; lower end >= a lower limit for availability/min_throughput); "
        "a failed or empty replication fails the point; the minimum is the smallest swept value at which "
        "every SLO holds at it and at every larger swept value")


def point_verdict(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Do all SLOs hold at one design point (its replications' records)?"""
    checks: dict[tuple[str, str], dict[str, Any]] = {}
    failed_runs = 0
    for rec in records:
        summary = rec.get("summary")
        if summary is None:
            failed_runs += 1
            continue
        for slo in summary.get("slo", []):
            for c in slo.get("checks", []):
                key = (str(slo.get("slo")), str(c.get("metric")))
                entry = checks.setdefault(key, {"slo": key[0], "metric": key[1], "limit": c.get("limit"),
                                                "unit": c.get("unit"), "values": []})
                v = c.get("value")
                entry["values"].append(math.nan if v is None else float(v))
    out = []
    all_ok = failed_runs == 0 and bool(records)
    for entry in checks.values():
        values = entry.pop("values")
        est = stats.t_interval(values)
        limit = float(entry["limit"])
        lower = entry["metric"] in LOWER_BOUNDS
        if est.n < len(values) or est.n == 0:
            ok = False  # a replication measured nothing
        elif est.n == 1:
            ok = est.mean >= limit if lower else est.mean <= limit
        else:
            ok = est.ci_low >= limit if lower else est.ci_high <= limit
        all_ok = all_ok and ok
        out.append({**entry, "n": est.n, "mean": _r(est.mean), "ci_low": _r(est.ci_low), "ci_high": _r(est.ci_high),
                    "ok": ok})
    return {"holds": all_ok, "failed_runs": failed_runs, "checks": out}


def find_min(result: Any, param: str) -> dict[str, Any]:
    """The find-min answer for a StudyResult, per combination of the other swept parameters."""
    study = result.study
    others = [c for c in study.columns if c != param]
    groups: dict[tuple[str, ...], list[Any]] = {}
    for p in study.points:
        groups.setdefault(tuple(label(p.values[c]) for c in others), []).append(p)
    out_groups = []
    for key, points in groups.items():
        rows = []
        for p in sorted(points, key=lambda p: _sort_key(p.values[param])):
            verdict = point_verdict(result.records_of(p.index))
            rows.append({"value": p.values[param], "point": p.index, **verdict})
        best = None
        for row in reversed(rows):
            if not row["holds"]:
                break
            best = row["value"]
        out_groups.append({"fixed": dict(zip(others, key, strict=True)), "min_value": best, "table": rows})
    return {"param": param, "criterion": "slo", "confidence": stats.LEVEL, "rule": RULE, "groups": out_groups}


def _sort_key(value: Any) -> tuple[int, float, str]:
    m = magnitude(value)
    return (0, m, "") if m is not None else (1, 0.0, label(value))


def _r(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 6)
