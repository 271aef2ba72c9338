"""What ``Ref`` and ``Fn::GetAtt`` of a CloudFormation resource return, offline: AWS invents physical
ids at deploy time, so latsim derives them from the stack name and logical id (``vpc-…``, ``svc-…``,
ARNs), the same ids every time, and an ARN written into an auth policy with ``!Sub
"${Service.Arn}/*"`` matches the service latsim imports. Custom resources are not run: their
attributes are given with ``--param`` or are unknown.

``attribute(stack, logical, attr, keys)`` is the one entry; ``cloudformation._Importer`` hands it
to ``cfn_intrinsics.Stack``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from latsim.errors import suggest
from latsim.importers.cfn_intrinsics import UNRESOLVED, Keys, Stack, names_lattice_prefix_list
from latsim.importers.common import as_list, generated_id
from latsim.importers.common import az_id as az_rule
from latsim.model.base import stable_hex


def hexid(s: Stack, logical: str, n: int = 17) -> str:
    return stable_hex("cfn", s.name, logical, length=n)


def _physical_name(s: Stack, logical: str, limit: int = 64) -> str:
    """CloudFormation's generated name: ``<stack>-<logical>-<RANDOM>``."""
    return f"{s.name}-{logical}-{hexid(s, logical, 12).upper()}"[:limit]


def _lattice_arn(s: Stack, kind: str, rid: str) -> str:
    return s.arn("vpc-lattice", f"{kind}/{rid}")


def _service_arn_of(s: Stack, ident: Any) -> str:
    if isinstance(ident, str) and ident.startswith("arn:"):
        return ident
    if isinstance(ident, str) and ident.startswith("svc-"):
        return _lattice_arn(s, "service", ident)
    return _lattice_arn(s, "service", "svc-unknown")


def attribute(s: Stack, logical: str, attr: str, keys: Keys) -> Any:
    res = s.resources[logical]
    typ = str(res.get("Type", "")) if isinstance(res, dict) else ""
    if is_custom(typ):
        return _customattribute(s, logical, attr, res, keys)
    table = _ATTRIBUTES.get(typ)
    values: dict[str, Any] = table(s, logical) if table else _generic_attributes(s, logical, typ)
    if attr not in values:
        if attr == "Ref":
            return _physical_name(s, logical)
        return s.warn(keys, f"attribute {attr} of {logical} ({typ}) is not known to latsim", "unknown-attribute",
                      hint=suggest(attr, [k for k in values if k != "Ref"]))
    value = values[attr]
    return value() if callable(value) else value


def is_custom(typ: str) -> bool:
    return typ.startswith("Custom::") or typ == "AWS::CloudFormation::CustomResource"


def _customattribute(s: Stack, logical: str, attr: str, res: dict[str, Any], keys: Keys) -> Any:
    """What a custom resource returns is known only when its Lambda runs: ``--param
    [STACK/]Logical.Attr=VALUE`` gives it; a lookup of the Lattice prefix list is recognised; else a
    named placeholder (``Logical.Attr``) with a located warning."""
    given = s.overrides.get(f"{logical}.{attr}")
    if given is not None:
        return given
    props = res.get("Properties")
    strings_in = [str(v) for v in (props.values() if isinstance(props, dict) else []) if isinstance(v, (str, int))]
    if attr in ("Ref", "Arn") and not any(names_lattice_prefix_list(x) for x in strings_in + [logical]):
        return _generic_attributes(s, logical, str(res.get("Type")))[attr]
    if any(names_lattice_prefix_list(x) for x in strings_in + [logical, f"{logical}{attr}"]):
        s.warn(("Resources", logical), f"custom resource {logical} looks up the VPC Lattice managed prefix list; "
               f"latsim takes {logical}.{attr} as that list", "lattice-prefix-list", severity="info")
        return f"com.amazonaws.{s.region}.vpc-lattice"
    s.warn(keys, f"{logical}.{attr} comes from custom resource {logical}, which runs at deploy time and latsim does "
           f"not run: the value is unknown", "custom-resource",
           hint=f"give it with --param {s.name}/{logical}.{attr}=VALUE")
    return UNRESOLVED


def _generic_attributes(s: Stack, logical: str, typ: str) -> dict[str, Any]:
    service = typ.split("::")[1].lower() if typ.count("::") == 2 else "unknown"
    return {"Ref": _physical_name(s, logical), "Arn": s.arn(service, _physical_name(s, logical))}


def _a_vpc(s: Stack, lg: str) -> dict[str, Any]:
    vid = generated_id("vpc", s.name, lg)
    return {"Ref": vid, "VpcId": vid, "CidrBlock": lambda: s.prop(lg, "CidrBlock"),
            "DefaultSecurityGroup": generated_id("sg", s.name, lg, "default"), "CidrBlockAssociations": [],
            "Ipv6CidrBlocks": [], "DefaultNetworkAcl": f"acl-{hexid(s, lg)}"}


