"""CloudFormation as AWS's Lattice pattern templates write it: Fn::ForEach, custom resources that
look up the Lattice prefix list, SSM parameters, and duplicate keys (CloudFormation keeps the last)."""

from __future__ import annotations

from pathlib import Path

from latsim.analysis import explain
from latsim.engine.simulation import Simulation
from latsim.errors import ScenarioError
from latsim.importers.cloudformation import import_cloudformation
from latsim.model.naming import service_dns_name
from tests.conftest import DATA

PAIR = [str(DATA / "cfn" / "foreach" / "provider.yaml"), str(DATA / "cfn" / "foreach" / "consumer.yaml")]
ACCOUNTS = {"provider/AWS::AccountId": "111111111111", "consumer/AWS::AccountId": "222222222222"}


def write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def codes(res: object) -> list[str | None]:
    return [w.code for w in res.warnings]  # type: ignore[attr-defined]


def test_the_stack_pair_expands_for_each_and_recognises_the_prefix_list() -> None:
    res = import_cloudformation(PAIR, ACCOUNTS)
    d = res.data
    msgs = [w.format() for w in res.warnings]
    # the only note: the custom resource's prefix-list lookup is recognised (nothing lost, no transform warning)
    assert len(msgs) == 1 and msgs[0].startswith(f"{PAIR[0]}:42:3: Resources.LatticePrefixList: info: custom "
                                                 "resource LatticePrefixList looks up the VPC Lattice managed "
                                                 "prefix list"), msgs
    consumer = next(v for v in d["vpcs"] if v["name"] == "consumer-vpc")
    # Fn::ForEach::Subnets over "a,b,c" made SubnetA, SubnetB, SubnetC in us-east-1a..c
    assert consumer["azs"] == ["use1-az1", "use1-az2", "use1-az3"] and consumer["account"] == "222222222222"
    sg = next(s for s in d["security_groups"] if s["name"] == "association-security-group")
    # Fn::ForEach::Ingress over ["443", "80"] with ${Port} in the logical id and !Ref Port in properties
    assert sorted(r["ports"] for r in sg["ingress"]) == [80, 443]
    assert {r["source"] for r in sg["ingress"]} == {"10.60.0.0/16"}
    targets = next(s for s in d["security_groups"] if s["name"] == "target-security-group")
    assert targets["ingress"] == [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice"}]
    (sn,) = d["service_networks"]
    assert sn["shared_with"] == ["222222222222"] and sn["vpc_associations"][0]["vpc"] == "consumer-vpc"


def test_the_stack_pair_runs_with_the_auto_workload() -> None:
    scn = import_cloudformation(PAIR, ACCOUNTS).scenario(workload="auto", rate="10/s")
    assert [c.name for c in scn.clients] == ["auto-consumer-vpc-use1-az1", "auto-consumer-vpc-use1-az2",
                                             "auto-consumer-vpc-use1-az3"]
    out = Simulation(scn.model_copy(update={"duration": 10.0})).run().summary
    for name, c in out["clients"].items():
        assert c["requests"] > 0 and set(c["status"]) == {"200"}, name
    svc = scn.index.services["inventory"]
    steps = explain(scn, "auto-consumer-vpc-use1-az2", f"https://{service_dns_name(scn, svc)}/")["steps"]
    assert all(s["verdict"] != "fail" for s in steps)


def test_an_unrecognised_custom_resource_says_what_is_lost_and_the_param_restores_it(tmp_path: Path) -> None:
    text = Path(PAIR[0]).read_text().replace("PrefixListName: !Sub com.amazonaws.${AWS::Region}.vpc-lattice",
                                             "Filter: internal").replace("LatticePrefixList", "Lookup")
    path = write(tmp_path, "provider.yaml", text)
    res = import_cloudformation([path, PAIR[1]], ACCOUNTS)
    msgs = [w.format() for w in res.warnings]
    assert any(m.startswith(f"{path}:42:3: Resources.Lookup: warning: custom resource Lookup (Custom::PrefixListLookup) "
                            "runs a Lambda function at deploy time") for m in msgs), msgs
    lost = [m for m in msgs if "Lookup.PrefixListId comes from custom resource Lookup" in m]
    assert lost and "--param provider/Lookup.PrefixListId=VALUE" in lost[0]
    # the rule is dropped, so Lattice cannot reach the targets (what the simulation then shows) ...
    sg = next(s for s in res.data["security_groups"] if s["name"] == "target-security-group")
    assert sg["ingress"] == []
    # ... and the --param the warning names restores it
    res = import_cloudformation([path, PAIR[1]], {**ACCOUNTS, "provider/Lookup.PrefixListId": "pl-0123abcd"})
    sg = next(s for s in res.data["security_groups"] if s["name"] == "target-security-group")
    assert [r["ports"] for r in sg["ingress"]] == [8080]


def test_ssm_parameters_and_dynamic_references(tmp_path: Path) -> None:
    text = """\
Parameters:
  LatticePl:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /vpc-lattice/prefix-list-id
  VpcCidr:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /network/vpc-cidr
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: !Ref VpcCidr}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: x
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 80, ToPort: 80, SourcePrefixListId: !Ref LatticePl}
        - {IpProtocol: tcp, FromPort: 81, ToPort: 81, SourcePrefixListId: "{{resolve:ssm:/lattice/prefixlist}}"}
        - {IpProtocol: tcp, FromPort: 82, ToPort: 82, CidrIp: "{{resolve:ssm:/office/cidr}}"}
"""
    path = write(tmp_path, "t.yaml", text)
    res = import_cloudformation([path])
    msgs = [w.format() for w in res.warnings]
    assert any(m.startswith(f"{path}:5:3: Parameters.VpcCidr: warning: parameter VpcCidr names an SSM parameter "
                            "(/network/vpc-cidr)") and "--param t/VpcCidr=VALUE" in m for m in msgs), msgs
    assert any(m.startswith(f"{path}:20:") and "{{resolve:ssm:/office/cidr}}" in m and "--param t//office/cidr=VALUE"
               in m for m in msgs), msgs
    (sg,) = res.data["security_groups"]
    assert [(r["ports"], r["source"]) for r in sg["ingress"]] == [(80, "vpc-lattice"), (81, "vpc-lattice")]
    res = import_cloudformation([path], {"t//office/cidr": "203.0.113.0/24", "VpcCidr": "10.3.0.0/16"})
    (sg,) = res.data["security_groups"]
    assert (82, "203.0.113.0/24") in [(r["ports"], r["source"]) for r in sg["ingress"]]
    assert res.data["vpcs"][0]["cidr"] == ["10.3.0.0/16"]


def test_for_each_mistakes_are_located(tmp_path: Path) -> None:
    text = """\
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a,a"}
Resources:
  Fn::ForEach::Twice:
    - N
    - !Ref Names
    - Vpc${N}:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
  Fn::ForEach::Bad:
    - N
    - [x]
  Fn::ForEach::Unknown:
    - N
    - !Ref Nowhere
    - Sg${N}: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: x}}
"""
    path = write(tmp_path, "t.yaml", text)
    try:
        import_cloudformation([path])
        raise AssertionError("expected errors")
    except ScenarioError as exc:
        msgs = [p.format() for p in exc.all_problems]
    assert any(m.startswith(f"{path}:5:3: Resources.Fn::ForEach::Twice: Fn::ForEach produces 'Vpca' twice")
               for m in msgs), msgs
    assert any(m.startswith(f"{path}:11:3: Resources.Fn::ForEach::Bad: Fn::ForEach takes [Identifier, Collection, "
                            "{OutputKey: OutputValue}]") for m in msgs), msgs
    assert any("unresolved reference 'Nowhere'" in m for m in msgs), msgs


def test_only_the_language_extensions_transform_is_expanded_and_it_is_said(tmp_path: Path) -> None:
    text = """\
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
"""
    res = import_cloudformation([write(tmp_path, "t.yaml", text)])
    (w,) = [w for w in res.warnings if w.code == "transform"]
    assert "transform AWS::Serverless-2016-10-31 not expanded (latsim expands only AWS::LanguageExtensions: " \
           "Fn::ForEach, Fn::Length, Fn::ToJsonString)" in w.message


def test_a_duplicate_key_keeps_the_last_as_cloudformation_does(tmp_path: Path) -> None:
    text = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.1.0.0/16}
