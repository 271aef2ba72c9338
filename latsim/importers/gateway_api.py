"""Import Kubernetes Gateway API manifests the way the AWS Gateway API controller maps them to
VPC Lattice (docs/lattice.md §11; aws/aws-application-networking-k8s).

What becomes what:

* ``Gateway`` (class ``amazon-vpc-lattice``) -> the service network **of the same name** (the
  namespace is ignored), owned by the account of the first cluster that declares it, associated
  with every declaring cluster's VPC (one association per VPC; ``VpcAssociationPolicy`` adds its
  security groups or switches the association off). A cluster in another account than the owner
  needs the network shared through AWS RAM: latsim adds that share and says so.
* ``HTTPRoute`` / ``GRPCRoute`` / ``TLSRoute`` -> a service named ``<route≤20>-<namespace≤18>``
  (or the ``service-name-override`` annotation), one listener per ``parentRefs`` entry of the first
  Gateway (``sectionName`` picks the Gateway listener, else its first), associated with every
  parent Gateway's network unless ``application-networking.k8s.aws/standalone: "true"`` (route
  annotation over Gateway annotation). ``hostnames[0]`` is the custom domain.
* route rules -> Lattice rules named ``rule-<index>``; priority ``index + 1``, or the
  ``application-networking.k8s.aws/rule-<index>-priority`` annotation (zero-based index); when
  any rule is annotated, the unannotated ones get priorities after the highest annotated one.
  HTTP/HTTPS listeners answer unmatched requests with a fixed 404; a TLSRoute's listener forwards
  its (single) rule's backends. An HTTPRoute match maps path ``Exact``/``PathPrefix``, method and
  ``Exact`` headers (at most 5); a rule without matches matches prefix ``/``. A GRPCRoute match
  forces ``POST`` and the path ``/<service>/<method>`` (exact) or ``/<service>/`` (prefix).
* ``backendRefs`` -> the forward action; ``weight`` (default 1) is the target-group weight. A
  backend ``Service`` becomes an IP target group ``k8s-<ns>-<svc>-<hash>`` per route, with
  one pod target per replica of the Deployments and StatefulSets its ``selector`` matches (else
  ``pods_per_service``), with IPs in the cluster VPC (HTTP/HTTP1; GRPC for a
  GRPCRoute; TCP for a TLSRoute). ``ServiceExport`` creates a standalone target group in its
  cluster; a ``ServiceImport`` backend (in any cluster) resolves to it by name and namespace,
  narrowed by the ``aws-eks-cluster-name`` / ``aws-vpc`` annotations.
* ``TargetGroupPolicy`` -> protocol, protocol version and health check of the target groups of its
  Service or ServiceExport. ``IAMAuthPolicy`` -> auth type ``AWS_IAM`` plus the policy, on the
  network (Gateway) or the service (HTTPRoute/GRPCRoute). ``AccessLogPolicy`` -> the scenario's
  ``access_logs`` section (latsim writes files, not to the destination ARN).

Where the controller would refuse a route (query-parameter matches, regular expressions, more than
one match per rule, more than 5 headers, a GRPC method without a service, ...) the route is left
out with a warning that points at the field; fields Lattice has no equivalent for (filters,
timeouts, extra hostnames) are ignored with a warning. Nothing in the manifests is executed or
fetched: YAML is read as plain data.

Objects are applied in order, as ``kubectl apply -f`` of the files would: an object named again
(same cluster, API group, kind, namespace and name) replaces the earlier one, with a located note.
Within one YAML document a duplicate key is an error, as kubectl (strict decoding) reports it.

What the controller would create is handed to ``common.ScenarioBuilder``, the one builder of every
importer, so the controller's names (``<route>-<namespace>``, ``k8s-<ns>-<svc>-<hash>``,
``rule-<index>``) come out as the same objects imported from the account or a template would.

Clusters: every manifest belongs to the cluster ``cluster`` unless its path is written
``NAME=PATH``. ``cluster_vpc`` gives the cluster VPC in scenario shape (``{name, cidr, azs,
account, id}``), or a mapping from cluster name to such a VPC, or a whole overlay whose ``vpcs``
are named ``<cluster>`` or ``<cluster>-vpc`` (or whose only VPC serves the only cluster), so the
pod IPs fall inside the CIDR the overlay gives. Without it each cluster gets ``<cluster>-vpc``:
192.168.0.0/16 (eksctl's default) in use1-az1 and use1-az2, account 111111111111.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, ScenarioError
from latsim.importers.common import DEFAULT_REGION, ImportResult, ScenarioBuilder, slug
from latsim.model.base import stable_hex
from latsim.model.service import PATH_PATTERN
from latsim.scenario import Positions, read_text
from latsim.source import parse_documents

Keys = tuple[str | int, ...]
ANN = "application-networking.k8s.aws/"
LATTICE_CLASS = "amazon-vpc-lattice"
CONTROLLER_NAME = "application-networking.k8s.aws/gateway-api-controller"
DEFAULT_CLUSTER = "cluster"
DEFAULT_ACCOUNT = "111111111111"
DEFAULT_CIDR = "192.168.0.0/16"
DEFAULT_AZS = ("use1-az1", "use1-az2")
MAX_HEADERS = 5
MAX_RULES = 10
MAX_LISTENERS = 2
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute")
IGNORED_KINDS = {"Namespace", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "ConfigMap", "Secret",
                 "ServiceAccount", "ReferenceGrant", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Role",
                 "RoleBinding", "ClusterRole", "ClusterRoleBinding", "NetworkPolicy", "Job", "CronJob"}
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_PATH_RE = re.compile(PATH_PATTERN)


# --- reading manifests ----------------------------------------------------------------------

@dataclass
class Obj:
    """One Kubernetes object, with the cluster it belongs to and a way to locate its fields."""

    kind: str
    name: str
    namespace: str
    cluster: str
    body: dict[str, Any]
    pos: Positions
    base: Keys

    def loc(self, *keys: str | int) -> Location:
        return self.pos.locate(self.base + tuple(keys), at_key=True)

    @property
    def annotations(self) -> dict[str, str]:
        meta = self.body.get("metadata")
        ann = meta.get("annotations") if isinstance(meta, dict) else None
        return {str(k): str(v) for k, v in ann.items()} if isinstance(ann, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def _cluster_and_path(entry: str) -> tuple[str, str]:
    m = re.match(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?)=(.+)$", entry)
    if m and not Path(entry).exists():
        return m.group(1), m.group(3)
    return DEFAULT_CLUSTER, entry


def read_manifests(paths: Iterable[str]) -> tuple[list[Obj], list[Problem]]:
    """All objects of all manifests (``kind: List`` expanded), and every problem found reading them."""
    objs: list[Obj] = []
    problems: list[Problem] = []
    for entry in paths:
        cluster, path = _cluster_and_path(str(entry))
        try:
            text = read_text(path)
        except ScenarioError as exc:
            problems.extend(exc.all_problems)
            continue
        for doc in parse_documents(text, path):
            if isinstance(doc, list):
                problems.extend(doc)
            else:
                _objects(doc[0], doc[1], (), cluster, objs, problems)
    return objs, problems


def _objects(data: Any, pos: Positions, base: Keys, cluster: str, out: list[Obj], problems: list[Problem]) -> None:
    if not isinstance(data, dict):
        problems.append(Problem("a Kubernetes manifest document is a mapping with apiVersion, kind and metadata",
                                pos.locate(base), code="manifest"))
        return
    kind = data.get("kind")
    if kind == "List" or (isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list)):
        for i, item in enumerate(data.get("items") or []):
            _objects(item, pos, base + ("items", i), cluster, out, problems)
        return
    if not isinstance(kind, str) or not kind:
        problems.append(Problem("missing 'kind'", pos.locate(base), code="manifest"))
        return
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        problems.append(Problem(f"{kind} without metadata.name", pos.locate(base + ("metadata",)), code="manifest"))
        return
    found: list[Problem] = []
    _check(_SCHEMAS.get(kind, _OBJECT), data, base, pos, found)
    if found:  # a malformed object is reported and not mapped
        problems.extend(found)
        return
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    out.append(Obj(kind, name, ns or "default", cluster, data, pos, base))


def _api_group(o: Obj) -> str:
    api = o.body.get("apiVersion")
    return str(api).rsplit("/", 1)[0] if isinstance(api, str) and "/" in api else ""


def apply_in_order(objs: list[Obj], problems: list[Problem]) -> list[Obj]:
    """``kubectl apply`` of the files in order: an object named again (same cluster, API group,
    kind, namespace and name) replaces the earlier one, which keeps its place; a located note says so."""
    out: list[Obj] = []
    where: dict[tuple[str, str, str, str, str], int] = {}
    for o in objs:
        key = (o.cluster, _api_group(o), o.kind, o.namespace, o.name)
        if key in where:
            first = out[where[key]]
            was = first.loc("metadata", "name")
            problems.append(Problem(f"{o.label} is applied again (first at {was.prefix().split(': ')[0]}); the later "
                                    "one wins, as with kubectl apply of the files in order",
                                    o.loc("metadata", "name"), severity="info", code="reapplied"))
            out[where[key]] = o
        else:
            where[key] = len(out)
            out.append(o)
    return out


# --- the structure latsim reads, checked before anything is mapped ---------------------------

_STR, _INT, _BOOL = str, int, bool
_META = {"name": _STR, "namespace": _STR, "annotations": {_STR: _STR}, "labels": {_STR: _STR}}
_OBJECT: dict[Any, Any] = {"metadata": _META, "spec": {}}
_REF = {"group": _STR, "kind": _STR, "name": _STR, "namespace": _STR}
_PARENT = {**_REF, "sectionName": _STR, "port": _INT}
_BACKEND = {**_REF, "port": _INT, "weight": _INT, "filters": [object]}
_HEADERS = [{"name": _STR, "value": _STR, "type": _STR}]
_ROUTE_SPEC = {"parentRefs": [_PARENT], "hostnames": [_STR], "rules": [{"backendRefs": [_BACKEND]}]}
_SCHEMAS: dict[str, Any] = {
    "Gateway": {"metadata": _META, "spec": {"gatewayClassName": _STR, "listeners": [
        {"name": _STR, "protocol": _STR, "port": _INT,
         "tls": {"mode": _STR, "options": {_STR: _STR}, "certificateRefs": [object]}}]}},
    "GatewayClass": {"metadata": _META, "spec": {"controllerName": _STR}},
    "HTTPRoute": {"metadata": _META, "spec": {**_ROUTE_SPEC, "rules": [
        {"backendRefs": [_BACKEND], "matches": [{"path": {"type": _STR, "value": _STR}, "method": _STR,
                                                  "headers": _HEADERS, "queryParams": [object]}]}]}},
    "GRPCRoute": {"metadata": _META, "spec": {**_ROUTE_SPEC, "rules": [
        {"backendRefs": [_BACKEND], "matches": [{"method": {"type": _STR, "service": _STR, "method": _STR},
                                                  "headers": _HEADERS}]}]}},
    "TLSRoute": {"metadata": _META, "spec": _ROUTE_SPEC},
    "Service": {"metadata": _META, "spec": {"ports": [{"name": _STR, "port": _INT, "targetPort": (_INT, _STR),
                                                       "protocol": _STR}], "selector": {_STR: _STR}}},
    "ServiceExport": {"metadata": _META, "spec": {"exportedPorts": [{"port": _INT, "routeType": _STR}]}},
    "ServiceImport": _OBJECT,
    "TargetGroupPolicy": {"metadata": _META, "spec": {"targetRef": _REF, "protocol": _STR, "protocolVersion": _STR,
                                                      "healthCheck": {}}},
    "IAMAuthPolicy": {"metadata": _META, "spec": {"targetRef": _REF, "policy": (_STR, dict)}},
    "AccessLogPolicy": {"metadata": _META, "spec": {"targetRef": _REF, "destinationArn": _STR}},
    "VpcAssociationPolicy": {"metadata": _META, "spec": {"targetRef": _REF, "securityGroupIds": [_STR],
                                                         "associateWithVpc": _BOOL}},
}
_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "a mapping", list: "a list"}


def _check(schema: Any, value: Any, keys: Keys, pos: Positions, out: list[Problem]) -> None:
    """Check the fields latsim reads: a dict schema names keys (others are not looked at), a
    one-item list schema types every item, ``{str: str}`` is a map, a type or tuple is a leaf."""
    def bad(expected: str) -> None:
        out.append(Problem(f"expected {expected}, got {type(value).__name__} {value!r:.40}",
                           pos.locate(keys, at_key=True), code="manifest"))

    if schema is object:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            bad("a mapping")
            return
        if len(schema) == 1 and next(iter(schema)) is str:
            vtype = schema[str]
            for k, v in value.items():
                if not isinstance(v, vtype) or isinstance(v, bool) and vtype is not bool:
                    out.append(Problem(f"expected a string value for '{k}', got {type(v).__name__} {v!r:.40}",
                                       pos.locate(keys + (k,)), code="manifest",
                                       hint="quote it: Kubernetes annotations and labels are strings"))
            return
        for k, sub in schema.items():
            if k in value and value[k] is not None:
                _check(sub, value[k], keys + (k,), pos, out)
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            bad("a list")
            return
        for i, item in enumerate(value):
            _check(schema[0], item, keys + (i,), pos, out)
        return
    types = schema if isinstance(schema, tuple) else (schema,)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        bad(" or ".join(_KIND_NAMES.get(t, t.__name__) for t in types))


# --- names ------------------------------------------------------------------------------------

def _trunc(text: str, n: int) -> str:
    return text[:n]


def service_name(route: str, namespace: str) -> str:
    """The controller's service name: ``<route truncated to 20>-<namespace truncated to 18>``."""
    return f"{_trunc(route, 20)}-{_trunc(namespace, 18)}"


