"""Specification of LogHistogram: accuracy, merging, serialisation, the percentile law."""

from __future__ import annotations

import json
import math
from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.metrics import LogHistogram
from latsim.metrics.histogram import _REPRESENTATIVE as _SLOT_REPS
from latsim.metrics.histogram import ALPHA, MAX_VALUE, MIN_VALUE

QS = [50, 90, 99, 99.9]


def lognormal_values() -> np.ndarray:
    return np.random.default_rng(42).lognormal(math.log(0.018), 0.5, 200_000)


def bimodal_values() -> np.ndarray:
    rng = np.random.default_rng(43)
    fast = rng.lognormal(math.log(0.005), 0.3, 150_000)
    slow = rng.lognormal(math.log(0.400), 0.4, 50_000)
    return rng.permutation(np.concatenate([fast, slow]))


def from_values(values: np.ndarray, *, scalar: bool = False) -> LogHistogram:
    h = LogHistogram()
    if scalar:
        for v in values.tolist():
            h.record(v)
    else:
        h.record_many(values)
    return h


@pytest.mark.parametrize("values", [lognormal_values(), bimodal_values()], ids=["lognormal", "bimodal"])
@pytest.mark.parametrize("scalar", [False, True], ids=["record_many", "record"])
def test_percentiles_are_within_one_percent_of_numpy(values: np.ndarray, scalar: bool) -> None:
    h = from_values(values, scalar=scalar)
    exact = np.percentile(values, QS)
    estimate = np.array(h.percentiles(QS))
    assert np.all(np.abs(estimate / exact - 1) <= 0.01)


def test_count_sum_min_max_are_exact() -> None:
    values = lognormal_values()
    h = from_values(values)
    assert h.count == values.size
    assert h.sum == pytest.approx(values.sum(), rel=1e-12)
    assert h.mean == pytest.approx(values.mean(), rel=1e-12)
    assert (h.min, h.max) == (values.min(), values.max())
    assert (h.percentile(0), h.percentile(100)) == (values.min(), values.max())


def test_scalar_and_vector_recording_agree() -> None:
    values = bimodal_values()[:20_000]
    assert from_values(values, scalar=True) == from_values(values)


def test_merge_of_two_halves_equals_the_whole() -> None:
    values = bimodal_values()
    whole = from_values(values)
    first, second = from_values(values[:70_000]), from_values(values[70_000:], scalar=True)
    assert first + second == whole
    first += second
    assert first == whole
    assert sum([from_values(values[:1000]), from_values(values[1000:])]) == whole


def test_to_dict_round_trips_through_json() -> None:
    h = from_values(np.concatenate([bimodal_values()[:5000], [0.0, 0.0, 1e-9, 1e7]]))
    data = json.loads(json.dumps(h.to_dict()))
    assert LogHistogram.from_dict(data) == h
    assert json.dumps(h.to_dict()) == json.dumps(LogHistogram.from_dict(data).to_dict())


def test_from_dict_refuses_another_layout() -> None:
    data = LogHistogram().to_dict()
    data["layout"]["alpha"] = 0.01
    with pytest.raises(ValueError, match="layout"):
        LogHistogram.from_dict(data)


def test_zero_underflow_and_overflow_are_counted() -> None:
    h = LogHistogram()
    for v in (0.0, 0.0, 1e-9, 0.01, 1e6):
        h.record(v)
    assert h.count == 5 and h.zero_count == 2
    assert h.percentile(0) == 0.0 and h.percentile(100) == 1e6
    assert h.percentile(50) == 1e-9  # underflow is represented by the exact minimum


def test_negative_nan_and_infinite_values_are_refused() -> None:
    h = LogHistogram()
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            h.record(bad)
        with pytest.raises(ValueError):
            h.record_many([0.1, bad])
    assert h.count == 0


def test_empty_histogram_reports_nan() -> None:
    h = LogHistogram()
    assert h.count == 0 and math.isnan(h.percentile(50)) and math.isnan(h.mean)
    assert h == LogHistogram()


def test_cdf_is_monotone_and_ends_at_one() -> None:
    values, fractions = from_values(lognormal_values()).cdf()
    assert np.all(np.diff(values) >= 0) and np.all(np.diff(fractions) >= 0)
    assert fractions[-1] == 1.0
    median_index = np.searchsorted(fractions, 0.5)
    assert values[median_index] == pytest.approx(0.018, rel=0.02)


def test_memory_does_not_grow_with_the_number_of_values() -> None:
    h = from_values(lognormal_values())
    h.record_many(lognormal_values())
    assert h._fold().nbytes < 25_000 and len(h.to_dict()["slots"]) < 1000


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(MIN_VALUE, MAX_VALUE, allow_nan=False), min_size=1, max_size=200),
    q=st.floats(0.0, 100.0),
)
def test_law_every_percentile_is_within_alpha_of_numpys(values: list[float], q: float) -> None:
    # Estimates interpolate between the representatives of the neighbouring order statistics
    # exactly as numpy's linear method interpolates between the values themselves, and each
    # representative is within α of its value, so the estimate is within α of numpy's answer
    # (which lies between those order statistics). α = 0.5 % < the 1 % promised.
    h = LogHistogram()
    for v in values:
        h.record(v)
    exact = float(np.percentile(values, q))
    assert abs(h.percentile(q) - exact) <= ALPHA * exact * (1 + 1e-9)