"""
    for name, body in (("t.yaml", text), ("t.json", '{"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": '
                                                    '{"CidrBlock": "10.0.0.0/16"}}, "Vpc": {"Type": "AWS::EC2::VPC", '
                                                    '"Properties": {"CidrBlock": "10.1.0.0/16"}}}}')):
        path = write(tmp_path, name, body)
        res = import_cloudformation([path])
        assert res.data["vpcs"][0]["cidr"] == ["10.1.0.0/16"]
        (w,) = [w for w in res.warnings if w.code == "duplicate-key"]
        expected = f"{path}:2:3: warning: key 'Vpc'" if name.endswith("yaml") else f"{path}:1:16: warning: key 'Vpc'"
        assert w.format().startswith(expected), w.format()


def test_overlays_complete_what_the_import_could_only_reference(tmp_path: Path) -> None:
    text = """\
Parameters:
  ConsumerVpcId: {Type: "AWS::EC2::VPC::Id"}
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.50.0.0/16}}
  Sn: {Type: AWS::VpcLattice::ServiceNetwork, Properties: {Name: net}}
  Assoc:
    Type: AWS::VpcLattice::ServiceNetworkVpcAssociation
    Properties: {ServiceNetworkIdentifier: !Ref Sn, VpcIdentifier: !Ref ConsumerVpcId}
  Svc: {Type: AWS::VpcLattice::Service, Properties: {Name: api}}
  SvcAssoc:
    Type: AWS::VpcLattice::ServiceNetworkServiceAssociation
    Properties: {ServiceNetworkIdentifier: !Ref Sn, ServiceIdentifier: !Ref Svc}
  Tg:
    Type: AWS::VpcLattice::TargetGroup
    Properties: {Name: api-tg, Type: IP, Config: {Port: 8080, Protocol: HTTP, VpcIdentifier: !Ref Vpc}}
  Register:
    Type: Custom::RegisterTargets
    Properties: {ServiceToken: arn:aws:lambda:us-east-1:111111111111:function:reg, TargetGroup: !Ref Tg}
  Listener:
    Type: AWS::VpcLattice::Listener
    Properties:
      ServiceIdentifier: !Ref Svc
      Protocol: HTTP
      DefaultAction: {Forward: {TargetGroups: [{TargetGroupIdentifier: !Ref Tg}]}}
