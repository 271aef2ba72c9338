"""One topology, four sources, one set of names: `latsim diff` between any two imports reports no change.

The fixture (tests/data/equivalence/) is one Lattice topology written four ways by hand:
``shop.cfn.yaml`` (a CloudFormation template), ``terraform/main.tf`` (Terraform HCL, read offline),
``aws-json/`` (the saved ``aws vpc-lattice`` / ``aws ec2`` outputs of the deployed topology, with the
ids AWS assigned) and ``gateway/`` (Gateway API manifests of two clusters plus the overlay naming
their VPCs). The topology: account 111111111111, two VPCs (``web`` for the clients, ``app`` for the
targets), the security group ``lattice-clients`` on web's association, the AWS_IAM service network
``shop`` with an auth policy and both VPCs associated, the service ``checkout-shop`` (HTTP :80, a
path rule ``/api`` and a 90/10 weighted rule over two IP target groups) and ``catalog-shop`` (an
80/20 weighted *default action* over two more IP target groups).

The names are those the AWS Gateway API controller gives (``<route>-<namespace>``,
``k8s-<ns>-<svc>-<hash>``, ``rule-<index>``), so that the manifests describe the same objects.

**Gateway API covers less.** The controller's HTTP listeners answer unmatched requests with a fixed
404 (no weighted default action), and a ``VpcAssociationPolicy`` names security groups without their
rules. So the manifests express the subset without ``catalog-shop`` (its listener's default action is
the weighted one), its two target groups and the security group; the gateway import is compared with
each of the other three restricted to that subset (``restrict_to_gateway_subset``: it only deletes
those items, it rewrites nothing).

Every import runs the real importer through the CLI (``latsim import ...``) and every comparison is
``latsim diff OLD NEW --json``. The negative controls change one weight in one source (the
Terraform canary rule, the HTTPRoute's split) and require diff to report exactly that change.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from latsim.cli import app
from tests.conftest import DATA

EQ = DATA / "equivalence"
GATEWAY = EQ / "gateway"
runner = CliRunner()

CANARY_RULE = "services.checkout-shop.listeners.checkout-shop-80-http.rules.rule-1.action.forward"
CHECKOUT_V1 = "k8s-shop-checkout-v1-ad10e3ca36"
CHECKOUT_V2 = "k8s-shop-checkout-v2-b53cb67371"
TARGETS = ("10.1.60.173", "10.1.43.181", "10.1.131.174", "10.1.189.205", "10.1.2.10", "10.1.3.10", "10.1.4.10")


def _import(args: list[str], out: Path) -> Path:
    res = runner.invoke(app, ["import", *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _gateway_args(app_manifest: Path = GATEWAY / "app.yaml") -> list[str]:
    return ["gateway-api", f"web={GATEWAY / 'web.yaml'}", f"app={app_manifest}", "--overlay", str(GATEWAY / "vpcs.yaml")]


def _diff(old: Path, new: Path) -> dict[str, Any]:
    res = runner.invoke(app, ["diff", str(old), str(new), "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def _assert_no_change(d: dict[str, Any]) -> None:
    assert d["changes"] == [], d["changes"]
    assert (d["flipped"], d["rerouted"], d["problems"]) == ([], [], {"new": [], "resolved": []})
    assert set(d["summary"].values()) == {0}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def restrict_to_gateway_subset(src: Path, out: Path) -> Path:
    """The part of the full topology that Gateway API manifests can express: drop the service with
    the weighted default action, its target groups and the security group (deletions only)."""
    data = _load(src)
    data["services"] = [s for s in data["services"] if s["name"] != "catalog-shop"]
    data["target_groups"] = [t for t in data["target_groups"] if not t["name"].startswith("catalog-")]
    data.pop("security_groups")
    for sn in data["service_networks"]:
        sn["services"] = [s for s in sn["services"] if s != "catalog-shop"]
        for assoc in sn["vpc_associations"]:
            assoc.pop("security_groups", None)
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("equivalence")
    return {
        "cloudformation": _import(["cloudformation", str(EQ / "shop.cfn.yaml")], tmp / "cfn.yaml"),
        "terraform": _import(["terraform", str(EQ / "terraform")], tmp / "tf.yaml"),
        "aws-json": _import(["aws-json", str(EQ / "aws-json")], tmp / "aws.yaml"),
        "gateway-api": _import(_gateway_args(), tmp / "gateway.yaml"),
    }


FULL = ("cloudformation", "terraform", "aws-json")


def test_every_source_imports_the_whole_topology_under_the_same_names(imports: dict[str, Path]) -> None:
    """Not vacuous: each import holds every object of the topology, named alike."""
    for source in FULL:
        d = _load(imports[source])
        assert sorted(v["name"] for v in d["vpcs"]) == ["app", "web"], source
        assert [s["name"] for s in d["security_groups"]] == ["lattice-clients"], source
        (sn,) = d["service_networks"]
        assert (sn["name"], sn["auth_type"], sn["services"]) == ("shop", "AWS_IAM", ["catalog-shop", "checkout-shop"])
        assert sorted(sn["vpc_associations"], key=lambda a: a["vpc"]) == [
            {"vpc": "app"}, {"vpc": "web", "security_groups": ["lattice-clients"]}]
        checkout, catalog = sorted(d["services"], key=lambda s: s["name"] != "checkout-shop")
        (lst,) = checkout["listeners"]
        assert lst["name"] == "checkout-shop-80-http" and [r["name"] for r in lst["rules"]] == ["rule-0", "rule-1"]
        assert lst["rules"][1]["action"]["forward"] == [{"target_group": CHECKOUT_V1, "weight": 90},
                                                        {"target_group": CHECKOUT_V2, "weight": 10}]
        assert catalog["listeners"][0]["default_action"]["forward"] == [{"target_group": "catalog-v1", "weight": 80},
                                                                        {"target_group": "catalog-v2", "weight": 20}]
        assert sorted(t["name"] for t in d["target_groups"]) == ["catalog-v1", "catalog-v2", CHECKOUT_V1, CHECKOUT_V2]
        assert all(tg["type"] == "IP" and tg["vpc"] == "app" for tg in d["target_groups"])
        assert sorted(t["id"] for tg in d["target_groups"] for t in tg["targets"]) == sorted(TARGETS)
    gw = _load(imports["gateway-api"])
    assert sorted(t["name"] for t in gw["target_groups"]) == [CHECKOUT_V1, CHECKOUT_V2]
    assert [s["name"] for s in gw["services"]] == ["checkout-shop"]


@pytest.mark.parametrize(("old", "new"), list(itertools.permutations(FULL, 2)))
def test_diff_between_any_two_full_sources_reports_no_change(imports: dict[str, Path], old: str, new: str) -> None:
    _assert_no_change(_diff(imports[old], imports[new]))


@pytest.mark.parametrize("other", FULL)
def test_gateway_api_equals_each_source_on_what_it_can_express(imports: dict[str, Path], other: str,
                                                               tmp_path: Path) -> None:
    subset = restrict_to_gateway_subset(imports[other], tmp_path / f"{other}-subset.yaml")
    _assert_no_change(_diff(imports["gateway-api"], subset))
    _assert_no_change(_diff(subset, imports["gateway-api"]))


def _one_weight_change(d: dict[str, Any]) -> dict[str, Any]:
    (change,) = d["changes"]
    assert d["summary"]["changes"] == 1 and d["problems"] == {"new": [], "resolved": []}
    return change


def test_a_changed_weight_in_one_source_is_exactly_the_change_diff_reports(imports: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    tf = tmp_path / "terraform"
    shutil.copytree(EQ / "terraform", tf)
    main = tf / "main.tf"
    text = main.read_text()
    assert text.count("weight                  = 90") == 1
    main.write_text(text.replace("weight                  = 90", "weight                  = 85"))
    changed = _import(["terraform", str(tf)], tmp_path / "tf-85.yaml")
    change = _one_weight_change(_diff(imports["cloudformation"], changed))
    assert (change["change"], change["category"], change["path"], change["old"], change["new"]) == \
        ("changed", "weight", f"{CANARY_RULE}.{CHECKOUT_V1}.weight", 90, 85)


def test_a_changed_weight_in_the_manifests_is_exactly_the_change_diff_reports(imports: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    text = (GATEWAY / "app.yaml").read_text()
    assert text.count("port: 8080, weight: 10}") == 1
    manifest.write_text(text.replace("port: 8080, weight: 10}", "port: 8080, weight: 30}"))
    changed = _import(_gateway_args(manifest), tmp_path / "gateway-30.yaml")
    subset = restrict_to_gateway_subset(imports["aws-json"], tmp_path / "aws-subset.yaml")
    change = _one_weight_change(_diff(subset, changed))
    assert (change["change"], change["category"], change["path"], change["old"], change["new"]) == \
        ("changed", "weight", f"{CANARY_RULE}.{CHECKOUT_V2}.weight", 10, 30)
