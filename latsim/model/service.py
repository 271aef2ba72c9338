"""Services, listeners and listener rules (matches and actions), as docs/lattice.md §2-§3 describe."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from latsim.model.base import Duration, Model, stable_hex

AuthType = Literal["NONE", "AWS_IAM"]
ListenerProtocol = Literal["HTTP", "HTTPS", "TLS_PASSTHROUGH"]
RULE_PRIORITY_RANGE = (1, 2000)
WEIGHT_RANGE = (0, 999)
NAME_PATTERN = r"^(?!-)(?!.*--)[a-z0-9-]+(?<!-)$"
PATH_PATTERN = r"^/[A-Za-z0-9@:%_+.~#?&/=\-]*$"


class PathMatch(Model):
    """Exactly one of ``exact`` or ``prefix``; case-sensitive unless told otherwise."""

    exact: str | None = Field(default=None, min_length=1, max_length=200, pattern=PATH_PATTERN)
    prefix: str | None = Field(default=None, min_length=1, max_length=200, pattern=PATH_PATTERN)
    case_sensitive: bool = Field(
        default=False, description="AWS console and Terraform: not case-sensitive by default (see README)")

    @model_validator(mode="after")
    def _exactly_one(self) -> PathMatch:
        if (self.exact is None) == (self.prefix is None):
            raise ValueError("a path match needs exactly one of 'exact' or 'prefix'")
        return self


class HeaderMatch(Model):
    """A header condition: ``exact``, ``prefix`` or ``contains``; case-insensitive by default."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    exact: str | None = Field(default=None, min_length=1, max_length=200)
    prefix: str | None = Field(default=None, min_length=1, max_length=200)
    contains: str | None = Field(default=None, min_length=1, max_length=200)
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> HeaderMatch:
        given = [k for k in ("exact", "prefix", "contains") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a header match needs exactly one of 'exact', 'prefix' or 'contains'")
        return self


class Match(Model):
    """An httpMatch: all given conditions are ANDed; at least one is required."""

    method: str | None = Field(default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z]+$")
    path: PathMatch | None = None
    headers: list[HeaderMatch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if self.method is None and self.path is None and not self.headers:
            raise ValueError("a rule match needs at least one of 'method', 'path' or 'headers'")
        return self


class WeightedTargetGroup(Model):
    target_group: str
    weight: int | None = Field(default=None, ge=WEIGHT_RANGE[0], le=WEIGHT_RANGE[1])


class Action(Model):
    """Either ``forward`` to 1-10 weighted target groups or a ``fixed_response`` (404 or 500)."""

    forward: list[WeightedTargetGroup] | None = None
    fixed_response: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `forward: checkout-v1` and `forward: {target_group: x}` are accepted for one group.
        if isinstance(data, dict) and "forward" in data:
            fwd = data["forward"]
            if isinstance(fwd, str):
                data = {**data, "forward": [{"target_group": fwd}]}
            elif isinstance(fwd, dict):
                data = {**data, "forward": [fwd]}
        if isinstance(data, dict) and isinstance(data.get("fixed_response"), dict):
            data = {**data, "fixed_response": data["fixed_response"].get("status_code")}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        if (self.forward is None) == (self.fixed_response is None):
            raise ValueError("an action needs exactly one of 'forward' or 'fixed_response'")
        return self

    @property
    def weights(self) -> dict[str, int]:
        """Target group -> weight (a single group without a weight counts as weight 1)."""
        if not self.forward:
            return {}
        if len(self.forward) == 1 and self.forward[0].weight is None:
            return {self.forward[0].target_group: 1}
        return {f.target_group: (f.weight if f.weight is not None else 1) for f in self.forward}


class Rule(Model):
    """A non-default listener rule: priority 1-2000 (unique per listener), a match and an action."""

    name: str
    priority: int
    match: Match
    action: Action


class Listener(Model):
    name: str | None = None
    protocol: ListenerProtocol = "HTTPS"
    port: int | None = None
    default_action: Action
    rules: list[Rule] = Field(default_factory=list)

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 80 if self.protocol == "HTTP" else 443

    @property
    def listener_name(self) -> str:
        return self.name or f"{self.protocol.lower().replace('_', '-')}-{self.effective_port}"

    def sorted_rules(self) -> list[Rule]:
        return sorted(self.rules, key=lambda r: r.priority)


class Service(Model):
    name: str
    account: str
    id: str | None = Field(default=None, pattern=r"^svc-[0-9a-z]{17}$")
    custom_domain: str | None = Field(default=None, max_length=255)
    certificate_arn: str | None = None
    auth_type: AuthType = "NONE"
    auth_policy: dict[str, Any] | str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    idle_timeout: Duration = Field(default=60.0, description="connection idle timeout (60s-600s)")
    listeners: list[Listener] = Field(default_factory=list)

    @property
    def service_id(self) -> str:
        return self.id or f"svc-{stable_hex('svc', self.account, self.name)}"
