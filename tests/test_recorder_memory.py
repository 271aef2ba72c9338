"""The recorder's memory does not grow with the run's length: minutes close ``SPILL_MINUTES`` at a
time, ``CLOSE_LAG`` after the last of them ends, their rows leave for an anonymous spool at once, and what is read back
is what a run that keeps everything in memory gives, row for row. No wall clock: the tests count
what the recorder holds (``Recorder.resident``)."""

from __future__ import annotations

import gc
import math
import os
import pickle
import struct
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import latsim.metrics.recorder as recorder
from latsim.engine.simulation import Simulation
from latsim.scenario import load_scenario
from tests.builders import build, one_service
from tests.conftest import ROOT


def constant(duration: str, rate: str = "10/s", **kw: Any) -> dict[str, Any]:
    """A deterministic constant-rate client: 5 ms answers, no hop, no overhead."""
    data = one_service(duration=duration, latency={"constant": "5ms"}, concurrency=10, **kw)
    data["clients"][0]["arrival"] = {"constant": rate}
    return data


pytestmark = pytest.mark.pure  # replaces the recorder's constants and functions


def run(data: dict[str, Any], *, lag: float | None = None, spill: int | None = None,
        monkeypatch: pytest.MonkeyPatch) -> tuple[Simulation, Any]:
    with monkeypatch.context() as m:
        if lag is not None:
            m.setattr(recorder, "CLOSE_LAG", lag)
        if spill is not None:
            m.setattr(recorder, "SPILL_MINUTES", spill)
        sim = Simulation(build(data) if isinstance(data, dict) else data, series=False)
        return sim, sim.run()


def test_what_is_held_does_not_grow_with_the_simulated_time(monkeypatch):
    """The slow workload's shape (a few requests a second for a long time): 40 and 160 simulated
    minutes hold the same segments and closed minutes at their peak, and the spool's index grows
    by one block per dimension every SPILL_MINUTES minutes only."""
    held, blocks = [], []
    for minutes in (40, 160):
        data = one_service(targets=4, duration=f"{minutes}m", rate=2.0, concurrency=4)
        sim, result = run(data, monkeypatch=monkeypatch)
        rec = sim.rec
        assert result.summary["requests"] > 100 * minutes
        # minutes close SPILL_MINUTES at a time, CLOSE_LAG after the last of them ends
        assert rec.spool is not None
        assert rec.closed_minute > minutes - (recorder.CLOSE_LAG / 60 + recorder.SPILL_MINUTES + 1)
        held.append(rec.peak_resident)
        blocks.append(max(len(d.spilled) for d in rec.dims.values()))
        # every closed minute is still there to read: a row per counter, AZ and minute
        rows = [r for r in result.metric_rows if r[4] == "TotalRequestCount" and r[1] == "target_group"]
        assert {r[0] for r in rows} == {60.0 * m for m in range(minutes)}
    assert held[1] <= held[0] * 1.1, held  # 4x the run, not 4x the memory
    per_dim = (recorder.CLOSE_LAG / 60 + recorder.SPILL_MINUTES + 2) * 2 * 2  # minutes x 2 AZs x (row, histogram)
    assert held[1] <= per_dim * 2  # two dimensions (service, target group)
    assert 1 <= blocks[0] and blocks[1] <= 160 // recorder.SPILL_MINUTES  # one per dimension and spill


