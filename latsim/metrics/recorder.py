"""Streaming recorders: per-minute CloudWatch-named series and whole-run histograms.

Memory grows with the number of simulated minutes and dimensions, never with the number of
requests: latencies wait in small bounded buffers and are folded into mergeable log-bucket
histograms in numpy blocks. Requests that start during the warm-up are simulated and appear in
the per-minute series, but not in the whole-run summaries.
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
FLUSH = 4096


class BufferedHistogram:
    """A LogHistogram fed through a bounded buffer: ``add`` is one list append."""

    __slots__ = ("hist", "buf")

    def __init__(self) -> None:
        self.hist = LogHistogram()
        self.buf: list[float] = []

    def add(self, x: float) -> None:
        buf = self.buf
        buf.append(x)
        if len(buf) >= FLUSH:
            self.hist.record_many(buf)
            buf.clear()

    def flushed(self) -> LogHistogram:
        if self.buf:
            self.hist.record_many(self.buf)
            self.buf.clear()
        return self.hist


class Stats:
    """Whole-run statistics of one dimension (service, target group)."""

    __slots__ = ("count", "codes", "timeouts", "conn_errors", "bh", "lattice_codes", "bytes_in", "bytes_out")

    def __init__(self) -> None:
        self.count = 0
        self.codes = [0] * 10  # index status // 100
        self.timeouts = 0
        self.conn_errors = 0
        self.bh = BufferedHistogram()
        self.lattice_codes: dict[int, int] = defaultdict(int)
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def hist(self) -> LogHistogram:
        return self.bh.flushed()

    def summary(self) -> dict[str, Any]:
        return {
            "TotalRequestCount": self.count,
            "HTTPCode_2XX_Count": self.codes[2],
            "HTTPCode_3XX_Count": self.codes[3],
            "HTTPCode_4XX_Count": self.codes[4],
            "HTTPCode_5XX_Count": self.codes[5],
            "RequestTimeoutCount": self.timeouts,
            "ConnectionErrorCount": self.conn_errors,
            "RequestTime": latency_summary(self.hist),
            **{f"HTTPCode_VpcLattice_{code}_Count": n for code, n in sorted(self.lattice_codes.items())},
            "TotalReceivedBytes": self.bytes_in,
            "TotalSentBytes": self.bytes_out,
        }


def latency_summary(h: LogHistogram) -> dict[str, float | None]:
    """mean/p50/p90/p99/p999/max in milliseconds, rounded to the microsecond (stable JSON)."""
    if h.count == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    return {"mean": _ms(h.mean), "p50": _ms(h.percentile(50)), "p90": _ms(h.percentile(90)),
            "p99": _ms(h.percentile(99)), "p999": _ms(h.percentile(99.9)), "max": _ms(h.max)}


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


class Dim:
    """One dimension (service or target group): its per-minute rows and its summary stats."""

    __slots__ = ("kind", "name", "rows", "minute", "mbuf", "mhists", "stats", "cur")

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        self.rows: dict[str, dict[int, list[float]]] = {}
        self.minute = -1
        self.cur: dict[str, list[float]] = {}
        self.mbuf: list[float] = []
        self.mhists: dict[int, LogHistogram] = {}
        self.stats = Stats()

    def minute_hist(self, m: int) -> LogHistogram:
        h = self.mhists.get(m)
        if h is None:
            h = self.mhists[m] = LogHistogram()
        return h

    def flush_minute(self) -> None:
        if self.mbuf:
            self.minute_hist(self.minute).record_many(self.mbuf)
            self.mbuf.clear()


class Recorder:
    """Everything a run records."""

    def __init__(self, warmup: float) -> None:
        self.warmup = warmup
        self.dims: dict[tuple[str, str], Dim] = {}
        self.rules: dict[str, dict[str, int]] = {}
        self.rule_hits: dict[str, int] = defaultdict(int)
        self.watchers: dict[str, Any] = {}  # target group -> window (canary controllers)

    def dim(self, kind: str, name: str) -> Dim:
        d = self.dims.get((kind, name))
        if d is None:
            d = self.dims[(kind, name)] = Dim(kind, name)
        return d

    @property
    def services(self) -> dict[str, Stats]:
        return {n: d.stats for (k, n), d in self.dims.items() if k == "service"}

    @property
    def target_groups(self) -> dict[str, Stats]:
        return {n: d.stats for (k, n), d in self.dims.items() if k == "target_group"}

    def record(self, d: Dim, az: str, t_start: float, t_end: float, status: int, timeout: bool = False,
               conn_error: bool = False, lattice_generated: bool = False, bytes_in: int = 0,
               bytes_out: int = 0) -> None:
        """One request seen by a service or a target group (``d`` from ``dim``). The hot path."""
        dur = t_end - t_start
        m = int(t_start // 60.0)
        if m != d.minute:
            d.flush_minute()
            d.minute = m
            d.cur = {}
        row = d.cur.get(az)
        if row is None:
            rows = d.rows.get(az)
            if rows is None:
                rows = d.rows[az] = {}
            row = rows.get(m)
            if row is None:
                row = rows[m] = [0.0] * N
            d.cur[az] = row
        row[0] += 1
        klass = status // 100
        if klass == 2:
            row[1] += 1
        elif 3 <= klass <= 5:
            row[klass - 1] += 1
        row[6] += dur
        row[8] += bytes_in
        row[9] += bytes_out
        if timeout:
            row[5] += 1
        if conn_error:
            row[7] += 1
        if lattice_generated:
            idx = _LATTICE_IDX.get(status)
            if idx is not None:
                row[idx] += 1
        mbuf = d.mbuf
        mbuf.append(dur)
        if len(mbuf) >= FLUSH:
            d.flush_minute()
        if self.watchers and d.name in self.watchers and d.kind == "target_group":
            self.watchers[d.name].add(dur, status)
        if t_start < self.warmup:
            return
        st = d.stats
        st.count += 1
        st.codes[klass] += 1
        st.bytes_in += bytes_in
        st.bytes_out += bytes_out
        if timeout:
            st.timeouts += 1
        if conn_error:
            st.conn_errors += 1
        if lattice_generated:
            st.lattice_codes[status] += 1
        buf = st.bh.buf
        buf.append(dur)
        if len(buf) >= FLUSH:
            st.bh.flushed()

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
        for (kind, name), d in sorted(self.dims.items()):
            d.flush_minute()
            for az, rows in sorted(d.rows.items()):
                for m in sorted(rows):
                    row = rows[m]
                    for i, metric in enumerate(COUNTERS):
                        if metric == "RequestTimeSumMs":
                            continue
                        out.append((m * 60.0, kind, name, az, metric, row[i]))
                    if row[0]:
                        out.append((m * 60.0, kind, name, az, "RequestTime", round(1000.0 * row[6] / row[0], 3)))
                    # average in flight over the minute (Little's law: time in flight / 60 s); one
                    # connection per request, as latsim does not model connection reuse
                    active = round(row[6] / 60.0, 6)
                    out.append((m * 60.0, kind, name, az, "ActiveRequestCount", active))
                    out.append((m * 60.0, kind, name, az, "ActiveConnectionCount", active))
            for m in sorted(d.mhists):
                h = d.mhists[m]
                if h.count:
                    for q in (50, 90, 99):
                        out.append((m * 60.0, kind, name, "all", f"RequestTime_p{q}", _ms(h.percentile(q))))
        return out
