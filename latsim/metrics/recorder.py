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

# Per-minute counters, by position (the CloudWatch names of docs/lattice.md §8.1)
COUNTERS = ("TotalRequestCount", "HTTPCode_2XX_Count", "HTTPCode_3XX_Count", "HTTPCode_4XX_Count",
            "HTTPCode_5XX_Count", "RequestTimeoutCount", "RequestTimeSum", "ConnectionErrorCount",
            "TotalReceivedBytes", "TotalSentBytes", "HTTPCode_VpcLattice_400_Count",
            "HTTPCode_VpcLattice_403_Count", "HTTPCode_VpcLattice_404_Count", "HTTPCode_VpcLattice_429_Count",
            "HTTPCode_VpcLattice_500_Count", "HTTPCode_VpcLattice_502_Count", "HTTPCode_VpcLattice_504_Count")
N = len(COUNTERS)
# A row is a list of floats (one list per minute segment is cheap to add to); code reads its
# columns by these names, never by a bare number.
_AT = {name: i for i, name in enumerate(COUNTERS)}
TOTAL = _AT["TotalRequestCount"]
HTTP_2XX = _AT["HTTPCode_2XX_Count"]  # 3XX, 4XX and 5XX follow: status class k counts at HTTP_2XX + k - 2
TIMEOUTS = _AT["RequestTimeoutCount"]
TIME_SUM = _AT["RequestTimeSum"]  # seconds; not published itself: RequestTime is its mean (in ms)
CONN_ERRORS = _AT["ConnectionErrorCount"]
BYTES_IN = _AT["TotalReceivedBytes"]
BYTES_OUT = _AT["TotalSentBytes"]
_LATTICE_IDX = {code: _AT[f"HTTPCode_VpcLattice_{code}_Count"] for code in (400, 403, 404, 429, 500, 502, 504)}
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


