"""CloudFormation templates -> a latsim scenario (``latsim import cloudformation``).

Reads one or more templates (YAML with short tags, or JSON), evaluates the intrinsic functions
a template can be resolved with offline -- ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If`` with ``Conditions``, ``Fn::Equals``/``And``/``Or``/``Not``,
``Fn::FindInMap``, ``Fn::GetAZs``, ``Fn::Base64``, ``Fn::Cidr``, ``Fn::ImportValue`` across the given
stacks, ``Fn::Length`` and ``Fn::ToJsonString`` -- and maps the resources that shape Lattice traffic
onto the model through ``common.ScenarioBuilder``. Anything else is a located warning.

Mapped: every ``AWS::VpcLattice::*`` type that shapes traffic (ServiceNetwork, Service, Listener, Rule,
TargetGroup with its Targets, ServiceNetworkVpcAssociation, ServiceNetworkServiceAssociation,
AuthPolicy, AccessLogSubscription), ``AWS::EC2::VPC`` (+ ``VPCCidrBlock``), ``Subnet``,
``SecurityGroup`` (+ ``SecurityGroupIngress``/``Egress``), ``Instance``, ``VPCEndpoint`` of type
ServiceNetwork, ``AWS::Lambda::Function``/``Alias`` (and ``AWS::Serverless::Function``),
``AWS::AutoScaling::AutoScalingGroup`` with a ``vpc-lattice`` traffic source (N = DesiredCapacity,
else MinSize, instance targets with the security groups of its launch template),
``AWS::ElasticLoadBalancingV2::LoadBalancer`` (ALB targets) and ``AWS::RAM::ResourceShare``
(-> the service network's ``shared_with``). ResourceGateway, ResourceConfiguration,
ServiceNetworkResourceAssociation, ResourcePolicy and DomainVerification are warned about as not
simulated; so is every other type.

Conventions (a template names no account, no region, and AWS invents physical ids at deploy time):

* The stack name is the file name without its extension (``network.yaml`` -> ``network``).
* Parameters: ``params={"Env": "prod"}`` sets ``Env`` in every stack that declares it;
  ``{"payments/Env": "prod"}`` only in stack ``payments``. Declared ``Default`` values apply otherwise.
* ``AWS::AccountId`` is ``111111111111`` unless ``AWS::AccountId`` (or ``<stack>/AWS::AccountId``) is
  given; ``AWS::Region`` is ``us-east-1`` unless given (one region per scenario).
* Physical ids (``vpc-…``, ``svc-…``, ARNs) are derived from stack name and logical id, so the same
  templates always give the same scenario, and ARNs written into auth policies with ``!Sub
  "${Service.Arn}/*"`` match the ids latsim uses.
* AZ names map to AZ ids by ``common.az_id`` (``us-east-1a`` -> ``use1-az1``); ``!GetAZs`` returns
  the region's ``a``, ``b`` and ``c``.
* A security-group rule's ``SourcePrefixListId`` is the Lattice prefix list (``vpc-lattice``) when
  it is ``com.amazonaws.<region>.vpc-lattice`` or the value of a parameter, or of a mapping, whose
  name contains "Lattice" (``!Ref LatticePrefixListId``); other prefix lists are kept with a note
  (the model treats every prefix list as Lattice's).
* ``Fn::ImportValue`` resolves exports of all given stacks, whatever their account.
* Conditions that cannot be evaluated count as false (with a note).
* The import is returned unvalidated, so that an overlay can complete it (an outside VPC, clients);
  ``ImportResult.scenario(overlay)`` and ``to_yaml(overlay)`` validate and point problems back at
  the template line.

Templates are read by ``latsim.source`` (JSON by the standard library, YAML by libyaml with YAML 1.1
scalars as CloudFormation reads them, short-form tags, size and depth bounds). A key written twice in a mapping keeps the last value,
as CloudFormation does, with a located warning. Nothing from a template is executed or fetched:

* Transforms: ``AWS::LanguageExtensions`` is expanded (``Fn::ForEach`` by ``cfn_foreach``,
  ``Fn::Length``, ``Fn::ToJsonString``); any other transform (SAM, macros) is reported, not run.
* Custom resources are not run: each is a located warning naming what it is given, and each
  ``!GetAtt`` of one is unknown unless ``--param [STACK/]Logical.Attr=VALUE`` gives it. One that
  looks up the Lattice prefix list (a property, its logical id or the attribute says so) yields
  ``com.amazonaws.<region>.vpc-lattice``.
* SSM: a parameter of type ``AWS::SSM::Parameter::Value<…>`` and a ``{{resolve:ssm:/path}}``
  dynamic reference are unknown (``--param STACK/Name=VALUE`` or ``--param STACK//path=VALUE``),
  except a path that names the Lattice prefix list.
* A parameter of type ``AWS::EC2::<Thing>::Id`` without a value stands for itself (its name), so an
  outside VPC becomes a placeholder that an overlay completes.

The import by job, each in its module: ``cfn_template`` reads a template (with positions),
``cfn_foreach`` expands ``Fn::ForEach``, ``cfn_intrinsics`` holds a ``Stack`` and evaluates the
intrinsic functions, ``cfn_attributes`` says what ``Ref``/``Fn::GetAtt`` of each resource type
return, and this module maps the resources onto ``common.ScenarioBuilder`` and runs the import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, ScenarioError, suggest
from latsim.importers.cfn_attributes import attribute, hexid, is_custom
from latsim.importers.cfn_foreach import expand_template
from latsim.importers.cfn_intrinsics import (
    NO_VALUE,
    PSEUDO_PARAMETERS,
    UNRESOLVED,
    Stack,
    canon,
    known,
    names_lattice_prefix_list,
)
from latsim.importers.cfn_template import Keys, Positions, read_template
from latsim.importers.common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    ImportResult,
    ScenarioBuilder,
    as_bool,
    as_int,
    as_list,
    generated_id,
    lambda_function_name,
    seconds,
)

NOT_SIMULATED = {
    "AWS::VpcLattice::ResourceGateway": "resource gateways (VPC resources) are not simulated",
    "AWS::VpcLattice::ResourceConfiguration": "resource configurations (VPC resources) are not simulated",
    "AWS::VpcLattice::ServiceNetworkResourceAssociation": "resource associations (VPC resources) are not simulated",
    "AWS::VpcLattice::ResourcePolicy": "resource policies (RAM-style sharing policies) are not simulated",
    "AWS::VpcLattice::DomainVerification": "domain verification is not simulated",
}


# --- resources -> builder ---------------------------------------------------------------------------

class _Resource:
    """A resource being mapped: its stack, logical id, location and evaluated-on-demand properties."""

    def __init__(self, s: Stack, logical: str, body: dict[str, Any]) -> None:
        self.s = s
        self.logical = logical
        self.type = str(body.get("Type"))
        props = body.get("Properties")
        self.props: dict[str, Any] = props if isinstance(props, dict) else {}
        self.keys: Keys = ("Resources", logical)
        self.key = f"{s.name}/{logical}"
        self.loc = s.loc(self.keys)

    def pkeys(self, *names: str | int) -> Keys:
        return self.keys + ("Properties",) + tuple(names)

    def get(self, name: str) -> Any:
        """The evaluated property (None when absent, UNRESOLVED when it cannot be evaluated)."""
        if name not in self.props:
            return None
        v = self.s.ev(self.props[name], self.pkeys(name))
        return None if v is NO_VALUE else v

    def text(self, name: str) -> str | None:
        v = self.get(name)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (str, int, float)):
            return str(v)
        if v is not None and v is not UNRESOLVED:
            self.s.warn(self.pkeys(name), f"{name} must be a string", "property-shape")
        return None

    def strs(self, name: str) -> list[str]:
        v = self.get(name)
        if v is None or v is UNRESOLVED:
            return []
        if isinstance(v, str):
            return [v]
        if not isinstance(v, list):
            self.s.warn(self.pkeys(name), f"{name} must be a list", "property-shape")
            return []
        return [str(x) for x in v if isinstance(x, (str, int)) and not isinstance(x, bool)]

    def require(self, name: str, what: str) -> str | None:
        v = self.text(name)
        if v is None:
            self.s.warn(self.pkeys(name) if name in self.props else self.keys,
                        f"{self.type}: {name} is {'unknown' if name in self.props else 'missing'}; "
                        f"the {what} cannot be placed", "property-missing")
        return v

    def loc_of(self, *names: str | int) -> Location:
        return self.s.loc(self.pkeys(*names))


def _tags(value: Any) -> dict[str, str]:
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, list):
        pairs = [(t.get("Key"), t.get("Value")) for t in value if isinstance(t, dict)]
    elif isinstance(value, dict):
        pairs = list(value.items())
    return {str(k): canon(v) for k, v in pairs if isinstance(k, str) and isinstance(v, (str, int, float))}


def _action(r: _Resource, value: Any, keys: Keys) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        if value is not None and value is not UNRESOLVED:
            r.s.warn(keys, "an action is a mapping with Forward or FixedResponse", "property-shape")
        return None
    fixed = value.get("FixedResponse")
    if isinstance(fixed, dict):
        code = as_int(fixed.get("StatusCode"))
        if code is None:
            r.s.warn(keys + ("FixedResponse",), "FixedResponse needs a numeric StatusCode", "property-shape")
            return None
        return {"fixed_response": code}
    fwd = value.get("Forward")
    groups = fwd.get("TargetGroups") if isinstance(fwd, dict) else None
    if not isinstance(groups, list):
        r.s.warn(keys, "an action needs Forward.TargetGroups or FixedResponse.StatusCode", "property-shape")
        return None
    out = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict) or not isinstance(g.get("TargetGroupIdentifier"), str):
            r.s.warn(keys + ("Forward", "TargetGroups", i), "target group identifier unknown; entry dropped",
                     "unresolved-reference")
            continue
        weight = as_int(g.get("Weight")) if g.get("Weight") is not None else None
        out.append((g["TargetGroupIdentifier"], weight))
    return {"forward": out}


def _match(r: _Resource, value: Any, keys: Keys) -> dict[str, Any]:
    hm = value.get("HttpMatch") if isinstance(value, dict) else None
    if not isinstance(hm, dict):
        r.s.warn(keys, "a rule Match needs an HttpMatch", "property-shape")
        return {}
    out: dict[str, Any] = {}
    if isinstance(hm.get("Method"), str):
        out["method"] = hm["Method"]
    pm = hm.get("PathMatch")
    if isinstance(pm, dict) and isinstance(pm.get("Match"), dict):
        m = pm["Match"]
        path = {k.lower(): m[k] for k in ("Exact", "Prefix") if isinstance(m.get(k), str)}
        cs = as_bool(pm.get("CaseSensitive"))
        if cs is not None:
            path["case_sensitive"] = cs
        out["path"] = path
    headers = []
    for i, h in enumerate(as_list(hm.get("HeaderMatches"))):
        if not isinstance(h, dict) or not isinstance(h.get("Name"), str) or not isinstance(h.get("Match"), dict):
            r.s.warn(keys + ("HttpMatch", "HeaderMatches", i), "a header match needs Name and Match", "property-shape")
            continue
        item: dict[str, Any] = {"name": h["Name"]}
        for k in ("Exact", "Prefix", "Contains"):
            if isinstance(h["Match"].get(k), str):
                item[k.lower()] = h["Match"][k]
        cs = as_bool(h.get("CaseSensitive"))
        if cs is not None:
            item["case_sensitive"] = cs
        headers.append(item)
    if headers:
        out["headers"] = headers
    return out


def _health_check(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    matcher = value.get("Matcher")
    out = {
        "enabled": as_bool(value.get("Enabled")),
        "protocol": value.get("Protocol") if isinstance(value.get("Protocol"), str) else None,
        "protocol_version": value.get("ProtocolVersion") if isinstance(value.get("ProtocolVersion"), str) else None,
        "port": as_int(value.get("Port")) or None,
        "path": value.get("Path") if isinstance(value.get("Path"), str) else None,
        "interval": seconds(value.get("HealthCheckIntervalSeconds")),
        "timeout": seconds(value.get("HealthCheckTimeoutSeconds")),
        "healthy_threshold": as_int(value.get("HealthyThresholdCount")) or None,
        "unhealthy_threshold": as_int(value.get("UnhealthyThresholdCount")) or None,
        "matcher": str(matcher["HttpCode"]) if isinstance(matcher, dict) and matcher.get("HttpCode") else None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _sg_rules(r: _Resource, b: ScenarioBuilder, sg: str, direction: str, rules: Any, keys: Keys) -> None:
    if rules is None or rules is UNRESOLVED:
        return
    if not isinstance(rules, list):
        r.s.warn(keys, "security-group rules must be a list", "property-shape")
        return
    for i, rule in enumerate(rules):
        if isinstance(rule, dict):
            _sg_rule(r, b, sg, direction, rule, keys + (i,))


def _sg_rule(r: _Resource, b: ScenarioBuilder, sg: str, direction: str, rule: dict[str, Any], keys: Keys) -> None:
    if not known(rule):
        r.s.warn(keys, f"{direction} rule has unresolved values; dropped", "unresolved-reference")
        return
    src = "Source" if direction == "ingress" else "Destination"
    peer_sg = rule.get(f"{src}SecurityGroupId") or rule.get(f"{src}SecurityGroupName")
    prefix_list = rule.get(f"{src}PrefixListId")
    if isinstance(prefix_list, str) and prefix_list in r.s.imp.lattice_prefix_lists(r.s):
        b.lattice_prefix_lists.add(prefix_list)
    cidr = rule.get("CidrIp") or rule.get("CidrIpv6")
    b.sg_rule(sg, direction, loc=r.s.loc(keys), protocol=rule.get("IpProtocol", "-1"),
              from_port=rule.get("FromPort"), to_port=rule.get("ToPort"),
              cidr=cidr if isinstance(cidr, str) else None,
              peer_sg=peer_sg if isinstance(peer_sg, str) else None,
              prefix_list=prefix_list if isinstance(prefix_list, str) else None,
              description=rule.get("Description") if isinstance(rule.get("Description"), str) else None)


def _map_resource(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    t = r.type
    loc = r.loc
    acct = s.account
    if t == "AWS::EC2::VPC":
        cidr = r.text("CidrBlock")
        if cidr is None and "Ipv4IpamPoolId" in r.props:
            s.warn(r.pkeys("Ipv4IpamPoolId"), "IPAM-allocated CIDRs are not known offline", "vpc-cidr")
        b.vpc(r.key, loc=loc, account=acct, id=s.attribute(r.logical, "Ref", r.keys), cidrs=[cidr] if cidr else [],
              tags=_tags(r.get("Tags")))
    elif t == "AWS::EC2::VPCCidrBlock":
        cidr, vpc = r.text("CidrBlock"), r.text("VpcId")
        if cidr and vpc:
            b.vpc_cidr(vpc, cidr, loc=loc)
    elif t == "AWS::EC2::Subnet":
        az = r.text("AvailabilityZoneId") or r.text("AvailabilityZone")
        b.subnet(r.key, loc=loc, vpc=r.text("VpcId"), id=s.attribute(r.logical, "Ref", r.keys),
                 cidr=r.text("CidrBlock"), az=az)
    elif t == "AWS::EC2::SecurityGroup":
        gid = s.attribute(r.logical, "Ref", r.keys)
        name = r.text("GroupName")
        b.security_group(r.key, loc=loc, vpc=r.text("VpcId"), name=name, id=gid,
                         description=r.text("GroupDescription"), default_egress="SecurityGroupEgress" not in r.props,
                         idents=[name])
        _sg_rules(r, b, r.key, "ingress", r.get("SecurityGroupIngress"), r.pkeys("SecurityGroupIngress"))
        _sg_rules(r, b, r.key, "egress", r.get("SecurityGroupEgress"), r.pkeys("SecurityGroupEgress"))
    elif t in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        direction = "ingress" if t.endswith("Ingress") else "egress"
        group = r.text("GroupId") or r.text("GroupName")
        props = r.s.ev(r.props, r.pkeys())
        if group and isinstance(props, dict):
            _sg_rule(r, b, group, direction, props, r.pkeys())
        elif group is None:
            r.require("GroupId", "rule")
    elif t in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
        name, arn = s.attribute(r.logical, "Ref", r.keys), s.attribute(r.logical, "Arn", r.keys)
        if isinstance(name, str):
            b.function(r.key, loc=loc, name=name, arn=arn if isinstance(arn, str) else None)
    elif t == "AWS::Lambda::Alias":
        fn, arn = r.text("FunctionName"), s.attribute(r.logical, "Ref", r.keys)
        if fn:
            b.function(r.key, loc=loc, name=lambda_function_name(fn), arn=arn if isinstance(arn, str) else None)
    elif t == "AWS::EC2::Instance":
        _map_instance(r, b)
    elif t == "AWS::AutoScaling::AutoScalingGroup":
        _map_asg(r, b)
    elif t == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        kind = (r.text("Type") or "application").lower()
        if kind != "application":
            s.warn(r.pkeys("Type"), f"a {kind} load balancer cannot be a Lattice ALB target", "lb-type")
        if (r.text("Scheme") or "internet-facing") != "internal":
            s.warn(r.keys, "Lattice ALB targets must be internal load balancers (Scheme: internal)", "lb-scheme",
                   severity="info")
        subnets = r.strs("Subnets")
        for m in as_list(r.get("SubnetMappings")):
            if isinstance(m, dict) and isinstance(m.get("SubnetId"), str):
                subnets.append(m["SubnetId"])
        name, arn = s.attribute(r.logical, "LoadBalancerName", r.keys), s.attribute(r.logical, "Ref", r.keys)
        if isinstance(name, str):
            b.load_balancer(r.key, loc=loc, name=name, arn=arn if isinstance(arn, str) else None, subnets=subnets,
                            security_groups=r.strs("SecurityGroups"))
    elif t == "AWS::EC2::VPCEndpoint":
        kind = r.text("VpcEndpointType") or "Gateway"
        if kind == "ServiceNetwork":
            b.service_network_endpoint(r.text("VpcId"), r.text("ServiceNetworkArn"), loc=loc)
        else:
            s.warn(r.keys, f"{kind} VPC endpoints are not simulated", "unmapped-resource")
    elif t == "AWS::RAM::ResourceShare":
        b.resource_share(r.key, loc=loc, name=r.text("Name"), idents=[s.attribute(r.logical, "Ref", r.keys)])
        for i, res in enumerate(as_list(r.get("ResourceArns"))):
            if isinstance(res, str):
                b.share_resource(r.key, res, loc=r.loc_of("ResourceArns", i))
        for i, p in enumerate(as_list(r.get("Principals"))):
            if isinstance(p, (str, int)):
                b.share_principal(r.key, str(p), loc=r.loc_of("Principals", i))
    elif t.startswith("AWS::VpcLattice::"):
        _map_lattice(r, b)
    elif t == "AWS::EC2::LaunchTemplate":
        pass  # read through the auto-scaling groups that use it
    elif is_custom(t):
        props = sorted(k for k in r.props if k != "ServiceToken")
        if any(names_lattice_prefix_list(x) for x in [r.logical] + [str(s.ev(v, r.pkeys(k)))
                                                                      for k, v in r.props.items()]):
            return  # a lookup of the Lattice prefix list: its value is recognised where it is used
        s.warn(r.keys, f"custom resource {r.logical} ({t}) runs a Lambda function at deploy time, which latsim "
               "does not run: whatever it creates or registers is missing" +
               (f" (it is given {', '.join(props)})" if props else ""), "custom-resource",
               hint="add what it makes with an overlay (e.g. target_groups: [{name: …, targets: […]}]); "
                    f"--param {s.name}/{r.logical}.ATTR=VALUE gives a value it returns")
    else:
        s.warn(r.keys, f"{t} is not simulated; ignored", "unmapped-resource")


def _map_instance(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    subnet = r.text("SubnetId")
    sgs = r.strs("SecurityGroupIds") + r.strs("SecurityGroups")
    nics = r.get("NetworkInterfaces")
    if isinstance(nics, list) and nics and isinstance(nics[0], dict):
        subnet = subnet or (nics[0].get("SubnetId") if isinstance(nics[0].get("SubnetId"), str) else None)
        sgs += [g for g in as_list(nics[0].get("GroupSet")) if isinstance(g, str)]
    ip = s.attribute(r.logical, "PrivateIp", r.keys)
    b.instance(r.key, loc=r.loc, id=s.attribute(r.logical, "Ref", r.keys), subnet=subnet,
               az=r.text("AvailabilityZone"), ip=ip if isinstance(ip, str) else None, security_groups=sgs)


def _map_asg(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    count = as_int(r.get("DesiredCapacity"))
    if count is None:
        count = as_int(r.get("MinSize"))
    if count is None:
        s.warn(r.keys, "the group size (DesiredCapacity or MinSize) is unknown; no instances", "asg-size")
        return
    tgs = []
    for i, src in enumerate(as_list(r.get("TrafficSources"))):
        if isinstance(src, dict) and str(src.get("Type", "")).lower() == "vpc-lattice":
            if isinstance(src.get("Identifier"), str):
                tgs.append(src["Identifier"])
            else:
                s.warn(r.pkeys("TrafficSources", i), "traffic source identifier unknown", "unresolved-reference")
    if not tgs:
        s.warn(r.keys, "the group has no vpc-lattice traffic source; its instances serve no "
               "Lattice target group", "asg-traffic-source", severity="info")
    sgs: list[str] = []
    lt = r.get("LaunchTemplate")
    if isinstance(lt, dict):
        sgs = s.imp.launch_template_sgs(lt.get("LaunchTemplateId") or lt.get("LaunchTemplateName"))
    b.auto_scaling_group(r.key, loc=r.loc, count=count, subnets=r.strs("VPCZoneIdentifier"),
                         azs=r.strs("AvailabilityZones"), security_groups=sgs, target_groups=tgs)


def _map_lattice(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    t = r.type.removeprefix("AWS::VpcLattice::")
    loc = r.loc
    arn = s.attribute(r.logical, "Ref", r.keys)
    rid = s.attribute(r.logical, "Id", r.keys) if t not in ("AuthPolicy", "ResourcePolicy") else None
    idents = [x for x in (arn, rid) if isinstance(x, str)]
    if t == "ServiceNetwork":
        b.service_network(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid, auth_type=r.text("AuthType"),
                          tags=_tags(r.get("Tags")), idents=idents)
    elif t == "Service":
        b.service(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid,
                  custom_domain=r.text("CustomDomainName"), certificate_arn=r.text("CertificateArn"),
                  auth_type=r.text("AuthType"), tags=_tags(r.get("Tags")), idents=idents)
    elif t == "Listener":
        action = _action(r, r.get("DefaultAction"), r.pkeys("DefaultAction"))
        b.listener(r.key, loc=loc, service=r.require("ServiceIdentifier", "listener"), name=r.text("Name"),
                   protocol=r.text("Protocol"), port=as_int(r.get("Port")), default_action=action or {},
                   idents=idents)
    elif t == "Rule":
        if not known(r.get("Match")):
            s.warn(r.pkeys("Match"), "the rule's match has unresolved values; rule not imported (a partial match "
                   "would catch more requests than the template intends)", "unresolved-reference")
            return
        action = _action(r, r.get("Action"), r.pkeys("Action"))
        b.rule(r.key, loc=loc, listener=r.require("ListenerIdentifier", "rule"), name=r.text("Name"),
               priority=as_int(r.get("Priority")), match=_match(r, r.get("Match"), r.pkeys("Match")),
               action=action or {}, idents=idents)
    elif t == "TargetGroup":
        cfg = r.get("Config")
        cfg = cfg if isinstance(cfg, dict) else {}
        typ = (r.text("Type") or "INSTANCE").upper()
        b.target_group(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid, type=typ,
                       vpc=cfg.get("VpcIdentifier") if isinstance(cfg.get("VpcIdentifier"), str) else None,
                       protocol=cfg.get("Protocol") if isinstance(cfg.get("Protocol"), str) else None,
                       protocol_version=cfg.get("ProtocolVersion") if isinstance(cfg.get("ProtocolVersion"), str)
                       else None, port=as_int(cfg.get("Port")) or None,
                       ip_address_type=cfg.get("IpAddressType") if isinstance(cfg.get("IpAddressType"), str) else None,
                       health_check=_health_check(cfg.get("HealthCheck")), tags=_tags(r.get("Tags")), idents=idents)
        if typ != "LAMBDA" and "VpcIdentifier" not in cfg:
            s.warn(r.pkeys("Config"), f"target group {r.logical} has no Config.VpcIdentifier", "tg-vpc")
        for i, tgt in enumerate(as_list(r.get("Targets"))):
            if isinstance(tgt, dict) and isinstance(tgt.get("Id"), (str, int)):
                b.target(r.key, str(tgt["Id"]), loc=r.loc_of("Targets", i), port=as_int(tgt.get("Port")) or None)
            else:
                s.warn(r.pkeys("Targets", i), "target Id unknown; target dropped", "unresolved-reference")
    elif t == "ServiceNetworkVpcAssociation":
        b.vpc_association(r.require("ServiceNetworkIdentifier", "association"),
                          r.require("VpcIdentifier", "association"), loc=loc,
                          security_groups=r.strs("SecurityGroupIds"))
    elif t == "ServiceNetworkServiceAssociation":
        b.service_association(r.require("ServiceNetworkIdentifier", "association"),
                              r.require("ServiceIdentifier", "association"), loc=loc)
    elif t == "AuthPolicy":
        policy = r.get("Policy")
        if not known(policy):
            s.warn(r.pkeys("Policy"), "the policy has unresolved values; not imported", "unresolved-reference")
        elif policy is None:
            s.warn(r.keys, "AuthPolicy without Policy", "property-missing")
        else:
            b.auth_policy(r.require("ResourceIdentifier", "policy"), policy, loc=loc)
    elif t == "AccessLogSubscription":
        b.access_log(r.require("ResourceIdentifier", "subscription"), loc=loc)
    elif r.type in NOT_SIMULATED:
        s.warn(r.keys, f"{r.type}: {NOT_SIMULATED[r.type]}", "not-simulated")
    else:
        s.warn(r.keys, f"{r.type} is not simulated; ignored", "unmapped-resource")


# --- the importer -----------------------------------------------------------------------------------

class _Importer:
    def __init__(self, region: str) -> None:
        self.region = region
        self.b = ScenarioBuilder(name="imported", region=region)
        self.stacks: list[Stack] = []
        self._exports: dict[str, tuple[Stack, str]] | None = None
        self._building_exports = False
        self._lattice_pl: dict[str, set[str]] = {}

    def import_value(self, name: str, s: Stack, keys: Keys) -> Any:
        if self._building_exports:
            return s.warn(keys, "Fn::ImportValue cannot be used in an export name", "intrinsic-shape")
        if self._exports is None:
            self._building_exports = True
            try:
                self._exports = self._collect_exports()
            finally:
                self._building_exports = False
        found = self._exports.get(name)
        if found is None:
            return s.warn(keys, f"Fn::ImportValue: no given stack exports '{name}'", "unknown-export",
                          hint=suggest(name, list(self._exports)) or "import the stack that exports it too")
        stack, key = found
        return stack.ev(stack.outputs[key].get("Value"), ("Outputs", key, "Value"))

    def _collect_exports(self) -> dict[str, tuple[Stack, str]]:
        out: dict[str, tuple[Stack, str]] = {}
        for st in self.stacks:
            for key, output in st.outputs.items():
                if not isinstance(output, dict) or not isinstance(output.get("Export"), dict):
                    continue
                if "Condition" in output and not st.condition(output["Condition"], ("Outputs", key, "Condition")):
                    continue
                name = st.string(output["Export"].get("Name"), ("Outputs", key, "Export", "Name"), "export name")
                if not isinstance(name, str):
                    continue
                if name in out:
                    st.warn(("Outputs", key, "Export", "Name"), f"export '{name}' is also exported by stack "
                            f"{out[name][0].name}; the first one wins", "duplicate-export")
                    continue
                out[name] = (st, key)
        return out

    def subnet_cidr(self, subnet_id: Any) -> str | None:
        for st in self.stacks:
            for lg, res in st.resources.items():
                if isinstance(res, dict) and res.get("Type") == "AWS::EC2::Subnet" \
                        and generated_id("subnet", st.name, lg) == subnet_id:
                    cidr = st.prop(lg, "CidrBlock")
                    return cidr if isinstance(cidr, str) else None
        return None

    def launch_template_sgs(self, ident: Any) -> list[str]:
        for st in self.stacks:
            for lg, res in st.resources.items():
                if not (isinstance(res, dict) and res.get("Type") == "AWS::EC2::LaunchTemplate"):
                    continue
                if ident not in (f"lt-{hexid(st, lg)}", st.prop(lg, "LaunchTemplateName")):
                    continue
                data = st.prop(lg, "LaunchTemplateData")
                if not isinstance(data, dict):
                    return []
                sgs = [g for g in as_list(data.get("SecurityGroupIds")) if isinstance(g, str)]
                for nic in as_list(data.get("NetworkInterfaces")):
                    if isinstance(nic, dict):
                        sgs += [g for g in as_list(nic.get("Groups")) if isinstance(g, str)]
                return sgs
        return []

    def attribute(self, s: Stack, logical: str, attr: str, keys: Keys) -> Any:
        return attribute(s, logical, attr, keys)

    def lattice_prefix_lists(self, s: Stack) -> set[str]:
        """Prefix-list ids that a parameter or mapping named like 'Lattice' holds (documented rule)."""
        if s.name in self._lattice_pl:
            return self._lattice_pl[s.name]
        found: set[str] = set()
        for name in s.parameters:
            if "lattice" in name.lower():
                v = s.parameter(name, ("Parameters", name))
                for x in v if isinstance(v, list) else [v]:
                    if isinstance(x, str) and x.startswith("pl-"):
                        found.add(x)

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for v in node.values():
                    walk(v)
            elif isinstance(node, str) and node.startswith("pl-"):
                found.add(node)
        for name, mapping in s.mappings.items():
            if "lattice" in name.lower():
                walk(mapping)
        self._lattice_pl[s.name] = found
        return found


def _split_params(params: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    shared: dict[str, str] = {}
    per_stack: dict[str, dict[str, str]] = {}
    for k, v in (params or {}).items():
        key = str(k).strip()
        if "/" in key:
            stack, _, name = key.partition("/")
            per_stack.setdefault(stack, {})[name] = str(v)
        else:
            shared[key] = str(v)
    return shared, per_stack


def _param_location(key: str) -> Location:
    return Location(None, None, None, f"--param {key}")


def import_cloudformation(paths: list[str], params: dict[str, str] | None = None, *,
                          lint: bool = False) -> ImportResult:
    """Import CloudFormation templates (YAML or JSON) as one scenario.

    ``params`` sets template parameters and the pseudo parameters ``AWS::AccountId`` and
    ``AWS::Region``; a key ``<stack>/<Name>`` applies to one stack only (the stack name is the
    file name without extension). ``lint=True`` adds cfn-lint's findings as notes.
    Raises ScenarioError (every problem located as file:line:col) for templates that cannot be
    read or are invalid; everything that is valid but not simulated becomes a warning.
    """
    from latsim.scenario import read_text
    if not paths:
        raise ScenarioError([Problem("no template given", code="usage")])
    shared, per_stack = _split_params(params)
    region = shared.get("AWS::Region", DEFAULT_REGION)
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ScenarioError([Problem(f"'{region}' is not an AWS region", _param_location("AWS::Region"),
                                     allowed="e.g. us-east-1", code="param")])
    imp = _Importer(region)
    problems: list[Problem] = []
    loaded: list[tuple[str, str, Any, Positions, str]] = []
    names: set[str] = set()
    for path in paths:
        try:
            text = read_text(path)
            data, pos = read_template(text, str(path), notes=problems)
        except ScenarioError as exc:
            problems.extend(exc.all_problems)
            continue
        if not isinstance(data, dict):
            problems.append(Problem("a CloudFormation template is a mapping with a Resources section",
                                    Location(str(path), 1, 1), code="template-shape"))
            continue
        stem = re.sub(r"[^A-Za-z0-9-]+", "-", Path(path).stem).strip("-") or "stack"
        name, n = stem, 1
        while name in names:
            n += 1
            name = f"{stem}-{n}"
        names.add(name)
        loaded.append((name, str(path), data, pos, text))
    for stack, values in per_stack.items():
        if stack not in names:
            problems.append(Problem(f"--param for unknown stack '{stack}'",
                                    _param_location(f"{stack}/{next(iter(values))}"),
                                    hint=suggest(stack, names) or f"stacks: {', '.join(sorted(names))}",
                                    severity="warning", code="param"))
    for name, file, data, pos, _ in loaded:
        overrides = {**shared, **per_stack.get(name, {})}
        account = overrides.get("AWS::AccountId", DEFAULT_ACCOUNT_ID)
        if not re.fullmatch(r"\d{12}", account):
            problems.append(Problem(f"AWS::AccountId '{account}' is not a 12-digit account id",
                                    _param_location(f"{name}/AWS::AccountId"), code="param"))
            account = DEFAULT_ACCOUNT_ID
        if overrides.get("AWS::Region", region) != region:
            problems.append(Problem(f"stack {name} is given region {overrides['AWS::Region']}; latsim simulates one "
                                    f"region and uses {region}", _param_location(f"{name}/AWS::Region"),
                                    severity="warning", code="param"))
        st = Stack(imp, name, file, data, pos, account, overrides)
        imp.stacks.append(st)
        imp.b.account(account)  # unnamed, as from every source: a stack is not its account
        expand_template(st)
        _check_shape(st)
    declared = {p for st in imp.stacks for p in st.parameters} | set(PSEUDO_PARAMETERS)
    for key in shared:
        if key not in declared:
            problems.append(Problem(f"parameter '{key}' is not declared by any template", _param_location(key),
                                    hint=suggest(key, declared), severity="warning", code="param"))
    for st in imp.stacks:
        for key in per_stack.get(st.name, {}):
            if key not in st.parameters and key not in PSEUDO_PARAMETERS:
                problems.append(Problem(f"parameter '{key}' is not declared by stack {st.name}",
                                        _param_location(f"{st.name}/{key}"), hint=suggest(key, list(st.parameters)),
                                        severity="warning", code="param"))
    for st in imp.stacks:
        transforms = st.t.get("Transform")
        others = [x for x in (transforms if isinstance(transforms, list) else [transforms])
                  if x is not None and x != "AWS::LanguageExtensions"]
        if others:
            st.warn(("Transform",), f"transform{'s' if len(others) > 1 else ''} {', '.join(map(str, others))} "
                    "not expanded (latsim expands only AWS::LanguageExtensions: Fn::ForEach, Fn::Length, "
                    "Fn::ToJsonString): resources they would create are missing; AWS::Serverless::Function is "
                    "read as a Lambda function", "transform")
        for logical, body in st.resources.items():
            if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
                continue
            if not st.resource_exists(logical):
                continue
            try:
                _map_resource(_Resource(st, logical, body), imp.b)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                # a property of an unexpected shape deep inside one resource: report it there, go on
                st.error(("Resources", logical), f"{body['Type']} has properties of an unexpected shape "
                         f"({type(exc).__name__}: {exc})", "template-shape")
    if lint:
        for _, file, _, _, text in loaded:
            problems.extend(lint_template(text, file, region))
    imp.b.problems[:0] = problems
    first = imp.stacks[0].name if imp.stacks else "imported"
    imp.b.name = first if len(imp.stacks) <= 1 else f"{first}-and-{len(imp.stacks) - 1}-more"
    files = ", ".join(str(p) for p in paths)
    imp.b.description = f"Imported from CloudFormation: {files}"
    given = ", ".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    source = f"CloudFormation templates {files}" + (f" with parameters {given}" if given else "")
    return imp.b.result(source, [str(p) for p in paths])


def _check_shape(st: Stack) -> None:
    t = st.t
    if "Resources" not in t:
        st.error((), "the template has no Resources section", "template-shape")
    elif not isinstance(t["Resources"], dict):
        st.error(("Resources",), "Resources must be a mapping of logical ids to resources", "template-shape")
    for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
        if section in t and not isinstance(t[section], dict):
            st.error((section,), f"{section} must be a mapping", "template-shape")
    for logical, body in st.resources.items():
        keys: Keys = ("Resources", logical)
        if not re.fullmatch(r"[A-Za-z0-9]+", logical):
            st.error(keys, f"logical id '{logical}' must be alphanumeric", "template-shape")
        if not isinstance(body, dict):
            st.error(keys, f"resource {logical} must be a mapping with a Type", "template-shape")
        elif not isinstance(body.get("Type"), str):
            st.error(keys, f"resource {logical} has no Type", "template-shape")
        elif "Properties" in body and not isinstance(body["Properties"], dict):
            st.error(keys + ("Properties",), f"Properties of {logical} must be a mapping", "template-shape")


def lint_template(text: str, filename: str, region: str = DEFAULT_REGION) -> list[Problem]:
    """cfn-lint's findings for one template, as notes (errors become warnings: the import goes on)."""
    try:
        from cfnlint.api import lint
    except ImportError:
        return [Problem("cfn-lint is not installed (pip install 'latsim[cfn]'); --lint skipped", Location(filename),
                        severity="warning", code="lint")]
    out = []
    for m in lint(text, regions=[region]):
        rule = getattr(getattr(m, "rule", None), "id", "") or ""
        severity = "warning" if rule.startswith(("E", "W")) else "info"
        out.append(Problem(f"cfn-lint {rule}: {m.message}", Location(filename, m.linenumber, m.columnnumber),
                           severity=severity, code=f"cfn-lint:{rule}"))
    return out


__all__ = ["import_cloudformation", "lint_template", "read_template"]
