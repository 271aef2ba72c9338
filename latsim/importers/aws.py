"""Import a VPC Lattice topology from AWS: a live account (boto3, read-only) or a folder of saved
AWS CLI JSON outputs.

Both paths work the same way. Every API response goes into one ``Inventory`` through
``absorb`` (keyed by the operation that produced it, in AWS CLI spelling such as
``get-listener``), and one function, ``map_inventory``, turns the inventory into a plain,
scenario-shaped dict: accounts, VPCs (CIDRs, AZ ids from their subnets), security groups,
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
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latsim.errors import LatsimError, Location, Problem, ScenarioError
from latsim.importers.common import ImportResult
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


_ARN_RE = re.compile(r"^arn:aws[a-z-]*:vpc-lattice:([a-z0-9-]*):(\d{12}):(.+)$")
_ARN_KINDS = {"servicenetwork": "sn", "service": "svc", "listener": "listener", "rule": "rule",
              "targetgroup": "tg", "servicenetworkvpcassociation": "snva",
              "servicenetworkserviceassociation": "snsa", "accesslogsubscription": "als"}


def arn_parts(arn: Any) -> dict[str, str]:
    """``arn:aws:vpc-lattice:R:A:service/svc-1/listener/listener-2`` -> {region, account, svc, listener}."""
    m = _ARN_RE.match(arn) if isinstance(arn, str) else None
    if not m:
        return {}
    out = {"region": m.group(1), "account": m.group(2)}
    segs = m.group(3).split("/")
    for i in range(0, len(segs) - 1, 2):
        out[_ARN_KINDS.get(segs[i], segs[i])] = segs[i + 1]
    return out


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
            parts = arn_parts(it.get("arn"))
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
            parts = arn_parts(it.get("arn"))
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
            sn = arn_parts(it.get("serviceNetworkArn")).get("sn") or ctx.get("sn")
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
# Mapping the inventory to a scenario-shaped dict
# ---------------------------------------------------------------------------------------------

_LIVE_STATES = {None, "ACTIVE", "UPDATE_IN_PROGRESS", "UPDATE_FAILED"}
_SN_ID = re.compile(r"^sn-[0-9a-z]{17}$")
_SVC_ID = re.compile(r"^svc-[0-9a-z]{17}$")
_TG_ID = re.compile(r"^tg-[0-9a-z]{17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SG_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
_PROTOCOLS = {"-1": "all", "all": "all", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp",
              "1": "icmp"}
_DIRECTIONS = {"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "north": "n",
               "south": "s", "east": "e", "west": "w", "central": "c"}


def region_short(region: str) -> str:
    """``us-east-1`` -> ``use1`` (the prefix of AZ ids), ``ap-southeast-2`` -> ``apse2``."""
    parts = region.split("-")
    if len(parts) < 3:
        return "use1"
    return parts[0] + "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


def slug(text: str, limit: int = 63) -> str:
    """Any text -> a Lattice-style name: ``[a-z0-9-]``, no leading, trailing or double ``-``."""
    s = re.sub(r"[^a-z0-9-]+", "-", str(text).lower())
    s = re.sub(r"-{2,}", "-", s).strip("-")
    return s[:limit].rstrip("-")


def unique_name(base: str, taken: set[str], limit: int, suffix: str) -> str:
    """``base`` if free, else ``base-<suffix>`` (shortened to fit ``limit``), else numbered."""
    name = base
    if name in taken:
        tail = slug(suffix) or "x"
        name = f"{base[: max(1, limit - len(tail) - 1)].rstrip('-')}-{tail}"
    n = 2
    while name in taken:
        tail = f"{n}"
        name = f"{base[: max(1, limit - len(tail) - 1)].rstrip('-')}-{tail}"
        n += 1
    taken.add(name)
    return name


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


def _policy_doc(text: Any, where: Location, label: str, warnings: list[Problem]) -> Any:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        warnings.append(_warn(f"the auth policy of {label} is not JSON ({exc}); it is left out", where))
        return None
    return doc if isinstance(doc, dict) else None


class _Mapper:
    """One pass from an Inventory to scenario data; collects warnings as it goes."""

    def __init__(self, inv: Inventory, name: str, description: str | None) -> None:
        self.inv = inv
        self.name = name
        self.description = description
        self.region = inv.region or "us-east-1"
        self.warnings: list[Problem] = list(inv.warnings)
        self.accounts: set[str] = set()
        self.vpc_names: dict[str, str] = {}       # vpc id -> scenario name
        self.vpc_azs: dict[str, list[str]] = {}
        self.sg_names: dict[str, str] = {}        # sg id -> scenario name
        self.tg_names: dict[str, str] = {}        # tg id -> scenario name
        self.svc_names: dict[str, str] = {}       # svc id -> scenario name
        self.svc_accounts: dict[str, str] = {}
        self.az_by_name: dict[str, str] = {}      # us-east-1a -> use1-az6
        self.vpc_accounts: dict[str, str] = {}    # vpc id -> owner account
        self.sn_names: dict[str, str] = {}        # sn id -> scenario name
        self.prov: dict[Keys, Location] = {}      # scenario key path -> source location

    def warn(self, message: str, where: Location, **kw: Any) -> None:
        self.warnings.append(_warn(message, where, **kw))

    # -- accounts ------------------------------------------------------------------------------
    def account_of(self, arn: Any, fallback: str | None = None) -> str:
        acct = arn_parts(arn).get("account") or fallback or "000000000000"
        self.accounts.add(acct)
        return acct

    # -- run ------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        inv = self.inv
        for sub in inv.subnets.values():
            az, azid = sub.data.get("AvailabilityZone"), sub.data.get("AvailabilityZoneId")
            if isinstance(az, str) and isinstance(azid, str):
                self.az_by_name[az] = azid
        live_tgs = {k: r for k, r in sorted(inv.target_groups.items()) if self._tg_alive(k, r)}
        live_svcs = {k: r for k, r in sorted(inv.services.items()) if self._alive(r, "service")}
        live_sns = dict(sorted(inv.service_networks.items()))
        vpc_ids = self._referenced_vpcs(live_tgs, live_sns)
        vpcs = self._vpcs(vpc_ids)
        sgs = self._security_groups()
        tgs = [self._target_group(k, r, i) for i, (k, r) in enumerate(live_tgs.items())]
        services = self._services(live_svcs)
        sns = self._service_networks(live_sns)
        self._endpoints(vpcs, sns)
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["region"] = self.region
        data["accounts"] = [{"id": a} for a in sorted(self.accounts)]
        data["vpcs"] = vpcs
        if sgs:
            data["security_groups"] = sgs
        data["service_networks"] = sns
        data["services"] = services
        data["target_groups"] = tgs
        logs = self._access_logs()
        if logs:
            data["access_logs"] = logs
        return data

    def _alive(self, rec: Rec, kind: str) -> bool:
        status = rec.data.get("status")
        if status in _LIVE_STATES:
            return True
        self.warn(f"{kind} {rec.data.get('name') or rec.data.get('id')} is {status}; it is left out", rec.where,
                  severity="info")
        return False

    def _tg_alive(self, key: str, rec: Rec) -> bool:
        return rec.data.get("status") in (None, "ACTIVE", "CREATE_IN_PROGRESS") or self._alive(rec, "target group")

    # -- VPCs, subnets, security groups ------------------------------------------------------------
    def _referenced_vpcs(self, tgs: dict[str, Rec], sns: dict[str, Rec]) -> list[str]:
        ids: set[str] = set()
        for a in self.inv.vpc_associations.values():
            if isinstance(a.data.get("vpcId"), str) and a.data.get("status") in _LIVE_STATES | {"CREATE_IN_PROGRESS"}:
                ids.add(a.data["vpcId"])
        for r in tgs.values():
            cfg: dict[str, Any] = r.data["config"] if isinstance(r.data.get("config"), dict) else {}
            vid = cfg.get("vpcIdentifier") or r.data.get("vpcIdentifier")
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

    def _vpcs(self, vpc_ids: list[str]) -> list[dict[str, Any]]:
        taken: set[str] = set()
        out = []
        for vid in vpc_ids:
            rec = self.inv.vpcs.get(vid)
            if rec is None:
                out.append(self._placeholder_vpc(vid, taken))
                continue
            d = rec.data
            acct = str(d.get("OwnerId") or "000000000000")
            self.accounts.add(acct)
            self.vpc_accounts[vid] = acct
            base = slug(_tag(d.get("Tags"), "Name") or "") or vid
            name = unique_name(base, taken, 255, vid[-6:])
            self.vpc_names[vid] = name
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
            azs = self._subnet_azs(vid)
            if not azs:
                azs = [f"{region_short(self.region)}-az1"]
                self.warn(f"VPC {vid} has no described subnets; latsim places it in {azs[0]}", rec.where,
                          hint="add describe-subnets output to import its AZs")
            self.vpc_azs[vid] = azs
            vpc: dict[str, Any] = {"name": name}
            if _VPC_ID.match(vid):
                vpc["id"] = vid
            vpc.update({"account": acct, "cidr": cidrs or ["10.0.0.0/16"], "azs": azs})
            self.prov[("vpcs", len(out))] = rec.where
            tags = _tags_dict(d.get("Tags"))
            tags.pop("Name", None)
            if tags:
                vpc["tags"] = tags
            out.append(vpc)
        return out

    def _subnet_azs(self, vid: str) -> list[str]:
        return sorted({s.data["AvailabilityZoneId"] for s in self.inv.subnets.values()
                       if s.data.get("VpcId") == vid and isinstance(s.data.get("AvailabilityZoneId"), str)})

    def _placeholder_vpc(self, vid: str, taken: set[str]) -> dict[str, Any]:
        # A VPC of another account (or one not described): keep the references valid, say so.
        owner = None
        for a in self.inv.vpc_associations.values():
            if a.data.get("vpcId") == vid and isinstance(a.data.get("createdBy"), str):
                owner = a.data["createdBy"] if re.fullmatch(r"\d{12}", a.data["createdBy"]) else None
        for e in self.inv.endpoint_associations.values():
            if e.data.get("vpcId") == vid and isinstance(e.data.get("vpcEndpointOwnerId"), str):
                owner = e.data["vpcEndpointOwnerId"]
        acct = owner or next(iter(sorted(self.accounts)), "000000000000")
        self.accounts.add(acct)
        self.vpc_accounts[vid] = acct
        name = unique_name(vid, taken, 255, "vpc")
        self.vpc_names[vid] = name
        azs = self._subnet_azs(vid) or [f"{region_short(self.region)}-az1"]
        self.vpc_azs[vid] = azs
        self.warn(f"VPC {vid} is referenced but was not described (another account?); latsim adds a placeholder "
                  f"with CIDR 10.0.0.0/16 in {azs[0]} owned by {acct}", Location(path=f"vpcs.{name}"),
                  hint="describe it (describe-vpcs, describe-subnets) or override it in an overlay")
        vpc: dict[str, Any] = {"name": name}
        if _VPC_ID.match(vid):
            vpc["id"] = vid
        vpc.update({"account": acct, "cidr": ["10.0.0.0/16"], "azs": azs})
        return vpc

    def _security_groups(self) -> list[dict[str, Any]]:
        recs = [r for _, r in sorted(self.inv.security_groups.items()) if r.data.get("VpcId") in self.vpc_names]
        def group_name(r: Rec) -> str:
            return str(r.data.get("GroupName") or r.data.get("GroupId"))

        counts: dict[str, int] = {}
        for r in recs:
            counts[group_name(r)] = counts.get(group_name(r), 0) + 1
        taken: set[str] = set()
        for r in recs:
            gid, gname = str(r.data.get("GroupId")), group_name(r)
            base = gname if counts[gname] == 1 else f"{self.vpc_names[r.data['VpcId']]}-{gname}"
            self.sg_names[gid] = unique_name(base, taken, 255, gid)
        out: list[dict[str, Any]] = []
        for r in recs:
            d = r.data
            gid = str(d.get("GroupId"))
            sg: dict[str, Any] = {"name": self.sg_names[gid]}
            if _SG_ID.match(gid):
                sg["id"] = gid
            sg["vpc"] = self.vpc_names[d["VpcId"]]
            self.prov[("security_groups", len(out))] = r.where
            if isinstance(d.get("Description"), str) and d["Description"]:
                sg["description"] = d["Description"]
            sg["ingress"] = self._sg_rules(d.get("IpPermissions"), "source", r.where, gid)
            sg["egress"] = self._sg_rules(d.get("IpPermissionsEgress"), "destination", r.where, gid)
            out.append(sg)
        return out

    def _sg_rules(self, perms: Any, peer_key: str, where: Location, gid: str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        for perm in perms or []:
            if not isinstance(perm, dict):
                continue
            proto = _PROTOCOLS.get(str(perm.get("IpProtocol", "-1")).lower())
            if proto is None:
                self.warn(f"security group {gid}: protocol {perm.get('IpProtocol')} is not simulated; rule left out",
                          where, severity="info")
                continue
            base: dict[str, Any] = {"protocol": proto}
            if proto in ("tcp", "udp"):
                lo, hi = perm.get("FromPort"), perm.get("ToPort")
                if isinstance(lo, int) and isinstance(hi, int) and lo >= 0:
                    base["ports"] = lo if lo == hi else f"{lo}-{hi}"
            peers: list[tuple[str, str | None]] = []
            peers += [(r["CidrIp"], r.get("Description")) for r in perm.get("IpRanges") or []
                      if isinstance(r, dict) and isinstance(r.get("CidrIp"), str)]
            peers += [(r["CidrIpv6"], r.get("Description")) for r in perm.get("Ipv6Ranges") or []
                      if isinstance(r, dict) and isinstance(r.get("CidrIpv6"), str)]
            peers += [(r["PrefixListId"], r.get("Description")) for r in perm.get("PrefixListIds") or []
                      if isinstance(r, dict) and isinstance(r.get("PrefixListId"), str)]
            for pair in perm.get("UserIdGroupPairs") or []:
                other = pair.get("GroupId") if isinstance(pair, dict) else None
                if isinstance(other, str) and other in self.sg_names:
                    peers.append((self.sg_names[other], pair.get("Description")))
                elif isinstance(other, str):
                    self.warn(f"security group {gid} refers to group {other}, which was not imported; that peer is "
                              "left out", where, hint="describe the security groups of its VPC too")
            for peer, desc in peers:
                rule = {**base, peer_key: peer}
                if isinstance(desc, str) and desc:
                    rule["description"] = desc
                rules.append(rule)
        return rules

    # -- target groups ------------------------------------------------------------------------
    def _target_group(self, tgid: str, rec: Rec, index: int) -> dict[str, Any]:
        d = rec.data
        self.prov[("target_groups", index)] = rec.where
        cfg: dict[str, Any] = d["config"] if isinstance(d.get("config"), dict) else {}
        acct = self.account_of(d.get("arn"))
        taken = set(self.tg_names.values())
        name = unique_name(slug(str(d.get("name") or tgid), 128) or tgid, taken, 128, acct[-4:])
        self.tg_names[tgid] = name
        tg_type = str(d.get("type") or "INSTANCE")
        tg: dict[str, Any] = {"name": name, "account": acct}
        if _TG_ID.match(tgid):
            tg["id"] = tgid
        tg["type"] = tg_type
        vid = cfg.get("vpcIdentifier") or d.get("vpcIdentifier")
        if isinstance(vid, str) and vid in self.vpc_names and tg_type != "LAMBDA":
            tg["vpc"] = self.vpc_names[vid]
        protocol = cfg.get("protocol") or d.get("protocol")
        if tg_type != "LAMBDA" and isinstance(protocol, str):
            tg["protocol"] = protocol
        version = cfg.get("protocolVersion")
        if isinstance(version, str) and version != "HTTP1":
            tg["protocol_version"] = version
        port = cfg.get("port") or d.get("port")
        if isinstance(port, int) and tg_type != "LAMBDA":
            tg["port"] = port
        ipt = cfg.get("ipAddressType") or d.get("ipAddressType")
        if ipt == "IPV6":
            tg["ip_address_type"] = "IPV6"
        hc = self._health_check(cfg.get("healthCheck"), rec.where, name)
        if hc:
            tg["health_check"] = hc
        tags = self.inv.tags.get(tgid)
        if tags:
            tg["tags"] = dict(tags)
        tg["targets"] = self._targets(tgid, tg_type, vid if isinstance(vid, str) else None, index)
        if tgid not in self.inv.targets:
            self.warn(f"target group {name}: its targets were not listed; it has none in the scenario", rec.where,
                      hint=f"add list-targets--{tgid}.json")
        return tg

    def _health_check(self, hc: Any, where: Location, tg: str) -> dict[str, Any]:
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

    def _targets(self, tgid: str, tg_type: str, vid: str | None, index: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for rec in self.inv.targets.get(tgid, []):
            t = rec.data
            tid = t.get("id")
            if not isinstance(tid, str) or tid in seen:
                continue
            if t.get("status") == "DRAINING":
                self.warn(f"target {tid} is draining (being deregistered); it is left out", rec.where,
                          severity="info")
                continue
            seen.add(tid)
            target: dict[str, Any] = {"id": tid}
            az, ip = self._target_place(tid, tg_type, vid)
            if az and az not in self.vpc_azs.get(vid or "", [az]):
                self.warn(f"target {tid} sits in {az}, which is not an AZ of its target group's VPC; latsim leaves "
                          "its AZ unset", rec.where)
                az = None
            if az:
                target["az"] = az
            if ip and tg_type != "IP":
                target["ip"] = ip
            if isinstance(t.get("port"), int) and tg_type != "LAMBDA":
                target["port"] = t["port"]
            self.prov[("target_groups", index, "targets", len(out))] = rec.where
            out.append(target)
        return out

    def _target_place(self, tid: str, tg_type: str, vid: str | None) -> tuple[str | None, str | None]:
        if tg_type == "IP":
            try:
                ip = ipaddress.ip_address(tid)
            except ValueError:
                return None, None
            for s in self.inv.subnets.values():
                cidr = s.data.get("CidrBlock")
                if s.data.get("VpcId") != vid or not isinstance(cidr, str):
                    continue
                try:
                    if ip in ipaddress.ip_network(cidr, strict=False):
                        return s.data.get("AvailabilityZoneId"), None
                except ValueError:
                    continue
            return None, None
        if tg_type == "INSTANCE":
            inst = self.inv.instances.get(tid)
            if inst is None:
                return None, None
            sub = self.inv.subnets.get(str(inst.data.get("SubnetId")))
            az = sub.data.get("AvailabilityZoneId") if sub else None
            if az is None:
                az = self.az_by_name.get(str((inst.data.get("Placement") or {}).get("AvailabilityZone")))
            private_ip = inst.data.get("PrivateIpAddress")
            return az, private_ip if isinstance(private_ip, str) else None
        return None, None

    # -- services -----------------------------------------------------------------------------
    def _services(self, svcs: dict[str, Rec]) -> list[dict[str, Any]]:
        taken: set[str] = set()
        for sid, rec in svcs.items():
            acct = self.account_of(rec.data.get("arn"))
            base = slug(str(rec.data.get("name") or sid), 40) or "service"
            if base.startswith("svc-"):
                base = "s-" + base[4:]
            self.svc_names[sid] = unique_name(base, taken, 40, acct[-4:])
            self.svc_accounts[sid] = acct
        return [self._service(sid, rec, i) for i, (sid, rec) in enumerate(svcs.items())]

    def _service(self, sid: str, rec: Rec, index: int) -> dict[str, Any]:
        d = rec.data
        self.prov[("services", index)] = rec.where
        name = self.svc_names[sid]
        svc: dict[str, Any] = {"name": name, "account": self.svc_accounts[sid]}
        if _SVC_ID.match(sid):
            svc["id"] = sid
        if isinstance(d.get("customDomainName"), str) and d["customDomainName"]:
            svc["custom_domain"] = d["customDomainName"]
        if isinstance(d.get("certificateArn"), str) and d["certificateArn"]:
            svc["certificate_arn"] = d["certificateArn"]
        dns = (d.get("dnsEntry") or {}).get("domainName") if isinstance(d.get("dnsEntry"), dict) else None
        if isinstance(dns, str) and dns and not svc.get("custom_domain"):
            self.warn(f"service {name} is reached at {dns} in AWS; latsim derives its own generated name for it "
                      "(use `latsim show` to see it, or give clients the custom domain)", rec.where, severity="info")
        self._auth(svc, sid, d, rec.where, f"service {name}")
        tags = self.inv.tags.get(sid)
        if tags:
            svc["tags"] = dict(tags)
        listeners: list[dict[str, Any]] = []
        for lid, lrec in sorted(self.inv.listeners.get(sid, {}).items(),
                                key=lambda kv: (kv[1].data.get("port") or 0, kv[0])):
            lst = self._listener(sid, lid, lrec, name)
            if lst is not None:
                self.prov[("services", index, "listeners", len(listeners))] = lrec.where
                listeners.append(lst)
        if sid in self.inv.services and sid not in self.inv.listeners:
            self.warn(f"service {name}: no listeners were listed", rec.where,
                      hint=f"add list-listeners--{sid}.json and get-listener outputs", severity="info")
        svc["listeners"] = listeners
        return svc

    def _auth(self, out: dict[str, Any], rid: str, d: dict[str, Any], where: Location, label: str) -> None:
        auth_type = d.get("authType")
        if auth_type in ("NONE", "AWS_IAM"):
            out["auth_type"] = auth_type
        elif auth_type is None:
            self.warn(f"{label}: its auth type is unknown (only a summary was read); latsim assumes NONE", where,
                      hint="add the get-service / get-service-network output")
        pol = self.inv.auth_policies.get(rid)
        if pol is not None:
            doc = _policy_doc(pol.data.get("policy"), pol.where, label, self.warnings)
            if doc is not None:
                out["auth_policy"] = doc

    def _listener(self, sid: str, lid: str, rec: Rec, svc_name: str) -> dict[str, Any] | None:
        d = rec.data
        lname = slug(str(d.get("name") or ""), 63)
        protocol = d.get("protocol")
        lst: dict[str, Any] = {}
        if lname and len(lname) >= 3:
            lst["name"] = lname
        if protocol in ("HTTP", "HTTPS", "TLS_PASSTHROUGH"):
            lst["protocol"] = protocol
        if isinstance(d.get("port"), int):
            lst["port"] = d["port"]
        default = self._action(d.get("defaultAction"), rec.where, f"{svc_name}/{lname or lid} default action")
        if default is None:
            self.warn(f"listener {lname or lid} of service {svc_name}: its default action was not read; latsim uses "
                      "a fixed 404", rec.where, hint=f"add get-listener--{sid}--{lid}.json")
            default = {"fixed_response": 404}
        lst["default_action"] = default
        rules = []
        taken: set[str] = set()
        for rid, rrec in sorted(self.inv.rules.get((sid, lid), {}).items(),
                                key=lambda kv: (kv[1].data.get("priority") or 0, kv[0])):
            rule = self._rule(rid, rrec, svc_name, taken)
            if rule is not None:
                rules.append(rule)
        if rules:
            lst["rules"] = rules
        return lst

    def _rule(self, rid: str, rec: Rec, svc_name: str, taken: set[str]) -> dict[str, Any] | None:
        d = rec.data
        if d.get("isDefault") is True:
            return None
        label = f"rule {d.get('name') or rid} of service {svc_name}"
        if "match" not in d or "action" not in d:
            self.warn(f"{label}: only its summary was read; it is left out", rec.where,
                      hint="add the get-rule output for it")
            return None
        if not isinstance(d.get("priority"), int):
            self.warn(f"{label} has no priority; it is left out", rec.where)
            return None
        match = self._match(d.get("match"), rec.where, label)
        action = self._action(d.get("action"), rec.where, label)
        if match is None or action is None:
            return None
        base = slug(str(d.get("name") or rid), 63)
        name = unique_name(base if len(base) >= 3 else f"rule-{base}", taken, 63, rid[-6:])
        return {"name": name, "priority": d["priority"], "match": match, "action": action}

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
            if tgid not in self.tg_names:
                self.warn(f"{label} forwards to target group {tgid}, which was not imported; that share is left out",
                          where, hint=f"add get-target-group--{tgid}.json")
                continue
            entry: dict[str, Any] = {"target_group": self.tg_names[tgid]}
            if isinstance(w.get("weight"), int):
                entry["weight"] = w["weight"]
            out.append(entry)
        if not out:
            self.warn(f"{label} forwards to no imported target group; latsim answers with a fixed 500", where)
            return {"fixed_response": 500}
        return {"forward": out}

    # -- service networks ---------------------------------------------------------------------
    def _service_networks(self, sns: dict[str, Rec]) -> list[dict[str, Any]]:
        taken: set[str] = set()
        out: list[dict[str, Any]] = []
        for snid, rec in sns.items():
            d = rec.data
            acct = self.account_of(d.get("arn"))
            name = unique_name(slug(str(d.get("name") or snid)) or snid, taken, 63, acct[-4:])
            sn: dict[str, Any] = {"name": name, "account": acct}
            self.prov[("service_networks", len(out))] = rec.where
            if _SN_ID.match(snid):
                sn["id"] = snid
            self._auth(sn, snid, d, rec.where, f"service network {name}")
            shared = self._shared_with(d, acct)
            assocs = self._sn_vpc_associations(snid, name)
            svcs = self._sn_services(snid, name)
            inferred = set()
            for a in assocs:
                vacct = self._vpc_account(a["vpc"])
                if vacct and vacct != acct:
                    inferred.add(vacct)
            inferred |= {self.svc_accounts[sid] for sid in self._sn_service_ids(snid)} - {acct}
            for extra in sorted(inferred - set(shared)):
                shared.append(extra)
                self.warn(f"service network {name} has associations from account {extra}, so it is shared with it "
                          "(AWS RAM); latsim adds that share", rec.where, severity="info")
            if shared:
                sn["shared_with"] = shared
            if assocs:
                sn["vpc_associations"] = assocs
            if svcs:
                sn["services"] = svcs
            tags = self.inv.tags.get(snid)
            if tags:
                sn["tags"] = dict(tags)
            self.sn_names[snid] = name
            out.append(sn)
        return out

    def _shared_with(self, d: dict[str, Any], owner: str) -> list[str]:
        arn = d.get("arn")
        out: list[str] = []
        for share, resources in sorted(self.inv.share_resources.items()):
            if arn not in resources or share in self.inv.inactive_shares:
                continue
            for p in sorted(self.inv.share_principals.get(share, set())):
                target = self._principal(p)
                if target and target != owner and target not in out:
                    out.append(target)
                    if re.fullmatch(r"\d{12}", target):
                        self.accounts.add(target)
        return out

    @staticmethod
    def _principal(p: str) -> str | None:
        if re.fullmatch(r"\d{12}", p):
            return p
        m = re.search(r"organization/(o-[a-z0-9]+)$", p)
        if m:
            return m.group(1)
        m = re.search(r"/(ou-[a-z0-9-]+)$", p)
        if m:
            return m.group(1)
        return None

    def _vpc_account(self, vpc_name: str) -> str | None:
        for vid, name in self.vpc_names.items():
            if name == vpc_name:
                return self.vpc_accounts.get(vid)
        return None

    def _sn_vpc_associations(self, snid: str, sn_name: str) -> list[dict[str, Any]]:
        out = []
        for aid, rec in sorted(self.inv.vpc_associations.items()):
            d = rec.data
            if d.get("serviceNetworkId") != snid and arn_parts(d.get("serviceNetworkArn")).get("sn") != snid:
                continue
            if d.get("status") not in _LIVE_STATES:
                self.warn(f"the association of VPC {d.get('vpcId')} with {sn_name} is {d.get('status')}; it is left "
                          "out", rec.where, severity="info")
                continue
            vid = d.get("vpcId")
            if not isinstance(vid, str) or vid not in self.vpc_names:
                continue
            assoc: dict[str, Any] = {"vpc": self.vpc_names[vid]}
            if "securityGroupIds" not in d:
                self.warn(f"the association {aid} of VPC {vid} with {sn_name} was only listed, so its security groups "
                          "are unknown; latsim assumes none (every client in the VPC is admitted)", rec.where,
                          hint=f"add get-service-network-vpc-association--{aid}.json")
            sgs = []
            for sg in d.get("securityGroupIds") or []:
                if sg in self.sg_names:
                    sgs.append(self.sg_names[sg])
                else:
                    self.warn(f"association security group {sg} was not described; it is left out", rec.where,
                              hint="add describe-security-groups output for the associated VPC")
            if sgs:
                assoc["security_groups"] = sgs
            out.append(assoc)
        return out

    def _sn_service_ids(self, snid: str) -> list[str]:
        out = []
        for rec in self.inv.service_associations.values():
            d = rec.data
            if d.get("serviceNetworkId") != snid and arn_parts(d.get("serviceNetworkArn")).get("sn") != snid:
                continue
            sid = d.get("serviceId") or arn_parts(d.get("serviceArn")).get("svc")
            if sid in self.svc_names and d.get("status") in _LIVE_STATES and sid not in out:
                out.append(sid)
        return out

    def _sn_services(self, snid: str, sn_name: str) -> list[str]:
        for _aid, rec in sorted(self.inv.service_associations.items()):
            d = rec.data
            if d.get("serviceNetworkId") != snid and arn_parts(d.get("serviceNetworkArn")).get("sn") != snid:
                continue
            sid = d.get("serviceId") or arn_parts(d.get("serviceArn")).get("svc")
            if d.get("status") not in _LIVE_STATES:
                self.warn(f"the association of service {d.get('serviceName') or sid} with {sn_name} is "
                          f"{d.get('status')}; it is left out", rec.where, severity="info")
            elif sid not in self.svc_names:
                self.warn(f"service {d.get('serviceName') or sid} is associated with {sn_name} but was not read "
                          "(another account's service?); the association is left out", rec.where,
                          hint="import that account too (get-service output in the same folder)")
        return [self.svc_names[s] for s in self._sn_service_ids(snid)]

    def _endpoints(self, vpcs: list[dict[str, Any]], sns: list[dict[str, Any]]) -> None:
        names = self.sn_names
        by_name = {v["name"]: v for v in vpcs}
        for rec in sorted(self.inv.endpoint_associations.values(), key=lambda r: str(r.data.get("id"))):
            d = rec.data
            if d.get("state") not in (None, "available", "Available", "ACTIVE"):
                continue
            vid, sn = d.get("vpcId"), d.get("_sn")
            if vid in self.vpc_names and sn in names:
                vpc = by_name[self.vpc_names[vid]]
                eps = vpc.setdefault("service_network_endpoints", [])
                if names[sn] not in eps:
                    eps.append(names[sn])

    def _access_logs(self) -> dict[str, Any] | None:
        sn_names = self.sn_names
        svcs: list[str] = []
        nets: list[str] = []
        for rec in sorted(self.inv.access_logs.values(), key=lambda r: str(r.data.get("id"))):
            rid = _ident(rec.data.get("resourceId") or rec.data.get("resourceArn"))
            if rid in self.svc_names and self.svc_names[rid] not in svcs:
                svcs.append(self.svc_names[rid])
            elif rid in sn_names and sn_names[rid] not in nets:
                nets.append(sn_names[rid])
            dest = rec.data.get("destinationArn")
            self.warn(f"access-log subscription {rec.data.get('id')} sends logs to {dest}; latsim writes its "
                      "simulated logs to files instead", rec.where, severity="info")
        if not svcs and not nets:
            return None
        out: dict[str, Any] = {"enabled": True}
        if svcs:
            out["services"] = svcs
        if nets:
            out["service_networks"] = nets
        return out


def map_inventory(inv: Inventory, *, name: str = "aws-import",
                  description: str | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """The one mapping from API response shapes to a scenario-shaped dict (live and JSON alike)."""
    mapper = _Mapper(inv, name, description)
    data = mapper.run()
    return data, mapper.warnings


def _result(inv: Inventory, name: str, description: str, source: str) -> ImportResult:
    mapper = _Mapper(inv, name, description)
    data = mapper.run()
    result = ImportResult(data=data, warnings=mapper.warnings, source=source, provenance=mapper.prov)
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
            parts_arn = arn_parts(items[0].get("arn"))
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
            region = arn_parts(arn).get("region")
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
           "map_inventory", "region_short", "slug", "unique_name"]
