"""`latsim import terraform DIR`: Terraform written as HCL, evaluated offline.

The fixtures are written in the shape of public Lattice Terraform: ``hcl-shop`` is a root that
calls a local module with ``for_each`` over services (listener rules with ``for_each`` and a
filtering ``for`` expression, IP targets from ``cidrhost``), a ``jsonencode`` network auth policy,
an ``aws_iam_policy_document`` service policy, ``terraform.tfvars``; ``hcl-multi-account`` has
three provider aliases with ``assume_role`` in three accounts, RAM shares, a module called with
``providers = { aws = aws.consumer }`` and a VPC read by a data source. Expected values are
computed by hand from the HCL (cidrsubnet/cidrhost arithmetic, the tfvars precedence).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from latsim.analysis import explain
from latsim.cli import app
from latsim.engine.simulation import Simulation
from latsim.errors import ScenarioError
from latsim.importers.terraform_hcl import import_terraform_hcl, policy_document
from latsim.model.naming import service_dns_name
from latsim.scenario import load_scenario
from tests.conftest import DATA

pytest.importorskip("tfparse")
SHOP = DATA / "terraform" / "hcl-shop"
MULTI = DATA / "terraform" / "hcl-multi-account"
runner = CliRunner()


def by_name(items: list[dict], name: str) -> dict:
    (found,) = [i for i in items if i["name"] == name]
    return found


def test_the_shop_root_evaluates_variables_tfvars_modules_for_each_and_functions() -> None:
    res = import_terraform_hcl(SHOP)
    d = res.data
    assert [w.format() for w in res.warnings] == []
    assert d["region"] == "eu-west-1"  # var.region's default, through the provider block
    # terraform.tfvars sets env = "prod" over the default "dev"; local.name = "shop-${var.env}"
    assert [s["name"] for s in d["service_networks"]] == ["shop-prod"]
    assert sorted(s["name"] for s in d["services"]) == ["catalog-prod", "checkout-prod"]
    # for_each over a map of CIDRs; tags = merge(local.tags, {Name = ...})
    consumer = by_name(d["vpcs"], "shop-prod-consumer")
    assert consumer["cidr"] == ["10.10.0.0/16"]
    assert consumer["tags"] == {"Environment": "prod", "Name": "shop-prod-consumer", "Project": "shop"}
    # count = var.az_count subnets in slice(data.aws_availability_zones.names, 0, 2): eu-west-1a, b
    assert consumer["azs"] == ["euw1-az1", "euw1-az2"]
    # module for_each; target i in subnet i % 2 (cidrsubnet(10.20.0.0/16, 8, i)) at host 10 + i
    catalog_tg = by_name(d["target_groups"], "catalog-prod-tg")
    assert [(t["id"], t["az"]) for t in catalog_tg["targets"]] == [
        ("10.20.0.10", "euw1-az1"), ("10.20.0.12", "euw1-az1"), ("10.20.1.11", "euw1-az2")]
    assert [t["id"] for t in by_name(d["target_groups"], "checkout-prod-tg")["targets"]] == [
        "10.20.0.10", "10.20.1.11"]
    assert catalog_tg["vpc"] == "shop-prod-provider" and catalog_tg["health_check"] == {"enabled": True,
                                                                                         "path": "/healthz"}
    # rules: for_each over { for k, r in var.rules : k => r if r.fixed == null } and its complement
    checkout = by_name(d["services"], "checkout-prod")
    rules = checkout["listeners"][0]["rules"]
    assert [(r["name"], r["priority"], r["match"]["path"]["prefix"]) for r in rules] == [
        ("api", 10, "/api"), ("health", 20, "/healthz")]
    assert rules[0]["action"] == {"forward": [{"target_group": "checkout-prod-tg", "weight": 100}]}
    (legacy,) = by_name(d["services"], "catalog-prod")["listeners"][0]["rules"]
    assert legacy["match"] == {"method": "GET", "path": {"prefix": "/v1"}} and legacy["action"] == {
        "fixed_response": 404}
    # the Lattice prefix list (a data source) admits Lattice to the targets
    targets_sg = by_name(d["security_groups"], "shop-prod-targets")
    assert targets_sg["ingress"] == [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice"}]
    # jsonencode(...) on the network, aws_iam_policy_document (through a module variable) on services
    sn = d["service_networks"][0]
    assert sn["auth_policy"]["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-shop12345"}}
    assert checkout["auth_policy"] == {"Version": "2012-10-17", "Statement": [{
        "Sid": "OrgOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "vpc-lattice-svcs:Invoke", "Resource": "*"}]}
    assert sn["vpc_associations"] == [{"vpc": "shop-prod-consumer", "security_groups": [
        "shop-prod-lattice-association"]}]
    assert sn["services"] == ["catalog-prod", "checkout-prod"]


def test_var_and_var_file_follow_terraforms_precedence(tmp_path: Path) -> None:
    extra = tmp_path / "extra.tfvars"
    extra.write_text('env = "qa"\nvpc_cidrs = { consumer = "10.70.0.0/16", provider = "10.80.0.0/16" }\n')
    d = import_terraform_hcl(SHOP, var_files=[str(extra)]).data
    assert [s["name"] for s in d["service_networks"]] == ["shop-qa"]  # -var-file over terraform.tfvars
    assert by_name(d["target_groups"], "checkout-qa-tg")["targets"][0]["id"] == "10.80.0.10"
    d = import_terraform_hcl(SHOP, var_files=[str(extra)], variables=["env=staging", "az_count=1"]).data
    assert [s["name"] for s in d["service_networks"]] == ["shop-staging"]  # -var over -var-file
    assert by_name(d["vpcs"], "shop-staging-consumer")["azs"] == ["euw1-az1"]
    # every target sits in the one subnet left
    assert {t["az"] for t in by_name(d["target_groups"], "catalog-staging-tg")["targets"]} == {"euw1-az1"}


def test_data_source_answers_follow_params() -> None:
    d = import_terraform_hcl(SHOP, params={"AWS::AccountId": "123456789012", "AWS::Region": "us-west-2"}).data
    principal = by_name(d["services"], "checkout-prod")["auth_policy"]["Statement"][0]["Principal"]
    assert principal == {"AWS": "arn:aws:iam::123456789012:root"}
    # the region of the answers (AZ names) is the given one; the provider's region names the scenario's
    assert by_name(d["vpcs"], "shop-prod-consumer")["azs"] == ["usw2-az1", "usw2-az2"]


def test_the_shop_runs_with_the_auto_workload_and_the_auth_policy_decides(tmp_path: Path) -> None:
    res = import_terraform_hcl(SHOP)
    # the network policy admits only organization o-shop12345: an account outside it gets 403
    scn = res.scenario(workload="auto", rate="20/s")
    assert [c.name for c in scn.clients] == ["auto-shop-prod-consumer-euw1-az1", "auto-shop-prod-consumer-euw1-az2"]
    out = Simulation(scn.model_copy(update={"duration": 10.0})).run().summary
    assert out["requests"] > 0
    assert all(set(c["status"]) == {"403"} for c in out["clients"].values())
    # an overlay puts the imported account (known by id only) in the organization: merged by id
    overlay = {"accounts": [{"id": "111111111111", "name": "shop", "org_id": "o-shop12345"}]}
    scn = res.scenario(overlay, workload="auto", rate="20/s")
    assert [(a.id, a.name, a.org_id) for a in scn.accounts] == [("111111111111", "shop", "o-shop12345")]
    out = Simulation(scn.model_copy(update={"duration": 10.0})).run().summary
    for name, c in out["clients"].items():
        assert c["requests"] > 0 and set(c["status"]) == {"200"}, name
    # both services get traffic in equal shares (one request entry per service): 20/s x 2 x 10 s
    n = [out["services"][s]["TotalRequestCount"] for s in ("catalog-prod", "checkout-prod")]
    assert 0 <= out["requests"] - sum(n) <= 2  # those still in flight at the end
    # each is Binomial(N, 1/2): 4 sigma = 4 * sqrt(N)/2
    assert abs(n[0] - n[1]) < 4 * (sum(n) ** 0.5)
    # explain gives the same verdict as the engine
    svc = scn.index.services["checkout-prod"]
    steps = explain(scn, "auto-shop-prod-consumer-euw1-az1", f"https://{service_dns_name(scn, svc)}/api/x")["steps"]
    assert [s["stage"] for s in steps if s["verdict"] == "fail"] == []


def test_multi_account_layout_assigns_accounts_by_provider_and_shares_with_ram() -> None:
    res = import_terraform_hcl(MULTI)
    d = res.data
    assert {a["id"] for a in d["accounts"]} == {"222222222222", "333333333333", "444444444444"}
    (sn,) = d["service_networks"]
    assert sn["account"] == "222222222222"  # provider = aws.networking (assume_role account)
    assert sorted(sn["shared_with"]) == ["333333333333", "444444444444"]  # RAM, for_each over a set
    assert by_name(d["services"], "orders")["account"] == "333333333333"
    # module "consumer" is called with providers = { aws = aws.consumer }
    assert {v["name"]: v["account"] for v in d["vpcs"]} == {
        "orders-vpc": "333333333333", "legacy": "444444444444", "batch": "444444444444", "web": "444444444444"}
    assert [a["vpc"] for a in sn["vpc_associations"]] == ["legacy", "batch", "web"]
    # targets from for_each over another resource: cidrhost(each.value.cidr_block, 20)
    assert [(t["id"], t["az"]) for t in d["target_groups"][0]["targets"]] == [
        ("10.100.0.20", "use1-az1"), ("10.100.16.20", "use1-az2")]
    # the VPC read by data.aws_vpc.legacy is unknown: located, named, completed by an overlay
    msgs = [w.format() for w in res.warnings]
    assert any(m.startswith("tests/data/terraform/hcl-multi-account/consumer.tf:18:") and "data.aws_vpc.legacy" in m
               and "'legacy' stands for it" in m for m in msgs), msgs
    assert any(m.startswith("tests/data/terraform/hcl-multi-account/consumer.tf:13:") and "VPC legacy has no known "
               "CIDR" in m for m in msgs), msgs


def test_multi_account_runs_with_an_overlay_and_the_auto_workload() -> None:
    res = import_terraform_hcl(MULTI)
    overlay = {"vpcs": [{"name": "legacy", "cidr": "10.9.0.0/16", "azs": ["use1-az1", "use1-az2"]}]}
    scn = res.scenario(overlay, workload="auto", rate="10/s")
    assert scn.index.vpcs["legacy"].cidr == ["10.9.0.0/16"] and len(scn.vpcs) == 4  # merged, not added
    # one client per associated VPC and AZ; the provider VPC is associated with nothing: no client
    assert sorted(c.name for c in scn.clients) == [
        "auto-batch-use1-az1", "auto-batch-use1-az2", "auto-legacy-use1-az1", "auto-legacy-use1-az2",
        "auto-web-use1-az1", "auto-web-use1-az2"]
    out = Simulation(scn.model_copy(update={"duration": 10.0})).run().summary
    assert out["services"]["orders"]["HTTPCode_2XX_Count"] > 0
    for name, c in out["clients"].items():  # every answer is a 200 (a request may be in flight at the end)
        assert c["requests"] > 0 and set(c["status"]) == {"200"} and not c["failures"], name


def test_hcl_syntax_errors_are_located_in_every_file(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    shutil.copytree(SHOP, root)
    (root / "main.tf").write_text((root / "main.tf").read_text().replace('name      = local.name\n',
                                                                          'name      = \n', 1))
    mod = root / "modules" / "lattice-service" / "main.tf"
    mod.write_text(mod.read_text() + '\nresource "aws_vpc" "x" { cidr_block = foo( }\n')
    with pytest.raises(ScenarioError) as exc:
        import_terraform_hcl(root)
    probs = [(Path(p.location.file or "").name, p.location.line) for p in exc.value.all_problems]
    line = next(i for i, t in enumerate((root / "main.tf").read_text().splitlines(), 1) if t.strip() == "name      =")
    assert ("main.tf", line) in probs
    assert ("main.tf", len(mod.read_text().splitlines())) in probs and len(probs) == 2


def test_no_terraform_files_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        import_terraform_hcl(tmp_path)
    assert exc.value.all_problems[0].format().startswith(f"{tmp_path}: no Terraform files")


def test_policy_document_renders_terraforms_json() -> None:
    block = {"statement": [
        {"effect": "Deny", "actions": ["vpc-lattice-svcs:Invoke"], "resources": ["*"],
         "principals": [{"type": "*", "identifiers": ["*"]}],
         "condition": [{"test": "StringNotEquals", "variable": "aws:PrincipalOrgID", "values": ["o-1", "o-2"]}]},
        {"not_actions": ["a", "b"], "not_resources": ["r"],
         "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]},
                        {"type": "AWS", "identifiers": ["arn:aws:iam::2:root"]}]}]}
    assert policy_document(block) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"]}}},
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"]},
         "NotAction": ["a", "b"], "NotResource": "r"}]}


def test_cli_import_run_and_the_empty_run_gate(tmp_path: Path) -> None:
    topo = tmp_path / "shop.yaml"
    res = runner.invoke(app, ["import", "terraform", str(SHOP), "--var", "env=demo", "-o", str(topo)])
    assert res.exit_code == 0, res.stderr
    assert "name: shop-demo" in topo.read_text()
    # an import has no clients: run says so and exits 3 ...
    res = runner.invoke(app, ["run", str(topo), "--duration", "5s", "--quiet"])
    assert res.exit_code == 3 and "no clients" in res.stderr
    # ... unless --allow-empty
    res = runner.invoke(app, ["run", str(topo), "--duration", "5s", "--quiet", "--allow-empty"])
    assert res.exit_code == 0, res.stderr
    # --workload auto on run gives traffic in one command
    res = runner.invoke(app, ["run", str(topo), "--duration", "5s", "--json", "--workload", "auto", "--rate", "4/s"])
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["requests"] > 0 and len(summary["clients"]) == 2
    # and on import, written into the scenario
    auto = tmp_path / "auto.yaml"
    res = runner.invoke(app, ["import", "terraform", str(SHOP), "--workload", "auto", "--rate", "3/s",
                              "-o", str(auto)])
    assert res.exit_code == 0, res.stderr
    scn = load_scenario(auto)
    assert [c.arrival.model_dump(exclude_defaults=True) for c in scn.clients][0] == {"poisson": 3.0}
    # a run whose clients send nothing (rate limited to zero requests in the time) says so too
    res = runner.invoke(app, ["run", str(auto), "--duration", "1ms", "--quiet"])
    assert res.exit_code == 3 and "no request was sent" in res.stderr
    # usage mistakes are one-line errors
    res = runner.invoke(app, ["import", "terraform", str(SHOP), "--workload", "busy"])
    assert res.exit_code == 2 and "'auto'" in res.stderr
    res = runner.invoke(app, ["import", "terraform", str(SHOP), "--workload", "auto", "--rate", "fast"])
    assert res.exit_code == 2 and "--rate" in res.stderr
    res = runner.invoke(app, ["import", "terraform", str(DATA / "terraform" / "state.json"), "--var", "a=b"])
    assert res.exit_code == 2 and "HCL" in res.stderr


def test_the_import_is_deterministic_and_leaves_the_input_alone(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root)
    before = sorted((p.relative_to(root), p.read_bytes()) for p in root.rglob("*") if p.is_file())
    a = import_terraform_hcl(root).to_yaml()
    b = import_terraform_hcl(root).to_yaml()
    assert a == b
    after = sorted((p.relative_to(root), p.read_bytes()) for p in root.rglob("*") if p.is_file())
    assert before == after


def readme_import_commands() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Importing what you already have"):]
    section = section[:section.index("\n## ", 10)]
    block = re.search(r"^```sh\n(.*?)^```", section, flags=re.M | re.S)
    assert block
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_import_commands_work_verbatim(tmp_path: Path) -> None:
    shutil.copytree(SHOP, tmp_path / "tests" / "data" / "terraform" / "hcl-shop")
    latsim = Path(sys.executable).parent / "latsim"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    outputs = []
    for line in readme_import_commands():
        cmd = re.sub(r"^latsim ", f"{latsim} ", line)
        done = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (line, done.stderr)
        outputs.append(done.stdout)
    # the first run shows the 403s of the organization policy, the one with the overlay 200s
    assert "403:" in outputs[1] and "200:" not in outputs[1]
    assert "auto-shop-demo-consumer-euw1-az1" in outputs[-1]


def test_modules_from_terraform_init_are_read_and_a_missing_module_is_warned(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / ".terraform" / "modules" / "svc").mkdir(parents=True)
    (root / "main.tf").write_text(
        'module "svc" {\n  source  = "example-org/lattice-service/aws"\n  version = "1.0.0"\n  name = "orders"\n}\n'
        'module "ghost" {\n  source = "git::https://example.com/x.git"\n  name   = "ghost"\n}\n'
        'module "local" {\n  source = "./nowhere"\n}\n')
    (root / ".terraform" / "modules" / "svc" / "main.tf").write_text(
        'variable "name" {}\nresource "aws_vpclattice_service" "this" {\n  name = var.name\n}\n')
    (root / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "svc", "Source": "registry.terraform.io/example-org/lattice-service/aws", "Version": "1.0.0",
         "Dir": ".terraform/modules/svc"}]}))
    res = import_terraform_hcl(root)
    assert [s["name"] for s in res.data["services"]] == ["orders"]  # the registry module, from modules.json
    missing = sorted((w.location.line, w.message.split(" (")[0]) for w in res.warnings
                     if w.code == "terraform-module")
    assert missing == [(6, "module ghost"), (10, "module local")]
    assert all(w.location.file and w.location.file.endswith("main.tf") for w in res.warnings
               if w.code == "terraform-module")


def test_dynamic_blocks_inside_nested_blocks_are_expanded(tmp_path: Path) -> None:
    # the shape of the public Lattice module's listeners: dynamic default_action (top level, expanded
    # by the evaluator) holding forward { dynamic "target_groups" } (nested: rewritten by latsim)
    (tmp_path / "main.tf").write_text("""\
