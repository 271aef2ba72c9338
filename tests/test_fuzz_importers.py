"""Mutated importer inputs give a scenario or a LatsimError, never another exception.

Each importer starts from its fixtures (``tests/data/cfn``, ``terraform``, ``k8s``, ``aws``):
most examples mutate the parsed document (keys dropped, renamed, retyped, moved, intrinsic
functions and ARNs spliced in) and write it back as JSON; the others damage the source text
itself. An import that succeeds is validated too (``ImportResult.scenario()``, what ``latsim
import`` does before it writes the YAML; the YAML dump itself is left out for speed).

Every document goes through the importer's real reader (``parse_document``, ruamel.yaml in pure
Python, ~5 ms per KB): a stand-in parser would hide the reader's own failures and positions. To
keep an example cheap instead, damaged Gateway API text is one manifest document at a time, a
mutated CloudFormation template keeps a few resources and what they refer to, and saved AWS CLI
outputs are mostly one account, often a subset of its files. The number of examples follows the
hypothesis profile (``tests/conftest.py``: ``ci`` for CI, ``long`` for a night run).

Failing examples that were found are kept in ``tests/data/fuzz_regressions/<importer>/`` (replayed
below) or as explicit ``@example``s.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from latsim.errors import LatsimError, ScenarioError
from latsim.importers.aws import import_aws_json
from latsim.importers.cloudformation import import_cloudformation, read_template
from latsim.importers.gateway_api import import_gateway_api
from latsim.importers.terraform import import_terraform
from latsim.scenario import parse_document
from latsim.source import split_documents
from tests.conftest import DATA, FUZZ, FUZZ_SLOW_READER
from tests.test_fuzz_scenario import REGRESSIONS, WEIRD, damage, mutated_tree, time_limit

pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")

CFN_FILES = sorted(p for p in (DATA / "cfn").rglob("*") if p.is_file())
CFN_TEXTS = {p.stem: p.read_text() for p in CFN_FILES}
CFN_DOCS = {p.stem: read_template(p.read_text(), str(p))[0] for p in CFN_FILES}
TF_DOCS = {p.stem: json.loads(p.read_text()) for p in sorted((DATA / "terraform").glob("*.json"))}
K8S_TEXTS = {p.stem: p.read_text() for p in sorted((DATA / "k8s").glob("*.yaml"))}
K8S_DOCS = {name: [parse_document(body, name)[0] for _, body in split_documents(text)]
            for name, text in K8S_TEXTS.items()}
K8S_DOC_TEXTS = [body for text in K8S_TEXTS.values() for _, body in split_documents(text)]
AWS_ROOT = DATA / "aws" / "multi-account"
AWS_TREE = {acct.name: {f.name: json.loads(f.read_text()) for f in sorted(acct.glob("*.json"))}
            for acct in sorted(AWS_ROOT.iterdir()) if acct.is_dir()}

ARN = "arn:aws:vpc-lattice:us-east-1:111111111111:"
AWS_VALUES = st.sampled_from([
    f"{ARN}service/svc-0a1b2c3d4e5f60001", f"{ARN}servicenetwork/sn-0a1b2c3d4e5f60718",
    f"{ARN}targetgroup/tg-0b1c2d3e4f5a60202", "arn:aws:vpc-lattice:eu-west-1:222222222222:service/svc-1",
    "arn:aws:iam::111111111111:role/x", "arn:aws:lambda:us-east-1:111111111111:function:f", "arn:", "arn:aws:::",
    "svc-0a1b2c3d4e5f60001", "sn-0a1b2c3d4e5f60718", "tg-0b1c2d3e4f5a60202", "vpc-0a1b2c3d4e5f60718", "i-0",
    "sg-0", "subnet-0", "10.0.0.0/16", "10.0.0.0/33", "fe80::/10", "192.168.1.300", "HTTP", "HTTPS", "TCP", "TLS",
    "GRPC", "HTTP1", "HTTP2", "IP", "INSTANCE", "LAMBDA", "ALB", "AWS_IAM", "NONE", "ACTIVE", "DRAINING",
    "use1-az1", "us-east-1a", "us-east-1", "*", "/", "", 0, -1, 65536, 2**31, True, "{\"Version\": 1}", "{",
])
CFN_INTRINSICS = st.sampled_from([
    {"Ref": "PayVpc"}, {"Ref": "AWS::Region"}, {"Ref": "AWS::NoValue"}, {"Ref": "Missing"}, {"Ref": ["a"]},
    {"Fn::GetAtt": ["PayVpc", "CidrBlock"]}, {"Fn::GetAtt": "Checkout.Arn"}, {"Fn::GetAtt": ["X"]},
    {"Fn::GetAtt": ["PayVpc", "Nope"]}, {"Fn::Sub": "${AWS::Region}a"}, {"Fn::Sub": "${Missing}"},
    {"Fn::Sub": ["${a}", {"a": {"Ref": "PayVpc"}}]}, {"Fn::Sub": "${"}, {"Fn::Join": ["", ["a", {"Ref": "X"}]]},
    {"Fn::Join": [1, 2]}, {"Fn::Select": [99, ["a"]]}, {"Fn::Select": [-1, []]}, {"Fn::Select": ["x", "y"]},
    {"Fn::Split": [",", "a,b"]}, {"Fn::Split": [None, 1]}, {"Fn::If": ["HasCanary", 1, 2]}, {"Fn::If": ["Nope"]},
    {"Fn::Equals": [1]}, {"Fn::Not": [True]}, {"Fn::And": []}, {"Fn::Or": [{"Condition": "X"}]},
    {"Condition": "HasCanary"}, {"Fn::FindInMap": ["Capacity", "prod", "Instances"]}, {"Fn::FindInMap": ["A"]},
    {"Fn::GetAZs": ""}, {"Fn::GetAZs": 5}, {"Fn::Base64": {"Ref": "X"}}, {"Fn::Cidr": ["10.0.0.0/16", 256, 8]},
    {"Fn::Cidr": ["10.0.0.0/33", -1, 99]}, {"Fn::Cidr": ["x", "y", "z"]}, {"Fn::ImportValue": "network-ShopSn"},
    {"Fn::ImportValue": {"Fn::Sub": "${NetworkStack}-Nope"}}, {"Fn::Length": [1, 2]}, {"Fn::Length": 3},
    {"Fn::ToJsonString": {"a": [1]}}, {"Fn::Transform": {}}, {"Fn::Unknown": 1}, {"Fn::GetAtt": [1, 2]},
    {"Ref": "AWS::AccountId", "Extra": 1},
    {"Fn::ForEach::L": ["a", ["x", "y"], {"K${a}": {"Type": "AWS::EC2::VPC"}}]}, {"Fn::ForEach::L": ["a"]},
    {"Fn::ForEach::L": ["a", {"Ref": "SubnetAzs"}, {"&{a}": {"Ref": "a"}}]}, {"Fn::ForEach::": [1, 2, 3]},
    "{{resolve:ssm:/vpc-lattice/prefix-list}}", "{{resolve:ssm:/x}}", "{{resolve:secretsmanager:s}}", "{{resolve:",
    {"Fn::GetAtt": ["LatticePrefixList", "PrefixListId"]}, {"Fn::GetAtt": ["LatticePrefixList", "Nope"]},
])
TF_VALUES = st.sampled_from([
    "aws_vpclattice_service.x[0]", 'module.a["k"].aws_vpc.v', "module.", "aws_vpc.", "[", '["', "data.x.y",
    {"after": None}, {"before": {}}, {"references": ["x"]}, {"constant_value": 1}, [None], [[]], {"0": 1},
])


def fresh_dir(root: Path, name: str) -> Path:
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder for the whole module (hypothesis runs many examples per test function), in memory
    where Linux offers it: the examples write and read ~100 000 small files."""
    if Path("/dev/shm").is_dir():
        with tempfile.TemporaryDirectory(dir="/dev/shm", prefix="latsim-fuzz-") as folder:
            yield Path(folder)
    else:
        yield tmp_path_factory.mktemp("fuzz-import")


