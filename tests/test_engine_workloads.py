"""Arrival processes, closed loops, trace replay, the canary controller, determinism."""

from __future__ import annotations

import json
import math

import pytest

from latsim.engine import simulate
from tests.builders import build, one_service, run


def count_requests(arrival: dict, duration: str = "100s") -> int:
    data = one_service(duration=duration, concurrency=1000, latency={"constant": "1ms"})
    data["clients"][0]["arrival"] = arrival
    return run(data)["clients"]["client"]["requests"]


def within(n: int, expected: float, sigmas: float = 4.0) -> bool:
    return abs(n - expected) <= sigmas * math.sqrt(expected) + 1


def test_poisson_count():
    assert within(count_requests({"poisson": "50/s"}), 5000)


def test_constant_rate_is_exact():
    assert count_requests({"constant": "20/s"}) in (1999, 2000)


def test_ramp_integrates_the_rate():
    # 0 -> 100/s over 100 s: 5000 expected
    assert within(count_requests({"ramp": {"from": 0, "to": 100, "over": "100s"}}), 5000)


def test_stages_and_steps():
    assert within(count_requests({"stages": [{"duration": "50s", "target": 100}, {"duration": "50s", "target": 100}]}),
                  2500 + 5000)
    assert within(count_requests({"steps": [{"at": "0s", "rate": 10}, {"at": "50s", "rate": 90}]}), 500 + 4500)


def test_diurnal_mean_over_whole_periods():
    assert within(count_requests({"diurnal": {"mean": 50, "peak": 80, "period": "50s"}}), 5000)


def test_bursts_average_rate():
    n = count_requests({"bursts": {"rate": 200, "base": 0, "on": "1s", "off": "3s", "random": False}})
    assert within(n, 5000)


def test_closed_loop_throughput_follows_littles_law():
    data = one_service(duration="100s", concurrency=100, latency={"constant": "50ms"})
    data["clients"][0]["arrival"] = {"closed": {"users": 10, "think": {"constant": "450ms"}}}
    s = run(data)
    # each user cycles every 450 ms + 50 ms = 0.5 s -> 20 req/s
    assert abs(s["clients"]["client"]["requests"] - 2000) <= 15


def test_set_rate_changes_a_client_rate():
    data = one_service(duration="100s", concurrency=100, latency={"constant": "1ms"},
                       timeline=[{"at": "50s", "set_rate": {"client": "client", "rate": "100/s"}}])
    data["clients"][0]["arrival"] = {"poisson": 10}
    assert within(run(data)["clients"]["client"]["requests"], 500 + 5000)


def test_csv_trace_replay(tmp_path):
    trace = tmp_path / "trace.csv"
    trace.write_text("time,method,path,headers\n0.5,GET,/a,\n1.0,POST,/b,x-k=v\n2s,GET,/c,\n")
    data = one_service(duration="10s", concurrency=10)
    data["clients"][0]["arrival"] = {"replay": {"file": "trace.csv"}}
    scn = build(data)
    from latsim.engine.simulation import Simulation
    s = Simulation(scn, base_dir=str(tmp_path)).run().summary
    assert s["clients"]["client"]["requests"] == 3
    assert s["clients"]["client"]["status"] == {"200": 3}


def test_replay_file_must_not_be_a_url():
    data = one_service(duration="10s")
    data["clients"][0]["arrival"] = {"replay": {"file": "https://example.com/trace.csv"}}
    from latsim.errors import ScenarioError
    with pytest.raises(ScenarioError, match="never a URL"):
        build(data)


def canary_scenario(canary_error_rate: str) -> dict:
    data = one_service(duration="200s", rate=100, concurrency=50, latency={"constant": "5ms"})
    base = data["target_groups"][0]
    canary = json.loads(json.dumps(base))
    canary["name"] = "tg-canary"
    canary["targets"] = [{"id": "c-1", "az": "use1-az1", "concurrency": 50, "latency": {"constant": "5ms"},
                          "errors": {"rate": canary_error_rate, "status": 500}}]
    data["target_groups"].append(canary)
    data["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": "tg-main", "weight": 100}, {"target_group": "tg-canary", "weight": 0}]}
    data["canaries"] = [{"name": "release", "service": "svc", "primary": "tg-main", "canary": "tg-canary",
                         "start": "10s", "interval": "30s", "steps": [10, 25, 50],
                         "checks": {"success_rate": "99%", "p99": "50ms", "min_requests": 50}, "failure_limit": 1}]
    return data


def test_canary_controller_promotes_a_good_canary_on_schedule():
    s = run(canary_scenario("0%"))
    c = s["canary"][0]
    assert c["outcome"] == "promoted"
    assert [st["decision"] for st in c["steps"]] == ["start", "advance", "advance", "promote"]
    assert [st["t_ms"] for st in c["steps"]] == [10000, 40000, 70000, 100000]
    split = s["rules"]["svc/http/default"]["target_groups"]
    assert split["tg-canary"] > split["tg-main"]  # 100 % canary after 100 s of 200


def test_canary_controller_rolls_back_a_bad_canary():
    s = run(canary_scenario("20%"))
    c = s["canary"][0]
    assert c["outcome"] == "rolled_back"
    assert c["t_decision_ms"] == 40000
    assert c["steps"][-1]["weight"] == 0
    assert c["steps"][-1]["observed"]["success_rate"] < 0.99


