"""The per-request auth decision (docs/lattice.md §5.2): identity, network and service levels.

* Both levels ``NONE``: allowed, nothing evaluated.
* A level with ``AWS_IAM`` and no auth policy attached denies every request.
* An explicit Deny in any applicable policy wins. Otherwise every applicable level must
  explicitly Allow: the network (service-network) policy when the SN uses ``AWS_IAM``, the
  service policy when the service does, and -- for signed callers only, and only when some
  level uses ``AWS_IAM`` -- the caller's identity policy.
* ``identity_default_allow``: a signed caller whose identity policy the scenario does not
  declare (``identity_policy=None``) is assumed to be allowed by it (scenarios rarely model
  IAM roles). Pass ``False`` to treat an undeclared identity policy as "allows nothing".
* When several levels deny, the reported ``auth_denied_reason`` is the first of Network,
  Service, Identity (explicit denies before implicit ones); Lattice's own order is UNCONFIRMED.
"""

from __future__ import annotations

from dataclasses import dataclass

from latsim.auth.context import RequestContext
from latsim.auth.policy import Policy, PolicyResult, Statement
from latsim.errors import LatsimError

AUTH_TYPES = ("NONE", "AWS_IAM")
NETWORK, SERVICE, IDENTITY = "Network", "Service", "Identity"
_LEVEL_LABEL = {NETWORK: "network policy", SERVICE: "service policy", IDENTITY: "identity policy"}
_BODY_NOUN = {NETWORK: "network-based policy", SERVICE: "service-based policy",
              IDENTITY: "identity-based policy"}


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement decided: the policy's source label, its Sid or index, its effect."""

    source: str
    sid: str | None
    index: int
    effect: str

    @property
    def label(self) -> str:
        return f"'{self.sid}'" if self.sid else f"#{self.index}"

    def __str__(self) -> str:
        return f"{self.source} statement {self.label} ({self.effect})"


@dataclass(frozen=True, slots=True)
class AuthStep:
    """One level of the decision, for ``explain``: verdict is allow|deny|implicit-deny|skipped."""

    level: str
    verdict: str
    detail: str


@dataclass(frozen=True, slots=True)
class AuthDecision:
    """The outcome of ``authorize``; ``body`` is the 403 body when denied."""

    allowed: bool
    auth_denied_reason: str | None
    deciding: StatementRef | None
    explanation: str
    steps: tuple[AuthStep, ...]
    body: str | None = None

    def describe(self) -> str:
        head = "ALLOW" if self.allowed else f"DENY ({self.auth_denied_reason})"
        lines = [f"{head}: {self.explanation}"]
        lines += [f"  {s.level:<8} {s.verdict:<13} {s.detail}" for s in self.steps]
        return "\n".join(lines)


_NO_AUTH = AuthDecision(
    allowed=True, auth_denied_reason=None, deciding=None,
    explanation="auth type NONE on both the service network and the service: no auth check",
    steps=(AuthStep(NETWORK, "skipped", "auth type NONE"),
           AuthStep(SERVICE, "skipped", "auth type NONE"),
           AuthStep(IDENTITY, "skipped", "no level uses AWS_IAM")))


@dataclass(frozen=True, slots=True)
class _Level:
    level: str
    verdict: str  # allow | deny | implicit-deny | skipped
    detail: str
    statement: Statement | None = None
    policy: Policy | None = None


def _auth_on(value: str | None, name: str) -> bool:
    v = (value or "NONE").upper()
    if v not in AUTH_TYPES:
        raise LatsimError(f"{name} must be NONE or AWS_IAM, not {value!r}", allowed="NONE | AWS_IAM")
    return v == "AWS_IAM"


def _who(ctx: RequestContext) -> str:
    return "anonymous callers" if ctx.principal is None else ctx.principal.arn


def _ref(policy: Policy, st: Statement) -> StatementRef:
    return StatementRef(policy.source, st.sid, st.index, st.effect)


def _evaluate_level(level: str, policy: Policy | None, ctx: RequestContext) -> _Level:
    if policy is None:
        return _Level(level, "implicit-deny",
                      "auth type AWS_IAM with no auth policy attached denies every request")
    res: PolicyResult = policy.evaluate(ctx)
    if res.verdict == "deny":
        assert res.statement is not None
        return _Level(level, "deny", f"statement {res.statement.label} explicitly denies",
                      res.statement, policy)
    if res.verdict == "allow":
        assert res.statement is not None
        return _Level(level, "allow", f"statement {res.statement.label} allows", res.statement,
                      policy)
    return _Level(level, "implicit-deny", "no statement allows", None, policy)