def imported(run: Any) -> None:
    """Run an importer and validate what it gives: the only acceptable failure is a LatsimError."""
    try:
        with time_limit(20):  # a memory bomb was found as a run that did not end
            result = run()
            result.scenario()
    except ScenarioError as exc:
        assert exc.all_problems and all(p.message for p in exc.all_problems)
        _tally("refused")
    except LatsimError as exc:
        assert str(exc)
        _tally("refused")
    else:
        _tally("imported")


def _tally(outcome: str) -> None:
    """Count outcomes in hypothesis' statistics (--hypothesis-show-statistics); a no-op outside a test."""
    with contextlib.suppress(InvalidArgument):
        event(outcome)


# --- CloudFormation -------------------------------------------------------------------------------

CFN_WEIRD = st.one_of(WEIRD, CFN_INTRINSICS, AWS_VALUES)
CFN_SPLICES = ["!Ref ", "!GetAtt ", "!GetAtt a.b.c ", "!Sub ", "!Join ", "!Select ", "!If ", "!Foo ", "!Condition ",
               "!ImportValue ", "!Cidr ", "!Base64 ", "!GetAZs ", "!FindInMap ", "!Equals ", "!Not ",
               "!!python/object/apply:os.system ['true'] ", "!!binary ", "&a ", "*a", "<<: *a\n", "{", "[", "'",
               '"', "- ", ": ", "\t", "---\n", "\x00", "${", "Fn::", "Ref: "]
