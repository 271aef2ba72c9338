"""The report: plots (PNG + SVG), one self-contained report.html, the run directory it can be
rebuilt from (``latsim report DIR``) and the typed topology graph behind the drawing."""

from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from latsim.cli import app
from latsim.plots import PLOTS, plot_az_heatmap, plot_canary, plot_topology
from latsim.scenario import scenario_from_data

DATA: dict[str, Any] = {
    "name": "report-demo", "description": "A canary, a failing target and two services.", "seed": 11,
    "duration": "3m", "warmup": "10s",
    "accounts": [{"id": "111111111111", "name": "shop"}, {"id": "222222222222", "name": "payments"}],
    "vpcs": [{"name": "web", "account": "shop", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]},
             {"name": "pay", "account": "payments", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
    "service_networks": [{"name": "shop", "account": "shop", "shared_with": ["payments"],
                          "vpc_associations": [{"vpc": "web"}], "services": ["checkout", "search"]}],
    "services": [
        {"name": "checkout", "account": "payments", "custom_domain": "checkout.internal",
         "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443, "default_action": {"fixed_response": 404},
                        "rules": [{"name": "api", "priority": 10, "match": {"path": {"prefix": "/api"}},
                                   "action": {"forward": [{"target_group": "stable", "weight": 100},
                                                          {"target_group": "canary", "weight": 0}]}}]}]},
        {"name": "search", "account": "payments", "custom_domain": "search.internal",
         "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                        "default_action": {"forward": [{"target_group": "search"}]}}]},
    ],
    "target_groups": [
        {"name": "stable", "vpc": "pay", "protocol": "HTTP", "port": 8080,
         "health_check": {"interval": "10s", "timeout": "2s", "healthy_threshold": 2, "unhealthy_threshold": 2},
         "targets": [{"id": "i-0a", "az": "use1-az1", "concurrency": 8, "latency": "15ms"},
                     {"id": "i-0b", "az": "use1-az2", "concurrency": 8, "latency": "15ms"}]},
        {"name": "canary", "vpc": "pay", "protocol": "HTTP", "port": 8080,
         "health_check": {"interval": "10s", "timeout": "2s"},
         "targets": [{"id": "i-0c", "az": "use1-az1", "concurrency": 8, "latency": "18ms"}]},
        {"name": "search", "type": "IP", "vpc": "pay", "protocol": "HTTP", "port": 8080,
         "health_check": {"enabled": False},
         "targets": [{"id": "10.1.1.10", "az": "use1-az2", "latency": {"exponential": {"mean": "5ms"}}}]},
    ],
    "clients": [{"name": "storefront", "vpc": "web", "az": "use1-az1", "url": "https://checkout.internal",
                 "arrival": {"poisson": 30}, "timeout": "2s",
                 "requests": [{"weight": 3, "path": "/api/cart"},
                              {"weight": 1, "path": "/q", "url": "http://search.internal"}]}],
    "canaries": [{"name": "checkout-canary", "service": "checkout", "listener": "https", "rule": "api",
                  "primary": "stable", "canary": "canary", "start": "20s", "interval": "40s", "steps": [20, 50],
                  "checks": {"success_rate": "99%"}}],
    "timeline": [{"at": "60s", "fail_targets": ["i-0b"], "for": "40s"}],
    "slo": [{"service": "checkout", "p99": "200ms"}, {"service": "search", "p99": "1ms"}],
}

runner = CliRunner()


