"""Condition operators: parsing a ``Condition`` block and testing it against a request context.

Rules implemented (IAM's documented behaviour, see the IAM User Guide pages "Condition
operators", "Conditions with multiple context keys or values" and "Single-valued vs.
multivalued context keys"):

* Across operators and across keys of one operator: AND. Values of one key: OR for positive
  operators; NOR for negated ones (``StringNotEquals k [a, b]`` means k is neither a nor b).
* Negated operators are ``StringNotEquals``, ``StringNotEqualsIgnoreCase``, ``StringNotLike``,
  ``NumericNotEquals``, ``DateNotEquals``, ``NotIpAddress``, ``ArnNotEquals``, ``ArnNotLike``.
* **Missing key** (absent from the context, or an empty multi-valued key): a positive operator
  is *false*; a negated operator is *true* ("if the policy condition requires that the key is
  not matched … and the key is not present, the condition is true").
* ``…IfExists``: a missing key makes the condition *true*; a present key is tested as without
  the suffix (so ``StringNotEqualsIfExists`` ≡ ``StringNotEquals``).
* ``Null``: ``"true"`` holds when the key is missing, ``"false"`` when it is present.
* ``ForAllValues:`` true when *every* request value satisfies the operator -- and therefore true
  when the key is missing or empty. ``ForAnyValue:`` true when *at least one* request value
  satisfies it -- false when the key is missing or empty. With a negated operator each request
  value is tested with NOR against the policy values (``ForAllValues:StringNotEquals`` = no
  request value is in the list). ``IfExists`` on a qualified operator still makes a missing
  key true.
* A multi-valued key tested without a qualifier (IAM says: always use one; latsim's choice,
  UNCONFIRMED): a positive operator holds if any request value matches, a negated one if none
  does. A one-element list behaves exactly like a single value.
* Context values that cannot be read as the operator's type (a non-number for ``Numeric…``,
  a non-address for ``IpAddress``) match no policy value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator as op
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from latsim.auth.patterns import (
    Matcher,
    Pieces,
    Template,
    compile_arn_patterns,
    compile_globs,
    compile_pieces,
    parse_template,
)
from latsim.errors import suggest

ContextValues = Mapping[str, "str | tuple[str, ...]"]
ErrorFn = Callable[..., None]

FOR_ALL = "ForAllValues"
FOR_ANY = "ForAnyValue"
_QUALIFIERS = {"forallvalues": FOR_ALL, "foranyvalue": FOR_ANY}


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One base operator: its family, whether it is negated, the positive operator it negates."""

    name: str
    family: str  # string | string_ic | like | numeric | date | bool | binary | ip | arn | null
    negated: bool = False
    compare: str = "eq"  # numeric/date comparison: eq lt le gt ge
    symbol: str = "="


def _ops() -> dict[str, OperatorSpec]:
    specs = [
        OperatorSpec("StringEquals", "string"),
        OperatorSpec("StringNotEquals", "string", True, symbol="!="),
        OperatorSpec("StringEqualsIgnoreCase", "string_ic", symbol="= (ignoring case)"),
        OperatorSpec("StringNotEqualsIgnoreCase", "string_ic", True, symbol="!= (ignoring case)"),
        OperatorSpec("StringLike", "like", symbol="like"),
        OperatorSpec("StringNotLike", "like", True, symbol="not like"),
        OperatorSpec("Bool", "bool"),
        OperatorSpec("BinaryEquals", "binary"),
        OperatorSpec("IpAddress", "ip", symbol="in"),
        OperatorSpec("NotIpAddress", "ip", True, symbol="not in"),
        OperatorSpec("ArnEquals", "arn"),
        OperatorSpec("ArnLike", "arn", symbol="like"),
        OperatorSpec("ArnNotEquals", "arn", True, symbol="!="),
        OperatorSpec("ArnNotLike", "arn", True, symbol="not like"),
        OperatorSpec("Null", "null"),
    ]
    for fam in ("Numeric", "Date"):
        f = fam.lower()
        specs += [
            OperatorSpec(f"{fam}Equals", f, compare="eq", symbol="=="),
            OperatorSpec(f"{fam}NotEquals", f, True, compare="eq", symbol="!="),
            OperatorSpec(f"{fam}LessThan", f, compare="lt", symbol="<"),
            OperatorSpec(f"{fam}LessThanEquals", f, compare="le", symbol="<="),
            OperatorSpec(f"{fam}GreaterThan", f, compare="gt", symbol=">"),
            OperatorSpec(f"{fam}GreaterThanEquals", f, compare="ge", symbol=">="),
        ]
    return {s.name.lower(): s for s in specs}


