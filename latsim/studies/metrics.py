"""Metric expressions: what a study measures in each run's summary.

A metric is a dotted path into the summary of ``latsim run --json`` (``services.checkout.RequestTime.p99``,
``clients.storefront.failed``, ``target_groups.checkout-v1.HTTPCode_5XX_Count``, ``slo.service:checkout.ok``;
list items by name, SLO label or index), or one of the derived metrics below. Booleans count as
1/0; a value the run did not produce (a percentile with no requests) is missing (NaN) and left
out of the statistics.

Derived metrics:

- ``services.NAME.error_rate`` / ``target_groups.NAME.error_rate``: what callers experience (every
  response that is not 2xx/3xx, connection failures, client timeouts; ``latsim.slo.caller_error_rate``);
  ``...server_error_rate``: HTTPCode_5XX_Count / TotalRequestCount;
  ``clients.NAME.error_rate``: failed / (succeeded + failed); ``...success_rate`` = 1 - error_rate
- ``edges.CALLER->SERVICE.error_rate`` (call graphs): as for a client, what the calling target group saw
- ``services.NAME.throughput`` / ``target_groups.NAME.throughput``: requests per second after warm-up
- ``slo.ok``: 1 when every SLO of the run holds, else 0
- ``canary.NAME.promoted``, ``canary.NAME.rolled_back``, ``canary.NAME.decided`` (1/0),
  ``canary.NAME.t_decision_s`` (time of the decision), ``canary.NAME.canary_requests``
  (requests the canary served during the analysis, from the observed counts of its steps)

Binary metrics (0/1 per run) get a Wilson interval instead of a t-interval.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from latsim.errors import suggest

NAN = math.nan
LIST_NAME_KEYS = ("name", "slo", "id")
RATE_SECTIONS = ("services", "target_groups")
COUNT_DICTS = ("status", "failures")  # absent key = 0 occurrences
DERIVED = {
    "services": ("error_rate", "server_error_rate", "success_rate", "throughput"),
    "target_groups": ("error_rate", "server_error_rate", "success_rate", "throughput"),
    "clients": ("error_rate", "success_rate"),
    "edges": ("error_rate", "success_rate"),
    "canary": ("promoted", "rolled_back", "decided", "t_decision_s", "canary_requests"),
}
BINARY_LEAVES = ("ok", "promoted", "rolled_back", "decided", "partial")
FRACTION_LEAVES = ("error_rate", "server_error_rate", "success_rate")


class MetricError(ValueError):
    def __init__(self, message: str, hint: str | None = None, allowed: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.allowed = allowed


@dataclass(frozen=True)
class Metric:
    """A metric expression and how its statistics are computed."""

    expr: str

    @property
    def binary(self) -> bool:
        return self.expr.rsplit(".", 1)[-1] in BINARY_LEAVES

    @property
    def fraction(self) -> bool:
        return self.expr.rsplit(".", 1)[-1] in FRACTION_LEAVES

    @property
    def ci_method(self) -> str:
        return "wilson" if self.binary else "t"


def evaluate(expr: str, summary: dict[str, Any]) -> float:
    """The value of ``expr`` in one run's summary (NaN when the run did not produce it)."""
    try:
        return _evaluate(expr, summary, strict=False)
    except MetricError:
        return NAN


def check(expr: str, skeleton: dict[str, Any]) -> None:
    """Raise MetricError if ``expr`` cannot address anything in a summary shaped like ``skeleton``."""
    _evaluate(expr, skeleton, strict=True)


def _evaluate(expr: str, s: dict[str, Any], *, strict: bool) -> float:
    parts = expr.strip().split(".")
    if not expr.strip() or any(p == "" for p in parts):
        raise MetricError(f"'{expr}' is not a dotted metric path", allowed="e.g. services.NAME.RequestTime.p99")
    if parts == ["slo", "ok"]:
        slos = s.get("slo") or []
        if not slos:
            if strict:
                raise MetricError("slo.ok needs SLOs, and the scenario has none", allowed="add an slo: section")
            return NAN
        return 1.0 if all(v.get("ok") for v in slos) else 0.0
    head = parts[0]
    if head in DERIVED and len(parts) >= 3 and parts[-1] in DERIVED[head]:
        node, _ = _walk(s, parts[:-1], strict=strict, expr=expr)
        return _derived(head, parts[-1], node, s)
    node, parent_key = _walk(s, parts, strict=strict, expr=expr)
    return _number(node, expr, strict=strict)


