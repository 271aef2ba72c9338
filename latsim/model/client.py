"""Clients: where they sit (VPC, AZ), who they are (principal), what they send and how often
(arrival process, request mix) and how they cope (timeout, retries)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from latsim.distributions import DistributionField, SizeDistributionField
from latsim.model.base import Duration, Model, Rate


class Principal(Model):
    """A signed (SigV4) caller. Omit the principal for unsigned (anonymous) requests."""

    arn: str = Field(pattern=r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$")
    org_id: str | None = None
    org_paths: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    session_name: str | None = None
    identity_policy: dict[str, Any] | str | None = Field(
        default=None, description="the principal's IAM identity policy; absent: assumed to allow Invoke")

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


class Stage(Model):
    duration: Duration
    target: Rate


class Step(Model):
    at: Duration
    rate: Rate


class Ramp(Model):
    start: Rate = Field(alias="from")
    to: Rate
    over: Duration


class Diurnal(Model):
    mean: Rate
    peak: Rate
    period: Duration = 86400.0
    phase: Duration = Field(default=0.0, description="time of the first peak")


class Bursts(Model):
    """A two-state Markov-modulated Poisson process: ``rate`` while on, ``base`` while off."""

    rate: Rate
    base: Rate = 0.0
    on: Duration
    off: Duration
    random: bool = Field(default=True, description="exponential on/off periods (MMPP); false: fixed")


class Closed(Model):
    users: int = Field(ge=1, le=1_000_000)
    think: DistributionField = Field(default="0s", validate_default=True)


class Replay(Model):
    file: str
    format: Literal["csv", "access_log"] | None = None
    speed: float = Field(default=1.0, gt=0)
    loop: bool = False

    @field_validator("file")
    @classmethod
    def _no_url(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("a replay file is a local path relative to the scenario, never a URL")
        return value


ARRIVAL_KINDS = ("poisson", "constant", "ramp", "stages", "steps", "diurnal", "bursts", "closed", "replay")


class Arrival(Model):
    """Exactly one arrival process (k6 vocabulary where it exists)."""

    poisson: Rate | None = None
    constant: Rate | None = None
    ramp: Ramp | None = None
    stages: list[Stage] | None = None
    steps: list[Step] | None = None
    diurnal: Diurnal | None = None
    bursts: Bursts | None = None
    closed: Closed | None = None
    replay: Replay | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Arrival:
        given = [k for k in ARRIVAL_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an arrival needs exactly one of {', '.join(ARRIVAL_KINDS)}")
        for name in ("poisson", "constant"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} rate must be >= 0")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ARRIVAL_KINDS if getattr(self, k) is not None)


class RequestSpec(Model):
    """One entry of a client's request mix."""

    weight: float = Field(default=1.0, ge=0)
    method: str = Field(default="GET", min_length=1, max_length=16)
    path: str = Field(default="/", pattern=r"^/")
    url: str | None = Field(default=None, description="override the client's url for this entry")
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str | list[str]] = Field(default_factory=dict)
    body: SizeDistributionField = Field(default=0, validate_default=True)
    response: SizeDistributionField = Field(default="1KB", validate_default=True)
    protocol: Literal["HTTP/1.1", "HTTP/2", "gRPC"] = "HTTP/1.1"
    name: str | None = None


RetryOn = Literal["5xx", "429", "4xx", "connect_error", "timeout"]
DEFAULT_RETRY_ON: tuple[RetryOn, ...] = ("5xx", "429", "connect_error", "timeout")


class RetryPolicy(Model):
    """Client retries with exponential backoff and jitter (AWS SDK style)."""

    max: int = Field(default=0, ge=0, le=100)
    backoff: Duration = 0.05
    multiplier: float = Field(default=2.0, ge=1)
    max_backoff: Duration = 20.0
    jitter: Literal["none", "full", "equal"] = "full"
    on: list[RetryOn] = Field(default_factory=lambda: list(DEFAULT_RETRY_ON))


class Client(Model):
    name: str
    vpc: str
    az: str
    principal: Principal | None = None
    source_ip: str | None = None
    security_groups: list[str] = Field(default_factory=list)
    url: str
    arrival: Arrival = Field(default_factory=lambda: Arrival(poisson=10.0))
    requests: list[RequestSpec] = Field(default_factory=lambda: [RequestSpec()])
    timeout: Duration = Field(default=10.0, gt=0)
    retries: RetryPolicy = Field(default_factory=RetryPolicy)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        if parts.scheme not in ("http", "https", "grpc", "grpcs", "tcp", "tls"):
            raise ValueError(f"url scheme '{parts.scheme}' is not one of http, https, grpc, grpcs, tls, tcp")
        if not parts.hostname:
            raise ValueError("url needs a host name, e.g. https://checkout.shop.internal")
        return value


def split_url(url: str) -> tuple[str, str, int, str]:
    """-> (scheme, host, port, path); default ports 80 (http) and 443 (https, grpc, tls)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    scheme = parts.scheme
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 80 if scheme == "http" else 443
    path = parts.path or "/"
    return scheme, host, port, path
