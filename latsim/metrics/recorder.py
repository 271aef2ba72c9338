"""Streaming recorders: per-minute CloudWatch-named series and whole-run histograms.

Memory grows with the number of dimensions, never with the number of requests nor with the
run's length: latencies wait in small bounded buffers and are folded into mergeable log-bucket
histograms in numpy blocks, and each simulated minute is closed ``CLOSE_LAG`` after it ends and
written to an anonymous spool (``Recorder``), from which ``MetricRows`` reads the rows back. Requests that start during the warm-up are simulated and appear in
the per-minute series, but not in the whole-run summaries.
"""

from __future__ import annotations

import math
import signal
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import zip_longest
from operator import add
from typing import Any, Final, overload

import numpy as np

from latsim.metrics.histogram import LogHistogram, percentiles_many, record_chunks
from latsim.metrics.spool import Spool

# Per-minute counters, by position (the CloudWatch names of docs/lattice.md §8.1)
COUNTERS = ("TotalRequestCount", "HTTPCode_2XX_Count", "HTTPCode_3XX_Count", "HTTPCode_4XX_Count",
            "HTTPCode_5XX_Count", "RequestTimeoutCount", "RequestTimeSum", "ConnectionErrorCount",
            "TotalReceivedBytes", "TotalSentBytes", "HTTPCode_VpcLattice_400_Count",
            "HTTPCode_VpcLattice_403_Count", "HTTPCode_VpcLattice_404_Count", "HTTPCode_VpcLattice_429_Count",
            "HTTPCode_VpcLattice_500_Count", "HTTPCode_VpcLattice_502_Count", "HTTPCode_VpcLattice_504_Count")
N: Final = len(COUNTERS)
# A row is a list of floats (one list per minute segment is cheap to add to); code reads its
# columns by these names, never by a bare number.
_AT = {name: i for i, name in enumerate(COUNTERS)}
TOTAL: Final = _AT["TotalRequestCount"]
HTTP_2XX: Final = _AT["HTTPCode_2XX_Count"]  # 3XX, 4XX and 5XX follow: status class k counts at HTTP_2XX + k - 2
TIMEOUTS: Final = _AT["RequestTimeoutCount"]
TIME_SUM: Final = _AT["RequestTimeSum"]  # seconds; not published itself: RequestTime is its mean (in ms)
CONN_ERRORS: Final = _AT["ConnectionErrorCount"]
BYTES_IN: Final = _AT["TotalReceivedBytes"]
BYTES_OUT: Final = _AT["TotalSentBytes"]
_LATTICE_IDX = {code: _AT[f"HTTPCode_VpcLattice_{code}_Count"] for code in (400, 403, 404, 429, 500, 502, 504)}
FLUSH: Final = 4096
# Latencies the cursors have handed over wait for ``Recorder.drain`` until there are this many (or
# minutes close): a drain's numpy calls are paid once for the segments of a minute or more (a slow
# workload's 240 cursors hand over ~50 values each a minute); at most 2.5 MB as lists of floats.
PENDING = 16 * FLUSH


