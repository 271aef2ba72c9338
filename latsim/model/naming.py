"""Names AWS would give: ARNs, generated service DNS names, link-local service addresses."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from latsim.model.base import stable_hex

if TYPE_CHECKING:
    from latsim.model.scenario_fields import ScenarioFields
    from latsim.model.service import Listener, Service
    from latsim.model.service_network import ServiceNetwork
    from latsim.model.target_group import TargetGroup

LINK_LOCAL_V4 = ipaddress.ip_network("169.254.171.0/24")
LINK_LOCAL_V6 = ipaddress.ip_network("fd00:ec2:80::/64")


def partition_id(scn: ScenarioFields, account_id: str) -> str:
    return stable_hex("partition", scn.region, account_id, length=7)


def service_dns_name(scn: ScenarioFields, svc: Service) -> str:
    """``<name>-<id digits>.<partition>.vpc-lattice-svcs.<region>.on.aws`` (docs/lattice.md §1.3)."""
    acct = scn.index.account_id(svc.account)
    return f"{svc.name}-{svc.service_id[4:]}.{partition_id(scn, acct)}.vpc-lattice-svcs.{scn.region}.on.aws"


def service_hosts(scn: ScenarioFields) -> dict[str, str]:
    """Every host name a service answers to (its generated DNS name, its custom domain) -> the
    service: what a caller's URL resolves through."""
    hosts: dict[str, str] = {}
    for svc in scn.services:
        hosts[service_dns_name(scn, svc)] = svc.name
        if svc.custom_domain:
            hosts[svc.custom_domain.lower().rstrip(".")] = svc.name
    return hosts


def service_arn(scn: ScenarioFields, svc: Service) -> str:
    return f"arn:aws:vpc-lattice:{scn.region}:{scn.index.account_id(svc.account)}:service/{svc.service_id}"


def listener_id(svc: Service, lst: Listener) -> str:
    return f"listener-{stable_hex('listener', svc.service_id, lst.listener_name)}"


def listener_arn(scn: ScenarioFields, svc: Service, lst: Listener) -> str:
    return f"{service_arn(scn, svc)}/listener/{listener_id(svc, lst)}"


def service_network_arn(scn: ScenarioFields, sn: ServiceNetwork) -> str:
    return f"arn:aws:vpc-lattice:{scn.region}:{scn.index.account_id(sn.account)}:servicenetwork/{sn.sn_id}"


def target_group_arn(scn: ScenarioFields, tg: TargetGroup) -> str:
    acct = scn.index.tg_account(tg, scn) or "000000000000"
    return f"arn:aws:vpc-lattice:{scn.region}:{acct}:targetgroup/{tg.tg_id}"


def vpc_arn(scn: ScenarioFields, vpc_name: str) -> str:
    vpc = scn.index.vpcs[vpc_name]
    return f"arn:aws:ec2:{scn.region}:{scn.index.account_id(vpc.account)}:vpc/{vpc.vpc_id}"


def service_address(svc: Service, az: str, ipv6: bool = False) -> str:
    """The link-local address a client in ``az`` resolves for ``svc`` (stable per service and AZ)."""
    h = int(stable_hex("addr", svc.service_id, az, length=8), 16)
    if ipv6:
        return str(LINK_LOCAL_V6[(h % (2**32 - 2)) + 1])
    return str(LINK_LOCAL_V4[(h % 254) + 1])
