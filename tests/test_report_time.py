"""What the report's time plots stand on: a resolution chosen for the run's length (finer than
CloudWatch's minute for short runs, the per-minute rows untouched), the events marked on every
time plot, the warm-up left out the same way everywhere, the report's structure (without a
browser) and, where chromium is installed, its screenshots."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from latsim.metrics.recorder import Recorder, resolution_s
from latsim.plots import events, requests_by_az, time_series
from latsim.scenario import load_scenario, scenario_from_data
from tests.builders import one_service, run
from tests.conftest import ROOT
from tests.test_report import DATA


@pytest.mark.parametrize(("duration", "step"), [(60, 1), (61, 2), (120, 2), (121, 5), (300, 5), (600, 10),
                                                (900, 15), (1200, 30), (1800, 30), (1801, 60), (86400, 60)])
def test_resolution_follows_the_run_length(duration, step):
    assert resolution_s(duration) == step
    assert 60 % step == 0 and (step == 60 or duration / step <= 60)


def test_many_dimensions_keep_minutes():
    assert resolution_s(60, dimensions=1000) == 60


def test_a_step_that_does_not_divide_a_minute_is_refused():
    with pytest.raises(ValueError, match="does not divide a minute"):
        Recorder(0.0, step=7)


def constant(rate: str, duration: str, warmup: str = "0s") -> dict[str, Any]:
    data = one_service(duration=duration, warmup=warmup, latency="5ms", concurrency=50)
    data["clients"][0]["arrival"] = {"constant": rate}
    return data


def test_a_one_minute_run_is_drawn_per_second_with_exact_counts():
    from latsim.engine import simulate
    from tests.builders import build
    result = simulate(build(constant("10/s", "60s")))
    assert result.series_step == 1
    counts, step = time_series(result, "service", "TotalRequestCount")
    assert step == 1
    # a constant 10/s arrival: every one-second bucket holds exactly 10 requests (by start time)
    assert counts["svc"] == {float(t): 10.0 for t in range(60)}
    p50, _ = time_series(result, "service", "RequestTime_p50")
    assert set(p50["svc"]) == set(counts["svc"]) and all(4.9 < v < 5.1 for v in p50["svc"].values())


def test_buckets_add_up_to_cloudwatchs_minutes():
    from latsim.engine import simulate
    from tests.builders import build
    result = simulate(build(one_service(duration="150s", warmup="25s", rate=40.0)))
    assert result.series_step == 5
    fine, _ = time_series(result, "target_group", "TotalRequestCount")
    per_minute: dict[float, float] = defaultdict(float)
    for t, v in fine["tg-main"].items():
        per_minute[(t // 60) * 60] += v
    minutes: dict[float, float] = defaultdict(float)
    for t, kind, _name, az, metric, v in result.metric_rows:
        if kind == "target_group" and metric == "TotalRequestCount" and az != "all":
            minutes[t] += v
    assert dict(per_minute) == dict(minutes) and sum(minutes.values()) > 5000


@pytest.mark.pure  # replaces simulation.resolution_s
def test_per_minute_rows_do_not_depend_on_the_resolution():
    from latsim.engine import simulate, simulation
    from tests.builders import build
    scn = build(one_service(duration="90s", warmup="20s", rate=30.0))
    fine = simulate(scn)
    original = simulation.resolution_s
    simulation.resolution_s = lambda *a, **k: 60  # type: ignore[assignment]
    try:
        coarse = simulate(scn)
    finally:
        simulation.resolution_s = original  # type: ignore[assignment]
    assert coarse.series == [] and fine.series
    assert fine.metric_rows == coarse.metric_rows
    assert fine.summary == coarse.summary


def test_the_heatmap_counts_after_the_warm_up_like_the_tables():
    s = run(one_service(targets=2, duration="90s", warmup="30s", rate=50.0))
    from latsim.results import Result
    counts = requests_by_az(Result(s))
    tg = s["target_groups"]["tg-main"]
    assert sum(counts.values()) == tg["TotalRequestCount"] == sum(
        t["TotalRequestCount"] for t in tg["targets"].values())
    assert set(counts) == {("tg-main", "use1-az1"), ("tg-main", "use1-az2")}


def test_timeline_events_and_canary_steps_are_marked():
    from latsim.engine import simulate
    scn = scenario_from_data(copy.deepcopy(DATA))
    result = simulate(scn)
    marks = events(result, scn)
    timeline = [m for m in marks if m[3] == "#7b3294"]
    assert timeline == [(60.0, 100.0, "fail_targets i-0b", "#7b3294")]
    steps = [(m[0], m[2]) for m in marks if m[3] != "#7b3294"]
    assert steps[0] == (20.0, "20% start") and len(steps) == len(result.summary["canary"][0]["steps"])


def test_az_failure_marks_its_outage_window():
    from latsim.engine import simulate
    scn = load_scenario(ROOT / "scenarios" / "az-failure.yaml")
    marks = events(simulate(scn), scn)
    assert marks == [(180.0, 270.0, "fail_az use1-az1", "#7b3294")]


# -- the report's HTML, without a browser ------------------------------------------------------------------
class Cells(HTMLParser):
    """Section ids, figure ids, and the text of each table cell, by section."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.section = ""
        self.cells: dict[str, list[str]] = defaultdict(list)
        self.headers: dict[str, list[str]] = defaultdict(list)
        self._cell: list[str] | None = None
        self._tag = ""
        self.wrapped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "section":
            self.section = str(a.get("id"))
        if tag in ("td", "th"):
            self._cell, self._tag = [], tag
        if tag == "div" and a.get("class") == "scroll":
            self.wrapped += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            (self.cells if self._tag == "td" else self.headers)[self.section].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def report_of(scenario: str, tmp: Path) -> tuple[Cells, dict[str, Any], str]:
    import json

    from latsim.run_dir import simulate_with_outputs
    scn = load_scenario(ROOT / "scenarios" / scenario)
    simulate_with_outputs(scn, out_dir=tmp)
    html = (tmp / "report.html").read_text(encoding="utf-8")
    page = Cells()
    page.feed(html)
    return page, json.loads((tmp / "summary.json").read_text()), html


