"""Target groups, their health checks and their targets (with the behaviour latsim simulates)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from latsim.distributions import DistributionField
from latsim.model.base import Duration, Model, Percent, stable_hex
from latsim.model.calls import CallStep
from latsim.model.client import Principal

TargetGroupType = Literal["INSTANCE", "IP", "LAMBDA", "ALB"]
TargetGroupProtocol = Literal["HTTP", "HTTPS", "TCP"]
ProtocolVersion = Literal["HTTP1", "HTTP2", "GRPC"]

DEFAULT_LATENCY = {"lognormal": {"median": "20ms", "sigma": 0.5}}
DEFAULT_CONCURRENCY = 16


def _parse_matcher(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for part in str(text).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d{3})(?:-(\d{3}))?", part)
        if not m:
            raise ValueError(f"'{part}' is not an HTTP code or range like '200-299'")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (200 <= lo <= hi <= 499):
            raise ValueError(f"matcher codes must lie in 200-499, got '{part}'")
        out.append((lo, hi))
    return out


class HealthCheck(Model):
    """docs/lattice.md §4.2: ranges and defaults as AWS gives them. ``enabled`` None means the
    protocol's default (on for HTTP1, off for HTTP2/GRPC/TCP, unsupported for LAMBDA/ALB)."""

    enabled: bool | None = None
    protocol: Literal["HTTP", "HTTPS"] = "HTTP"
    protocol_version: Literal["HTTP1", "HTTP2"] = "HTTP1"
    port: int | None = Field(default=None, ge=0, le=65535)
    path: str = Field(default="/", max_length=2048)
    interval: Duration = Field(default=30.0, ge=5, le=300)
    timeout: Duration = Field(default=5.0, ge=1, le=120)
    healthy_threshold: int = Field(default=5, ge=2, le=10)
    unhealthy_threshold: int = Field(default=2, ge=2, le=10)
    matcher: str = "200"

    @field_validator("matcher", mode="before")
    @classmethod
    def _matcher(cls, value: object) -> str:
        text = str(value)
        _parse_matcher(text)
        return text

    def matcher_ranges(self) -> list[tuple[int, int]]:
        return _parse_matcher(self.matcher)


class ErrorInjection(Model):
    rate: Percent = Field(ge=0, le=1)
    status: int = Field(default=500, ge=100, le=599)


class Target(Model):
    """A registered target and how it behaves: a server with ``concurrency`` workers and a FIFO
    queue (``queue: null`` = unbounded), a service-time distribution, injected errors and a
    slowdown factor. Lambda targets add cold starts; ALB targets add a hop."""

    id: str
    az: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    ip: str | None = None
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=100_000)
    queue: int | None = Field(default=None, ge=0)
    latency: DistributionField = Field(default=DEFAULT_LATENCY, validate_default=True)
    errors: ErrorInjection | None = None
    slowdown: float = Field(default=1.0, gt=0)
    cold_start: DistributionField | None = Field(
        default=None, description="LAMBDA: extra latency when a new execution environment starts")
    idle_expiry: Duration = Field(default=600.0, description="LAMBDA: idle environments are reclaimed after this")
    security_groups: list[str] | None = Field(
        default=None, description="the target's own security groups; default: the target group's")
    health_status: int | None = Field(
        default=None, ge=100, le=599, description=(
            "the status the target answers its health-check path with (default: like any request, its "
            "errors included); lets a target pass its checks while failing real requests, or the other way"))


class TargetGroup(Model):
    name: str
    account: str | None = None
    id: str | None = Field(default=None, pattern=r"^tg-[0-9a-z]{17}$")
    type: TargetGroupType = "INSTANCE"
    vpc: str | None = None
    protocol: TargetGroupProtocol | None = None
    protocol_version: ProtocolVersion = "HTTP1"
    port: int | None = Field(default=None, ge=1, le=65535)
    ip_address_type: Literal["IPV4", "IPV6"] = "IPV4"
    security_groups: list[str] = Field(default_factory=list)
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    draining: Duration = Field(default=60.0, description="deregistration delay (AWS: 1 minute)")
    targets: list[Target] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    principal: Principal | None = Field(
        default=None, description="who the group's code is when it calls other services (signs its calls); "
        "omit for anonymous calls")
    calls: list[CallStep] = Field(
        default_factory=list, description="the work the group's code does for one request: work, call and "
        "parallel steps, in order; replaces the targets' latency")

    @model_validator(mode="after")
    def _type_rules(self) -> TargetGroup:
        if self.type == "LAMBDA" and self.protocol is not None:
            raise ValueError("a LAMBDA target group has no protocol")
        return self

    @property
    def tg_id(self) -> str:
        return self.id or f"tg-{stable_hex('tg', self.account or '', self.name)}"

    @property
    def effective_protocol(self) -> str:
        return self.protocol or ("HTTP" if self.type != "LAMBDA" else "LAMBDA")

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 443 if self.protocol == "HTTPS" else 80

    @property
    def health_check_enabled(self) -> bool:
        if self.type in ("LAMBDA", "ALB"):
            return False
        if self.health_check.enabled is not None:
            return self.health_check.enabled
        return self.protocol_version == "HTTP1" and self.effective_protocol != "TCP"
