"""Accounts, VPCs, security groups and the network latencies between AZs."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from latsim.distributions import DistributionField
from latsim.model.base import Model, StrList, as_list, stable_hex

LATTICE_PREFIX_LIST = "vpc-lattice"
"""How a scenario names the Lattice managed prefix list (com.amazonaws.<region>.vpc-lattice)."""


class Account(Model):
    """An AWS account; referred to elsewhere by ``name`` or by ``id``."""

    id: str = Field(pattern=r"^\d{12}$", description="12-digit AWS account id")
    name: str | None = None
    org_id: str | None = Field(default=None, pattern=r"^o-[a-z0-9]{4,32}$")
    org_paths: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or self.id


class Vpc(Model):
    """A VPC: CIDRs may overlap with other VPCs (that is fine in Lattice)."""

    name: str
    id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    account: str
    cidr: StrList = Field(min_length=1)
    azs: StrList = Field(min_length=1)
    service_network_endpoints: list[str] = Field(
        default_factory=list,
        description="service networks this VPC reaches through SN-type VPC endpoints (PrivateLink)")
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("cidr")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for c in value:
            try:
                ipaddress.ip_network(str(c), strict=True)
            except ValueError as exc:
                raise ValueError(f"'{c}' is not a valid CIDR block: {exc}") from None
        return [str(c) for c in value]

    @property
    def vpc_id(self) -> str:
        return self.id or f"vpc-{stable_hex('vpc', self.account, self.name)}"

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(c) for c in self.cidr]


PortRange = tuple[int, int]


def _parse_ports(value: object) -> list[tuple[int, int]]:
    """443, '80-443', 'all', [80, 443, '8000-8100'] -> list of inclusive ranges."""
    items = as_list(value)
    out: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError("ports must be numbers or ranges like '8000-8100'")
        if isinstance(item, int):
            lo = hi = item
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in item):
                raise ValueError(f"a port range [lo, hi] holds two port numbers, got {item!r}")
            lo, hi = int(item[0]), int(item[1])
        elif isinstance(item, str):
            text = item.strip().lower()
            if text in ("all", "*", "-1"):
                lo, hi = 0, 65535
            elif "-" in text:
                a, _, b = text.partition("-")
                try:
                    lo, hi = int(a), int(b)
                except ValueError:
                    raise ValueError(f"'{item}' is not a port range (e.g. '8000-8100')") from None
            else:
                try:
                    lo = hi = int(text)
                except ValueError:
                    raise ValueError(f"'{item}' is not a port (0-65535) or range") from None
        else:
            raise ValueError("ports must be a port, a range 'lo-hi', 'all', or a list of them")
        if not (0 <= lo <= hi <= 65535):
            raise ValueError(f"port range {lo}-{hi} is outside 0-65535")
        out.append((lo, hi))
    return out


class SecurityGroupRule(Model):
    """One ingress or egress rule: protocol, port ranges and one peer.

    The peer is a CIDR (IPv4 or IPv6), another security group's name or id, or
    ``vpc-lattice`` for the Lattice managed prefix list.
    """

    protocol: Literal["tcp", "udp", "icmp", "all", "-1"] = "tcp"
    ports: Annotated[list[tuple[int, int]], BeforeValidator(_parse_ports), WithJsonSchema({
        "anyOf": [{"type": "integer"}, {"type": "string"},
                  {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"},
                                                        {"type": "array", "items": {"type": "integer"},
                                                         "minItems": 2, "maxItems": 2}]}}],
        "description": "443, '8000-8100', 'all', or a list of them"})] = Field(
        default_factory=lambda: [(0, 65535)])
    source: str | None = None
    destination: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_peer(self) -> SecurityGroupRule:
        if self.source is not None and self.destination is not None:
            raise ValueError("a rule has either 'source' (ingress) or 'destination' (egress), not both")
        return self

    @property
    def peer(self) -> str:
        return self.source if self.source is not None else (self.destination or "0.0.0.0/0")

    def covers_port(self, protocol: str, port: int) -> bool:
        if self.protocol not in ("all", "-1") and self.protocol != protocol:
            return False
        return any(lo <= port <= hi for lo, hi in self.ports)


class SecurityGroup(Model):
    """A security group. Ingress defaults to nothing; egress defaults to allow-all, as in AWS."""

    name: str
    id: str | None = Field(default=None, pattern=r"^sg-[0-9a-f]{8,17}$")
    vpc: str
    ingress: list[SecurityGroupRule] = Field(default_factory=list)
    egress: list[SecurityGroupRule] = Field(
        default_factory=lambda: [SecurityGroupRule(protocol="all", destination="0.0.0.0/0"),
                                 SecurityGroupRule(protocol="all", destination="::/0")])
    description: str | None = None

    @property
    def sg_id(self) -> str:
        return self.id or f"sg-{stable_hex('sg', self.vpc, self.name)}"


class Network(Model):
    """Hop latencies. Same-AZ and cross-AZ hops; optional overrides per hop kind."""

    same_az: DistributionField = Field(default="0.3ms", validate_default=True)
    cross_az: DistributionField = Field(default="1.1ms", validate_default=True)
    client_hop: DistributionField | None = Field(
        default=None, description="client -> Lattice entry (overrides same_az/cross_az for this hop)")
    target_hop: DistributionField | None = Field(
        default=None, description="Lattice -> target (overrides same_az/cross_az for this hop)")
    lattice_overhead: DistributionField = Field(
        default="0ms", validate_default=True,
        description="Lattice's own processing time per request (AWS publishes no figure)")
    alb_hop: DistributionField = Field(default="0.2ms", validate_default=True,
                                       description="extra hop inside an ALB target")
