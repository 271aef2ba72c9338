"""Shared pieces of the importers: the import result, and a builder that turns AWS-shaped facts
into a scenario-shaped dict.

An importer (CloudFormation, Terraform, AWS API JSON, ...) reads its source, then tells a
``ScenarioBuilder`` what exists, in AWS's own terms and in any order: ``vpc(...)``,
``subnet(...)``, ``security_group(...)``, ``service(...)``, ``listener(service=<identifier>)``,
``target(tg=<identifier>, target=<identifier>)``, ``vpc_association(...)``, ``share_resource(...)``.
Objects refer to each other by *identifiers* -- an id, an ARN, a name, or any key the importer
chose (``ident``) -- exactly as AWS resources do; ``build()`` resolves them once everything is
known, gives every object a valid, unique latsim name, and returns the scenario dict plus a map
from scenario key paths to the source location of each item (so validation errors of the
imported scenario point back into the source file).

Every importer (CloudFormation, Terraform, AWS API JSON and live, Gateway API) builds through it,
so there is one naming scheme: an object is named after its AWS name (a VPC's ``Name`` tag), else
the importer's key, by ``lattice_name``, made unique by ``unique`` (a security-group name used in
several VPCs becomes ``<vpc>-<name>``), and the same object gets the same name from every source
(tests/test_import_equivalence.py).

What the sources lack -- clients, workload, target latencies and concurrency -- is left out:
targets get the model's defaults, and an overlay (``ImportResult.scenario(overlay)``) adds the rest.

Nothing here executes or fetches anything: the builder only rearranges data.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from latsim.errors import Location, Problem, ScenarioError
from latsim.model.base import stable_hex
from latsim.model.network import LATTICE_PREFIX_LIST

if TYPE_CHECKING:
    from latsim.model.scenario import Scenario

Keys = tuple[str | int, ...]

DEFAULT_ACCOUNT_ID = "111111111111"
"""The account of a source that names none (a CloudFormation template, a Terraform plan)."""
DEFAULT_REGION = "us-east-1"
DEFAULT_VPC_CIDR = "10.0.0.0/16"
MAX_ASG_INSTANCES = 1000
"""An Auto Scaling group larger than this is refused (Lattice's targets-per-target-group quota)."""

# --- the result ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an importer produced: scenario-shaped data, the warnings, where it came from.

    ``provenance`` maps scenario key paths (``("services", 0)``) to the source location of the
    item, so that a scenario that fails validation is reported against the source file.
    """

    data: dict[str, Any]
    warnings: list[Problem] = field(default_factory=list)
    source: str = ""
    provenance: dict[Keys, Location] = field(default_factory=dict, repr=False)

    def merged(self, overlay: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The data with ``overlay`` merged on top (lists of named items merge by name)."""
        from latsim.scenario import merge_overlay
        if overlay is None:
            return copy.deepcopy(self.data)
        if not isinstance(overlay, Mapping):
            raise ScenarioError([Problem("an overlay is a mapping of scenario sections (clients, network, ...)",
                                         code="overlay")])
        merged: dict[str, Any] = merge_overlay(self.data, dict(overlay))
        return merged

    def scenario(self, overlay: Mapping[str, Any] | None = None, *, workload: str | None = None,
                 rate: str | None = None) -> Scenario:
        """Merge ``overlay`` and validate; problems are located in the source where possible.
        ``workload="auto"`` adds ``latsim.workload.auto``'s clients (at ``rate`` each)."""
        from latsim.scenario import scenario_from_data
        data = self.merged(overlay)
        try:
            if workload == "auto":
                from latsim.workload.auto import DEFAULT_RATE, with_auto_workload
                data = with_auto_workload(data, rate or DEFAULT_RATE)
            return scenario_from_data(data)
        except ScenarioError as exc:
            raise ScenarioError([self.relocate(p) for p in exc.all_problems]) from None

    def relocate(self, problem: Problem) -> Problem:
        """Point a problem of the imported scenario at the source item it came from."""
        keys = tuple(problem.location.keys)
        probe = keys
        while probe and probe not in self.provenance:
            probe = probe[:-1]
        src = self.provenance.get(probe) if probe else None
        if src is None:
            return problem
        path = problem.location.path or ".".join(str(k) for k in keys)
        where = f"{path} (from {src.path})" if src.path else path
        return dataclasses.replace(problem, location=Location(src.file, src.line, src.column, where, keys))

    def header(self) -> str:
        """The comment block written above the scenario: origin, defaults, warnings."""
        lines = [f"Imported by latsim from {self.source or 'an unnamed source'}.",
                 "The source has no clients, workload or target latencies: targets use latsim's defaults.",
                 "Add clients and behaviour with an overlay merged on top of this import.",
                 "Regenerate rather than edit: importing the same input gives the same text."]
        if self.warnings:
            lines.append("")
            lines.append(f"Import notes ({len(self.warnings)}):")
            lines.extend("  " + _one_line(w.format()) for w in self.warnings)
        return "\n".join(lines)

    def to_yaml(self, overlay: Mapping[str, Any] | None = None, *, workload: str | None = None,
                rate: str | None = None) -> str:
        """The validated scenario as YAML, with the header as comments (stable output)."""
        from latsim.scenario import dump_scenario
        return dump_scenario(self.scenario(overlay, workload=workload, rate=rate), header=self.header())


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- naming -------------------------------------------------------------------------------

_CAMEL_1 = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CAMEL_2 = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
NAME_RE = re.compile(r"^(?!-)(?!.*--)[a-z0-9-]+(?<!-)$")
NAME_LIMITS = {"service network": (3, 63), "service": (3, 40), "listener": (3, 63), "rule": (3, 63),
               "target group": (3, 128), "vpc": (1, 128), "security group": (1, 128)}


def slug(raw: str, limit: int | None = None) -> str:
    """'CheckoutServiceV2' -> 'checkout-service-v2'; 'Web VPC' -> 'web-vpc' (lower case, a-z0-9 and '-'),
    at most ``limit`` characters."""
    text = _CAMEL_2.sub("-", _CAMEL_1.sub("-", str(raw)))
    text = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text[:limit].rstrip("-") if limit is not None else text


def lattice_name(raw: str, kind: str) -> str:
    """A name that follows Lattice's rules for ``kind`` (docs/lattice.md §1.1), derived from ``raw``."""
    lo, hi = NAME_LIMITS.get(kind, (1, 128))
    text = str(raw) if NAME_RE.match(str(raw)) else slug(raw)
    text = text or "x"
    if kind == "service" and text.startswith("svc-"):
        text = "service-" + text[4:]
    if len(text) > hi:
        text = text[:hi].rstrip("-")
    if len(text) < lo:
        text = text + "0" * (lo - len(text))
    return text


def unique(name: str, taken: set[str], kind: str) -> str:
    """``name``, or ``name-2``, ``name-3`` ... whichever is free (kept within the length limit)."""
    _, hi = NAME_LIMITS.get(kind, (1, 128))
    out, n = name, 1
    while out in taken:
        n += 1
        suffix = f"-{n}"
        out = name[: hi - len(suffix)].rstrip("-") + suffix
    taken.add(out)
    return out


def generated_id(prefix: str, *parts: str) -> str:
    """A stable AWS-shaped id (``svc-`` + 17 hex digits) from the parts that identify a source item."""
    return f"{prefix}-{stable_hex('import', prefix, *parts)}"


# --- AZs and regions ------------------------------------------------------------------------

_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
               "southeast": "se", "northwest": "nw", "southwest": "sw"}