variable "listeners" {
  default = {
    https = { protocol = "HTTPS", port = 443, forward = { target_groups = { blue = { weight = 80 }, green = { weight = 20 } } } }
    http  = { protocol = "HTTP", port = 80, fixed = { status_code = 404 } }
  }
}
resource "aws_vpclattice_service" "s" {
  name = "orders"
}
resource "aws_vpclattice_target_group" "tg" {
  for_each = toset(["blue", "green"])
  name     = each.key
  type     = "IP"
  config {
    vpc_identifier = "vpc-0123456789abcdef0"
    port           = 80
    protocol       = "HTTP"
  }
}
resource "aws_vpclattice_listener" "l" {
  for_each           = var.listeners
  name               = each.key
  port               = each.value.port
  protocol           = each.value.protocol
  service_identifier = aws_vpclattice_service.s.id
  dynamic "default_action" {
    for_each = try(each.value.fixed[*], [])
    content {
      fixed_response {
        status_code = default_action.value.status_code
      }
    }
  }
  dynamic "default_action" {
    for_each = try(each.value.forward[*], [])
    content {
      forward {
        dynamic "target_groups" {
          for_each = try(default_action.value.target_groups, []) # one entry per group
          iterator = tg
          content {
            target_group_identifier = aws_vpclattice_target_group.tg[tg.key].id
            weight                  = tg.value.weight
          }
        }
      }
    }
  }
}
resource "aws_vpclattice_listener_rule" "r" {
  name                = "api"
  listener_identifier = aws_vpclattice_listener.l["https"].listener_id
  service_identifier  = aws_vpclattice_service.s.id
  priority            = 10
  match {
    http_match {
      path_match {
        match {
          prefix = "/api"
        }
      }
    }
  }
  action {
    dynamic "fixed_response" {
      for_each = [503]
      content {
        status_code = fixed_response.value
      }
    }
  }
}
""")
    res = import_terraform_hcl(tmp_path)
    assert [w.code for w in res.warnings if w.severity == "warning"] == ["placeholder"]  # the outside VPC, once
    (svc,) = res.data["services"]
    listeners = {lst["name"]: lst for lst in svc["listeners"]}
    assert listeners["http"]["default_action"] == {"fixed_response": 404}
    assert listeners["https"]["default_action"] == {"forward": [{"target_group": "blue", "weight": 80},
                                                                {"target_group": "green", "weight": 20}]}
    assert listeners["https"]["rules"][0]["action"] == {"fixed_response": 503}


def test_a_nested_dynamic_block_latsim_cannot_rewrite_is_warned(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""\
resource "aws_vpclattice_service" "s" {
  name = "api"
}
resource "aws_vpclattice_listener" "l" {
  name               = "web"
  protocol           = "HTTP"
  service_identifier = aws_vpclattice_service.s.id
  default_action {
    dynamic "fixed_response" {
      for_each = [404]
      content {
        status_code = <<EOT
404
EOT
      }
    }
  }
}
""")
    res = import_terraform_hcl(tmp_path)
    (w,) = [w for w in res.warnings if w.code == "terraform-dynamic"]
    assert w.location.line == 9 and "dynamic block 'fixed_response' inside a nested block" in w.message
    # and the listener, left without its action, is reported where it is
    assert any(x.location.line == 4 and "not imported" in x.message for x in res.warnings)