OPERATORS: dict[str, OperatorSpec] = _ops()
#: Every operator name a policy may use without a qualifier (for "did you mean").
OPERATOR_NAMES: tuple[str, ...] = tuple(
    [s.name for s in OPERATORS.values()]
    + [s.name + "IfExists" for s in OPERATORS.values() if s.family != "null"])
_VARIABLE_FAMILIES = {"string", "string_ic", "like", "arn"}
_CMP = {"eq": op.eq, "lt": op.lt, "le": op.le, "gt": op.gt, "ge": op.ge}
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class OperatorError(ValueError):
    """An operator name latsim does not know; carries a hint."""

    def __init__(self, message: str, hint: str | None) -> None:
        super().__init__(message)
        self.hint = hint


def parse_operator(name: str) -> tuple[str | None, OperatorSpec, bool]:
    """Split ``ForAnyValue:StringLikeIfExists`` into (qualifier, base spec, if_exists)."""
    qualifier: str | None = None
    rest = name
    if ":" in name:
        q, rest = name.split(":", 1)
        qualifier = _QUALIFIERS.get(q.lower())
        if qualifier is None:
            raise OperatorError(f"unknown set operator '{q}'", suggest(q, (FOR_ALL, FOR_ANY)))
    if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
    base = rest[: -len("IfExists")] if if_exists else rest
    spec = OPERATORS.get(base.lower())
    if spec is None:
        hint = suggest(rest, OPERATOR_NAMES)
        if qualifier and hint:
            hint = hint.replace("'", f"'{qualifier}:", 1)
        raise OperatorError(f"unknown condition operator '{name}'", hint)
    if spec.family == "null" and (if_exists or qualifier):
        raise OperatorError(f"'{name}' is not an operator: Null takes no IfExists or set qualifier",
                            "use 'Null'")
    return qualifier, spec, if_exists


# --- value parsing -------------------------------------------------------------------------------


