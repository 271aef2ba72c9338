"""Import a VPC Lattice topology from AWS: a live account (boto3, read-only) or a folder of saved
AWS CLI JSON outputs.

Both paths work the same way. Every API response goes into one ``Inventory`` through
``absorb`` (keyed by the operation that produced it, in AWS CLI spelling such as
``get-listener``), and one function, ``map_inventory``, tells the importers' one
``common.ScenarioBuilder`` what the inventory holds (so an object gets the name it gets from a
template of it), which gives a plain, scenario-shaped dict: accounts, VPCs (CIDRs, AZ ids from their subnets), security groups,
service networks (auth type and policy, RAM shares, VPC associations with their security groups,
service associations), services (custom domain, auth, tags, listeners, rules), target groups
(config, health check, targets with their AZ) and access-log subscriptions.

The live importer calls only ``Get*``, ``List*`` and ``Describe*`` operations, with pagination;
nothing is created, changed or deleted, and nothing from the account is executed.

Folder convention (``latsim import aws-json DIR``)
--------------------------------------------------
Every ``*.json`` file under ``DIR`` (sub-folders too, e.g. one per account) is the output of one
AWS CLI command, named ``<command>[--<identifier>...].json``::

    list-service-networks.json                     aws vpc-lattice list-service-networks
    get-service-network--<sn-id>.json              aws vpc-lattice get-service-network --service-network-identifier <sn-id>
    list-service-network-vpc-associations--<sn-id>.json
    get-service-network-vpc-association--<snva-id>.json      (carries the association's security groups)
    list-service-network-service-associations--<sn-id>.json
    list-service-network-vpc-endpoint-associations--<sn-id>.json
    list-services.json, get-service--<svc-id>.json
    list-listeners--<svc-id>.json, get-listener--<svc-id>--<listener-id>.json
    list-rules--<svc-id>--<listener-id>.json, get-rule--<svc-id>--<listener-id>--<rule-id>.json
    list-target-groups.json, get-target-group--<tg-id>.json
    list-targets--<tg-id>.json                     identifier required: the output does not name the group
    get-auth-policy--<sn-id|svc-id>.json           identifier required
    list-tags-for-resource--<svc-id>.json          identifier required
    list-access-log-subscriptions--<id>.json
    describe-vpcs.json, describe-subnets.json, describe-security-groups.json, describe-instances.json
    get-resource-shares.json, get-resource-share-associations--principal.json, ...--resource.json  (RAM)

Identifiers that the output carries itself (in ARNs or ids) may be left out of the name; any other
suffix is a free label (``describe-vpcs--222222222222.json``). A file whose name is not a known
command is recognised by its content when that is unambiguous (``Vpcs``, ``Subnets``,
``SecurityGroups``, ``Reservations``, ``resourceShares``, ``resourceShareAssociations``, or
``items`` whose ARNs name the resource type); otherwise it is skipped with a warning. Every file
is checked against botocore's output shape for its operation (required members present, types
fit); a mismatch is an error located at ``FILE:LINE:COL``.

What is not mapped is said: resources in a failed or deleting state, targets that are draining,
security-group rules naming groups latsim cannot see, VPCs that were not described (a placeholder
is added) and the generated service DNS names (latsim derives its own; see the warnings).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latsim.errors import LatsimError, Location, Problem, ScenarioError
from latsim.importers.common import (
    DEFAULT_REGION,
    ImportResult,
    ScenarioBuilder,
    lattice_arn_ids,
    share_principal,
    slug,
)
from latsim.scenario import (
    Positions,
    parse_document,
    read_text,
)

Keys = tuple[str | int, ...]
Locator = Callable[[Keys], Location]
MAX_FILES = 20_000

# ---------------------------------------------------------------------------------------------
# The inventory: API responses, merged by resource id
# ---------------------------------------------------------------------------------------------

@dataclass
class Rec:
    """One API object (a summary, or a Get* response merged over it) and where it came from."""

    data: dict[str, Any]
    where: Location


@dataclass
class Inventory:
    """Everything read from AWS, keyed by resource id, before it is mapped to a scenario."""

    service_networks: dict[str, Rec] = field(default_factory=dict)
    services: dict[str, Rec] = field(default_factory=dict)
    listeners: dict[str, dict[str, Rec]] = field(default_factory=dict)          # svc id -> listener id
    rules: dict[tuple[str, str], dict[str, Rec]] = field(default_factory=dict)  # (svc, listener) -> rule id
    target_groups: dict[str, Rec] = field(default_factory=dict)
    targets: dict[str, list[Rec]] = field(default_factory=dict)                 # tg id -> targets
    vpc_associations: dict[str, Rec] = field(default_factory=dict)
    service_associations: dict[str, Rec] = field(default_factory=dict)
    endpoint_associations: dict[str, Rec] = field(default_factory=dict)
    auth_policies: dict[str, Rec] = field(default_factory=dict)                 # sn/svc id -> policy
    tags: dict[str, dict[str, str]] = field(default_factory=dict)               # resource id -> tags
    access_logs: dict[str, Rec] = field(default_factory=dict)
    vpcs: dict[str, Rec] = field(default_factory=dict)
    subnets: dict[str, Rec] = field(default_factory=dict)
    security_groups: dict[str, Rec] = field(default_factory=dict)
    instances: dict[str, Rec] = field(default_factory=dict)
    share_resources: dict[str, set[str]] = field(default_factory=dict)         # share arn -> resource arns
    share_principals: dict[str, set[str]] = field(default_factory=dict)        # share arn -> principals
    inactive_shares: set[str] = field(default_factory=set)
    warnings: list[Problem] = field(default_factory=list)
    region: str | None = None


def _ident(value: Any) -> str | None:
    """An identifier or ARN -> the id (last path segment)."""
    if not isinstance(value, str) or not value:
        return None
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _merge(table: dict[str, Rec], key: str | None, data: dict[str, Any], where: Location) -> None:
    if not key:
        return
    old = table.get(key)
    if old is None:
        table[key] = Rec(dict(data), where)
    else:
        table[key] = Rec({**old.data, **data}, where)


def _items(resp: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = resp.get(key)
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def absorb(inv: Inventory, op: str, resp: dict[str, Any], ctx: dict[str, str], loc: Locator) -> None:
    """Put one API response (``op`` in AWS CLI spelling) into the inventory.

    ``ctx`` carries identifiers the response does not name itself (the target group of
    ``list-targets``, the resource of ``get-auth-policy``); ``loc`` locates a key path."""
    if op in ("list-service-networks",):
        for i, it in _items(resp, "items"):
            _merge(inv.service_networks, it.get("id"), it, loc(("items", i)))
    elif op == "get-service-network":
        _merge(inv.service_networks, resp.get("id") or ctx.get("sn"), resp, loc(()))
    elif op == "list-services":
        for i, it in _items(resp, "items"):
            _merge(inv.services, it.get("id"), it, loc(("items", i)))
    elif op == "get-service":
        _merge(inv.services, resp.get("id") or ctx.get("svc"), resp, loc(()))
    elif op in ("list-listeners", "get-listener"):
        entries = _items(resp, "items") if op == "list-listeners" else [(-1, resp)]
        for i, it in entries:
            parts = lattice_arn_ids(it.get("arn"))
            svc = it.get("serviceId") or parts.get("svc") or ctx.get("svc")
            lid = it.get("id") or parts.get("listener") or ctx.get("listener")
            if not svc or not lid:
                inv.warnings.append(_warn(f"{op}: cannot tell which service this listener belongs to; skipped",
                                          loc(("items", i) if i >= 0 else ()),
                                          hint="name the file <command>--<svc-id>.json"))
                continue
            _merge(inv.listeners.setdefault(svc, {}), lid, it, loc(("items", i) if i >= 0 else ()))
    elif op in ("list-rules", "get-rule"):
        entries = _items(resp, "items") if op == "list-rules" else [(-1, resp)]
        for i, it in entries:
            parts = lattice_arn_ids(it.get("arn"))
            svc = ctx.get("svc") or parts.get("svc")
            lid = ctx.get("listener") or parts.get("listener")
            rid = it.get("id") or parts.get("rule") or ctx.get("rule")
            where = loc(("items", i) if i >= 0 else ())
            if not svc or not lid or not rid:
                inv.warnings.append(_warn(f"{op}: cannot tell which listener this rule belongs to; skipped", where,
                                          hint="name the file <command>--<svc-id>--<listener-id>.json"))
                continue
            _merge(inv.rules.setdefault((svc, lid), {}), rid, it, where)
    elif op == "list-target-groups":
        for i, it in _items(resp, "items"):
            _merge(inv.target_groups, it.get("id"), it, loc(("items", i)))
    elif op == "get-target-group":
        _merge(inv.target_groups, resp.get("id") or ctx.get("tg"), resp, loc(()))
    elif op == "list-targets":
        tg = ctx.get("tg")
        if not tg:
            inv.warnings.append(_warn("list-targets output does not name its target group; skipped", loc(()),
                                      hint="name the file list-targets--<tg-id>.json"))
            return
        inv.targets[tg] = [Rec(it, loc(("items", i))) for i, it in _items(resp, "items")]
    elif op in ("list-service-network-vpc-associations", "get-service-network-vpc-association"):
        entries = _items(resp, "items") if op.startswith("list") else [(-1, resp)]
        for i, it in entries:
            _merge(inv.vpc_associations, it.get("id"), it, loc(("items", i) if i >= 0 else ()))
    elif op in ("list-service-network-service-associations", "get-service-network-service-association"):
        entries = _items(resp, "items") if op.startswith("list") else [(-1, resp)]
        for i, it in entries:
            _merge(inv.service_associations, it.get("id"), it, loc(("items", i) if i >= 0 else ()))
    elif op == "list-service-network-vpc-endpoint-associations":
        for i, it in _items(resp, "items"):
            sn = lattice_arn_ids(it.get("serviceNetworkArn")).get("sn") or ctx.get("sn")
            _merge(inv.endpoint_associations, it.get("id") or it.get("vpcEndpointId"), {**it, "_sn": sn},
                   loc(("items", i)))
    elif op == "get-auth-policy":
        res = _ident(ctx.get("resource"))
        if not res:
            inv.warnings.append(_warn("get-auth-policy output does not name its service or service network; "
                                      "skipped", loc(()), hint="name the file get-auth-policy--<sn-or-svc-id>.json"))
            return
        inv.auth_policies[res] = Rec(resp, loc(()))
    elif op == "list-tags-for-resource":
        res = _ident(ctx.get("resource"))
        tags = resp.get("tags")
        if res and isinstance(tags, dict):
            inv.tags[res] = {str(k): str(v) for k, v in tags.items()}
        elif not res:
            inv.warnings.append(_warn("list-tags-for-resource output does not name its resource; skipped", loc(()),
                                      hint="name the file list-tags-for-resource--<id>.json"))
    elif op == "list-access-log-subscriptions":
        for i, it in _items(resp, "items"):
            _merge(inv.access_logs, it.get("id") or it.get("arn"), it, loc(("items", i)))
    elif op == "describe-vpcs":
        for i, it in _items(resp, "Vpcs"):
            _merge(inv.vpcs, it.get("VpcId"), it, loc(("Vpcs", i)))
    elif op == "describe-subnets":
        for i, it in _items(resp, "Subnets"):
            _merge(inv.subnets, it.get("SubnetId"), it, loc(("Subnets", i)))
    elif op == "describe-security-groups":
        for i, it in _items(resp, "SecurityGroups"):
            _merge(inv.security_groups, it.get("GroupId"), it, loc(("SecurityGroups", i)))
    elif op == "describe-instances":
        for i, reservation in _items(resp, "Reservations"):
            for j, it in _items(reservation, "Instances"):
                _merge(inv.instances, it.get("InstanceId"), it, loc(("Reservations", i, "Instances", j)))
    elif op == "get-resource-shares":
        for _, it in _items(resp, "resourceShares"):
            if it.get("status") not in (None, "ACTIVE") and isinstance(it.get("resourceShareArn"), str):
                inv.inactive_shares.add(it["resourceShareArn"])
    elif op == "get-resource-share-associations":
        for _, it in _items(resp, "resourceShareAssociations"):
            share, entity = it.get("resourceShareArn"), it.get("associatedEntity")
            if not isinstance(share, str) or not isinstance(entity, str):
                continue
            if it.get("status") not in (None, "ASSOCIATED", "ASSOCIATING"):
                continue
            table = inv.share_resources if it.get("associationType") == "RESOURCE" else inv.share_principals
            table.setdefault(share, set()).add(entity)


def _locator(pos: Positions) -> Locator:
    """Locate key paths of one parsed file."""
    def locate(keys: Keys) -> Location:
        return pos.locate(keys)
    return locate


def _fixed(where: Location) -> Locator:
    """Every key path of a live response has the same location: the call that returned it."""
    def locate(_keys: Keys) -> Location:
        return where
    return locate


def _warn(message: str, where: Location, *, hint: str | None = None, severity: str = "warning",
          code: str = "import") -> Problem:
    return Problem(message, where, hint=hint, severity=severity, code=code)


# ---------------------------------------------------------------------------------------------
# Mapping the inventory to a scenario, through the importers' one builder
# ---------------------------------------------------------------------------------------------

_LIVE_STATES = {None, "ACTIVE", "UPDATE_IN_PROGRESS", "UPDATE_FAILED"}


def _tag(tags: Any, key: str) -> str | None:
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and t.get("Key") == key and isinstance(t.get("Value"), str):
                return t["Value"]
    return None


def _tags_dict(tags: Any) -> dict[str, str]:
    if not isinstance(tags, list):
        return {}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags
            if isinstance(t, dict) and isinstance(t.get("Key"), str) and not t["Key"].startswith("aws:")}


def _config(d: dict[str, Any]) -> dict[str, Any]:
    cfg = d.get("config")
    return cfg if isinstance(cfg, dict) else {}


class _Mapper:
    """One pass from an Inventory to a ``ScenarioBuilder``: the builder names every object (the
    importers' one naming scheme) and resolves the references; this class says what AWS reports
    and warns about what it leaves out."""

    def __init__(self, inv: Inventory, name: str, description: str | None) -> None:
        self.inv = inv
        self.b = ScenarioBuilder(name=name, region=inv.region or DEFAULT_REGION, description=description)
        self.b.problems.extend(inv.warnings)
        self.tgs: set[str] = set()            # ids of the imported target groups
        self.svcs: dict[str, str] = {}        # imported service id -> its account
        self.sns: dict[str, str] = {}         # imported service network id -> its account
        self.vpcs: dict[str, str] = {}        # imported VPC id -> its account
        self.labels: dict[str, str] = {}      # service / service network id -> AWS name (for messages)

    def warn(self, message: str, where: Location, *, severity: str = "warning", hint: str | None = None) -> None:
        self.b.warn(message, where, code="import", severity=severity, hint=hint)

    def account_of(self, arn: Any, fallback: str = "000000000000") -> str:
        return self.b.account(lattice_arn_ids(arn).get("account") or fallback)

    # -- run ------------------------------------------------------------------------------------
    def run(self) -> ScenarioBuilder:
        inv = self.inv
        for acct in sorted({p["account"] for r in (*inv.service_networks.values(), *inv.services.values(),
                                                   *inv.target_groups.values())
                            if (p := lattice_arn_ids(r.data.get("arn"))).get("account")}):
            self.b.account(acct)
        live_tgs = {k: r for k, r in sorted(inv.target_groups.items()) if self._tg_alive(r)}
        live_svcs = {k: r for k, r in sorted(inv.services.items()) if self._alive(r, "service")}
        live_sns = dict(sorted(inv.service_networks.items()))
        self._vpcs(self._referenced_vpcs(live_tgs, live_sns))
        self._security_groups()
        self._instances()
        for tgid, rec in live_tgs.items():
            self._target_group(tgid, rec)
        for sid, rec in live_svcs.items():
            self._service(sid, rec)
        for snid, rec in live_sns.items():
            self._service_network(snid, rec)
        self._shares()
        self._endpoints()
        self._access_logs()
        return self.b

    def _alive(self, rec: Rec, kind: str) -> bool:
        status = rec.data.get("status")
        if status in _LIVE_STATES:
            return True
        self.warn(f"{kind} {rec.data.get('name') or rec.data.get('id')} is {status}; it is left out", rec.where,
                  severity="info")
        return False

    def _tg_alive(self, rec: Rec) -> bool:
        return rec.data.get("status") in (None, "ACTIVE", "CREATE_IN_PROGRESS") or self._alive(rec, "target group")

    # -- VPCs, subnets, security groups, instances ------------------------------------------------
    def _referenced_vpcs(self, tgs: dict[str, Rec], sns: dict[str, Rec]) -> list[str]:
        ids: set[str] = set()
        for a in self.inv.vpc_associations.values():
            if isinstance(a.data.get("vpcId"), str) and a.data.get("status") in _LIVE_STATES | {"CREATE_IN_PROGRESS"}:
                ids.add(a.data["vpcId"])
        for r in tgs.values():
            vid = _config(r.data).get("vpcIdentifier") or r.data.get("vpcIdentifier")
            if isinstance(vid, str):
                ids.add(vid)
        for e in self.inv.endpoint_associations.values():
            if isinstance(e.data.get("vpcId"), str) and e.data.get("_sn") in sns:
                ids.add(e.data["vpcId"])
        skipped = sorted(set(self.inv.vpcs) - ids)
        if skipped:
            self.warn(f"described VPC(s) {', '.join(skipped)} take no part in Lattice here (no association, endpoint "
                      "or target group) and are left out; add them in an overlay to place clients there",
                      self.inv.vpcs[skipped[0]].where, severity="info")
        return sorted(ids)

    def _vpcs(self, vpc_ids: list[str]) -> None:
        b = self.b
        for vid in vpc_ids:
            rec = self.inv.vpcs.get(vid)
            if rec is None:
                self._placeholder_vpc(vid)
                continue
            d = rec.data
            acct = b.account(str(d.get("OwnerId") or "000000000000"))
            self.vpcs[vid] = acct
            cidrs = [d["CidrBlock"]] if isinstance(d.get("CidrBlock"), str) else []
            for a in d.get("CidrBlockAssociationSet") or []:
                c = a.get("CidrBlock") if isinstance(a, dict) else None
                state = (a.get("CidrBlockState") or {}).get("State") if isinstance(a, dict) else None
                if isinstance(c, str) and c not in cidrs and state in (None, "associated"):
                    cidrs.append(c)
            for a in d.get("Ipv6CidrBlockAssociationSet") or []:
                c = a.get("Ipv6CidrBlock") if isinstance(a, dict) else None
                if isinstance(c, str) and c not in cidrs:
                    cidrs.append(c)
            b.vpc(vid, loc=rec.where, account=acct, name=_tag(d.get("Tags"), "Name"), id=vid, cidrs=cidrs,
                  tags=_tags_dict(d.get("Tags")))
            subnets = [s for s in self.inv.subnets.values() if s.data.get("VpcId") == vid]
            # (no subnet: the builder places the VPC where its targets are, else in the region's first AZ, and says so)
            # AZ ids in order, so that the VPC's AZ list does not depend on the subnet ids
            for s in sorted(subnets, key=lambda s: (str(s.data.get("AvailabilityZoneId")), str(s.data.get("SubnetId")))):
                b.subnet(str(s.data.get("SubnetId")), loc=s.where, vpc=vid, id=s.data.get("SubnetId"),
                         cidr=s.data.get("CidrBlock"), az=s.data.get("AvailabilityZoneId"))

    def _placeholder_vpc(self, vid: str) -> None:
        # A VPC of another account (or one not described): keep the references valid, say so.
        owner = None
        for a in self.inv.vpc_associations.values():
            if a.data.get("vpcId") == vid and isinstance(a.data.get("createdBy"), str):
                owner = a.data["createdBy"] if re.fullmatch(r"\d{12}", a.data["createdBy"]) else None
        for e in self.inv.endpoint_associations.values():
            if e.data.get("vpcId") == vid and isinstance(e.data.get("vpcEndpointOwnerId"), str):
                owner = e.data["vpcEndpointOwnerId"]
        acct = self.b.account(owner or next(iter(sorted(self.b._accounts)), "000000000000"))
        self.vpcs[vid] = acct
        where = Location(path=f"vpcs.{vid}")
        fact = self.b.vpc(vid, loc=where, account=acct, id=vid)
        fact.attrs["placeholder"] = True  # the builder guesses its CIDR from its IP targets
        self.warn(f"VPC {vid} is referenced but was not described (another account?); latsim adds a placeholder "
                  f"owned by {acct} (its CIDR and AZs are guessed)", where,
                  hint="describe it (describe-vpcs, describe-subnets) or override it in an overlay")

    def _security_groups(self) -> None:
        b = self.b
        for gid, r in sorted(self.inv.security_groups.items()):
            d = r.data
            if d.get("VpcId") not in self.vpcs:
                continue
            b.security_group(gid, loc=r.where, vpc=d["VpcId"], name=d.get("GroupName") or gid, id=gid,
                             description=d.get("Description"), default_egress=False)
            for direction, perms in (("ingress", d.get("IpPermissions")), ("egress", d.get("IpPermissionsEgress"))):
                self._sg_rules(gid, direction, perms, r.where)

    def _sg_rules(self, gid: str, direction: str, perms: Any, where: Location) -> None:
        for perm in perms or []:
            if not isinstance(perm, dict):
                continue
            common: dict[str, Any] = {"loc": where, "protocol": str(perm.get("IpProtocol", "-1")),
                                      "from_port": perm.get("FromPort"), "to_port": perm.get("ToPort")}
            for r in perm.get("IpRanges") or []:
                if isinstance(r, dict) and isinstance(r.get("CidrIp"), str):
                    self.b.sg_rule(gid, direction, cidr=r["CidrIp"], description=r.get("Description"), **common)
            for r in perm.get("Ipv6Ranges") or []:
                if isinstance(r, dict) and isinstance(r.get("CidrIpv6"), str):
                    self.b.sg_rule(gid, direction, cidr=r["CidrIpv6"], description=r.get("Description"), **common)
            for r in perm.get("PrefixListIds") or []:
                if isinstance(r, dict) and isinstance(r.get("PrefixListId"), str):
                    self.b.sg_rule(gid, direction, prefix_list=r["PrefixListId"], description=r.get("Description"),
                                   **common)
            for r in perm.get("UserIdGroupPairs") or []:
                if isinstance(r, dict) and isinstance(r.get("GroupId"), str):
                    self.b.sg_rule(gid, direction, peer_sg=r["GroupId"], self_ref=r["GroupId"] == gid,
                                   description=r.get("Description"), **common)

    def _instances(self) -> None:
        az_by_name = {s.data["AvailabilityZone"]: s.data["AvailabilityZoneId"] for s in self.inv.subnets.values()
                      if isinstance(s.data.get("AvailabilityZone"), str)
                      and isinstance(s.data.get("AvailabilityZoneId"), str)}
        for iid, r in sorted(self.inv.instances.items()):
            d = r.data
            placed = (d.get("Placement") or {}).get("AvailabilityZone") if isinstance(d.get("Placement"), dict) else None
            sgs = [g.get("GroupId") for g in d.get("SecurityGroups") or [] if isinstance(g, dict)]
            self.b.instance(iid, loc=r.where, id=iid, subnet=d.get("SubnetId"),
                            az=az_by_name.get(str(placed)), ip=d.get("PrivateIpAddress"),
                            security_groups=[g for g in sgs if isinstance(g, str) and g in self.inv.security_groups])

    # -- target groups ------------------------------------------------------------------------
    def _target_group(self, tgid: str, rec: Rec) -> None:
        d = rec.data
        cfg = _config(d)
        acct = self.account_of(d.get("arn"))
        tg_type = str(d.get("type") or "INSTANCE")
        label = str(d.get("name") or tgid)
        vid = cfg.get("vpcIdentifier") or d.get("vpcIdentifier")
        version = cfg.get("protocolVersion")
        port = cfg.get("port") or d.get("port")
        ipt = cfg.get("ipAddressType") or d.get("ipAddressType")
        self.b.target_group(
            tgid, loc=rec.where, account=acct, name=d.get("name"), id=tgid, type=tg_type,
            vpc=vid if isinstance(vid, str) and tg_type != "LAMBDA" else None,
            protocol=cfg.get("protocol") or d.get("protocol") if tg_type != "LAMBDA" else None,
            protocol_version=version if isinstance(version, str) and version != "HTTP1" else None,
            port=port if isinstance(port, int) and tg_type != "LAMBDA" else None,
            ip_address_type="IPV6" if ipt == "IPV6" else None,
            health_check=_health_check(cfg.get("healthCheck")), tags=self.inv.tags.get(tgid),
            idents=[d.get("arn")])
        self.tgs.add(tgid)
        for t in self.inv.targets.get(tgid, []):
            tid = t.data.get("id")
            if not isinstance(tid, str):
                continue
            if t.data.get("status") == "DRAINING":
                self.warn(f"target {tid} is draining (being deregistered); it is left out", t.where, severity="info")
                continue
            port = t.data.get("port")
            self.b.target(tgid, tid, loc=t.where, port=port if isinstance(port, int) and tg_type != "LAMBDA" else None)
        if tgid not in self.inv.targets:
            self.warn(f"target group {label}: its targets were not listed; it has none in the scenario", rec.where,
                      hint=f"add list-targets--{tgid}.json")

    # -- services -----------------------------------------------------------------------------
    def _service(self, sid: str, rec: Rec) -> None:
        d = rec.data
        acct = self.account_of(d.get("arn"))
        label = str(d.get("name") or sid)
        self.svcs[sid] = acct
        self.labels[sid] = label
        domain = d.get("customDomainName") if isinstance(d.get("customDomainName"), str) else None
        self.b.service(sid, loc=rec.where, account=acct, name=d.get("name"), id=sid, custom_domain=domain,
                       certificate_arn=d.get("certificateArn") if isinstance(d.get("certificateArn"), str) else None,
                       auth_type=self._auth(sid, d, rec.where, f"service {label}"), tags=self.inv.tags.get(sid),
                       idents=[d.get("arn")])
        dns = (d.get("dnsEntry") or {}).get("domainName") if isinstance(d.get("dnsEntry"), dict) else None
        if isinstance(dns, str) and dns and not domain:
            self.warn(f"service {label} is reached at {dns} in AWS; latsim derives its own generated name for it "
                      "(use `latsim show` to see it, or give clients the custom domain)", rec.where, severity="info")
        for lid, lrec in sorted(self.inv.listeners.get(sid, {}).items(),
                                key=lambda kv: (kv[1].data.get("port") or 0, kv[0])):
            self._listener(sid, lid, lrec, label)
        if sid not in self.inv.listeners:
            self.warn(f"service {label}: no listeners were listed", rec.where,
                      hint=f"add list-listeners--{sid}.json and get-listener outputs", severity="info")

    def _auth(self, rid: str, d: dict[str, Any], where: Location, label: str) -> str:
        pol = self.inv.auth_policies.get(rid)
        if pol is not None and pol.data.get("policy"):
            self.b.auth_policy(rid, pol.data["policy"], loc=pol.where)
        auth_type = d.get("authType")
        if auth_type in ("NONE", "AWS_IAM"):
            return str(auth_type)
        if auth_type is None:
            self.warn(f"{label}: its auth type is unknown (only a summary was read); latsim assumes NONE", where,
                      hint="add the get-service / get-service-network output")
        return "NONE"

    def _listener(self, sid: str, lid: str, rec: Rec, svc: str) -> None:
        d = rec.data
        label = str(d.get("name") or lid)
        default = self._action(d.get("defaultAction"), rec.where, f"{svc}/{label} default action")
        if default is None:
            self.warn(f"listener {label} of service {svc}: its default action was not read; latsim uses a fixed 404",
                      rec.where, hint=f"add get-listener--{sid}--{lid}.json")
            default = {"fixed_response": 404}
        protocol = d.get("protocol")
        self.b.listener(lid, loc=rec.where, service=sid, name=d.get("name"),
                        protocol=protocol if protocol in ("HTTP", "HTTPS", "TLS_PASSTHROUGH") else None,
                        port=d.get("port"), default_action=default, idents=[d.get("arn")])
        for rid, rrec in sorted(self.inv.rules.get((sid, lid), {}).items(),
                                key=lambda kv: (kv[1].data.get("priority") or 0, kv[0])):
            self._rule(lid, rid, rrec, svc)

    def _rule(self, lid: str, rid: str, rec: Rec, svc: str) -> None:
        d = rec.data
        if d.get("isDefault") is True:
            return
        label = f"rule {d.get('name') or rid} of service {svc}"
        if "match" not in d or "action" not in d:
            self.warn(f"{label}: only its summary was read; it is left out", rec.where,
                      hint="add the get-rule output for it")
            return
        if not isinstance(d.get("priority"), int):
            self.warn(f"{label} has no priority; it is left out", rec.where)
            return
        match = self._match(d.get("match"), rec.where, label)
        action = self._action(d.get("action"), rec.where, label)
        if match is None or action is None:
            return
        self.b.rule(f"{lid}/{rid}", loc=rec.where, listener=lid, name=d.get("name") or rid,
                    priority=d["priority"], match=match, action=action)

    def _match(self, m: Any, where: Location, label: str) -> dict[str, Any] | None:
        http = m.get("httpMatch") if isinstance(m, dict) else None
        if not isinstance(http, dict):
            self.warn(f"{label} has no httpMatch; it is left out", where)
            return None
        out: dict[str, Any] = {}
        if isinstance(http.get("method"), str):
            out["method"] = http["method"]
        pm = http.get("pathMatch")
        if isinstance(pm, dict) and isinstance(pm.get("match"), dict):
            path: dict[str, Any] = {k: v for k, v in pm["match"].items() if k in ("exact", "prefix")}
            if isinstance(pm.get("caseSensitive"), bool):
                path["case_sensitive"] = pm["caseSensitive"]
            out["path"] = path
        headers = []
        for h in http.get("headerMatches") or []:
            if not isinstance(h, dict) or not isinstance(h.get("match"), dict):
                continue
            hm: dict[str, Any] = {"name": h.get("name")}
            hm.update({k: v for k, v in h["match"].items() if k in ("exact", "prefix", "contains")})
            if isinstance(h.get("caseSensitive"), bool):
                hm["case_sensitive"] = h["caseSensitive"]
            headers.append(hm)
        if headers:
            out["headers"] = headers
        if not out:
            self.warn(f"{label} has an empty match; it is left out", where)
            return None
        return out

    def _action(self, a: Any, where: Location, label: str) -> dict[str, Any] | None:
        """The builder's action shape (target groups by id); None when the action was not read."""
        if not isinstance(a, dict):
            return None
        fixed = a.get("fixedResponse")
        if isinstance(fixed, dict) and isinstance(fixed.get("statusCode"), int):
            return {"fixed_response": fixed["statusCode"]}
        fwd = a.get("forward")
        if not isinstance(fwd, dict):
            return None
        out = []
        for w in fwd.get("targetGroups") or []:
            tgid = _ident(w.get("targetGroupIdentifier")) if isinstance(w, dict) else None
            if tgid is None:
                continue
            if tgid not in self.tgs:
                self.warn(f"{label} forwards to target group {tgid}, which was not imported; that share is left out",
                          where, hint=f"add get-target-group--{tgid}.json")
                continue
            out.append((tgid, w["weight"] if isinstance(w.get("weight"), int) else None))
        if not out:
            self.warn(f"{label} forwards to no imported target group; latsim answers with a fixed 500", where)
            return {"fixed_response": 500}
        return {"forward": out}

    # -- service networks ---------------------------------------------------------------------
    def _service_network(self, snid: str, rec: Rec) -> None:
        d = rec.data
        acct = self.account_of(d.get("arn"))
        label = str(d.get("name") or snid)
        self.sns[snid] = acct
        self.labels[snid] = label
        self.b.service_network(snid, loc=rec.where, account=acct, name=d.get("name"), id=snid,
                               auth_type=self._auth(snid, d, rec.where, f"service network {label}"),
                               tags=self.inv.tags.get(snid), idents=[d.get("arn")])
        users: set[str] = set()
        for aid, arec in sorted(self.inv.vpc_associations.items()):
            a = arec.data
            if not self._of(a, snid):
                continue
            vid = a.get("vpcId")
            if a.get("status") not in _LIVE_STATES:
                self.warn(f"the association of VPC {vid} with {label} is {a.get('status')}; it is left out",
                          arec.where, severity="info")
                continue
            if not isinstance(vid, str) or vid not in self.vpcs:
                continue
            if "securityGroupIds" not in a:
                self.warn(f"the association {aid} of VPC {vid} with {label} was only listed, so its security groups "
                          "are unknown; latsim assumes none (every client in the VPC is admitted)", arec.where,
                          hint=f"add get-service-network-vpc-association--{aid}.json")
            sgs = []
            for sg in a.get("securityGroupIds") or []:
                if sg in self.inv.security_groups:
                    sgs.append(sg)
                else:
                    self.warn(f"association security group {sg} was not described; it is left out", arec.where,
                              hint="add describe-security-groups output for the associated VPC")
            self.b.vpc_association(snid, vid, loc=arec.where, security_groups=sgs)
            users.add(self.vpcs[vid])
        for _aid, arec in sorted(self.inv.service_associations.items()):
            a = arec.data
            if not self._of(a, snid):
                continue
            sid = a.get("serviceId") or lattice_arn_ids(a.get("serviceArn")).get("svc")
            if a.get("status") not in _LIVE_STATES:
                self.warn(f"the association of service {a.get('serviceName') or sid} with {label} is "
                          f"{a.get('status')}; it is left out", arec.where, severity="info")
            elif sid not in self.svcs:
                self.warn(f"service {a.get('serviceName') or sid} is associated with {label} but was not read "
                          "(another account's service?); the association is left out", arec.where,
                          hint="import that account too (get-service output in the same folder)")
            else:
                self.b.service_association(snid, sid, loc=arec.where)
                users.add(self.svcs[sid])
        for extra in sorted(users - {acct} - set(self._ram_principals(d.get("arn")))):
            # an association from another account implies a RAM share, which the outputs may not show
            self.b.resource_share(f"inferred:{snid}:{extra}", loc=rec.where)
            self.b.share_resource(f"inferred:{snid}:{extra}", snid, loc=rec.where)
            self.b.share_principal(f"inferred:{snid}:{extra}", extra, loc=rec.where)
            self.warn(f"service network {label} has associations from account {extra}, so it is shared with it "
                      "(AWS RAM); latsim adds that share", rec.where, severity="info")

    @staticmethod
    def _of(assoc: dict[str, Any], snid: str) -> bool:
        return assoc.get("serviceNetworkId") == snid or lattice_arn_ids(assoc.get("serviceNetworkArn")).get("sn") == snid

    def _ram_principals(self, arn: Any) -> list[str]:
        out: list[str] = []
        for share, resources in self.inv.share_resources.items():
            if arn in resources and share not in self.inv.inactive_shares:
                out.extend(share_principal(p) or p for p in self.inv.share_principals.get(share, set()))
        return out

    def _shares(self) -> None:
        where = Location(path="ram")
        for share, resources in sorted(self.inv.share_resources.items()):
            if share in self.inv.inactive_shares:
                continue
            shared = sorted(r for r in resources if _ident(r) in self.sns)
            if not shared:
                continue
            self.b.resource_share(share, loc=where)
            for res in shared:
                self.b.share_resource(share, res, loc=where)
            for p in sorted(self.inv.share_principals.get(share, set())):
                owners = {self.sns[_ident(r) or ""] for r in shared}
                if share_principal(p) not in owners:
                    self.b.share_principal(share, p, loc=where)

    def _endpoints(self) -> None:
        for rec in sorted(self.inv.endpoint_associations.values(), key=lambda r: str(r.data.get("id"))):
            d = rec.data
            if d.get("state") not in (None, "available", "Available", "ACTIVE"):
                continue
            if d.get("vpcId") in self.vpcs and d.get("_sn") in self.sns:
                self.b.service_network_endpoint(d["vpcId"], d["_sn"], loc=rec.where)

    def _access_logs(self) -> None:
        for rec in sorted(self.inv.access_logs.values(), key=lambda r: str(r.data.get("id"))):
            rid = _ident(rec.data.get("resourceId") or rec.data.get("resourceArn"))
            dest = rec.data.get("destinationArn")
            if rid in self.svcs or rid in self.sns:
                self.b.access_log(rid, loc=rec.where, destination=dest if isinstance(dest, str) else None)
            else:
                self.warn(f"access-log subscription {rec.data.get('id')} is on {rid}, which was not imported; "
                          "left out", rec.where, severity="info")


def _health_check(hc: Any) -> dict[str, Any]:
    """A target group's ``healthCheck`` in the scenario's shape."""
    if not isinstance(hc, dict):
        return {}
    out: dict[str, Any] = {}
    if isinstance(hc.get("enabled"), bool):
        out["enabled"] = hc["enabled"]
    if hc.get("protocol") in ("HTTP", "HTTPS"):
        out["protocol"] = hc["protocol"]
    if hc.get("protocolVersion") in ("HTTP1", "HTTP2"):
        out["protocol_version"] = hc["protocolVersion"]
    if isinstance(hc.get("port"), int) and hc["port"] > 0:
        out["port"] = hc["port"]
    if isinstance(hc.get("path"), str) and hc["path"]:
        out["path"] = hc["path"]
    for src, dst, unit in (("healthCheckIntervalSeconds", "interval", "s"),
                           ("healthCheckTimeoutSeconds", "timeout", "s"),
                           ("healthyThresholdCount", "healthy_threshold", ""),
                           ("unhealthyThresholdCount", "unhealthy_threshold", "")):
        v = hc.get(src)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:  # 0 means "the default"
            out[dst] = f"{v}{unit}" if unit else v
    matcher = hc.get("matcher")
    if isinstance(matcher, dict) and isinstance(matcher.get("httpCode"), str):
        out["matcher"] = matcher["httpCode"]
    return out


def map_inventory(inv: Inventory, *, name: str = "aws-import",
                  description: str | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """The one mapping from API response shapes to a scenario-shaped dict (live and JSON alike)."""
    b = _Mapper(inv, name, description).run()
    data, _ = b.build()
    return data, b.problems


def _result(inv: Inventory, name: str, description: str, source: str) -> ImportResult:
    result = _Mapper(inv, name, description).run().result(source)
    result.scenario()  # the import must validate; problems point back at the source
    return result


# ---------------------------------------------------------------------------------------------
# botocore service models: operation names and output-shape checks
# ---------------------------------------------------------------------------------------------

_EC2_OPS = ("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeInstances")
_RAM_OPS = ("GetResourceShares", "GetResourceShareAssociations")


def _botocore() -> Any:
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - the aws extra is missing
        raise LatsimError("importing from AWS needs botocore", hint="pip install 'latsim[aws]'") from None
    return botocore


@functools.lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, Any]]:
    """AWS CLI command name -> (service, botocore OperationModel), for the read operations latsim knows."""
    botocore = _botocore()
    from botocore import xform_name

    session = botocore.session.get_session()
    out: dict[str, tuple[str, Any]] = {}
    lattice = session.get_service_model("vpc-lattice")
    for op in lattice.operation_names:
        if op.startswith(("Get", "List")):
            out[xform_name(op, "-")] = ("vpc-lattice", lattice.operation_model(op))
    for service, ops in (("ec2", _EC2_OPS), ("ram", _RAM_OPS)):
        model = session.get_service_model(service)
        for op in ops:
            out[xform_name(op, "-")] = (service, model.operation_model(op))
    return out