def test_streamed_rows_are_the_rows_kept_in_memory_and_hand_checked(monkeypatch):
    """20 minutes of 10 requests/s answered in exactly 5 ms: spilled every minute or kept to the
    end, the same rows; and each minute holds 600 requests, RequestTime 5 ms, 0.05 in flight."""
    data = constant("20m")
    kept_sim, kept = run(data, lag=math.inf, monkeypatch=monkeypatch)
    assert kept_sim.rec.spool is None
    spilled_sim, spilled = run(data, lag=60.0, spill=1, monkeypatch=monkeypatch)
    assert spilled_sim.rec.spool is not None and spilled_sim.rec.spool.blocks >= 2 * 17
    assert list(spilled.metric_rows) == list(kept.metric_rows)
    assert spilled.to_json() == kept.to_json()
    per_minute: dict[tuple[str, str], dict[float, float]] = {}
    for t, kind, _name, az, metric, value in spilled.metric_rows:
        per_minute.setdefault((kind, metric), {})[t] = value
        if metric == "TotalRequestCount":
            assert az == "use1-az1"
    minutes = {60.0 * m for m in range(20)}
    for kind in ("service", "target_group"):
        assert per_minute[(kind, "TotalRequestCount")] == dict.fromkeys(minutes, 600.0)
        assert per_minute[(kind, "HTTPCode_2XX_Count")] == dict.fromkeys(minutes, 600.0)
        assert per_minute[(kind, "RequestTime")] == dict.fromkeys(minutes, 5.0)
        assert per_minute[(kind, "RequestTime_p99")] == dict.fromkeys(minutes, 5.0)
        assert per_minute[(kind, "ActiveRequestCount")] == dict.fromkeys(minutes, 0.05)
    assert spilled.summary["services"]["svc"]["TotalRequestCount"] == 12000


def test_a_request_recorded_after_its_minute_closed_is_merged_into_it(monkeypatch):
    """With no lag at all, retries and timeouts are recorded after their minute closed
    (``Recorder.late``): the minute is closed again and merged when read -- same rows, same summary."""
    scn = load_scenario(str(ROOT / "scenarios" / "retry-storm.yaml"))
    _, plain = run(scn, monkeypatch=monkeypatch)
    sim, eager = run(scn, lag=0.0, spill=1, monkeypatch=monkeypatch)
    assert sim.rec.late > 100 and sim.rec.spool is not None
    assert eager.to_json() == plain.to_json()
    assert list(eager.metric_rows) == list(plain.metric_rows)


