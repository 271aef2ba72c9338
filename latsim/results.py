"""What a run gives back: the summary (the JSON contract of ``latsim run --json``), the
per-minute CloudWatch-named series, and the SLO verdicts.

Everything in the summary is a function of the scenario and the seed; wall-clock figures live
only under keys whose name contains ``wall``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from latsim.metrics.histogram import LogHistogram
from latsim.metrics.recorder import latency_summary


@dataclass
class Result:
    summary: dict[str, Any]
    metric_rows: list[tuple[float, str, str, str, str, float]] = field(default_factory=list)
    histograms: dict[str, dict[str, LogHistogram]] = field(default_factory=dict)
    wall_seconds: float = 0.0

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
                targets[srv.id] = {"TotalRequestCount": srv.requests, "az": srv.az,
                                   "health": [[round(t * 1000, 3), s] for t, s in srv.health_log]}
            d["targets"] = targets
            tgs[name] = _with_rates(d, caller_error_rate, server_error_rate)
        rules: dict[str, Any] = {}
        rule_hits = rec.rule_hits
        for svc in sim.topo.services.values():
            for lst in svc.listeners.values():
                for action in lst.actions().values():
                    key = action.key
                    rules[key] = {"hits": rule_hits.get(key, 0),
                                  "target_groups": dict(sorted(rec.rules.get(key, {}).items()))}
        clients: dict[str, Any] = {}
        for name in sorted(sim.clients):
            cs = sim.clients[name].stats
            clients[name] = {
                "requests": cs.requests, "sent": cs.sent, "completed": cs.completed,
                "succeeded": cs.succeeded, "failed": cs.failed,
                "status": {str(k): v for k, v in sorted(cs.status.items())},
                "failures": dict(sorted(cs.failures.items())), "retries": cs.retries,
                "RequestTime": latency_summary(cs.hist), "AttemptTime": latency_summary(cs.attempt_hist),
            }
        total = sum(c.stats.requests for c in sim.clients.values())
        summary: dict[str, Any] = {
            "scenario": scn.name, "seed": scn.seed, "duration_s": round(scn.duration, 6),
            "warmup_s": round(scn.warmup, 6), "simulated_s": round(sim.end_time, 6),
            "partial": sim.partial, "requests": total,
            "services": services, "target_groups": tgs, "rules": dict(sorted(rules.items())),
            "clients": clients, "canary": sim.canary_log, "timeline": sim.timeline.log,
        }
        hists = {"services": {n: s.hist for n, s in svc_stats.items()},
                 "target_groups": {n: s.hist for n, s in tg_stats.items()},
                 "clients": {n: c.stats.hist for n, c in sim.clients.items()}}
        result = cls(summary, rec.metric_rows(sim.end_time), hists, wall)
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
        return [{"time_s": t, "dimension": k, "name": n, "az": az, "metric": m, "value": v}
                for t, k, n, az, m, v in self.metric_rows]

    def to_pandas(self) -> Any:
        import pandas as pd
        return pd.DataFrame(self.metrics())


def _with_rates(d: dict[str, Any], caller: Any, server: Any) -> dict[str, Any]:
    """``error_rate`` (what callers experience) and ``server_error_rate`` (5xx only), rounded."""
    for key, fn in (("error_rate", caller), ("server_error_rate", server)):
        v = fn(d)
        d[key] = None if v is None else round(v, 9)
    return d


def _empty() -> dict[str, Any]:
    from latsim.metrics.recorder import Stats
    return Stats().summary()
