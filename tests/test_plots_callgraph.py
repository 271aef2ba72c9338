"""The call-graph figures and report section (latsim.plots_callgraph): drawn into the run
directory for a scenario with call graphs, named in report.html edge by edge, absent otherwise."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from latsim.plots_callgraph import entry_edges
from latsim.run_dir import simulate_with_outputs
from latsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    out = tmp_path_factory.mktemp("ms-run")
    scn = load_scenario(str(ROOT / "scenarios" / "microservices.yaml"), overrides={"duration": "20s"})
    result = simulate_with_outputs(scn, out_dir=out)
    return out, scn, result


def test_the_figures_are_written_beside_the_others(run_dir: Any) -> None:
    out, _, _ = run_dir
    for name in ("call_graph", "critical_path"):
        for ext in ("png", "svg"):
            f = out / "plots" / f"{name}.{ext}"
            assert f.is_file() and f.stat().st_size > 5_000, f
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_graph_has_the_arrows_of_the_scenario(run_dir: Any) -> None:
    _, scn, result = run_dir
    arrows = {(e["src"], e["dst"]) for e in entry_edges(result.summary, scn)}
    # storefront -> checkout -> payments -> {fraud, ledger}; reporting calls the ledger directly
    assert arrows == {("edge-proxy", "storefront"), ("reporting", "ledger"), ("storefront", "checkout"),
                      ("checkout", "payments"), ("payments", "fraud"), ("payments", "ledger")}
    # without the scenario (a run directory without scenario.json) the service edges remain
    assert {(e["src"], e["dst"]) for e in entry_edges(result.summary, None)} == arrows - {
        ("edge-proxy", "storefront"), ("reporting", "ledger")}


def test_the_report_names_every_edge_with_its_figures(run_dir: Any) -> None:
    out, _, result = run_dir
    html = (out / "report.html").read_text()
    assert '<section id="call-graph"><h2>Call graph</h2>' in html
    section = html[html.index('<section id="call-graph">'):]
    section = section[:section.index("</section>")]
    assert 'id="fig-call_graph"' in section and 'id="fig-critical_path"' in section
    text = unescape(re.sub(r"<[^>]+>", "|", section))
    s = result.summary
    window = s["simulated_s"] - s["warmup_s"]
    for d in s["edges"].values():
        row = f"|{d['caller']} → {d['service']}||{d['requests']:,}||{d['requests'] / window:,.2f}|"
        assert row in text, row
        assert f"|{d['RequestTime']['p99']:,.1f}|" in text
    for client, classes in s["critical_path"].items():
        for label, d in classes.items():
            assert f"|{client} / {label}||{d['requests']:,}||{d['mean_ms']:,.1f}|" in text


def test_no_call_graph_no_section(tmp_path: Path) -> None:
    scn = load_scenario(str(ROOT / "scenarios" / "quickstart.yaml"), overrides={"duration": "20s"})
    simulate_with_outputs(scn, out_dir=tmp_path)
    assert not (tmp_path / "plots" / "call_graph.png").exists()
    assert not (tmp_path / "plots" / "critical_path.png").exists()
    assert 'id="call-graph"' not in (tmp_path / "report.html").read_text()
