"""Same scenario and seed give byte-identical summaries, whatever runs them: this process, a
process pool or a Dask LocalCluster; and the answer does not depend on the order of runs."""

from __future__ import annotations

import json

import pytest

from latsim.scenario import load_data
from latsim.studies.executors import Task, make_executor
from tests.conftest import ROOT

SCENARIOS = ["canary-progressive", "az-failure", "retry-storm"]


def tasks() -> list[Task]:
    out = []
    for i, name in enumerate(SCENARIOS):
        data, _ = load_data(ROOT / "scenarios" / f"{name}.yaml")
        data["duration"] = "40s"
        data["warmup"] = "0s"
        data.pop("study", None)
        for r in range(2):
            out.append(Task(point=i, replication=r, seed=100 + r, data=data, base_dir=str(ROOT / "scenarios")))
    return out


def summaries(executor: object) -> dict[tuple[int, int], str]:
    got = {}
    try:
        for rec in executor.run(tasks()):  # type: ignore[attr-defined]
            assert rec["error"] is None, rec["error"]
            got[(rec["point"], rec["replication"])] = json.dumps(rec["summary"], sort_keys=True)
    finally:
        executor.close()  # type: ignore[attr-defined]
    return got


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
def test_serial_process_pool_and_dask_give_identical_summaries():
    serial = summaries(make_executor(jobs=1))
    again = summaries(make_executor(jobs=1))
    pool = summaries(make_executor(jobs=2))
    dask = summaries(make_executor(dask="local"))
    assert serial == again
    assert serial == pool
    assert serial == dask
    assert len(serial) == 2 * len(SCENARIOS)
    # different seeds are different runs
    assert serial[(0, 0)] != serial[(0, 1)]
