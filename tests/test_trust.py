"""Regression tests of issue 15 ("answers an architect can trust"): each test is named after
the defect it protects against and failed before its fix."""

from __future__ import annotations

from typing import Any

from builders import build, one_service


def _engine() -> Any:
    from latsim.engine import simulate
    return simulate


# --- 6: per-minute figures of a partial minute ------------------------------------------------

def test_active_request_count_of_a_partial_last_minute_is_not_halved() -> None:
    """A 90 s run: the last minute holds 30 s. Constant arrivals of 100/s served in exactly
    50 ms with no queueing: L = lambda * W = 5 in every minute, the partial one included."""
    data = one_service(rate=100, duration="90s", concurrency=100, latency={"constant": "50ms"})
    data["clients"][0]["arrival"] = {"constant": "100/s"}
    result = _engine()(build(data))
    rows = {r["time_s"]: r["value"] for r in result.metrics()
            if r["dimension"] == "target_group" and r["metric"] == "ActiveRequestCount"}
    assert sorted(rows) == [0.0, 60.0]
    # exact up to the one request that straddles the run's end (1 of 3 000: 50 ms / 30 s)
    assert abs(rows[0.0] - 5.0) < 0.01
    assert abs(rows[60.0] - 5.0) < 0.01


# --- 11: interrupted runs say so everywhere ------------------------------------------------------

def _ctrl_c_at(monkeypatch: Any, t: float) -> None:
    """Ctrl-C at simulated time ``t``: a KeyboardInterrupt raised inside the event loop, where a
    real one lands."""
    from latsim.engine.simulation import Simulation
    start = Simulation.start

    def start_then_interrupt(self: Simulation) -> None:
        start(self)

        def interrupt(_ev: Any) -> None:
            raise KeyboardInterrupt
        self.at(t, interrupt)
    monkeypatch.setattr(Simulation, "start", start_then_interrupt)


def test_an_interrupted_run_gives_no_slo_verdict_and_says_how_far_it_got(monkeypatch: Any, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    import latsim.commands  # noqa: F401
    from latsim.cli import app
    data = one_service(rate=50, duration="60s", slo=[{"service": "svc", "p99": "1s"}])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    _ctrl_c_at(monkeypatch, 30.0)
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 130
    text = res.output
    assert "interrupted at 30 of 60 simulated seconds" in text
    assert "60s simulated" not in text and "met" not in text.replace("not judged", "")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["interrupted"] == "interrupted at 30 of 60 simulated seconds"
    assert [v["ok"] for v in summary["slo"]] == [None]
    assert summary["slo"][0]["verdict"] == "not_judged"
    html = (tmp_path / "out" / "report.html").read_text()
    assert "interrupted at 30 of 60 simulated seconds" in html and "SLOs met" not in html
