"""Streaming recorders: per-minute CloudWatch-named series and whole-run histograms.

Memory grows with the number of simulated minutes and dimensions, never with the number of
requests: nothing here keeps a per-request list. Requests that start during the warm-up are
simulated and appear in the per-minute series, but not in the whole-run summaries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from latsim.metrics.histogram import LogHistogram

# Per-minute counters, by position (the CloudWatch names of LATTICE.md §8.1)
COUNTERS = ("TotalRequestCount", "HTTPCode_2XX_Count", "HTTPCode_3XX_Count", "HTTPCode_4XX_Count",
            "HTTPCode_5XX_Count", "RequestTimeoutCount", "RequestTimeSumMs", "ConnectionErrorCount",
            "TotalReceivedBytes", "TotalSentBytes", "HTTPCode_VpcLattice_400_Count",
            "HTTPCode_VpcLattice_403_Count", "HTTPCode_VpcLattice_404_Count", "HTTPCode_VpcLattice_429_Count",
            "HTTPCode_VpcLattice_500_Count", "HTTPCode_VpcLattice_502_Count", "HTTPCode_VpcLattice_504_Count")
N = len(COUNTERS)
_LATTICE_IDX = {400: 10, 403: 11, 404: 12, 429: 13, 500: 14, 502: 15, 504: 16}


class Stats:
    """Whole-run statistics of one dimension (service, target group, client)."""

    __slots__ = ("count", "codes", "timeouts", "conn_errors", "hist", "lattice_codes", "bytes_in", "bytes_out")

    def __init__(self) -> None:
        self.count = 0
        self.codes = [0, 0, 0, 0, 0, 0]  # 1xx..5xx by index status // 100
        self.timeouts = 0
        self.conn_errors = 0
        self.hist = LogHistogram()
        self.lattice_codes: dict[int, int] = defaultdict(int)
        self.bytes_in = 0
        self.bytes_out = 0

    def summary(self) -> dict[str, Any]:
        h = self.hist
        return {
            "TotalRequestCount": self.count,
            "HTTPCode_2XX_Count": self.codes[2],
            "HTTPCode_3XX_Count": self.codes[3],
            "HTTPCode_4XX_Count": self.codes[4],
            "HTTPCode_5XX_Count": self.codes[5],
            "RequestTimeoutCount": self.timeouts,
            "ConnectionErrorCount": self.conn_errors,
            "RequestTime": latency_summary(h),
            **{f"HTTPCode_VpcLattice_{code}_Count": n for code, n in sorted(self.lattice_codes.items())},
            "TotalReceivedBytes": self.bytes_in,
            "TotalSentBytes": self.bytes_out,
        }


def latency_summary(h: LogHistogram) -> dict[str, float | None]:
    """mean/p50/p90/p99/max in milliseconds, rounded to the microsecond (stable JSON)."""
    if h.count == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    return {"mean": _ms(h.mean), "p50": _ms(h.percentile(50)), "p90": _ms(h.percentile(90)),
            "p99": _ms(h.percentile(99)), "p999": _ms(h.percentile(99.9)), "max": _ms(h.max)}


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


class Recorder:
    """Everything a run records. Dimensions are (kind, name, az) for per-minute series."""

    def __init__(self, warmup: float) -> None:
        self.warmup = warmup
        self.series: dict[tuple[str, str, str], dict[int, list[float]]] = {}
        self.minute_hists: dict[tuple[str, str], dict[int, LogHistogram]] = {}
        self.services: dict[str, Stats] = defaultdict(Stats)
        self.target_groups: dict[str, Stats] = defaultdict(Stats)
        self.rules: dict[str, dict[str, int]] = {}
        self.rule_hits: dict[str, int] = defaultdict(int)
        self.watchers: dict[str, Any] = {}  # target group -> window (canary controllers)

    def _row(self, kind: str, name: str, az: str, t: float) -> list[float]:
        key = (kind, name, az)
        rows = self.series.get(key)
        if rows is None:
            rows = self.series[key] = {}
        m = int(t // 60.0)
        row = rows.get(m)
        if row is None:
            row = rows[m] = [0.0] * N
        return row

    def _minute_hist(self, kind: str, name: str, t: float) -> LogHistogram:
        key = (kind, name)
        hs = self.minute_hists.get(key)
        if hs is None:
            hs = self.minute_hists[key] = {}
        m = int(t // 60.0)
        h = hs.get(m)
        if h is None:
            h = hs[m] = LogHistogram()
        return h

    def record(self, kind: str, name: str, az: str, t_start: float, t_end: float, status: int, *,
               timeout: bool = False, conn_error: bool = False, lattice_generated: bool = False,
               bytes_in: int = 0, bytes_out: int = 0) -> None:
        """One request seen by a service (kind 'service') or a target group ('target_group')."""
        dur = t_end - t_start
        row = self._row(kind, name, az, t_start)
        row[0] += 1
        klass = status // 100
        if 2 <= klass <= 5:
            row[klass - 1] += 1
        if timeout:
            row[5] += 1
        row[6] += dur * 1000.0
        if conn_error:
            row[7] += 1
        row[8] += bytes_in
        row[9] += bytes_out
        if lattice_generated:
            idx = _LATTICE_IDX.get(status)
            if idx is not None:
                row[idx] += 1
        self._minute_hist(kind, name, t_start).record(dur)
        if self.watchers and kind == "target_group" and name in self.watchers:
            self.watchers[name].add(dur, status)
        if t_start < self.warmup:
            return
        st = (self.services if kind == "service" else self.target_groups)[name]
        st.count += 1
        if 1 <= klass <= 5:
            st.codes[klass] += 1
        if timeout:
            st.timeouts += 1
        if conn_error:
            st.conn_errors += 1
        if lattice_generated:
            st.lattice_codes[status] += 1
        st.bytes_in += bytes_in
        st.bytes_out += bytes_out
        st.hist.record(dur)

    def rule(self, key: str, tg: str | None, t: float) -> None:
        if t < self.warmup:
            return
        self.rule_hits[key] += 1
        if tg is not None:
            d = self.rules.get(key)
            if d is None:
                d = self.rules[key] = {}
            d[tg] = d.get(tg, 0) + 1

    # -- output -------------------------------------------------------------------------------
    def metric_rows(self) -> list[tuple[float, str, str, str, str, float]]:
        """Long format: (minute start s, dimension kind, name, AZ, metric name, value), sorted."""
        out: list[tuple[float, str, str, str, str, float]] = []
        for (kind, name, az), rows in sorted(self.series.items()):
            for m in sorted(rows):
                row = rows[m]
                for i, metric in enumerate(COUNTERS):
                    if metric == "RequestTimeSumMs":
                        continue
                    out.append((m * 60.0, kind, name, az, metric, row[i]))
                if row[0]:
                    out.append((m * 60.0, kind, name, az, "RequestTime", round(row[6] / row[0], 3)))
        for (kind, name), hs in sorted(self.minute_hists.items()):
            for m in sorted(hs):
                h = hs[m]
                if h.count:
                    for q in (50, 90, 99):
                        out.append((m * 60.0, kind, name, "all", f"RequestTime_p{q}", _ms(h.percentile(q))))
        return out