_AZ_NAME = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)([a-z])$")
_AZ_ID = re.compile(r"^[a-z]+\d+-az\d+$")


def region_code(region: str) -> str:
    """'us-east-1' -> 'use1', 'ap-southeast-2' -> 'apse2', 'us-gov-west-1' -> 'usgw1' (AZ-id prefix)."""
    parts = region.split("-")
    if len(parts) < 3:
        return re.sub(r"[^a-z0-9]", "", region)
    middle = "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


def az_id(az: str) -> str | None:
    """An AZ id from an AZ name by latsim's documented rule: the region's AZ-id prefix plus the
    letter's position (``us-east-1a`` -> ``use1-az1``, ``eu-west-1c`` -> ``euw1-az3``).

    AWS maps AZ names to ids per account, so this is a convention, not the real mapping; give
    ``AvailabilityZoneId`` (CloudFormation) or ``availability_zone_id`` (Terraform) to be exact.
    An AZ id is returned unchanged; anything else gives None."""
    text = str(az).strip().lower()
    if _AZ_ID.match(text):
        return text
    m = _AZ_NAME.match(text)
    if not m:
        return None
    return f"{region_code(m.group(1))}-az{ord(m.group(2)) - ord('a') + 1}"


def default_azs(region: str, n: int = 1) -> list[str]:
    return [f"{region_code(region)}-az{i + 1}" for i in range(n)]


# --- ARNs ----------------------------------------------------------------------------------

def arn_parts(arn: str) -> dict[str, str] | None:
    """'arn:aws:vpc-lattice:us-east-1:111:service/svc-1' -> {partition, service, region, account, resource}."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    return {"partition": parts[1], "service": parts[2], "region": parts[3], "account": parts[4],
            "resource": parts[5]}


_LATTICE_ARN_KINDS = {"servicenetwork": "sn", "service": "svc", "listener": "listener", "rule": "rule",
                      "targetgroup": "tg", "servicenetworkvpcassociation": "snva",
                      "servicenetworkserviceassociation": "snsa", "accesslogsubscription": "als"}


def lattice_arn_ids(arn: Any) -> dict[str, str]:
    """A VPC Lattice ARN's region, account and the id of each resource on its path:
    ``arn:aws:vpc-lattice:R:A:service/svc-1/listener/listener-2`` -> {region, account, svc, listener};
    {} for anything else."""
    p = arn_parts(arn) if isinstance(arn, str) else None
    if p is None or p["service"] != "vpc-lattice" or not re.fullmatch(r"\d{12}", p["account"]):
        return {}
    out = {"region": p["region"], "account": p["account"]}
    segs = p["resource"].split("/")
    for i in range(0, len(segs) - 1, 2):
        out[_LATTICE_ARN_KINDS.get(segs[i], segs[i])] = segs[i + 1]
    return out


def arn_account(arn: Any) -> str | None:
    p = arn_parts(arn) if isinstance(arn, str) else None
    return p["account"] if p and re.fullmatch(r"\d{12}", p["account"]) else None


def arn_region(arn: Any) -> str | None:
    p = arn_parts(arn) if isinstance(arn, str) else None
    return p["region"] if p and p["region"] else None


def lambda_function_name(ident: str) -> str:
    """'arn:aws:lambda:r:a:function:rates:live' -> 'rates'; a plain name stays as it is."""
    p = arn_parts(ident)
    if p and p["service"] == "lambda" and p["resource"].startswith("function:"):
        return p["resource"].split(":")[1]
    return ident


def share_principal(principal: str) -> str | None:
    """A RAM principal as the model's ``shared_with`` names it: an account id, ``o-…``, ``ou-…``."""
    value = str(principal).strip()
    if re.fullmatch(r"\d{12}", value):
        return value
    m = re.search(r"(o-[a-z0-9]{4,32})$", value)
    if value.startswith("arn:") and ":organization/" in value and m:
        return m.group(1)
    m = re.search(r"(ou-[a-z0-9-]+)$", value)
    if value.startswith("arn:") and ":ou/" in value and m:
        return m.group(1)
    if re.fullmatch(r"o-[a-z0-9]{4,32}|ou-[a-z0-9-]+", value):
        return value
    return None


# --- security-group rules -------------------------------------------------------------------

_PROTOCOLS = {"-1": "all", "all": "all", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp",
              "1": "icmp"}


def sg_protocol(value: Any) -> str | None:
    """AWS IpProtocol ('-1', 'tcp', '6', ...) -> the model's protocol; None when unsupported."""
    return _PROTOCOLS.get(str(value).strip().lower())