PARAMS = st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["AWS::Region", "AWS::AccountId", "CanaryWeight", "payments/CanaryWeight", "NetworkStack", "/x"]),
    st.sampled_from(["us-east-1", "eu-west-3", "mars-1", "", "0", "111111111111", "1", "-5", "x" * 70]), max_size=2))


@st.composite
def cloudformation_input(draw: Any) -> tuple[dict[str, str], dict[str, str] | None]:
    """{file name: text} (one template, or network + payments with their exports) and parameters;
    a mutated template keeps a few of its resources and what they refer to."""
    names = draw(st.sampled_from([["network"], ["payments"], ["inventory"], ["network", "payments"],
                                  ["provider", "consumer"], ["consumer"]]))
    if draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(names))
        files = {f"{n}.yaml": CFN_TEXTS[n] for n in names}
        files[f"{name}.yaml"] = damage(draw, CFN_TEXTS[name], CFN_SPLICES)
    else:
        docs = draw(mutated_tree([[_window(draw, CFN_DOCS[n]) for n in names]], CFN_WEIRD))
        files = {f"{n}.json": json.dumps(doc) for n, doc in zip(names, docs, strict=False)}
    return files, draw(PARAMS)


def _window(draw: Any, template: dict[str, Any]) -> dict[str, Any]:
    """The template with one to three of its resources and everything they refer to (reading costs
    ~0.5 ms per resource; the other sections stay whole)."""
    resources = template.get("Resources")
    if not isinstance(resources, dict) or len(resources) <= 4:
        return template
    names = list(resources)
    todo = [names[draw(st.integers(0, len(names) - 1))] for _ in range(draw(st.integers(1, 3)))]
    keep: set[str] = set()
    while todo:
        name = todo.pop()
        if name in resources and name not in keep:
            keep.add(name)
            todo.extend(_references(resources[name]))
    return {**template, "Resources": {k: v for k, v in resources.items() if k in keep}}


def _references(node: Any) -> set[str]:
    """Logical ids a template fragment names through Ref, Fn::GetAtt, Fn::Sub and DependsOn."""
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("Ref", "DependsOn") and isinstance(v, (str, list)):
                out.update(x for x in ([v] if isinstance(v, str) else v) if isinstance(x, str))
            elif k == "Fn::GetAtt" and isinstance(v, (str, list)) and v:
                out.add(str(v.split(".")[0] if isinstance(v, str) else v[0]))
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0] if isinstance(v, list) and v else ""
                out.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text)))
            out |= _references(v)
    elif isinstance(node, list):
        for v in node:
            out |= _references(v)
    return out