_TYPE_NAMES = {"structure": "an object", "list": "a list", "map": "an object", "string": "a string",
               "integer": "an integer", "long": "an integer", "boolean": "true or false",
               "float": "a number", "double": "a number", "timestamp": "a timestamp", "blob": "a string"}


def check_shape(shape: Any, value: Any, keys: Keys, pos: Positions, out: list[Problem]) -> None:
    """Check ``value`` against a botocore output shape: required members present, types fit.

    Missing members and wrong types are errors; members the installed botocore does not know,
    values outside an enum and nulls are warnings (a newer API may have added them)."""
    t = shape.type_name

    def problem(msg: str, severity: str = "error", at: Keys = keys, allowed: str | None = None) -> None:
        out.append(Problem(msg, pos.locate(at), allowed=allowed, severity=severity, code="aws-shape"))

    if value is None:
        problem(f"null where {_TYPE_NAMES.get(t, t)} ({shape.name}) is expected", severity="warning")
        return
    if t == "structure":
        if not isinstance(value, dict):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__}")
            return
        for req in shape.required_members:
            if req not in value:
                problem(f"missing required member '{req}' of {shape.name}", at=keys)
        if shape.metadata.get("union"):
            given = [k for k in value if k in shape.members]
            if len(given) != 1:
                problem(f"{shape.name} needs exactly one of {', '.join(shape.members)}",
                        allowed=f"got {', '.join(given) or 'none'}")
        for k, v in value.items():
            if k in shape.members:
                check_shape(shape.members[k], v, keys + (k,), pos, out)
            elif k != "ResponseMetadata":
                problem(f"'{k}' is not a member of {shape.name} in the installed botocore model; ignored",
                        severity="warning", at=keys + (k,))
    elif t == "list":
        if not isinstance(value, list):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_shape(shape.member, item, keys + (i,), pos, out)
    elif t == "map":
        if not isinstance(value, dict):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__}")
            return
        for k, v in value.items():
            check_shape(shape.value, v, keys + (k,), pos, out)
    elif t in ("string", "blob"):
        if not isinstance(value, str):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__} {value!r:.40}")
        elif getattr(shape, "enum", None) and value not in shape.enum:
            problem(f"'{value}' is not a known {shape.name}", severity="warning",
                    allowed=f"one of {', '.join(shape.enum)}")
    elif t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__} {value!r:.40}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__} {value!r:.40}")
    elif t in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__} {value!r:.40}")
    elif t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) and not hasattr(value, "isoformat"):
            problem(f"expected {_TYPE_NAMES[t]} ({shape.name}), got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------
# A folder of AWS CLI JSON outputs
# ---------------------------------------------------------------------------------------------

_ID_SLOTS: dict[str, tuple[str, ...]] = {
    "get-service-network": ("sn",), "get-service": ("svc",),
    "list-listeners": ("svc",), "get-listener": ("svc", "listener"),
    "list-rules": ("svc", "listener"), "get-rule": ("svc", "listener", "rule"),
    "get-target-group": ("tg",), "list-targets": ("tg",),
    "list-service-network-vpc-associations": ("sn",), "list-service-network-service-associations": ("sn",),
    "list-service-network-vpc-endpoint-associations": ("sn",),
    "get-auth-policy": ("resource",), "list-tags-for-resource": ("resource",),
    "list-access-log-subscriptions": ("resource",),
}
_CONTENT_KEYS = {"Vpcs": "describe-vpcs", "Subnets": "describe-subnets", "SecurityGroups": "describe-security-groups",
                 "Reservations": "describe-instances", "resourceShares": "get-resource-shares",
                 "resourceShareAssociations": "get-resource-share-associations"}
_ITEM_KINDS = {"rule": "list-rules", "listener": "list-listeners", "snva": "list-service-network-vpc-associations",
               "snsa": "list-service-network-service-associations", "als": "list-access-log-subscriptions",
               "tg": "list-target-groups", "svc": "list-services", "sn": "list-service-networks"}


def _operation_of(path: Path, data: Any) -> tuple[str | None, dict[str, str]]:
    """(CLI command, identifiers from the file name) for one saved output; (None, {}) if unknown."""
    stem = path.name[: -len(".json")] if path.name.lower().endswith(".json") else path.stem
    parts = stem.split("--")
    op = parts[0].lower()
    ops = _operations()
    if op.startswith("aws-"):
        op = op[4:]
    for prefix in ("vpc-lattice-", "ec2-", "ram-"):
        if op not in ops and op.startswith(prefix):
            op = op[len(prefix):]
    if op in ops:
        slots = _ID_SLOTS.get(op, ())
        ids = {slot: value for slot, value in zip(slots, parts[1:], strict=False) if value}
        if "resource" in ids:
            rid = ids["resource"]
            ids["sn" if rid.startswith("sn-") else "svc" if rid.startswith("svc-") else "other"] = rid
        return op, ids
    if isinstance(data, dict):
        for key, name in _CONTENT_KEYS.items():
            if key in data:
                return name, {}
        items = data.get("items")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            parts_arn = lattice_arn_ids(items[0].get("arn"))
            for kind, name in _ITEM_KINDS.items():
                if kind in parts_arn:
                    return name, {}
    return None, {}


def _json_files(root: Path) -> list[Path]:
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() == ".json" and not any(part.startswith(".") for part in p.parts[-1:]):
            files.append(p)
            if len(files) > MAX_FILES:
                raise ScenarioError([Problem(f"more than {MAX_FILES} JSON files under {root}", Location(str(root)),
                                             code="too-large")])
    return files


def import_aws_json(directory: str | Path) -> ImportResult:
    """Import a folder of saved ``aws vpc-lattice get-*/list-*`` and ``aws ec2 describe-*`` outputs.

    See the module docstring for the file-naming convention. Every file is checked against
    botocore's output shape; any mismatch, unreadable file or JSON syntax error raises one
    ScenarioError holding every located problem."""
    root = Path(directory)
    if not root.is_dir():
        raise ScenarioError([Problem("not a directory of AWS CLI JSON outputs", Location(str(directory)),
                                     code="io")])
    files = _json_files(root)
    if not files:
        raise ScenarioError([Problem("no *.json files found", Location(str(directory)), code="io",
                                     hint="save outputs such as `aws vpc-lattice list-services > list-services.json`")])
    ops = _operations()
    inv = Inventory()
    problems: list[Problem] = []
    loaded: list[tuple[str, Any, dict[str, str], Positions]] = []
    regions: set[str] = set()
    for f in files:
        try:
            data, pos = parse_document(read_text(f), str(f))
        except ScenarioError as exc:
            problems.extend(exc.all_problems)
            continue
        op, ids = _operation_of(f, data)
        if op is None:
            problems.append(_warn("not a recognised AWS CLI output; skipped", Location(str(f)),
                                  hint="name it after its command, e.g. list-services.json or "
                                       "get-listener--<svc-id>--<listener-id>.json"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(f"the output of {op} is a JSON object", pos.locate(()), code="aws-shape"))
            continue
        _service, model = ops[op]
        found: list[Problem] = []
        check_shape(model.output_shape, data, (), pos, found)
        problems.extend(found)
        if any(p.severity == "error" for p in found):
            continue
        loaded.append((op, data, ids, pos))
        for arn in _arns(data):
            region = lattice_arn_ids(arn).get("region")
            if region:
                regions.add(region)
    if any(p.severity == "error" for p in problems):
        raise ScenarioError(problems)
    inv.warnings.extend(problems)
    if len(regions) > 1:
        inv.warnings.append(_warn(f"the outputs span several regions ({', '.join(sorted(regions))}); latsim "
                                  f"simulates one region and uses {sorted(regions)[0]}", Location(str(root))))
    inv.region = sorted(regions)[0] if regions else None
    for op, data, ids, pos in loaded:
        absorb(inv, op, data, ids, _locator(pos))
    name = slug(root.resolve().name) or "aws-import"
    return _result(inv, name, f"Imported from the AWS CLI outputs in {root.name}/ by latsim import aws-json.",
                   f"the AWS CLI outputs in {root}")


def _arns(data: Any) -> Iterable[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "arn" and isinstance(v, str):
                yield v
            elif isinstance(v, (dict, list)):
                yield from _arns(v)
    elif isinstance(data, list):
        for v in data:
            yield from _arns(v)


# ---------------------------------------------------------------------------------------------
# A live account (boto3, read-only)
# ---------------------------------------------------------------------------------------------

READ_ONLY_PREFIXES = ("Get", "List", "Describe")


class _Reader:
    """Read-only calls with pagination; errors become warnings (optional calls) or a LatsimError."""

    def __init__(self, inv: Inventory, region: str) -> None:
        self.inv = inv
        self.region = region

    def where(self, op: str, ident: str | None) -> Location:
        return Location(f"aws:{self.region}", path=f"{op}{' ' + ident if ident else ''}")

    def call(self, client: Any, method: str, *, optional: bool = False, not_found_ok: bool = False,
             ident: str | None = None, **params: Any) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        op = client.meta.method_to_api_mapping.get(method, method)
        if not op.startswith(READ_ONLY_PREFIXES):  # a guard for the future reader of this code
            raise LatsimError(f"internal: {op} is not a read-only operation")
        try:
            if client.can_paginate(method):
                return _merge_pages(client.get_paginator(method).paginate(**params))
            resp = getattr(client, method)(**params)
            resp.pop("ResponseMetadata", None)
            return dict(resp)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, msg = str(err.get("Code", "Error")), str(err.get("Message", ""))
            if not_found_ok and code in ("ResourceNotFoundException", "NotFoundException"):
                return None
            problem = Problem(f"{op}: {code}: {msg}".rstrip(": "), self.where(op, ident),
                              hint="latsim needs read-only access: vpc-lattice:Get*/List*, ec2:Describe*, "
                                   "ram:GetResourceShare*", code="aws-access")
            if optional:
                self.inv.warnings.append(Problem(problem.message + "; skipped", problem.location, hint=problem.hint,
                                                 severity="warning", code=problem.code))
                return None
            raise ScenarioError([problem]) from None
        except BotoCoreError as exc:
            raise LatsimError(f"cannot read from AWS: {exc}", location=self.where(op, ident),
                              hint="check the profile, region and network (aws sts get-caller-identity)") from None

    def absorb(self, client: Any, method: str, ctx: dict[str, str] | None = None, *, required: bool = False,
               **kw: Any) -> dict[str, Any] | None:
        """Call and put the response into the inventory. Only the top-level listings are
        ``required``; a detail the caller may not read (another account's resource) is a warning."""
        ident = next(iter((ctx or {}).values()), None)
        resp = self.call(client, method, optional=not required, ident=ident, **kw)
        if resp is not None:
            op = client.meta.method_to_api_mapping.get(method, method)
            from botocore import xform_name

            absorb(self.inv, xform_name(op, "-"), resp, ctx or {}, _fixed(self.where(op, ident)))
        return resp


def _merge_pages(pages: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for page in pages:
        for k, v in page.items():
            if k in ("ResponseMetadata", "nextToken", "NextToken"):
                continue
            if isinstance(v, list):
                out.setdefault(k, []).extend(v)
            else:
                out.setdefault(k, v)
    return out


def _chunks(values: list[str], n: int = 100) -> Iterable[list[str]]:
    for i in range(0, len(values), n):
        yield values[i: i + n]


def collect_live(session: Any, region: str) -> Inventory:
    """Read one account and region into an Inventory (Get*/List*/Describe* only)."""
    inv = Inventory(region=region)
    rd = _Reader(inv, region)
    lat = session.client("vpc-lattice", region_name=region)
    ec2 = session.client("ec2", region_name=region)
    ram = session.client("ram", region_name=region)
    sns = rd.absorb(lat, "list_service_networks", required=True) or {}
    for it in sns.get("items", []):
        sn = it["id"]
        rd.absorb(lat, "get_service_network", {"sn": sn}, serviceNetworkIdentifier=sn)
        assocs = rd.absorb(lat, "list_service_network_vpc_associations", {"sn": sn},
                           serviceNetworkIdentifier=sn) or {}
        for a in assocs.get("items", []):
            rd.absorb(lat, "get_service_network_vpc_association", {"snva": a["id"]},
                      serviceNetworkVpcAssociationIdentifier=a["id"])
        rd.absorb(lat, "list_service_network_service_associations", {"sn": sn}, serviceNetworkIdentifier=sn)
        rd.absorb(lat, "list_service_network_vpc_endpoint_associations", {"sn": sn}, serviceNetworkIdentifier=sn)
        _auth_policy(rd, lat, sn)
        rd.absorb(lat, "list_access_log_subscriptions", {"resource": sn}, resourceIdentifier=sn)
    svcs = rd.absorb(lat, "list_services", required=True) or {}
    for it in svcs.get("items", []):
        sid = it["id"]
        rd.absorb(lat, "get_service", {"svc": sid}, serviceIdentifier=sid)
        if isinstance(it.get("arn"), str):
            rd.absorb(lat, "list_tags_for_resource", {"resource": sid}, resourceArn=it["arn"])
        _auth_policy(rd, lat, sid)
        rd.absorb(lat, "list_access_log_subscriptions", {"resource": sid}, resourceIdentifier=sid)
        listeners = rd.absorb(lat, "list_listeners", {"svc": sid}, serviceIdentifier=sid) or {}
        for lst in listeners.get("items", []):
            lid = lst["id"]
            rd.absorb(lat, "get_listener", {"svc": sid, "listener": lid}, serviceIdentifier=sid,
                      listenerIdentifier=lid)
            rules = rd.absorb(lat, "list_rules", {"svc": sid, "listener": lid}, serviceIdentifier=sid,
                              listenerIdentifier=lid) or {}
            for r in rules.get("items", []):
                if r.get("isDefault"):
                    continue
                rd.absorb(lat, "get_rule", {"svc": sid, "listener": lid, "rule": r["id"]}, serviceIdentifier=sid,
                          listenerIdentifier=lid, ruleIdentifier=r["id"])
    tgs = rd.absorb(lat, "list_target_groups", required=True) or {}
    for it in tgs.get("items", []):
        tg = it["id"]
        rd.absorb(lat, "get_target_group", {"tg": tg}, targetGroupIdentifier=tg)
        rd.absorb(lat, "list_targets", {"tg": tg}, targetGroupIdentifier=tg)
    _describe_network(rd, ec2, inv)
    _describe_shares(rd, ram, inv)
    return inv


def _auth_policy(rd: _Reader, client: Any, rid: str) -> None:
    resp = rd.call(client, "get_auth_policy", optional=True, not_found_ok=True, ident=rid, resourceIdentifier=rid)
    if resp and resp.get("policy"):
        absorb(rd.inv, "get-auth-policy", resp, {"resource": rid}, _fixed(rd.where("GetAuthPolicy", rid)))


def _describe_network(rd: _Reader, ec2: Any, inv: Inventory) -> None:
    vpc_ids: set[str] = set()
    for a in inv.vpc_associations.values():
        if isinstance(a.data.get("vpcId"), str):
            vpc_ids.add(a.data["vpcId"])
    for e in inv.endpoint_associations.values():
        if isinstance(e.data.get("vpcId"), str):
            vpc_ids.add(e.data["vpcId"])
    for t in inv.target_groups.values():
        cfg: dict[str, Any] = t.data["config"] if isinstance(t.data.get("config"), dict) else {}
        vid = cfg.get("vpcIdentifier") or t.data.get("vpcIdentifier")
        if isinstance(vid, str):
            vpc_ids.add(vid)
    ids = sorted(vpc_ids)
    for chunk in _chunks(ids):
        flt = [{"Name": "vpc-id", "Values": chunk}]
        rd.absorb(ec2, "describe_vpcs", Filters=flt)
        rd.absorb(ec2, "describe_subnets", Filters=flt)
        rd.absorb(ec2, "describe_security_groups", Filters=flt)
    instances = sorted({t.data["id"] for tg, recs in inv.targets.items() for t in recs
                        if isinstance(t.data.get("id"), str) and t.data["id"].startswith("i-")
                        and (inv.target_groups.get(tg) is None or inv.target_groups[tg].data.get("type") == "INSTANCE")})
    for chunk in _chunks(instances):
        resp = rd.call(ec2, "describe_instances", optional=True, Filters=[{"Name": "instance-id", "Values": chunk}])
        if resp is not None:
            absorb(inv, "describe-instances", resp, {}, _fixed(rd.where("DescribeInstances", None)))


def _describe_shares(rd: _Reader, ram: Any, inv: Inventory) -> None:
    shares = rd.call(ram, "get_resource_shares", optional=True, resourceOwner="SELF")
    if not shares:
        return
    absorb(inv, "get-resource-shares", shares, {}, _fixed(rd.where("GetResourceShares", None)))
    arns = [s["resourceShareArn"] for s in shares.get("resourceShares", []) if s.get("status") == "ACTIVE"]
    for chunk in _chunks(arns, 100):
        for kind in ("RESOURCE", "PRINCIPAL"):
            resp = rd.call(ram, "get_resource_share_associations", optional=True, associationType=kind,
                           resourceShareArns=chunk)
            if resp is not None:
                absorb(inv, "get-resource-share-associations", resp, {},
                       _fixed(rd.where("GetResourceShareAssociations", kind)))


def import_aws(session: Any = None, profile: str | None = None, region: str | None = None) -> ImportResult:
    """Read a live account with boto3 (``Get*``/``List*``/``Describe*`` calls only, paginated)
    and map it to a scenario. ``session`` (a ``boto3.Session``) wins over ``profile``."""
    if session is None:
        try:
            import boto3
        except ImportError:
            raise LatsimError("`latsim import aws` needs boto3", hint="pip install 'latsim[aws]'") from None
        from botocore.exceptions import BotoCoreError

        try:
            session = boto3.Session(profile_name=profile, region_name=region)
        except BotoCoreError as exc:
            raise LatsimError(f"cannot open the AWS profile: {exc}", hint="see `aws configure list-profiles`") from None
    region = region or getattr(session, "region_name", None)
    if not region:
        raise LatsimError("no AWS region given", hint="pass --region or set AWS_REGION / the profile's region")
    inv = collect_live(session, region)
    return _result(inv, f"aws-{region}", f"Imported from AWS ({region}) by latsim import aws.",
                   f"AWS ({region}, read with boto3)")


__all__ = ["ImportResult", "Inventory", "absorb", "check_shape", "collect_live", "import_aws", "import_aws_json",
           "map_inventory"]