def test_var_values_are_hcl_expressions_and_their_mistakes_are_named(tmp_path: Path) -> None:
    res = import_terraform_hcl(SHOP, variables=[
        "services={ orders = { port = 8443, targets = 1, rules = {} } }", "env=a b"])
    (svc,) = res.data["services"]
    assert svc["name"] == "orders-a-b" and svc["listeners"][0]["port"] == 8443
    with pytest.raises(ScenarioError) as exc:
        import_terraform_hcl(SHOP, variables=["env=ok", "services={ orders = "])
    (p,) = exc.value.all_problems
    assert p.format().startswith("--var #2: ")
    bad = tmp_path / "bad.tfvars"
    bad.write_text("env = \n")
    with pytest.raises(ScenarioError) as exc:
        import_terraform_hcl(SHOP, var_files=[str(bad)])
    (p,) = exc.value.all_problems
    assert (p.location.file, p.location.line, p.location.column) == (str(bad), 1, 7)


def test_a_variable_without_value_is_named_and_becomes_a_placeholder(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""\
variable "vpc_id" {
  type = string
}
resource "aws_vpclattice_service_network" "sn" {
  name = "net"
}
resource "aws_vpclattice_service_network_vpc_association" "a" {
  vpc_identifier             = var.vpc_id
  service_network_identifier = aws_vpclattice_service_network.sn.id
}
""")
    res = import_terraform_hcl(tmp_path)
    (w,) = [w for w in res.warnings if w.code == "terraform-variable"]
    assert w.location.line == 1 and "pass --var vpc_id=VALUE" in w.format()
    assert res.data["service_networks"][0]["vpc_associations"] == [{"vpc": "vpc-id"}]
    # given, the value is an outside VPC id: the placeholder carries it
    res = import_terraform_hcl(tmp_path, variables=["vpc_id=vpc-0123456789abcdef0"])
    assert not [w for w in res.warnings if w.code == "terraform-variable"]
    assert res.data["vpcs"][0]["id"] == "vpc-0123456789abcdef0"


def test_a_data_sources_answer_can_be_given_with_param() -> None:
    params = {"data.aws_vpc.legacy.cidr_block": "10.9.0.0/16", "data.aws_vpc.legacy.id": "vpc-0aaa1111bbbb2222c"}
    res = import_terraform_hcl(MULTI, params=params)
    legacy = by_name(res.data["vpcs"], "legacy")
    assert (legacy["id"], legacy["cidr"], legacy["account"]) == ("vpc-0aaa1111bbbb2222c", ["10.9.0.0/16"],
                                                                 "444444444444")  # still the consumer's provider
    assert not [w for w in res.warnings if w.code in ("data-source", "vpc-cidr")]
    # the data source keeps its own location, not the scratch file's
    (note,) = [w for w in res.warnings if w.code == "vpc-azs" and "legacy" in w.message]
    assert note.location.file.endswith("consumer.tf") and note.location.line == 13


def test_listeners_and_rules_built_by_generic_modules_from_maps() -> None:
    res = import_terraform_hcl(DATA / "terraform" / "hcl-listeners")
    (svc,) = res.data["services"]
    lst = {x["name"]: x for x in svc["listeners"]}
    # dynamic default_action (top level) with a nested dynamic "target_groups" (iterator = group)
    assert lst["secure"]["default_action"] == {"forward": [{"target_group": "blue", "weight": 1}]}
    assert lst["web"]["default_action"] == {"fixed_response": 404}
    # the rules module is called per listener through { for k, l in ... : k => l.listener_id }
    rules = {r["name"]: r for r in lst["web"]["rules"]}
    assert rules["api"]["match"] == {"path": {"prefix": "/api", "case_sensitive": False}}
    assert rules["api"]["action"] == {"forward": [{"target_group": "blue", "weight": 90},
                                                  {"target_group": "green", "weight": 10}]}
    assert rules["beta"]["match"] == {"headers": [{"name": "x-beta", "exact": "1"}]}
    # a Lambda target group without a registered function: a named placeholder, said where
    (w,) = [w for w in res.warnings if w.code == "placeholder"]
    assert w.location.line == 63 and "placeholder function 'fn0-function'" in w.message
    # and it runs: GET / on each listener -> the secure one forwards (200), the web one answers 404
    scn = res.scenario(workload="auto", rate="10/s")
    out = Simulation(scn.model_copy(update={"duration": 10.0})).run().summary
    (client,) = out["clients"].values()
    assert set(client["status"]) == {"200", "404"}
    assert out["rules"]["orders/secure/default"]["target_groups"] == {"blue": out["rules"]["orders/secure/default"][
        "hits"]}
