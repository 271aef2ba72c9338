"""The assertions of a scenario (``assertions:``, ``latsim verify``): their vocabulary, validated
against the scenario's names. ``latsim.analysis.verify`` checks them over every request class.

Each assertion has an optional ``name`` and exactly one property -- ``no_access``, ``only``,
``always_forwarded``, ``never_denied``, ``never_reaches``, ``only_through`` -- whose selector says
which services, requests and callers it is about (see ``latsim.analysis.verify`` for what each
property means).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from latsim.errors import Location, Problem, ScenarioError, suggest
from latsim.model.base import Model
from latsim.model.scenario import Scenario

KINDS = ("no_access", "only", "always_forwarded", "never_denied", "never_reaches", "only_through")
PRINCIPAL_WORDS = ("anonymous", "signed", "any", "*", "org", "outside-org")


def _as_list(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    return [value]


class Selector(Model):
    """Which services, requests and callers a property is about."""

    service: list[str] | None = Field(default=None, description="service name(s); default: every service")
    services: list[str] | None = None
    listener: str | None = None
    target_group: str | None = Field(default=None, description="access means: forwarded to this target group")
    path_prefix: str | None = Field(default=None, pattern=r"^/")
    path: str | None = Field(default=None, pattern=r"^/")
    method: list[str] | None = None
    methods: list[str] | None = None
    vpcs: list[str] | None = None
    clients: list[str] | None = None
    principal: list[str] | None = None
    principals: list[str] | None = None

    client: list[str] | None = Field(default=None, description="the same as clients (one or a list)")

    @field_validator("service", "services", "method", "methods", "vpcs", "clients", "client", "principal",
                     "principals", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @property
    def client_names(self) -> list[str] | None:
        if self.clients is None and self.client is None:
            return None
        return list(self.clients or []) + list(self.client or [])

    @model_validator(mode="after")
    def _one_path(self) -> Selector:
        if self.path is not None and self.path_prefix is not None:
            raise ValueError("give either 'path' or 'path_prefix', not both")
        return self

    @field_validator("principal", "principals")
    @classmethod
    def _principals(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            text = str(item)
            if text.lower() in PRINCIPAL_WORDS or text.startswith("org:o-") or text.startswith("arn:aws") or \
                    (text.isdigit() and len(text) == 12):
                continue
            hint = suggest(text.lower(), PRINCIPAL_WORDS)
            raise ValueError(f"'{text}' is not a principal selector"
                             + (f"; {hint}" if hint else "")
                             + " (anonymous, signed, any, org, org:o-..., outside-org, an IAM ARN or an account id)")
        return value

    @property
    def service_names(self) -> list[str] | None:
        if self.service is None and self.services is None:
            return None
        return list(self.service or []) + list(self.services or [])

    @property
    def method_names(self) -> list[str] | None:
        if self.method is None and self.methods is None:
            return None
        return list(self.method or []) + list(self.methods or [])

    @property
    def principal_items(self) -> list[str] | None:
        if self.principal is None and self.principals is None:
            return None
        return list(self.principal or []) + list(self.principals or [])

    @property
    def selects_callers(self) -> bool:
        return self.vpcs is not None or self.client_names is not None or self.principal_items is not None


class OnlySelector(Selector):
    """``only``: the services are ``reach``; the callers listed are the only ones allowed."""

    reach: list[str] = Field(min_length=1)

    @field_validator("reach", mode="before")
    @classmethod
    def _reach_list(cls, value: Any) -> Any:
        return _as_list(value)

    @model_validator(mode="after")
    def _someone(self) -> OnlySelector:
        if not self.selects_callers:
            raise ValueError("'only' needs vpcs, clients or principals: the callers allowed to reach the service")
        if self.service_names is not None:
            raise ValueError("'only' names its services with 'reach'")
        return self


class NeverReaches(Model):
    """``never_reaches``: the callers (clients or target groups) and the service(s) they must not reach."""

    from_: list[str] = Field(alias="from", min_length=1, description="clients or target groups")
    service: list[str] | None = Field(default=None, description="the service(s) never reached")
    services: list[str] | None = None

    @field_validator("from_", "service", "services", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @model_validator(mode="after")
    def _some_service(self) -> NeverReaches:
        if not self.service_names:
            raise ValueError("needs 'service': the service the chains are about")
        return self

    @property
    def service_names(self) -> list[str]:
        return list(self.service or []) + list(self.services or [])


class OnlyThrough(NeverReaches):
    """``only_through``: chains that reach the service pass through the code of ``through``."""

    from_: list[str] = Field(default_factory=list, alias="from",
                             description="clients or target groups; default: every client and calling target group")
    through: list[str] = Field(min_length=1, description="the target groups whose code alone may reach the service")

    @field_validator("through", mode="before")
    @classmethod
    def _through_list(cls, value: Any) -> Any:
        return _as_list(value)


class Assertion(Model):
    """One property; exactly one of no_access, only, always_forwarded, never_denied, never_reaches,
    only_through."""

    name: str | None = None
    no_access: Selector | None = None
    only: OnlySelector | None = None
    always_forwarded: Selector | None = None
    never_denied: Selector | None = None
    never_reaches: NeverReaches | None = None
    only_through: OnlyThrough | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Assertion:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an assertion needs exactly one of {', '.join(KINDS)}"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def selector(self) -> Selector:
        return getattr(self, self.kind)  # NeverReaches for never_reaches

    def label(self, index: int) -> str:
        return self.name or f"#{index} {self.kind}"


def parse_assertions(items: Sequence[Any], scn: Scenario, *, positions: Any = None,
                     section: tuple[str | int, ...] = ("assertions",), first_index: int = 0,
                     source: str | None = None) -> list[Assertion]:
    """Validate assertion dicts (structure, then names against the scenario); every problem at
    once as a ScenarioError, located in the file when ``positions`` (latsim.scenario.Positions) is given."""
    problems: list[Problem] = []
    out: list[Assertion] = []

    def where(keys: tuple[str | int, ...]) -> Location:
        full = section + keys
        dotted = ".".join(str(k) for k in full)
        if positions is not None:
            loc = positions.locate(full)
            return Location(loc.file, loc.line, loc.column, dotted, full)
        return Location(source, None, None, dotted, full)

    for i, item in enumerate(items, first_index):
        try:
            a = Assertion.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
                msg = str(err["msg"]).removeprefix("Value error, ")
                hint = allowed = None
                if err["type"] == "extra_forbidden":
                    msg = f"unknown key '{loc[-1]}'"
                    model = _model_for(loc[:-1])
                    hint = suggest(str(loc[-1]), model.model_fields)
                    allowed = None if hint else f"allowed: {', '.join(model.model_fields)}"
                problems.append(Problem(msg, where((i,) + loc), hint=hint, allowed=allowed, code="assertion"))
            continue
        problems += _check_names(a, scn, lambda keys, i=i: where((i,) + keys))
        out.append(a)
    if problems:
        raise ScenarioError(problems)
    return out


def _model_for(loc: tuple[Any, ...]) -> type[Model]:
    if not loc:
        return Assertion
    models: dict[str, type[Model]] = {"only": OnlySelector, "never_reaches": NeverReaches,
                                      "only_through": OnlyThrough}
    return models.get(loc[0], Selector)


def _check_names(a: Assertion, scn: Scenario, where: Any) -> list[Problem]:
    ix = scn.index
    sel = a.selector
    kind = a.kind
    out: list[Problem] = []

    def check(keys: tuple[str | int, ...], name: str, known: Iterable[str], what: str) -> None:
        known = list(known)
        if name not in known:
            hint = suggest(name, known)
            out.append(Problem(f"unknown {what} '{name}'", where(keys), hint=hint, code="assertion",
                               allowed=None if hint else f"known: {', '.join(known[:12])}"))

    services = [s.name for s in scn.services]
    if isinstance(sel, NeverReaches):
        callers = [*ix.clients, *(t.name for t in scn.target_groups if t.name not in ix.clients)]
        for j, name in enumerate(sel.from_):
            check((kind, "from", j), name, callers, "client or target group")
        for key in ("service", "services"):
            for j, name in enumerate(getattr(sel, key) or []):
                check((kind, key, j), name, services, "service")
        for j, name in enumerate(getattr(sel, "through", [])):
            check((kind, "through", j), name, [t.name for t in scn.target_groups], "target group")
        return out
    if isinstance(sel, OnlySelector):
        for j, name in enumerate(sel.reach):
            check((kind, "reach", j), name, services, "service")
    for key in ("service", "services"):
        for j, name in enumerate(getattr(sel, key) or []):
            check((kind, key, j), name, services, "service")
    for j, name in enumerate(sel.vpcs or []):
        check((kind, "vpcs", j), name, [v.name for v in scn.vpcs], "VPC")
    for key in ("clients", "client"):
        for j, name in enumerate(getattr(sel, key) or []):
            check((kind, key, j), name, list(ix.clients), "client")
    if sel.listener is not None:
        names = {lst.listener_name for s in scn.services for lst in s.listeners}
        check((kind, "listener"), sel.listener, sorted(names), "listener")
    if sel.target_group is not None:
        check((kind, "target_group"), sel.target_group, [t.name for t in scn.target_groups], "target group")
    return out