def check_cloudformation(root: Path, files: dict[str, str], params: dict[str, str] | None) -> None:
    folder = fresh_dir(root, "cfn")
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        paths.append(str(folder / name))
    imported(lambda: import_cloudformation(paths, params))


@given(cloudformation_input())
def test_mutated_cloudformation_imports_or_fails_located(scratch, case):
    check_cloudformation(scratch, *case)


@pytest.mark.slow
@FUZZ
@given(cloudformation_input())
def test_fuzz_cloudformation_10k(scratch, case):
    check_cloudformation(scratch, *case)


# --- Terraform ------------------------------------------------------------------------------------

TF_WEIRD = st.one_of(WEIRD, AWS_VALUES, TF_VALUES)
TF_SPLICES = ["{", "}", "[", "]", '"', ",", ":", "null", "true", "1e999", "NaN", "-", "\\u0000", "\\", "\x00", "é"]


@st.composite
def terraform_input(draw: Any) -> str:
    name = draw(st.sampled_from(sorted(TF_DOCS)))
    if draw(st.integers(0, 4)) == 0:
        return damage(draw, json.dumps(TF_DOCS[name], indent=1), TF_SPLICES)
    return json.dumps(draw(mutated_tree([TF_DOCS[name]], TF_WEIRD, max_ops=3)))


def check_terraform(root: Path, text: str) -> None:
    path = fresh_dir(root, "tf") / "show.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    imported(lambda: import_terraform(str(path)))


@given(terraform_input())
def test_mutated_terraform_imports_or_fails_located(scratch, text):
    check_terraform(scratch, text)


@pytest.mark.slow
@FUZZ
@given(terraform_input())
def test_fuzz_terraform_10k(scratch, text):
    check_terraform(scratch, text)


# --- Terraform HCL ---------------------------------------------------------------------------------
# Each example evaluates a whole configuration (tfparse, a few passes), ~0.3 s: a few dozen examples.

HCL_ROOT = DATA / "terraform" / "hcl-shop"
HCL_FILES = {str(p.relative_to(HCL_ROOT)): p.read_text() for p in sorted(HCL_ROOT.rglob("*")) if p.is_file()}
HCL_SPLICES = ["{", "}", "[", "]", '"', "${", "%{", "=", "\n", "count = 2", "for_each = var.services",
               "each.value", "module.service", "data.aws_vpc.x.id", "var.nope", "local.nope", "cidrsubnet(",
               "jsonencode({", "dynamic \"x\" {", "<<EOF\n", "#", "//", "/*", "\x00", "é", "\\"]
HCL_VARS = st.sampled_from([[], ["env=x"], ["az_count=0"], ["az_count=99"], ["services={}"], ["vpc_cidrs=[1]"],
                            ["region=mars-1"], ["nope=1"]])


@st.composite
def hcl_input(draw: Any) -> tuple[dict[str, str], list[str]]:
    files = dict(HCL_FILES)
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(sorted(files)))
        files[name] = damage(draw, files[name], HCL_SPLICES)
    return files, draw(HCL_VARS)


def check_hcl(root: Path, files: dict[str, str], variables: list[str]) -> None:
    from latsim.importers.terraform_hcl import import_terraform_hcl
    folder = fresh_dir(root, "hcl")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    imported(lambda: import_terraform_hcl(folder, variables=variables))


@settings(max_examples=int(os.environ.get("LATSIM_HCL_FUZZ_EXAMPLES", "12")), deadline=None)
@given(hcl_input())
def test_damaged_hcl_imports_or_fails_located(scratch, case):
    pytest.importorskip("tfparse")
    check_hcl(scratch, *case)


DYNAMIC_TEXT = """resource "aws_vpclattice_listener" "l" {
  for_each = var.x
  dynamic "default_action" {
    for_each = try(each.value.fwd[*], [])
    content {
      forward {
        dynamic "target_groups" {
          for_each = try(default_action.value.target_groups, []) # note
          iterator = tg
          content {
            target_group_identifier = var.tgs[tg.key]
            weight                  = tg.value.weight
          }
        }
      }
    }
  }
}
"""


