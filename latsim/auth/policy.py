"""Auth policies: parse an IAM-style JSON document into a compiled, immutable ``Policy``.

``parse_policy`` checks the whole document and reports every problem at once as a
``ScenarioError`` whose problems carry the dotted path (``Statement.0.Condition.StringEqualz``)
and, where the loader passes ``where``, the file, line and column.

Matching rules (IAM's):

* ``Action``: case-insensitive, ``*``/``?`` wildcards. ``Resource``: case-sensitive whole-ARN
  wildcards, so ``*/rates`` matches any service's ``/rates`` path.
* ``Principal``: ``"*"`` and ``{"AWS": "*"}`` match everyone, anonymous callers included; an
  account id or ``arn:aws:iam::<acct>:root`` matches every signed principal of that account; a
  role ARN matches sessions of that role (compared by account and role name, since role names
  are unique per account); user, assumed-role and federated-user ARNs match exactly.
* ``NotPrincipal`` (IAM: use with Deny): the statement applies to every caller it does not name.
  A caller is named only if its account is listed *and* (it is the account root, or its own
  user / role / session ARN is listed too) -- IAM checks the account, then the role, then the
  session, which is why AWS tells you to list the account as well.
* Policy variables (``${aws:PrincipalTag/team}``) work in ``Resource`` and in String/ARN
  condition values when ``Version`` is ``2012-10-17``; an unresolvable variable makes its
  statement not apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from latsim.auth.conditions import Condition, parse_condition_block
from latsim.auth.context import ACTIONS, K_PATH, Principal, RequestContext
from latsim.auth.patterns import (
    Matcher,
    Template,
    Unresolved,
    compile_globs,
    compile_pieces,
    has_wildcard,
    parse_template,
)
from latsim.errors import Location, Problem, ScenarioError, suggest

#: Lattice's auth-policy size quota: 10 KB of compact JSON.
MAX_POLICY_CHARS = 10240
VERSIONS = ("2012-10-17", "2008-10-17")
TOP_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                  "Resource", "NotResource", "Condition")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

Where = Callable[[tuple[str | int, ...]], Location]
RelPath = tuple[str | int, ...]

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(?:iam::(?P<acct>\d{12}):(?P<iam>root|user/.+|role/.+)"
    r"|sts::(?P<sacct>\d{12}):(?P<sts>assumed-role/[^/]+/.+|federated-user/.+))$")


# --- principals ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A compiled ``Principal`` / ``NotPrincipal`` element."""

    any: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()  # users, role sessions, federated users: exact
    roles: frozenset[tuple[str, str]] = frozenset()  # (account, role name)
    others: tuple[str, ...] = ()  # Service/Federated/CanonicalUser: never a Lattice caller

    def matches(self, p: Principal | None) -> bool:
        """Does this ``Principal`` element name the caller?"""
        if self.any:
            return True
        if p is None:
            return False
        if p.account in self.accounts or p.arn in self.arns:
            return True
        role = _role_key(p)
        return role is not None and role in self.roles

    def excludes(self, p: Principal | None) -> bool:
        """Does this ``NotPrincipal`` element exempt the caller (account *and* entity listed)?"""
        if self.any:
            return True
        if p is None or p.account not in self.accounts:
            return False
        if p.principal_type == "Account" or p.arn in self.arns:
            return True
        role = _role_key(p)
        return role is not None and role in self.roles

    def describe(self) -> str:
        if self.any:
            return "*"
        items = sorted(self.accounts) + sorted(self.arns) + sorted(
            f"role {name} in {acct}" for acct, name in self.roles) + list(self.others)
        return ", ".join(items) if items else "nobody"


def _role_key(p: Principal) -> tuple[str, str] | None:
    if p.role_arn is None or p.account is None:
        return None
    return (p.account, p.role_arn.rsplit("/", 1)[-1])


