"""The topology figure, drawn with matplotlib alone (no networkx): every node and edge of the
scenario is in the SVG (counted from the scenario itself, not from the drawing code), the layout
is deterministic and no two nodes overlap."""

from __future__ import annotations

import copy
import re
import sys
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from latsim.plots import plot_topology
from latsim.scenario import scenario_from_data
from tests.conftest import ROOT
from tests.test_report import DATA

SVG = "{http://www.w3.org/2000/svg}"


def zero_trust() -> dict[str, Any]:
    """zero-trust.yaml (IAM at both levels, denied pairs) with a VPC that reaches the service
    network through an endpoint and an association with a security group."""
    data = yaml.safe_load((ROOT / "scenarios" / "zero-trust.yaml").read_text())
    data["vpcs"].append({"name": "edge", "account": "apps", "cidr": "10.9.0.0/16", "azs": ["use1-az1"],
                         "service_network_endpoints": ["prod"]})
    data["security_groups"].append({"name": "lattice-clients", "vpc": "apps",
                                    "ingress": [{"protocol": "tcp", "ports": 443, "source": "10.0.0.0/16"}]})
    data["service_networks"][0]["vpc_associations"][0]["security_groups"] = ["lattice-clients"]
    data["clients"].append({**copy.deepcopy(data["clients"][0]), "name": "edge-reader", "vpc": "edge"})
    return data


def expected(data: dict[str, Any]) -> tuple[dict[str, set[str]], dict[str, int], int]:
    """What the figure must show, read off the scenario's data: node names per kind, edges per
    kind (associations through an endpoint apart) and how many of them are endpoints."""
    clients = {c["name"] for c in data["clients"]}
    assoc = [(a["vpc"], sn["name"]) for sn in data["service_networks"] for a in sn.get("vpc_associations", [])]
    endpoints = [(v["name"], sn) for v in data["vpcs"] for sn in v.get("service_network_endpoints", [])]
    client_vpcs = {c["vpc"] for c in data["clients"]}
    vpcs = client_vpcs | {v for v, _ in assoc + endpoints}  # a VPC holding only targets has no node
    forwards: set[tuple[str, str]] = set()
    for svc in data["services"]:
        for lst in svc["listeners"]:
            actions = [lst["default_action"]] + [r["action"] for r in lst.get("rules", [])]
            forwards |= {(svc["name"], f["target_group"]) for a in actions for f in a.get("forward", [])}
    nodes = {"client": clients, "vpc": vpcs, "service_network": {sn["name"] for sn in data["service_networks"]},
             "service": {s["name"] for s in data["services"]},
             "target_group": {tg["name"] for tg in data["target_groups"]}}
    edges = {"placement": len(clients), "association": len(assoc) + len(endpoints)
             + sum(len(sn.get("services", [])) for sn in data["service_networks"]), "forward": len(forwards)}
    return nodes, edges, len(endpoints)


def markers(g: ET.Element) -> list[tuple[float, float]]:
    """Centres of a marker collection's markers: each a <use> of one shape at (x, y), or (when
    the markers differ in colour) a <path> of its own, whose corners' box is centred on it."""
    out = []
    for m in g:
        if m.tag == f"{SVG}g":
            out += markers(m)
        elif m.tag == f"{SVG}use":
            out.append((float(m.get("x", "nan")), float(m.get("y", "nan"))))
        elif m.tag == f"{SVG}path":
            nums = [float(v) for v in re.findall(r"-?[0-9.]+", m.get("d", ""))]
            xs, ys = nums[0::2], nums[1::2]
            out.append(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    return out


def drawn(path: Path) -> tuple[dict[str, list[tuple[float, float]]], dict[str, int], list[str], ET.Element]:
    """Node marker positions per kind, arrows per edge kind and every text of the SVG."""
    root = ET.parse(path).getroot()
    nodes: dict[str, list[tuple[float, float]]] = {}
    edges: dict[str, int] = {}
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id", "")
        if gid.startswith("topology-nodes-"):
            nodes[gid.removeprefix("topology-nodes-")] = markers(g)
        elif gid.startswith("topology-edge-"):
            kind = gid.removeprefix("topology-edge-").rsplit("-", 1)[0]
            edges[kind] = edges.get(kind, 0) + 1
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    return nodes, edges, texts, root


@pytest.mark.parametrize("make", [zero_trust, lambda: copy.deepcopy(DATA)], ids=["zero-trust", "report-demo"])
def test_every_node_and_edge_of_the_scenario_is_drawn(make, tmp_path):
    data = make()
    want_nodes, want_edges, n_endpoints = expected(data)
    scn = scenario_from_data(copy.deepcopy(data))
    paths = plot_topology(None, scn, tmp_path / "topology")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    nodes, edges, texts, root = drawn(tmp_path / "topology.svg")
    assert {k: len(v) for k, v in nodes.items()} == {k: len(v) for k, v in want_nodes.items() if v}
    assert edges == {k: n for k, n in want_edges.items() if n}
    for name in set().union(*want_nodes.values()):
        assert name in texts, name  # each node's label, a text of its own line
    legend = set(texts)
    assert {"client", "VPC", "service network", "service", "target group", "association"} <= legend
    assert f"Topology of {data['name']}" in texts
    if n_endpoints:
        assert "SN endpoint" in legend
    if data["name"] == "zero-trust":
        rings = [g for g in root.iter(f"{SVG}g") if g.get("id") == "topology-auth-rings"]
        assert len(markers(rings[0])) == 2  # the network and the service: AWS_IAM
        assert "auth_type AWS_IAM" in legend and "SG lattice-clients" in texts
        assert any(t.startswith("denied (403): ") for t in texts)
        assert sum(t.startswith("403 ") for t in texts) >= 2  # each denied pair's arc says who says no
    else:
        assert "(in pay)" in texts  # the targets' VPC under each target group, not a node of its own
        assert "api 100, default 0" not in texts and "api 100" in texts  # rule and weight on the edge


@pytest.mark.parametrize("make", [zero_trust, lambda: copy.deepcopy(DATA)], ids=["zero-trust", "report-demo"])
def test_the_topology_is_deterministic_and_its_nodes_do_not_overlap(make, tmp_path):
    scn = scenario_from_data(make())
    first = [p.read_bytes() for p in plot_topology(None, scn, tmp_path / "a" / "topology")]
    second = [p.read_bytes() for p in plot_topology(None, scn, tmp_path / "b" / "topology")]
    assert first == second
    nodes, _, _, _ = drawn(tmp_path / "a" / "topology.svg")
    points = [p for ps in nodes.values() for p in ps]
    # markers of 900 points^2 (30 points across) at 100 dpi: 42 px; centres at least that far apart
    size = 900 ** 0.5 * 100 / 72
    for (x0, y0), (x1, y1) in combinations(points, 2):
        assert ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 >= size, ((x0, y0), (x1, y1))


def test_drawing_the_topology_does_not_import_networkx(tmp_path):
    import subprocess
    code = ("import sys, copy; from latsim.plots import plot_topology; from latsim.scenario import scenario_from_data; "
            "from tests.test_report import DATA; import pathlib; "
            f"plot_topology(None, scenario_from_data(copy.deepcopy(DATA)), pathlib.Path({str(tmp_path)!r}) / 't'); "
            "print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