@given(st.sampled_from([DYNAMIC_TEXT, *sorted(HCL_FILES.values())]), st.data())
def test_the_nested_dynamic_rewrite_never_raises_and_keeps_lines(text, data):
    from latsim.importers.hcl_dynamic import rewrite_nested_dynamics
    damaged = damage(data.draw, text, HCL_SPLICES)
    out, n = rewrite_nested_dynamics(damaged)
    assert out.count("\n") == damaged.count("\n")
    if n == 0:
        assert out == damaged


# --- Gateway API ----------------------------------------------------------------------------------

K8S_WEIRD = st.one_of(WEIRD, AWS_VALUES, st.sampled_from([
    {"kind": "Gateway", "name": "shop"}, {"name": "nope"}, {"group": "", "kind": "Service", "name": "inventory"},
    "List", "HTTPRoute", "GRPCRoute", "TLSRoute", "ServiceImport", "PathPrefix", "Exact", "RegularExpression",
    "Terminate", "Passthrough", "application-networking.k8s.aws/v1alpha1", "gateway.networking.k8s.io/v1",
    "true", "false", "a" * 70, "-x-", "default", "infra", {"items": []},
]))
CLUSTER_VPCS = [None, {"cidr": "10.8.0.0/16"}, {"east": {"cidr": "10.9.0.0/16", "azs": ["use1-az1"]}},
                {"vpcs": [{"name": "east-vpc", "cidr": "10.1.0.0/16", "account": "222222222222"}]},
                {"cidr": "10.0.0.0/28", "name": "tiny"}]


@st.composite
def gateway_api_input(draw: Any) -> tuple[list[tuple[str | None, str]], Any, int]:
    """[(cluster or None, manifest text)], the cluster VPC (an overlay's), pods per Service."""
    if draw(st.integers(0, 3)) == 0:
        files: list[tuple[str | None, str]] = [(None, damage(draw, draw(st.sampled_from(K8S_DOC_TEXTS))))]
    else:
        names = draw(st.sampled_from([["east"], ["west"], ["partner"], ["east", "west"], ["east", "west", "partner"]]))
        tree = {"files": [K8S_DOCS[n] for n in names], "cluster_vpc": draw(st.sampled_from(CLUSTER_VPCS))}
        tree = draw(mutated_tree([tree], K8S_WEIRD))
        clustered = len(names) > 1 or draw(st.booleans())
        docs_per_file = tree.get("files") if isinstance(tree.get("files"), list) else []
        files = [(n if clustered else None, "\n---\n".join(json.dumps(d) for d in (docs if isinstance(docs, list)
                                                                                   else [docs])))
                 for n, docs in zip(names, docs_per_file, strict=False)]
        cluster_vpc = tree.get("cluster_vpc")
        return files, cluster_vpc if isinstance(cluster_vpc, dict) else None, draw(st.sampled_from([1, 2, 3]))
    return files, draw(st.sampled_from(CLUSTER_VPCS)), draw(st.sampled_from([1, 2, 1000]))


def check_gateway_api(root: Path, files: list[tuple[str | None, str]], cluster_vpc: Any, pods: int) -> None:
    folder = fresh_dir(root, "k8s")
    entries = []
    for i, (cluster, text) in enumerate(files):
        path = folder / f"m{i}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        entries.append(f"{cluster}={path}" if cluster else str(path))
    imported(lambda: import_gateway_api(entries or [str(folder / "none.yaml")], pods_per_service=pods,
                                        cluster_vpc=cluster_vpc))


@example(([(None, K8S_TEXTS["east"])], {"cidr": "10.0.0.0/30"}, 1))  # found by the fuzz: IndexError on pod IPs
@example(([(None, K8S_TEXTS["east"])], {"cidr": []}, 1))  # found by the fuzz: IndexError, no CIDR at all
@given(gateway_api_input())
def test_mutated_gateway_api_manifests_import_or_fail_located(scratch, case):
    check_gateway_api(scratch, *case)


@pytest.mark.slow
@FUZZ_SLOW_READER
@given(gateway_api_input())
def test_fuzz_gateway_api_10k(scratch, case):
    check_gateway_api(scratch, *case)


