"""``latsim new``: write a commented starter scenario that validates and runs as it is.

The starter is a plain string (no template file to package): one account, a client VPC and
a target VPC, a service network, one service with a rule, one target group over two AZs, one
client, an SLO, and comments that say what each section means and where to go next.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Annotated

import typer

from latsim.cli.common import handle_errors, out
from latsim.errors import UsageError

DEFAULT_FILE = Path("scenario.yaml")

STARTER = """\
# yaml-language-server: $schema=./scenario.schema.json
#
# {name} — a starter scenario written by `latsim new`.
#
# The first line lets VS Code's YAML extension complete and check this file: create the schema
# it points to with `latsim schema -o scenario.schema.json` (next to this file).
#
# Try it:
#   latsim validate {file}     # every mistake, located at file:line:col
#   latsim show {file}         # the topology as a tree
#   latsim run {file}          # simulate; tables of services, target groups, rules, clients, SLOs
#
# What it models: a storefront in the `web` VPC calls the `catalog` service through the
# service network `shop`. Lattice picks the listener by port, matches the rules by priority
# (GETs under /api go to the `catalog-api` target group, anything else gets a 404) and
# round-robins over the healthy targets. Change one thing at a time and run again; the
# scenarios in latsim's `scenarios/` directory show canaries, AZ failures, auth policies,
# retries, Lambda, gRPC and TLS passthrough. Units: durations `250ms`, `2s`, `5m`; rates
# `50/s`; sizes `2KB`; percentages `1%`.
name: {name}
seed: 1            # same seed, same numbers
duration: 2m       # simulated time (override with `latsim run --duration 30s`)
warmup: 10s        # simulated but left out of the summaries

accounts:
  - {{id: "111111111111", name: main}}

# VPCs may overlap (Lattice exchanges no routes); azs are AZ ids.
vpcs:
  - {{name: web, account: main, cidr: 10.0.0.0/16, azs: [use1-az1, use1-az2]}}
  - {{name: app, account: main, cidr: 10.1.0.0/16, azs: [use1-az1, use1-az2]}}

security_groups:
  # Targets admit traffic and health checks from the Lattice managed prefix list only.
  - name: app-targets
    vpc: app
    ingress:
      - {{protocol: tcp, ports: 8080, source: vpc-lattice}}

# A client VPC reaches a service through a service network it is associated with.
service_networks:
  - name: shop
    account: main
    auth_type: NONE          # AWS_IAM + auth_policy to authorize every request
    vpc_associations: [{{vpc: web}}]
    services: [catalog]

services:
  - name: catalog
    account: main
    custom_domain: catalog.shop.internal
    listeners:
      - name: https
        protocol: HTTPS      # HTTP, HTTPS or TLS_PASSTHROUGH
        port: 443
        default_action: {{fixed_response: 404}}   # when no rule matches
        rules:
          - name: api
            priority: 10     # lower is evaluated first
            match: {{method: GET, path: {{prefix: /api}}}}
            action: {{forward: [{{target_group: catalog-api}}]}}

target_groups:
  - name: catalog-api
    type: INSTANCE           # INSTANCE, IP, LAMBDA or ALB
    vpc: app
    protocol: HTTP
    port: 8080
    security_groups: [app-targets]
    health_check: {{path: /health, interval: 10s, timeout: 2s}}
    targets:
      # Each target: `concurrency` workers sharing a FIFO queue, a service-time distribution.
      - {{id: i-0catalog1, az: use1-az1, concurrency: 8, latency: {{lognormal: {{median: 20ms, sigma: 0.5}}}}}}
      - {{id: i-0catalog2, az: use1-az2, concurrency: 8, latency: {{lognormal: {{median: 20ms, sigma: 0.5}}}}}}

clients:
  - name: storefront
    vpc: web
    az: use1-az1
    # principal: {{arn: "arn:aws:iam::111111111111:role/storefront"}}   # signed (SigV4); omit: anonymous
    url: https://catalog.shop.internal
    arrival: {{poisson: 50/s}}     # or constant, ramp, steps, diurnal, bursts, closed, replay
    requests:                      # the request mix, by weight
      - {{weight: 9, method: GET, path: /api/products}}
      - {{weight: 1, method: GET, path: /favicon.ico}}  # matches no rule: a 404
    timeout: 2s
    retries: {{max: 2, backoff: 50ms}}

network: {{same_az: 0.3ms, cross_az: 1.1ms}}

# Changes and faults at a simulated time; uncomment one and run again.
timeline: []
#  - {{at: 1m, fail_targets: [i-0catalog1], for: 30s}}
#  - {{at: 1m, fail_az: use1-az1, for: 30s}}
#  - {{at: 1m, inject_latency: {{target_group: catalog-api, add: 200ms}}, for: 30s}}

# Objectives: `latsim run` exits 1 when one is breached.
slo:
  - {{service: catalog, p99: 100ms}}
"""


def scenario_name(path: Path) -> str:
    """A scenario name from a file name: lower case, letters, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return name or "scenario"


def starter_text(path: Path) -> str:
    """The starter scenario for ``path`` (its name is taken from the file name)."""
    return STARTER.format(name=scenario_name(path), file=shlex.quote(path.name))


@handle_errors
def new(
    file: Annotated[Path, typer.Argument(help="Where to write the scenario.")] = DEFAULT_FILE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a commented starter scenario that validates and runs."""
    from latsim.atomic_write import atomic_write_text
    if file.is_dir():
        raise UsageError(f"{file} is a directory", hint="give a file name, e.g. latsim new my-scenario.yaml")
    if file.exists() and not force:
        raise UsageError(f"{file} already exists; not overwriting it",
                         hint="add --force to replace it, or give another file name")
    atomic_write_text(file, starter_text(file))
    shown = shlex.quote(str(file))
    out.print(f"wrote {file}: try `latsim validate {shown}` and `latsim run {shown}`", markup=False)
