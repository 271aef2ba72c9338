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
    """Whole-run statistics of one dimension (service, target group), summed from its segments
    after the warm-up (``Dim.stats``)."""

    __slots__ = ("count", "codes", "timeouts", "conn_errors", "hist", "lattice_codes", "bytes_in", "bytes_out",
                 "closed")

    def __init__(self) -> None:
        self.count = 0
        self.codes = [0] * 10  # index status // 100
        self.timeouts = 0
        self.conn_errors = 0
        self.hist = LogHistogram()
        self.lattice_codes: dict[int, int] = {}
        self.bytes_in = 0
        self.bytes_out = 0
        self.closed: dict[str, int] = {}  # connections closed without an HTTP response, by failureReason

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
            # latsim's own counts (not CloudWatch's): requests that ended with the connection closed
            # and no HTTP status (the client gave up first, or a TLS-passthrough connection denied)
            "ClosedWithoutResponse": dict(sorted(self.closed.items())),
        }


def latency_summary(h: LogHistogram) -> dict[str, float | None]:
    """mean/p50/p90/p99/p999/max in milliseconds, rounded to the microsecond (stable JSON)."""
    if h.count == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    return {"mean": _ms(h.mean), "p50": _ms(h.percentile(50)), "p90": _ms(h.percentile(90)),
            "p99": _ms(h.percentile(99)), "p999": _ms(h.percentile(99.9)), "max": _ms(h.max)}


def minute_length(m: int, end: float | None) -> float:
    """Simulated seconds of minute ``m`` in a run that reached ``end`` (60 s but for the last)."""
    if end is None:
        return 60.0
    return max(min(60.0, end - m * 60.0), 1e-9)


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