values_st = st.lists(st.one_of(st.just(0.0), st.floats(min_value=1e-12, max_value=1e5)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(values_st, values_st, st.booleans())
def test_compact_changes_nothing_observable(first: list[float], more: list[float], scalar: bool) -> None:
    """A compacted histogram reads, merges, serialises and compares as before; writing to it
    again works as if it had never been compacted."""
    ref = from_values(np.asarray(first, dtype=float), scalar=scalar)
    h = from_values(np.asarray(first, dtype=float), scalar=scalar)
    h.compact()
    assert h == ref and h.to_dict() == ref.to_dict()
    if ref.count:
        assert h.percentiles(QS) == ref.percentiles(QS)
        assert [a.tolist() for a in h.cdf()] == [a.tolist() for a in ref.cdf()]
    assert (LogHistogram().merge(h)).to_dict() == (LogHistogram().merge(ref)).to_dict()
    assert h._counts is None  # reading did not expand it
    h.record_many(more)
    ref.record_many(more)
    assert h.to_dict() == ref.to_dict()


def test_compact_keeps_only_the_occupied_buckets() -> None:
    h = from_values(lognormal_values())
    h.compact()
    lo, part = h._packed  # type: ignore[misc]
    assert 0 < part.size < 1_000 and part[0] > 0 and part[-1] > 0  # of 2 536 slots


def _vectorised_percentiles(h: LogHistogram, qs: list[float]) -> list[float]:
    """The estimator written the array way (the implementation before the scalar one), from the
    histogram's exported counts: an independent oracle for ``percentiles``, value for value."""
    d = h.to_dict()
    n = h.count
    counts = np.zeros(len(_SLOT_REPS), dtype=np.int64)
    for slot, c in zip(d["slots"], d["counts"], strict=True):
        counts[slot] = c
    cum = np.cumsum(np.concatenate(([h.zero_count], counts)))
    rep = np.concatenate(([0.0], _SLOT_REPS))
    rep[1] = d["underflow_min"] if d["underflow_min"] is not None else math.inf
    rep[-1] = h.max
    rank = np.asarray(qs, dtype=float) / 100.0 * (n - 1)

    def value_at(r: np.ndarray) -> np.ndarray:
        out = np.clip(rep[np.searchsorted(cum, r, side="right")], h.min, h.max)
        out[r == 0] = h.min
        out[r == n - 1] = h.max
        return out
    lo, hi = np.floor(rank), np.ceil(rank)
    v_lo, v_hi = value_at(lo), value_at(hi)
    return np.clip(v_lo + (rank - lo) * (v_hi - v_lo), h.min, h.max).tolist()  # type: ignore[no-any-return]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-7, 2e5)), min_size=1, max_size=300),
       st.lists(st.floats(0, 100), min_size=1, max_size=6))
def test_percentiles_equal_the_array_definition_bit_for_bit(values: list[float], qs: list[float]) -> None:
    h = LogHistogram()
    h.record_many(values)
    assert h.percentiles([*qs, 0, 100]) == _vectorised_percentiles(h, [*qs, 0, 100])
    h.compact()  # read from the occupied buckets alone
    assert h.percentiles([*qs, 0, 100]) == _vectorised_percentiles(h, [*qs, 0, 100])
    assert h._counts is None

def test_a_histogram_kept_compact_stays_compact_and_equal() -> None:
    """``keep_compact``: batch after batch, the same state to the last bit as a plain histogram,
    and only the occupied buckets held between batches."""
    values = lognormal_values()
    kept, plain = LogHistogram().keep_compact(), LogHistogram()
    for i in range(0, len(values), 997):
        kept.record_many(values[i:i + 997])
        plain.record_many(values[i:i + 997])
        assert kept._counts is None and kept._packed is not None
        assert kept.to_dict() == plain.to_dict()
    assert kept.percentiles(QS) == plain.percentiles(QS) and kept.count == len(values)


def test_a_state_round_trip_is_exact() -> None:
    """``state``/``from_state`` (how the recorder spools a closed minute): the same histogram to
    the last bit, and one that still merges and records like the original."""
    import marshal
    values = lognormal_values()[:5000]
    h = from_values(values)
    back = LogHistogram.from_state(marshal.loads(marshal.dumps(h.state())))
    assert back.to_dict() == h.to_dict() and back.percentiles(QS) == h.percentiles(QS)
    assert back.sum == h.sum and back.min == h.min and back.max == h.max
    back.record_many(values[:10])
    h.record_many(values[:10])
    assert back.to_dict() == h.to_dict()
    assert LogHistogram.from_state(LogHistogram().state()).count == 0
    # the counts in the narrowest type that holds them, whatever their size
    for top, kind in ((255, "<u1"), (256, "<u2"), (65_536, "<u4")):
        h = from_values(np.concatenate([np.full(top, 0.5), values[:100]]))
        state = h.state()
        assert state[-1] == kind
        back = LogHistogram.from_state(marshal.loads(marshal.dumps(state)))
        assert back.to_dict() == h.to_dict() and back._packed[1].dtype == np.int64  # type: ignore[index]
    big = LogHistogram()
    big._packed = (7, np.array([1 << 40, 3], dtype=np.int64))
    big._n = (1 << 40) + 3
    assert big.state()[-1] == "<i8" and LogHistogram.from_state(big.state()).to_dict() == big.to_dict()


_chunk_value = st.one_of(st.floats(1e-4, 30.0), st.floats(1e-12, 1e-6, exclude_max=True),
                         st.floats(MAX_VALUE, 1e9), st.just(0.0))


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.integers(0, 5), st.lists(_chunk_value, max_size=150), st.booleans()),
                    min_size=1, max_size=40),
    before=st.lists(st.sampled_from(["empty", "compact", "expanded", "pending", "kept"]), min_size=6, max_size=6),
    zero_free=st.booleans(),
    doubles=st.booleans(),
)
def test_law_recording_chunks_together_is_recording_them_one_by_one(
        chunks: list[tuple[int, list[float], bool]], before: list[str], zero_free: bool, doubles: bool) -> None:
    """``record_chunks`` (the recorder's batched hand-over) leaves every histogram in exactly the
    state that ``record_many`` of each chunk, in order, leaves: counts, zeros, min, max, the
    underflow minimum and the float sum to the last bit (``state``), whatever each histogram held
    before and however they are compacted."""
    from latsim.metrics.histogram import record_chunks

    if zero_free:  # the common case (the vectorised path): no exact zero anywhere
        chunks = [(j, [v for v in vs if v > 0.0], c) for j, vs, c in chunks]

    def prepared() -> list[LogHistogram]:
        rng = np.random.default_rng(7)
        out = []
        for how in before:
            h = LogHistogram()
            if how == "kept":
                h.keep_compact()
            if how != "empty":
                h.record_many(rng.lognormal(-4, 1, 20))
            if how == "compact":
                h.compact()
            if how == "pending":
                h.record(0.25)
            out.append(h)
        return out

    one_by_one, together = prepared(), prepared()
    for j, values, squeeze in chunks:
        one_by_one[j].record_many(values)
        if squeeze:
            one_by_one[j].compact()
    # as lists of floats, or as the recorder's buffers (arrays of doubles, read in place)
    record_chunks([together[j] for j, _, _ in chunks],
                  [array("d", values) if doubles else values for _, values, _ in chunks],
                  [squeeze for _, _, squeeze in chunks])
    for a, b in zip(one_by_one, together, strict=True):
        assert a.state() == b.state()  # exact, the sum included
        assert a.count == b.count and a.percentiles(QS) == b.percentiles(QS) or a.count == 0