def _a_subnet(s: Stack, lg: str) -> dict[str, Any]:
    sid = generated_id("subnet", s.name, lg)

    def az_id() -> Any:
        given = s.prop(lg, "AvailabilityZoneId")
        if given is not None:
            return given
        az = s.prop(lg, "AvailabilityZone")
        return az_rule(az) if isinstance(az, str) and az_rule(az) else UNRESOLVED
    return {"Ref": sid, "SubnetId": sid, "VpcId": lambda: s.prop(lg, "VpcId"),
            "CidrBlock": lambda: s.prop(lg, "CidrBlock"), "AvailabilityZone": lambda: s.prop(lg, "AvailabilityZone"),
            "AvailabilityZoneId": az_id, "Ipv6CidrBlocks": []}


def _a_sg(s: Stack, lg: str) -> dict[str, Any]:
    gid = generated_id("sg", s.name, lg)
    return {"Ref": gid, "GroupId": gid, "VpcId": lambda: s.prop(lg, "VpcId")}


def _a_instance(s: Stack, lg: str) -> dict[str, Any]:
    iid = f"i-{hexid(s, lg)}"

    def ip() -> Any:
        given = s.prop(lg, "PrivateIpAddress")
        if isinstance(given, str):
            return given
        cidr = s.imp.subnet_cidr(s.prop(lg, "SubnetId"))
        if cidr is None:
            return UNRESOLVED
        net = ipaddress.ip_network(cidr, strict=False)
        return str(net[4 + int(hexid(s, lg, 8), 16) % max(1, net.num_addresses - 5)])
    return {"Ref": iid, "InstanceId": iid, "PrivateIp": ip, "AvailabilityZone": lambda: s.prop(lg, "AvailabilityZone"),
            "PrivateDnsName": f"ip-{hexid(s, lg, 8)}.ec2.internal"}


def _a_lambda(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "FunctionName")
        return given if given is not None else _physical_name(s, lg)

    def arn() -> Any:
        n = name()
        return s.arn("lambda", f"function:{n}") if isinstance(n, str) else UNRESOLVED
    return {"Ref": name, "Arn": arn}


def _a_lambda_alias(s: Stack, lg: str) -> dict[str, Any]:
    def arn() -> Any:
        fn, alias = s.prop(lg, "FunctionName"), s.prop(lg, "Name")
        if not isinstance(fn, str) or not isinstance(alias, str):
            return UNRESOLVED
        base = fn if fn.startswith("arn:") else s.arn("lambda", f"function:{fn}")
        return f"{base}:{alias}"
    return {"Ref": arn, "AliasArn": arn}


def _a_lambda_version(s: Stack, lg: str) -> dict[str, Any]:
    def arn() -> Any:
        fn = s.prop(lg, "FunctionName")
        if not isinstance(fn, str):
            return UNRESOLVED
        return (fn if fn.startswith("arn:") else s.arn("lambda", f"function:{fn}")) + ":1"
    return {"Ref": arn, "FunctionArn": arn, "Version": "1"}


def _a_lb(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "Name")
        return given if given is not None else f"{s.name}-{lg}"[:32].rstrip("-")

    def arn() -> Any:
        n = name()
        return s.arn("elasticloadbalancing", f"loadbalancer/app/{n}/{hexid(s, lg, 16)}") if isinstance(n, str) \
            else UNRESOLVED
    return {"Ref": arn, "LoadBalancerArn": arn, "LoadBalancerName": name,
            "LoadBalancerFullName": lambda: f"app/{name()}/{hexid(s, lg, 16)}",
            "DNSName": lambda: f"internal-{name()}-{hexid(s, lg, 10)}.{s.region}.elb.amazonaws.com",
            "SecurityGroups": lambda: as_list(s.prop(lg, "SecurityGroups")),
            "CanonicalHostedZoneID": "Z35SXDOTRQ7X7K"}


def _a_named(prop: str) -> Callable[[Stack, str], dict[str, Any]]:
    def table(s: Stack, lg: str) -> dict[str, Any]:
        def name() -> Any:
            given = s.prop(lg, prop)
            return given if given is not None else _physical_name(s, lg)
        return {"Ref": name}
    return table


def _a_launch_template(s: Stack, lg: str) -> dict[str, Any]:
    lt = f"lt-{hexid(s, lg)}"
    return {"Ref": lt, "LaunchTemplateId": lt, "LatestVersionNumber": "1", "DefaultVersionNumber": "1"}


def _a_role(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "RoleName")
        return given if given is not None else _physical_name(s, lg)

    def arn() -> Any:
        path = s.prop(lg, "Path") or "/"
        n = name()
        return s.arn("iam", f"role{path}{n}", region=False) if isinstance(n, str) and isinstance(path, str) \
            else UNRESOLVED
    return {"Ref": name, "Arn": arn, "RoleId": f"AROA{hexid(s, lg, 17).upper()}"}


def _a_ram_share(s: Stack, lg: str) -> dict[str, Any]:
    h = hexid(s, lg, 32)
    arn = s.arn("ram", f"resource-share/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}")
    return {"Ref": arn, "Arn": arn}


