"""The topology as a typed networkx graph, for drawing, path questions and notebooks.

Nodes are ``"<kind>:<name>"`` with attributes ``kind`` (account, vpc, security_group,
service_network, service, listener, rule, target_group, target, client), ``name`` and ``label``.
Edges carry ``kind``:

* ``ownership`` — account → VPC / service network / service / target group, VPC → security
  group, service → listener → rule, target group → target;
* ``placement`` — VPC → client, VPC → target group (where the thing sits);
* ``association`` — VPC → service network (``via`` = association or endpoint), service network →
  service;
* ``sharing`` — service network → account it is shared with through AWS RAM;
* ``forward`` — rule → target group (``weight``).

The graph is built from the model alone (no compile step), so it shows what the scenario
declares, including parts that would not route. ``topology`` builds it as a ``Graph`` of plain
dicts (what the topology figure reads: networkx's import alone was a third of that figure's cost);
``topology_graph`` is the same graph as a networkx ``DiGraph``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

NODE_KINDS = ("account", "vpc", "security_group", "service_network", "service", "listener", "rule",
              "target_group", "target", "client")
EDGE_KINDS = ("ownership", "placement", "association", "sharing", "forward")


def node_id(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class Graph:
    """A directed graph as networkx keeps one, without networkx: ``nodes`` (node -> attributes)
    and ``adj`` (node -> successor -> edge attributes), both in insertion order; adding a node
    or an edge again updates its attributes."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.adj: dict[str, dict[str, dict[str, Any]]] = {}

    def add_node(self, n: str, **attrs: Any) -> None:
        self.nodes.setdefault(n, {}).update(attrs)
        self.adj.setdefault(n, {})

    def add_edge(self, u: str, v: str, **attrs: Any) -> None:
        for n in (u, v):
            if n not in self.nodes:
                self.add_node(n)
        self.adj[u].setdefault(v, {}).update(attrs)

    def edges(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(u, v, attributes) in networkx's order: by node, then by successor."""
        return ((u, v, d) for u, succ in self.adj.items() for v, d in succ.items())


def topology_graph(scn: Any) -> nx.DiGraph:
    """Every noun of the scenario as a node, every relationship as a typed edge (networkx)."""
    import networkx as nx
    plain = topology(scn)
    g = nx.DiGraph(name=scn.name)
    g.add_nodes_from(plain.nodes.items())
    g.add_edges_from(plain.edges())
    return g


def topology(scn: Any) -> Graph:
    """Every noun of the scenario as a node, every relationship as a typed edge."""
    g = Graph()
    ix = scn.index

    def add(kind: str, name: str, **attrs: Any) -> str:
        n = node_id(kind, name)
        g.add_node(n, kind=kind, name=name, label=attrs.pop("label", name), **attrs)
        return n

    def acct(ref: str | None) -> str | None:
        if ref is None:
            return None
        a = ix.accounts.get(ref)
        return node_id("account", a.id) if a is not None else None

    for a in scn.accounts:
        add("account", a.id, label=a.name or a.id, account_id=a.id)
    for v in scn.vpcs:
        n = add("vpc", v.name, vpc_id=v.vpc_id, account=ix.account_id(v.account), azs=list(v.azs))
        if (owner := acct(v.account)) is not None:
            g.add_edge(owner, n, kind="ownership")
    for sg in scn.security_groups:
        n = add("security_group", sg.name, sg_id=sg.sg_id)
        if sg.vpc in ix.vpcs:
            g.add_edge(node_id("vpc", ix.vpcs[sg.vpc].name), n, kind="ownership")
    for sn in scn.service_networks:
        n = add("service_network", sn.name, sn_id=sn.sn_id, auth_type=sn.auth_type,
                account=ix.account_id(sn.account))
        if (owner := acct(sn.account)) is not None:
            g.add_edge(owner, n, kind="ownership")
        for share in sn.shared_with:
            if (other := acct(share)) is not None:
                g.add_edge(n, other, kind="sharing")
        for assoc in sn.vpc_associations:
            if assoc.vpc in ix.vpcs:
                g.add_edge(node_id("vpc", ix.vpcs[assoc.vpc].name), n, kind="association", via="association",
                           security_groups=list(assoc.security_groups))
    for v in scn.vpcs:
        for sn_name in v.service_network_endpoints:
            if sn_name in ix.service_networks:
                g.add_edge(node_id("vpc", v.name), node_id("service_network", sn_name), kind="association",
                           via="endpoint")
    for tg in scn.target_groups:
        n = add("target_group", tg.name, tg_id=tg.tg_id, type=tg.type, protocol=tg.effective_protocol,
                account=ix.tg_account(tg, scn))
        if (owner := acct(ix.tg_account(tg, scn))) is not None:
            g.add_edge(owner, n, kind="ownership")
        if tg.vpc and tg.vpc in ix.vpcs:
            g.add_edge(node_id("vpc", ix.vpcs[tg.vpc].name), n, kind="placement")
        for t in tg.targets:
            tn = add("target", f"{tg.name}/{t.id}", label=t.id, az=t.az)
            g.add_edge(n, tn, kind="ownership")
    for svc in scn.services:
        n = add("service", svc.name, service_id=svc.service_id, auth_type=svc.auth_type,
                account=ix.account_id(svc.account), custom_domain=svc.custom_domain)
        if (owner := acct(svc.account)) is not None:
            g.add_edge(owner, n, kind="ownership")
        for lst in svc.listeners:
            ln = add("listener", f"{svc.name}/{lst.listener_name}", label=lst.listener_name,
                     protocol=lst.protocol, port=lst.effective_port)
            g.add_edge(n, ln, kind="ownership")
            actions = [(r.name, r.priority, r.action) for r in lst.sorted_rules()]
            actions.append(("default", None, lst.default_action))
            for rule_name, priority, action in actions:
                rn = add("rule", f"{svc.name}/{lst.listener_name}/{rule_name}", label=rule_name, priority=priority,
                         fixed_response=action.fixed_response)
                g.add_edge(ln, rn, kind="ownership")
                for tg_name, weight in action.weights.items():
                    if tg_name in ix.target_groups:
                        g.add_edge(rn, node_id("target_group", tg_name), kind="forward", weight=weight)
    for sn in scn.service_networks:
        for svc_name in sn.services:
            if svc_name in ix.services:
                g.add_edge(node_id("service_network", sn.name), node_id("service", svc_name), kind="association")
    for c in scn.clients:
        n = add("client", c.name, az=c.az, url=c.url)
        if c.vpc in ix.vpcs:
            g.add_edge(node_id("vpc", ix.vpcs[c.vpc].name), n, kind="placement")
    return g


def service_forwards(g: Graph | nx.DiGraph) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(service node, target-group node) -> [(rule label, weight), ...] for every rule of every
    listener of the service that forwards to the group, in rule-priority order."""
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for svc in (n for n, d in g.nodes.items() if d.get("kind") == "service"):
        for lst in g.adj[svc]:
            if g.nodes[lst]["kind"] != "listener":
                continue
            for rule in g.adj[lst]:
                for tg, data in g.adj[rule].items():
                    if data.get("kind") == "forward":
                        out.setdefault((svc, tg), []).append((g.nodes[rule]["label"], int(data.get("weight") or 0)))
    return out


__all__ = ["EDGE_KINDS", "NODE_KINDS", "Graph", "node_id", "service_forwards", "topology", "topology_graph"]