def to_policy_string(value: object) -> str | None:
    """A JSON scalar as IAM reads it (``true`` -> ``"true"``, ``10`` -> ``"10"``); None if not scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return None


def parse_number(text: str) -> float | None:
    t = text.strip()
    return float(t) if _NUMBER_RE.match(t) else None


def parse_date(text: str) -> float | None:
    """ISO 8601 (``2025-01-31``, ``2025-01-31T12:00:00Z``, with offset) or epoch seconds."""
    t = text.strip()
    num = parse_number(t)
    if num is not None:
        return num
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


# --- matchers --------------------------------------------------------------------------------


def _ordered_matcher(values: Sequence[str], parse: Callable[[str], float | None], cmp: str) -> Matcher:
    nums = [n for n in (parse(v) for v in values) if n is not None]
    fn = _CMP[cmp]

    def match(s: str) -> bool:
        x = parse(s)
        return x is not None and any(fn(x, n) for n in nums)
    return match


def _ip_matcher(values: Sequence[str]) -> Matcher:
    nets = [n for n in (parse_network(v) for v in values) if n is not None]

    def match(s: str) -> bool:
        try:
            addr = ipaddress.ip_address(s.strip())
        except ValueError:
            return False
        return any(addr.version == n.version and addr in n for n in nets)
    return match


def build_matcher(spec: OperatorSpec, values: Sequence[str]) -> Matcher:
    """The *positive* test of one request value against all policy values (OR)."""
    fam = spec.family
    if fam in ("string", "binary"):
        return frozenset(values).__contains__
    if fam == "string_ic":
        lowered = frozenset(v.lower() for v in values)
        return lambda s: s.lower() in lowered
    if fam == "like":
        return compile_globs(values)
    if fam == "arn":
        return compile_arn_patterns(values)
    if fam == "bool":
        bools = frozenset(v.lower() for v in values)
        return lambda s: s.lower() in bools
    if fam == "numeric":
        return _ordered_matcher(values, parse_number, spec.compare)
    if fam == "date":
        return _ordered_matcher(values, parse_date, spec.compare)
    if fam == "ip":
        return _ip_matcher(values)
    raise ValueError(f"no matcher for {spec.name}")


# --- the compiled condition -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False, slots=True)
class Condition:
    """One (operator, key) pair of a ``Condition`` block, compiled."""

    operator: str  # as written, e.g. "ForAnyValue:StringLike"
    spec: OperatorSpec
    qualifier: str | None
    if_exists: bool
    key: str  # as written
    key_lc: str
    values: tuple[str, ...]
    templates: tuple[Template, ...]  # values containing policy variables (Version 2012-10-17)
    match: Matcher | None  # positive test of one request value; None when values have variables

    @property
    def negated(self) -> bool:
        return self.spec.negated

    @property
    def literals(self) -> tuple[str, ...]:
        """Policy values without variables (constants the key is compared against)."""
        tpl = {t.text for t in self.templates}
        return tuple(v for v in self.values if v not in tpl)

    @property
    def variable_keys(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for t in self.templates:
            out |= t.keys
        return out

    def test(self, ctx: ContextValues) -> bool:
        """Does the request satisfy this condition? May raise ``Unresolved`` (policy variables)."""
        x = ctx.get(self.key_lc)
        missing = x is None or (not isinstance(x, str) and len(x) == 0)
        if self.spec.family == "null":
            return ("true" in self.values and missing) or ("false" in self.values and not missing)
        if missing:
            if self.if_exists or self.qualifier == FOR_ALL:
                return True
            if self.qualifier == FOR_ANY:
                return False
            return self.spec.negated
        match = self.match if self.match is not None else self._resolved(ctx)
        neg = self.spec.negated
        if isinstance(x, str):
            return match(x) != neg
        assert x is not None
        if self.qualifier == FOR_ALL:
            return all(match(v) != neg for v in x)
        if self.qualifier == FOR_ANY:
            return any(match(v) != neg for v in x)
        return any(match(v) for v in x) != neg

    def _resolved(self, ctx: ContextValues) -> Matcher:
        tpl = {t.text: t for t in self.templates}
        resolved = tuple(tpl[v].resolve(ctx) if v in tpl else v for v in self.values)
        return _cached_matcher(self.spec, resolved)

    def describe(self) -> str:
        """E.g. ``aws:PrincipalOrgID = o-example`` or ``some value of k like a*``."""
        sym = self.spec.symbol
        if self.spec.family == "null":
            wants_absent = self.values == ("true",)
            text = f"{self.key} is {'absent' if wants_absent else 'present'}"
            if set(self.values) == {"true", "false"}:
                text = f"{self.key} is absent or present"
            return text
        if len(self.values) == 1:
            rhs = f"{sym} {self.values[0]}"
        elif self.spec.negated:
            rhs = " and ".join(f"{sym} {v}" for v in self.values)
        else:
            rhs = f"{sym} one of [{', '.join(self.values)}]"
        key = self.key
        if self.qualifier == FOR_ALL:
            key = f"every value of {key}"
        elif self.qualifier == FOR_ANY:
            key = f"some value of {key}"
        text = f"{key} {rhs}"
        if self.if_exists:
            text += " (if present)"
        return text

    def actual(self, ctx: ContextValues) -> str:
        """What the request had for this key, for explanations."""
        x = ctx.get(self.key_lc)
        if x is None or (not isinstance(x, str) and len(x) == 0):
            return "none"
        if isinstance(x, str):
            return repr(x)
        return "[" + ", ".join(repr(v) for v in x) + "]"


_MATCHER_CACHE: dict[tuple[str, tuple[str | Pieces, ...]], Matcher] = {}


def _cached_matcher(spec: OperatorSpec, resolved: tuple[str | Pieces, ...]) -> Matcher:
    """Matcher for values with resolved policy variables (substituted text is never a wildcard;
    a resolved ARN pattern is matched as a whole string)."""
    key = (spec.name, resolved)
    m = _MATCHER_CACHE.get(key)
    if m is None:
        if len(_MATCHER_CACHE) > 4096:
            _MATCHER_CACHE.clear()
        if spec.family in ("like", "arn"):
            m = compile_pieces(resolved)
        else:
            m = build_matcher(spec, [v if isinstance(v, str) else "".join(t for t, _ in v)
                                     for v in resolved])
        _MATCHER_CACHE[key] = m
    return m


# --- parsing a Condition block ---------------------------------------------------------------------


def _check_value(spec: OperatorSpec, value: str) -> tuple[str, str | None] | None:
    """(message, allowed) when ``value`` is not valid for ``spec``; None when it is."""
    fam = spec.family
    if fam == "numeric" and parse_number(value) is None:
        return f"'{value}' is not a number", f"{spec.name} compares numbers, e.g. 443"
    if fam == "date" and parse_date(value) is None:
        return (f"'{value}' is not a date",
                "ISO 8601 such as 2025-01-31T00:00:00Z, or epoch seconds")
    if fam in ("bool", "null") and value.lower() not in ("true", "false"):
        return f"'{value}' is not a boolean", "true | false"
    if fam == "ip" and parse_network(value) is None:
        return (f"'{value}' is not an IP address or CIDR block",
                "e.g. 10.0.0.0/16, 192.0.2.7 or 2001:db8::/32")
    if fam == "binary":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return f"'{value}' is not base64", "BinaryEquals compares base64-encoded bytes"
    return None


def parse_condition_block(block: object, path: tuple[str | int, ...], error: ErrorFn,
                          warn: ErrorFn, *, variables: bool) -> tuple[Condition, ...]:
    """Compile a statement's ``Condition`` mapping; report every problem through ``error``."""
    from latsim.auth.context import GLOBAL_KEYS, LATTICE_KEYS  # local: avoid an import cycle

    if not isinstance(block, Mapping):
        error(path, "Condition must be an object of operator -> {key: value(s)}")
        return ()
    out: list[Condition] = []
    for op_name, keys in block.items():
        op_path = (*path, str(op_name))
        try:
            qualifier, spec, if_exists = parse_operator(str(op_name))
        except OperatorError as exc:
            error(op_path, str(exc), hint=exc.hint)
            continue
        if not isinstance(keys, Mapping) or not keys:
            error(op_path, f"{op_name} must be a non-empty object of condition key -> value(s)")
            continue
        for key, raw in keys.items():
            key_path = (*op_path, str(key))
            key = str(key)
            if ":" not in key or key.startswith(":") or key.endswith(":"):
                error(key_path, f"'{key}' is not a condition key",
                      allowed="service:Key, e.g. aws:PrincipalOrgID or vpc-lattice-svcs:SourceVpc")
                continue
            _check_key(key, key_path, warn, LATTICE_KEYS, GLOBAL_KEYS)
            items = list(raw) if isinstance(raw, list | tuple) else [raw]
            if not items:
                error(key_path, "empty value list (the condition could never hold)")
                continue
            values: list[str] = []
            templates: list[Template] = []
            ok = True
            for i, item in enumerate(items):
                item_path = (*key_path, i) if isinstance(raw, list | tuple) else key_path
                text = to_policy_string(item)
                if text is None:
                    error(item_path, f"condition values must be strings, numbers or booleans, "
                          f"not {type(item).__name__}")
                    ok = False
                    continue
                bad = _check_value(spec, text)
                if bad:
                    error(item_path, bad[0], allowed=bad[1])
                    ok = False
                    continue
                if variables and spec.family in _VARIABLE_FAMILIES and "${" in text:
                    tpl = parse_template(text)
                    if tpl is None:
                        error(item_path, f"malformed policy variable in '{text}'",
                              allowed="${key} or ${key, 'default'}")
                        ok = False
                        continue
                    if isinstance(tpl, Template):
                        templates.append(tpl)
                if spec.family in ("bool", "null"):
                    text = text.lower()
                values.append(text)
            if not ok:
                continue
            vals = tuple(values)
            match = None if templates else (
                build_matcher(spec, vals) if spec.family != "null" else (lambda _s: False))
            out.append(Condition(
                operator=str(op_name), spec=spec, qualifier=qualifier, if_exists=if_exists,
                key=key, key_lc=key.lower(), values=vals, templates=tuple(templates), match=match))
    return tuple(out)