class Cursor:
    """Where one (dimension, AZ) pair records now: the counters of its current segment and a
    bounded latency buffer for that segment's histogram. ``lo <= t < hi`` says the segment holds
    ``t``; any other time moves the cursor (a dict lookup: about once a simulated minute)."""

    __slots__ = ("dim", "az", "lo", "hi", "seg", "row", "buf")

    def __init__(self, dim: Dim, az: str) -> None:
        self.dim = dim
        self.az = az
        self.lo = 1.0
        self.hi = 0.0  # holds nothing: the first record moves the cursor
        self.seg = -1
        self.row: list[float] = []
        self.buf: list[float] = []

    def move(self, t: float) -> list[float]:
        """Point at the segment holding ``t``; returns its counters. The segment left behind is
        usually done: its histogram is compacted (memory then grows by a few KB per simulated
        minute and dimension, not 20 KB)."""
        self.flush()
        d = self.dim
        left = d.hists.get(self.seg)
        if left is not None:
            left.compact()
        warmup = d.warmup
        m = int(t // 60.0)
        lo = m * 60.0
        hi = lo + 60.0
        if t >= warmup:
            seg = 2 * m + 1
            if warmup > lo:
                lo = warmup
        else:
            seg = 2 * m
            if warmup < hi:
                hi = warmup
        self.lo, self.hi, self.seg = lo, hi, seg
        rows = d.rows.get(self.az)
        if rows is None:
            rows = d.rows[self.az] = {}
        row = rows.get(seg)
        if row is None:
            row = rows[seg] = [0.0] * N
        self.row = row
        return row

    def count(self, t_start: float, dur: float, col: int | None, bytes_in: int, bytes_out: int) -> list[float]:
        """One request that started at ``t_start`` and took ``dur``: its count, its status class
        counter ``col`` (None: a status outside 2xx-5xx), time, bytes and latency. Returns the
        segment's counters for what else the caller counts (``Recorder.record``)."""
        row = self.row if self.lo <= t_start < self.hi else self.move(t_start)
        row[0] += 1
        if col is not None:
            row[col] += 1
        row[6] += dur
        row[8] += bytes_in
        row[9] += bytes_out
        buf = self.buf
        buf.append(dur)
        if len(buf) >= FLUSH:
            self.flush()
        return row

    def flush(self) -> None:
        buf = self.buf
        if buf:
            self.dim.seg_hist(self.seg).record_many(buf)
            buf.clear()


class Dim:
    """One dimension (service or target group): counters per AZ and segment, a latency histogram
    per segment (all AZs). A segment is a simulated minute, split in two at the end of the
    warm-up: segment ``2m`` holds minute ``m`` before the warm-up ends, ``2m + 1`` after. Minutes
    are the sum of their two segments; the whole-run summary is the sum of the odd ones."""

    __slots__ = ("kind", "name", "warmup", "rows", "hists", "cursors", "lattice_codes", "closed")

    def __init__(self, kind: str, name: str, warmup: float = 0.0) -> None:
        self.kind = kind
        self.name = name
        self.warmup = warmup
        self.rows: dict[str, dict[int, list[float]]] = {}
        self.hists: dict[int, LogHistogram] = {}
        self.cursors: dict[str, Cursor] = {}
        self.lattice_codes: dict[int, int] = {}  # Lattice-generated statuses after the warm-up
        self.closed: dict[str, int] = {}  # closed without a response, by failureReason, after the warm-up

    def cursor(self, az: str) -> Cursor:
        c = self.cursors.get(az)
        if c is None:
            c = self.cursors[az] = Cursor(self, az)
        return c

    def seg_hist(self, seg: int) -> LogHistogram:
        h = self.hists.get(seg)
        if h is None:
            h = self.hists[seg] = LogHistogram()
        return h

    def flush(self) -> None:
        for c in self.cursors.values():
            c.flush()

    def stats(self) -> Stats:
        """The whole-run statistics: every segment after the warm-up."""
        self.flush()
        st = Stats()
        total = [0.0] * N
        for _az, rows in sorted(self.rows.items()):
            for seg, row in sorted(rows.items()):
                if seg & 1:
                    for i, v in enumerate(row):
                        total[i] += v
        st.count = int(total[0])
        st.codes[2:6] = [int(total[1]), int(total[2]), int(total[3]), int(total[4])]
        st.timeouts = int(total[5])
        st.conn_errors = int(total[7])
        st.bytes_in = int(total[8])
        st.bytes_out = int(total[9])
        st.lattice_codes = dict(self.lattice_codes)
        st.closed = dict(self.closed)
        st.hist = _merged([h for seg, h in sorted(self.hists.items()) if seg & 1])
        return st

    def minutes(self, az: str) -> list[tuple[int, list[float]]]:
        """Per-minute counters of one AZ: the sum of each minute's two segments."""
        out: dict[int, list[float]] = {}
        for seg, row in sorted(self.rows[az].items()):
            m = seg >> 1
            acc = out.get(m)
            out[m] = list(row) if acc is None else [a + b for a, b in zip(acc, row, strict=True)]
        return sorted(out.items())

    def minute_hists(self) -> list[tuple[int, LogHistogram]]:
        self.flush()
        out: dict[int, list[LogHistogram]] = {}
        for seg, h in sorted(self.hists.items()):
            out.setdefault(seg >> 1, []).append(h)
        return [(m, _merged(hs)) for m, hs in sorted(out.items())]


def _merged(hists: list[LogHistogram]) -> LogHistogram:
    """The merge of ``hists`` in order; a single one is returned as it is (read-only use: with
    thousands of dimensions a copy each is hundreds of megabytes)."""
    if not hists:
        return LogHistogram()
    if len(hists) == 1:
        return hists[0]
    out = hists[0].copy()
    for h in hists[1:]:
        out.merge(h)
    return out


class Recorder:
    """Everything a run records."""

    def __init__(self, warmup: float) -> None:
        self.warmup = warmup
        self.dims: dict[tuple[str, str], Dim] = {}
        self.rules: dict[str, dict[str, int]] = {}  # rule -> target group -> requests forwarded
        self.rule_unforwarded: dict[str, int] = defaultdict(int)  # rule -> fixed responses, all-zero 500s
        self.watchers: dict[str, Any] = {}  # target group -> window (canary controllers)

    def dim(self, kind: str, name: str) -> Dim:
        d = self.dims.get((kind, name))
        if d is None:
            d = self.dims[(kind, name)] = Dim(kind, name, self.warmup)
        return d

    @property
    def services(self) -> dict[str, Stats]:
        """Whole-run statistics per service (computed from the segments: read it once, after the run)."""
        return {n: d.stats() for (k, n), d in self.dims.items() if k == "service"}

    @property
    def target_groups(self) -> dict[str, Stats]:
        return {n: d.stats() for (k, n), d in self.dims.items() if k == "target_group"}

    def buffered(self) -> int:
        """Latencies waiting in buffers (bounded: at most ``FLUSH`` per cursor)."""
        return sum(len(c.buf) for d in self.dims.values() for c in d.cursors.values())

    def record(self, d: Dim, az: str, t_start: float, t_end: float, status: int, timeout: bool = False,
               conn_error: bool = False, lattice_generated: bool = False, bytes_in: int = 0,
               bytes_out: int = 0, failure: str | None = None) -> None:
        """One request seen by a service or a target group (``d`` from ``dim``). The engine's fast
        path counts a target's 200 with ``Cursor.count`` directly (and feeds watchers itself)."""
        dur = t_end - t_start
        if status == 0 and lattice_generated:  # no HTTP status: the connection was closed (status 0)
            lattice_generated = False
            if t_start >= self.warmup and failure is not None:
                d.closed[failure] = d.closed.get(failure, 0) + 1
        c = d.cursors.get(az)
        if c is None:
            c = d.cursor(az)
        klass = status // 100
        row = c.count(t_start, dur, klass - 1 if 2 <= klass <= 5 else None, bytes_in, bytes_out)
        if timeout:
            row[5] += 1
        if conn_error:
            row[7] += 1
        if lattice_generated:
            idx = _LATTICE_IDX.get(status)
            if idx is not None:
                row[idx] += 1
            if t_start >= self.warmup:
                d.lattice_codes[status] = d.lattice_codes.get(status, 0) + 1
        if self.watchers and d.kind == "target_group" and d.name in self.watchers:
            self.watchers[d.name].add(dur, status)

    def rule(self, key: str, tg: str | None, t: float) -> None:
        """A rule (or default action) matched a request after the warm-up; ``tg`` it was forwarded to."""
        if t < self.warmup:
            return
        if tg is None:
            self.rule_unforwarded[key] += 1
            return
        d = self.rules.get(key)
        if d is None:
            d = self.rules[key] = {}
        d[tg] = d.get(tg, 0) + 1

    @property
    def rule_hits(self) -> dict[str, int]:
        """Requests each rule matched after the warm-up."""
        keys = set(self.rules) | set(self.rule_unforwarded)
        return {k: sum(self.rules.get(k, {}).values()) + self.rule_unforwarded.get(k, 0) for k in sorted(keys)}

    # -- output -------------------------------------------------------------------------------
    def metric_rows(self, end: float | None = None) -> list[tuple[float, str, str, str, str, float]]:
        """Long format: (minute start s, dimension kind, name, AZ, metric name, value), sorted.
        ``end``: the simulated time the run reached; the minute it cuts is that much long."""
        out: list[tuple[float, str, str, str, str, float]] = []
        for (kind, name), d in sorted(self.dims.items()):
            d.flush()
            for az in sorted(d.rows):
                for m, row in d.minutes(az):
                    for i, metric in enumerate(COUNTERS):
                        if metric == "RequestTimeSumMs":
                            continue
                        out.append((m * 60.0, kind, name, az, metric, row[i]))
                    if row[0]:
                        out.append((m * 60.0, kind, name, az, "RequestTime", round(1000.0 * row[6] / row[0], 3)))
                    # average in flight over the minute (Little's law: time in flight / the minute's
                    # simulated length, which is under 60 s for the last minute of a run that ends or
                    # is interrupted mid-minute); one connection per request, as latsim does not
                    # model connection reuse
                    active = round(row[6] / minute_length(m, end), 6)
                    out.append((m * 60.0, kind, name, az, "ActiveRequestCount", active))
                    out.append((m * 60.0, kind, name, az, "ActiveConnectionCount", active))
            for m, h in d.minute_hists():
                if h.count:
                    for q in (50, 90, 99):
                        out.append((m * 60.0, kind, name, "all", f"RequestTime_p{q}", _ms(h.percentile(q))))
        return out