# --- clusters ---------------------------------------------------------------------------------

@dataclass
class Cluster:
    name: str
    vpc: dict[str, Any]
    used_ips: set[str] = field(default_factory=set)

    @property
    def account(self) -> str:
        return str(self.vpc["account"])

    @property
    def vpc_name(self) -> str:
        return str(self.vpc["name"])


_VPC_KEYS = {"name", "id", "account", "cidr", "azs", "tags", "service_network_endpoints"}


def _cluster_vpc(name: str, spec: Any, where: str, problems: list[Problem]) -> dict[str, Any]:
    vpc: dict[str, Any] = {"name": f"{name}-vpc", "account": DEFAULT_ACCOUNT, "cidr": [DEFAULT_CIDR],
                           "azs": list(DEFAULT_AZS)}
    if spec is None:
        return vpc
    if not isinstance(spec, dict):
        problems.append(Problem("the cluster VPC is a mapping {name, cidr, azs, account, id}", Location(path=where),
                                code="cluster-vpc"))
        return vpc
    for key, value in spec.items():
        if key not in _VPC_KEYS:
            problems.append(Problem(f"unknown key '{key}'", Location(path=f"{where}.{key}"),
                                    allowed=f"allowed: {', '.join(sorted(_VPC_KEYS))}", code="cluster-vpc"))
            continue
        vpc[key] = value
    cidrs = vpc["cidr"] if isinstance(vpc["cidr"], list) else [vpc["cidr"]]
    if not cidrs:  # the pod addresses are drawn from the first
        problems.append(Problem("cidr is a non-empty list of CIDR blocks", Location(path=f"{where}.cidr"),
                                code="cluster-vpc"))
    for c in cidrs:
        try:
            net = ipaddress.ip_network(str(c), strict=True)
        except ValueError as exc:
            problems.append(Problem(f"'{c}' is not a CIDR block: {exc}", Location(path=f"{where}.cidr"),
                                    code="cluster-vpc"))
        else:
            if net.num_addresses < 16:  # the pod addresses are drawn from it
                problems.append(Problem(f"'{c}' is too small for a VPC", Location(path=f"{where}.cidr"),
                                        allowed="/16 to /28", code="cluster-vpc"))
    vpc["cidr"] = [str(c) for c in cidrs]
    azs = vpc["azs"] if isinstance(vpc["azs"], list) else [vpc["azs"]]
    if not azs or not all(isinstance(a, str) and a for a in azs):
        problems.append(Problem("azs is a non-empty list of AZ ids", Location(path=f"{where}.azs"), code="cluster-vpc"))
        azs = list(DEFAULT_AZS)
    vpc["azs"] = azs
    if not re.fullmatch(r"\d{12}", str(vpc["account"])):
        problems.append(Problem(f"account '{vpc['account']}' is not a 12-digit account id",
                                Location(path=f"{where}.account"), code="cluster-vpc"))
        vpc["account"] = DEFAULT_ACCOUNT
    vpc["account"] = str(vpc["account"])
    if not isinstance(vpc["name"], str) or not vpc["name"]:
        problems.append(Problem("name is a non-empty string", Location(path=f"{where}.name"), code="cluster-vpc"))
        vpc["name"] = f"{name}-vpc"
    return vpc


