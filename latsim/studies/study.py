"""A study: design points × replications of one scenario, run anywhere, resumable, summarised.

``build_study`` reads the swept parameters, design, metrics and options (from the command line
and the scenario's ``study:`` section; the command line wins) and checks all of it before
anything runs: every PATH resolves, every value reads, every design point is a valid scenario,
every metric addresses something — each mistake reported at its file:line:col.

``run_study`` runs the missing (point, replication) pairs on an executor, appending each finished
run to ``results.jsonl`` as it arrives, and returns a ``StudyResult`` whose tables depend only on
the runs (sorted by point and replication), never on the executor or on the order they finished.

Seeds: replication r runs with seed ``replication_seed(study_seed, r)`` at every design point
(common random numbers: a difference between two points is not blurred by different luck).
Sequential replications (``ci_target``): each point gets more replications until the 95 % CI
half-width of the first metric is below the target (absolute, or relative with ``5%``), up to
``max_replications``. The next count is a function of the values of the replications so far
(see ``stats.needed_replications``), so a resumed study makes exactly the decisions an
uninterrupted one makes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, RunAborted, ScenarioError, suggest
from latsim.studies import stats
from latsim.studies.design import (
    VALUES_ALLOWED,
    Design,
    Param,
    ValuesError,
    design_points,
    label,
    parse_design,
    parse_values,
)
from latsim.studies.executors import Executor, SerialExecutor, Task
from latsim.studies.metrics import Metric, check_all, default_metrics, evaluate, skeleton_summary
from latsim.studies.paths import Keys, PathError, get_at, has_at, resolve, with_values
from latsim.studies.progress import StudyProgress
from latsim.studies.store import FORMAT, RESULTS, ResultsLog, check_manifest, fingerprint

DEFAULT_REPLICATIONS = 5
SECTION_KEYS = ("params", "replications", "design", "metrics", "seed", "duration", "ci_target",
                "max_replications", "find_min", "jobs", "dask", "out")
NOT_SWEPT = ("seed", "study")


def replication_seed(study_seed: int, replication: int, point: int | None = None) -> int:
    """The seed of replication r: the same at every design point (``point`` None), or, for
    independent streams, one per (point, replication)."""
    import numpy as np

    entropy = [int(study_seed), int(replication)] if point is None else [int(study_seed), int(replication),
                                                                          int(point), 0x1DE]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class Point:
    """One design point: its values (by column name) and the scenario data it runs."""

    index: int
    values: dict[str, Any]
    data: dict[str, Any]
    base_dir: str | None = None


@dataclass
class StudyOptions:
    """What the command line (or a caller) asks for; None means 'from the study section, or default'."""

    params: list[str] | None = None
    replications: int | None = None
    design: str | None = None
    metrics: list[str] | None = None
    seed: int | None = None
    duration: str | None = None
    ci_target: str | None = None
    max_replications: int | None = None
    find_min: str | None = None
    slo: bool = False


@dataclass
class Study:
    """Everything a study runs and how it summarises: checked, ready to run."""

    points: list[Point]
    columns: list[str]
    replications: int
    metrics: list[str]
    seed: int
    name: str = "study"
    source: str | None = None
    base_dir: str | None = None
    params: list[Param] = field(default_factory=list)
    design: Design = field(default_factory=lambda: Design("grid"))
    crn: bool = True
    ci_target: float | None = None
    ci_relative: bool = False
    max_replications: int | None = None
    find_min: str | None = None

    def seed_of(self, point: int, replication: int) -> int:
        return replication_seed(self.seed, replication, None if self.crn else point)

    def manifest(self) -> dict[str, Any]:
        identity = {"format": FORMAT, "seed": self.seed, "crn": self.crn,
                    "points": [fingerprint(p.data) for p in self.points]}
        return {"identity": identity, "name": self.name, "source": self.source, "columns": self.columns,
                "design": self.design.text, "points": [{c: label(v) for c, v in p.values.items()} for p in self.points],
                "replications": self.replications, "metrics": self.metrics,
                "ci_target": self.ci_target, "ci_relative": self.ci_relative,
                "max_replications": self.max_replications}

    def targets(self, done: dict[tuple[int, int], dict[str, Any]]) -> dict[int, int]:
        """How many replications each point needs, given the runs done so far."""
        out = {}
        for p in self.points:
            n = self.replications
            if self.ci_target is not None and self.metrics:
                n_max = self.max_replications or self.replications
                while all((p.index, r) in done for r in range(n)):
                    values = [_metric_value(done[(p.index, r)], self.metrics[0]) for r in range(n)]
                    nxt = stats.needed_replications(values, self.ci_target, relative=self.ci_relative,
                                                    n_max=n_max)
                    if nxt is None:
                        break
                    n = nxt
            out[p.index] = n
        return out


def _metric_value(record: dict[str, Any], expr: str) -> float:
    summary = record.get("summary")
    return math.nan if summary is None else evaluate(expr, summary)


# --- building a study ------------------------------------------------------------------------------

class _Problems:
    """Collects located problems while a study is checked."""

    def __init__(self, data: Any, pos: Any, source: str | None) -> None:
        self.data = data
        self.pos = pos
        self.source = source
        self.items: list[Problem] = []

    def at(self, keys: Keys, message: str, *, hint: str | None = None, allowed: str | None = None,
           display: str | None = None) -> None:
        loc = self.pos.locate(keys, at_key=True, data=self.data, display=display) if self.pos is not None \
            else Location(self.source, path=display or ".".join(map(str, keys)))
        self.items.append(Problem(message, loc, hint=hint, allowed=allowed, code="study"))

    def cli(self, message: str, *, hint: str | None = None, allowed: str | None = None) -> None:
        self.items.append(Problem(message, Location(None), hint=hint, allowed=allowed, code="usage"))

    def raise_if_any(self) -> None:
        if self.items:
            raise ScenarioError(self.items)


def build_study(data: dict[str, Any], pos: Any = None, *, source: str | None = None,
                options: StudyOptions | None = None, base_dir: str | None = None) -> Study:
    """Check a study of ``data`` (plain scenario data, positions optional) and make it runnable."""
    from latsim.estimate import check_size
    from latsim.scenario import scenario_from_data

    opts = options or StudyOptions()
    probs = _Problems(data, pos, source)
    section = data.get("study") or {}
    if not isinstance(section, dict):
        probs.at(("study",), "the study section is a mapping", allowed=", ".join(SECTION_KEYS))
        section = {}
    for key in section:
        if key not in SECTION_KEYS:
            hint = suggest(key, SECTION_KEYS)
            probs.at(("study", key), f"unknown key '{key}'", hint=hint,
                     allowed=None if hint else f"allowed: {', '.join(SECTION_KEYS)}", display=f"study.{key}")
    base = {k: v for k, v in data.items() if k != "study"}

    seed = opts.seed if opts.seed is not None else section.get("seed", base.get("seed", 1))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        probs.at(("study", "seed"), f"the study seed must be an integer >= 0, got {seed!r}", display="study.seed")
        seed = 1
    duration = opts.duration if opts.duration is not None else section.get("duration")
    if duration is not None:
        base["duration"] = duration
    replications = _int_option(probs, opts.replications, section, "replications", DEFAULT_REPLICATIONS, 1)
    max_reps = _int_option(probs, opts.max_replications, section, "max_replications", None, 1)
    ci_target, ci_relative = _ci_target(probs, opts.ci_target if opts.ci_target is not None
                                        else section.get("ci_target"))
    if ci_target is not None:
        replications = max(replications, 2)
        if max_reps is None:
            max_reps = max(replications, 50)
        elif max_reps < replications:
            probs.cli(f"--max-replications ({max_reps}) is below --replications ({replications})")
    try:
        design = parse_design(opts.design if opts.design is not None else section.get("design"))
    except ValuesError as exc:
        probs.at(("study", "design"), exc.message, allowed=exc.allowed, display="study.design")
        design = Design("grid")

    params = _params(probs, base, opts, section)
    probs.raise_if_any()
    try:
        value_rows = design_points(params, design, seed)
    except ValuesError as exc:
        probs.cli(exc.message, allowed=exc.allowed)
        probs.raise_if_any()
        raise AssertionError("unreachable") from None

    columns = [p.path for p in params]
    points = []
    # the same mistake at many design points is reported once, with the first point and a count
    found: dict[str, tuple[Problem, int, int]] = {}
    for i, row in enumerate(value_rows):
        pdata = with_values(base, [(p.keys, v) for p, v in zip(params, row, strict=True)])
        points.append(Point(i, dict(zip(columns, row, strict=True)), pdata))
        try:
            check_size(scenario_from_data(copy.deepcopy(pdata), pos))  # what `latsim run` refuses, a study does
        except (ScenarioError, RunAborted) as exc:
            for prob in exc.problems:
                first = found.get(prob.format())
                found[prob.format()] = (prob, i, 1) if first is None else (first[0], first[1], first[2] + 1)
    for prob, first_point, count in list(found.values())[:50]:
        hint = prob.hint
        if params:
            where = ", ".join(f"{c}={label(v)}" for c, v in points[first_point].values.items())
            more = f" and {count - 1} more point{'s' if count > 2 else ''}" if count > 1 else ""
            hint = "; ".join(h for h in (prob.hint, f"at design point {first_point} ({where}){more}") if h)
        probs.items.append(Problem(prob.message, prob.location, allowed=prob.allowed, hint=hint, code=prob.code))
    probs.raise_if_any()

    skeleton = skeleton_summary(points[0].data, base_dir)
    metrics = list(opts.metrics if opts.metrics is not None else section.get("metrics") or [])
    from_cli = opts.metrics is not None
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        probs.at(("study", "metrics"), "metrics is a list of metric paths", display="study.metrics")
        metrics = []
    if not metrics:
        metrics = default_metrics(skeleton)
    for expr, err in check_all(metrics, skeleton):
        if from_cli:
            probs.cli(f"--metric {err.message}", hint=err.hint, allowed=err.allowed)
        else:
            i = metrics.index(expr)
            probs.at(("study", "metrics", i), err.message, hint=err.hint, allowed=err.allowed,
                     display=f"study.metrics.{i}")
    metrics = list(dict.fromkeys(metrics))

    find_min = opts.find_min if opts.find_min is not None else _find_min_section(probs, section)
    if find_min is not None:
        swept = [p.path for p in params]
        if find_min not in swept:
            hint = suggest(find_min, swept)
            probs.cli(f"--find-min {find_min}: not one of the swept parameters", hint=hint,
                      allowed=None if hint else f"swept: {', '.join(swept) or 'none'}")
        if opts.find_min is not None and not opts.slo:
            probs.cli("--find-min needs a criterion", allowed="add --slo (every SLO of the scenario holds)")
        if not skeleton.get("slo"):
            probs.cli("--find-min --slo needs SLOs, and the scenario has no slo: section")
    probs.raise_if_any()
    return Study(points=points, columns=columns, replications=replications, metrics=metrics, seed=int(seed),
                 name=str(base.get("name", "study")), source=source, base_dir=base_dir, params=params,
                 design=design, ci_target=ci_target, ci_relative=ci_relative, max_replications=max_reps,
                 find_min=find_min)


def _int_option(probs: _Problems, cli: int | None, section: dict[str, Any], key: str, default: int | None,
                minimum: int) -> Any:
    value = cli if cli is not None else section.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        where = f"--{key.replace('_', '-')}" if cli is not None else f"study.{key}"
        if cli is not None:
            probs.cli(f"{where} must be an integer >= {minimum}, got {value!r}")
        else:
            probs.at(("study", key), f"{key} must be an integer >= {minimum}, got {value!r}", display=where)
        return default if default is not None else minimum
    return value


def _ci_target(probs: _Problems, value: Any) -> tuple[float | None, bool]:
    if value is None:
        return None, False
    text = str(value).strip()
    relative = text.endswith("%")
    try:
        x = float(text[:-1]) / 100.0 if relative else float(text)
    except ValueError:
        probs.cli(f"--ci-target '{value}' is not a number",
                  allowed="a half-width in the first metric's unit (e.g. 2) or relative to its mean (e.g. 5%)")
        return None, False
    if not x > 0 or not math.isfinite(x):
        probs.cli(f"--ci-target must be positive, got {value}")
        return None, False
    return x, relative


def _find_min_section(probs: _Problems, section: dict[str, Any]) -> str | None:
    fm = section.get("find_min")
    if fm is None:
        return None
    if isinstance(fm, dict):
        fm = fm.get("param")
    if not isinstance(fm, str):
        probs.at(("study", "find_min"), "find_min is a swept PATH (or {param: PATH})", display="study.find_min")
        return None
    return fm


def _params(probs: _Problems, base: dict[str, Any], opts: StudyOptions, section: dict[str, Any]) -> list[Param]:
    """(PATH, VALUES, where it was written) from the command line, else the study section."""
    entries: list[tuple[str, Any, Keys | None]] = []
    if opts.params is not None:
        for text in opts.params:
            path, eq, values = text.partition("=")
            if not eq or not path.strip():
                probs.cli(f"--param '{text}' is not PATH=VALUES", allowed=f"e.g. clients.NAME.arrival.poisson=x1,x2; "
                                                                           f"VALUES is {VALUES_ALLOWED}")
                continue
            entries.append((path.strip(), values, None))
    else:
        raw = section.get("params") or {}
        if isinstance(raw, dict):
            entries = [(str(k), v, ("study", "params", str(k))) for k, v in raw.items()]
        elif isinstance(raw, list):
            for i, text in enumerate(raw):
                path, eq, values = str(text).partition("=")
                if not eq:
                    probs.at(("study", "params", i), f"'{text}' is not PATH=VALUES", display=f"study.params.{i}")
                    continue
                entries.append((path.strip(), values, ("study", "params", i)))
        else:
            probs.at(("study", "params"), "params maps each PATH to its VALUES", display="study.params")
    params: list[Param] = []
    seen: dict[str, int] = {}
    for path, values, where in entries:
        prefix = "" if where is not None else f"--param {path}: "
        display = f"study.params.{path}" if where is not None else None
        try:
            keys = resolve(base, path)
        except PathError as exc:
            locate = where if where is not None else exc.keys
            probs.at(locate, f"{prefix}{exc.message}" if where is None else f"'{path}': {exc.message}",
                     hint=exc.hint, allowed=exc.allowed, display=display)
            continue
        if keys[0] in NOT_SWEPT:
            probs.at(where or (), f"{prefix}'{keys[0]}' is not a parameter",
                     allowed="replications vary the seed; use --seed for the study seed", display=display)
            continue
        if path in seen:
            probs.at(where or keys, f"{prefix}'{path}' is swept twice", display=display)
            continue
        seen[path] = len(params)
        original = get_at(base, keys, None)
        missing = not has_at(base, keys)
        hint = _new_key_typo(base, keys) if missing else None
        if hint is not None:  # "did you mean" comes before any complaint about the values
            probs.at(where or keys[:-1], f"{prefix}no key '{keys[-1]}' here" if where is None
                     else f"'{path}': no key '{keys[-1]}' here", hint=hint, display=display)
            continue
        try:
            vals, low, high = parse_values(values, original, missing=missing)
        except ValuesError as exc:
            probs.at(where or keys, f"{prefix}{exc.message}" if where is None else f"'{path}': {exc.message}",
                     allowed=exc.allowed, display=display)
            continue
        params.append(Param(path, keys, label(values) if not isinstance(values, str) else values, vals, low, high))
    return params


def _new_key_typo(base: Any, keys: Keys) -> str | None:
    """A "did you mean" when a path's new last key looks like a misspelling of a key beside it
    (``arrival.poison`` next to ``poisson``); None when it is a key the format knows anywhere
    (setting an optional key the file leaves out is fine)."""
    parent = get_at(base, keys[:-1], None)
    if not isinstance(parent, dict) or not isinstance(keys[-1], str) or keys[-1] in _format_keys():
        return None
    return suggest(keys[-1], [str(k) for k in parent])


def _format_keys() -> frozenset[str]:
    """Every property name of the scenario's JSON Schema."""
    global _FORMAT_KEYS
    if _FORMAT_KEYS is None:
        from latsim.schema import scenario_schema
        names: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                props = node.get("properties")
                if isinstance(props, dict):
                    names.update(props)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(scenario_schema())
        _FORMAT_KEYS = frozenset(names)
    return _FORMAT_KEYS