# --- statements ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Statement:
    """One compiled statement; ``index`` is its position in the document."""

    index: int
    sid: str | None
    effect: str  # Allow | Deny
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]
    _action_match: Matcher = field(repr=False)
    _resource_match: Matcher | None = field(repr=False)  # None: resources contain variables
    _resource_templates: tuple[Template | str, ...] = field(repr=False)
    _action_cache: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"'{self.sid}'" if self.sid else f"#{self.index}"

    def action_matches(self, action: str) -> bool:
        hit = self._action_cache.get(action)
        if hit is None:
            hit = self._action_cache[action] = self._action_match(action) != self.not_action
        return hit

    def resource_matches(self, ctx: RequestContext) -> bool:
        m = self._resource_match
        if m is None:
            m = compile_pieces(r.resolve(ctx.values) if isinstance(r, Template) else r
                               for r in self._resource_templates)
        return m(ctx.resource) != self.not_resource

    def principal_matches(self, p: Principal | None) -> bool:
        if self.principal is not None:
            return self.principal.matches(p)
        if self.not_principal is not None:
            return not self.not_principal.excludes(p)
        return True  # identity policies name no principal: they apply to their owner

    def applies(self, ctx: RequestContext) -> bool:
        """Does this statement apply to the request (action, resource, principal, conditions)?"""
        if not self.action_matches(ctx.action):
            return False
        try:
            if not self.resource_matches(ctx) or not self.principal_matches(ctx.principal):
                return False
            vals = ctx.values
            for cond in self.conditions:
                if not cond.test(vals):
                    return False
        except Unresolved:
            return False
        return True

    def diagnose(self, ctx: RequestContext) -> tuple[int, str]:
        """How far the request got (0 action .. 3 conditions, 4 applies) and why it stopped."""
        if not self.action_matches(ctx.action):
            return 0, f"does not cover action {ctx.action}"
        try:
            if not self.resource_matches(ctx):
                return 1, f"does not cover resource {ctx.resource}"
            if not self.principal_matches(ctx.principal):
                if self.not_principal is not None:
                    return 2, f"exempts caller {ctx.who} (NotPrincipal)"
                if ctx.principal is None:
                    return 2, "requires a signed caller"
                return 2, f"does not name caller {ctx.principal.arn}"
            for cond in self.conditions:
                if not cond.test(ctx.values):
                    return 3, f"requires {cond.describe()} (request has {cond.actual(ctx.values)})"
        except Unresolved as exc:
            return 3, f"uses policy variable ${{{exc}}} that this request does not set"
        return 4, "applies"

    def describe(self) -> str:
        who = ""
        if self.principal is not None:
            who = f" principal {self.principal.describe()}"
        elif self.not_principal is not None:
            who = f" everyone except {self.not_principal.describe()}"
        act = ("not " if self.not_action else "") + ", ".join(self.actions)
        res = ("not " if self.not_resource else "") + ", ".join(self.resources)
        text = f"{self.label} {self.effect}{who} action {act} on {res}"
        if self.conditions:
            text += " if " + " and ".join(c.describe() for c in self.conditions)
        return text


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """A policy's verdict on one request: ``allow``, ``deny`` (explicit) or ``none`` (implicit)."""

    verdict: str
    statement: Statement | None


# --- the policy ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Policy:
    """A parsed auth (or identity) policy, ready to evaluate."""

    statements: tuple[Statement, ...]
    version: str | None
    source: str
    kind: str  # "resource" (SN/service auth policy) or "identity"
    document: Mapping[str, Any] = field(repr=False)
    size: int = 0
    warnings: tuple[Problem, ...] = ()
    referenced_keys: frozenset[str] = frozenset()
    uses_resource_path: bool = False
    _constants: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def evaluate(self, ctx: RequestContext) -> PolicyResult:
        """Explicit deny beats allow; no applicable statement is an implicit deny."""
        allow: Statement | None = None
        for st in self.statements:
            if st.effect == "Deny":
                if st.applies(ctx):
                    return PolicyResult("deny", st)
            elif allow is None and st.applies(ctx):
                allow = st
        return PolicyResult("allow", allow) if allow else PolicyResult("none", None)

    def nearest_allow(self, ctx: RequestContext) -> tuple[Statement | None, str]:
        """The Allow statement that came closest to applying, and why it did not."""
        best: tuple[int, Statement | None, str] = (-1, None, "")
        for st in self.statements:
            if st.effect != "Allow":
                continue
            stage, why = st.diagnose(ctx)
            if stage > best[0]:
                best = (stage, st, why)
        return best[1], best[2]

    def constants(self, key: str) -> set[str]:
        """Literal values the policy compares ``key`` against (case-insensitive key name).

        For ``vpc-lattice-svcs:RequestPath`` this also holds the request-path parts of
        ``Resource``/``NotResource`` patterns (``*/rates`` gives ``/rates``). ``…Like`` values
        are returned as the patterns they are.
        """
        return set(self._constants.get(key.lower(), frozenset()))

    def to_dict(self) -> dict[str, Any]:
        """The policy as AWS JSON (a plain copy of the document)."""
        return json.loads(self.to_json())

    def to_json(self, *, indent: int | None = None) -> str:
        if indent is None:
            return json.dumps(self.document, separators=(",", ":"), ensure_ascii=False, default=str)
        return json.dumps(self.document, indent=indent, ensure_ascii=False, default=str)

    def describe(self) -> str:
        """One line per statement, e.g. ``'OrgOnly' Allow principal * action … if …``."""
        head = f"{self.source} ({len(self.statements)} statement" \
               f"{'' if len(self.statements) == 1 else 's'}, {self.size} chars)"
        return "\n".join([head] + ["  " + st.describe() for st in self.statements])