def test_the_report_shows_resolution_rates_and_per_target_group_latency(tmp_path):
    page, s, html = report_of("az-failure.yaml", tmp_path)
    assert {"fig-request_rates", "fig-latency", "fig-target_group_latency", "fig-target_health", "access"} <= set(
        page.ids)
    assert page.ids.index("fig-target_group_latency") > page.ids.index("target-groups")
    assert "<b>10 s</b><span>time resolution of the plots</span>" in html  # 6 minutes: 10 s buckets
    assert "Request rate per service, per 10 s" in (tmp_path / "plots" / "request_rates.svg").read_text()
    assert (tmp_path / "series.parquet").is_file()
    # numbers for people: requests per second, percentages, milliseconds
    services = page.cells["services"]
    orders = services[services.index("orders"):services.index("orders") + 15]
    n = s["services"]["orders"]["TotalRequestCount"]
    assert orders[1] == f"{n:,}"
    assert orders[2] == f"{n / (s['simulated_s'] - s['warmup_s']):,.0f} req/s"
    assert orders[6] == f"{100 * s['services']['orders']['HTTPCode_5XX_Count'] / n:.2f}%"
    assert "request bodies" in page.headers["services"] and "received" not in page.headers["services"]
    assert page.wrapped >= 6  # every table scrolls in its own box on a narrow screen
    slo = page.cells["slo"]
    reporting = next(v for v in s["slo"] if v["slo"] == "client:reporting")["checks"][0]
    row = slo[slo.index("client:reporting"):slo.index("client:reporting") + 6]
    assert row[4:] == [f"{100 * reporting['value']:.3f}".rstrip("0").rstrip(".") + "%", "99.5%"]


def test_the_report_names_auth_types_association_groups_and_denied_pairs(tmp_path):
    page, _, _ = report_of("zero-trust.yaml", tmp_path)
    topo = page.cells["topology"]
    assert topo[:2] == ["prod", "AWS_IAM"] and topo[5:7] == ["orders", "AWS_IAM"]  # the network, then the service
    access = page.cells["access"]
    pairs = {(access[i], access[i + 1], access[i + 2]) for i in range(0, len(access), 4)}
    assert pairs == {("order-reader", "orders", "Service"), ("batch-anonymous", "orders", "Network"),
                     ("partner-sync", "orders", "Network")}


def test_the_report_shows_lambda_health_and_cold_starts(tmp_path):
    page, s, _ = report_of("lambda-cold-start.yaml", tmp_path)
    cells = page.cells["target-groups"]
    cold = s["target_groups"]["thumbnailer"]["cold_starts"]
    assert cold["count"] > 0
    assert f"{cold['count']:,} (+{cold['added_ms']['mean']:,.0f} ms mean, p99 {cold['added_ms']['p99']:,.0f} ms)" in cells
    assert "not supported" in cells
    assert any("UNAVAILABLE (health checks not supported; receives traffic)" in c for c in cells)


def test_association_security_groups_are_listed(tmp_path):
    from latsim.report import _topology_text
    data = copy.deepcopy(DATA)
    data["security_groups"] = [{"name": "lattice-clients", "vpc": "web",
                                "ingress": [{"protocol": "tcp", "ports": 443, "source": "10.0.0.0/16"}]}]
    data["service_networks"][0]["vpc_associations"] = [{"vpc": "web", "security_groups": ["lattice-clients"]}]
    assert "web (SG lattice-clients)" in _topology_text(scenario_from_data(data))


# -- in a real browser --------------------------------------------------------------------------------------
def test_screenshots_regenerate_with_chromium(tmp_path):
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("chromium is not installed: `apt-get install chromium` to photograph the report")
    script = ROOT / "docs" / "screenshots" / "make_screenshots.py"
    res = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    import matplotlib.image as mpimg
    for name, width in (("report-desktop.png", 1280), ("report-narrow.png", 420)):
        img = mpimg.imread(tmp_path / name)
        assert img.shape[1] == width
        # a rendered page, not a blank one: many distinct colours (text, badges, figures)
        assert len({tuple(px) for px in img[::40, ::20].reshape(-1, img.shape[2]).tolist()}) > 20, name
