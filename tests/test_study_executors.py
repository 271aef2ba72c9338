"""Studies: every executor gives byte-identical tables (serial, local processes, Dask)."""

from __future__ import annotations

import json

import pytest

from latsim.studies.examples import mmc_scenario
from latsim.studies.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    Task,
    make_executor,
    run_task,
)
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


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
def test_a_remote_scheduler_reached_by_its_tcp_address_gives_the_same_tables(tmp_path):
    """``--dask tcp://HOST:PORT`` (the path for a real cluster): a LocalCluster started here is
    reached only through its scheduler's address, by the executor and by ``latsim sweep``."""
    import logging

    from distributed import LocalCluster
    from typer.testing import CliRunner

    from latsim.cli import app
    study = small_study()
    serial = run_study(study, SerialExecutor(), out_dir=tmp_path / "serial")
    write_tables(serial, tmp_path / "serial")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        executor = make_executor(dask=address)
        assert isinstance(executor, DaskExecutor) and executor.cluster is None  # connected, not started
        try:
            remote = run_study(study, executor, out_dir=tmp_path / "remote")
        finally:
            executor.close()
        write_tables(remote, tmp_path / "remote")
        for name in ("aggregate.csv", "runs.csv"):
            assert (tmp_path / "remote" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
        scenario = tmp_path / "mmc.json"
        scenario.write_text(json.dumps(mmc_scenario(rate="40/s", servers=1, duration="3s", warmup="0s")))
        args = ["sweep", str(scenario), "-p", "target_groups.checkout-v1.targets.0.concurrency=1,2", "-r", "2",
                "-m", "services.checkout.RequestTime.mean", "--no-plots", "--quiet"]
        res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "cli-remote"), "--dask", address])
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "cli-serial"), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli-remote" / "aggregate.csv").read_bytes() == \
        (tmp_path / "cli-serial" / "aggregate.csv").read_bytes()


def test_an_unreachable_scheduler_is_a_usage_error_not_a_traceback():
    import socket

    from latsim.errors import UsageError
    with socket.socket() as s:  # a port nobody listens on: bound here, never listened to
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(UsageError, match=f"--dask tcp://127.0.0.1:{port}: cannot connect to the scheduler"):
            make_executor(dask=f"tcp://127.0.0.1:{port}")