def test_the_spool_leaves_nothing_behind(monkeypatch, tmp_path: Path):
    """The spool has no name in the temporary directory, and its space goes with the Result."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sim, result = run(constant("5m"), lag=60.0, spill=1, monkeypatch=monkeypatch)
    spool = sim.rec.spool
    assert spool is not None and spool.size > 0 and not spool.closed
    assert os.listdir(tmp_path) == []
    rows = len(result.metric_rows)
    assert rows == 2 * 5 * 22  # two dimensions x five minutes x (19 per AZ + 3 percentiles)
    ref = weakref.ref(spool)
    del sim, result, spool
    gc.collect()
    assert ref() is None  # the file object went with it (closed, its space freed)
    assert os.listdir(tmp_path) == []


def test_metric_rows_behave_as_a_sequence(monkeypatch):
    _, result = run(constant("3m"), lag=60.0, spill=1, monkeypatch=monkeypatch)
    rows = result.metric_rows
    as_list = list(rows)
    assert isinstance(rows, recorder.MetricRows) and bool(rows)
    assert len(rows) == len(as_list) == 2 * 3 * 22
    assert rows == as_list and rows[0] == as_list[0] and rows[-1] == as_list[-1] and rows[5:9] == as_list[5:9]
    assert rows != as_list[:-1]
    assert pickle.loads(pickle.dumps(rows)) == as_list
    assert list(result.metric_rows_of("service", "svc")) == [r for r in as_list if r[1] == "service"]
    with pytest.raises(IndexError):
        rows[len(as_list)]


def test_metrics_parquet_is_written_a_row_group_at_a_time(monkeypatch, tmp_path: Path):
    pq = pytest.importorskip("pyarrow.parquet")
    from latsim import run_dir
    _, result = run(constant("4m"), lag=60.0, spill=1, monkeypatch=monkeypatch)
    monkeypatch.setattr(run_dir, "ROW_GROUP", 50)
    path = run_dir.write_metrics(result, tmp_path)
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == math.ceil(2 * 4 * 22 / 50)
    assert f.read().to_pylist() == result.metrics()


def test_ctrl_c_while_minutes_close_waits_until_they_are_closed(monkeypatch):
    """A SIGINT that arrives in the middle of closing a minute (here: as its histograms merge) is
    raised once the close is whole: the partial run's per-minute rows and its summary count the
    same requests (without the guard the minute would be in neither the open segments nor the
    closed minutes)."""
    import signal
    merges = []
    original = recorder._merged

    def merged(hists):
        merges.append(1)
        if len(merges) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return original(hists)

    monkeypatch.setattr(recorder, "_merged", merged)
    _, result = run(constant("20m"), lag=60.0, spill=1, monkeypatch=monkeypatch)
    s = result.summary
    assert s["partial"] is True and 120 < s["simulated_s"] < 600
    for kind, section in (("service", s["services"]["svc"]), ("target_group", s["target_groups"]["tg-main"])):
        rows = sum(v for _, k, _, _, m, v in result.metric_rows if k == kind and m == "TotalRequestCount")
        assert rows == section["TotalRequestCount"] > 0


def test_minute_percentiles_read_back_are_each_minutes_own(monkeypatch):
    """A minute's RequestTime p50/p90/p99 (computed when its rows are read, from the histogram
    the minute keeps: in memory, or spilled and read back) are the percentiles of exactly the
    latencies recorded in that minute, recorded into a histogram of their own (and within the
    histogram's accuracy of numpy's), for every dimension and minute."""
    import numpy as np

    from latsim.metrics.histogram import ALPHA, LogHistogram

    rng = np.random.default_rng(7)
    monkeypatch.setattr(recorder, "CLOSE_LAG", 60.0)
    monkeypatch.setattr(recorder, "SPILL_MINUTES", 2)
    rec = recorder.Recorder(0.0, 60)
    names = [("service", "a"), ("target_group", "b"), ("target_group", "c")]
    cursors = [rec.dim(k, n).cursor(az) for k, n in names for az in ("use1-az1", "use1-az2")]
    by_minute: dict[tuple[str, int], list[float]] = {}
    n = 20_000
    ts = np.sort(rng.uniform(0.0, 30 * 60.0, n)).tolist()
    for t, j, dur in zip(ts, rng.integers(0, len(cursors), n).tolist(), rng.lognormal(-4, 0.7, n).tolist(),
                         strict=True):
        cursors[j].count(t, dur, recorder.HTTP_2XX, 0, 0)
        by_minute.setdefault((cursors[j].dim.name, int(t // 60)), []).append(dur)
    assert rec.spool is not None  # minutes were spilled during the run
    got = {(name, int(t // 60), metric): v for t, _, name, az, metric, v in rec.metric_rows()
           if metric.startswith("RequestTime_p")}
    assert len(got) == 3 * 30 * len(names)
    for (name, m), values in by_minute.items():
        own = LogHistogram()
        own.record_many(values)
        exact = np.percentile(values, [50, 90, 99])
        for q, est, x in zip((50, 90, 99), own.percentiles((50, 90, 99)), exact, strict=True):
            assert got[(name, m, f"RequestTime_p{q}")] == round(est * 1000.0, 3)
            assert abs(got[(name, m, f"RequestTime_p{q}")] - 1000.0 * x) <= ALPHA * 1000.0 * x + 0.0005


@given(st.lists(st.one_of(st.just(0.0), st.just(-0.0), st.floats(allow_nan=True, allow_infinity=True)),
                min_size=recorder.N, max_size=recorder.N))
def test_a_spilled_row_reads_back_as_the_same_doubles(row: list[float]) -> None:
    """A minute's counters are spilled sparse (the ones that are not +0.0) and read back dense:
    the same 17 doubles, bit for bit (a -0.0 and a NaN included)."""
    mask, values = recorder._sparse(row)
    assert len(values) == sum(1 for v in row if struct.pack("<d", v) != struct.pack("<d", 0.0))
    back = recorder._dense((mask, values))
    assert [struct.pack("<d", v) for v in back] == [struct.pack("<d", v) for v in row]