class ColdStarts:
    """A Lambda target group's cold starts: per simulated minute (warm-up included, like the
    per-minute series) and whole-run after the warm-up (count and the latency they added)."""

    __slots__ = ("count", "hist", "minutes")

    def __init__(self) -> None:
        self.count = 0
        self.hist = BufferedHistogram()
        self.minutes: dict[int, list[float]] = {}  # minute -> [count, seconds added]

    def add(self, t: float, seconds: float, counted: bool) -> None:
        m = self.minutes.get(int(t // 60.0))
        if m is None:
            m = self.minutes[int(t // 60.0)] = [0.0, 0.0]
        m[0] += 1
        m[1] += seconds
        if counted:
            self.count += 1
            self.hist.add(seconds)

    def summary(self) -> dict[str, Any]:
        """``count`` and ``added_ms`` (mean/p50/p90/p99/p999/max of the wait, in ms) after the warm-up."""
        h = self.hist.flushed()
        return {"count": self.count, "added_ms": latency_summary(h), "added_total_ms": _ms(h.sum)}


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
        step = d.step
        b = int(t // step)
        lo = float(b * step)
        hi = lo + step
        if t >= warmup:
            seg = 2 * b + 1
            if warmup > lo:
                lo = warmup
        else:
            seg = 2 * b
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
        counter ``col`` (``HTTP_2XX`` + class - 2; None: a status outside 2xx-5xx), time, bytes and
        latency. Returns the
        segment's counters for what else the caller counts (``Recorder.record``)."""
        row = self.row if self.lo <= t_start < self.hi else self.move(t_start)
        row[TOTAL] += 1
        if col is not None:
            row[col] += 1
        row[TIME_SUM] += dur
        row[BYTES_IN] += bytes_in
        row[BYTES_OUT] += bytes_out
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
    per segment (all AZs). A segment is a bucket of ``step`` seconds (a divisor of 60: the
    report's resolution), split in two at the end of the warm-up: segment ``2b`` holds bucket
    ``b`` before the warm-up ends, ``2b + 1`` after. Minutes (CloudWatch's period) are the sum of
    their buckets; the whole-run summary is the sum of the odd segments."""

    __slots__ = ("kind", "name", "warmup", "step", "rows", "hists", "cursors", "lattice_codes", "closed")

    def __init__(self, kind: str, name: str, warmup: float = 0.0, step: int = 60) -> None:
        self.kind = kind
        self.name = name
        self.warmup = warmup
        self.step = step
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
        st.count = int(total[TOTAL])
        st.codes[2:6] = [int(total[HTTP_2XX + k - 2]) for k in range(2, 6)]
        st.timeouts = int(total[TIMEOUTS])
        st.conn_errors = int(total[CONN_ERRORS])
        st.bytes_in = int(total[BYTES_IN])
        st.bytes_out = int(total[BYTES_OUT])
        st.lattice_codes = dict(self.lattice_codes)
        st.closed = dict(self.closed)
        st.hist = _merged([h for seg, h in sorted(self.hists.items()) if seg & 1])
        return st

    def minute_of(self, seg: int) -> int:
        return (seg >> 1) * self.step // 60

    def minutes(self, az: str) -> list[tuple[int, list[float]]]:
        """Per-minute counters of one AZ: the sum of each minute's segments."""
        return self._sums(az, self.minute_of)

    def buckets(self, az: str) -> list[tuple[int, list[float]]]:
        """Counters of one AZ per bucket of ``step`` seconds (both sides of the warm-up summed)."""
        return self._sums(az, lambda seg: seg >> 1)

    def _sums(self, az: str, key: Any) -> list[tuple[int, list[float]]]:
        out: dict[int, list[float]] = {}
        for seg, row in sorted(self.rows[az].items()):
            m = key(seg)
            acc = out.get(m)
            out[m] = list(row) if acc is None else [a + b for a, b in zip(acc, row, strict=True)]
        return sorted(out.items())

    def minute_hists(self) -> list[tuple[int, LogHistogram]]:
        return self._hists(self.minute_of)

    def bucket_hists(self) -> list[tuple[int, LogHistogram]]:
        return self._hists(lambda seg: seg >> 1)

    def _hists(self, key: Any) -> list[tuple[int, LogHistogram]]:
        self.flush()
        out: dict[int, list[LogHistogram]] = {}
        for seg, h in sorted(self.hists.items()):
            out.setdefault(key(seg), []).append(h)
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


STEPS = (1, 2, 5, 10, 15, 30, 60)  # divisors of a minute, the resolutions a report may use
MAX_BUCKETS = 60


def resolution_s(duration: float, dimensions: int = 0) -> int:
    """The time resolution of a run's series: the finest step of ``STEPS`` that cuts the run in at
    most ``MAX_BUCKETS`` buckets (1 s for a minute, 2 s for 2 minutes, 10 s for 10 minutes, a
    minute beyond half an hour); a minute when there are many dimensions (memory grows with
    buckets x dimensions: REF-1's 60 over 10 minutes add about 10 MB)."""
    if dimensions > 400:
        return 60
    return next((s for s in STEPS if duration / s <= MAX_BUCKETS), 60)


class Recorder:
    """Everything a run records: per-minute series (CloudWatch's period) and, for runs of up to
    half an hour, the same counters and percentiles per bucket of ``step`` seconds (``series_rows``)."""

    def __init__(self, warmup: float, step: int = 60) -> None:
        if step not in STEPS:
            raise ValueError(f"step {step} s does not divide a minute: one of {STEPS}")
        self.warmup = warmup
        self.step = step
        self.dims: dict[tuple[str, str], Dim] = {}
        self.rules: dict[str, dict[str, int]] = {}  # rule -> target group -> requests forwarded
        self.rule_unforwarded: dict[str, int] = defaultdict(int)  # rule -> fixed responses, all-zero 500s
        self.rule_times: dict[str, BufferedHistogram] = {}  # rule -> RequestTime of the requests it matched
        self.watchers: dict[str, Any] = {}  # target group -> window (canary controllers)
        self.cold_starts: dict[str, ColdStarts] = {}  # Lambda target group -> its cold starts

    def dim(self, kind: str, name: str) -> Dim:
        d = self.dims.get((kind, name))
        if d is None:
            d = self.dims[(kind, name)] = Dim(kind, name, self.warmup, self.step)
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
        row = c.count(t_start, dur, HTTP_2XX + klass - 2 if 2 <= klass <= 5 else None, bytes_in, bytes_out)
        if timeout:
            row[TIMEOUTS] += 1
        if conn_error:
            row[CONN_ERRORS] += 1
        if lattice_generated:
            idx = _LATTICE_IDX.get(status)
            if idx is not None:
                row[idx] += 1
            if t_start >= self.warmup:
                d.lattice_codes[status] = d.lattice_codes.get(status, 0) + 1
        if self.watchers and d.kind == "target_group" and d.name in self.watchers:
            self.watchers[d.name].add(dur, status)

    def cold_start(self, tg: str, t: float, seconds: float) -> None:
        """A Lambda invocation at ``t`` waited ``seconds`` for a new execution environment."""
        c = self.cold_starts.get(tg)
        if c is None:
            c = self.cold_starts[tg] = ColdStarts()
        c.add(t, seconds, t >= self.warmup)

    def rule_time(self, key: str) -> BufferedHistogram:
        """The latency (Lattice's RequestTime) of the requests a rule matched after the warm-up."""
        h = self.rule_times.get(key)
        if h is None:
            h = self.rule_times[key] = BufferedHistogram()
        return h

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
    def series_rows(self) -> list[tuple[float, str, str, str, float]]:
        """Per bucket of ``step`` seconds, all AZs: (bucket start s, dimension kind, name, metric,
        value) for ``TotalRequestCount``, ``HTTPCode_5XX_Count`` and ``RequestTime_p50/p90/p99``;
        empty when the step is a minute (the per-minute rows say it all)."""
        if self.step >= 60:
            return []
        out: list[tuple[float, str, str, str, float]] = []
        for (kind, name), d in sorted(self.dims.items()):
            d.flush()
            counts: dict[int, list[float]] = {}
            for az in sorted(d.rows):
                for b, row in d.buckets(az):
                    acc = counts.setdefault(b, [0.0, 0.0])
                    acc[0] += row[0]
                    acc[1] += row[4]
            hists = dict(d.bucket_hists())
            for b in sorted(counts):
                t = float(b * self.step)
                out.append((t, kind, name, "TotalRequestCount", counts[b][0]))
                out.append((t, kind, name, "HTTPCode_5XX_Count", counts[b][1]))
                h = hists.get(b)
                if h is not None and h.count:
                    for q, v in zip((50, 90, 99), h.percentiles((50, 90, 99)), strict=True):
                        out.append((t, kind, name, f"RequestTime_p{q}", _ms(v)))
        return out

    def metric_rows(self, end: float | None = None) -> list[tuple[float, str, str, str, str, float]]:
        """Long format: (minute start s, dimension kind, name, AZ, metric name, value), sorted.
        ``end``: the simulated time the run reached; the minute it cuts is that much long."""
        out: list[tuple[float, str, str, str, str, float]] = []
        for (kind, name), d in sorted(self.dims.items()):
            d.flush()
            for az in sorted(d.rows):
                for m, row in d.minutes(az):
                    for i, metric in enumerate(COUNTERS):
                        if i == TIME_SUM:
                            continue
                        out.append((m * 60.0, kind, name, az, metric, row[i]))
                    if row[TOTAL]:
                        out.append((m * 60.0, kind, name, az, "RequestTime",
                                    round(1000.0 * row[TIME_SUM] / row[TOTAL], 3)))
                    # average in flight over the minute (Little's law: time in flight / the minute's
                    # simulated length, which is under 60 s for the last minute of a run that ends or
                    # is interrupted mid-minute); one connection per request, as latsim does not
                    # model connection reuse
                    active = round(row[TIME_SUM] / minute_length(m, end), 6)
                    out.append((m * 60.0, kind, name, az, "ActiveRequestCount", active))
                    out.append((m * 60.0, kind, name, az, "ActiveConnectionCount", active))
            for m, h in d.minute_hists():
                if h.count:
                    for q in (50, 90, 99):
                        out.append((m * 60.0, kind, name, "all", f"RequestTime_p{q}", _ms(h.percentile(q))))
            cold = self.cold_starts.get(name) if kind == "target_group" else None
            if cold is not None:  # not a CloudWatch metric of Lattice: Lambda reports it as Init Duration
                for m, (n, secs) in sorted(cold.minutes.items()):
                    out.append((m * 60.0, kind, name, "all", "ColdStartCount", n))
                    out.append((m * 60.0, kind, name, "all", "ColdStartTimeMs", round(1000.0 * secs, 3)))
        return out
