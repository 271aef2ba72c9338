"""Semantic validation: every Lattice constraint of docs/lattice.md §1-§5 and §9 that a single field
cannot check on its own (names, uniqueness, references, quotas, protocol combinations).

``check_scenario`` collects every problem and raises one ScenarioError holding them all; each
problem carries the raw key path (for file:line:col) and a readable dotted path with names.
Warnings and information (e.g. overlapping CIDRs) travel in the same list with a lower severity.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from latsim.errors import Location, Problem, ScenarioError, suggest
from latsim.model.network import LATTICE_PREFIX_LIST
from latsim.model.quotas import DEFAULT_QUOTAS

if TYPE_CHECKING:
    from latsim.model.scenario_fields import ScenarioFields

UNSUPPORTED_AZ_IDS = {"use1-az3", "usw1-az2", "apne1-az3", "apne2-az2", "euc1-az2", "euw1-az4",
                      "cac1-az3", "ilc1-az2"}
NAME_RE = re.compile(r"^(?!-)(?!.*--)[a-z0-9-]+(?<!-)$")
NAME_LIMITS = {"service network": (3, 63), "service": (3, 40), "listener": (3, 63), "rule": (3, 63),
               "target group": (3, 128)}


def readable_path(root: Any, keys: Iterable[str | int]) -> str:
    """('services', 0, 'listeners', 1, 'port') -> 'services.checkout.listeners.https.port'.

    List items are named by their ``name`` (else ``id``) when they have one, else by index;
    works on model objects and on plain dicts alike (the same address a sweep --param uses).
    """
    parts: list[str] = []
    node: Any = root
    for key in keys:
        if isinstance(key, int):
            label = str(key)
            item = None
            if isinstance(node, (list, tuple)) and 0 <= key < len(node):
                item = node[key]
            name = _item_name(item)
            if name is not None:
                label = name
            parts.append(label)
            node = item
        else:
            parts.append(str(key))
            node = _child(node, str(key))
    return ".".join(parts)


def _item_name(item: Any) -> str | None:
    for attr in ("name", "id"):
        value = item.get(attr) if isinstance(item, dict) else getattr(item, attr, None)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            if "." not in str(value) or attr == "id":
                return str(value)
    return None


def _child(node: Any, key: str) -> Any:
    if node is None:
        return None
    if isinstance(node, dict):
        return node.get(key)
    return getattr(node, key if key != "for" else "for_", None)


class Checker:
    """Collects problems for one scenario."""

    def __init__(self, scn: ScenarioFields, broken: dict[str, set[str]] | None = None) -> None:
        self.scn = scn
        self.ix = scn.index
        self.problems: list[Problem] = []
        self.broken = broken or {}

    def add(self, keys: tuple[str | int, ...], message: str, *, allowed: str | None = None,
            hint: str | None = None, severity: str = "error", code: str | None = None) -> None:
        loc = Location(path=readable_path(self.scn, keys), keys=keys)
        self.problems.append(Problem(message, loc, allowed=allowed, hint=hint, severity=severity, code=code))

    def ref(self, keys: tuple[str | int, ...], kind: str, name: str, known: Iterable[str],
            broken_kind: str | None = None) -> bool:
        """Check that ``name`` names an existing ``kind``; say what was meant if it does not."""
        if isinstance(known, (list, tuple, set, frozenset, dict)) and name in known:
            return True  # the common case, without a copy of ``known``
        known = list(known)
        if name in known:
            return True
        if name in self.broken.get(broken_kind or kind, set()):
            return False  # the item exists but had its own errors; don't cascade
        hint = suggest(name, known + sorted(self.broken.get(broken_kind or kind, set())))
        allowed = None if hint else (f"known: {', '.join(sorted(known)[:12])}" if known else f"no {kind} is defined")
        self.add(keys, f"unknown {kind} '{name}'", hint=hint, allowed=allowed, code="unknown-reference")
        return False

    def name_rule(self, keys: tuple[str | int, ...], kind: str, name: str) -> None:
        lo, hi = NAME_LIMITS[kind]
        if not (lo <= len(name) <= hi) or not NAME_RE.match(name):
            self.add(keys, f"{kind} name '{name}' is not valid",
                     allowed=f"{lo}-{hi} characters of a-z, 0-9 and '-', no leading, trailing or double '-'",
                     code="name")
        if kind == "service" and name.startswith("svc-"):
            self.add(keys, f"service name '{name}' may not start with 'svc-'", code="name")

    def unique(self, items: Iterable[tuple[tuple[str | int, ...], str]], kind: str) -> None:
        seen: dict[str, tuple[str | int, ...]] = {}
        for keys, name in items:
            if name in seen:
                self.add(keys, f"duplicate {kind} '{name}'", hint=f"first defined at {readable_path(self.scn, seen[name])}",
                         code="duplicate")
            else:
                seen[name] = keys

    def quota(self, keys: tuple[str | int, ...], name: str, count: int, what: str) -> None:
        limit = self.scn.quota(name)
        if count > limit:
            raised = " (raise it in the scenario's quotas: section)" if limit == DEFAULT_QUOTAS[name] else ""
            self.add(keys, f"{what}: {count} exceeds the quota {name} = {limit}{raised}", code=f"quota:{name}")


def check_scenario(scn: ScenarioFields, broken: dict[str, set[str]] | None = None) -> list[Problem]:
    """Run every semantic check; raise ScenarioError when any error is found, else return
    the warnings and information."""
    c = Checker(scn, broken)
    _accounts_vpcs(c)
    _security_groups(c)
    _service_networks(c)
    _services(c)
    _target_groups(c)
    _clients(c)
    _calls(c)
    _timeline(c)
    _canaries_slos(c)
    _region_quotas(c)
    _policies(c)
    _tls_passthrough_policies(c)
    if scn.warmup >= scn.duration:
        c.add(("warmup",), "warmup must be shorter than duration",
              allowed=f"less than {scn.duration:g}s", code="warmup")
    if any(p.severity == "error" for p in c.problems):
        raise ScenarioError(c.problems)
    object.__setattr__(scn, "__latsim_notes__", c.problems)
    return c.problems


def notes(scn: ScenarioFields) -> list[Problem]:
    """Warnings and information found when the scenario was validated."""
    return list(getattr(scn, "__latsim_notes__", []))


# --- sections -----------------------------------------------------------------------------

def _accounts_vpcs(c: Checker) -> None:
    scn = c.scn
    c.unique(((("accounts", i, "id"), a.id) for i, a in enumerate(scn.accounts)), "account id")
    c.unique(((("accounts", i, "name"), a.name) for i, a in enumerate(scn.accounts) if a.name), "account name")
    acct_names = [a.name for a in scn.accounts if a.name] + [a.id for a in scn.accounts]
    c.unique(((("vpcs", i, "name"), v.name) for i, v in enumerate(scn.vpcs)), "VPC")
    c.unique(((("vpcs", i, "id"), v.vpc_id) for i, v in enumerate(scn.vpcs)), "VPC id")
    for i, v in enumerate(scn.vpcs):
        c.ref(("vpcs", i, "account"), "account", v.account, acct_names)
        for j, az in enumerate(v.azs):
            if az in UNSUPPORTED_AZ_IDS:
                c.add(("vpcs", i, "azs", j), f"AZ {az} is not supported by VPC Lattice; clients there cannot use it",
                      severity="warning", code="unsupported-az")
        for j, sn in enumerate(v.service_network_endpoints):
            c.ref(("vpcs", i, "service_network_endpoints", j), "service network", sn,
                  [s.name for s in scn.service_networks])
    # Overlapping CIDRs are legal in Lattice: that is the point. Say so, as information, once per
    # group of overlapping ranges (ten VPCs in one CIDR are one note, not 45).
    nets = [(v, n) for v in scn.vpcs for n in v.networks()]
    group = list(range(len(nets)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i
    for a, b in _overlapping_pairs([n for _, n in nets]):
        if nets[a][0].name != nets[b][0].name:
            group[root(b)] = root(a)
    members: dict[int, list[int]] = {}
    for i in range(len(nets)):
        members.setdefault(root(i), []).append(i)
    for idx in members.values():
        if len({nets[i][0].name for i in idx}) < 2:
            continue
        cidrs = sorted({str(nets[i][1]) for i in idx})
        vpcs = ", ".join(dict.fromkeys(nets[i][0].name for i in idx))
        where = cidrs[0] if len(cidrs) == 1 else f"{', '.join(cidrs)} (overlapping)"
        c.add(("vpcs", scn.vpcs.index(nets[idx[1]][0]), "cidr"),
              f"{where}: used by VPCs {vpcs}; overlapping CIDRs are fine with Lattice, which exchanges no routes",
              severity="info", code="overlapping-cidr")


def _overlapping_pairs(nets: list[Any]) -> list[tuple[int, int]]:
    """Every pair (a, b), a < b, of overlapping networks (same IP version), in that order: a sweep
    over the address ranges sorted by start, not a test of every pair (500 VPCs: 125 000 tests)."""
    pairs: list[tuple[int, int]] = []
    order = sorted(range(len(nets)), key=lambda k: (nets[k].version, int(nets[k].network_address)))
    active: list[tuple[int, int, int]] = []  # (version, last address, index) of ranges not yet passed
    for k in order:
        n = nets[k]
        start = int(n.network_address)
        active = [x for x in active if x[0] == n.version and x[1] >= start]
        pairs.extend((min(j, k), max(j, k)) for _, _, j in active)
        active.append((n.version, int(n.broadcast_address), k))
    return sorted(pairs)


def _sg_peer_ok(c: Checker, peer: str) -> bool:
    if peer == LATTICE_PREFIX_LIST or peer.startswith("pl-") or peer.startswith("com.amazonaws."):
        return True
    if peer in c.ix.security_groups:
        return True
    try:
        ipaddress.ip_network(peer, strict=False)
        return True
    except ValueError:
        return False


def _security_groups(c: Checker) -> None:
    scn = c.scn
    c.unique(((("security_groups", i, "name"), sg.name) for i, sg in enumerate(scn.security_groups)), "security group")
    vpc_names = [v.name for v in scn.vpcs] + [v.vpc_id for v in scn.vpcs]
    for i, sg in enumerate(scn.security_groups):
        c.ref(("security_groups", i, "vpc"), "VPC", sg.vpc, vpc_names)
        for direction in ("ingress", "egress"):
            for j, rule in enumerate(getattr(sg, direction)):
                peer = rule.peer
                if not _sg_peer_ok(c, peer):
                    known = [s.name for s in scn.security_groups] + [LATTICE_PREFIX_LIST]
                    hint = suggest(peer, known)
                    c.add((("security_groups", i, direction, j, "source" if rule.source is not None else "destination")),
                          f"'{peer}' is not a CIDR, a security group or the Lattice prefix list",
                          allowed="a CIDR such as 10.0.0.0/16, a security group name or id, or 'vpc-lattice'",
                          hint=hint, code="sg-peer")


def _service_networks(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    acct_names = list(ix.accounts)
    c.unique(((("service_networks", i, "name"), sn.name) for i, sn in enumerate(scn.service_networks)),
             "service network")
    vpc_assoc: dict[str, tuple[str | int, ...]] = {}
    svc_names = [s.name for s in scn.services]
    for i, sn in enumerate(scn.service_networks):
        base: tuple[str | int, ...] = ("service_networks", i)
        c.name_rule(base + ("name",), "service network", sn.name)
        c.ref(base + ("account",), "account", sn.account, acct_names)
        sn_acct = ix.account_id(sn.account)
        shared = {ix.account_id(x) for x in sn.shared_with}
        for j, target in enumerate(sn.shared_with):
            if not (target in ix.accounts or target == "organization" or target.startswith("o-")
                    or target.startswith("ou-") or re.fullmatch(r"\d{12}", target)):
                c.ref(base + ("shared_with", j), "account", target, acct_names)
        c.quota(base + ("vpc_associations",), "vpc_associations_per_service_network", len(sn.vpc_associations),
                f"service network {sn.name} has {len(sn.vpc_associations)} VPC associations")
        c.quota(base + ("services",), "service_associations_per_service_network", len(sn.services),
                f"service network {sn.name} has {len(sn.services)} service associations")
        for j, assoc in enumerate(sn.vpc_associations):
            akeys = base + ("vpc_associations", j)
            if not c.ref(akeys + ("vpc",), "VPC", assoc.vpc, ix.vpcs, "VPC"):
                continue
            vpc = ix.vpcs[assoc.vpc]
            if vpc.name in vpc_assoc:
                c.add(akeys + ("vpc",), f"VPC {vpc.name} already has a service-network association "
                      f"({readable_path(scn, vpc_assoc[vpc.name])}); a VPC may have exactly one",
                      hint="reach more service networks with service_network_endpoints on the VPC",
                      code="one-association-per-vpc")
            else:
                vpc_assoc[vpc.name] = akeys
            vpc_acct = ix.account_id(vpc.account)
            if vpc_acct != sn_acct and not _shared_with(sn_acct, shared, vpc_acct, ix):
                c.add(akeys + ("vpc",), f"VPC {vpc.name} (account {vpc_acct}) is in another account than service "
                      f"network {sn.name} ({sn_acct}), which is not shared with it",
                      hint=f"add '{vpc.account}' to service_networks.{sn.name}.shared_with (AWS RAM)",
                      code="cross-account")
            limit = scn.quota("security_groups_per_vpc_association")
            if len(assoc.security_groups) > limit:
                c.add(akeys + ("security_groups",), f"{len(assoc.security_groups)} security groups on one VPC association",
                      allowed=f"at most {limit} (security_groups_per_vpc_association, not adjustable)",
                      code="quota:security_groups_per_vpc_association")
            for k, sg in enumerate(assoc.security_groups):
                if c.ref(akeys + ("security_groups", k), "security group", sg, ix.security_groups):
                    sg_vpc = ix.security_groups[sg].vpc
                    if ix.vpcs.get(sg_vpc) is not vpc:
                        c.add(akeys + ("security_groups", k),
                              f"security group {sg} belongs to VPC {sg_vpc}, not to the associated VPC {vpc.name}",
                              code="sg-vpc")
        domains: dict[str, str] = {}
        for j, svc_name in enumerate(sn.services):
            if not c.ref(base + ("services", j), "service", svc_name, svc_names):
                continue
            svc = ix.services[svc_name]
            svc_acct = ix.account_id(svc.account)
            if svc_acct != sn_acct and not _shared_with(sn_acct, shared, svc_acct, ix):
                c.add(base + ("services", j), f"service {svc.name} (account {svc_acct}) cannot join service network "
                      f"{sn.name} (account {sn_acct}): the network is not shared with that account",
                      hint=f"add '{svc.account}' to service_networks.{sn.name}.shared_with (AWS RAM)",
                      code="cross-account")
            if svc.custom_domain:
                dom = svc.custom_domain.lower()
                if dom in domains:
                    c.add(base + ("services", j), f"custom domain {dom} is used by {domains[dom]} and {svc.name} "
                          "in the same service network", allowed="unique within a service network",
                          code="domain-unique")
                domains[dom] = svc.name
        for dup, n in Counter(sn.services).items():
            if n > 1:
                c.add(base + ("services",), f"service {dup} is associated twice", code="duplicate")
    for i, v in enumerate(scn.vpcs):
        for j, sn_name in enumerate(v.service_network_endpoints):
            endpoint_sn = ix.service_networks.get(sn_name)
            if endpoint_sn is None:
                continue
            sn_acct = ix.account_id(endpoint_sn.account)
            vpc_acct = ix.account_id(v.account)
            shared = {ix.account_id(x) for x in endpoint_sn.shared_with}
            if vpc_acct != sn_acct and not _shared_with(sn_acct, shared, vpc_acct, ix):
                c.add(("vpcs", i, "service_network_endpoints", j),
                      f"service network {sn_name} is in account {sn_acct} and not shared with VPC {v.name}'s account",
                      code="cross-account")
    endpoints = Counter(sn for v in scn.vpcs for sn in v.service_network_endpoints)
    for sn_name, n in endpoints.items():
        counted = ix.service_networks.get(sn_name)
        if counted is not None:
            c.quota(("service_networks", scn.service_networks.index(counted)), "vpc_endpoints_per_service_network", n,
                    f"service network {sn_name} has {n} VPC endpoints")


def _shared_with(owner: str, shared: set[str], account: str, ix: Any) -> bool:
    if account == owner or account in shared:
        return True
    if "organization" in shared:
        return True
    acct = ix.accounts.get(account)
    return bool(acct and acct.org_id and acct.org_id in shared)


def _services(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    acct_names = list(ix.accounts)
    c.unique(((("services", i, "name"), s.name) for i, s in enumerate(scn.services)), "service")
    tg_names = [t.name for t in scn.target_groups]
    tg_users: dict[str, tuple[str, tuple[str | int, ...]]] = {}
    for i, svc in enumerate(scn.services):
        base: tuple[str | int, ...] = ("services", i)
        c.name_rule(base + ("name",), "service", svc.name)
        c.ref(base + ("account",), "account", svc.account, acct_names)
        if not (60 <= svc.idle_timeout <= 600):
            c.add(base + ("idle_timeout",), f"idle timeout {svc.idle_timeout:g}s is out of range", allowed="60s-600s")
        if svc.custom_domain and not re.fullmatch(r"(?=.{1,255}$)([a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?",
                                                  svc.custom_domain.lower()):
            c.add(base + ("custom_domain",), f"'{svc.custom_domain}' is not a valid domain name", code="domain")
        c.quota(base + ("listeners",), "listeners_per_service", len(svc.listeners),
                f"service {svc.name} has {len(svc.listeners)} listeners")
        if not svc.listeners:
            c.add(base, f"service {svc.name} has no listener; nothing can reach it", severity="warning",
                  code="no-listener")
        c.unique(((base + ("listeners", j, "name"), lst.listener_name) for j, lst in enumerate(svc.listeners)),
                 "listener")
        c.unique(((base + ("listeners", j, "port"), str(lst.effective_port)) for j, lst in enumerate(svc.listeners)),
                 "listener port")
        svc_tgs: set[str] = set()
        svc_acct = ix.account_id(svc.account)
        for j, lst in enumerate(svc.listeners):
            lkeys = base + ("listeners", j)
            if lst.name is not None:
                c.name_rule(lkeys + ("name",), "listener", lst.name)
            if lst.port is not None and not (1 <= lst.port <= 65535):
                c.add(lkeys + ("port",), f"port {lst.port} is out of range", allowed="1-65535")
            c.quota(lkeys + ("rules",), "rules_per_listener", len(lst.rules),
                    f"listener {lst.listener_name} has {len(lst.rules)} rules")
            c.unique(((lkeys + ("rules", k, "name"), r.name) for k, r in enumerate(lst.rules)), "rule")
            c.unique(((lkeys + ("rules", k, "priority"), str(r.priority)) for k, r in enumerate(lst.rules)),
                     "rule priority")
            if lst.protocol == "TLS_PASSTHROUGH":
                if not svc.custom_domain:
                    c.add(lkeys + ("protocol",), "a TLS_PASSTHROUGH listener needs the service to have a custom_domain "
                          "(it is the exact SNI match)", code="tls-passthrough")
                if lst.rules:
                    c.add(lkeys + ("rules",), "a TLS_PASSTHROUGH listener has only its default rule",
                          allowed="no rules", code="tls-passthrough")
                if lst.default_action.fixed_response is not None:
                    c.add(lkeys + ("default_action",), "a TLS_PASSTHROUGH listener must forward to TCP target groups",
                          code="tls-passthrough")
            actions: list[tuple[tuple[str | int, ...], Any]] = [(lkeys + ("default_action",), lst.default_action)]
            for k, r in enumerate(lst.rules):
                rkeys = lkeys + ("rules", k)
                c.name_rule(rkeys + ("name",), "rule", r.name)
                lo, hi = 1, 2000
                if not (lo <= r.priority <= hi):
                    c.add(rkeys + ("priority",), f"priority {r.priority} is out of range", allowed="1-2000",
                          code="priority")
                limit = scn.quota("header_matches_per_rule")
                if len(r.match.headers) > limit:
                    c.add(rkeys + ("match", "headers"), f"{len(r.match.headers)} header matches",
                          allowed=f"at most {limit} per rule", code="quota:header_matches_per_rule")
                actions.append((rkeys + ("action",), r.action))
            for akeys, action in actions:
                if action.fixed_response is not None and action.fixed_response not in (404, 500):
                    c.add(akeys + ("fixed_response",), f"fixed response {action.fixed_response} is not supported",
                          allowed="404 or 500", code="fixed-response")
                if action.forward is None:
                    continue
                limit = scn.quota("target_groups_per_forward_action")
                if not (1 <= len(action.forward) <= limit):
                    c.add(akeys + ("forward",), f"{len(action.forward)} target groups in one forward action",
                          allowed=f"1-{limit}", code="quota:target_groups_per_forward_action")
                if len(action.forward) > 1 and any(f.weight is None for f in action.forward):
                    k = next(n for n, f in enumerate(action.forward) if f.weight is None)
                    c.add(akeys + ("forward", k), "weights are required when a forward action has several target groups",
                          allowed="a weight 0-999 on every target group", code="weights")
                if len(action.forward) > 1 and all((f.weight or 0) == 0 for f in action.forward):
                    c.add(akeys + ("forward",), "every weight is 0: latsim answers such requests with "
                          f"{'a fixed 500' if scn.assumptions.all_zero_weights == 'fixed_500' else 'an equal split'} "
                          "(AWS does not document this; see assumptions.all_zero_weights)",
                          severity="warning", code="all-zero-weights")
                c.unique(((akeys + ("forward", k, "target_group"), f.target_group) for k, f in enumerate(action.forward)),
                         "target group in this forward action")
                for k, f in enumerate(action.forward):
                    fkeys = akeys + ("forward", k, "target_group")
                    if not c.ref(fkeys, "target group", f.target_group, tg_names):
                        continue
                    tg = ix.target_groups[f.target_group]
                    svc_tgs.add(tg.name)
                    _check_listener_tg(c, fkeys, svc, lst, tg, svc_acct)
                    prev = tg_users.get(tg.name)
                    if prev and prev[0] != svc.name:
                        c.add(fkeys, f"target group {tg.name} is already used by service {prev[0]}; a target group "
                              "may serve the listeners of one service only", code="tg-one-service")
                    else:
                        tg_users[tg.name] = (svc.name, fkeys)
        c.quota(base, "target_groups_per_service", len(svc_tgs), f"service {svc.name} uses {len(svc_tgs)} target groups")


def _check_listener_tg(c: Checker, keys: tuple[str | int, ...], svc: Any, lst: Any, tg: Any, svc_acct: str) -> None:
    tg_acct = c.ix.tg_account(tg, c.scn)
    if tg_acct is not None and tg_acct != svc_acct:
        c.add(keys, f"target group {tg.name} is in account {tg_acct} but service {svc.name} is in {svc_acct}",
              allowed="a target group must be in the same account as its service", code="tg-account")
    proto = tg.effective_protocol
    if lst.protocol == "TLS_PASSTHROUGH" and proto != "TCP":
        c.add(keys, f"a TLS_PASSTHROUGH listener forwards only to TCP target groups; {tg.name} is {proto}",
              code="tls-passthrough")
    if lst.protocol != "TLS_PASSTHROUGH" and proto == "TCP":
        c.add(keys, f"TCP target group {tg.name} can only be used by a TLS_PASSTHROUGH listener", code="tcp-tg")
    if tg.protocol_version in ("HTTP2", "GRPC") and lst.protocol != "HTTPS":
        c.add(keys, f"{tg.protocol_version} target group {tg.name} needs an HTTPS listener, not {lst.protocol}",
              code="protocol-version")


def _target_groups(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    c.unique(((("target_groups", i, "name"), tg.name) for i, tg in enumerate(scn.target_groups)), "target group")
    for i, tg in enumerate(scn.target_groups):
        base: tuple[str | int, ...] = ("target_groups", i)
        c.name_rule(base + ("name",), "target group", tg.name)
        if tg.account is not None:
            c.ref(base + ("account",), "account", tg.account, ix.accounts)
        vpc = None
        if tg.type in ("INSTANCE", "IP", "ALB"):
            if tg.vpc is None:
                c.add(base + ("vpc",), f"an {tg.type} target group needs a vpc", code="tg-vpc")
            elif c.ref(base + ("vpc",), "VPC", tg.vpc, ix.vpcs):
                vpc = ix.vpcs[tg.vpc]
        elif tg.vpc is not None:  # a LAMBDA function's VPC: where its calls to other services leave from
            c.ref(base + ("vpc",), "VPC", tg.vpc, list(ix.vpcs))
        if tg.type == "LAMBDA" and len(tg.targets) != 1:
            c.add(base + ("targets",), f"a LAMBDA target group has exactly one function target, not {len(tg.targets)}",
                  code="lambda-one-target")
        if tg.type == "ALB" and len(tg.targets) > 1:
            c.add(base + ("targets",), "an ALB target group has exactly one load balancer target", code="alb-one-target")
        if tg.protocol_version in ("HTTP2", "GRPC") and tg.type not in ("INSTANCE", "IP"):
            c.add(base + ("protocol_version",), f"{tg.protocol_version} target groups take INSTANCE or IP targets only",
                  code="protocol-version")
        if tg.effective_protocol == "TCP" and tg.type == "LAMBDA":
            c.add(base + ("protocol",), "TCP target groups do not take Lambda targets", code="tcp-tg")
        hc = tg.health_check
        if hc.enabled and tg.type in ("LAMBDA", "ALB"):
            c.add(base + ("health_check", "enabled"), f"health checks are not supported for {tg.type} target groups",
                  code="health-check")
        if tg.health_check_enabled and hc.timeout >= hc.interval:
            c.add(base + ("health_check", "timeout"), f"health-check timeout {hc.timeout:g}s is not shorter than its "
                  f"interval {hc.interval:g}s", severity="warning", code="health-check")
        c.quota(base + ("targets",), "targets_per_target_group", len(tg.targets),
                f"target group {tg.name} has {len(tg.targets)} targets")
        c.unique(((base + ("targets", j, "id"), t.id) for j, t in enumerate(tg.targets)), "target")
        for k, sg in enumerate(tg.security_groups):
            c.ref(base + ("security_groups", k), "security group", sg, ix.security_groups)
        for j, t in enumerate(tg.targets):
            _check_target(c, base + ("targets", j), tg, t, vpc)


def _check_target(c: Checker, keys: tuple[str | int, ...], tg: Any, t: Any, vpc: Any) -> None:
    if vpc is not None and t.az is not None and t.az not in vpc.azs:
        c.ref(keys + ("az",), "AZ of VPC " + vpc.name, t.az, vpc.azs)
    if tg.type == "IP" and vpc is not None:
        ip_text = t.ip or t.id
        try:
            ip = ipaddress.ip_address(ip_text)
        except ValueError:
            c.add(keys + ("id",), f"IP target '{ip_text}' is not an IP address", code="ip-target")
        else:
            want = 6 if tg.ip_address_type == "IPV6" else 4
            if ip.version != want:
                c.add(keys + ("id",), f"IP target {ip} is IPv{ip.version} but the target group is {tg.ip_address_type}",
                      code="ip-target")
            elif not any(ip in n for n in vpc.networks() if n.version == ip.version):
                c.add(keys + ("id",), f"IP target {ip} lies outside VPC {vpc.name}'s CIDR ({', '.join(vpc.cidr)})",
                      allowed="an address inside the target group's VPC", code="ip-target")
    if t.security_groups:
        for k, sg in enumerate(t.security_groups):
            c.ref(keys + ("security_groups", k), "security group", sg, c.ix.security_groups)
    if tg.type in ("INSTANCE", "IP", "ALB") and t.az is None and vpc is not None and len(vpc.azs) > 1:
        c.add(keys + ("az",), f"target {t.id} has no az; latsim places it in {vpc.azs[0]}", severity="info",
              code="target-az")


def _clients(c: Checker) -> None:
    from latsim.model.client import split_url
    scn, ix = c.scn, c.ix
    c.unique(((("clients", i, "name"), cl.name) for i, cl in enumerate(scn.clients)), "client")
    for i, cl in enumerate(scn.clients):
        base: tuple[str | int, ...] = ("clients", i)
        if c.ref(base + ("vpc",), "VPC", cl.vpc, ix.vpcs):
            vpc = ix.vpcs[cl.vpc]
            if cl.az not in vpc.azs:
                c.ref(base + ("az",), f"AZ of VPC {vpc.name}", cl.az, vpc.azs)
            if cl.source_ip:
                try:
                    ip = ipaddress.ip_address(cl.source_ip)
                    if not any(ip in n for n in vpc.networks() if n.version == ip.version):
                        c.add(base + ("source_ip",), f"{ip} is outside VPC {vpc.name}'s CIDR", code="source-ip")
                except ValueError:
                    c.add(base + ("source_ip",), f"'{cl.source_ip}' is not an IP address", code="source-ip")
        for k, sg in enumerate(cl.security_groups):
            c.ref(base + ("security_groups", k), "security group", sg, ix.security_groups)
        if cl.requests and sum(r.weight for r in cl.requests) <= 0:
            c.add(base + ("requests",), "the request mix has no positive weight", code="request-mix")
        known_hosts = _known_hosts(scn)
        urls: list[tuple[int | None, str]] = [(None, cl.url)]
        urls += [(n, r.url) for n, r in enumerate(cl.requests) if r.url]
        for where, url in urls:
            _, host, _, _ = split_url(url)
            if host not in known_hosts:
                keys = base + (("url",) if where is None else ("requests", where, "url"))
                c.add(keys, f"no service answers to host {host}: requests will fail DNS",
                      hint=suggest(host, known_hosts), severity="warning", code="unknown-host")
        if cl.arrival.replay is not None:
            pass  # resolved relative to the scenario file by the workload at run time


def _calls(c: Checker) -> None:
    """Call graphs: each call names a service latsim knows, leaves from a VPC, and no chain of
    calls leads back to the group that makes it."""
    from latsim.model.calls import walk_steps
    from latsim.model.client import split_url
    scn = c.scn
    known_hosts = _known_hosts(scn)
    for i, tg in enumerate(scn.target_groups):
        base: tuple[str | int, ...] = ("target_groups", i)
        steps = walk_steps(tg.calls)
        calls = [(keys, st) for keys, st in steps if st.call is not None]
        if tg.calls and any("latency" in t.model_fields_set for t in tg.targets):
            c.add(base + ("calls",), f"target group {tg.name} has calls: its targets' latency is not used (the "
                  "time at a target is the sum of its work steps and the calls it waits for)", severity="warning",
                  code="calls-latency")
        if calls and tg.vpc is None:
            what = ("a Lambda function outside every VPC cannot reach Lattice services" if tg.type == "LAMBDA"
                    else f"a {tg.type} target group needs a vpc to call other services")
            c.add(base + ("vpc",), f"{what}: target group {tg.name} makes calls but names no vpc",
                  hint="name the VPC its calls leave from (for a Lambda function: the VPC of its VPC config)",
                  code="calls-vpc")
        for keys, st in calls:
            _, host, _, _ = split_url(st.call or "")
            if host not in known_hosts:
                hint = suggest(host, known_hosts)
                c.add(base + ("calls",) + keys + ("call",), f"no service answers to host {host}", hint=hint,
                      allowed=None if hint else (f"a service's DNS name or custom domain: "
                                                 f"{', '.join(sorted(known_hosts)[:8])}" if known_hosts
                                                 else "no service is defined"), code="unknown-host")
        if tg.principal is not None and tg.principal.identity_policy is not None:
            from latsim.auth import parse_policy
            _parse_into(c, base + ("principal", "identity_policy"), tg.principal.identity_policy,
                        f"identity policy of {tg.name}", parse_policy, "identity")
    cycle = find_call_cycle(scn)
    if cycle is not None:
        path, where = cycle
        c.add(where, f"calls form a cycle: {path}; every request would call itself until a timeout",
              allowed="a call graph without cycles", code="call-cycle")


def call_edges(scn: ScenarioFields) -> dict[str, list[tuple[tuple[str | int, ...], str, set[str]]]]:
    """target group -> [(key path of the call step, service called, target groups it may forward to)].

    The groups a service may forward to are every group named in any of its forward actions or in a
    timeline weight change (a weight of 0 today may be raised later)."""
    from latsim.model.calls import walk_steps
    from latsim.model.client import split_url
    from latsim.model.naming import service_hosts
    hosts = service_hosts(scn)
    reach: dict[str, set[str]] = {}
    for s in scn.services:
        groups = reach.setdefault(s.name, set())
        for lst in s.listeners:
            for action in [lst.default_action] + [r.action for r in lst.rules]:
                groups.update(action.weights)
    for ev in scn.timeline:
        if ev.set_weights is not None:
            reach.setdefault(ev.set_weights.service, set()).update(ev.set_weights.weights)
    out: dict[str, list[tuple[tuple[str | int, ...], str, set[str]]]] = {}
    for i, tg in enumerate(scn.target_groups):
        for keys, st in walk_steps(tg.calls):
            if st.call is None:
                continue
            svc = hosts.get(split_url(st.call)[1])
            if svc is not None:
                out.setdefault(tg.name, []).append((("target_groups", i, "calls") + keys + ("call",), svc,
                                                    reach.get(svc, set())))
    return out


def find_call_cycle(scn: ScenarioFields) -> tuple[str, tuple[str | int, ...]] | None:
    """The first cycle of the call graph, as ``a-tg -> svc (svc-tg) -> ... -> a-tg``, with the key
    path of its first call; None without a cycle. Depth first over groups in scenario order."""
    edges = call_edges(scn)
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[tuple[str, tuple[str | int, ...] | None, str | None]] = []

    def visit(tg: str) -> tuple[str, tuple[str | int, ...]] | None:
        state[tg] = 1
        for keys, svc, groups in edges.get(tg, []):
            for nxt in sorted(groups):
                stack.append((tg, keys, svc))
                if state.get(nxt) == 1:
                    start = next(k for k, (g, _, _) in enumerate(stack) if g == nxt)
                    loop = stack[start:]
                    text = loop[0][0] + "".join(f" -> {s} ({g2})" for (_, _, s), g2 in
                                                zip(loop, [x[0] for x in loop[1:]] + [nxt], strict=True))
                    return text, loop[0][1] or ()
                if state.get(nxt) is None:
                    found = visit(nxt)
                    if found is not None:
                        return found
                stack.pop()
        state[tg] = 2
        return None

    for tg in scn.target_groups:
        if state.get(tg.name) is None:
            found = visit(tg.name)
            if found is not None:
                return found
    return None


def _known_hosts(scn: ScenarioFields) -> list[str]:
    cached = getattr(scn, "__latsim_hosts__", None)
    if cached is None:
        from latsim.model.naming import service_hosts
        cached = list(service_hosts(scn))
        object.__setattr__(scn, "__latsim_hosts__", cached)
    return list(cached)


def _timeline(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    azs = sorted({az for v in scn.vpcs for az in v.azs})
    targets = list(ix.targets)
    for i, ev in enumerate(scn.timeline):
        base: tuple[str | int, ...] = ("timeline", i)
        if ev.at > scn.duration:
            c.add(base + ("at",), f"event at {ev.at:g}s is after the end of the run ({scn.duration:g}s)",
                  severity="warning", code="late-event")
        kind = ev.kind
        body = getattr(ev, kind)
        if kind in ("fail_az", "recover_az"):
            c.ref(base + (kind,), "AZ", body, azs)
        elif kind in ("fail_targets", "recover_targets"):
            for k, t in enumerate(body):
                c.ref(base + (kind, k), "target", t, targets)
        elif kind == "set_weights":
            _check_rule_ref(c, base + (kind,), body.service, body.listener, body.rule)
            for tg in body.weights:
                c.ref(base + (kind, "weights", tg), "target group", tg, ix.target_groups)
            for tg, w in body.weights.items():
                if not (0 <= w <= 999):
                    c.add(base + (kind, "weights", tg), f"weight {w} is out of range", allowed="0-999")
        elif kind in ("inject_latency", "inject_errors"):
            if body.target_group is None and not body.targets:
                c.add(base + (kind,), f"{kind} needs a target_group or targets", code="timeline")
            if body.target_group is not None:
                c.ref(base + (kind, "target_group"), "target group", body.target_group, ix.target_groups)
            for k, t in enumerate(body.targets):
                c.ref(base + (kind, "targets", k), "target", t, targets)
        elif kind == "register_targets":
            c.ref(base + (kind, "target_group"), "target group", body.target_group, ix.target_groups)
        elif kind == "deregister_targets":
            if c.ref(base + (kind, "target_group"), "target group", body.target_group, ix.target_groups):
                ids = [t.id for t in ix.target_groups[body.target_group].targets]
                ids += [t.id for e in scn.timeline if e.register_targets is not None
                        and e.register_targets.target_group == body.target_group for t in e.register_targets.targets]
                for k, t in enumerate(body.targets):
                    c.ref(base + (kind, "targets", k), f"target of {body.target_group}", t, ids)
        elif kind == "set_auth_policy":
            if body.service is not None:
                c.ref(base + (kind, "service"), "service", body.service, ix.services)
            if body.service_network is not None:
                c.ref(base + (kind, "service_network"), "service network", body.service_network,
                      list(ix.service_networks))
        elif kind == "set_rate":
            c.ref(base + (kind, "client"), "client", body.client, ix.clients)
        elif kind in ("associate_vpc", "disassociate_vpc"):
            c.ref(base + (kind, "service_network"), "service network", body.service_network, ix.service_networks)
            c.ref(base + (kind, "vpc"), "VPC", body.vpc, ix.vpcs)


def _check_rule_ref(c: Checker, keys: tuple[str | int, ...], service: str, listener: str | None, rule: str) -> Any:
    ix = c.ix
    if not c.ref(keys + ("service",), "service", service, ix.services):
        return None
    svc = ix.services[service]
    if not svc.listeners:
        c.add(keys + ("service",), f"service {service} has no listener", code="timeline")
        return None
    if listener is None:
        if len(svc.listeners) > 1:
            c.add(keys, f"service {service} has {len(svc.listeners)} listeners: name one with 'listener'",
                  code="ambiguous-listener")
            return None
        lst = svc.listeners[0]
    else:
        names = [x.listener_name for x in svc.listeners]
        if not c.ref(keys + ("listener",), f"listener of {service}", listener, names):
            return None
        lst = svc.listeners[names.index(listener)]
    if rule == "default":
        return lst.default_action
    names = [r.name for r in lst.rules]
    if not c.ref(keys + ("rule",), f"rule of {service}/{lst.listener_name}", rule, names + ["default"]):
        return None
    return lst.rules[names.index(rule)].action


def _canaries_slos(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    c.unique(((("canaries", i, "name"), k.name) for i, k in enumerate(scn.canaries)), "canary")
    for i, can in enumerate(scn.canaries):
        base: tuple[str | int, ...] = ("canaries", i)
        action = _check_rule_ref(c, base, can.service, can.listener, can.rule)
        for role in ("primary", "canary"):
            tg = getattr(can, role)
            if c.ref(base + (role,), "target group", tg, ix.target_groups) and action is not None:
                if action.forward is None or tg not in action.weights:
                    c.add(base + (role,), f"target group {tg} is not in the forward action of rule {can.rule}",
                          hint="list both groups in the rule's forward action (the canary with weight 0)",
                          code="canary")
        if can.primary == can.canary:
            c.add(base + ("canary",), "primary and canary are the same target group", code="canary")
    for i, s in enumerate(scn.slo):
        kind, name = s.subject
        pools: dict[str, dict[str, Any]] = {"service": ix.services, "client": ix.clients,
                                            "target_group": ix.target_groups}
        c.ref(("slo", i, kind), kind.replace("_", " "), name, list(pools[kind]))


def _region_quotas(c: Checker) -> None:
    scn, ix = c.scn, c.ix
    per_acct: dict[str, Counter[str]] = defaultdict(Counter)
    for sn in scn.service_networks:
        per_acct[ix.account_id(sn.account)]["sn"] += 1
    for s in scn.services:
        per_acct[ix.account_id(s.account)]["svc"] += 1
    for tg in scn.target_groups:
        per_acct[ix.tg_account(tg, scn) or "?"]["tg"] += 1
    for acct, counts in per_acct.items():
        c.quota(("service_networks",), "service_networks_per_region", counts["sn"],
                f"account {acct} has {counts['sn']} service networks")
        c.quota(("services",), "services_per_region", counts["svc"], f"account {acct} has {counts['svc']} services")
        c.quota(("target_groups",), "target_groups_per_region", counts["tg"],
                f"account {acct} has {counts['tg']} target groups")


def _policies(c: Checker) -> None:
    from latsim.auth import parse_policy
    scn = c.scn
    owners: list[tuple[tuple[str | int, ...], str, Any, str]] = []
    owners += [(("service_networks", i), sn.auth_type, sn.auth_policy, f"service network {sn.name}")
               for i, sn in enumerate(scn.service_networks)]
    owners += [(("services", i), s.auth_type, s.auth_policy, f"service {s.name}") for i, s in enumerate(scn.services)]
    for keys, auth_type, policy, label in owners:
        if policy is not None:
            _parse_into(c, keys + ("auth_policy",), policy, label, parse_policy, "resource")
            if auth_type == "NONE":
                c.add(keys + ("auth_policy",), f"{label} has an auth policy but auth_type NONE: the policy is inactive",
                      severity="warning", code="inactive-policy")
        elif auth_type == "AWS_IAM":
            c.add(keys + ("auth_type",), f"{label} is AWS_IAM without an auth policy: every request is denied",
                  severity="warning", code="no-policy")
    for i, cl in enumerate(scn.clients):
        if cl.principal is not None and cl.principal.identity_policy is not None:
            _parse_into(c, ("clients", i, "principal", "identity_policy"), cl.principal.identity_policy,
                        f"identity policy of {cl.name}", parse_policy, "identity")
    for i, ev in enumerate(scn.timeline):
        if ev.set_auth_policy is not None and ev.set_auth_policy.policy is not None:
            _parse_into(c, ("timeline", i, "set_auth_policy", "policy"), ev.set_auth_policy.policy,
                        "timeline policy", parse_policy, "resource")


def _tls_passthrough_policies(c: Checker) -> None:
    """A TLS passthrough listener sees no HTTP and no identity: only ``Connect`` by anonymous
    callers can be allowed. Say so when a service's policy can never allow that."""
    from latsim.auth import CONNECT, parse_policy
    for i, svc in enumerate(c.scn.services):
        if svc.auth_type != "AWS_IAM" or svc.auth_policy is None:
            continue
        if not any(lst.protocol == "TLS_PASSTHROUGH" for lst in svc.listeners):
            continue
        try:
            policy = parse_policy(svc.auth_policy, source=f"service {svc.name}", kind="resource")
        except ScenarioError:
            continue  # reported by _policies
        if not any(st.effect == "Allow" and st.action_matches(CONNECT) for st in policy.statements):
            c.add(("services", i, "auth_policy"), f"service {svc.name} has a TLS_PASSTHROUGH listener but no "
                  "statement of its auth policy allows vpc-lattice-svcs:Connect: every connection will be denied",
                  hint="allow Action vpc-lattice-svcs:Connect for Principal '*' (passthrough callers are anonymous)",
                  severity="warning", code="tls-passthrough-auth")


def _parse_into(c: Checker, keys: tuple[str | int, ...], doc: Any, label: str, parse_policy: Any,
                kind: str) -> None:
    def where(rel: tuple[str | int, ...]) -> Location:
        full = keys + tuple(rel)
        return Location(path=readable_path(c.scn, keys) + ("." + ".".join(str(r) for r in rel) if rel else ""),
                        keys=full)
    try:
        policy = parse_policy(doc, where=where, source=label, kind=kind)
    except ScenarioError as exc:
        c.problems.extend(exc.all_problems)
        return
    for w in policy.warnings:
        c.problems.append(w if isinstance(w, Problem) else Problem(str(w), Location(path=readable_path(c.scn, keys),
                                                                               keys=keys), severity="warning"))