# --- parsing ---------------------------------------------------------------------------------------------


class _Report:
    """Collects located problems."""

    def __init__(self, where: Where | None) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def location(self, path: RelPath) -> Location:
        dotted = ".".join(str(p) for p in path)
        if self.where is None:
            return Location(path=dotted)
        loc = self.where(path)
        return loc if loc.path else replace(loc, path=dotted)

    def error(self, path: RelPath, message: str, *, hint: str | None = None,
              allowed: str | None = None, code: str = "auth.policy") -> None:
        self.problems.append(Problem(message, self.location(path), allowed=allowed, hint=hint,
                                     code=code))

    def warn(self, path: RelPath, message: str, *, hint: str | None = None,
             allowed: str | None = None, code: str = "auth.policy") -> None:
        self.problems.append(Problem(message, self.location(path), allowed=allowed, hint=hint,
                                     severity="warning", code=code))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _plain(obj: Any) -> Any:
    """ruamel CommentedMap/CommentedSeq (or any Mapping/sequence) -> dict/list."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, datetime | date):
        # Unquoted YAML such as ``Version: 2012-10-17`` arrives as a date.
        return obj.isoformat()
    return obj


def parse_policy(doc: Mapping[str, Any] | str, *, where: Where | None = None,
                 source: str = "policy", kind: str | None = None) -> Policy:
    """Parse and compile an auth policy; raise ``ScenarioError`` listing every problem.

    ``doc`` is a mapping (a ruamel ``CommentedMap`` is fine) or a JSON string. ``where`` maps a
    path inside the document to a ``Location`` (file:line:col); by default a problem's location
    is just the dotted path. ``kind="resource"`` (an SN or service auth policy) requires a
    ``Principal``/``NotPrincipal`` in every statement; ``kind="identity"`` (a caller's IAM
    policy) forbids them; ``kind=None`` infers ``identity`` when no statement names a principal,
    else ``resource``. Warnings (keys Lattice never sets, actions that never match) do not
    raise; they are kept in ``Policy.warnings``.
    """
    if kind not in ("resource", "identity", None):
        raise ValueError(f"kind must be 'resource', 'identity' or None, not {kind!r}")
    rep = _Report(where)
    if isinstance(doc, str):
        try:
            raw = json.loads(doc)
        except json.JSONDecodeError as exc:
            # Inside a scenario file the JSON text sits at where(()); its own line/column go
            # into the message.
            loc = rep.location(()) if where else Location(line=exc.lineno, column=exc.colno)
            raise ScenarioError([Problem(
                f"policy is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                loc, code="auth.json")]) from None
    else:
        raw = doc
    if not isinstance(raw, Mapping):
        rep.error((), "a policy must be a JSON object with Version and Statement")
        raise ScenarioError(rep.problems)
    raw = plain = _plain(raw)
    compact = json.dumps(plain, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(compact) > MAX_POLICY_CHARS:
        rep.error((), f"policy is {len(compact)} characters of compact JSON, over Lattice's "
                  f"10 KB auth-policy quota ({MAX_POLICY_CHARS})", code="auth.size",
                  hint="split conditions across the service-network and service policies")
    for key in raw:
        if str(key) not in TOP_KEYS:
            rep.error((str(key),), f"unknown policy element '{key}'", allowed=", ".join(TOP_KEYS),
                      hint=suggest(str(key), TOP_KEYS))
    if kind is None:
        kind = _infer_kind(raw.get("Statement"))
    version = raw.get("Version")
    if version is not None and version not in VERSIONS:
        rep.error(("Version",), f"unknown policy Version '{version}'", allowed=" | ".join(VERSIONS),
                  hint=suggest(str(version), VERSIONS))
    variables = version == "2012-10-17"
    statements: list[Statement] = []
    if "Statement" not in raw:
        rep.error((), "policy has no Statement", hint="add \"Statement\": [{...}]")
    else:
        body = raw["Statement"]
        if isinstance(body, Mapping):
            items: list[tuple[RelPath, Any]] = [(("Statement",), body)]
        elif isinstance(body, list | tuple):
            items = [(("Statement", i), s) for i, s in enumerate(body)]
            if not items:
                rep.warn(("Statement",), "policy has no statements: it allows nothing")
        else:
            rep.error(("Statement",), "Statement must be a list of statements or one statement")
            items = []
        sids: dict[str, RelPath] = {}
        for index, (path, st) in enumerate(items):
            compiled = _parse_statement(st, index, path, rep, kind=kind, variables=variables)
            if compiled is None:
                continue
            if compiled.sid is not None:
                if compiled.sid in sids:
                    rep.error((*path, "Sid"), f"duplicate Sid '{compiled.sid}'",
                              hint=f"also used at {'.'.join(map(str, sids[compiled.sid]))}")
                sids.setdefault(compiled.sid, path)
            statements.append(compiled)
    if rep.has_errors:
        raise ScenarioError(rep.problems)
    sts = tuple(statements)
    return Policy(
        statements=sts, version=version, source=source, kind=kind, document=plain,
        size=len(compact), warnings=tuple(rep.problems),
        referenced_keys=_referenced_keys(sts), uses_resource_path=_uses_path(sts),
        _constants=_collect_constants(sts))


def _infer_kind(body: Any) -> str:
    items = [body] if isinstance(body, Mapping) else body if isinstance(body, list) else []
    named = any(isinstance(st, Mapping) and ("Principal" in st or "NotPrincipal" in st)
                for st in items)
    return "resource" if named or not items else "identity"


def _as_str_list(value: Any, path: RelPath, rep: _Report, what: str) -> list[tuple[RelPath, str]] | None:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list | tuple) and value:
        out: list[tuple[RelPath, str]] = []
        ok = True
        for i, v in enumerate(value):
            if isinstance(v, str):
                out.append(((*path, i), v))
            else:
                rep.error((*path, i), f"{what} entries must be strings, not {type(v).__name__}")
                ok = False
        return out if ok else None
    rep.error(path, f"{what} must be a string or a non-empty list of strings")
    return None


def _parse_statement(st: Any, index: int, path: RelPath, rep: _Report, *, kind: str,
                     variables: bool) -> Statement | None:
    if not isinstance(st, Mapping):
        rep.error(path, "a statement must be an object with Effect, Principal, Action, Resource")
        return None
    before = len(rep.problems)
    for key in st:
        if str(key) not in STATEMENT_KEYS:
            rep.error((*path, str(key)), f"unknown statement element '{key}'",
                      allowed=", ".join(STATEMENT_KEYS), hint=suggest(str(key), STATEMENT_KEYS))
    sid = st.get("Sid")
    if sid is not None and not isinstance(sid, str):
        rep.error((*path, "Sid"), "Sid must be a string")
        sid = None
    effect = st.get("Effect")
    if effect not in ("Allow", "Deny"):
        if effect is None:
            rep.error(path, "statement has no Effect", allowed="Allow | Deny")
        else:
            rep.error((*path, "Effect"), f"Effect must be Allow or Deny, not '{effect}'",
                      hint=suggest(str(effect), ("Allow", "Deny")))

    principal = not_principal = None
    both = [k for k in ("Principal", "NotPrincipal") if k in st]
    if kind == "identity":
        for k in both:
            rep.error((*path, k), f"an identity policy names no {k}: it applies to its owner")
    elif len(both) == 2:
        rep.error(path, "a statement has Principal or NotPrincipal, not both")
    elif not both:
        rep.error(path, "statement has no Principal", hint='use "Principal": "*" for every caller')
    elif both[0] == "Principal":
        principal = _parse_principal(st["Principal"], (*path, "Principal"), rep)
    else:
        not_principal = _parse_principal(st["NotPrincipal"], (*path, "NotPrincipal"), rep)
        if effect == "Allow":
            rep.warn((*path, "NotPrincipal"), "AWS does not support NotPrincipal with Allow; it "
                     "allows everyone else, anonymous callers included",
                     hint="use Deny, or a Condition on aws:PrincipalArn")

    actions, not_action = _parse_actions(st, path, rep, warn_foreign=kind == "resource")
    resources, not_resource, rmatch, rtemplates = _parse_resources(st, path, rep, variables)
    conditions: tuple[Condition, ...] = ()
    if "Condition" in st:
        conditions = parse_condition_block(st["Condition"], (*path, "Condition"), rep.error,
                                           rep.warn, variables=variables)
    if any(p.severity == "error" for p in rep.problems[before:]):
        return None
    return Statement(
        index=index, sid=sid, effect=str(effect), principal=principal, not_principal=not_principal,
        actions=tuple(actions), not_action=not_action, resources=tuple(resources),
        not_resource=not_resource, conditions=conditions,
        _action_match=compile_globs(actions, ignore_case=True), _resource_match=rmatch,
        _resource_templates=rtemplates)


def _parse_principal(value: Any, path: RelPath, rep: _Report) -> PrincipalSpec | None:
    if value == "*":
        return PrincipalSpec(any=True)
    if not isinstance(value, Mapping) or not value:
        rep.error(path, "Principal must be \"*\" or an object such as {\"AWS\": [...]}")
        return None
    any_ = False
    accounts: set[str] = set()
    arns: set[str] = set()
    roles: set[tuple[str, str]] = set()
    others: list[str] = []
    for ptype, ids in value.items():
        tpath = (*path, str(ptype))
        if ptype not in PRINCIPAL_TYPES:
            rep.error(tpath, f"unknown principal type '{ptype}'", allowed=", ".join(PRINCIPAL_TYPES),
                      hint=suggest(str(ptype), PRINCIPAL_TYPES))
            continue
        entries = _as_str_list(ids, tpath, rep, f"Principal {ptype}")
        if entries is None:
            continue
        for epath, ident in entries:
            if ptype != "AWS":
                others.append(f"{ptype} {ident}")
                continue
            if ident == "*":
                any_ = True
            elif _ACCOUNT_RE.match(ident):
                accounts.add(ident)
            elif has_wildcard(ident):
                rep.error(epath, f"wildcards are not allowed in a principal ARN: '{ident}'",
                          hint='use "Principal": "*" with an ArnLike condition on aws:PrincipalArn')
            elif (m := _PRINCIPAL_ARN_RE.match(ident)) is None:
                rep.error(epath, f"'{ident}' is not an AWS account id or IAM principal ARN",
                          allowed="123456789012, arn:aws:iam::123456789012:root|user/…|role/…, "
                                  "arn:aws:sts::123456789012:assumed-role/…/…")
            elif m["iam"] == "root":
                accounts.add(m["acct"])
            elif m["iam"] and m["iam"].startswith("role/"):
                roles.add((m["acct"], ident.rsplit("/", 1)[-1]))
            else:
                arns.add(ident)
    return PrincipalSpec(any=any_, accounts=frozenset(accounts), arns=frozenset(arns),
                         roles=frozenset(roles), others=tuple(others))


def _parse_actions(st: Mapping[str, Any], path: RelPath, rep: _Report, *,
                   warn_foreign: bool) -> tuple[list[str], bool]:
    present = [k for k in ("Action", "NotAction") if k in st]
    if len(present) == 2:
        rep.error(path, "a statement has Action or NotAction, not both")
        return [], False
    if not present:
        rep.error(path, "statement has no Action", allowed=" | ".join(ACTIONS))
        return [], False
    key = present[0]
    entries = _as_str_list(st[key], (*path, key), rep, key)
    if entries is None:
        return [], key == "NotAction"
    out: list[str] = []
    for epath, action in entries:
        if action != "*" and (action.count(":") != 1 or action.startswith(":")
                              or action.endswith(":")):
            rep.error(epath, f"'{action}' is not an action", allowed="service:Action, e.g. "
                      + " or ".join(ACTIONS), hint=suggest(action, ACTIONS))
            continue
        out.append(action)
        if warn_foreign and key == "Action" and not any(compile_globs([action], ignore_case=True)(a) for a in ACTIONS):
            rep.warn(epath, f"action '{action}' never matches a Lattice request",
                     allowed=" | ".join(ACTIONS), hint=suggest(action, ACTIONS))
    return out, key == "NotAction"


def _parse_resources(st: Mapping[str, Any], path: RelPath, rep: _Report, variables: bool
                     ) -> tuple[list[str], bool, Matcher | None, tuple[Template | str, ...]]:
    present = [k for k in ("Resource", "NotResource") if k in st]
    if len(present) == 2:
        rep.error(path, "a statement has Resource or NotResource, not both")
        return [], False, None, ()
    if not present:
        rep.error(path, "statement has no Resource", hint='use "Resource": "*" for every service')
        return [], False, None, ()
    key = present[0]
    entries = _as_str_list(st[key], (*path, key), rep, key)
    if entries is None:
        return [], key == "NotResource", None, ()
    out: list[str] = []
    templates: list[Template | str] = []
    for epath, res in entries:
        if not (res.startswith("arn:") or has_wildcard(res)):
            rep.error(epath, f"'{res}' is not a resource ARN or pattern",
                      allowed="arn:aws:vpc-lattice:REGION:ACCOUNT:service/SVC-ID/PATH, */path, *")
            continue
        tpl = parse_template(res) if variables else res
        if tpl is None:
            rep.error(epath, f"malformed policy variable in '{res}'",
                      allowed="${key} or ${key, 'default'}")
            continue
        out.append(res)
        templates.append(tpl)
    dynamic = any(isinstance(t, Template) for t in templates)
    return out, key == "NotResource", None if dynamic else compile_globs(out), tuple(templates)


# --- analysis for caching and the verifier ------------------------------------------------------------


def _referenced_keys(statements: Sequence[Statement]) -> frozenset[str]:
    keys: set[str] = set()
    for st in statements:
        for cond in st.conditions:
            keys.add(cond.key_lc)
            keys |= cond.variable_keys
        for t in st._resource_templates:
            if isinstance(t, Template):
                keys |= t.keys
    return frozenset(keys)


def _resource_part(pattern: str) -> str | None:
    parts = pattern.split(":", 5)
    return parts[5] if len(parts) == 6 else None


def path_independent(pattern: str) -> bool:
    """True when a Resource pattern matches every request path of a service alike.

    Conservative: a pattern latsim cannot prove path-independent counts as path-dependent
    (that only costs cache hits). Wildcards in the first five ARN parts are assumed not to
    reach into the path.
    """
    if pattern in ("*", "*/*"):
        return True
    part = _resource_part(pattern)
    if part is None:
        return False
    if part in ("*", "service/*", "service/*/*"):
        return True
    if part.startswith("service/") and part.count("/") == 1 and not has_wildcard(part):
        return True  # a bare service ARN (the Connect resource) matches no Invoke path at all
    if not part.startswith("service/") or not part.endswith("*"):
        return False
    head = part[len("service/"):-1]
    if has_wildcard(head) or "${" in head:
        return False
    return "/" not in head or (head.count("/") == 1 and head.endswith("/"))


def _path_of(pattern: str) -> str | None:
    """The request-path part of a Resource pattern (``…/svc-1/rates`` -> ``/rates``)."""
    part = _resource_part(pattern)
    if part is not None:
        if not part.startswith("service/"):
            return None
        rest = part[len("service/"):]
        if "/" not in rest:
            return None
        return "/" + rest.split("/", 1)[1]
    if "/" not in pattern:
        return None
    return "/" + pattern.split("/", 1)[1]


def _uses_path(statements: Sequence[Statement]) -> bool:
    for st in statements:
        if any(isinstance(t, Template) for t in st._resource_templates):
            return True
        if not all(path_independent(r) for r in st.resources):
            return True
    return False


def _collect_constants(statements: Sequence[Statement]) -> dict[str, frozenset[str]]:
    acc: dict[str, set[str]] = {}
    for st in statements:
        for cond in st.conditions:
            acc.setdefault(cond.key_lc, set()).update(cond.literals)
        for r in st.resources:
            if not path_independent(r) and "${" not in r:
                p = _path_of(r)
                if p is not None:
                    acc.setdefault(K_PATH, set()).add(p)
    return {k: frozenset(v) for k, v in acc.items()}