def _check_key(key: str, path: tuple[str | int, ...], warn: ErrorFn,
               lattice_keys: Sequence[str], global_keys: Sequence[str]) -> None:
    """Warn about keys Lattice never sets (typos, the wrong service prefix)."""
    prefix, _, name = key.partition(":")
    lower = key.lower()
    if prefix.lower() == "vpc-lattice-svcs":
        known = [k.lower() for k in lattice_keys]
        if not any(lower == k or (k.endswith("/") and lower.startswith(k) and len(lower) > len(k))
                   for k in known):
            stem = key.split("/", 1)[0] + ("/" if "/" in key else "")
            warn(path, f"'{key}' is not a vpc-lattice-svcs condition key; it is never set",
                 hint=suggest(stem, lattice_keys))
    elif prefix.lower() == "aws":
        if lower == "aws:sourcevpc":
            warn(path, "Lattice does not set aws:SourceVpc",
                 hint="use vpc-lattice-svcs:SourceVpc for the client VPC")
            return
        known = [k.lower() for k in global_keys]
        if not any(lower == k or (k.endswith("/") and lower.startswith(k) and len(lower) > len(k))
                   for k in known):
            stem = key.split("/", 1)[0] + ("/" if "/" in key else "")
            warn(path, f"'{key}' is not a known global condition key",
                 hint=suggest(stem, global_keys))
    elif prefix.lower() == "vpc-lattice":
        warn(path, f"'{key}' is a control-plane key; Lattice requests carry vpc-lattice-svcs keys",
             hint=suggest("vpc-lattice-svcs:" + name, lattice_keys))