def _clusters(names: list[str], cluster_vpc: dict[str, Any] | None, problems: list[Problem]) -> dict[str, Cluster]:
    """One Cluster per name. ``cluster_vpc`` is one VPC for every cluster, a mapping cluster ->
    VPC, or a whole overlay (its ``vpcs`` named ``<cluster>`` or ``<cluster>-vpc``, or its only VPC)."""
    per: dict[str, Any] = {}
    where: dict[str, str] = {}
    if isinstance(cluster_vpc, dict) and "vpcs" in cluster_vpc:
        vpcs = [v for v in cluster_vpc["vpcs"] if isinstance(v, dict)] if isinstance(cluster_vpc["vpcs"], list) else []
        for n in names:
            for i, v in enumerate(vpcs):
                if v.get("name") in (n, f"{n}-vpc") or (len(vpcs) == 1 and len(names) == 1):
                    per[n], where[n] = {k: x for k, x in v.items() if k in _VPC_KEYS}, f"overlay.vpcs.{i}"
                    break
    elif isinstance(cluster_vpc, dict) and ("cidr" in cluster_vpc or "name" in cluster_vpc):
        per = {n: cluster_vpc for n in names}
        where = {n: "cluster_vpc" for n in names}
    else:
        per = dict(cluster_vpc or {})
        where = {n: f"cluster_vpc.{n}" for n in names}
        for extra in sorted(set(per) - set(names)):
            problems.append(Problem(f"cluster '{extra}' has a VPC but no manifest", Location(path=f"cluster_vpc.{extra}"),
                                    severity="warning", code="cluster-vpc"))
    return {n: Cluster(n, _cluster_vpc(n, per.get(n), where.get(n, "cluster_vpc"), problems)) for n in names}


# --- the mapping ------------------------------------------------------------------------------

@dataclass
class _Tg:
    name: str
    data: dict[str, Any]
    cluster: str
    service_key: tuple[str, str, str]  # (cluster, namespace, k8s service) whose pods are the targets
    kind: str                         # route kind or "ServiceExport"
    used_by: str | None = None        # Lattice service using it
    loc: Location = field(default_factory=Location)