def _evaluate_identity(policy: Policy | None, ctx: RequestContext, default_allow: bool) -> _Level:
    if ctx.principal is None:
        return _Level(IDENTITY, "skipped", "anonymous caller: no identity policy")
    if policy is None:
        if default_allow:
            return _Level(IDENTITY, "allow",
                          "identity policy not declared, assumed to allow (identity_default_allow)")
        return _Level(IDENTITY, "implicit-deny",
                      "no identity policy declared for this caller (identity_default_allow=False)")
    return _evaluate_level(IDENTITY, policy, ctx)


def authorize(*, sn_auth_type: str | None, sn_policy: Policy | None, svc_auth_type: str | None,
              svc_policy: Policy | None, identity_policy: Policy | None, ctx: RequestContext,
              identity_default_allow: bool = True) -> AuthDecision:
    """Decide one request per docs/lattice.md §5.2 (see the module docstring for the rules)."""
    sn_on = _auth_on(sn_auth_type, "sn_auth_type")
    svc_on = _auth_on(svc_auth_type, "svc_auth_type")
    if not sn_on and not svc_on:
        return _NO_AUTH
    levels = (
        _evaluate_level(NETWORK, sn_policy, ctx) if sn_on
        else _Level(NETWORK, "skipped", "auth type NONE"),
        _evaluate_level(SERVICE, svc_policy, ctx) if svc_on
        else _Level(SERVICE, "skipped", "auth type NONE"),
        _evaluate_identity(identity_policy, ctx, identity_default_allow),
    )
    steps = tuple(AuthStep(lv.level, lv.verdict, lv.detail) for lv in levels)
    denied = next((lv for lv in levels if lv.verdict == "deny"), None) or \
        next((lv for lv in levels if lv.verdict == "implicit-deny"), None)
    if denied is None:
        return _allowed(levels, steps)
    return _denied(denied, ctx, steps)


def _allowed(levels: tuple[_Level, ...], steps: tuple[AuthStep, ...]) -> AuthDecision:
    parts: list[str] = []
    deciding: StatementRef | None = None
    for lv in levels:
        if lv.statement is not None and lv.policy is not None:
            parts.append(f"{_LEVEL_LABEL[lv.level]} statement {lv.statement.label} allows")
            if lv.level != IDENTITY:
                deciding = _ref(lv.policy, lv.statement)
        elif lv.verdict == "allow":
            parts.append("identity policy not declared (assumed to allow)")
        elif lv.level != IDENTITY:
            parts.append(f"{lv.level.lower()} auth type NONE")
    return AuthDecision(True, None, deciding, "allowed: " + "; ".join(parts), steps)


def _denied(lv: _Level, ctx: RequestContext, steps: tuple[AuthStep, ...]) -> AuthDecision:
    label = _LEVEL_LABEL[lv.level]
    noun = _BODY_NOUN[lv.level]
    prefix = (f"AccessDeniedException: User: {ctx.who} is not authorized to perform: "
              f"{ctx.action} on resource: {ctx.resource}")
    deciding: StatementRef | None = None
    if lv.verdict == "deny":
        assert lv.statement is not None and lv.policy is not None
        st = lv.statement
        deciding = _ref(lv.policy, st)
        why = f"{label}: statement {st.label} explicitly denies {_who(ctx)}"
        if st.conditions:
            why += " because " + " and ".join(
                f"{c.describe()} (request has {c.actual(ctx.values)})" for c in st.conditions)
        article = "an" if noun[0] in "aeiou" else "a"
        body = f"{prefix} with an explicit deny in {article} {noun}"
    else:
        if lv.policy is None:
            why = f"{label}: {lv.detail}"
        else:
            why = f"{label}: no statement allows {_who(ctx)}"
            nearest, reason = lv.policy.nearest_allow(ctx)
            if nearest is None:
                why += " (the policy has no Allow statement)"
            else:
                why += f"; statement {nearest.label} {reason}"
        body = f"{prefix} because no {noun} allows the {ctx.action} action"
    return AuthDecision(False, lv.level, deciding, why, steps, body)