def sg_ports(protocol: str, from_port: Any, to_port: Any) -> Any:
    """From/to ports -> the model's ``ports`` ('all', 443 or '8000-8100')."""
    if protocol in ("all", "icmp"):
        return "all"
    lo, hi = _int(from_port), _int(to_port)
    if lo is None and hi is None:
        return "all"
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    assert lo is not None and hi is not None
    if lo < 0 or hi < 0 or (lo == 0 and hi >= 65535):
        return "all"
    return lo if lo == hi else f"{lo}-{hi}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    return None


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (sources are not trusted to be well shaped)."""
    return value if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """The non-empty strings of a list (or a single string as a list of one)."""
    if isinstance(value, str):
        return [value] if value else []
    return [x for x in as_list(value) if isinstance(x, str) and x]


def text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    """An integer from a number or a numeric string (templates quote numbers freely)."""
    return _int(value)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def seconds(value: Any) -> str | None:
    """A count of seconds -> '30s'; 0 or missing -> None (AWS: 0 resets to the default)."""
    n = _int(value)
    return f"{n}s" if n else None


def is_lattice_prefix_list(name: str) -> bool:
    """The managed prefix lists ``com.amazonaws.<region>[.ipv6].vpc-lattice``."""
    return bool(re.fullmatch(r"com\.amazonaws\.[a-z0-9-]+\.(ipv6\.)?vpc-lattice", str(name)))


# --- the builder ----------------------------------------------------------------------------

@dataclass
class Fact:
    """Something the source declares, before names are given and references resolved."""

    kind: str
    key: str
    loc: Location
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    children: list[Fact] = field(default_factory=list)


KINDS = ("account", "vpc", "subnet", "sg", "sn", "service", "listener", "rule", "tg", "instance", "function",
         "lb", "share")
_KIND_LABEL = {"vpc": "VPC", "subnet": "subnet", "sg": "security group", "sn": "service network",
               "service": "service", "listener": "listener", "tg": "target group", "instance": "instance",
               "function": "Lambda function", "lb": "load balancer", "share": "resource share"}


class ScenarioBuilder:
    """Collects AWS-shaped facts and problems; ``build()`` returns (scenario data, provenance).

    Every ``ident``/identifier argument may be an id, an ARN, a name or an importer's own key;
    ``idents=`` registers extra identifiers under which an object can be referred to.
    """

    def __init__(self, *, name: str, region: str = DEFAULT_REGION, description: str | None = None) -> None:
        self.name = name
        self.region = region
        self.description = description
        self.problems: list[Problem] = []
        self.lattice_prefix_lists: set[str] = set()
        self._facts: dict[str, list[Fact]] = {k: [] for k in KINDS}
        self._by_ident: dict[str, dict[str, Fact]] = {k: {} for k in KINDS}
        self._account_names: dict[str, str] = {}
        self._accounts: list[str] = []
        self._deferred: list[tuple[str, Location, dict[str, Any]]] = []

    # -- problems ------------------------------------------------------------------------------
    def warn(self, message: str, loc: Location, *, code: str, hint: str | None = None,
             severity: str = "warning") -> None:
        p = Problem(message, loc, hint=hint, severity=severity, code=code)
        if p not in self.problems:
            self.problems.append(p)

    def error(self, message: str, loc: Location, *, code: str, hint: str | None = None) -> None:
        self.warn(message, loc, code=code, hint=hint, severity="error")

    # -- registry ------------------------------------------------------------------------------
    def _add(self, kind: str, key: str, loc: Location, idents: Iterable[Any], **attrs: Any) -> Fact:
        fact = Fact(kind, key, loc, attrs)
        self._facts[kind].append(fact)
        self.alias(fact, key, *idents)
        return fact

    def alias(self, fact: Fact, *idents: Any) -> None:
        """Register more identifiers for ``fact``."""
        table = self._by_ident[fact.kind]
        for ident in idents:
            if isinstance(ident, str) and ident:
                table.setdefault(ident, fact)

    def find(self, kind: str, ident: Any) -> Fact | None:
        """The object of ``kind`` known by ``ident`` (an id, an ARN, a name or a key), or None."""
        if not isinstance(ident, str) or not ident:
            return None
        table = self._by_ident[kind]
        if ident in table:
            return table[ident]
        p = arn_parts(ident)
        if p is not None:
            tail = p["resource"].rsplit("/", 1)[-1]
            if tail in table:
                return table[tail]
            if kind == "function":
                return table.get(lambda_function_name(ident))
        return None

    def facts(self, kind: str) -> list[Fact]:
        return list(self._facts[kind])

    def account(self, account_id: str, name: str | None = None) -> str:
        """Declare an account (12 digits); ``name`` labels it in the scenario."""
        if account_id not in self._accounts:
            self._accounts.append(account_id)
        if name and account_id not in self._account_names:
            self._account_names[account_id] = name
        return account_id

    # -- network -------------------------------------------------------------------------------
    def vpc(self, key: str, *, loc: Location, account: str, name: str | None = None, id: str | None = None,
            cidrs: Iterable[str] = (), tags: Mapping[str, str] | None = None, azs: Iterable[str] = (),
            idents: Iterable[Any] = ()) -> Fact:
        """``azs``: AZ ids the source gives outright (else those of its subnets and targets)."""
        self.account(account)
        return self._add("vpc", key, loc, [id, *idents], account=account, label=text(name), id=text(id),
                         cidrs=strings(list(cidrs)), tags=_tags(tags), azs=strings(list(azs)))

    def vpc_cidr(self, vpc: str, cidr: str, *, loc: Location) -> None:
        """An additional CIDR block of a VPC."""
        self._deferred.append(("vpc_cidr", loc, {"vpc": vpc, "cidr": text(cidr)}))

    def subnet(self, key: str, *, loc: Location, vpc: str | None, id: str | None = None, cidr: str | None = None,
               az: str | None = None, idents: Iterable[Any] = ()) -> Fact:
        return self._add("subnet", key, loc, [id, *idents], vpc=vpc, id=text(id), cidr=text(cidr), az=text(az))

    def security_group(self, key: str, *, loc: Location, vpc: str | None, name: str | None = None,
                       id: str | None = None, description: str | None = None, default_egress: bool = True,
                       idents: Iterable[Any] = ()) -> Fact:
        """``default_egress``: AWS's allow-all egress stays (CloudFormation) or is removed (Terraform)."""
        return self._add("sg", key, loc, [id, *idents], vpc=vpc, label=text(name), id=text(id),
                         description=text(description), default_egress=default_egress, ingress=[], egress=[])

    def sg_rule(self, sg: str, direction: str, *, loc: Location, protocol: Any, from_port: Any = None,
                to_port: Any = None, cidr: str | None = None, peer_sg: str | None = None,
                prefix_list: str | None = None, self_ref: bool = False, description: str | None = None) -> None:
        """One ingress/egress rule with exactly one peer (CIDR, security group or prefix list)."""
        self._deferred.append(("sg_rule", loc, {
            "sg": sg, "direction": direction, "protocol": protocol, "from_port": from_port, "to_port": to_port,
            "cidr": text(cidr), "peer_sg": text(peer_sg), "prefix_list": text(prefix_list), "self_ref": self_ref is True,
            "description": text(description)}))

    # -- Lattice -------------------------------------------------------------------------------
    def service_network(self, key: str, *, loc: Location, account: str, name: str | None = None,
                        id: str | None = None, auth_type: str | None = None,
                        tags: Mapping[str, str] | None = None, idents: Iterable[Any] = ()) -> Fact:
        self.account(account)
        return self._add("sn", key, loc, [id, name, *idents], account=account, label=text(name), id=text(id),
                         auth_type=text(auth_type), tags=_tags(tags), policy=None, shared_with=[],
                         vpc_associations=[], services=[])

    def service(self, key: str, *, loc: Location, account: str, name: str | None = None, id: str | None = None,
                custom_domain: str | None = None, certificate_arn: str | None = None, auth_type: str | None = None,
                tags: Mapping[str, str] | None = None, idents: Iterable[Any] = ()) -> Fact:
        self.account(account)
        return self._add("service", key, loc, [id, name, *idents], account=account, label=text(name), id=text(id),
                         custom_domain=text(custom_domain), certificate_arn=text(certificate_arn),
                         auth_type=text(auth_type), tags=_tags(tags), policy=None)

    def listener(self, key: str, *, loc: Location, service: str | None, name: str | None = None,
                 protocol: str | None = None, port: int | None = None,
                 default_action: Mapping[str, Any] | None = None, idents: Iterable[Any] = ()) -> Fact:
        """``default_action``: ``{"forward": [(tg identifier, weight or None), ...]}`` or
        ``{"fixed_response": 404}``."""
        return self._add("listener", key, loc, idents, service=service, label=text(name), protocol=text(protocol),
                         port=_int(port), default_action=dict(default_action or {}))

    def rule(self, key: str, *, loc: Location, listener: str | None, name: str | None = None,
             priority: int | None = None, match: Mapping[str, Any] | None = None,
             action: Mapping[str, Any] | None = None, idents: Iterable[Any] = ()) -> Fact:
        """``match`` in the scenario's shape (method, path, headers); ``action`` as for listeners."""
        return self._add("rule", key, loc, idents, listener=listener, label=text(name), priority=_int(priority),
                         match=dict(match or {}), action=dict(action or {}))

    def target_group(self, key: str, *, loc: Location, account: str, name: str | None = None,
                     id: str | None = None, type: str | None = None, vpc: str | None = None,
                     protocol: str | None = None, protocol_version: str | None = None, port: int | None = None,
                     ip_address_type: str | None = None, health_check: Mapping[str, Any] | None = None,
                     tags: Mapping[str, str] | None = None, idents: Iterable[Any] = ()) -> Fact:
        """``health_check`` in the scenario's shape (enabled, path, interval '30s', ...)."""
        self.account(account)
        return self._add("tg", key, loc, [id, name, *idents], account=account, label=text(name), id=text(id),
                         type=(text(type) or "INSTANCE").upper(), vpc=text(vpc), protocol=text(protocol),
                         protocol_version=text(protocol_version), port=_int(port),
                         ip_address_type=text(ip_address_type), health_check=dict(health_check or {}),
                         tags=_tags(tags), targets=[])

    def target(self, tg: str, target: str, *, loc: Location, port: int | None = None, az: str | None = None) -> None:
        """Register ``target`` (an IP, an instance/function/load-balancer identifier) in ``tg``;
        ``az``: its AZ when the source says so (else it comes from its subnet)."""
        self._deferred.append(("target", loc, {"tg": tg, "target": text(target), "port": _int(port), "az": text(az)}))

    def instance(self, key: str, *, loc: Location, id: str, subnet: str | None = None, az: str | None = None,
                 ip: str | None = None, security_groups: Iterable[str] = (), idents: Iterable[Any] = ()) -> Fact:
        return self._add("instance", key, loc, [id, ip, *idents], id=id, subnet=text(subnet), az=text(az),
                         ip=text(ip), security_groups=strings(list(security_groups)))

    def auto_scaling_group(self, key: str, *, loc: Location, count: int, subnets: Iterable[str] = (),
                           azs: Iterable[str] = (), security_groups: Iterable[str] = (),
                           target_groups: Iterable[str] = (), port: int | None = None) -> list[Fact]:
        """``count`` instances spread round-robin over the subnets (or AZs), registered in each
        target group (a Lattice traffic source)."""
        if count > MAX_ASG_INSTANCES:  # each instance becomes a fact and a target: bound the memory
            self.error(f"the group asks for {count:,} instances; Lattice registers at most {MAX_ASG_INSTANCES:,} "
                       "targets per target group", loc, code="asg-size")
            return []
        subnets, azs = list(subnets), list(azs)
        out = []
        for i in range(max(0, count)):
            iid = "i-" + stable_hex("asg", key, str(i))
            sub = subnets[i % len(subnets)] if subnets else None
            az = azs[i % len(azs)] if azs and not subnets else None
            out.append(self.instance(f"{key}#{i}", loc=loc, id=iid, subnet=sub, az=az,
                                     security_groups=security_groups))
            for tg in target_groups:
                self.target(tg, iid, loc=loc, port=port)
        return out

    def function(self, key: str, *, loc: Location, name: str, arn: str | None = None,
                 idents: Iterable[Any] = ()) -> Fact:
        return self._add("function", key, loc, [name, arn, *idents], function_name=name, arn=text(arn))

    def load_balancer(self, key: str, *, loc: Location, name: str, arn: str | None = None,
                      subnets: Iterable[str] = (), security_groups: Iterable[str] = (),
                      idents: Iterable[Any] = ()) -> Fact:
        return self._add("lb", key, loc, [name, arn, *idents], lb_name=name, arn=text(arn),
                         subnets=strings(list(subnets)), security_groups=strings(list(security_groups)))

    def vpc_association(self, service_network: str | None, vpc: str | None, *, loc: Location,
                        security_groups: Iterable[str] = ()) -> None:
        self._deferred.append(("vpc_association", loc, {"sn": service_network, "vpc": vpc,
                                                        "security_groups": strings(list(security_groups))}))

    def service_association(self, service_network: str | None, service: str | None, *, loc: Location) -> None:
        self._deferred.append(("service_association", loc, {"sn": service_network, "service": service}))

    def service_network_endpoint(self, vpc: str | None, service_network: str | None, *, loc: Location) -> None:
        """An SN-type VPC endpoint (PrivateLink): ``vpc`` reaches ``service_network`` without an association."""
        self._deferred.append(("endpoint", loc, {"vpc": vpc, "sn": service_network}))

    def auth_policy(self, resource: str | None, policy: Any, *, loc: Location) -> None:
        """The auth policy of a service network or a service (a dict, or a JSON string)."""
        self._deferred.append(("auth_policy", loc, {"resource": resource, "policy": policy}))

    def access_log(self, resource: str | None, *, loc: Location, destination: str | None = None) -> None:
        """An access-log subscription on a service network or a service (``destination``: its ARN)."""
        self._deferred.append(("access_log", loc, {"resource": resource, "destination": text(destination)}))

    def resource_share(self, key: str, *, loc: Location, name: str | None = None,
                       idents: Iterable[Any] = ()) -> Fact:
        return self._add("share", key, loc, idents, label=text(name), resources=[], principals=[])

    def share_resource(self, share: str | None, resource: str, *, loc: Location) -> None:
        self._deferred.append(("share_resource", loc, {"share": share, "resource": resource}))

    def share_principal(self, share: str | None, principal: str, *, loc: Location) -> None:
        self._deferred.append(("share_principal", loc, {"share": share, "principal": principal}))

    # -- build -----------------------------------------------------------------------------------
    def build(self) -> tuple[dict[str, Any], dict[Keys, Location]]:
        """Resolve every reference, name every object, and return (scenario data, provenance)."""
        _Assembler(self).run()
        return self._data, self._provenance

    _data: dict[str, Any]
    _provenance: dict[Keys, Location]

    def result(self, source: str, files: Iterable[str] = ()) -> ImportResult:
        """``build()`` wrapped in an ImportResult; raises ScenarioError if an error was recorded.
        Problems are ordered by file (in the order of ``files``), then line."""
        data, provenance = self.build()
        order = {f: i for i, f in enumerate(files)}

        def where(p: Problem) -> tuple[int, str, int, int]:
            f = p.location.file
            return (-1 if f is None else order.get(f, len(order)), f or "", p.location.line or 0,
                    p.location.column or 0)
        problems = sorted(self.problems, key=where)
        if any(p.severity == "error" for p in problems):
            raise ScenarioError(problems)
        return ImportResult(data=data, warnings=problems, source=source, provenance=provenance)


