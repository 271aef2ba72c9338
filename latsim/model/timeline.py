"""Timeline events (changes and faults at a simulated time) and progressive canaries."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from latsim.distributions import DistributionField
from latsim.model.base import Duration, Model, Percent, Rate
from latsim.model.target_group import Target


class SetWeights(Model):
    service: str
    listener: str | None = None
    rule: str = Field(default="default", description="a rule name, or 'default' for the default action")
    weights: dict[str, int]


class InjectLatency(Model):
    target_group: str | None = None
    targets: list[str] = Field(default_factory=list)
    add: DistributionField | None = None
    factor: float = Field(default=1.0, gt=0)


class InjectErrors(Model):
    target_group: str | None = None
    targets: list[str] = Field(default_factory=list)
    rate: Percent = Field(ge=0, le=1)
    status: int = Field(default=500, ge=100, le=599)


class RegisterTargets(Model):
    target_group: str
    targets: list[Target]


class DeregisterTargets(Model):
    target_group: str
    targets: list[str]


class SetAuthPolicy(Model):
    service: str | None = None
    service_network: str | None = None
    auth_type: str | None = None
    policy: dict[str, Any] | str | None = None

    @model_validator(mode="after")
    def _one_owner(self) -> SetAuthPolicy:
        if (self.service is None) == (self.service_network is None):
            raise ValueError("set_auth_policy needs exactly one of 'service' or 'service_network'")
        if self.auth_type is not None and self.auth_type not in ("NONE", "AWS_IAM"):
            raise ValueError("auth_type must be NONE or AWS_IAM")
        return self


class SetRate(Model):
    client: str
    rate: Rate


class VpcAssociationChange(Model):
    service_network: str
    vpc: str
    security_groups: list[str] = Field(default_factory=list)


EVENT_KINDS = ("set_weights", "fail_az", "recover_az", "fail_targets", "recover_targets",
               "inject_latency", "inject_errors", "register_targets", "deregister_targets",
               "set_auth_policy", "set_rate", "associate_vpc", "disassociate_vpc")


class TimelineEvent(Model):
    """At ``at``, one change; with ``for`` a fault or injection is undone after that long."""

    at: Duration = Field(ge=0)
    for_: Duration | None = Field(default=None, alias="for", gt=0)
    set_weights: SetWeights | None = None
    fail_az: str | None = None
    recover_az: str | None = None
    fail_targets: list[str] | None = None
    recover_targets: list[str] | None = None
    inject_latency: InjectLatency | None = None
    inject_errors: InjectErrors | None = None
    register_targets: RegisterTargets | None = None
    deregister_targets: DeregisterTargets | None = None
    set_auth_policy: SetAuthPolicy | None = None
    set_rate: SetRate | None = None
    associate_vpc: VpcAssociationChange | None = None
    disassociate_vpc: VpcAssociationChange | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TimelineEvent:
        given = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a timeline event needs exactly one of {', '.join(EVENT_KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EVENT_KINDS if getattr(self, k) is not None)


class CanaryChecks(Model):
    success_rate: Percent | None = Field(default=None, ge=0, le=1)
    p99: Duration | None = None
    p90: Duration | None = None
    mean: Duration | None = None
    min_requests: int = Field(default=20, ge=0)


class Canary(Model):
    """A progressive canary (Flagger/Argo dialect) on one rule or the default action.

    Weights are percentages of the rule's traffic sent to the canary group; every ``interval``
    the controller checks the canary's metrics over that interval: pass -> next step, fail ->
    count a failure (``failure_limit`` failures roll back to 0), too few requests -> inconclusive
    (counts neither). After the last step the canary is promoted to 100 %."""

    name: str
    service: str
    listener: str | None = None
    rule: str = "default"
    primary: str
    canary: str
    start: Duration = 0.0
    interval: Duration = 60.0
    step_weight: int | None = Field(default=None, ge=1, le=100)
    steps: list[int] | None = None
    max_weight: int = Field(default=50, ge=1, le=100)
    checks: CanaryChecks = Field(default_factory=CanaryChecks)
    failure_limit: int = Field(default=1, ge=1)
    promote: bool = True

    @model_validator(mode="after")
    def _plan(self) -> Canary:
        if self.steps is None and self.step_weight is None:
            raise ValueError("a canary needs 'step_weight' or an explicit 'steps' list")
        if self.steps is not None and any(not (0 <= w <= 100) for w in self.steps):
            raise ValueError("canary steps are percentages between 0 and 100")
        return self

    def plan(self) -> list[int]:
        if self.steps is not None:
            return list(self.steps)
        assert self.step_weight is not None
        out, w = [], self.step_weight
        while w < self.max_weight:
            out.append(w)
            w += self.step_weight
        out.append(self.max_weight)
        return out


class Slo(Model):
    """A service-level objective on one service, client or target group."""

    name: str | None = None
    service: str | None = None
    client: str | None = None
    target_group: str | None = None
    p50: Duration | None = None
    p90: Duration | None = None
    p99: Duration | None = None
    p999: Duration | None = None
    mean: Duration | None = None
    error_rate: Percent | None = Field(default=None, ge=0, le=1, description=(
        "what callers experience: every response that is not 2xx/3xx, connection failures, client timeouts"))
    server_error_rate: Percent | None = Field(default=None, ge=0, le=1, description="5xx responses only")
    availability: Percent | None = Field(default=None, ge=0, le=1)
    min_throughput: Rate | None = None
    window: Duration | None = Field(default=None, description="every window of this length must hold")

    @model_validator(mode="after")
    def _subject(self) -> Slo:
        subjects = [k for k in ("service", "client", "target_group") if getattr(self, k) is not None]
        if len(subjects) != 1:
            raise ValueError("an SLO names exactly one of 'service', 'client' or 'target_group'")
        bounds = ("p50", "p90", "p99", "p999", "mean", "error_rate", "server_error_rate", "availability",
                  "min_throughput")
        if all(getattr(self, k) is None for k in bounds):
            raise ValueError(f"an SLO needs at least one bound: {', '.join(bounds)}")
        return self

    @property
    def subject(self) -> tuple[str, str]:
        for k in ("service", "client", "target_group"):
            v = getattr(self, k)
            if v is not None:
                return k, v
        raise AssertionError("unreachable")

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        kind, name = self.subject
        return f"{kind}:{name}"
