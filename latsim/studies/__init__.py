"""What-if studies: sweeps over scenario parameters, replications with confidence intervals,
paired comparisons, canary statistics — run serially, on local processes or on Dask.

The layers, lowest first: ``paths`` (addressing one value of a scenario), ``design`` (values and
designs), ``metrics`` (what is measured in a run's summary), ``stats`` (intervals), ``executors``
(where runs execute), ``store`` (the resumable results log), ``study`` (plan, run, tables),
then ``outputs``, ``findmin``, ``compare``, ``canary_stats`` and the ``cli``.

Notebook use::

    from latsim.scenario import load_data
    from latsim.studies import StudyOptions, build_study, run_study
    data, pos = load_data("scenarios/quickstart.yaml")
    study = build_study(data, pos, options=StudyOptions(
        params=["clients.storefront.arrival.poisson=x1,x2,x3"], replications=5,
        metrics=["services.checkout.RequestTime.p99"]))
    run_study(study).to_pandas()
"""

from __future__ import annotations

from latsim.lazy import lazy_exports

# names -> the module that defines them; imported on first use (PEP 562), so that
# ``latsim.cli.studies`` can name them without `latsim --help` loading the engine
_EXPORTS = {"canary_statistics": "canary_stats", "Comparison": "compare", "compare": "compare",
            **dict.fromkeys(("DaskExecutor", "ProcessExecutor", "SerialExecutor", "Task", "make_executor",
                             "run_task"), "executors"),
            "find_min": "findmin",
            **dict.fromkeys(("Study", "StudyOptions", "StudyResult", "build_study", "load_results",
                             "replication_seed", "run_study"), "study")}


lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Comparison",
    "DaskExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "Study",
    "StudyOptions",
    "StudyResult",
    "Task",
    "build_study",
    "canary_statistics",
    "compare",
    "find_min",
    "load_results",
    "make_executor",
    "replication_seed",
    "run_study",
    "run_task",
]