def _walk(s: Any, parts: list[str], *, strict: bool, expr: str) -> tuple[Any, str | None]:
    node: Any = s
    i = 0
    parent_key: str | None = None
    while i < len(parts):
        if isinstance(node, dict):
            end = _longest(parts, i, lambda t, n=node: t in n)
            if end is None:
                if parent_key in COUNT_DICTS or (parent_key == "target_groups" and i >= 3 and parts[0] == "rules"):
                    return 0, parent_key
                seg = parts[i]
                choices = [str(k) for k in node]
                if i >= 2 and parts[0] in DERIVED and i == len(parts) - 1:
                    choices += list(DERIVED[parts[0]])
                hint = suggest(seg, choices)
                where = ".".join(parts[:i]) or "the summary"
                raise MetricError(f"'{expr}': {where} has no '{seg}'", hint=hint,
                                  allowed=None if hint else f"choose from {', '.join(choices[:30])}")
            parent_key = ".".join(parts[i:end])
            node = node[parent_key]
            i = end
        elif isinstance(node, list):
            labels = [_list_labels(item) for item in node]
            end = _longest(parts, i, lambda t, ls=labels: any(t in names for names in ls))
            if end is not None:
                text = ".".join(parts[i:end])
                node = next(item for item, names in zip(node, labels, strict=True) if text in names)
                i = end
            elif parts[i].isdigit() and int(parts[i]) < len(node):
                node = node[int(parts[i])]
                i += 1
            else:
                names = [x for names in labels for x in names]
                where = ".".join(parts[:i])
                hint = suggest(parts[i], names)
                raise MetricError(f"'{expr}': {where} has no item '{parts[i]}'", hint=hint,
                                  allowed=None if hint else (f"names: {', '.join(names)}" if names
                                                             else f"{where} is empty in this scenario"))
            parent_key = None
        else:
            raise MetricError(f"'{expr}': {'.'.join(parts[:i])} is a single value; '{parts[i]}' goes past it")
    return node, parent_key


def _longest(parts: list[str], start: int, exists: Any) -> int | None:
    for end in range(len(parts), start, -1):
        if exists(".".join(parts[start:end])):
            return end
    return None


def _list_labels(item: Any) -> list[str]:
    """Every name a summary list item answers to (an SLO: its label and its subject's name)."""
    if not isinstance(item, dict):
        return []
    return [str(item[k]) for k in LIST_NAME_KEYS
            if isinstance(item.get(k), (str, int)) and not isinstance(item.get(k), bool)]


def _number(node: Any, expr: str, *, strict: bool) -> float:
    if isinstance(node, bool):
        return 1.0 if node else 0.0
    if isinstance(node, (int, float)):
        return float(node)
    if node is None:
        return NAN
    if strict:
        if isinstance(node, dict):
            raise MetricError(f"'{expr}' is a group of values, not one number",
                              allowed=f"add one of: {', '.join(map(str, list(node)[:20]))}")
        raise MetricError(f"'{expr}' is not a number ({type(node).__name__})")
    return NAN


def _derived(section: str, what: str, node: Any, s: dict[str, Any]) -> float:
    if not isinstance(node, dict):
        return NAN
    if section == "canary":
        outcome = node.get("outcome")
        if what == "promoted":
            return 1.0 if outcome == "promoted" else 0.0
        if what == "rolled_back":
            return 1.0 if outcome == "rolled_back" else 0.0
        if what == "decided":
            return 0.0 if outcome == "running" else 1.0
        if what == "t_decision_s":
            t = node.get("t_decision_ms")
            return NAN if t is None else float(t) / 1000.0
        return float(canary_requests(node))
    if section in ("clients", "edges"):  # what a caller saw
        ok, failed = node.get("succeeded", 0), node.get("failed", 0)
        total = ok + failed
        if not total:
            return NAN
        rate = failed / total
    else:
        total = node.get("TotalRequestCount", 0)
        if what == "throughput":
            span = float(s.get("duration_s", 0)) - float(s.get("warmup_s", 0))
            return total / span if span > 0 else NAN
        from latsim.slo import caller_error_rate, server_error_rate
        value = server_error_rate(node) if what == "server_error_rate" else caller_error_rate(node)
        if value is None:
            return NAN
        rate = value
    return 1.0 - rate if what == "success_rate" else rate


def canary_requests(record: dict[str, Any]) -> int:
    """Requests the canary served during its analysis: the observed counts of every step."""
    return sum(int((st.get("observed") or {}).get("requests", 0)) for st in record.get("steps", []))


def default_metrics(skeleton: dict[str, Any]) -> list[str]:
    """When no metric is asked for: mean, p99 and error rate of every service, and slo.ok."""
    out: list[str] = []
    for name in skeleton.get("services", {}):
        out += [f"services.{name}.RequestTime.mean", f"services.{name}.RequestTime.p99",
                f"services.{name}.error_rate"]
    if skeleton.get("slo"):
        out.append("slo.ok")
    return out


def skeleton_summary(data: dict[str, Any], base_dir: str | None = None) -> dict[str, Any]:
    """The shape of a run's summary, from a run of one millisecond (names, SLOs, canaries)."""
    from latsim.engine import simulate
    from latsim.scenario import scenario_from_data

    tiny = copy.deepcopy(data)
    tiny["duration"] = "1ms"
    tiny["warmup"] = "0s"
    tiny.pop("access_logs", None)
    scn = scenario_from_data(tiny)
    summary: dict[str, Any] = simulate(scn, base_dir=base_dir, series=False).summary
    return summary


def check_all(exprs: Iterable[str], skeleton: dict[str, Any]) -> list[tuple[str, MetricError]]:
    out = []
    for expr in exprs:
        try:
            check(expr, skeleton)
        except MetricError as exc:
            out.append((expr, exc))
    return out