def test_recording_chunks_refuses_what_record_many_refuses() -> None:
    from latsim.metrics.histogram import record_chunks
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            record_chunks([LogHistogram(), LogHistogram()], [[0.1, 0.2], [0.3, bad]])


_many_value = st.one_of(st.just(0.0), st.floats(1e-12, 1e-6, exclude_max=True), st.floats(1e-6, 30.0),
                        st.floats(MAX_VALUE, 1e9))


@settings(max_examples=300, deadline=None)
@given(hists=st.lists(st.tuples(st.lists(_many_value, max_size=80), st.sampled_from(["many", "scalar", "compact"])),
                      min_size=1, max_size=8),
       qs=st.lists(st.floats(0, 100), min_size=1, max_size=5), twice=st.booleans())
def test_law_percentiles_of_many_histograms_together_are_each_ones(
        hists: list[tuple[list[float], str]], qs: list[float], twice: bool) -> None:
    """``percentiles_many`` (the recorder's closed minutes, all dimensions at once) gives every
    histogram exactly the estimates of the array definition (``_vectorised_percentiles``), and
    of its own ``percentiles``: empty ones, zeros only, underflow and overflow, pending scalar
    records, the same histogram twice."""
    from latsim.metrics.histogram import percentiles_many

    made = []
    for values, how in hists:
        h = from_values(np.asarray(values, dtype=float), scalar=how == "scalar")
        if how == "compact":
            h.compact()
        made.append(h)
    if twice:
        made.append(made[0])
    want = [_vectorised_percentiles(h, qs) if h.count else [math.nan] * len(qs) for h in made]
    own = [h.percentiles(qs) for h in made]
    got = percentiles_many(made, qs)
    assert [[repr(v) for v in row] for row in got] == [[repr(v) for v in row] for row in want]
    assert [[repr(v) for v in row] for row in got] == [[repr(v) for v in row] for row in own]
    assert all(h._counts is None and not h._pending for h in made)  # compacted