_FORMAT_KEYS: frozenset[str] | None = None


# --- running ------------------------------------------------------------------------------------------

@dataclass
class StudyResult:
    """The finished (or partly finished) runs of a study, and the tables made from them."""

    study: Study
    records: list[dict[str, Any]]
    targets: dict[int, int]
    _by_point: dict[int, list[dict[str, Any]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for r in self.records:
            self._by_point.setdefault(int(r["point"]), []).append(r)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("error")]

    def values(self, point: int, expr: str) -> list[float]:
        """The metric's value in each replication of one point (NaN where a run failed)."""
        return [_metric_value(r, expr) for r in self.records_of(point)]

    def records_of(self, point: int) -> list[dict[str, Any]]:
        """The records of one point, by replication."""
        return self._by_point.get(point, [])

    def aggregate(self) -> list[dict[str, Any]]:
        """One row per point × metric: n, mean, sd, ci_low, ci_high (95 %), errors."""
        rows = []
        for p in self.study.points:
            recs = self.records_of(p.index)
            n_err = sum(1 for r in recs if r.get("error"))
            for expr in self.study.metrics:
                m = Metric(expr)
                est = stats.estimate([_metric_value(r, expr) for r in recs], binary=m.binary, fraction=m.fraction)
                rows.append({"point": p.index, **p.values, "metric": expr, "n": est.n, "mean": est.mean,
                             "sd": est.sd, "ci_low": est.ci_low, "ci_high": est.ci_high,
                             "ci_method": est.method, "errors": n_err})
        return rows

    def runs(self) -> list[dict[str, Any]]:
        """Tidy rows: point, params..., replication, seed, metric, value."""
        rows = []
        for r in self.records:
            p = self.study.points[r["point"]]
            for expr in self.study.metrics:
                rows.append({"point": p.index, **p.values, "replication": r["replication"], "seed": r["seed"],
                             "metric": expr, "value": _metric_value(r, expr)})
        return rows

    def to_pandas(self, which: str = "aggregate") -> Any:
        import pandas as pd

        return pd.DataFrame(self.aggregate() if which == "aggregate" else self.runs())


def run_study(study: Study, executor: Executor | None = None, *, out_dir: str | Path | None = None,
              resume: bool = False, quiet: bool = True,
              on_record: Callable[[dict[str, Any]], None] | None = None) -> StudyResult:
    """Run every missing (point, replication) of ``study``; with ``out_dir``, log each run as it
    finishes and (``resume``) skip the runs already logged there."""
    log = None
    done: dict[tuple[int, int], dict[str, Any]] = {}
    if out_dir is not None:
        out = Path(out_dir)
        check_manifest(out, study.manifest(), resume=resume)
        log = ResultsLog(out / RESULTS)
        if resume:
            for rec in log.read():
                done.setdefault((int(rec["point"]), int(rec["replication"])), rec)
        log.open()
    ex: Executor = executor or SerialExecutor()
    try:
        with StudyProgress(enabled=not quiet, label=study.name) as bar:
            while True:
                targets = study.targets(done)
                todo = [Task(p.index, r, study.seed_of(p.index, r), p.data, p.base_dir or study.base_dir)
                        for p in study.points for r in range(targets[p.index]) if (p.index, r) not in done]
                total = sum(targets.values())
                missing = {t.point for t in todo}
                remaining = {pt: sum(1 for t in todo if t.point == pt) for pt in missing}
                bar.set_totals(runs_done=total - len(todo), runs_total=total,
                               points_done=len(study.points) - len(missing), points_total=len(study.points))
                if not todo:
                    break
                for rec in ex.run(todo):
                    key = (int(rec["point"]), int(rec["replication"]))
                    if key in done:
                        continue
                    done[key] = rec
                    if log is not None:
                        log.append(rec)
                    remaining[key[0]] -= 1
                    bar.advance(point_finished=remaining[key[0]] == 0)
                    if on_record is not None:
                        on_record(rec)
    finally:
        if log is not None:
            log.close()
        if executor is None:
            ex.close()
    targets = study.targets(done)
    records = sorted((rec for (p, r), rec in done.items() if p < len(study.points) and r < targets[p]),
                     key=lambda rec: (rec["point"], rec["replication"]))
    return StudyResult(study, records, targets)


def load_results(study: Study, out_dir: str | Path) -> StudyResult:
    """The StudyResult of the runs logged in ``out_dir`` (for notebooks: no run starts)."""
    done: dict[tuple[int, int], dict[str, Any]] = {}
    for rec in ResultsLog(Path(out_dir) / RESULTS).read():
        done.setdefault((int(rec["point"]), int(rec["replication"])), rec)
    targets = study.targets(done)
    records = sorted((rec for (p, r), rec in done.items() if p < len(study.points) and r < targets[p]),
                     key=lambda rec: (rec["point"], rec["replication"]))
    return StudyResult(study, records, targets)


def study_of_points(datas: Sequence[tuple[dict[str, Any], dict[str, Any], str | None]], *, replications: int,
                    metrics: list[str], seed: int, name: str = "study", crn: bool = True) -> Study:
    """A study of explicit scenarios (``compare``): each (values, data, base_dir) is one point."""
    points = [Point(i, dict(values), {k: v for k, v in data.items() if k != "study"}, base_dir)
              for i, (values, data, base_dir) in enumerate(datas)]
    columns = list(points[0].values) if points else []
    return Study(points=points, columns=columns, replications=replications, metrics=metrics, seed=seed,
                 name=name, crn=crn)
