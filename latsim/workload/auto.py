"""``--workload auto``: a documented default workload for a topology that has none (an import).

One client per VPC that reaches a service network (by association or service-network endpoint)
and per AZ of that VPC, named ``auto-<vpc>-<az>``. Each calls every service that it can resolve --
the services of the service networks its VPC reaches, decided by ``Topology.networks_of``, the
same function the engine resolves DNS with -- in equal shares: one request entry per service and
listener, ``GET /`` to the service's DNS name (its custom domain when it has one) on the listener's
protocol and port. The arrival process is Poisson at ``rate`` per client (default 10/s).

A client signs its requests (SigV4) as the role ``latsim-auto`` of its VPC's account (with the
account's organization, when the scenario names it), so services with ``AWS_IAM`` auth see an
authenticated caller of that account; whether the auth policies let it in is then up to them.
Clients carry no security groups (no client-side filtering). Clients that the scenario already has
are kept; an ``auto-…`` client of the same name is replaced.
"""

from __future__ import annotations

from typing import Any

from latsim.errors import UsageError
from latsim.units import parse_rate

DEFAULT_RATE = "10/s"
AUTO_ROLE = "latsim-auto"


def _scheme(protocol: str) -> tuple[str, int]:
    return {"HTTP": ("http", 80), "HTTPS": ("https", 443), "TLS_PASSTHROUGH": ("tls", 443)}.get(protocol,
                                                                                              ("https", 443))


def auto_clients(scn: Any, rate: str = DEFAULT_RATE) -> list[dict[str, Any]]:
    """The auto workload of a validated scenario, as scenario-shaped client dicts."""
    from latsim.compile import Topology
    try:
        per_second = parse_rate(rate)
    except ValueError as exc:
        raise UsageError(f"--rate {rate!r}: {exc} (e.g. 10/s, 600/m)") from None
    if per_second <= 0:
        raise UsageError(f"--rate {rate!r}: the rate must be above 0")
    topo = Topology(scn)
    ix = scn.index
    out: list[dict[str, Any]] = []
    for vpc in scn.vpcs:
        services: list[str] = []
        for net, _via in topo.networks_of(vpc.name):
            for name in sorted(net.services):
                if name in topo.services and name not in services:
                    services.append(name)
        if not services:
            continue
        requests: list[dict[str, Any]] = []
        for name in services:
            svc = topo.services[name]
            host = svc.model.custom_domain or svc.dns_name
            for port, lst in sorted(svc.listeners.items()):
                scheme, default_port = _scheme(lst.protocol)
                url = f"{scheme}://{host}" + ("" if port == default_port else f":{port}") + "/"
                requests.append({"name": f"{name}/{lst.name}", "weight": 1, "url": url})
        if not requests:
            continue
        acct = ix.accounts.get(vpc.account)
        account_id = ix.account_id(vpc.account)
        principal: dict[str, Any] = {"arn": f"arn:aws:sts::{account_id}:assumed-role/{AUTO_ROLE}/{vpc.name}"}
        if acct is not None and acct.org_id:
            principal["org_id"] = acct.org_id
        for az in vpc.azs:
            out.append({"name": f"auto-{vpc.name}-{az}", "vpc": vpc.name, "az": az, "principal": principal,
                        "url": requests[0]["url"], "arrival": {"poisson": rate}, "requests": requests})
    return out


def with_auto_workload(data: dict[str, Any], rate: str = DEFAULT_RATE) -> dict[str, Any]:
    """Scenario data plus its auto workload (validated first, so the decision tables are the engine's)."""
    from latsim.scenario import scenario_from_data
    scn = scenario_from_data(data)
    clients = auto_clients(scn, rate)
    names = {c["name"] for c in clients}
    kept = [c for c in data.get("clients") or [] if not (isinstance(c, dict) and c.get("name") in names)]
    return {**data, "clients": kept + clients}


__all__ = ["AUTO_ROLE", "DEFAULT_RATE", "auto_clients", "with_auto_workload"]