class Page(HTMLParser):
    """Collects what the tests look at: tags, resource-bearing attributes, section ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action", "poster") and value is not None:
                self.refs.append((tag, name, value))
            if name == "id" and value:
                self.ids.add(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    from latsim.run_dir import simulate_with_outputs
    out = tmp_path_factory.mktemp("run")
    scn = scenario_from_data(copy.deepcopy(DATA))
    result = simulate_with_outputs(scn, out_dir=out)
    return out, scn, result


def test_the_run_directory_holds_the_report_and_what_rebuilds_it(run_dir):
    out, _, _ = run_dir
    for name in ("report.html", "summary.json", "metrics.parquet", "scenario.json", "histograms.json"):
        assert (out / name).is_file(), name


def test_every_plot_is_written_as_png_and_svg(run_dir):
    out, _, _ = run_dir
    for spec in PLOTS:
        png, svg = out / "plots" / f"{spec.name}.png", out / "plots" / f"{spec.name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", spec.name
        assert ET.parse(svg).getroot().tag.endswith("svg"), spec.name


@pytest.mark.parametrize("name, panels", [("latency", 2), ("target_group_latency", 3)])
def test_the_latency_panels_share_one_legend_naming_every_series(run_dir, name, panels):
    out, _, _ = run_dir
    root = ET.parse(out / "plots" / f"{name}.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g.get("id", "") for g in root.iter(f"{ns}g")]
    assert sum(g.startswith("axes_") for g in groups) == panels  # one panel per service / target group
    legends = [g for g in root.iter(f"{ns}g") if g.get("id", "").startswith("legend_")]
    assert len(legends) == 1
    labels = ["".join(t.itertext()) for t in legends[0].iter(f"{ns}text")]
    # the percentiles, the warm-up band, the failure window and the canary's steps, each once
    assert labels == ["p50", "p90", "p99", "warm-up", "timeline event", "canary step"]


def test_the_report_parses_and_inlines_every_plot(run_dir):
    out, _, _ = run_dir
    page = parse(out / "report.html")
    images = [v for tag, attr, v in page.refs if tag == "img" and attr == "src"]
    assert len(images) == page.tags.count("img") == len(list((out / "plots").glob("*.png"))) == len(PLOTS)
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_the_report_loads_nothing_from_the_network(run_dir):
    out, _, _ = run_dir
    page = parse(out / "report.html")
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    for _tag, _attr, value in page.refs:
        assert not value.lower().startswith(("http://", "https://", "//")), value
    html = (out / "report.html").read_text()
    assert "http://" not in html.split("<main>")[0] and "url(" not in html and "@import" not in html


def test_the_report_has_every_section(run_dir):
    out, _, result = run_dir
    page = parse(out / "report.html")
    assert {"slo", "topology", "services", "target-groups", "rules", "clients", "canary", "timeline",
            "cost"} <= page.ids
    text = " ".join(page.text)
    assert "report-demo" in text and "SLO breached (1 of 2)" in text
    assert "checkout-canary" in text and "fail_targets" in text
    assert f"${result.summary['cost']['monthly_usd']:,.2f}" in text
    assert result.summary["cost"]["prices_as_of"] in text


def test_latsim_report_rebuilds_the_report_from_the_run_directory(run_dir, tmp_path):
    out, _, _ = run_dir
    copy_dir = tmp_path / "run"
    shutil.copytree(out, copy_dir)
    (copy_dir / "report.html").unlink()
    shutil.rmtree(copy_dir / "plots")
    res = runner.invoke(app, ["report", str(copy_dir)])
    assert res.exit_code == 0, res.output
    page = parse(copy_dir / "report.html")
    assert page.tags.count("img") == len(PLOTS)
    assert parse(out / "report.html").ids == page.ids


def test_without_scenario_and_histograms_the_report_still_builds(run_dir, tmp_path):
    out, _, _ = run_dir
    d = tmp_path / "bare"
    d.mkdir()
    for name in ("summary.json", "metrics.parquet"):
        shutil.copy(out / name, d / name)
    res = runner.invoke(app, ["report", str(d), "--out", str(tmp_path / "elsewhere")])
    assert res.exit_code == 0, res.output
    page = parse(tmp_path / "elsewhere" / "report.html")
    assert page.tags.count("img") == len(PLOTS) - 2  # no topology (scenario), no CDF (histograms)
    assert "cost" in page.ids


def test_a_directory_without_a_summary_is_a_clean_error(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2
    assert "summary.json is missing" in res.stderr


def test_the_saved_scenario_reloads_to_the_same_model(run_dir):
    out, scn, _ = run_dir
    again = scenario_from_data(json.loads((out / "scenario.json").read_text()))
    assert again.model_dump(mode="json", by_alias=True) == scn.model_dump(mode="json", by_alias=True)


def test_figures_are_byte_identical_when_redrawn(run_dir, tmp_path):
    _, scn, result = run_dir
    a = plot_az_heatmap(result, scn, tmp_path / "a" / "heat")
    b = plot_az_heatmap(result, scn, tmp_path / "b" / "heat")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_text_measured_for_an_earlier_figure_gives_the_same_bytes(run_dir, tmp_path):
    """Text extents are kept for the whole process (latsim.plots._METRICS): a figure drawn after
    others is the figure drawn first."""
    import latsim.plots as plots
    _, scn, result = run_dir
    plots._METRICS.clear()
    first = [p.read_bytes() for p in plots.plot_latency(result, scn, tmp_path / "a" / "latency")]
    plots.plot_request_rates(result, scn, tmp_path / "rates")
    plots.plot_target_group_latency(result, scn, tmp_path / "tg")
    assert plots._METRICS  # measured once, kept
    after = [p.read_bytes() for p in plots.plot_latency(result, scn, tmp_path / "b" / "latency")]
    assert first == after


def test_the_heatmap_has_a_colour_bar_with_its_scale_and_unit(run_dir, tmp_path):
    _, scn, result = run_dir
    from latsim.plots import requests_by_az
    plot_az_heatmap(result, scn, tmp_path / "heat")
    root = ET.parse(tmp_path / "heat.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(list(root.iter(f"{ns}image"))) == 2  # the cells and the colour scale beside them
    bar = next(g for g in root.iter(f"{ns}g") if g.get("id") == "axes_2")
    texts = ["".join(t.itertext()) for t in bar.iter(f"{ns}text")]
    assert texts[-1] == "requests (count)"
    scale = [float(t) for t in texts[:-1]]
    peak = max(requests_by_az(result).values())
    assert scale == sorted(scale) and scale[0] == 0 and 0.5 * peak <= scale[-1] <= peak


def test_a_plot_with_nothing_to_draw_writes_nothing(run_dir, tmp_path):
    _, scn, result = run_dir
    from latsim.results import Result
    quiet = Result({**result.summary, "canary": []}, result.metric_rows, result.histograms)
    assert plot_canary(quiet, scn, tmp_path / "canary") == []
    assert plot_topology(result, None, tmp_path / "topology") == []
    assert not list(tmp_path.iterdir())


def test_the_topology_graph_is_typed():
    from latsim.model.graph import EDGE_KINDS, NODE_KINDS, topology_graph
    g = topology_graph(scenario_from_data(copy.deepcopy(DATA)))
    assert {k for _, k in g.nodes(data="kind")} <= set(NODE_KINDS)
    assert {k for _, _, k in g.edges(data="kind")} == set(EDGE_KINDS)
    assert g.edges["vpc:web", "service_network:shop"] == {"kind": "association", "via": "association",
                                                           "security_groups": []}
    assert g.edges["service_network:shop", "service:checkout"]["kind"] == "association"
    assert g.edges["rule:checkout/https/api", "target_group:canary"] == {"kind": "forward", "weight": 0}
    assert g.edges["account:222222222222", "service:checkout"]["kind"] == "ownership"
    assert g.edges["service_network:shop", "account:222222222222"]["kind"] == "sharing"
    assert g.edges["vpc:web", "client:storefront"]["kind"] == "placement"
    assert g.nodes["target_group:stable"]["kind"] == "target_group"