def _a_lattice(kind: str, prefix: str, extra: Callable[[Stack, str, str, str], dict[str, Any]] | None = None
               ) -> Callable[[Stack, str], dict[str, Any]]:
    def table(s: Stack, lg: str) -> dict[str, Any]:
        rid = generated_id(prefix, s.name, lg)
        arn = _lattice_arn(s, kind, rid)
        out: dict[str, Any] = {"Ref": arn, "Arn": arn, "Id": rid, "Status": "ACTIVE",
                               "CreatedAt": "2026-01-01T00:00:00Z", "LastUpdatedAt": "2026-01-01T00:00:00Z"}
        if extra:
            out.update(extra(s, lg, rid, arn))
        return out
    return table


def _x_named(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    return {"Name": lambda: s.prop(lg, "Name") or _physical_name(s, lg, 40).lower()}


def _x_service(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    def dns() -> Any:
        name = s.prop(lg, "Name") or _physical_name(s, lg, 40).lower()
        part = stable_hex("partition", s.region, s.account, length=7)
        return f"{name}-{rid[4:]}.{part}.vpc-lattice-svcs.{s.region}.on.aws"
    return {"Name": lambda: s.prop(lg, "Name") or _physical_name(s, lg, 40).lower(), "DnsEntry.DomainName": dns,
            "DnsEntry.HostedZoneId": f"Z{hexid(s, lg, 13).upper()}"}


def _x_listener(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    listener_id = f"listener-{hexid(s, lg)}"

    def svc_arn() -> str:
        return _service_arn_of(s, s.prop(lg, "ServiceIdentifier"))

    def my_arn() -> str:
        return f"{svc_arn()}/listener/{listener_id}"
    return {"Ref": my_arn, "Arn": my_arn, "Id": listener_id, "ServiceArn": svc_arn,
            "ServiceId": lambda: svc_arn().rsplit("/", 1)[-1]}


def _x_rule(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    rule_id = f"rule-{hexid(s, lg)}"

    def my_arn() -> str:
        lst = s.prop(lg, "ListenerIdentifier")
        base = lst if isinstance(lst, str) and lst.startswith("arn:") else \
            f"{_service_arn_of(s, s.prop(lg, 'ServiceIdentifier'))}/listener/{lst}"
        return f"{base}/rule/{rule_id}"
    return {"Ref": my_arn, "Arn": my_arn, "Id": rule_id}


def _x_policy(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    return {"Ref": lambda: s.prop(lg, "ResourceIdentifier") or s.prop(lg, "ResourceArn"), "State": "Active"}


_ATTRIBUTES: dict[str, Callable[[Stack, str], dict[str, Any]]] = {
    "AWS::EC2::VPC": _a_vpc,
    "AWS::EC2::Subnet": _a_subnet,
    "AWS::EC2::SecurityGroup": _a_sg,
    "AWS::EC2::Instance": _a_instance,
    "AWS::EC2::LaunchTemplate": _a_launch_template,
    "AWS::Lambda::Function": _a_lambda,
    "AWS::Serverless::Function": _a_lambda,
    "AWS::Lambda::Alias": _a_lambda_alias,
    "AWS::Lambda::Version": _a_lambda_version,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _a_lb,
    "AWS::AutoScaling::AutoScalingGroup": _a_named("AutoScalingGroupName"),
    "AWS::IAM::Role": _a_role,
    "AWS::RAM::ResourceShare": _a_ram_share,
    "AWS::VpcLattice::ServiceNetwork": _a_lattice("servicenetwork", "sn", _x_named),
    "AWS::VpcLattice::Service": _a_lattice("service", "svc", _x_service),
    "AWS::VpcLattice::Listener": _a_lattice("listener", "listener", _x_listener),
    "AWS::VpcLattice::Rule": _a_lattice("rule", "rule", _x_rule),
    "AWS::VpcLattice::TargetGroup": _a_lattice("targetgroup", "tg", _x_named),
    "AWS::VpcLattice::ServiceNetworkVpcAssociation": _a_lattice("servicenetworkvpcassociation", "snva"),
    "AWS::VpcLattice::ServiceNetworkServiceAssociation": _a_lattice("servicenetworkserviceassociation", "snsa"),
    "AWS::VpcLattice::ServiceNetworkResourceAssociation": _a_lattice("servicenetworkresourceassociation", "snra"),
    "AWS::VpcLattice::AccessLogSubscription": _a_lattice("accesslogsubscription", "als"),
    "AWS::VpcLattice::ResourceGateway": _a_lattice("resourcegateway", "rgw"),
    "AWS::VpcLattice::ResourceConfiguration": _a_lattice("resourceconfiguration", "rcfg"),
    "AWS::VpcLattice::AuthPolicy": _a_lattice("authpolicy", "ap", _x_policy),
    "AWS::VpcLattice::ResourcePolicy": _a_lattice("resourcepolicy", "rp", _x_policy),
    "AWS::EC2::VPCEndpoint": lambda s, lg: {"Ref": f"vpce-{hexid(s, lg)}", "Id": f"vpce-{hexid(s, lg)}"},
}