class _Assembler:
    """The two passes of ``ScenarioBuilder.build``: attach and name, then emit."""

    def __init__(self, b: ScenarioBuilder) -> None:
        self.b = b
        self.prov: dict[Keys, Location] = {}

    def run(self) -> None:
        b = self.b
        self._attach()
        self._name()
        data: dict[str, Any] = {"name": lattice_name(b.name, "vpc"), "region": b.region}
        if b.description:
            data["description"] = b.description
        data["accounts"] = [{"id": a, **({"name": b._account_names[a]} if a in b._account_names else {})}
                            for a in b._accounts]
        data["vpcs"] = self._vpcs()
        data["security_groups"] = self._security_groups()
        data["service_networks"] = self._service_networks()
        data["services"] = self._services()
        data["target_groups"] = self._target_groups()
        logs = self._access_logs()
        if logs:
            data["access_logs"] = logs
        for section in ("vpcs", "security_groups", "service_networks", "services", "target_groups"):
            if not data[section]:
                del data[section]
        b._data = data
        b._provenance = self.prov

    # -- helpers -----------------------------------------------------------------------------------
    def _ref(self, kind: str, ident: Any, loc: Location, what: str, *, quiet: bool = False) -> Fact | None:
        fact = self.b.find(kind, ident)
        if fact is None and not quiet:
            label = _KIND_LABEL.get(kind, kind)
            if ident is None or ident == "":
                self.b.warn(f"{what}: the {label} is not known (the reference could not be resolved)", loc,
                            code="unresolved-reference")
            else:
                self.b.warn(f"{what}: {label} '{ident}' is not in the input", loc, code="unknown-reference",
                            hint="import the source that defines it too, or add it with an overlay")
        return fact

    # -- pass 1: attach the deferred facts to their owners -----------------------------------------
    def _attach(self) -> None:
        b = self.b
        for lst in b._facts["listener"]:
            svc = self._ref("service", lst.attrs["service"], lst.loc, f"listener {lst.attrs['label'] or lst.key}")
            lst.attrs["owner"] = svc
            if svc is not None:
                svc.children.append(lst)
        for rule in b._facts["rule"]:
            owner = self._ref("listener", rule.attrs["listener"], rule.loc, f"rule {rule.attrs['label'] or rule.key}")
            if owner is not None:
                owner.children.append(rule)
        for kind, loc, a in b._deferred:
            getattr(self, f"_attach_{kind}")(loc, a)
        for tg in list(b._facts["tg"]):
            if tg.attrs["type"] in ("LAMBDA", "ALB") and not tg.attrs["vpc"]:
                continue
            label = tg.attrs["label"] or _key_name(tg.key)
            if not tg.attrs["vpc"]:  # not known at all (a value from an unknown source): named after the group
                tg.attrs["vpc"] = f"{lattice_name(label, 'vpc')}-vpc"
            if b.find("vpc", tg.attrs["vpc"]) is None:
                self._placeholder_vpc(tg.attrs["vpc"], tg.loc, tg.attrs["account"], f"target group {label}")

    def _attach_vpc_cidr(self, loc: Location, a: dict[str, Any]) -> None:
        vpc = self._ref("vpc", a["vpc"], loc, "CIDR block")
        if vpc is not None and a["cidr"] and a["cidr"] not in vpc.attrs["cidrs"]:
            vpc.attrs["cidrs"].append(a["cidr"])

    def _attach_sg_rule(self, loc: Location, a: dict[str, Any]) -> None:
        sg = self._ref("sg", a["sg"], loc, f"{a['direction']} rule")
        if sg is not None:
            sg.attrs[a["direction"]].append((loc, a))

    def _attach_target(self, loc: Location, a: dict[str, Any]) -> None:
        tg = self._ref("tg", a["tg"], loc, "target")
        if tg is not None:
            tg.attrs["targets"].append((loc, a))

    def _attach_vpc_association(self, loc: Location, a: dict[str, Any]) -> None:
        sn = self._ref("sn", a["sn"], loc, "VPC association")
        if sn is None:
            self._ref("vpc", a["vpc"], loc, "VPC association")
            return
        vpc = self._ref("vpc", a["vpc"], loc, "VPC association", quiet=bool(a["vpc"])) or \
            self._placeholder_vpc(a["vpc"], loc, sn.attrs["account"], "VPC association")
        if vpc is not None:
            sn.attrs["vpc_associations"].append((loc, vpc, a["security_groups"]))

    def _placeholder_vpc(self, ident: Any, loc: Location, account: str, what: str) -> Fact | None:
        """A VPC the input only refers to (a parameter, a data source, another stack): a named
        stand-in that an overlay completes (``vpcs: [{name: …, cidr: …, azs: […]}]``), so that what
        refers to it is kept rather than dropped."""
        if not isinstance(ident, str) or not ident:
            return None
        fact = self.b.find("vpc", ident)
        if fact is not None:
            return fact
        raw = _key_name(ident) if ident.startswith("tf:") else ident
        vid = ident if re.fullmatch(r"vpc-[0-9a-f]{8,17}", ident) else None
        fact = self.b.vpc(f"placeholder:{ident}", loc=loc, account=account, name=raw, id=vid, idents=[ident])
        fact.attrs["placeholder"] = True
        name = lattice_name(raw, "vpc")
        self.b.warn(f"{what}: VPC '{ident}' is not in the input; latsim puts a placeholder VPC '{name}' in its place "
                    f"(account {account}; its CIDR and AZs are guessed)", loc, code="placeholder",
                    hint=f"complete it with an overlay: vpcs: [{{name: {name}, cidr: …, azs: […]}}]")
        return fact

    def _attach_service_association(self, loc: Location, a: dict[str, Any]) -> None:
        sn = self._ref("sn", a["sn"], loc, "service association")
        svc = self._ref("service", a["service"], loc, "service association")
        if sn is not None and svc is not None:
            sn.attrs["services"].append((loc, svc))

    def _attach_endpoint(self, loc: Location, a: dict[str, Any]) -> None:
        vpc = self._ref("vpc", a["vpc"], loc, "service-network VPC endpoint")
        sn = self._ref("sn", a["sn"], loc, "service-network VPC endpoint")
        if vpc is not None and sn is not None:
            vpc.attrs.setdefault("endpoints", []).append(sn)

    def _owner(self, ident: Any, loc: Location, what: str) -> Fact | None:
        owner = self.b.find("sn", ident) or self.b.find("service", ident)
        if owner is None:
            self._ref("service", ident, loc, what)
        return owner

    def _attach_auth_policy(self, loc: Location, a: dict[str, Any]) -> None:
        owner = self._owner(a["resource"], loc, "auth policy")
        if owner is None:
            return
        policy = a["policy"]
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except json.JSONDecodeError as exc:
                self.b.warn(f"auth policy is not valid JSON ({exc.msg}); kept as text", loc, code="policy-json")
        if policy is None:
            self.b.warn("auth policy has no document (unknown until apply?); not imported", loc,
                        code="policy-unknown")
            return
        if owner.attrs["policy"] is not None:
            self.b.warn(f"a second auth policy for {owner.attrs['label'] or owner.key}; the last one wins", loc,
                        code="policy-duplicate")
        owner.attrs["policy"] = policy
        owner.attrs["policy_loc"] = loc

    def _attach_access_log(self, loc: Location, a: dict[str, Any]) -> None:
        owner = self._owner(a["resource"], loc, "access-log subscription")
        if owner is not None:
            owner.attrs["access_logs"] = True
            dest = f" to {a['destination']}" if a.get("destination") else ""
            of = owner.attrs["label"] or _key_name(owner.key)
            self.b.warn(f"access-log subscription of {of}{dest}: latsim writes the access logs itself (the destination is "
                        "not used)", loc, code="access-log", severity="info")

    def _attach_share_resource(self, loc: Location, a: dict[str, Any]) -> None:
        share = self._ref("share", a["share"], loc, "RAM resource association")
        if share is not None:
            share.attrs["resources"].append((loc, a["resource"]))

    def _attach_share_principal(self, loc: Location, a: dict[str, Any]) -> None:
        share = self._ref("share", a["share"], loc, "RAM principal association")
        if share is not None:
            share.attrs["principals"].append((loc, a["principal"]))

    # -- pass 1b: names ----------------------------------------------------------------------------
    def _name(self) -> None:
        b = self.b
        self._apply_shares()
        plan = [("vpc", "vpc"), ("sg", "security group"), ("sn", "service network"), ("service", "service"),
                ("tg", "target group")]
        for kind, label in plan:
            taken: set[str] = set()
            raws = [f.attrs.get("label") or f.attrs.get("tags", {}).get("Name") or _key_name(f.key)
                    for f in b._facts[kind]]
            for fact, raw in zip(b._facts[kind], raws, strict=True):
                vpc = b.find("vpc", fact.attrs["vpc"]) if kind == "sg" else None
                if vpc is not None and raws.count(raw) > 1:
                    # a group name is unique per VPC only (every VPC has a 'default'): the VPC tells them apart
                    raw = f"{vpc.name}-{raw}"
                name = lattice_name(raw, label)
                if fact.attrs.get("label") and name != fact.attrs["label"] and kind in ("sn", "service", "tg"):
                    b.warn(f"{label} name '{fact.attrs['label']}' does not follow Lattice's name rules; "
                           f"imported as '{name}'", fact.loc, code="name")
                fact.name = unique(name, taken, label)
                if fact.name != name:
                    b.warn(f"{label} name '{name}' is used twice (latsim needs unique names, AWS only per "
                           f"account); this one is imported as '{fact.name}'", fact.loc, code="name",
                           severity="info")
        for svc in b._facts["service"]:
            taken = set()
            for lst in svc.children:
                raw = lst.attrs.get("label") or _key_name(lst.key)
                lst.name = unique(lattice_name(raw, "listener"), taken, "listener")
                rtaken: set[str] = set()
                for rule in lst.children:
                    raw = rule.attrs.get("label") or _key_name(rule.key)
                    rule.name = unique(lattice_name(raw, "rule"), rtaken, "rule")

    def _apply_shares(self) -> None:
        for share in self.b._facts["share"]:
            principals = []
            for loc, p in share.attrs["principals"]:
                norm = share_principal(p)
                if norm is None:
                    self.b.warn(f"RAM principal '{p}' is not an account, organization or OU: Lattice resources "
                                "cannot be shared with IAM users or roles", loc, code="ram-principal")
                elif norm not in principals:
                    principals.append(norm)
            for loc, res in share.attrs["resources"]:
                sn = self.b.find("sn", res)
                if sn is not None:
                    for p in principals:
                        if p not in sn.attrs["shared_with"]:
                            sn.attrs["shared_with"].append(p)
                    continue
                what = "a service" if self.b.find("service", res) is not None else f"'{res}'"
                self.b.warn(f"RAM share of {what} is not simulated: latsim checks cross-account access on the "
                            "service network's sharing (share the service network instead)", loc, code="ram-share")

    # -- pass 2: emit --------------------------------------------------------------------------------
    def _vpc_name(self, ident: Any, loc: Location, what: str) -> str | None:
        vpc = self._ref("vpc", ident, loc, what)
        return vpc.name if vpc is not None else None

    def _sg_names(self, idents: Iterable[Any], loc: Location, what: str) -> list[str]:
        out = []
        for ident in idents:
            sg = self._ref("sg", ident, loc, what)
            if sg is not None and sg.attrs.get("emitted") and sg.name not in out:
                out.append(sg.name)
        return out

    def _subnet_az(self, ident: Any, loc: Location, what: str) -> tuple[str | None, Fact | None]:
        sub = self._ref("subnet", ident, loc, what) if ident else None
        if sub is None:
            return None, None
        return self._az(sub.attrs["az"], sub.loc), sub

    def _az(self, az: Any, loc: Location) -> str | None:
        if not az:
            return None
        out = az_id(str(az))
        if out is None:
            self.b.warn(f"'{az}' is neither an AZ name nor an AZ id; ignored", loc, code="az")
        return out

    def _vpcs(self) -> list[dict[str, Any]]:
        b = self.b
        # the AZs of a VPC: those of its subnets, then those where its targets sit
        for sub in b._facts["subnet"]:
            vpc = self._ref("vpc", sub.attrs["vpc"], sub.loc, "subnet")
            az = self._az(sub.attrs["az"], sub.loc)
            if vpc is not None and az and az not in vpc.attrs["azs"]:
                vpc.attrs["azs"].append(az)
        out = []
        for i, vpc in enumerate(b._facts["vpc"]):
            a = vpc.attrs
            cidrs = a["cidrs"]
            if not cidrs and a.get("placeholder"):
                cidrs = self._placeholder_cidr(vpc)
            if not cidrs:
                if not a.get("placeholder"):
                    b.warn(f"VPC {vpc.name} has no known CIDR; latsim assumes {DEFAULT_VPC_CIDR}", vpc.loc,
                           code="vpc-cidr", hint="set it with an overlay")
                cidrs = [DEFAULT_VPC_CIDR]
            if not a["azs"]:
                a["azs"] = default_azs(b.region)
                if not a.get("placeholder"):
                    b.warn(f"VPC {vpc.name} has no subnets in the input; latsim places it in {a['azs'][0]}",
                           vpc.loc, code="vpc-azs", severity="info")
            azs = list(a["azs"])
            item: dict[str, Any] = {"name": vpc.name}
            if a["id"] and re.fullmatch(r"vpc-[0-9a-f]{8,17}", a["id"]):
                item["id"] = a["id"]
            item.update({"account": a["account"], "cidr": cidrs, "azs": azs})
            eps = [sn.name for sn in a.get("endpoints", [])]
            if eps:
                item["service_network_endpoints"] = list(dict.fromkeys(eps))
            if a["tags"]:
                item["tags"] = {str(k): str(v) for k, v in a["tags"].items()}
            a["out"] = item
            self.prov[("vpcs", i)] = vpc.loc
            out.append(item)
        return out

    def _placeholder_cidr(self, vpc: Fact) -> list[str]:
        """A placeholder VPC's CIDR: the /16 around the first IP target placed in it, else none."""
        for tg in self.b._facts["tg"]:
            if tg.attrs["type"] != "IP" or self.b.find("vpc", tg.attrs["vpc"]) is not vpc:
                continue
            for _, t in tg.attrs["targets"]:
                try:
                    ip = ipaddress.ip_address(str(t["target"]))
                except ValueError:
                    continue
                return [str(ipaddress.ip_network(f"{ip}/{16 if ip.version == 4 else 56}", strict=False))]
        return []

    def _security_groups(self) -> list[dict[str, Any]]:
        b = self.b
        out: list[dict[str, Any]] = []
        for sg in b._facts["sg"]:
            if self._vpc_name(sg.attrs["vpc"], sg.loc, f"security group {sg.name}") is None:
                b.warn(f"security group {sg.name} is not imported (its VPC is unknown)", sg.loc, code="sg-vpc")
                continue
            sg.attrs["emitted"] = True
        for sg in b._facts["sg"]:
            if not sg.attrs.get("emitted"):
                continue
            vpc_fact = b.find("vpc", sg.attrs["vpc"])
            assert vpc_fact is not None
            item: dict[str, Any] = {"name": sg.name}
            if sg.attrs["id"] and re.fullmatch(r"sg-[0-9a-f]{8,17}", sg.attrs["id"]):
                item["id"] = sg.attrs["id"]
            item["vpc"] = vpc_fact.name
            if sg.attrs["description"]:
                item["description"] = str(sg.attrs["description"])
            keys: Keys = ("security_groups", len(out))
            self.prov[keys] = sg.loc
            ingress = self._rules(sg, "ingress", keys)
            item["ingress"] = ingress
            egress = self._rules(sg, "egress", keys)
            if not sg.attrs["default_egress"]:
                item["egress"] = egress
            out.append(item)
        return out

    def _rules(self, sg: Fact, direction: str, keys: Keys) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for loc, a in sg.attrs[direction]:
            proto = sg_protocol(a["protocol"])
            if proto is None:
                self.b.warn(f"{direction} rule with protocol '{a['protocol']}' is not simulated (tcp, udp, icmp "
                            "and all are)", loc, code="sg-protocol")
                continue
            peer = self._peer(sg, a, loc, direction)
            if peer is None:
                continue
            rule: dict[str, Any] = {"protocol": proto, "ports": sg_ports(proto, a["from_port"], a["to_port"]),
                                    ("source" if direction == "ingress" else "destination"): peer}
            if a["description"]:
                rule["description"] = str(a["description"])
            if rule not in out:
                self.prov[keys + (direction, len(out))] = loc
                out.append(rule)
        return out

    def _peer(self, sg: Fact, a: dict[str, Any], loc: Location, direction: str) -> str | None:
        if a["self_ref"]:
            return sg.name
        if a["cidr"]:
            try:
                return str(ipaddress.ip_network(str(a["cidr"]), strict=False))
            except ValueError:
                self.b.warn(f"{direction} rule: '{a['cidr']}' is not a CIDR; rule dropped", loc, code="sg-peer")
                return None
        if a["peer_sg"]:
            peer = self.b.find("sg", a["peer_sg"])
            if peer is None or not peer.attrs.get("emitted"):
                self.b.warn(f"{direction} rule: security group '{a['peer_sg']}' is not in the input; rule dropped",
                            loc, code="sg-peer")
                return None
            return peer.name
        pl = a["prefix_list"]
        if pl:
            if is_lattice_prefix_list(pl) or pl in self.b.lattice_prefix_lists:
                return LATTICE_PREFIX_LIST
            self.b.warn(f"{direction} rule: prefix list '{pl}' is not known to be VPC Lattice's; latsim treats "
                        "every prefix list as the Lattice one", loc, code="prefix-list", severity="info")
            return str(pl) if str(pl).startswith("pl-") else LATTICE_PREFIX_LIST
        self.b.warn(f"{direction} rule without a peer (CIDR, security group or prefix list); rule dropped", loc,
                    code="sg-peer")
        return None

    def _service_networks(self) -> list[dict[str, Any]]:
        out = []
        for i, sn in enumerate(self.b._facts["sn"]):
            a = sn.attrs
            keys: Keys = ("service_networks", i)
            self.prov[keys] = sn.loc
            item: dict[str, Any] = {"name": sn.name}
            if a["id"] and re.fullmatch(r"sn-[0-9a-z]{17}", a["id"]):
                item["id"] = a["id"]
            item["account"] = a["account"]
            if a["auth_type"]:
                item["auth_type"] = str(a["auth_type"]).upper()
            if a["policy"] is not None:
                item["auth_policy"] = a["policy"]
                self.prov[keys + ("auth_policy",)] = a["policy_loc"]
            if a["shared_with"]:
                item["shared_with"] = list(a["shared_with"])
            assocs: list[dict[str, Any]] = []
            for loc, vpc, sgs in a["vpc_associations"]:
                assoc: dict[str, Any] = {"vpc": vpc.name}
                names = self._sg_names(sgs, loc, f"VPC association of {sn.name}")
                if names:
                    assoc["security_groups"] = names
                if any(x["vpc"] == vpc.name for x in assocs):
                    continue
                self.prov[keys + ("vpc_associations", len(assocs))] = loc
                assocs.append(assoc)
            if assocs:
                item["vpc_associations"] = assocs
            services: list[str] = []
            # by name: a network's services are a set, and sources list them in different orders
            for loc, svc in sorted(a["services"], key=lambda pair: pair[1].name):
                if svc.name not in services:
                    self.prov[keys + ("services", len(services))] = loc
                    services.append(svc.name)
            if services:
                item["services"] = services
            if a["tags"]:
                item["tags"] = {str(k): str(v) for k, v in a["tags"].items()}
            out.append(item)
        return out

    def _action(self, action: Mapping[str, Any], loc: Location, what: str) -> dict[str, Any] | None:
        if action.get("fixed_response") is not None:
            return {"fixed_response": action["fixed_response"]}
        forward = []
        for ident, weight in as_list(action.get("forward")):
            tg = self._ref("tg", ident, loc, what)
            if tg is None:
                continue
            entry: dict[str, Any] = {"target_group": tg.name}
            if weight is not None:
                entry["weight"] = weight
            forward.append(entry)
        if not forward:
            self.b.warn(f"{what}: no action that latsim can follow (no known target group, no fixed response)",
                        loc, code="action")
            return None
        return {"forward": forward}

    def _services(self) -> list[dict[str, Any]]:
        out = []
        for i, svc in enumerate(self.b._facts["service"]):
            a = svc.attrs
            keys: Keys = ("services", i)
            self.prov[keys] = svc.loc
            item: dict[str, Any] = {"name": svc.name}
            if a["id"] and re.fullmatch(r"svc-[0-9a-z]{17}", a["id"]):
                item["id"] = a["id"]
            item["account"] = a["account"]
            for k in ("custom_domain", "certificate_arn"):
                if a[k]:
                    item[k] = str(a[k])
            if a["auth_type"]:
                item["auth_type"] = str(a["auth_type"]).upper()
            if a["policy"] is not None:
                item["auth_policy"] = a["policy"]
                self.prov[keys + ("auth_policy",)] = a["policy_loc"]
            if a["tags"]:
                item["tags"] = {str(k): str(v) for k, v in a["tags"].items()}
            listeners: list[dict[str, Any]] = []
            for lst in svc.children:
                la = lst.attrs
                lkeys = keys + ("listeners", len(listeners))
                default = self._action(la["default_action"], lst.loc, f"listener {lst.name}")
                if default is None:
                    self.b.warn(f"listener {lst.name} of service {svc.name} is not imported (no usable default "
                                "action)", lst.loc, code="listener")
                    continue
                litem: dict[str, Any] = {"name": lst.name}
                if la["protocol"]:
                    litem["protocol"] = str(la["protocol"]).upper()
                if la["port"] is not None:
                    litem["port"] = la["port"]
                litem["default_action"] = default
                rules: list[dict[str, Any]] = []
                for rule in lst.children:
                    ra = rule.attrs
                    if ra["priority"] is None:
                        self.b.warn(f"rule {rule.name} has no priority; not imported", rule.loc, code="rule")
                        continue
                    if not ra["match"]:
                        self.b.warn(f"rule {rule.name} has no match latsim understands; not imported", rule.loc,
                                    code="rule")
                        continue
                    action = self._action(ra["action"], rule.loc, f"rule {rule.name}")
                    if action is None:
                        continue
                    self.prov[lkeys + ("rules", len(rules))] = rule.loc
                    rules.append({"name": rule.name, "priority": ra["priority"], "match": ra["match"],
                                  "action": action})
                if rules:
                    litem["rules"] = rules
                self.prov[lkeys] = lst.loc
                listeners.append(litem)
            item["listeners"] = listeners
            out.append(item)
        return out

    def _target_groups(self) -> list[dict[str, Any]]:
        out = []
        for i, tg in enumerate(self.b._facts["tg"]):
            a = tg.attrs
            keys: Keys = ("target_groups", i)
            self.prov[keys] = tg.loc
            item: dict[str, Any] = {"name": tg.name}
            if a["id"] and re.fullmatch(r"tg-[0-9a-z]{17}", a["id"]):
                item["id"] = a["id"]
            item["account"] = a["account"]
            item["type"] = a["type"]
            vpc = None
            if a["type"] != "LAMBDA":
                vpc = self._ref("vpc", a["vpc"], tg.loc, f"target group {tg.name}")
                if vpc is not None:
                    item["vpc"] = vpc.name
                elif a["vpc"]:
                    item["vpc"] = a["vpc"]  # an outside VPC: an overlay can add it under this id
                if a["protocol"]:
                    item["protocol"] = str(a["protocol"]).upper()
            if a["protocol_version"]:
                item["protocol_version"] = str(a["protocol_version"]).upper()
            if a["port"] is not None:
                item["port"] = a["port"]
            if a["ip_address_type"]:
                item["ip_address_type"] = str(a["ip_address_type"]).upper()
            hc = dict(a["health_check"])
            if hc and a["type"] in ("LAMBDA", "ALB"):
                if hc.get("enabled"):
                    self.b.warn(f"health checks are not supported for {a['type']} target groups; ignored", tg.loc,
                                code="health-check")
                hc = {}
            if hc:
                item["health_check"] = hc
            targets: list[dict[str, Any]] = []
            for loc, t in a["targets"]:
                target = self._target(tg, vpc, t, loc)
                if target is None or any(x["id"] == target["id"] for x in targets):
                    continue
                self.prov[keys + ("targets", len(targets))] = loc
                targets.append(target)
            if not targets and a["type"] == "LAMBDA":
                # a Lambda target group serves one function; registered elsewhere (a custom resource,
                # another stack), it is named here so the service keeps its route
                targets.append({"id": f"{tg.name}-function"[:64]})
                self.b.warn(f"target group {tg.name}: no Lambda function is registered in the input; latsim puts "
                            f"a placeholder function '{targets[0]['id']}' in it", tg.loc, code="placeholder",
                            hint="give its latency and errors with an overlay (target_groups: [{name: "
                                 f"{tg.name}, targets: [{{id: …}}]}}])")
            if targets:
                item["targets"] = targets
            if a["tags"]:
                item["tags"] = {str(k): str(v) for k, v in a["tags"].items()}
            out.append(item)
        return out

    def _target(self, tg: Fact, vpc: Fact | None, t: dict[str, Any], loc: Location) -> dict[str, Any] | None:
        b = self.b
        kind = tg.attrs["type"]
        ident = t["target"]
        if not isinstance(ident, str) or not ident:
            b.warn(f"target of {tg.name} is unknown (the reference could not be resolved)", loc, code="target")
            return None
        out: dict[str, Any] = {}
        az = None
        sgs: list[str] = []
        if kind == "LAMBDA":
            fn = b.find("function", ident)
            out["id"] = fn.attrs["function_name"] if fn else lambda_function_name(ident)
        elif kind == "ALB":
            lb = b.find("lb", ident)
            if lb is not None:
                out["id"] = lb.attrs["lb_name"]
                for subnet in lb.attrs["subnets"]:
                    az, _ = self._subnet_az(subnet, lb.loc, f"load balancer {lb.attrs['lb_name']}")
                    if az:
                        break
                sgs = self._sg_names(lb.attrs["security_groups"], lb.loc, f"load balancer {lb.attrs['lb_name']}")
            else:
                p = arn_parts(ident)
                out["id"] = p["resource"].split("/")[2] if p and p["resource"].count("/") >= 2 else ident
        elif kind == "IP":
            inst = b.find("instance", ident)
            out["id"] = ident
            az = self._ip_az(vpc, ident)
            if inst is not None:
                sgs = self._sg_names(inst.attrs["security_groups"], inst.loc, f"instance {inst.attrs['id']}")
        else:
            inst = b.find("instance", ident)
            out["id"] = inst.attrs["id"] if inst is not None else ident
            if inst is not None:
                az, sub = self._subnet_az(inst.attrs["subnet"], inst.loc, f"instance {inst.attrs['id']}")
                az = az or self._az(inst.attrs["az"], inst.loc)
                if inst.attrs["ip"]:
                    out["ip"] = str(inst.attrs["ip"])
                sgs = self._sg_names(inst.attrs["security_groups"], inst.loc, f"instance {inst.attrs['id']}")
                if sub is not None and vpc is not None and b.find("vpc", sub.attrs["vpc"]) is not vpc:
                    b.warn(f"instance {inst.attrs['id']} is not in target group {tg.name}'s VPC {vpc.name}", loc,
                           code="target-vpc")
        az = az or (self._az(t["az"], loc) if t.get("az") else None)
        if az and vpc is not None:
            if az not in vpc.attrs["azs"]:
                vpc.attrs["azs"].append(az)
                if "out" in vpc.attrs:
                    vpc.attrs["out"]["azs"] = list(vpc.attrs["azs"])
            out["az"] = az
        if t["port"] is not None and t["port"] != tg.attrs["port"]:
            out["port"] = t["port"]  # a target on its group's port is written without one, whoever reports it
        if sgs:
            out["security_groups"] = sgs
        return out

    def _ip_az(self, vpc: Fact | None, ip: str) -> str | None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        for sub in self.b._facts["subnet"]:
            if vpc is not None and self.b.find("vpc", sub.attrs["vpc"]) is not vpc:
                continue
            try:
                if sub.attrs["cidr"] and addr in ipaddress.ip_network(str(sub.attrs["cidr"]), strict=False):
                    return self._az(sub.attrs["az"], sub.loc)
            except ValueError:
                continue
        return None

    def _access_logs(self) -> dict[str, Any] | None:
        sns = [f.name for f in self.b._facts["sn"] if f.attrs.get("access_logs")]
        svcs = [f.name for f in self.b._facts["service"] if f.attrs.get("access_logs")]
        if not sns and not svcs:
            return None
        out: dict[str, Any] = {}
        if svcs:
            out["services"] = svcs
        if sns:
            out["service_networks"] = sns
        return out


def _tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        return {}
    return {str(k): str(v) for k, v in tags.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}


def _key_name(key: str) -> str:
    """The readable tail of an importer key: 'stack/LogicalId' -> 'LogicalId', 'aws_vpc.web[0]' -> 'web-0',
    'module.svc["checkout"].aws_vpclattice_service.this' -> 'checkout' (the last for_each key)."""
    keys = re.findall(r'\["((?:[^"\\]|\\.)*)"\]', key)
    if keys:
        return keys[-1]
    tail = re.sub(r"\[(\d+)\]", r"-\1", key.rsplit("/", 1)[-1])
    return tail.rsplit(".", 1)[-1]
