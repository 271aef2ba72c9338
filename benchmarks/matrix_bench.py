"""Benchmark: the reachability matrix of 1 000 clients x 2 000 services.

Generates a topology as plain data (500 client VPCs in 5 service networks, 2 000 services with
two rules each, a tenth with a second listener, a quarter with an AWS_IAM auth policy; one
network with an org-wide policy; 1 000 clients with 100 application roles, some anonymous),
validates it with the real loader, compiles it and times the matrix, then the CSV output.
Times are CPU seconds (``time.process_time``): the machine may be shared.

    .venv/bin/python benchmarks/matrix_bench.py [--clients 1000] [--services 2000] [--vpcs 500]
                                                [--roles 100] [--csv] [--json]

``--roles 1000`` gives every client its own principal (the worst case for the grouping).
Client VPC ``i`` has the CIDR ``10.(i mod 250).0.0/16``, so any number of VPCs is valid
(overlapping CIDRs are legal in Lattice); the targets' VPC is 10.250.0.0/16.
This is a benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import time
from typing import Any

ORG = "o-bench1234"
ACCOUNT = "111111111111"


def octet(i: int) -> int:
    """The second octet of client VPC ``i`` (10.0-249.x; 10.250.x is the targets' VPC)."""
    return i % 250


def topology(n_clients: int = 1000, n_services: int = 2000, n_vpcs: int = 500, n_networks: int = 5,
             n_roles: int = 100) -> dict[str, Any]:
    """A large, varied topology as a plain dict (validated by ``scenario_from_data``)."""
    vpcs = [{"name": f"vpc-{i:03d}", "account": "bench", "cidr": f"10.{octet(i)}.0.0/16",
             "azs": ["use1-az1", "use1-az2"]} for i in range(n_vpcs)]
    vpcs.append({"name": "targets", "account": "bench", "cidr": "10.250.0.0/16", "azs": ["use1-az1", "use1-az2"]})
    sgs: list[dict[str, Any]] = [{"name": "targets-sg", "vpc": "targets",
                                  "ingress": [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice"}]}]
    for i in range(n_vpcs):
        ports = [443] if i % 7 == 3 else [80, 443]  # some associations admit HTTPS only
        sgs.append({"name": f"assoc-{i:03d}", "vpc": f"vpc-{i:03d}",
                    "ingress": [{"protocol": "tcp", "ports": ports, "source": f"10.{octet(i)}.0.0/17"},
                                {"protocol": "tcp", "ports": ports, "source": f"app-{i:03d}"}]})
        sgs.append({"name": f"app-{i:03d}", "vpc": f"vpc-{i:03d}"})
    services, tgs = [], []
    members: list[list[str]] = [[] for _ in range(n_networks)]
    for s in range(n_services):
        name = f"s{s:04d}"
        tg = f"tg-{name}"
        listeners: list[dict[str, Any]] = [{
            "name": "https", "protocol": "HTTPS", "port": 443, "default_action": {"forward": tg},
            "rules": [{"name": "admin", "priority": 1, "match": {"path": {"exact": "/admin"}},
                       "action": {"fixed_response": 404}},
                      {"name": "api", "priority": 10, "match": {"path": {"prefix": "/api"}, "method": "GET"},
                       "action": {"forward": tg}}]}]
        if s % 10 == 0:
            listeners.append({"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": tg}})
        svc: dict[str, Any] = {"name": name, "account": "bench", "custom_domain": f"{name}.bench.internal",
                               "listeners": listeners}
        if s % 4 == 1:
            svc["auth_type"] = "AWS_IAM"
            svc["auth_policy"] = {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app-{(s + k) % n_roles:03d}"
                                                          for k in range(0, n_roles, 10)]},
                 "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
                 "Condition": {"StringEquals": {"vpc-lattice-svcs:RequestMethod": "GET"}}},
                {"Effect": "Deny", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
                 "Resource": "*/admin*"}]}
        services.append(svc)
        tgs.append({"name": tg, "type": "IP", "vpc": "targets", "protocol": "HTTP", "port": 8080,
                    "security_groups": ["targets-sg"],
                    "targets": [{"id": f"10.250.{s // 250}.{s % 250 + 1}", "az": "use1-az1"}]})
        members[s % n_networks].append(name)
        if s % 9 == 0:  # shared services sit in two networks
            members[(s + 1) % n_networks].append(name)
    networks = []
    for k in range(n_networks):
        sn: dict[str, Any] = {"name": f"net-{k}", "account": "bench", "services": members[k],
                              "vpc_associations": [{"vpc": f"vpc-{i:03d}", "security_groups": [f"assoc-{i:03d}"]}
                                                   for i in range(n_vpcs) if i % n_networks == k]}
        if k == 0:
            sn["auth_type"] = "AWS_IAM"
            sn["auth_policy"] = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                                                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}
        networks.append(sn)
    clients = []
    for c in range(n_clients):
        vpc = c % n_vpcs
        client: dict[str, Any] = {
            "name": f"c{c:04d}", "vpc": f"vpc-{vpc:03d}", "az": "use1-az1" if c % 2 else "use1-az2",
            "url": f"https://s{c % n_services:04d}.bench.internal",
            "security_groups": [f"app-{vpc:03d}"] if c % 3 else [],
            "requests": [{"method": "GET", "path": "/api/items", "weight": 8},
                         {"method": "POST", "path": "/api/orders", "weight": 2}]}
        if c % 10 != 9:
            client["principal"] = {"arn": f"arn:aws:iam::{ACCOUNT}:role/app-{c % n_roles:03d}",
                                   "org_id": ORG if c % 10 != 8 else None}
        clients.append(client)
    return {
        "name": "matrix-bench", "accounts": [{"id": ACCOUNT, "name": "bench", "org_id": ORG}],
        "vpcs": vpcs, "security_groups": sgs, "service_networks": networks, "services": services,
        "target_groups": tgs, "clients": clients,
        "quotas": {"target_groups_per_region": max(500, n_services),
                   "vpc_associations_per_service_network": max(500, -(-n_vpcs // n_networks)),
                   "service_associations_per_service_network": n_services,
                   "services_per_region": max(2000, n_services)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--services", type=int, default=2000)
    ap.add_argument("--vpcs", type=int, default=500, help="client VPCs (any number: second octets wrap at 250)")
    ap.add_argument("--roles", type=int, default=100)
    ap.add_argument("--csv", action="store_true", help="also time writing the CSV (to memory) and print its digest")
    ap.add_argument("--json", action="store_true", help="print the measurements as one JSON line at the end")
    args = ap.parse_args()

    from latsim.analysis.matrix import compute_matrix
    from latsim.analysis.matrix_output import write_csv
    from latsim.compile import Topology
    from latsim.scenario import scenario_from_data

    clock = time.process_time
    t0 = clock()
    data = topology(args.clients, args.services, args.vpcs, n_roles=args.roles)
    t1 = clock()
    scn = scenario_from_data(data)
    t2 = clock()
    topo = Topology(scn)
    t3 = clock()
    m = compute_matrix(topo)
    t4 = clock()
    out: dict[str, Any] = {"vpcs": args.vpcs, "roles": args.roles, "generate_s": round(t1 - t0, 2),
                           "validate_s": round(t2 - t1, 2), "compile_s": round(t3 - t2, 2),
                           "matrix_s": round(t4 - t3, 2)}
    print(f"CPU seconds: generate {t1 - t0:.2f}  validate {t2 - t1:.2f}  compile {t3 - t2:.2f}  "
          f"matrix {t4 - t3:.2f}  (compile + matrix {t4 - t2:.2f})")
    s = m.stats()
    out.update(cells=s["cells"], caller_groups=s["caller_groups"], routes=s["routes_evaluated"])
    print(f"{s['clients']} clients x {s['endpoints']} endpoints ({s['services']} services, {args.vpcs} VPCs) = "
          f"{s['cells']:,} cells; {s['caller_groups']} caller classes ({s['network_classes']} network x "
          f"{s['auth_classes']} auth), {s['routes_evaluated']:,} route decisions")
    print("verdicts:", ", ".join(f"{k} {v:,}" for k, v in s["by_verdict"].items()))
    if args.csv:
        buf = io.StringIO()
        t5 = clock()
        write_csv(m, buf)
        t6 = clock()
        text = buf.getvalue()
        out.update(csv_s=round(t6 - t5, 2), csv_sha256=hashlib.sha256(text.encode()).hexdigest())
        print(f"csv {t6 - t5:.2f} CPU s ({len(text) / 1e6:.0f} MB, sha256 {out['csv_sha256'][:16]})")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