class BufferedHistogram:
    """A LogHistogram fed through a bounded buffer: ``add`` is one append. The buffer is an array
    of doubles (8 bytes a value, a list of floats takes 32): a run holds one per target, rule and
    client, and a long run fills them all to ``FLUSH`` (REF-1 as 200 clients: 20 MB as lists)."""

    __slots__ = ("hist", "buf")

    def __init__(self) -> None:
        self.hist = LogHistogram().keep_compact()
        self.buf = array("d")

    def add(self, x: float) -> None:
        buf = self.buf
        buf.append(x)
        if len(buf) >= FLUSH:
            self.hist.record_many(np.array(buf))  # a copy: the array can then be emptied
            del buf[:]

    def flushed(self) -> LogHistogram:
        if self.buf:
            self.hist.record_many(np.array(self.buf))
            del self.buf[:]
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
    p50, p90, p99, p999 = h.percentiles((50, 90, 99, 99.9))  # one pass: the same values as four
    return {"mean": _ms(h.mean), "p50": _ms(p50), "p90": _ms(p90), "p99": _ms(p99), "p999": _ms(p999),
            "max": _ms(h.max)}


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
        self.buf = array("d")  # doubles, not float objects: they live until the drain, a minute or more

    def move(self, t: float) -> list[float]:
        """Point at the segment holding ``t``; returns its counters. The segment left behind is
        usually done: its histogram is compacted (memory then grows by a few KB per simulated
        minute and dimension, not 20 KB). Moving is also when the recorder closes the minutes that
        no request can reach any more (``Recorder.advance``): once a simulated minute per cursor."""
        d = self.dim
        rec = d.rec
        rec.finished = False
        if t >= rec.close_at:
            rec.advance(t)
        self.flush()
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
        if b * step // 60 <= rec.closed_minute:  # its minute was closed: merged when read (``Dim.records``)
            rec.late += 1
        self.lo, self.hi, self.seg = lo, hi, seg
        rows = d.rows.get(self.az)
        if rows is None:
            rows = d.rows[self.az] = {}
            d.azs.add(self.az)
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
        """Hand the buffered latencies to the recorder (``Recorder.drain`` records them)."""
        buf = self.buf
        if buf:
            d = self.dim
            rec = d.rec
            rec.pending.append((d, self.seg, d.seg_hist(self.seg), buf))
            self.buf = array("d")
            rec.pending_n += len(buf)
            if rec.pending_n >= PENDING:
                rec.drain()

    def leave(self) -> None:
        """Its segment closes: flush its latencies; the next record moves the cursor."""
        self.flush()
        self.lo, self.hi, self.seg, self.row = 1.0, 0.0, -1, []


# One closed minute of one dimension, as kept and spooled: (minute, {az: its 17 counters},
# the minute's latency histogram (compacted) or None, its (p50, p90, p99) in ms (None while kept
# and spooled: ``Dim.records`` computes them when the minute is read), Lambda cold starts
# [count, seconds] or None)
Closed = tuple[int, dict[str, list[float]], "LogHistogram | None", "tuple[float, float, float] | None",
               "list[float] | None"]