"""
    path = write(tmp_path, "t.yaml", text)
    res = import_cloudformation([path])
    msgs = [w.format() for w in res.warnings]
    # the VPC from a parameter without a value: a named placeholder keeps the association
    assert any("parameter ConsumerVpcId (AWS::EC2::VPC::Id) has no Default" in m for m in msgs), msgs
    assert any("VPC association: VPC 'ConsumerVpcId' is not in the input; latsim puts a placeholder VPC "
               "'consumer-vpc-id'" in m for m in msgs), msgs
    # the custom resource that registers targets: what is lost is said, and where
    assert any(m.startswith(f"{path}:16:3: Resources.Register: warning: custom resource Register "
                            "(Custom::RegisterTargets) runs a Lambda function") and "TargetGroup" in m for m in msgs)
    overlay = {
        "vpcs": [{"name": "consumer-vpc-id", "cidr": "10.60.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "batch", "account": "111111111111", "cidr": "10.70.0.0/16", "azs": ["use1-az1"]}],
        # an association added by overlay merges with the imported one (by vpc), it does not replace it
        "service_networks": [{"name": "net", "vpc_associations": [{"vpc": "batch"}]}],
        "target_groups": [{"name": "api-tg", "targets": [{"id": "10.50.1.10", "az": "use1-az1"}]}],
    }
    scn = res.scenario(overlay, workload="auto", rate="10/s")
    assert [a.vpc for a in scn.service_networks[0].vpc_associations] == ["consumer-vpc-id", "batch"]
    assert scn.index.vpcs["consumer-vpc-id"].cidr == ["10.60.0.0/16"]
    assert [t.id for t in scn.index.target_groups["api-tg"].targets] == ["10.50.1.10"]
    assert len(scn.clients) == 3  # consumer-vpc-id x 2 AZs, batch x 1
    out = Simulation(scn.model_copy(update={"duration": 5.0})).run().summary
    for name, c in out["clients"].items():
        assert c["requests"] > 0 and set(c["status"]) == {"200"}, name
