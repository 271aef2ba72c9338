"""Regression tests of issue 15 ("answers an architect can trust"): each test is named after
the defect it protects against and failed before its fix."""

from __future__ import annotations

from typing import Any

from builders import build, one_service, run


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
