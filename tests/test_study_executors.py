"""Studies: every executor gives byte-identical tables (serial, local processes, Dask)."""

from __future__ import annotations

from latsim.studies.examples import mmc_scenario
from latsim.studies.executors import DaskExecutor, ProcessExecutor, SerialExecutor, Task, run_task
from latsim.studies.study import StudyOptions, build_study, run_study
from latsim.studies.study_dir import write_tables


def small_study():
    data = mmc_scenario(rate="40/s", servers=1, duration="3s", warmup="0s",
                        slo=[{"service": "checkout", "p99": "80ms"}])
    return build_study(data, options=StudyOptions(
        params=["target_groups.checkout-v1.targets.0.concurrency=1,2", "clients.storefront.arrival.poisson=x1,x2"],
        replications=3, metrics=["services.checkout.RequestTime.p99", "services.checkout.RequestTime.mean",
                                 "slo.ok"]))


def test_serial_process_pool_and_dask_give_identical_aggregate_bytes(tmp_path):
    study = small_study()
    outputs = {}
    for name, make in (("serial", SerialExecutor), ("processes", lambda: ProcessExecutor(2)),
                       ("dask", lambda: DaskExecutor("local"))):
        executor = make()
        try:
            result = run_study(study, executor, out_dir=tmp_path / name)
        finally:
            executor.close()
        write_tables(result, tmp_path / name)
        outputs[name] = ((tmp_path / name / "aggregate.csv").read_bytes(), (tmp_path / name / "runs.csv").read_bytes())
    assert outputs["serial"] == outputs["processes"] == outputs["dask"]
    assert outputs["serial"][0].count(b"\n") == 1 + 4 * 3


def test_a_run_that_raises_is_recorded_and_the_study_goes_on(tmp_path):
    study = small_study()
    broken = dict(study.points[1].data)
    broken["duration"] = "-1s"  # invalid only at run time: the study checked the original points
    study.points[1] = type(study.points[1])(1, study.points[1].values, broken)
    result = run_study(study, out_dir=tmp_path)
    assert len(result.records) == 4 * 3
    assert len(result.errors) == 3 and all(r["point"] == 1 for r in result.errors)
    assert "duration" in result.errors[0]["error"]
    rows = [r for r in result.aggregate() if r["point"] == 1]
    assert all(r["n"] == 0 and r["errors"] == 3 for r in rows)


def test_run_task_returns_a_compact_summary_and_no_samples():
    study = small_study()
    rec = run_task(Task(0, 0, 5, study.points[0].data))
    assert rec["error"] is None and rec["summary"]["seed"] == 5
    assert set(rec) == {"point", "replication", "seed", "summary", "error", "wall_s"}
