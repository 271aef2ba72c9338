"""What a run gives back: the summary (the JSON contract of ``latsim run --json``), the
per-minute CloudWatch-named series, and the SLO verdicts.

Everything in the summary is a function of the scenario and the seed; wall-clock figures live
only under keys whose name contains ``wall``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from latsim.metrics.histogram import LogHistogram
from latsim.metrics.recorder import ColdStarts, latency_summary


@dataclass
class Result:
    summary: dict[str, Any]
    # a list, or (from a run) ``MetricRows``: read back from the run's closed minutes on each pass
    metric_rows: Sequence[tuple[float, str, str, str, str, float]] = field(default_factory=list)
    histograms: dict[str, dict[str, LogHistogram]] = field(default_factory=dict)
    wall_seconds: float = 0.0
    # finer than a minute for runs of up to half an hour (``Recorder.series_rows``): what the report draws
    series: list[tuple[float, str, str, str, float]] = field(default_factory=list)
    series_step: int = 60

    @classmethod
    def from_simulation(cls, sim: Any, wall: float) -> Result:
        scn = sim.scn
        rec = sim.rec
        svc_stats, tg_stats = rec.services, rec.target_groups
        from latsim.slo import caller_error_rate, server_error_rate
        services = {}
        for name in sorted(sim.topo.services):
            d = svc_stats[name].summary() if name in svc_stats else _empty()
            d["unreached"] = sim.unreached.get(name, 0)
            services[name] = _with_rates(d, caller_error_rate, server_error_rate)
        tgs: dict[str, Any] = {}
        for name in sorted(sim.tgs):
            st = sim.tgs[name]
            d = tg_stats[name].summary() if name in tg_stats else _empty()
            targets = {}
            for srv in sorted(st.targets + [t for t in sim.targets_by_id_all(name) if t not in st.targets],
                              key=lambda s: s.id):
                targets[srv.id] = {"TotalRequestCount": srv.requests, "RequestTime": latency_summary(srv.time.flushed()),
                                   "az": srv.az,
                                   "health": [[round(t * 1000, 3), s] for t, s in srv.health_log]}
            d["targets"] = targets
            # Lattice does not health check LAMBDA (or ALB) groups: their targets show UNAVAILABLE
            # and still receive every request (docs/lattice.md §4.2)
            d["health_checks"] = "enabled" if st.checked else (
                "not supported" if st.kind in ("LAMBDA", "ALB") else "disabled")
            if st.kind == "LAMBDA":
                cold = rec.cold_starts.get(name)
                d["cold_starts"] = cold.summary() if cold is not None else ColdStarts().summary()
            tgs[name] = _with_rates(d, caller_error_rate, server_error_rate)
        rules: dict[str, Any] = {}
        rule_hits = rec.rule_hits
        for svc in sim.topo.services.values():
            for lst in svc.listeners.values():
                for action in lst.actions().values():
                    key = action.key
                    times = rec.rule_times.get(key)
                    rules[key] = {"hits": rule_hits.get(key, 0),
                                  "target_groups": dict(sorted(rec.rules.get(key, {}).items())),
                                  "RequestTime": latency_summary(times.flushed() if times else LogHistogram())}
        clients = {name: caller_summary(sim.clients[name].stats) for name in sorted(sim.clients)}
        total = sum(c.stats.requests for c in sim.clients.values())
        summary: dict[str, Any] = {
            "scenario": scn.name, "seed": scn.seed, "duration_s": round(scn.duration, 6),
            "warmup_s": round(scn.warmup, 6), "simulated_s": round(sim.end_time, 6),
            "partial": sim.partial, "requests": total,
            "services": services, "target_groups": tgs, "rules": dict(sorted(rules.items())),
            "clients": clients, "canary": sim.canary_log, "timeline": sim.timeline.log,
        }
        if sim.calls.programs:  # call graphs: per-edge figures and the critical paths of entry requests
            summary["edges"] = edge_summaries(sim)
            summary["critical_path"] = critical_paths(sim)
        hists = {"services": {n: s.hist for n, s in svc_stats.items()},
                 "target_groups": {n: s.hist for n, s in tg_stats.items()},
                 "clients": {n: c.stats.hist for n, c in sim.clients.items()}}
        result = cls(summary, rec.metric_rows(sim.end_time), hists, wall, rec.series_rows(), rec.step)
        from latsim.slo import evaluate_slos, interrupted_text
        if sim.partial:
            summary["interrupted"] = interrupted_text(summary)
        summary["slo"] = evaluate_slos(scn, result, sim)
        from latsim.cost import estimate_cost
        summary["cost"] = estimate_cost(scn, summary)
        summary["events"] = sim.events_run
        return result

    # -- views ------------------------------------------------------------------------------------
    def to_json(self, *, include_wall: bool = False) -> str:
        data = dict(self.summary)
        if include_wall:
            data["wall_seconds"] = round(self.wall_seconds, 3)
        return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"

    @property
    def slo_ok(self) -> bool:
        """Every SLO met (False for a partial run, whose SLOs are not judged)."""
        return all(s["ok"] is True for s in self.summary.get("slo", []))

    def metrics(self) -> list[dict[str, Any]]:
        """Per-minute metrics, long format: time_s, dimension, name, az, metric, value."""
        return list(self.iter_metrics())

    def iter_metrics(self) -> Iterator[dict[str, Any]]:
        """``metrics()`` one row at a time (a long run's rows need not be in memory at once)."""
        for t, k, n, az, m, v in self.metric_rows:
            yield {"time_s": t, "dimension": k, "name": n, "az": az, "metric": m, "value": v}

    def metric_rows_of(self, kind: str, name: str) -> Iterator[tuple[float, str, str, str, str, float]]:
        """The per-minute rows of one service or target group."""
        of = getattr(self.metric_rows, "of", None)
        if of is not None:  # MetricRows reads that dimension's minutes only
            yield from of(kind, name)
            return
        for row in self.metric_rows:
            if row[1] == kind and row[2] == name:
                yield row

    def series_records(self) -> list[dict[str, Any]]:
        """The fine series, long format: time_s, step_s, dimension, name, metric, value (all AZs)."""
        return [{"time_s": t, "step_s": self.series_step, "dimension": k, "name": n, "metric": m, "value": v}
                for t, k, n, m, v in self.series]

    def to_pandas(self) -> Any:
        import pandas as pd
        return pd.DataFrame(self.metrics())


def caller_summary(cs: Any) -> dict[str, Any]:
    """What a caller (a client, or a call edge) saw: requests, attempts, outcomes, latency."""
    return {
        "requests": cs.requests, "sent": cs.sent, "completed": cs.completed,
        "succeeded": cs.succeeded, "failed": cs.failed,
        "status": {str(k): v for k, v in sorted(cs.status.items())},
        "failures": dict(sorted(cs.failures.items())), "retries": cs.retries,
        "RequestTime": latency_summary(cs.hist), "AttemptTime": latency_summary(cs.attempt_hist),
    }


def edge_summaries(sim: Any) -> dict[str, Any]:
    """Every call edge (caller target group -> service) of the scenario, used or not."""
    from latsim.engine.simulation import ClientStats
    edges: dict[str, Any] = {}
    for tg, program in sorted(sim.calls.programs.items()):
        for step in program.flat:
            if step.service is None:
                continue
            key = f"{tg}->{step.service}"
            if key not in edges:
                stats = sim.calls.edges.get(key) or ClientStats()
                edges[key] = {"caller": tg, "service": step.service, **caller_summary(stats)}
    return dict(sorted(edges.items()))


def request_labels(model: Any) -> list[str]:
    """How tables name a client's request classes: the spec's name, else 'METHOD path' (made unique)."""
    labels: list[str] = []
    for i, spec in enumerate(model.requests):
        label = spec.name or f"{spec.method} {spec.url or model.url if spec.path == '/' else spec.path}"
        labels.append(label if label not in labels else f"{label} #{i}")
    return labels


def critical_paths(sim: Any) -> dict[str, Any]:
    """Per client and request class that went through a service with calls: the mean end-to-end
    time after the warm-up, broken down by hop along the critical path (the branch that ended last
    of every parallel step), waiting (Lattice and the network, queues, retries) vs working."""
    out: dict[str, Any] = {}
    for (client, spec), (n, total, parts) in sorted(sim.calls.critical.items()):
        label = request_labels(sim.clients[client].model)[spec]
        hops = []
        for key, secs in parts.items():
            hop, kind = key.rsplit("/", 1)
            hops.append({"hop": hop, "kind": kind, "mean_ms": _ms(secs / n),
                         "share": round(secs / total, 4) if total > 0 else 0.0})
        hops.sort(key=lambda h: (-h["mean_ms"], h["hop"], h["kind"]))
        working = sum(secs for key, secs in parts.items() if key.endswith("/work"))
        out.setdefault(client, {})[label] = {
            "requests": n, "mean_ms": _ms(total / n), "working_ms": _ms(working / n),
            "waiting_ms": _ms((total - working) / n), "hops": hops}
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def target_health_label(group: dict[str, Any], target: dict[str, Any]) -> str:
    """A target's last health state as Lattice names it, with what it means where the name
    misleads: UNAVAILABLE only says the group is not health checked (Lambda and ALB groups never
    are), and such targets receive traffic."""
    state = target["health"][-1][1] if target.get("health") else "-"
    checks = group.get("health_checks", "enabled")
    if state == "UNAVAILABLE" and checks != "enabled":
        return f"UNAVAILABLE (health checks {checks}; receives traffic)"
    return str(state)


def cold_start_label(group: dict[str, Any]) -> str:
    """``76 (+645 ms mean, p99 892 ms)`` for a Lambda group, ``-`` for any other."""
    cold = group.get("cold_starts")
    if cold is None:
        return "-"
    if not cold["count"]:
        return "0"
    added = cold["added_ms"]
    return f"{cold['count']:,} (+{added['mean']:,.0f} ms mean, p99 {added['p99']:,.0f} ms)"


def _with_rates(d: dict[str, Any], caller: Any, server: Any) -> dict[str, Any]:
    """``error_rate`` (what callers experience) and ``server_error_rate`` (5xx only), rounded."""
    for key, fn in (("error_rate", caller), ("server_error_rate", server)):
        v = fn(d)
        d[key] = None if v is None else round(v, 9)
    return d


def _empty() -> dict[str, Any]:
    from latsim.metrics.recorder import Stats
    return Stats().summary()