class _Importer:
    def __init__(self, objs: list[Obj], pods: int, cluster_vpc: dict[str, Any] | None,
                 problems: list[Problem]) -> None:
        self.objs = objs
        self.pods = pods
        self.errors: list[Problem] = [p for p in problems if p.severity == "error"]
        self.warnings: list[Problem] = [p for p in problems if p.severity != "error"]
        names = sorted({o.cluster for o in objs} or {DEFAULT_CLUSTER})
        self.clusters = _clusters(names, cluster_vpc, self.errors)
        self.by_kind: dict[str, list[Obj]] = {}
        for o in objs:
            self.by_kind.setdefault(o.kind, []).append(o)
        self.sns: dict[str, dict[str, Any]] = {}
        self.sn_loc: dict[str, Location] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.svc_loc: dict[str, Location] = {}
        self.route_service: dict[tuple[str, str, str, str], str] = {}  # (cluster, kind, ns, name) -> service
        self.tgs: dict[str, _Tg] = {}
        self.tg_by_key: dict[tuple[Any, ...], str] = {}
        self.exports: list[tuple[Obj, str]] = []  # (ServiceExport, tg name)
        self.pod_cache: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        self.security_groups: dict[str, dict[str, Any]] = {}
        self.access_logs: list[tuple[str, Location, str | None]] = []  # (sn or service name, policy, destination)
        self.locs: dict[tuple[str, str], Location] = {}  # (what, name) -> where the manifests declare it
        self.gateway_classes = {LATTICE_CLASS}
        for gc in self.by_kind.get("GatewayClass", []):
            if gc.spec.get("controllerName") == CONTROLLER_NAME:
                self.gateway_classes.add(gc.name)

    def warn(self, message: str, where: Location, *, severity: str = "warning", hint: str | None = None,
             code: str = "gateway-api") -> None:
        self.warnings.append(Problem(message, where, hint=hint, severity=severity, code=code))

    def error(self, message: str, where: Location, *, hint: str | None = None, code: str = "gateway-api") -> None:
        self.errors.append(Problem(message, where, hint=hint, code=code))

    # -- run ------------------------------------------------------------------------------------
    def run(self) -> ScenarioBuilder:
        for o in self.objs:
            if o.kind in IGNORED_KINDS:
                continue
            if o.kind not in ("Gateway", "GatewayClass", "Service", "ServiceExport", "ServiceImport",
                              "TargetGroupPolicy", "IAMAuthPolicy", "AccessLogPolicy", "VpcAssociationPolicy",
                              "ServiceNetwork", *ROUTE_KINDS):
                hint = "the AWS Gateway API controller supports HTTPRoute, GRPCRoute and TLSRoute" \
                    if o.kind.endswith("Route") else None
                self.warn(f"{o.label}: kind {o.kind} is not mapped to VPC Lattice; ignored", o.loc("kind"), hint=hint)
        self._gateways()
        self._exports()
        for kind in ROUTE_KINDS:
            for route in self.by_kind.get(kind, []):
                self._route(route)
        self._auth_policies()
        self._access_log_policies()
        self._unused_policies()
        return self._build()

    # -- gateways and service networks --------------------------------------------------------
    def _lattice_gateway(self, gw: Obj) -> bool:
        cls = gw.spec.get("gatewayClassName")
        if cls in self.gateway_classes:
            return True
        self.warn(f"{gw.label}: gatewayClassName '{cls}' is not VPC Lattice's ({LATTICE_CLASS}); ignored",
                  gw.loc("spec", "gatewayClassName"), severity="info")
        return False

    def _gateways(self) -> None:
        for sn_obj in self.by_kind.get("ServiceNetwork", []):
            self._sn(sn_obj.name, self.clusters[sn_obj.cluster], sn_obj.loc("metadata", "name"))
        associated: dict[str, str] = {}  # vpc name -> sn
        vap = {(p.cluster, p.namespace, str(_ref(p).get("name"))): p for p in self.by_kind.get("VpcAssociationPolicy", [])
               if _ref(p).get("kind") == "Gateway"}
        for gw in self.by_kind.get("Gateway", []):
            if not self._lattice_gateway(gw):
                continue
            cluster = self.clusters[gw.cluster]
            sn = self._sn(gw.name, cluster, gw.loc("metadata", "name"))
            if not isinstance(gw.spec.get("listeners"), list) or not gw.spec["listeners"]:
                self.warn(f"{gw.label} has no listeners; routes cannot attach to it", gw.loc("spec"))
            policy = vap.get((gw.cluster, gw.namespace, gw.name))
            associate, sgs = True, []
            if policy is not None:
                policy.body["__used__"] = True
                associate = policy.spec.get("associateWithVpc", True) is not False
                sgs = self._policy_sgs(policy, cluster)
            if not associate:
                continue
            vpc = cluster.vpc_name
            if vpc in associated and associated[vpc] != sn["name"]:
                self.warn(f"{gw.label}: VPC {vpc} of cluster {cluster.name} is already associated with service network "
                          f"{associated[vpc]}; a VPC has one association, so it is not associated with {sn['name']}",
                          gw.loc("metadata", "name"), hint="use a service-network VPC endpoint for the second network")
                continue
            if vpc in associated:
                continue
            associated[vpc] = sn["name"]
            assoc: dict[str, Any] = {"vpc": vpc}
            if sgs:
                assoc["security_groups"] = sgs
            sn.setdefault("vpc_associations", []).append(assoc)
            self._share(sn, cluster.account, gw.loc("metadata", "name"), f"its VPC {vpc}")

    def _sn(self, name: str, cluster: Cluster, where: Location) -> dict[str, Any]:
        sn_name = slug(name, 63)
        if len(sn_name) < 3:
            self.error(f"Gateway name '{name}' cannot name a VPC Lattice service network", where,
                       hint="service-network names have 3-63 characters of a-z, 0-9 and '-'")
        elif sn_name != name:
            self.warn(f"Gateway name '{name}' is not a valid service-network name; latsim uses '{sn_name}'", where)
        if sn_name not in self.sns:
            self.sns[sn_name] = {"name": sn_name, "account": cluster.account}
            self.sn_loc[sn_name] = where
        return self.sns[sn_name]

    def _share(self, sn: dict[str, Any], account: str, where: Location, what: str) -> None:
        if account == sn["account"] or account in sn.get("shared_with", []):
            return
        sn.setdefault("shared_with", []).append(account)
        self.warn(f"service network {sn['name']} (account {sn['account']}) is used by account {account} for {what}: "
                  "the controller there finds it only if it is shared through AWS RAM; latsim adds that share",
                  where, severity="info")

    def _policy_sgs(self, policy: Obj, cluster: Cluster) -> list[str]:
        ids = policy.spec.get("securityGroupIds") or []
        if not isinstance(ids, list):
            self.error("securityGroupIds is a list of security-group ids", policy.loc("spec", "securityGroupIds"))
            return []
        out = []
        for i, sg in enumerate(ids):
            if not isinstance(sg, str) or not sg:
                self.error("a security-group id is a string", policy.loc("spec", "securityGroupIds", i))
                continue
            if sg not in self.security_groups:
                ports = sorted({int(lst["port"]) for gw in self.by_kind.get("Gateway", []) if gw.cluster == cluster.name
                                for lst in gw.spec.get("listeners") or []
                                if isinstance(lst, dict) and isinstance(lst.get("port"), int)}) or [80, 443]
                item: dict[str, Any] = {"name": sg}
                if re.fullmatch(r"sg-[0-9a-f]{8,17}", sg):
                    item["id"] = sg
                item["vpc"] = cluster.vpc_name
                item["description"] = "from a VpcAssociationPolicy; rules assumed (listener ports from the VPC CIDR)"
                item["ingress"] = [{"protocol": "tcp", "ports": ports, "source": c} for c in cluster.vpc["cidr"]]
                self.security_groups[sg] = item
                self.locs[("sg", sg)] = policy.loc("spec", "securityGroupIds", i)
                self.warn(f"security group {sg}: the manifests do not hold its rules; latsim assumes the recommended "
                          f"inbound rule (TCP {', '.join(map(str, ports))} from the cluster VPC CIDR)",
                          policy.loc("spec", "securityGroupIds", i),
                          hint="describe it in an overlay (security_groups: [{name: " + sg + ", ingress: ...}])",
                          severity="info")
            out.append(sg)
        if len(out) > 5:
            self.error(f"{len(out)} security groups on one VPC association", policy.loc("spec", "securityGroupIds"),
                       hint="Lattice allows at most 5")
        return out

    # -- target groups ------------------------------------------------------------------------
    def _k8s_service(self, cluster: str, ns: str, name: str) -> Obj | None:
        for s in self.by_kind.get("Service", []):
            if s.cluster == cluster and s.namespace == ns and s.name == name:
                return s
        return None

    def _target_port(self, svc: Obj | None, port: int) -> int:
        if svc is None:
            return port
        for p in svc.spec.get("ports") or []:
            if isinstance(p, dict) and p.get("port") == port:
                tp = p.get("targetPort")
                return tp if isinstance(tp, int) else port
        return port

    def _replicas(self, cluster: Cluster, ns: str, svc: str) -> int:
        """Pods behind a Service: the replicas of the Deployments and StatefulSets (same cluster and
        namespace) whose pod labels its selector matches; else ``pods_per_service``."""
        service = self._k8s_service(cluster.name, ns, svc)
        selector = service.spec.get("selector") if service is not None else None
        if not isinstance(selector, dict) or not selector:
            return self.pods
        total, found = 0, False
        for kind in ("Deployment", "StatefulSet"):
            for w in self.by_kind.get(kind, []):
                if w.cluster != cluster.name or w.namespace != ns:
                    continue
                template = w.spec.get("template")
                meta = template.get("metadata") if isinstance(template, dict) else None
                labels = meta.get("labels") if isinstance(meta, dict) else None
                if not isinstance(labels, dict) or any(labels.get(k) != v for k, v in selector.items()):
                    continue
                replicas = w.spec.get("replicas", 1)  # Kubernetes' default
                if not isinstance(replicas, int) or isinstance(replicas, bool) or not 0 <= replicas <= 1000:
                    self.warn(f"{w.label}: replicas must be a whole number 0-1000; latsim uses 1",
                              w.loc("spec", "replicas"))
                    replicas = 1
                found = True
                total += replicas
        return min(total, 1000) if found else self.pods

    def _pods(self, cluster: Cluster, ns: str, svc: str) -> list[tuple[str, str]]:
        key = (cluster.name, ns, svc)
        if key in self.pod_cache:
            return self.pod_cache[key]
        nets = [ipaddress.ip_network(c) for c in cluster.vpc["cidr"]]
        net = next((n for n in nets if n.version == 4), nets[0])
        usable = max(1, net.num_addresses - 10)
        pods = []
        for i in range(self._replicas(cluster, ns, svc)):
            h = int(stable_hex("pod", cluster.name, ns, svc, str(i), length=12), 16)
            for probe in range(usable):
                ip = str(net[5 + (h + probe) % usable])
                if ip not in cluster.used_ips:
                    break
            cluster.used_ips.add(ip)
            pods.append((ip, cluster.vpc["azs"][i % len(cluster.vpc["azs"])]))
        self.pod_cache[key] = pods
        return pods

    def _tg_name(self, ns: str, svc: str, *key: str) -> str:
        base = f"k8s-{slug(ns, 55)}-{slug(svc, 55)}".replace("--", "-")
        name = f"{base}-{stable_hex('tg', *key, length=10)}"
        return slug(name, 128)

    def _new_tg(self, key: tuple[Any, ...], cluster: Cluster, ns: str, svc: str, port: int, kind: str,
                where: Location) -> _Tg:
        name = self._tg_name(ns, svc, *map(str, key))
        protocol, version = {"GRPCRoute": ("HTTP", "GRPC"), "TLSRoute": ("TCP", None)}.get(kind, ("HTTP", None))
        k8s_svc = self._k8s_service(cluster.name, ns, svc)
        if k8s_svc is None:
            self.warn(f"Service {ns}/{svc} is not in the manifests of cluster {cluster.name}; latsim assumes port "
                      f"{port} and {self.pods} pods", where, severity="info")
        data: dict[str, Any] = {"name": name, "account": cluster.account, "type": "IP", "vpc": cluster.vpc_name,
                                "protocol": protocol, "port": port}
        if version:
            data["protocol_version"] = version
        tport = self._target_port(k8s_svc, port)
        data["targets"] = [{"id": ip, "az": az, **({"port": tport} if tport != port else {})}
                           for ip, az in self._pods(cluster, ns, svc)]
        data["tags"] = {"K8SServiceName": svc, "K8SServiceNamespace": ns, "K8SClusterName": cluster.name}
        tg = _Tg(name, data, cluster.name, (cluster.name, ns, svc), kind, loc=where)
        self.tgs[name] = tg
        self.tg_by_key[key] = name
        self._apply_tg_policy(tg, "ServiceExport" if kind == "ServiceExport" else "Service")
        return tg

    def _apply_tg_policy(self, tg: _Tg, target_kind: str) -> None:
        cluster, ns, svc = tg.service_key
        for p in self.by_kind.get("TargetGroupPolicy", []):
            ref = _ref(p)
            if p.cluster != cluster or ref.get("kind") != target_kind or ref.get("name") != svc \
                    or (ref.get("namespace") or p.namespace) != ns:
                continue
            p.body["__used__"] = True
            spec = p.spec
            proto = spec.get("protocol")
            if proto is not None:
                if proto in ("HTTP", "HTTPS", "TCP"):
                    tg.data["protocol"] = proto
                else:
                    self.error(f"protocol '{proto}' is not a Lattice target-group protocol", p.loc("spec", "protocol"),
                               hint="HTTP, HTTPS or TCP")
            version = spec.get("protocolVersion")
            if version is not None:
                if version not in ("HTTP1", "HTTP2", "GRPC"):
                    self.error(f"protocolVersion '{version}' is not HTTP1, HTTP2 or GRPC",
                               p.loc("spec", "protocolVersion"))
                elif tg.data.get("protocol") == "TCP":
                    self.warn("protocolVersion is ignored for a TCP target group (the policy does not take effect)",
                              p.loc("spec", "protocolVersion"))
                else:
                    tg.data["protocol_version"] = version
            if tg.kind == "GRPCRoute" and tg.data.get("protocol_version", "HTTP1") != "GRPC":
                self.warn(f"{p.label} makes {tg.name} {tg.data.get('protocol_version', 'HTTP1')} although a "
                          "GRPCRoute uses it: gRPC requests to it will fail", p.loc("spec", "protocolVersion"))
            if tg.data.get("protocol") == "TCP":
                tg.data.pop("protocol_version", None)
            hc = spec.get("healthCheck")
            if hc is not None:
                tg.data["health_check"] = self._health_check(hc, p)

    def _health_check(self, hc: Any, p: Obj) -> dict[str, Any]:
        if not isinstance(hc, dict):
            self.error("healthCheck is a mapping", p.loc("spec", "healthCheck"))
            return {}
        out: dict[str, Any] = {}
        spec = {"enabled": ("enabled", bool), "intervalSeconds": ("interval", int),
                "timeoutSeconds": ("timeout", int), "healthyThresholdCount": ("healthy_threshold", int),
                "unhealthyThresholdCount": ("unhealthy_threshold", int), "path": ("path", str),
                "port": ("port", int), "protocol": ("protocol", str), "protocolVersion": ("protocol_version", str),
                "statusMatch": ("matcher", str)}
        for key, value in hc.items():
            if key not in spec:
                self.warn(f"healthCheck.{key} is not a TargetGroupPolicy field; ignored",
                          p.loc("spec", "healthCheck", key))
                continue
            dst, tp = spec[key]
            if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
                self.error(f"healthCheck.{key} must be {tp.__name__}, got {value!r:.40}",
                           p.loc("spec", "healthCheck", key))
                continue
            out[dst] = f"{value}s" if key in ("intervalSeconds", "timeoutSeconds") else value
        return out

    def _exports(self) -> None:
        for exp in self.by_kind.get("ServiceExport", []):
            cluster = self.clusters[exp.cluster]
            svc_name = exp.annotations.get(ANN + "service-name", exp.name)
            ports: list[tuple[int, str, Location]] = []
            exported = exp.spec.get("exportedPorts")
            if isinstance(exported, list):
                for i, ep in enumerate(exported):
                    port = ep.get("port") if isinstance(ep, dict) else None
                    rt = (ep.get("routeType") if isinstance(ep, dict) else None) or "HTTP"
                    if not isinstance(port, int) or rt not in ("HTTP", "GRPC", "TLS"):
                        self.error("an exported port is {port: <int>, routeType: HTTP|GRPC|TLS}",
                                   exp.loc("spec", "exportedPorts", i))
                        continue
                    ports.append((port, rt, exp.loc("spec", "exportedPorts", i)))
            elif ANN + "port" in exp.annotations:
                for part in exp.annotations[ANN + "port"].split(","):
                    if part.strip().isdigit():
                        ports.append((int(part), "HTTP", exp.loc("metadata", "annotations", ANN + "port")))
                    else:
                        self.error(f"port annotation '{part}' is not a port number",
                                   exp.loc("metadata", "annotations", ANN + "port"))
            else:
                k8s_svc = self._k8s_service(exp.cluster, exp.namespace, svc_name)
                first = (k8s_svc.spec.get("ports") or [{}])[0] if k8s_svc else {}
                port = first.get("port") if isinstance(first, dict) else None
                ports.append((port if isinstance(port, int) else 80, "HTTP", exp.loc("metadata", "name")))
                self.warn(f"{exp.label} names no port (exportedPorts or the {ANN}port annotation); latsim exports "
                          f"port {ports[-1][0]}", exp.loc("metadata"), severity="info")
            for port, rt, where in ports:
                kind = {"GRPC": "GRPCRoute", "TLS": "TLSRoute"}.get(rt, "HTTPRoute")
                tg = self._new_tg(("export", exp.cluster, exp.namespace, exp.name, port, rt), cluster, exp.namespace,
                                  svc_name, port, "ServiceExport", where)
                if kind == "GRPCRoute" and "protocol_version" not in tg.data:
                    tg.data["protocol_version"] = "GRPC"
                elif kind == "TLSRoute":
                    tg.data["protocol"] = "TCP"
                    tg.data.pop("protocol_version", None)
                self.exports.append((exp, tg.name))

    def _import_tg(self, route: Obj, ref: dict[str, Any], where: Location, ns: str, name: str) -> str | None:
        imp = next((o for o in self.by_kind.get("ServiceImport", []) if o.cluster == route.cluster
                    and o.namespace == ns and o.name == name), None)
        ann = imp.annotations if imp is not None else {}
        if ANN + "target-group-arn" in ann:
            self.warn(f"ServiceImport {ns}/{name} points at the external target group {ann[ANN + 'target-group-arn']}, "
                      "which is not in the manifests; that backend is left out", where,
                      hint="add the target group in an overlay and reference it there")
            return None
        export_name = ann.get(ANN + "export-name", name)
        want_cluster = ann.get(ANN + "aws-eks-cluster-name")
        want_vpc = ann.get(ANN + "aws-vpc")
        found = []
        for exp, tg in self.exports:
            cl = self.clusters[exp.cluster]
            svc_name = exp.annotations.get(ANN + "service-name", exp.name)
            if exp.namespace != ns or export_name not in (exp.name, svc_name):
                continue
            if want_cluster and want_cluster != exp.cluster:
                continue
            if want_vpc and want_vpc not in (cl.vpc.get("id"), cl.vpc_name):
                continue
            found.append(tg)
        if not found:
            self.warn(f"no ServiceExport {ns}/{export_name} matches this ServiceImport backend; it is left out", where,
                      hint="export the Service in its cluster (ServiceExport) in the same import")
            return None
        if len(found) > 1:
            self.warn(f"ServiceImport {ns}/{name} matches exports in several clusters ({', '.join(found)}); latsim "
                      f"uses {found[0]}", where,
                      hint=f"narrow it with the {ANN}aws-eks-cluster-name annotation")
        return found[0]

    # -- routes ---------------------------------------------------------------------------------
    def _route(self, route: Obj) -> None:
        spec = route.spec
        parents = spec.get("parentRefs")
        if not isinstance(parents, list) or not parents:
            self.warn(f"{route.label} has no parentRefs; the controller ignores it", route.loc("spec"))
            return
        gateways: list[tuple[int, dict[str, Any], Obj]] = []
        for i, p in enumerate(parents):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                self.error("a parentRef needs a name", route.loc("spec", "parentRefs", i))
                continue
            if p.get("kind", "Gateway") != "Gateway":
                self.warn(f"parentRef kind {p.get('kind')} is not a Gateway; ignored", route.loc("spec", "parentRefs", i))
                continue
            gns = p.get("namespace") or route.namespace
            gw = next((g for g in self.by_kind.get("Gateway", []) if g.cluster == route.cluster
                       and g.namespace == gns and g.name == p["name"]), None)
            if gw is None:
                self.warn(f"{route.label}: Gateway {gns}/{p['name']} is not in the manifests of cluster "
                          f"{route.cluster}; this parent is ignored", route.loc("spec", "parentRefs", i))
                continue
            if gw.spec.get("gatewayClassName") not in self.gateway_classes:
                continue
            gateways.append((i, p, gw))
        if not gateways:
            self.warn(f"{route.label} attaches to no VPC Lattice Gateway; it is left out", route.loc("spec", "parentRefs"))
            return
        hostnames = spec.get("hostnames")
        if route.kind == "TLSRoute" and (not isinstance(hostnames, list) or len(hostnames) != 1):
            self.warn(f"{route.label}: a TLSRoute needs exactly one hostname (the service's custom domain is the SNI "
                      "match); it is left out", route.loc("spec", "hostnames") if hostnames else route.loc("spec"))
            return
        rules = self._rules(route)
        if rules is None:
            return
        cluster = self.clusters[route.cluster]
        name = self._service_name(route)
        if name is None:
            return
        first_gw = gateways[0][2]
        listeners, cert = self._listeners(route, [(i, p, gw) for i, p, gw in gateways if gw.name == first_gw.name],
                                          rules, name)
        if not listeners:
            self.warn(f"{route.label} has no listener Lattice can use; it is left out", route.loc("spec", "parentRefs"))
            return
        svc: dict[str, Any] = {"name": name, "account": cluster.account}
        if isinstance(hostnames, list) and hostnames:
            if isinstance(hostnames[0], str):
                svc["custom_domain"] = hostnames[0].lower()
            if len(hostnames) > 1:
                self.warn(f"{route.label}: only hostnames[0] becomes the service's custom domain; the others are "
                          "ignored", route.loc("spec", "hostnames", 1))
        if cert:
            svc["certificate_arn"] = cert
        svc["listeners"] = listeners
        self.services[name] = svc
        self.svc_loc[name] = route.loc("metadata", "name")
        self.route_service[(route.cluster, route.kind, route.namespace, route.name)] = name
        standalone = route.annotations.get(ANN + "standalone")
        for _i, _p, gw in gateways:
            alone = standalone if standalone is not None else gw.annotations.get(ANN + "standalone")
            if str(alone).lower() == "true":
                continue
            sn = self._sn(gw.name, cluster, gw.loc("metadata", "name"))
            if name not in sn.setdefault("services", []):
                sn["services"].append(name)
                self._share(sn, cluster.account, route.loc("metadata", "name"), f"service {name}")

    def _service_name(self, route: Obj) -> str | None:
        override = route.annotations.get(ANN + "service-name-override")
        raw = override or service_name(route.name, route.namespace)
        name = slug(raw, 40)
        where = route.loc("metadata", "annotations", ANN + "service-name-override") if override \
            else route.loc("metadata", "name")
        if name.startswith("svc-"):
            name = "s-" + name[4:]
        if len(name) < 3:
            self.warn(f"{route.label}: service name '{raw}' is too short for Lattice; it is left out", where)
            return None
        if name != raw:
            self.warn(f"{route.label}: '{raw}' is not a valid Lattice service name; latsim uses '{name}'", where)
        if name in self.services:
            base, n = name, 2
            while name in self.services:
                name = f"{base[: 40 - len(str(n)) - 1].rstrip('-')}-{n}"
                n += 1
            self.warn(f"{route.label} maps to the Lattice service name of another route; latsim names it '{name}'",
                      where)
        return name

    def _listeners(self, route: Obj, parents: list[tuple[int, dict[str, Any], Obj]], rules: list[dict[str, Any]],
                   svc_name: str) -> tuple[list[dict[str, Any]], str | None]:
        out: list[dict[str, Any]] = []
        cert = None
        for i, p, gw in parents:
            gl = self._gateway_listener(route, i, p, gw)
            if gl is None:
                continue
            protocol, port, gl_cert = gl
            if route.kind == "TLSRoute" and protocol != "TLS_PASSTHROUGH":
                self.warn(f"a TLSRoute needs a TLS Passthrough Gateway listener, not {protocol}; parent ignored",
                          route.loc("spec", "parentRefs", i))
                continue
            if route.kind != "TLSRoute" and protocol == "TLS_PASSTHROUGH":
                self.warn(f"a {route.kind} cannot use a TLS Passthrough listener; parent ignored",
                          route.loc("spec", "parentRefs", i))
                continue
            if route.kind == "GRPCRoute" and protocol != "HTTPS":
                self.warn("gRPC target groups need an HTTPS listener (docs/lattice.md §2); this HTTP parent is ignored",
                          route.loc("spec", "parentRefs", i))
                continue
            cert = cert or gl_cert
            if any(x["port"] == port for x in out):
                continue
            if len(out) >= MAX_LISTENERS:
                self.warn(f"a Lattice service has at most {MAX_LISTENERS} listeners (listeners_per_service); this "
                          "parent's listener is not created", route.loc("spec", "parentRefs", i))
                continue
            proto = "tls" if protocol == "TLS_PASSTHROUGH" else protocol.lower()
            lname = slug(f"{_trunc(route.name, 20)}-{_trunc(route.namespace, 18)}-{port}-{proto}", 63)
            lst: dict[str, Any] = {"name": lname, "protocol": protocol, "port": port}
            if protocol == "TLS_PASSTHROUGH":
                lst["default_action"] = rules[0]["action"] if rules else {"fixed_response": 500}
            else:
                lst["default_action"] = {"fixed_response": 404}
                if rules:
                    lst["rules"] = [dict(r) for r in rules]
            out.append(lst)
        for lst in out:  # a target group serves the listeners of one service
            for action in [lst["default_action"]] + [r["action"] for r in lst.get("rules", [])]:
                for f in action.get("forward") or []:
                    self.tgs[f["target_group"]].used_by = svc_name
        return out, cert

    def _gateway_listener(self, route: Obj, i: int, p: dict[str, Any], gw: Obj) -> tuple[str, int, str | None] | None:
        gls = [g for g in gw.spec.get("listeners") or [] if isinstance(g, dict)]
        section = p.get("sectionName")
        if section is not None:
            gl = next((g for g in gls if g.get("name") == section), None)
            if gl is None:
                self.warn(f"Gateway {gw.name} has no listener named '{section}'; parent ignored",
                          route.loc("spec", "parentRefs", i, "sectionName"))
                return None
        elif gls:
            gl = gls[0]
        else:
            return None
        gi = (gw.spec.get("listeners") or []).index(gl)
        protocol, port = gl.get("protocol"), gl.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            self.error(f"Gateway listener port {port!r} is not a port", gw.loc("spec", "listeners", gi, "port"))
            return None
        tls: dict[str, Any] = gl["tls"] if isinstance(gl.get("tls"), dict) else {}
        cert = None
        if protocol == "HTTPS":
            opts: dict[str, Any] = tls["options"] if isinstance(tls.get("options"), dict) else {}
            cert = opts.get(ANN + "certificate-arn")
            if tls.get("certificateRefs"):
                self.warn("certificateRefs (Kubernetes Secrets) are not supported by the controller; Lattice uses its "
                          "own certificate for the generated domain", gw.loc("spec", "listeners", gi, "tls"),
                          severity="info")
            return "HTTPS", port, cert if isinstance(cert, str) else None
        if protocol == "HTTP":
            return "HTTP", port, None
        if protocol == "TLS" and tls.get("mode") == "Passthrough":
            return "TLS_PASSTHROUGH", port, None
        self.warn(f"Gateway listener protocol {protocol}{' (' + str(tls.get('mode')) + ')' if tls else ''} is not "
                  "supported by VPC Lattice; parent ignored", gw.loc("spec", "listeners", gi, "protocol"))
        return None

    # -- rules ----------------------------------------------------------------------------------
    def _rules(self, route: Obj) -> list[dict[str, Any]] | None:
        """The route's Lattice rules, or None when the controller would refuse the route."""
        rules = route.spec.get("rules")
        if not isinstance(rules, list) or not rules:
            self.warn(f"{route.label} has no rules; it is left out", route.loc("spec"))
            return None
        if route.kind == "TLSRoute" and len(rules) > 1:
            self.warn("a TLSRoute has one rule in Lattice (the listener's default action); the others are ignored",
                      route.loc("spec", "rules", 1))
            rules = rules[:1]
        if len(rules) > MAX_RULES:
            self.warn(f"{route.label} has {len(rules)} rules; Lattice allows {MAX_RULES} per listener, so the "
                      "controller cannot reconcile it; left out", route.loc("spec", "rules"))
            return None
        priorities = self._priorities(route, len(rules))
        out = []
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                self.error("a route rule is a mapping", route.loc("spec", "rules", i))
                return None
            self._ignored_fields(route, rule, i)
            match = self._match(route, rule, i) if route.kind != "TLSRoute" else {}
            if match is None:
                return None
            action = self._backends(route, rule, i)
            out.append({"name": f"rule-{i}", "priority": priorities[i], "match": match, "action": action})
        return out

    def _priorities(self, route: Obj, n: int) -> list[int]:
        ann = route.annotations
        given: dict[int, int] = {}
        for i in range(n):
            key = f"{ANN}rule-{i}-priority"
            if key not in ann:
                continue
            text = ann[key].strip()
            if text.isdigit() and 1 <= int(text) <= 2000:
                given[i] = int(text)
            else:
                self.warn(f"{key}: '{text}' is not a priority 1-2000; the default is used",
                          route.loc("metadata", "annotations", key))
        out: list[int] = []
        nxt = (max(given.values()) + 1) if given else 1
        used = set(given.values())
        for i in range(n):
            if i in given:
                p = given[i]
                if p in out:
                    self.warn(f"rule {i} repeats priority {p}; Lattice needs unique priorities, latsim moves it after",
                              route.loc("metadata", "annotations", f"{ANN}rule-{i}-priority"))
                    while nxt in used:
                        nxt += 1
                    p = nxt
                    used.add(p)
                out.append(p)
                continue
            p = i + 1 if not given else nxt
            while p in used:
                p += 1
            used.add(p)
            nxt = max(nxt, p + 1)
            out.append(p)
        return out

    def _ignored_fields(self, route: Obj, rule: dict[str, Any], i: int) -> None:
        for key in rule:
            if key in ("matches", "backendRefs", "name"):
                continue
            self.warn(f"rules[{i}].{key} has no VPC Lattice equivalent; ignored", route.loc("spec", "rules", i, key))
        for j, ref in enumerate(rule.get("backendRefs") or []):
            if isinstance(ref, dict) and ref.get("filters"):
                self.warn("backendRef filters have no VPC Lattice equivalent; ignored",
                          route.loc("spec", "rules", i, "backendRefs", j, "filters"))

    def _refuse(self, route: Obj, why: str, where: Location, code: str) -> None:
        self.warn(f"{route.label}: {why}; the controller refuses the route ({code}), so it is left out", where)

    def _match(self, route: Obj, rule: dict[str, Any], i: int) -> dict[str, Any] | None:
        matches = rule.get("matches")
        if matches is None or matches == []:
            out: dict[str, Any] = {"path": {"prefix": "/"}}
            if route.kind == "GRPCRoute":
                out["method"] = "POST"
            return out
        if not isinstance(matches, list) or not all(isinstance(m, dict) for m in matches):
            self.error("matches is a list of mappings", route.loc("spec", "rules", i, "matches"))
            return None
        if len(matches) > 1:
            self._refuse(route, f"rule {i} has {len(matches)} matches; Lattice takes one per rule",
                         route.loc("spec", "rules", i, "matches", 1), "LATTICE_NO_SUPPORT_FOR_MULTIPLE_MATCHES")
            return None
        m = matches[0]
        mkeys: Keys = ("spec", "rules", i, "matches", 0)
        out = {}
        if route.kind == "GRPCRoute":
            out["method"] = "POST"
            method = m.get("method") or {}
            if not isinstance(method, dict):
                self.error("a GRPC method match is a mapping", route.loc(*mkeys, "method"))
                return None
            if method.get("type", "Exact") != "Exact":
                self._refuse(route, f"GRPC method match type {method.get('type')} is not supported",
                             route.loc(*mkeys, "method", "type"), "unsupported gRPC method match type")
                return None
            svc, meth = method.get("service"), method.get("method")
            if svc is None and meth is not None:
                self._refuse(route, "a GRPC method match without a service cannot be expressed",
                             route.loc(*mkeys, "method"), "nil service and non-nil method")
                return None
            path = "/" if svc is None else (f"/{svc}/" if meth is None else f"/{svc}/{meth}")
            out["path"] = {"exact": path} if meth is not None else {"prefix": path}
        else:
            if "queryParams" in m:
                self._refuse(route, "query-parameter matches are not routing conditions in Lattice",
                             route.loc(*mkeys, "queryParams"), "LATTICE_UNSUPPORTED_MATCH_TYPE")
                return None
            path = m.get("path")
            if path is not None:
                if not isinstance(path, dict):
                    self.error("path is a mapping {type, value}", route.loc(*mkeys, "path"))
                    return None
                ptype, value = path.get("type", "PathPrefix"), path.get("value", "/")
                if ptype not in ("Exact", "PathPrefix"):
                    self._refuse(route, f"path match type {ptype} is not supported",
                                 route.loc(*mkeys, "path", "type"), "LATTICE_UNSUPPORTED_PATH_MATCH_TYPE")
                    return None
                if not isinstance(value, str) or not _PATH_RE.match(value) or len(value) > 200:
                    self._refuse(route, f"path '{value}' is not a Lattice path (1-200 of A-Za-z0-9@:%_+.~#?&/=-, "
                                 "starting with /)", route.loc(*mkeys, "path", "value"), "ValidationException")
                    return None
                out["path"] = {"exact": value} if ptype == "Exact" else {"prefix": value}
            if m.get("method") is not None:
                if not isinstance(m["method"], str) or not re.fullmatch(r"[A-Za-z]{1,16}", m["method"]):
                    self.error(f"method {m['method']!r} is not an HTTP method", route.loc(*mkeys, "method"))
                    return None
                out["method"] = m["method"]
        headers = self._headers(route, m.get("headers"), mkeys)
        if headers is None:
            return None
        if headers:
            out["headers"] = headers
        if not out:
            out["path"] = {"prefix": "/"}
        return out

    def _headers(self, route: Obj, headers: Any, mkeys: Keys) -> list[dict[str, Any]] | None:
        if headers is None:
            return []
        if not isinstance(headers, list):
            self.error("headers is a list of {name, value, type}", route.loc(*mkeys, "headers"))
            return None
        if len(headers) > MAX_HEADERS:
            self._refuse(route, f"{len(headers)} header matches; Lattice allows {MAX_HEADERS} per rule",
                         route.loc(*mkeys, "headers", MAX_HEADERS), "LATTICE_EXCEED_MAX_HEADER_MATCHES")
            return None
        out = []
        for j, h in enumerate(headers):
            if not isinstance(h, dict) or not isinstance(h.get("name"), str) or not isinstance(h.get("value"), str):
                self.error("a header match is {name, value}", route.loc(*mkeys, "headers", j))
                return None
            if h.get("type", "Exact") != "Exact":
                self._refuse(route, f"header match type {h.get('type')} is not supported (Exact only)",
                             route.loc(*mkeys, "headers", j, "type"), "LATTICE_UNSUPPORTED_HEADER_MATCH_TYPE")
                return None
            if not _HEADER_NAME.match(h["name"]) or not 1 <= len(h["value"]) <= 200:
                self._refuse(route, f"header match {h['name']}={h['value']!r:.40} is not valid in Lattice",
                             route.loc(*mkeys, "headers", j), "ValidationException")
                return None
            out.append({"name": h["name"], "exact": h["value"]})
        return out

    def _backends(self, route: Obj, rule: dict[str, Any], i: int) -> dict[str, Any]:
        refs = rule.get("backendRefs")
        rkeys: Keys = ("spec", "rules", i)
        if not isinstance(refs, list) or not refs:
            self.warn(f"rules[{i}] has no backendRefs; the Gateway API answers 500, and so does latsim",
                      route.loc(*rkeys))
            return {"fixed_response": 500}
        cluster = self.clusters[route.cluster]
        forward: list[dict[str, Any]] = []
        for j, ref in enumerate(refs):
            where = route.loc(*rkeys, "backendRefs", j)
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                self.error("a backendRef needs a name", where)
                continue
            kind = ref.get("kind", "Service")
            ns = ref.get("namespace") or route.namespace
            weight = ref.get("weight", 1)
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
                self.error(f"weight {weight!r} is not a non-negative integer", route.loc(*rkeys, "backendRefs", j,
                                                                                        "weight"))
                continue
            if weight > 999:
                self.warn(f"weight {weight} is above Lattice's 999; latsim uses 999 (the controller's behaviour is "
                          "not documented)", route.loc(*rkeys, "backendRefs", j, "weight"))
                weight = 999
            if kind == "Service":
                port: Any = ref.get("port")
                if not isinstance(port, int):
                    k8s_svc = self._k8s_service(route.cluster, ns, ref["name"])
                    first = (k8s_svc.spec.get("ports") or [{}])[0] if k8s_svc else {}
                    port = first.get("port") if isinstance(first, dict) and isinstance(first.get("port"), int) else 80
                    self.warn(f"backendRef {ref['name']} has no port; latsim uses {port}", where)
                key = (route.cluster, route.kind, route.namespace, route.name, ns, ref["name"], port)
                tg_name = self.tg_by_key.get(key) or self._new_tg(key, cluster, ns, ref["name"], port, route.kind,
                                                                  where).name
            elif kind == "ServiceImport":
                found = self._import_tg(route, ref, where, ns, ref["name"])
                if found is None:
                    continue
                tg = self.tgs[found]
                if tg.used_by is not None:  # set once a route's service is built: another route's
                    self.warn(f"target group {found} (exported) already serves service {tg.used_by}; Lattice lets a "
                              "target group serve one service, so this backend is left out", where)
                    continue
                if tg.data["account"] != cluster.account:
                    self.warn(f"target group {found} is in account {tg.data['account']}, the route's service in "
                              f"{cluster.account}; Lattice needs both in one account, so this backend is left out",
                              where)
                    continue
                tg_name = found
            else:
                self.warn(f"backendRef kind {kind} is not supported (Service or ServiceImport); left out", where)
                continue
            if any(f["target_group"] == tg_name for f in forward):
                self.warn(f"backendRef {ref['name']} repeats a target group; merged", where)
                continue
            forward.append({"target_group": tg_name, "weight": weight})
        if not forward:
            self.warn(f"rules[{i}] has no usable backend; latsim answers 500 (an invalid backendRef)",
                      route.loc(*rkeys, "backendRefs"))
            return {"fixed_response": 500}
        return {"forward": forward}

    # -- policies -------------------------------------------------------------------------------
    def _target_service(self, p: Obj) -> tuple[str, str | None]:
        """(kind, scenario name) of a policy's targetRef: ('sn', name), ('service', name) or ('', None)."""
        ref = _ref(p)
        kind, name = ref.get("kind"), ref.get("name")
        ns = ref.get("namespace") or p.namespace
        if kind == "Gateway":
            gw = next((g for g in self.by_kind.get("Gateway", []) if g.cluster == p.cluster and g.name == name
                       and g.namespace == ns), None)
            sn = slug(str(name), 63)
            return ("sn", sn) if gw is not None and sn in self.sns else ("", None)
        if kind in ROUTE_KINDS:
            return "service", self.route_service.get((p.cluster, str(kind), ns, str(name)))
        return "", None

    def _auth_policies(self) -> None:
        for p in self.by_kind.get("IAMAuthPolicy", []):
            p.body["__used__"] = True
            ref = _ref(p)
            if ref.get("kind") == "TLSRoute":
                self.warn("IAMAuthPolicy cannot target a TLSRoute (TLS passthrough sees no request); ignored",
                          p.loc("spec", "targetRef"))
                continue
            kind, target = self._target_service(p)
            if target is None:
                self.warn(f"{p.label}: its target {ref.get('kind')} {ref.get('name')} was not imported; ignored",
                          p.loc("spec", "targetRef"))
                continue
            doc = self._policy_doc(p)
            if doc is None:
                continue
            owner = self.sns[target] if kind == "sn" else self.services[target]
            if "auth_policy" in owner and owner["auth_policy"] != doc:
                self.warn(f"{p.label}: {target} already has an auth policy from another IAMAuthPolicy; this one "
                          "replaces it", p.loc("spec", "policy"))
            owner["auth_type"] = "AWS_IAM"
            owner["auth_policy"] = doc
            self.locs[("policy", target)] = p.loc("spec", "policy")

    def _policy_doc(self, p: Obj) -> dict[str, Any] | None:
        from latsim.auth import parse_policy

        raw = p.spec.get("policy")
        where = p.loc("spec", "policy")
        if isinstance(raw, str):
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                self.error(f"the policy is not JSON: {exc}", where)
                return None
        else:
            doc = raw
        if not isinstance(doc, dict):
            self.error("spec.policy is an IAM policy document (a JSON object or a string holding one)", where)
            return None
        try:
            parse_policy(doc, where=lambda rel: Location(where.file, where.line, where.column,
                                                        ".".join([where.path, *map(str, rel)])),
                         source=p.label, kind="resource")
        except ScenarioError as exc:
            self.errors.extend(pr for pr in exc.all_problems if pr.severity == "error")
            return None
        return doc

    def _access_log_policies(self) -> None:
        for p in self.by_kind.get("AccessLogPolicy", []):
            p.body["__used__"] = True
            kind, target = self._target_service(p)
            dest = p.spec.get("destinationArn")
            if target is None:
                self.warn(f"{p.label}: its target was not imported; ignored", p.loc("spec", "targetRef"))
                continue
            self.access_logs.append((target, p.loc("spec", "destinationArn"), dest if isinstance(dest, str) else None))

    def _unused_policies(self) -> None:
        for kind in ("TargetGroupPolicy", "VpcAssociationPolicy"):
            for p in self.by_kind.get(kind, []):
                if not p.body.pop("__used__", False):
                    ref = _ref(p)
                    self.warn(f"{p.label}: its target {ref.get('kind')} {ref.get('name')} is not used by any imported "
                              "route or Gateway; the policy takes no effect", p.loc("spec", "targetRef"))

    # -- output: every object through the importers' one builder --------------------------------
    def _build(self) -> ScenarioBuilder:
        """What the controller would create, told to a ``ScenarioBuilder`` (which names, resolves
        and locates it as for every other importer)."""
        b = ScenarioBuilder(name="gateway-api", region=DEFAULT_REGION,
                            description="Imported from Kubernetes Gateway API manifests by latsim import gateway-api "
                                        "(as the AWS Gateway API controller maps them).")
        b.problems.extend(self.warnings)
        for acct in sorted({c.account for c in self.clusters.values()}):
            b.account(acct)
        seen: set[str] = set()
        for c in self.clusters.values():
            v = c.vpc
            if c.vpc_name in seen:
                continue
            seen.add(c.vpc_name)
            where = Location(path=f"cluster_vpc ({c.name})")
            b.vpc(c.vpc_name, loc=where, account=c.account, name=c.vpc_name, id=v.get("id"), cidrs=v["cidr"],
                  tags=v.get("tags") if isinstance(v.get("tags"), dict) else None, azs=v["azs"])
            for sn in v.get("service_network_endpoints") or []:
                b.service_network_endpoint(c.vpc_name, str(sn), loc=where)
        for gid, sg in self.security_groups.items():
            where = self.locs[("sg", gid)]
            b.security_group(gid, loc=where, vpc=sg["vpc"], name=gid, id=sg.get("id"), description=sg["description"])
            for rule in sg["ingress"]:
                for port in rule["ports"]:
                    b.sg_rule(gid, "ingress", loc=where, protocol=rule["protocol"], from_port=port, to_port=port,
                              cidr=rule["source"])
        used = {f["target_group"] for s in self.services.values() for lst in s["listeners"]
                for a in [lst["default_action"]] + [r["action"] for r in lst.get("rules", [])]
                for f in a.get("forward") or []}
        exported = {tg for _, tg in self.exports}
        for tg in self.tgs.values():
            if tg.name not in used and tg.name not in exported:
                continue
            d = tg.data
            b.target_group(tg.name, loc=tg.loc, account=d["account"], name=tg.name, type=d["type"], vpc=d["vpc"],
                           protocol=d.get("protocol"), protocol_version=d.get("protocol_version"), port=d.get("port"),
                           health_check=d.get("health_check"), tags=d.get("tags"))
            for t in d["targets"]:
                b.target(tg.name, t["id"], loc=tg.loc, port=t.get("port"), az=t.get("az"))
        for name, svc in self.services.items():
            where = self.svc_loc[name]
            b.service(name, loc=where, account=svc["account"], name=name, custom_domain=svc.get("custom_domain"),
                      certificate_arn=svc.get("certificate_arn"), auth_type=svc.get("auth_type"))
            self._policy(b, name, svc)
            for lst in svc["listeners"]:
                key = f"{name}/{lst['name']}"
                b.listener(key, loc=where, service=name, name=lst["name"], protocol=lst["protocol"], port=lst["port"],
                           default_action=_action(lst["default_action"]))
                for r in lst.get("rules", []):
                    b.rule(f"{key}/{r['name']}", loc=where, listener=key, name=r["name"], priority=r["priority"],
                           match=r["match"], action=_action(r["action"]))
        for name, sn in self.sns.items():
            where = self.sn_loc[name]
            b.service_network(name, loc=where, account=sn["account"], name=name, auth_type=sn.get("auth_type"))
            self._policy(b, name, sn)
            for a in sn.get("vpc_associations", []):
                b.vpc_association(name, a["vpc"], loc=where, security_groups=a.get("security_groups", []))
            for svc_name in sn.get("services", []):
                b.service_association(name, svc_name, loc=self.svc_loc[svc_name])
            if sn.get("shared_with"):
                b.resource_share(f"share:{name}", loc=where)
                b.share_resource(f"share:{name}", name, loc=where)
                for acct in sn["shared_with"]:
                    b.share_principal(f"share:{name}", acct, loc=where)
        for target, where, dest in self.access_logs:
            b.access_log(target, loc=where, destination=dest)
        return b

    def _policy(self, b: ScenarioBuilder, name: str, owner: dict[str, Any]) -> None:
        if "auth_policy" in owner:
            b.auth_policy(name, owner["auth_policy"], loc=self.locs[("policy", name)])


