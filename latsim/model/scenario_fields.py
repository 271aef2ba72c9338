"""A scenario's fields and lookups by name, before the checks that tie its nouns together.

``latsim.model.scenario.Scenario`` adds those checks (``latsim.model.validate``). The modules
that the checks use (``validate``, ``naming``) type their argument with ``ScenarioFields``, so
that nothing below ``Scenario`` imports it back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, field_validator

from latsim.model.base import Duration, Model, Percent
from latsim.model.client import Client
from latsim.model.network import Account, Network, SecurityGroup, Vpc
from latsim.model.quotas import DEFAULT_QUOTAS
from latsim.model.service import Service
from latsim.model.service_network import ServiceNetwork
from latsim.model.target_group import TargetGroup
from latsim.model.timeline import Canary, Slo, TimelineEvent


class Assumptions(Model):
    """Behaviours AWS does not document (docs/lattice.md §13): latsim's choice, configurable."""

    all_zero_weights: Literal["fixed_500", "equal_split"] = Field(
        default="fixed_500", description="a forward action whose weights are all 0")
    queue_overflow_status: int = Field(default=503, ge=500, le=599,
                                       description="status the target answers when its queue is full (the "
                                                   "target's own, not a Lattice-generated code)")
    target_connection_error_status: int = Field(default=500, ge=500, le=599,
                                                description="status when Lattice cannot connect to a target")
    target_connect_timeout: Duration = Field(
        default=1.0, description="how long Lattice waits for a target that does not answer a connection")
    target_timeout_status: int = Field(default=504, ge=500, le=599)
    rate_limit_status: int = Field(default=429, ge=400, le=599)
    rate_limit: bool = Field(default=True, description="enforce requests/s per service per AZ")
    lattice_retries: int = Field(default=0, ge=0, le=5, description="Lattice retries toward targets")
    identity_default_allow: bool = Field(
        default=True, description="a signed principal without a declared identity policy may Invoke")
    association_sg_block: Literal["silent_drop"] = "silent_drop"
    shared_instances: bool = Field(
        default=True, description=("one instance (or IP address in one VPC) registered in several target groups or "
                                   "ports is one machine: its workers and queue are shared; false: one per "
                                   "registration"))


class AccessLogs(Model):
    enabled: bool = True
    services: list[str] = Field(default_factory=list, description="empty: every service")
    service_networks: list[str] = Field(default_factory=list)
    gzip: bool = False
    sample: Percent = Field(default=1.0, gt=0, le=1)
    layout: Literal["flat", "s3"] = "flat"


class ScenarioFields(Model):
    """Every field of a scenario and its lookups; ``Scenario`` is what users build."""

    name: str = "scenario"
    description: str | None = None
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    duration: Duration = Field(default=60.0, gt=0)
    warmup: Duration = Field(default=0.0, ge=0)
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    start_time: datetime = Field(default=datetime(2026, 1, 1, tzinfo=UTC),
                                 description="simulated wall-clock time at t=0 (access logs)")
    accounts: list[Account] = Field(default_factory=list)
    vpcs: list[Vpc] = Field(default_factory=list)
    security_groups: list[SecurityGroup] = Field(default_factory=list)
    service_networks: list[ServiceNetwork] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    target_groups: list[TargetGroup] = Field(default_factory=list)
    clients: list[Client] = Field(default_factory=list)
    network: Network = Field(default_factory=Network)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    canaries: list[Canary] = Field(default_factory=list)
    slo: list[Slo] = Field(default_factory=list)
    quotas: dict[str, int] = Field(default_factory=dict)
    assumptions: Assumptions = Field(default_factory=Assumptions)
    access_logs: AccessLogs | None = None
    assertions: list[dict[str, Any]] = Field(default_factory=list)
    study: dict[str, Any] | None = None

    @field_validator("start_time", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("quotas")
    @classmethod
    def _known_quotas(cls, value: dict[str, int]) -> dict[str, int]:
        from latsim.errors import suggest
        for key, v in value.items():
            if key not in DEFAULT_QUOTAS:
                hint = suggest(key, DEFAULT_QUOTAS) or f"known quotas: {', '.join(sorted(DEFAULT_QUOTAS))}"
                raise ValueError(f"unknown quota '{key}'; {hint}")
            if v < 0:
                raise ValueError(f"quota '{key}' must be >= 0")
        return value

    # -- lookups ---------------------------------------------------------------------------
    def quota(self, name: str) -> int:
        return self.quotas.get(name, DEFAULT_QUOTAS[name])

    @cached_property
    def index(self) -> ScenarioIndex:
        return ScenarioIndex(self)

    def summary_line(self) -> str:
        n_targets = sum(len(tg.targets) for tg in self.target_groups)
        n_listeners = sum(len(s.listeners) for s in self.services)
        n_rules = sum(len(lst.rules) for s in self.services for lst in s.listeners)
        counts = [(len(self.accounts), "account"), (len(self.vpcs), "VPC"),
                  (len(self.service_networks), "service network"), (len(self.services), "service"),
                  (n_listeners, "listener"), (n_rules, "rule"), (len(self.target_groups), "target group"),
                  (n_targets, "target"), (len(self.clients), "client"), (len(self.timeline), "timeline event")]
        return ", ".join(plural(n, noun) for n, noun in counts)


class ScenarioIndex:
    """Name -> object lookups (accounts by name or id, security groups by name or id, ...)."""

    def __init__(self, scn: ScenarioFields) -> None:
        self.accounts: dict[str, Account] = {}
        for a in scn.accounts:
            self.accounts[a.id] = a
            if a.name:
                self.accounts[a.name] = a
        self.vpcs: dict[str, Vpc] = {}
        for v in scn.vpcs:
            self.vpcs[v.name] = v
            self.vpcs[v.vpc_id] = v
        self.security_groups: dict[str, SecurityGroup] = {}
        for sg in scn.security_groups:
            self.security_groups[sg.name] = sg
            self.security_groups[sg.sg_id] = sg
        self.service_networks = {sn.name: sn for sn in scn.service_networks}
        self.services = {s.name: s for s in scn.services}
        self.target_groups = {tg.name: tg for tg in scn.target_groups}
        self.clients = {c.name: c for c in scn.clients}
        self.targets: dict[str, tuple[TargetGroup, int]] = {}
        for tg in scn.target_groups:
            for i, t in enumerate(tg.targets):
                self.targets.setdefault(t.id, (tg, i))

    def account_id(self, ref: str) -> str:
        acct = self.accounts.get(ref)
        return acct.id if acct else ref

    def tg_account(self, tg: TargetGroup, scn: ScenarioFields) -> str | None:
        """A target group's account: its own, else its VPC's, else the service's that uses it."""
        if tg.account:
            return self.account_id(tg.account)
        if tg.vpc and tg.vpc in self.vpcs:
            return self.account_id(self.vpcs[tg.vpc].account)
        for svc in scn.services:
            for lst in svc.listeners:
                actions = [lst.default_action] + [r.action for r in lst.rules]
                if any(tg.name in a.weights for a in actions):
                    return self.account_id(svc.account)
        return None


def plural(n: int, noun: str) -> str:
    """``1 account``, ``2 accounts`` (every noun of an inventory takes a plain -s)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