class Dim:
    """One dimension (service or target group): counters per AZ and segment, a latency histogram
    per segment (all AZs). A segment is a bucket of ``step`` seconds (a divisor of 60: the
    report's resolution), split in two at the end of the warm-up: segment ``2b`` holds bucket
    ``b`` before the warm-up ends, ``2b + 1`` after. Minutes (CloudWatch's period) are the sum of
    their buckets; the whole-run summary is the sum of the odd segments.

    Segments live in memory only until their minute closes (``close``): the minute's per-AZ
    counters, merged histogram and percentiles are then kept (``kept``) until the recorder
    spills them (``spilled``: where in the spool), the odd segments are folded into the
    whole-run ``total`` and ``whole`` histogram, and for a report's finer series its buckets'
    rows are computed (``series``)."""

    __slots__ = ("kind", "name", "warmup", "step", "rows", "hists", "cursors", "lattice_codes", "closed", "rec",
                 "azs", "total", "whole", "kept", "spilled", "series")

    def __init__(self, kind: str, name: str, warmup: float = 0.0, step: int = 60, rec: Recorder | None = None) -> None:
        self.kind = kind
        self.name = name
        self.warmup = warmup
        self.step = step
        self.rec = rec if rec is not None else Recorder(warmup, step)
        self.rows: dict[str, dict[int, list[float]]] = {}  # open segments' counters, per AZ
        self.hists: dict[int, LogHistogram] = {}  # open segments' latencies
        self.cursors: dict[str, Cursor] = {}
        self.lattice_codes: dict[int, int] = {}  # Lattice-generated statuses after the warm-up
        self.closed: dict[str, int] = {}  # closed without a response, by failureReason, after the warm-up
        self.azs: set[str] = set()  # every AZ that ever recorded (the per-minute rows' AZs)
        self.total = [0.0] * N  # the closed odd segments' counters (whole run, after the warm-up)
        self.whole = LogHistogram()  # and their latencies, merged in time order
        self.kept: list[Closed] = []  # closed minutes not spilled yet
        self.spilled: list[tuple[int, int]] = []  # where the spilled ones are (``Recorder.spool``)
        self.series: list[tuple[float, str, str, str, float]] = []  # closed buckets (``Recorder.series_rows``)

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

    def minute_of(self, seg: int) -> int:
        return (seg >> 1) * self.step // 60

    def resident(self) -> int:
        """Segments and closed minutes held in memory (what grows if minutes stop leaving)."""
        return sum(len(r) for r in self.rows.values()) + len(self.hists) + len(self.kept)

    def leave(self, upto: int) -> int:
        """The cursors in minute ``upto`` or earlier leave their segments (their latencies handed
        over); returns the first segment of minute ``upto + 1``."""
        limit = 2 * ((upto + 1) * 60 // self.step)
        for c in self.cursors.values():
            if 0 <= c.seg < limit:
                c.leave()
        return limit

    def close(self, upto: int) -> None:
        """Close every segment of minute ``upto`` or earlier: their minutes are kept as ``Closed``
        (in time order), the odd segments folded into the whole-run figures; the segments leave.
        A minute's percentiles are computed when its rows are read (``records``), from the
        histogram it keeps anyway: a run whose per-minute rows nobody reads (``latsim run
        --json``) never computes them."""
        limit = self.leave(upto)
        rec = self.rec
        if rec.pending:
            rec.drain()
        minute_of = self.minute_of
        # minute -> ({az: [(segment, its counters)]}, [(segment, its histogram)]), segments in order
        by_minute: dict[int, tuple[dict[str, list[tuple[int, list[float]]]], list[tuple[int, LogHistogram]]]] = {}
        for az in sorted(self.rows):
            rows = self.rows[az]
            for seg in sorted(s for s in rows if s < limit):
                by_minute.setdefault(minute_of(seg), ({}, []))[0].setdefault(az, []).append((seg, rows.pop(seg)))
        for seg in sorted(s for s in self.hists if s < limit):
            by_minute.setdefault(minute_of(seg), ({}, []))[1].append((seg, self.hists.pop(seg)))
        cold = rec.cold_starts.get(self.name) if self.kind == "target_group" else None
        colds = {m: cold.minutes.pop(m) for m in sorted(cold.minutes) if m <= upto} if cold is not None else {}
        total = self.total
        kept = self.kept
        for m in sorted(by_minute.keys() | colds.keys()):
            rows_by_az, hists = by_minute.get(m, ({}, []))
            sums: dict[str, list[float]] = {}
            for az, segs in rows_by_az.items():
                acc: list[float] | None = None
                for seg, row in segs:
                    if seg & 1:
                        for i in range(N):
                            total[i] += row[i]
                    # the popped row itself when it is the minute's only one (no cursor holds it)
                    acc = row if acc is None else list(map(add, acc, row))
                assert acc is not None
                sums[az] = acc
            for seg, h in hists:
                if seg & 1:
                    self.whole.merge(h)
            if self.step < 60:
                self._series(rows_by_az, hists)
            mh = _merged([h for _, h in hists]) if hists else None
            if mh is not None and mh.count:
                mh.compact()
            else:
                mh = None
            kept.append((m, sums, mh, None, colds.get(m)))  # its percentiles: when read (records)

    def _series(self, rows_by_az: dict[str, list[tuple[int, list[float]]]],
                hists: list[tuple[int, LogHistogram]]) -> None:
        """The closing minute's buckets (all AZs): requests, 5xx and RequestTime p50/p90/p99."""
        counts: dict[int, list[float]] = {}
        for az in sorted(rows_by_az):
            per_bucket: dict[int, list[float]] = {}
            for seg, row in rows_by_az[az]:
                acc = per_bucket.get(seg >> 1)
                per_bucket[seg >> 1] = list(row) if acc is None else [a + b for a, b in zip(acc, row, strict=True)]
            for b, row in sorted(per_bucket.items()):
                c = counts.setdefault(b, [0.0, 0.0])
                c[0] += row[0]
                c[1] += row[4]
        by_bucket: dict[int, list[LogHistogram]] = {}
        for seg, h in hists:
            by_bucket.setdefault(seg >> 1, []).append(h)
        kind, name = self.kind, self.name
        for b in sorted(counts):
            t = float(b * self.step)
            self.series.append((t, kind, name, "TotalRequestCount", counts[b][0]))
            self.series.append((t, kind, name, "HTTPCode_5XX_Count", counts[b][1]))
            hs = by_bucket.get(b)
            bh = _merged(hs) if hs else None
            if bh is not None and bh.count:
                for q, v in zip((50, 90, 99), bh.percentiles((50, 90, 99)), strict=True):
                    self.series.append((t, kind, name, f"RequestTime_p{q}", _ms(v)))

    def spill(self, spool: Spool) -> None:
        if self.kept:
            self.spilled.append(spool.write([(m, {az: _sparse(row) for az, row in rows.items()},
                                              h.state() if h is not None else None, pcts, cold)
                                             for m, rows, h, pcts, cold in self.kept]))
            self.kept = []

    def records(self) -> list[Closed]:
        """Every closed minute, in time order, read back from the spool; a minute closed twice
        (a request recorded after its minute closed: ``Recorder.late``) is merged into one."""
        out: dict[int, Closed] = {}
        spool = self.rec.spool
        for where in self.spilled:
            assert spool is not None
            for m, sparse, state, pcts, cold in spool.read(where):
                rows = {az: _dense(row) for az, row in sparse.items()}
                c = (m, rows, LogHistogram.from_state(state) if state is not None else None, pcts, cold)
                out[m] = c if m not in out else _merge_closed(out[m], c)
        for c in self.kept:
            out[c[0]] = c if c[0] not in out else _merge_closed(out[c[0]], c)
        closed = [out[m] for m in sorted(out)]
        fill_percentiles(closed)
        return closed

    def stats(self) -> Stats:
        """The whole-run statistics: every segment after the warm-up (closes what is open)."""
        self.rec.finish()
        st = Stats()
        total = self.total
        st.count = int(total[TOTAL])
        st.codes[2:6] = [int(total[HTTP_2XX + k - 2]) for k in range(2, 6)]
        st.timeouts = int(total[TIMEOUTS])
        st.conn_errors = int(total[CONN_ERRORS])
        st.bytes_in = int(total[BYTES_IN])
        st.bytes_out = int(total[BYTES_OUT])
        st.lattice_codes = dict(self.lattice_codes)
        st.closed = dict(self.closed)
        st.hist = self.whole
        return st


def _merge_closed(a: Closed, b: Closed) -> Closed:
    """One minute closed twice: counters added, histograms merged (their percentiles computed
    by ``Dim.records``), cold starts added. Counts are exact; float sums may differ from a single
    close in the last bit."""
    m, rows_a, ha, _, cold_a = a
    _, rows_b, hb, _, cold_b = b
    rows = {az: list(r) for az, r in rows_a.items()}
    for az, r in rows_b.items():
        rows[az] = list(r) if az not in rows else [x + y for x, y in zip(rows[az], r, strict=True)]
    h = ha if hb is None else hb if ha is None else ha.copy().merge(hb)
    if h is not None:
        h.compact()
    cold = cold_a if cold_b is None else cold_b if cold_a is None else [cold_a[0] + cold_b[0], cold_a[1] + cold_b[1]]
    return (m, rows, h, None, cold)  # its percentiles: Dim.records


_EVERY_MINUTE = 1 << 62  # ``Dim.close`` upto: every minute


def _sparse(row: list[float]) -> tuple[int, list[float]]:
    """A minute's counters as spilled: (a bit per counter that is not +0.0, those counters in
    order). Most of the 17 are zeros (a slow workload's: 5 are not); marshalled and compressed,
    a third fewer bytes than the list."""
    mask = 0
    values: list[float] = []
    for i, v in enumerate(row):
        if v != 0.0 or math.copysign(1.0, v) < 0.0:  # (-0.0 kept as it is)
            mask |= 1 << i
            values.append(v)
    return mask, values


def _dense(sparse: tuple[int, list[float]]) -> list[float]:
    """The counters ``_sparse`` spilled, the same floats."""
    mask, values = sparse
    row = [0.0] * N
    k = 0
    for i in range(N):
        if mask >> i & 1:
            row[i] = values[k]
            k += 1
    return row


@contextmanager
def _whole() -> Iterator[None]:
    """Ctrl-C (SIGINT) waits until the block is done: closing minutes moves rows from the open
    segments to the closed minutes, and an interrupted run's partial summary must find each row
    in one of them. The handler is held back (the signal noted, then handed to it), not the
    signal blocked: numpy's threads would take a blocked one. Once a simulated minute; only the
    main thread handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):  # ignored (a study's worker) or the system's default
        yield
        return
    came: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: came.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if came:
            handler(signal.SIGINT, None)  # Python's default raises KeyboardInterrupt here


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


def fill_percentiles(closed: list[Closed]) -> None:
    """The closed minutes with a histogram get their p50/p90/p99 (in place), all computed together
    (``percentiles_many``: bit for bit those of ``percentiles``), and their histograms are compacted."""
    at = [i for i, c in enumerate(closed) if c[2] is not None]
    if not at:
        return
    pcts = percentiles_many([closed[i][2] for i in at], (50, 90, 99))  # type: ignore[misc]
    for i, (p50, p90, p99) in zip(at, pcts, strict=True):
        m, sums, mh, _, cold = closed[i]
        closed[i] = (m, sums, mh, (_ms(p50), _ms(p90), _ms(p99)), cold)


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


# Minutes close this long (simulated seconds) after they end: a request is recorded by its start
# time, and it can be recorded that long after it started -- Lattice answers by the service's idle
# timeout (at most 600 s, docs/lattice.md §7.2), plus the connect timeout and the draws of hops and overhead.
# A request recorded later still is not lost: its minute is closed again and merged (``late``).
CLOSE_LAG = 720.0
# Closed minutes are written to the spool this many at a time (one block per dimension).
SPILL_MINUTES = 16


class Recorder:
    """Everything a run records: per-minute series (CloudWatch's period) and, for runs of up to
    half an hour, the same counters and percentiles per bucket of ``step`` seconds (``series_rows``).

    Memory does not grow with the run's length: ``CLOSE_LAG`` after the last of ``SPILL_MINUTES``
    minutes ends, their segments are closed together (``Dim.close``: whole-run figures folded in,
    the minutes' rows kept) and leave memory at once for an anonymous temporary file (``spool``);
    ``metric_rows`` reads them back on demand. A run with a finer series than a minute (``step``
    < 60: runs of up to half an hour) closes its minutes at the end only."""

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
        self.lag = CLOSE_LAG
        # minutes close SPILL_MINUTES at a time, and are spilled at once: a close's own work (every
        # dimension and cursor visited, one drain, Ctrl-C held back) is paid once for them all,
        # and the memory bound is the same (open minutes then, instead of closed ones kept)
        self.batch = SPILL_MINUTES
        self.closed_minute = -1  # minutes up to this one are closed
        self.close_at = self._next_close()  # a record starting this late closes minutes (``Cursor.move``)
        self.late = 0  # records that reopened a closed minute (merged when read: ``Dim.records``)
        self.spool: Spool | None = None  # created at the first spill (short runs never have one)
        self.finished = True  # nothing open (``finish``)
        self.peak_resident = 0  # the most segments and closed minutes held at once (``resident``)
        # latencies the cursors handed over, (dimension, segment, values) in the order they came,
        # recorded into the segments' histograms together (``drain``)
        self.pending: list[tuple[Dim, int, LogHistogram, array[float]]] = []
        self.pending_n = 0  # values in ``pending`` (drained at ``PENDING``)

    def dim(self, kind: str, name: str) -> Dim:
        d = self.dims.get((kind, name))
        if d is None:
            d = self.dims[(kind, name)] = Dim(kind, name, self.warmup, self.step, self)
        return d

    @property
    def services(self) -> dict[str, Stats]:
        """Whole-run statistics per service (closes what is open: read it after the run)."""
        return {n: d.stats() for (k, n), d in self.dims.items() if k == "service"}

    @property
    def target_groups(self) -> dict[str, Stats]:
        return {n: d.stats() for (k, n), d in self.dims.items() if k == "target_group"}

    # -- closing minutes ---------------------------------------------------------------------
    def _next_close(self) -> float:
        """When the next ``batch`` minutes can close (``lag`` after the last of them ends)."""
        if self.step < 60:  # the finer series is computed from whole minutes, at the end
            return math.inf
        return (self.closed_minute + 1 + self.batch) * 60.0 + self.lag

    def advance(self, t: float) -> None:
        """A record started at ``t``: close the minutes that ended ``lag`` before it."""
        upto = int((t - self.lag) // 60.0) - 1
        if upto > self.closed_minute:
            self._close(upto)
        self.close_at = self._next_close()

    def _close(self, upto: int) -> None:
        """Close minutes ``closed_minute + 1 .. upto`` (``batch`` or more: ``advance`` comes only
        then) and spill them at once."""
        with _whole():
            self.peak_resident = max(self.peak_resident, self.resident())
            self._leave(upto)
            if self.spool is None:
                self.spool = Spool()
            for d in self.dims.values():
                d.close(upto)
                d.spill(self.spool)
            self.closed_minute = upto

    def _leave(self, upto: int) -> None:
        """Every cursor in minute ``upto`` or earlier leaves, and what they held is recorded at
        once (``drain``), before the dimensions close those minutes one by one."""
        for d in self.dims.values():
            d.leave(upto)
        self.drain()

    def drain(self) -> None:
        """Record the latencies the cursors handed over into their segments' histograms: one
        pass of numpy calls for all of them (``record_chunks``: bit for bit what recording them
        chunk by chunk, in the same order, gives). A segment no cursor points at any more is
        done being written: its histogram is kept compact."""
        pending = self.pending
        if not pending:
            return
        self.pending = []
        self.pending_n = 0
        current: dict[int, set[int]] = {}
        compact = []
        for d, seg, _, _ in pending:
            segs = current.get(id(d))
            if segs is None:
                segs = current[id(d)] = {c.seg for c in d.cursors.values()}
            compact.append(seg not in segs)
        record_chunks([h for _, _, h, _ in pending], [buf for _, _, _, buf in pending], compact)

    def finish(self) -> None:
        """Close every minute still open (the end of the run; again if records came since)."""
        if not self.finished:
            self.peak_resident = max(self.peak_resident, self.resident())
            self._leave(_EVERY_MINUTE)
            for d in self.dims.values():
                d.close(_EVERY_MINUTE)
            self.finished = True

    def resident(self) -> int:
        """Segments and closed minutes held in memory now (bounded: ``CLOSE_LAG`` and
        ``SPILL_MINUTES`` worth of minutes per dimension, whatever the run's length)."""
        return sum(d.resident() for d in self.dims.values()) + sum(
            len(c.minutes) for c in self.cold_starts.values())

    def buffered(self) -> int:
        """Latencies waiting in buffers (bounded: at most ``FLUSH`` per cursor, and ``PENDING`` handed over)."""
        return self.pending_n + sum(len(c.buf) for d in self.dims.values() for c in d.cursors.values())

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
        self.finished = False

    def rule_time(self, key: str) -> BufferedHistogram:
        """The latency (Lattice's RequestTime) of the requests a rule matched after the warm-up."""
        h = self.rule_times.get(key)
        if h is None:
            h = self.rule_times[key] = BufferedHistogram()
        return h

    def unforwarded(self, key: str, t: float) -> None:
        """A rule (or default action) matched a request at ``t`` and forwarded it to no target group
        (a fixed response, or every weight 0): counted after the warm-up."""
        if t >= self.warmup:
            self.rule_unforwarded[key] += 1

    def forwarded(self, key: str, tg: str, n: int) -> None:
        """``n`` requests that rule ``key`` forwarded to ``tg`` after the warm-up (the engine counts
        them on the rule's legs and hands them over here: ``Simulation.settle``)."""
        d = self.rules.get(key)
        if d is None:
            d = self.rules[key] = {}
        d[tg] = d.get(tg, 0) + n

    @property
    def rule_hits(self) -> dict[str, int]:
        """Requests each rule matched after the warm-up."""
        keys = set(self.rules) | set(self.rule_unforwarded)
        return {k: sum(self.rules.get(k, {}).values()) + self.rule_unforwarded.get(k, 0) for k in sorted(keys)}

    # -- output -------------------------------------------------------------------------------
    def series_rows(self) -> list[tuple[float, str, str, str, float]]:
        """Per bucket of ``step`` seconds, all AZs: (bucket start s, dimension kind, name, metric,
        value) for ``TotalRequestCount``, ``HTTPCode_5XX_Count`` and ``RequestTime_p50/p90/p99``;
        empty when the step is a minute (the per-minute rows say it all). At most ``MAX_BUCKETS``
        buckets per dimension: a finer step than a minute is chosen for runs of up to half an hour."""
        if self.step >= 60:
            return []
        self.finish()
        return [row for _, d in sorted(self.dims.items()) for row in d.series]

    def metric_rows(self, end: float | None = None) -> MetricRows:
        """Long format: (minute start s, dimension kind, name, AZ, metric name, value), sorted,
        read from the closed minutes on demand (``MetricRows``). ``end``: the simulated time the
        run reached; the minute it cuts is that much long."""
        self.finish()
        return MetricRows([d for _, d in sorted(self.dims.items())], end)


Row = tuple[float, str, str, str, str, float]


class MetricRows(Sequence[Row]):
    """The per-minute rows of a run, generated from its closed minutes each time they are read
    (a dimension at a time: the spool is read block by block), so that a long run's rows never
    need to be in memory at once. A sequence: iterate it (the usual use), compare it with ``==``,
    ``len`` it; indexing walks the rows. Pickled, it becomes a plain list."""

    def __init__(self, dims: list[Dim], end: float | None) -> None:
        self.dims = dims
        self.end = end
        self._len: int | None = None

    def __iter__(self) -> Iterator[Row]:
        for d in self.dims:
            yield from self.rows_of(d)

    def of(self, kind: str, name: str) -> Iterator[Row]:
        """The rows of one dimension (what the per-minute SLO windows read)."""
        for d in self.dims:
            if d.kind == kind and d.name == name:
                yield from self.rows_of(d)

    def rows_of(self, d: Dim) -> Iterator[Row]:
        kind, name, end = d.kind, d.name, self.end
        closed = d.records()
        for az in sorted(d.azs):
            for m, rows, _h, _p, _c in closed:
                row = rows.get(az)
                if row is None:
                    continue
                t = m * 60.0
                for i, metric in enumerate(COUNTERS):
                    if i == TIME_SUM:
                        continue
                    yield (t, kind, name, az, metric, row[i])
                if row[TOTAL]:
                    yield (t, kind, name, az, "RequestTime", round(1000.0 * row[TIME_SUM] / row[TOTAL], 3))
                # average in flight over the minute (Little's law: time in flight / the minute's
                # simulated length, which is under 60 s for the last minute of a run that ends or
                # is interrupted mid-minute); one connection per request, as latsim does not
                # model connection reuse
                active = round(row[TIME_SUM] / minute_length(m, end), 6)
                yield (t, kind, name, az, "ActiveRequestCount", active)
                yield (t, kind, name, az, "ActiveConnectionCount", active)
        for m, _rows, _h, pcts, _c in closed:
            if pcts is not None:
                for q, v in zip((50, 90, 99), pcts, strict=True):
                    yield (m * 60.0, kind, name, "all", f"RequestTime_p{q}", v)
        for m, _rows, _h, _p, cold in closed:
            if cold is not None:  # not a CloudWatch metric of Lattice: Lambda reports it as Init Duration
                yield (m * 60.0, kind, name, "all", "ColdStartCount", cold[0])
                yield (m * 60.0, kind, name, "all", "ColdStartTimeMs", round(1000.0 * cold[1], 3))

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len

    def __bool__(self) -> bool:
        return any(d.kept or d.spilled for d in self.dims)

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...

    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += len(self)
        if i >= 0:
            for j, row in enumerate(self):
                if j == i:
                    return row
        raise IndexError("metric row index out of range")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        sentinel = object()
        return all(a == b for a, b in zip_longest(self, other, fillvalue=sentinel))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def __repr__(self) -> str:
        return f"MetricRows({len(self.dims)} dimensions, end={self.end})"