def test_same_seed_same_json_and_different_seed_differs():
    from latsim.scenario import load_scenario
    from tests.conftest import ROOT
    a = simulate(load_scenario(ROOT / "scenarios" / "quickstart.yaml", overrides={"duration": "20s"})).to_json()
    b = simulate(load_scenario(ROOT / "scenarios" / "quickstart.yaml", overrides={"duration": "20s"})).to_json()
    c = simulate(load_scenario(ROOT / "scenarios" / "quickstart.yaml",
                               overrides={"duration": "20s", "seed": 43})).to_json()
    assert a == b
    assert a != c


def test_changing_one_client_does_not_move_another_clients_draws():
    other = {"name": "other", "vpc": "client-vpc", "az": "use1-az2", "url": "http://svc2.example.internal",
             "arrival": {"poisson": 30}, "timeout": "5s", "retries": {"max": 0}}
    data = one_service(rate=40, duration="30s", concurrency=50, extra_clients=[other])
    svc2 = json.loads(json.dumps(data["services"][0]))
    svc2.update(name="svc2", custom_domain="svc2.example.internal")
    svc2["listeners"][0]["default_action"] = {"forward": [{"target_group": "tg-two"}]}
    data["services"].append(svc2)
    data["service_networks"][0]["services"].append("svc2")
    tg2 = json.loads(json.dumps(data["target_groups"][0]))
    tg2["name"] = "tg-two"
    tg2["targets"][0]["id"] = "i-two"
    data["target_groups"].append(tg2)
    a = run(data)
    data["clients"][0]["arrival"] = {"poisson": 80}  # change the first client only
    b = run(data)
    assert a["clients"]["client"] != b["clients"]["client"]
    assert a["clients"]["other"] == b["clients"]["other"]
    assert a["target_groups"]["tg-two"] == b["target_groups"]["tg-two"]


def test_access_log_replay_reads_lattice_records(tmp_path):
    lines = [json.dumps({"startTime": f"2026-01-01T00:00:0{i // 3}Z", "requestMethod": "GET",
                         "requestPath": f"/p{i}"}) for i in range(9)]
    (tmp_path / "logs.jsonl").write_text("\n".join(lines) + "\n")
    data = one_service(duration="10s", concurrency=10)
    data["clients"][0]["arrival"] = {"replay": {"file": "logs.jsonl", "format": "access_log"}}
    from latsim.engine.simulation import Simulation
    s = Simulation(build(data), base_dir=str(tmp_path)).run().summary
    assert s["clients"]["client"]["requests"] == 9


def test_timeline_auth_policy_and_association_changes_apply_at_their_time():
    deny_all = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}
    data = one_service(rate=50, duration="60s", concurrency=10, timeline=[
        {"at": "20s", "set_auth_policy": {"service": "svc", "auth_type": "AWS_IAM", "policy": deny_all}},
        {"at": "40s", "disassociate_vpc": {"service_network": "net", "vpc": "client-vpc"}}])
    s = run(data)
    c = s["clients"]["client"]
    assert c["status"]["200"] > 800 and c["status"]["403"] > 800
    assert c["failures"]["dns_failure"] > 800


def test_recorders_keep_no_per_request_list():
    from latsim.engine.simulation import Simulation
    sizes = []
    for duration in ("30s", "300s"):
        sim = Simulation(build(one_service(rate=200, duration=duration, concurrency=10)))
        sim.run()
        dims = sim.rec.dims.values()
        buffered = sim.rec.buffered()
        buffered += sum(len(cs.stats.bh.buf) + len(cs.stats.attempt_bh.buf) for cs in sim.clients.values())
        rows = sum(len(r) for d in dims for r in d.rows.values())
        sizes.append((buffered, rows))
    (b30, rows30), (b300, rows300) = sizes
    assert b30 <= 4 * 4096 and b300 <= 4 * 4096  # bounded buffers, whatever the number of requests
    assert rows300 <= 10 * rows30 + 10  # per-minute rows grow with minutes only


def test_a_run_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    """Loading, compiling and building pause the cyclic collector and a run freezes what exists
    before it (latsim.gcpause); all of it is undone, whatever the caller's setting — also when
    the scenario is wrong."""
    import gc
    import json

    from latsim.compile import Topology
    from latsim.engine.simulation import Simulation
    from latsim.errors import ScenarioError
    from latsim.scenario import load_scenario
    data = one_service(rate=50, duration="5s")
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps(data))
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({**data, "duration": "five seconds"}))
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            scn = load_scenario(good)
            Topology(scn)
            Simulation(scn).run()
            try:
                load_scenario(bad)
            except ScenarioError:
                pass
            assert gc.isenabled() is enabled and gc.get_freeze_count() == 0
        finally:
            gc.enable()


def test_a_run_collects_young_objects_less_often_and_restores_the_thresholds():
    """While a run runs, the young generation's threshold is at least YOUNG_GC (what exists is
    frozen; the merged arrival windows are not walked again and again); the caller's thresholds
    come back after it, and a threshold of 0 (automatic collection off) stays off."""
    import gc

    from latsim.engine.simulation import YOUNG_GC, Simulation
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    try:
        for first in (700, 50_000, 0):
            gc.set_threshold(first, 11, 12)
            seen.clear()
            Simulation(build(one_service(rate=50, duration="5s")),
                       progress=lambda t, until, sim: seen.append(gc.get_threshold())).run()
            assert seen and set(seen) == {((max(first, YOUNG_GC) if first else 0), 11, 12)}
            assert gc.get_threshold() == (first, 11, 12)
    finally:
        gc.set_threshold(*before)