# --- saved AWS CLI outputs ------------------------------------------------------------------------

AWS_NAMES = st.sampled_from(["list-services.json", "list-servicesx.json", "get-service.json", "x.json", "LIST-RULES.JSON",
                             "get-listener--svc-1.json", "get-rule--a--b--c--d.json", "list-targets.json",
                             "get-auth-policy--sn-0a1b2c3d4e5f60718.json", "describe-vpcs--x.json", ".json",
                             "aws-vpc-lattice-list-services.json", "ec2-describe-subnets.json", "--.json"])


@st.composite
def aws_json_input(draw: Any) -> dict[str, dict[str, str]]:
    """{account folder: {file name: text}}: the fixture folders with one or two files mutated,
    renamed or dropped. To keep an example cheap (~0.3 ms per file) it is mostly one account, and
    three times in four a random subset of its files (what is missing becomes a warning or a
    placeholder)."""
    accounts = draw(st.sampled_from([["111111111111"], ["222222222222"]] * 4 + [["111111111111", "222222222222"]]))
    tree: dict[str, dict[str, Any]] = {}
    for a in accounts:
        names = sorted(AWS_TREE[a])
        mask = draw(st.integers(0, 2 ** len(names) - 1)) if draw(st.integers(0, 3)) else -1
        tree[a] = {n: AWS_TREE[a][n] for i, n in enumerate(names) if mask >> i & 1} or dict(AWS_TREE[a])
    texts: dict[str, dict[str, str]] = {}
    for _ in range(draw(st.integers(1, 2))):
        acct = draw(st.sampled_from(accounts))
        name = draw(st.sampled_from(sorted(tree[acct])))
        how = draw(st.sampled_from(["mutate", "mutate", "mutate", "damage", "rename", "drop"]))
        if how == "mutate" and name in AWS_TREE[acct]:
            tree[acct][name] = draw(mutated_tree([AWS_TREE[acct][name]], st.one_of(WEIRD, AWS_VALUES)))
        elif how == "damage":
            texts.setdefault(acct, {})[name] = damage(draw, json.dumps(tree[acct][name], indent=1), TF_SPLICES)
        elif how == "rename":
            tree[acct][draw(AWS_NAMES)] = tree[acct].pop(name)
        elif how == "drop" and len(tree[acct]) > 1:
            del tree[acct][name]
    return {a: {f: texts.get(a, {}).get(f) or json.dumps(d) for f, d in files.items()} for a, files in tree.items()}


def check_aws_json(root: Path, folders: dict[str, dict[str, str]]) -> None:
    top = fresh_dir(root, "aws")
    for acct, files in folders.items():
        folder = top / (acct.replace("/", "_").replace("\x00", "_") or "_")
        folder.mkdir(exist_ok=True)
        for name, text in files.items():
            safe = name.replace("/", "_").replace("\x00", "_")
            if safe in ("", ".", ".."):
                continue
            (folder / safe).write_text(text, encoding="utf-8", errors="surrogatepass")
    imported(lambda: import_aws_json(top))


@settings(max_examples=30)  # each example reads its files with the real (pure-Python) YAML reader
@given(aws_json_input())
def test_mutated_aws_cli_outputs_import_or_fail_located(scratch, folders):
    check_aws_json(scratch, folders)


@pytest.mark.slow
@FUZZ_SLOW_READER
@given(aws_json_input())
def test_fuzz_aws_json_10k(scratch, folders):
    check_aws_json(scratch, folders)


# --- kept findings --------------------------------------------------------------------------------

def _kept(kind: str) -> list[Path]:
    folder = REGRESSIONS / kind
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


@pytest.mark.parametrize("path", _kept("cloudformation"), ids=lambda p: p.name)
def test_kept_cloudformation_findings_stay_fixed(path):
    imported(lambda: import_cloudformation([str(path)]))


@pytest.mark.parametrize("path", _kept("terraform"), ids=lambda p: p.name)
def test_kept_terraform_findings_stay_fixed(path):
    imported(lambda: import_terraform(str(path)))
