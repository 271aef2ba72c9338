"""LogHistogram: a mergeable, fixed-layout log-bucket histogram of non-negative values (seconds).

The layout (DDSketch-style) is shared by every instance, so histograms of different runs,
processes or minutes merge by adding counts. Bucket i holds [γ^i, γ^(i+1)) with
γ = (1 + α)/(1 − α), α = 0.005, and is represented by 2γ^(i+1)/(γ + 1), which is within α
(relative) of every value in the bucket. Regular buckets cover 1 µs … 1e5 s (~2,540 of them);
smaller positive values go to an underflow bucket (represented by the smallest of them, kept
exactly), larger ones to an overflow bucket (represented by the exact max), and exact zeros are
counted apart.

Accuracy law: for any q, with r = q/100·(n − 1) (numpy's default "linear" percentile), the
estimate is interpolated between the representatives of the order statistics x_(⌊r⌋) and
x_(⌈r⌉) exactly as numpy interpolates between the values, so whenever those values lie in
[1 µs, 1e5 s] or are zero,

    |percentile(q) − numpy.percentile(values, q)| ≤ α · numpy.percentile(values, q)

(up to floating-point rounding at bucket edges). The smallest and largest order statistics are
exact (min and max are kept), and estimates are clamped to [min, max].

``count``, ``min`` and ``max`` are exact; ``sum`` (hence ``mean``) is a float sum of the recorded
values, exact up to floating-point rounding (so a merged histogram's sum may differ from the
directly recorded one in the last bits; ``==`` compares it with a 1e-9 relative tolerance).

``record(x)`` is the hot path: pure Python math into a dict of pending counts, folded into the
numpy int64 count array when the histogram is read, merged or serialised. Memory is bounded by
the layout (≤ ~40 KB), independent of how many values were recorded.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np

__all__ = ["ALPHA", "LogHistogram", "MAX_VALUE", "MIN_VALUE", "percentiles_many", "record_chunks"]

ALPHA = 0.005
MIN_VALUE = 1e-6
MAX_VALUE = 1e5
GAMMA = (1.0 + ALPHA) / (1.0 - ALPHA)
_INV_LOG_GAMMA = 1.0 / math.log(GAMMA)
_I_MIN = math.floor(math.log(MIN_VALUE) * _INV_LOG_GAMMA)  # exponent of the first regular bucket
_I_MAX = math.floor(math.log(MAX_VALUE) * _INV_LOG_GAMMA)  # exponent of the last regular bucket
# Slot layout: 0 = underflow, 1..TOP = regular buckets γ^(I_MIN+slot-1), TOP+1 = overflow.
_TOP = _I_MAX - _I_MIN + 1
N_SLOTS = _TOP + 2
# slot = int(log(x)/log γ + _OFFSET): the argument is positive for regular values, so int() floors.
_OFFSET = float(1 - _I_MIN)
_INF = math.inf
_LAYOUT = {"alpha": ALPHA, "min": MIN_VALUE, "max": MAX_VALUE}

# LogHistogram.state(): (first occupied slot, their counts' bytes, count, zeros, sum, min, max,
# smallest underflow value, the counts' numpy type)
State = tuple[int, bytes, int, int, float, float, float, float, str]

_exponents = np.arange(_I_MIN, _I_MAX + 1, dtype=float)
# Representative and upper edge of each slot (underflow/overflow are replaced by min/max).
_REPRESENTATIVE = np.concatenate(([MIN_VALUE], 2.0 * GAMMA ** (_exponents + 1) / (GAMMA + 1.0), [MAX_VALUE]))
_REPRESENTATIVES = _REPRESENTATIVE.tolist()  # the same doubles, for scalar lookups
_UPPER_EDGE = np.concatenate(([GAMMA**_I_MIN], GAMMA ** (_exponents + 1), [_INF]))


class LogHistogram:
    """A streaming histogram of non-negative values; see the module docstring for the law."""

    __slots__ = ("_counts", "_packed", "_pending", "_n", "_zero", "_sum", "_min", "_max", "_tiny", "_keep")

    def __init__(self) -> None:
        self._counts: np.ndarray | None = None  # allocated on first fold (saves memory when empty)
        self._packed: tuple[int, np.ndarray] | None = None  # (first slot, counts) while compacted
        self._pending: defaultdict[int, int] = defaultdict(int)  # slot -> count, not yet folded
        self._n = 0  # values folded into _counts or _zero (excluding pending)
        self._zero = 0
        self._sum = 0.0
        self._min = _INF
        self._max = -_INF
        self._tiny = _INF  # smallest positive value below the regular buckets (represents underflow)
        self._keep = False  # compact again after each ``record_many`` (``keep_compact``)

    # -- recording ---------------------------------------------------------------------------

    def record(self, x: float, _log: Any = math.log) -> None:
        """Add one value (seconds); a negative, NaN or infinite value raises ``ValueError``."""
        if 0.0 < x < _INF:
            i = int(_log(x) * _INV_LOG_GAMMA + _OFFSET)
            if i < 1:
                i = 0
                if x < self._tiny:
                    self._tiny = x
            elif i > _TOP:
                i = _TOP + 1
            self._pending[i] += 1
        elif x == 0.0:
            self._zero += 1
            self._n += 1
        else:
            raise ValueError(f"a histogram records finite non-negative values, got {x!r}")
        self._sum += x
        if x < self._min:
            self._min = x
        if x > self._max:
            self._max = x

    def record_many(self, values: Iterable[float] | np.ndarray) -> None:
        """Add many values at once (vectorised)."""
        arr = np.asarray(values, dtype=float).ravel()
        if arr.size == 0:
            return
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("a histogram records finite non-negative values")
        counts = self._fold()
        pos = arr[arr > 0]
        zeros = arr.size - pos.size
        if pos.size:
            slots = np.log(pos) * _INV_LOG_GAMMA + _OFFSET
            np.clip(slots, 0.0, float(_TOP + 1), out=slots)
            under = pos[slots < 1.0]
            if under.size:
                self._tiny = min(self._tiny, float(under.min()))
            counts += np.bincount(slots.astype(np.int64), minlength=N_SLOTS)
        self._zero += zeros
        self._n += int(arr.size)
        self._sum += float(arr.sum())
        self._min = min(self._min, float(arr.min()))
        self._max = max(self._max, float(arr.max()))
        if self._keep:
            self.compact()

    def _fold(self) -> np.ndarray:
        """Move pending scalar records into the numpy counts; return the counts (to write to)."""
        counts = self._counts
        if counts is None:
            counts = self._counts = np.zeros(N_SLOTS, dtype=np.int64)
            if self._packed is not None:
                lo, part = self._packed
                counts[lo:lo + part.size] = part
                self._packed = None
        pending = self._pending
        if pending:
            idx = np.fromiter(pending.keys(), dtype=np.int64, count=len(pending))
            add = np.fromiter(pending.values(), dtype=np.int64, count=len(pending))
            counts[idx] += add
            self._n += int(add.sum())
            pending.clear()
        return counts

    def _read(self) -> np.ndarray:
        """The counts, to read: a compacted histogram stays compact (a temporary full array)."""
        if self._counts is not None or self._pending:
            return self._fold()
        counts = np.zeros(N_SLOTS, dtype=np.int64)
        if self._packed is not None:
            lo, part = self._packed
            counts[lo:lo + part.size] = part
        return counts

    def compact(self) -> None:
        """Keep only the occupied range of the buckets (a histogram that is done being written:
        a minute of a long run). Writing to it again expands it; reading does not."""
        if self._counts is None and not self._pending:
            return  # compact already (or empty)
        counts = self._fold()
        nz = np.flatnonzero(counts)
        self._packed = (int(nz[0]), counts[nz[0]:nz[-1] + 1].copy()) if nz.size else None
        self._counts = None

    def keep_compact(self) -> LogHistogram:
        """Stay compact between batches of ``record_many`` (a whole-run histogram fed a few
        thousand values at a time: the occupied buckets, a few KB, instead of the whole layout's
        20 KB; a run holds one per target, rule and client). Returns ``self``."""
        self._keep = True
        return self

    def state(self) -> State:
        """The exact state in plain values (compacts first): (first occupied slot, the occupied
        counts as bytes, count, zeros, sum, min, max, smallest underflow value, the counts'
        numpy type). The counts take the narrowest unsigned type that holds the largest (a closed
        minute's, a byte each: the spool marshals and compresses an eighth of the int64 bytes)."""
        self.compact()
        lo, part = self._packed if self._packed is not None else (0, np.zeros(0, dtype=np.int64))
        # no bucket holds more than the values counted: a closed minute's few hundred need no max
        top = self._n if self._n < 1 << 8 else int(part.max()) if part.size else 0
        kind = "<u1" if top < 1 << 8 else "<u2" if top < 1 << 16 else "<u4" if top < 1 << 32 else "<i8"
        data = part.astype(kind).tobytes() if kind != "<i8" else part.tobytes()
        return (lo, data, self._n, self._zero, self._sum, self._min, self._max, self._tiny, kind)

    @classmethod
    def from_state(cls, state: State) -> LogHistogram:
        """Inverse of ``state``: the same histogram to the last bit (compact)."""
        lo, data, n, zero, total, lowest, highest, tiny, kind = state
        h = cls()
        if data:
            h._packed = (lo, np.frombuffer(data, dtype=kind).astype(np.int64))
        h._n, h._zero, h._sum, h._min, h._max, h._tiny = n, zero, total, lowest, highest, tiny
        return h

    # -- exact statistics --------------------------------------------------------------------

    @property
    def count(self) -> int:
        pending = self._pending
        return self._n + sum(pending.values()) if pending else self._n

    @property
    def sum(self) -> float:
        return self._sum

    @property
    def mean(self) -> float:
        n = self.count
        return self._sum / n if n else math.nan

    @property
    def min(self) -> float:
        return self._min if self.count else math.nan

    @property
    def max(self) -> float:
        return self._max if self.count else math.nan

    @property
    def zero_count(self) -> int:
        return self._zero

    # -- estimates ---------------------------------------------------------------------------

    def _cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """(cumulative counts, representative value) over [zero, slot 0 .. slot TOP+1]."""
        counts = self._read()
        cum = np.cumsum(np.concatenate(([self._zero], counts)))
        rep = np.concatenate(([0.0], _REPRESENTATIVE))
        rep[1] = self._tiny  # underflow values are best represented by their exact minimum
        rep[-1] = self._max  # overflow likewise by the maximum
        return cum, rep

    def _packed_reps(self, ranks: list[int]) -> list[float]:
        """``rep[searchsorted(cum, ranks, "right")]`` of ``_cumulative`` for a compact histogram,
        from the cumulative counts of its occupied buckets alone (a closed minute's few dozen, not
        the layout's 2 500): the buckets before them are empty, so past the zeros the first
        cumulative count above a rank is the packed one's, shifted by the zeros."""
        zero = self._zero
        if self._packed is None:  # zeros only
            return [0.0] * len(ranks)
        lo, part = self._packed
        ks = np.searchsorted(np.cumsum(part), [r - zero for r in ranks], side="right").tolist()
        out = []
        for r, k in zip(ranks, ks, strict=True):
            slot = lo + k
            out.append(0.0 if r < zero else self._tiny if slot == 0 else self._max if slot == _TOP + 1
                       else _REPRESENTATIVES[slot])
        return out

    def percentiles(self, qs: Sequence[float]) -> list[float]:
        """Estimates of several percentiles (q in [0, 100]); NaN when empty.

        Scalar arithmetic on Python floats (the same IEEE operations numpy would do element-wise)
        around one ``cumsum`` and one ``searchsorted``: a per-minute percentile costs a few
        numpy calls, not twenty."""
        q = _checked(qs)
        n = self.count
        if n == 0:
            return [math.nan] * len(q)
        ranks, bounds = _ranks(q, n)
        if self._counts is None and not self._pending:  # compact: its occupied buckets only
            reps = self._packed_reps(bounds)
        else:
            cum, rep = self._cumulative()
            reps = rep[np.searchsorted(cum, bounds, side="right")].tolist()
        return self._interpolate(ranks, bounds, reps)

    def _interpolate(self, ranks: list[float], bounds: list[int], reps: list[float]) -> list[float]:
        """The estimates from the ranks, their order statistics (``bounds``: floor, ceil of each)
        and those statistics' representatives (``reps``)."""
        lo_v, hi_v, last = self._min, self._max, self.count - 1
        out = []
        for k, r in enumerate(ranks):
            b_lo, b_hi = bounds[2 * k], bounds[2 * k + 1]
            # the extreme order statistics are exact (the last wins when there is one value)
            v_lo = hi_v if b_lo == last else lo_v if b_lo == 0 else min(max(reps[2 * k], lo_v), hi_v)
            v_hi = hi_v if b_hi == last else lo_v if b_hi == 0 else min(max(reps[2 * k + 1], lo_v), hi_v)
            est = v_lo + (r - b_lo) * (v_hi - v_lo)
            out.append(min(max(est, lo_v), hi_v))
        return out

    def percentile(self, q: float) -> float:
        """Estimate of the q-th percentile (q in [0, 100]), within α of numpy's; NaN when empty."""
        return self.percentiles([q])[0]

    def cdf(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, fractions) for plotting: the fraction of values ≤ each non-empty bucket's top.

        Bucket tops are clamped to the max; a leading point (min, 0) anchors the curve.
        """
        n = self.count
        if n == 0:
            return np.empty(0), np.empty(0)
        counts = self._read()
        slot_counts = np.concatenate(([self._zero], counts))
        tops = np.concatenate(([0.0], _UPPER_EDGE))
        nz = np.flatnonzero(slot_counts)
        values = np.minimum(tops[nz], self._max)
        fractions = np.cumsum(slot_counts)[nz] / n
        return np.concatenate(([self._min], values)), np.concatenate(([0.0], fractions))

    # -- merging -----------------------------------------------------------------------------

    def merge(self, other: LogHistogram) -> LogHistogram:
        """Add ``other``'s values into this histogram (in place); returns ``self``."""
        if not isinstance(other, LogHistogram):
            raise TypeError(f"cannot merge {type(other).__name__} into a LogHistogram")
        if other.count == 0:
            return self
        counts = self._fold()
        if other._counts is None and not other._pending:  # compact: add its occupied buckets only
            if other._packed is not None:
                lo, part = other._packed
                counts[lo:lo + part.size] += part
        else:
            counts += other._read()
        self._n += other._n
        self._zero += other._zero
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        self._tiny = min(self._tiny, other._tiny)
        return self

    def __iadd__(self, other: object) -> LogHistogram:
        if not isinstance(other, LogHistogram):
            return NotImplemented
        return self.merge(other)

    def __add__(self, other: object) -> LogHistogram:
        if not isinstance(other, LogHistogram):
            return NotImplemented
        return self.copy().merge(other)

    def __radd__(self, other: object) -> LogHistogram:
        if other == 0:  # so that sum(histograms) works
            return self.copy()
        return NotImplemented

    def copy(self) -> LogHistogram:
        """An independent copy."""
        return LogHistogram().merge(self)

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A compact, deterministic, JSON-serialisable sparse form."""
        counts = self._read()
        nz = np.flatnonzero(counts)
        return {
            "layout": dict(_LAYOUT),
            "count": self.count,
            "sum": self._sum,
            "min": self._min if self.count else None,
            "max": self._max if self.count else None,
            "zero": self._zero,
            "underflow_min": self._tiny if self._tiny < _INF else None,
            "slots": nz.tolist(),
            "counts": counts[nz].tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogHistogram:
        """Inverse of ``to_dict``; refuses a different bucket layout."""
        if data.get("layout") != _LAYOUT:
            raise ValueError(f"histogram layout {data.get('layout')} differs from {_LAYOUT}")
        h = cls()
        counts = h._fold()
        slots = np.asarray(data["slots"], dtype=np.int64)
        values = np.asarray(data["counts"], dtype=np.int64)
        if slots.size != values.size or np.any(slots < 0) or np.any(slots >= N_SLOTS) or np.any(values < 0):
            raise ValueError("malformed histogram slots/counts")
        np.add.at(counts, slots, values)
        h._zero = int(data["zero"])
        h._n = int(values.sum()) + h._zero
        if h._n != int(data["count"]):
            raise ValueError("histogram count does not match its buckets")
        h._sum = float(data["sum"])
        if h._n:
            h._min = float(data["min"])
            h._max = float(data["max"])
        if data.get("underflow_min") is not None:
            h._tiny = float(data["underflow_min"])
        return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogHistogram):
            return NotImplemented
        if self.count != other.count:
            return False
        if self.count == 0:
            return True
        return (self._zero == other._zero and self._min == other._min and self._max == other._max
                and self._tiny == other._tiny
                and math.isclose(self._sum, other._sum, rel_tol=1e-9, abs_tol=1e-12)
                and bool(np.array_equal(self._read(), other._read())))

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        if not self.count:
            return "LogHistogram(count=0)"
        p50, p99 = self.percentiles([50, 99])
        return (f"LogHistogram(count={self.count}, mean={self.mean:.6g}, p50={p50:.6g}, p99={p99:.6g}, "
                f"max={self._max:.6g})")


def _checked(qs: Sequence[float]) -> list[float]:
    q = [float(x) for x in qs]
    if not all(0.0 <= x <= 100.0 for x in q):  # NaN fails the comparison too
        raise ValueError("percentiles must be in [0, 100]")
    return q


def _ranks(q: list[float], n: int) -> tuple[list[float], list[int]]:
    """numpy's linear ranks of percentiles ``q`` among ``n`` values, and the order statistics
    around each (floor, ceil)."""
    ranks = [x / 100.0 * (n - 1) for x in q]
    bounds: list[int] = []
    for r in ranks:
        bounds.append(math.floor(r))
        bounds.append(math.ceil(r))
    return ranks, bounds


def percentiles_many(hists: Sequence[LogHistogram], qs: Sequence[float]) -> list[list[float]]:
    """``[h.percentiles(qs) for h in hists]``, the histograms compacted first, in one pass of numpy
    calls for all of them (a dimension's closed minutes, as the recorder reads them: ``percentiles``
    costs a few numpy calls and some scalar arithmetic per histogram, whatever its size).

    The same values bit for bit: the occupied buckets of every histogram laid end to end make
    one non-decreasing cumulative count; histogram j's own cumulative counts are that array's
    stretch ``base_j + cumsum(part_j)``, and a rank x of j (0 <= x < its count) finds in the
    whole array exactly the bucket it finds in its own stretch: every count before the stretch
    is <= base_j, every one after it > base_j + x. The ranks, clamps and interpolations are the
    IEEE operations of ``percentiles``, element-wise (``tests/test_histogram.py``)."""
    q = _checked(qs)
    out: list[list[float]] = [[math.nan] * len(q) for _ in hists]
    if not q:
        return out
    js: list[int] = []
    parts: list[np.ndarray] = []
    los: list[int] = []
    sizes: list[int] = []
    for j, h in enumerate(hists):
        h.compact()
        if h._n == 0:
            continue
        js.append(j)
        packed = h._packed
        if packed is None:  # zeros only
            los.append(0)
            sizes.append(0)
        else:
            los.append(packed[0])
            sizes.append(packed[1].size)
            parts.append(packed[1])
    if not js:
        return out
    m = len(js)
    sel = [hists[j] for j in js]
    n = np.array([h._n for h in sel], dtype=np.int64)
    zero = np.array([h._zero for h in sel], dtype=np.int64)
    lo_v = np.array([h._min for h in sel])
    hi_v = np.array([h._max for h in sel])
    tiny = np.array([h._tiny for h in sel])
    # ranks and their order statistics, one row per histogram (as _ranks)
    ranks = np.asarray(q)[None, :] / 100.0 * (n - 1).astype(float)[:, None]
    b_lo = np.floor(ranks)
    b_hi = np.ceil(ranks)
    bounds = np.stack((b_lo, b_hi), axis=2).reshape(m, -1).astype(np.int64)  # floor, ceil of each rank
    size = np.asarray(sizes, dtype=np.int64)
    start = np.cumsum(size) - size  # where each histogram's buckets begin in the laid-out array
    counted = n - zero
    base = np.cumsum(counted) - counted  # the counts before them
    if parts:
        cum = np.cumsum(np.concatenate(parts)) if len(parts) > 1 else np.cumsum(parts[0])
        found = np.searchsorted(cum, bounds + (base - zero)[:, None], side="right")
    else:
        found = np.zeros_like(bounds)
    slot = found - start[:, None] + np.asarray(los, dtype=np.int64)[:, None]
    # as _packed_reps: zeros, the underflow's minimum, the overflow's maximum, a bucket's representative
    reps = np.where(bounds < zero[:, None], 0.0,
                    np.where(slot == 0, tiny[:, None],
                             np.where(slot == _TOP + 1, hi_v[:, None],
                                      _REPRESENTATIVE[np.clip(slot, 0, _TOP + 1)])))
    reps[size == 0] = 0.0  # zeros only
    # as _interpolate: the extreme order statistics exact, the others clamped to [min, max]
    last = (n - 1)[:, None]
    lo_c, hi_c = lo_v[:, None], hi_v[:, None]
    v = np.where(bounds == last, hi_c, np.where(bounds == 0, lo_c, np.minimum(np.maximum(reps, lo_c), hi_c)))
    v_lo, v_hi = v[:, 0::2], v[:, 1::2]
    est = v_lo + (ranks - b_lo) * (v_hi - v_lo)
    est = np.minimum(np.maximum(est, lo_c), hi_c)
    for j, row in zip(js, est.tolist(), strict=True):
        out[j] = row
    return out


def record_chunks(hists: Sequence[LogHistogram], chunks: Sequence[Sequence[float]],
                  compact: Sequence[bool] | None = None) -> None:
    """``hists[k].record_many(chunks[k])`` for every k in order, in one pass of numpy calls over
    all the values, leaving every histogram in exactly the state those calls would (a histogram
    may appear several times: its chunks are recorded in their order). ``compact[k]``: compact
    ``hists[k]`` afterwards (a representation only; the state is the same).

    Why: the recorder's cursors hand over a few dozen latencies each per simulated minute (a
    slow workload: 200 clients at 0.5 req/s); ``record_many`` costs ~15 numpy calls whatever the
    chunk's size, so recording chunk by chunk cost more than the requests did. Bit for bit:
    counts, min, max and the underflow minimum are order-free; the float ``sum`` adds each chunk's
    own sum (``np.add.reduce`` of the chunk, numpy's pairwise order, on a contiguous slice of the
    same values) in the same order as ``record_many`` does (``tests/test_histogram.py``)."""
    keep = [(h, c, compact[k] if compact is not None else False) for k, (h, c) in enumerate(zip(hists, chunks, strict=True))]
    lens = [len(c) for _, c, _ in keep]
    total = sum(lens)
    doubles = [c for _, c, _ in keep if isinstance(c, array) and c.typecode == "d"]
    if doubles and len(doubles) == len(keep):  # the recorder's buffers: copied end to end, read in place
        joined = array("d")
        for buf in doubles:
            joined.extend(buf)
        vals = np.frombuffer(joined, dtype=float)
    else:
        vals = np.fromiter(chain.from_iterable(c for _, c, _ in keep), dtype=float, count=total)
    if not ((vals > 0.0).all() and (vals < _INF).all()):
        # a zero (or a value record_many refuses: it raises): chunk by chunk, as record_many does
        for h, c, squeeze in keep:
            h.record_many(c)
            if squeeze:
                h.compact()
        return
    # the distinct histograms, in order of first appearance, and each chunk's owner among them
    index: dict[int, int] = {}
    owners: list[LogHistogram] = []
    wants: list[bool] = []
    owner: list[int] = []
    cuts: list[int] = []
    at = 0
    for (h, _, squeeze), n in zip(keep, lens, strict=True):
        j = index.get(id(h))
        if j is None:
            j = index[id(h)] = len(owners)
            owners.append(h)
            wants.append(squeeze or h._keep)
        elif squeeze:
            wants[j] = True
        if n:
            owner.append(j)
            cuts.append(at)
            at += n
    if not cuts:
        for j, h in enumerate(owners):
            if wants[j]:
                h.compact()
        return
    lens = [n for n in lens if n]
    add = np.add.reduce
    sums = [float(add(vals[a:a + n])) for a, n in zip(cuts, lens, strict=True)]
    lows = np.minimum.reduceat(vals, cuts).tolist()
    highs = np.maximum.reduceat(vals, cuts).tolist()
    slots = np.log(vals) * _INV_LOG_GAMMA + _OFFSET  # as record_many, value by value
    np.clip(slots, 0.0, float(_TOP + 1), out=slots)
    tiny: dict[int, float] = {}
    under = slots < 1.0
    if under.any():  # below the regular buckets: the smallest such value represents them
        who = np.repeat(np.asarray(owner, dtype=np.int64), lens)
        for j, x in zip(who[under].tolist(), vals[under].tolist(), strict=True):
            if x < tiny.get(j, _INF):
                tiny[j] = x
    islots = slots.astype(np.int64)
    # each histogram's occupied range [lo, hi] of slots, laid end to end in one flat array of
    # counts filled by one bincount; a histogram then takes its stretch (a view) or adds it
    lo = [_TOP + 2] * len(owners)
    hi = [-1] * len(owners)
    for j, a, b in zip(owner, np.minimum.reduceat(islots, cuts).tolist(), np.maximum.reduceat(islots, cuts).tolist(),
                       strict=True):
        if a < lo[j]:
            lo[j] = a
        if b > hi[j]:
            hi[j] = b
    start = [0] * len(owners)
    size = 0
    for j in range(len(owners)):
        if hi[j] >= 0:
            start[j] = size
            size += hi[j] - lo[j] + 1
    shift = np.asarray([start[j] - lo[j] for j in owner], dtype=np.int64)
    flat = np.bincount(islots + np.repeat(shift, lens), minlength=size)
    for j, h in enumerate(owners):
        if hi[j] < 0:
            if wants[j]:
                h.compact()
            continue
        part = flat[start[j]:start[j] + hi[j] - lo[j] + 1]
        if wants[j] and h._counts is None and h._packed is None and not h._pending:
            h._packed = (lo[j], part)  # empty before: exactly what compact() would keep
        else:
            h._fold()[lo[j]:hi[j] + 1] += part
            if wants[j]:
                h.compact()
        t = tiny.get(j)
        if t is not None and t < h._tiny:
            h._tiny = t
    for j, n, total_k, low, high in zip(owner, lens, sums, lows, highs, strict=True):
        h = owners[j]
        h._n += n
        h._sum += total_k
        if low < h._min:
            h._min = low
        if high > h._max:
            h._max = high