def _action(action: dict[str, Any]) -> dict[str, Any]:
    """A scenario-shaped action in the builder's shape (target groups as (identifier, weight))."""
    if "forward" in action:
        return {"forward": [(f["target_group"], f.get("weight")) for f in action["forward"]]}
    return dict(action)


def _ref(p: Obj) -> dict[str, Any]:
    ref = p.spec.get("targetRef")
    return ref if isinstance(ref, dict) else {}


def import_gateway_api(paths: list[str], pods_per_service: int = 2,
                       cluster_vpc: dict[str, Any] | None = None) -> ImportResult:
    """Map Gateway API manifests (multi-document YAML; ``NAME=PATH`` puts a file in cluster NAME)
    to a scenario as the AWS Gateway API controller would build it in VPC Lattice.

    ``pods_per_service`` pod targets (IP type, inside the cluster VPC's CIDR) back every
    Service; ``cluster_vpc`` is the cluster VPC (or a mapping cluster -> VPC), see the module
    docstring. Raises ScenarioError with located problems for malformed input."""
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(pods_per_service, int) or isinstance(pods_per_service, bool) or not 1 <= pods_per_service <= 1000:
        raise ScenarioError([Problem(f"pods per service must be 1-1000, got {pods_per_service!r}",
                                     Location(path="pods_per_service"), code="usage")])
    if not paths:
        raise ScenarioError([Problem("no manifest given", Location(path="paths"), code="usage")])
    objs, problems = read_manifests(paths)
    objs = apply_in_order(objs, problems)
    imp = _Importer(objs, pods_per_service, cluster_vpc, problems)
    builder = imp.run() if not imp.errors else None
    if builder is None or imp.errors:
        raise ScenarioError(imp.errors + imp.warnings)
    if not objs:
        raise ScenarioError([Problem("the manifests hold no Kubernetes objects", Location(str(paths[0])),
                                     code="manifest")])
    files = [_cluster_and_path(str(p))[1] for p in paths]
    result = builder.result(f"Gateway API manifests ({', '.join(files)})", files)
    result.scenario()  # must validate; problems point back at the manifests
    return result


__all__ = ["import_gateway_api", "read_manifests", "service_name"]
