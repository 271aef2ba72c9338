"""``latsim import …``: build a scenario from CloudFormation, Terraform, AWS or Gateway API input.

Every form writes a commented scenario (``-o FILE``, default stdout) that validates and runs;
what the source does not hold (clients, workload, latencies) comes from ``--overlay`` files
merged on top, else from documented defaults. Warnings about what could not be mapped go to
stderr with their location; nothing from the input is executed or fetched.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from latsim.cli.common import handle_errors, print_problems
from latsim.errors import Problem, ScenarioError, UsageError

import_app = typer.Typer(help="Build a scenario from what you already have (CloudFormation, Terraform, "
                              "an AWS account, Kubernetes Gateway API manifests).", no_args_is_help=True)

OutOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the scenario here (default: stdout).")]
OverlayOpt = Annotated[list[Path] | None, typer.Option("--overlay", help="Merge this file on top (repeatable).")]


def _overlay(paths: list[Path] | None) -> dict[str, Any] | None:
    from latsim.scenario import load_data, merge_overlay
    merged: dict[str, Any] | None = None
    for p in paths or []:
        data, _ = load_data(p)
        if not isinstance(data, dict):
            raise ScenarioError([Problem("an overlay is a mapping of scenario sections", code="overlay")])
        merged = data if merged is None else merge_overlay(merged, data)
    return merged


WorkloadOpt = Annotated[str | None, typer.Option(
    "--workload", help="'auto': one client per associated VPC and AZ calling every service it can resolve "
                       "(see README, 'Importing what you already have').")]
RateOpt = Annotated[str | None, typer.Option("--rate", help="Arrival rate of each --workload auto client "
                                                            "(default 10/s), e.g. 50/s, 600/m.")]


def _workload(workload: str | None, rate: str | None) -> str | None:
    if workload not in (None, "auto"):
        raise UsageError(f"--workload {workload!r}: the one workload latsim can make is 'auto'")
    if rate is not None and workload is None:
        raise UsageError("--rate sets the rate of --workload auto; give --workload auto too")
    return workload


def _emit(result: Any, output: Path | None, overlays: list[Path] | None, workload: str | None = None,
          rate: str | None = None) -> None:
    workload = _workload(workload, rate)
    warnings = [w for w in result.warnings if w.severity != "error"]
    if warnings:
        print_problems(warnings)
    text = result.to_yaml(_overlay(overlays), workload=workload, rate=rate)
    if output is None:
        sys.stdout.write(text)
    else:
        from latsim.atomic_write import atomic_write_text
        atomic_write_text(output, text)
        from latsim.cli.common import err
        err.print(f"wrote {output}", markup=False)


def _params(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        key, sep, val = v.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {v!r}: expected KEY=VALUE")
        out[key] = val
    return out


@import_app.command("cloudformation")
@handle_errors
def import_cloudformation_cmd(
    templates: Annotated[list[Path], typer.Argument(help="Templates (YAML or JSON); several stacks at once.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE (also AWS::AccountId, "
                                                    "AWS::Region; STACK/KEY for one stack).")] = None,
    lint: Annotated[bool, typer.Option("--lint", help="Add cfn-lint's findings as notes.")] = False,
    output: OutOpt = None,
    overlay: OverlayOpt = None,
    workload: WorkloadOpt = None,
    rate: RateOpt = None,
) -> None:
    """Import CloudFormation templates (short tags, parameters, cross-stack exports)."""
    from latsim.importers.cloudformation import import_cloudformation
    _emit(import_cloudformation([str(t) for t in templates], _params(param), lint=lint), output, overlay, workload, rate)


@import_app.command("terraform")
@handle_errors
def import_terraform_cmd(
    source: Annotated[Path, typer.Argument(help="A Terraform root module (a directory of .tf/.tf.json files, "
                                           "read as HCL), or `terraform show -json` output of a state or a plan.")],
    var: Annotated[list[str] | None, typer.Option("--var", help="NAME=VALUE, as terraform -var (HCL only; "
                                                  "repeatable).")] = None,
    var_file: Annotated[list[Path] | None, typer.Option("--var-file", help="A .tfvars file, as terraform "
                                                        "-var-file (HCL only; repeatable).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="HCL: AWS::AccountId=…, AWS::Region=… (the "
                                                    "answers of data sources; ALIAS/AWS::AccountId for a provider "
                                                    "alias), data.TYPE.NAME.ATTR=VALUE for any data source.")] = None,
    output: OutOpt = None,
    overlay: OverlayOpt = None,
    workload: WorkloadOpt = None,
    rate: RateOpt = None,
) -> None:
    """Import Terraform: HCL configuration (variables, modules, count and for_each evaluated offline),
    or state/plan JSON."""
    from latsim.importers.terraform_hcl import import_terraform_hcl, is_terraform_dir
    if source.is_dir() or is_terraform_dir(source):
        result = import_terraform_hcl(source, variables=var or [], var_files=[str(f) for f in var_file or []],
                                      params=_params(param))
    else:
        if var or var_file or param:
            raise UsageError("--var, --var-file and --param apply to HCL; a state or plan JSON holds its values")
        from latsim.importers.terraform import import_terraform
        result = import_terraform(str(source))
    _emit(result, output, overlay, workload, rate)


@import_app.command("aws")
@handle_errors
def import_aws_cmd(
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    output: OutOpt = None,
    overlay: OverlayOpt = None,
    workload: WorkloadOpt = None,
    rate: RateOpt = None,
) -> None:
    """Read a live account with boto3, read-only (List/Get/Describe calls only)."""
    try:
        from latsim.importers.aws import import_aws
    except ImportError as exc:  # boto3 is the optional extra latsim[aws]
        raise UsageError(f"latsim import aws needs boto3: pip install 'latsim[aws]' ({exc})") from None
    _emit(import_aws(profile=profile, region=region), output, overlay, workload, rate)


@import_app.command("aws-json")
@handle_errors
def import_aws_json_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder of saved `aws vpc-lattice`/`aws ec2` JSON outputs.")],
    output: OutOpt = None,
    overlay: OverlayOpt = None,
    workload: WorkloadOpt = None,
    rate: RateOpt = None,
) -> None:
    """Import saved AWS CLI outputs (checked against botocore's output shapes)."""
    from latsim.importers.aws import import_aws_json
    _emit(import_aws_json(directory), output, overlay, workload, rate)


@import_app.command("gateway-api")
@handle_errors
def import_gateway_api_cmd(
    manifests: Annotated[list[str], typer.Argument(help="Manifests (multi-document YAML); CLUSTER=PATH puts a "
                                                   "file in a named cluster.")],
    pods_per_service: Annotated[int, typer.Option("--pods-per-service", min=1, max=1000,
                                                  help="Pod targets behind each Kubernetes Service whose "
                                                  "pods no Deployment/StatefulSet in the manifests gives.")] = 2,
    output: OutOpt = None,
    overlay: OverlayOpt = None,
    workload: WorkloadOpt = None,
    rate: RateOpt = None,
) -> None:
    """Import Kubernetes Gateway API resources as the AWS Gateway API controller maps them."""
    from latsim.importers.gateway_api import import_gateway_api
    # the overlay may place the cluster VPC (its CIDR decides the pod addresses)
    _emit(import_gateway_api(list(manifests), pods_per_service=pods_per_service, cluster_vpc=_overlay(overlay)),
          output, overlay, workload, rate)
