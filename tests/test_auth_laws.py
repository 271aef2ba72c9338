"""Property laws of the auth decision and of the wildcard and IP matchers."""

from __future__ import annotations

import fnmatch
import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.auth import Principal, RequestContext, authorize, build_context, parse_policy
from latsim.auth.patterns import compile_globs

ACCT = "111122223333"
OTHER = "444455556666"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
SVC2 = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0fedcba9876543210"

PRINCIPALS = st.sampled_from([
    "*", {"AWS": "*"}, {"AWS": ACCT}, {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": f"arn:aws:iam::{ACCT}:role/rates-client"}, {"AWS": f"arn:aws:iam::{ACCT}:user/bob"},
])
ACTIONS = st.sampled_from(["vpc-lattice-svcs:Invoke", "vpc-lattice-svcs:*", "*",
                           "vpc-lattice-svcs:Connect", ["vpc-lattice-svcs:Connect", "vpc-lattice-svcs:Invoke"]])
RESOURCES = st.sampled_from(["*", "*/*", "*/rates", f"{SVC}/*", f"{SVC2}/*", f"{SVC}/admin*", SVC])
CONDITIONS = st.sampled_from([
    None,
    {"StringEquals": {"vpc-lattice-svcs:RequestMethod": "GET"}},
    {"StringNotEqualsIgnoreCase": {"aws:PrincipalType": "anonymous"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-example"}},
    {"StringLike": {"vpc-lattice-svcs:RequestPath": "/admin*"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/16"}},
    {"NumericEquals": {"vpc-lattice-svcs:Port": "443"}},
    {"Null": {"aws:PrincipalArn": "true"}},
    {"ForAnyValue:StringEquals": {"vpc-lattice-svcs:RequestQueryString/v": ["1", "2"]}},
    {"StringEqualsIfExists": {"vpc-lattice-svcs:RequestHeader/x-tenant": "blue"}},
])


BROAD_PRINCIPALS = st.sampled_from(["*", {"AWS": "*"}, {"AWS": ACCT}])
BROAD_ACTIONS = st.sampled_from(["*", "vpc-lattice-svcs:*", "vpc-lattice-svcs:Invoke"])
BROAD_RESOURCES = st.sampled_from(["*", "*/*", f"{SVC}/*"])


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    """A statement; half of them broad (likely to apply) so the laws are rarely vacuous."""
    broad = draw(st.booleans())
    s: dict[str, Any] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Principal": draw(BROAD_PRINCIPALS if broad else PRINCIPALS),
        "Action": draw(BROAD_ACTIONS if broad else ACTIONS),
        "Resource": draw(BROAD_RESOURCES if broad else RESOURCES),
    }
    cond = draw(st.none() if broad and draw(st.booleans()) else CONDITIONS)
    if cond is not None:
        s["Condition"] = cond
    return s


CALLERS = st.sampled_from([
    None,
    Principal(f"arn:aws:sts::{ACCT}:assumed-role/rates-client/s", org_id="o-example"),
    Principal(f"arn:aws:iam::{ACCT}:user/bob"),
    Principal(f"arn:aws:iam::{OTHER}:user/eve", org_id="o-other"),
])


@st.composite
def requests(draw: Any) -> RequestContext:
    action = draw(st.sampled_from(["vpc-lattice-svcs:Invoke"] * 3 + ["vpc-lattice-svcs:Connect"]))
    return build_context(
        action=action,
        service_arn=draw(st.sampled_from([SVC, SVC, SVC2])),
        principal=draw(CALLERS),
        method=draw(st.sampled_from(["GET", "POST"])),
        path=draw(st.sampled_from(["/", "/rates", "/admin/users"])),
        source_ip=draw(st.sampled_from([None, "10.0.3.4", "192.0.2.1"])),
        port=draw(st.sampled_from([443, 8080])),
        query=draw(st.sampled_from([{}, {"v": ["1"]}, {"v": ["3", "2"]}])),
        headers=draw(st.sampled_from([{}, {"X-Tenant": "blue"}, {"x-tenant": "red"}])),
    )


def decide(stmts: list[dict[str, Any]], ctx: RequestContext, level: str = "svc") -> bool:
    p = parse_policy({"Version": "2012-10-17", "Statement": stmts}) if stmts else None
    if level == "svc":
        d = authorize(sn_auth_type="NONE", sn_policy=None, svc_auth_type="AWS_IAM", svc_policy=p,
                      identity_policy=None, ctx=ctx)
    else:
        d = authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="NONE", svc_policy=None,
                      identity_policy=None, ctx=ctx)
    return d.allowed


LAW = settings(max_examples=150, deadline=None)


@LAW
@given(st.lists(statements(), max_size=5), statements(effect="Deny"), requests(),
       st.sampled_from(["svc", "sn"]))
def test_explicit_deny_always_wins(stmts: list[dict[str, Any]], deny: dict[str, Any],
                                   ctx: RequestContext, level: str) -> None:
    # The oracle is the policy text, not Statement.applies: the Deny matches exactly when its Allow
    # twin (the same elements) alone allows; a Deny matching everything by its text always matches.
    if decide([{**deny, "Effect": "Allow"}], ctx, level):
        assert not decide([*stmts, deny], ctx, level)
        assert not decide([deny, *stmts], ctx, level)
    universal = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    assert not decide([*stmts, universal], ctx, level)


@LAW
@given(st.lists(statements(), min_size=1, max_size=6), requests(), st.randoms(use_true_random=False))
def test_statement_order_never_matters(stmts: list[dict[str, Any]], ctx: RequestContext,
                                       rnd: Any) -> None:
    shuffled = list(stmts)
    rnd.shuffle(shuffled)
    assert decide(stmts, ctx) == decide(shuffled, ctx)


@LAW
@given(st.lists(statements(), max_size=5), statements(effect="Allow"), requests())
def test_adding_an_allow_never_turns_allow_into_deny(stmts: list[dict[str, Any]],
                                                     extra: dict[str, Any], ctx: RequestContext) -> None:
    if decide(stmts, ctx):
        assert decide([*stmts, extra], ctx)


@LAW
@given(st.lists(statements(), max_size=5), statements(effect="Deny"), requests())
def test_adding_a_deny_never_turns_deny_into_allow(stmts: list[dict[str, Any]],
                                                   extra: dict[str, Any], ctx: RequestContext) -> None:
    if not decide(stmts, ctx):
        assert not decide([*stmts, extra], ctx)


@LAW
@given(st.lists(statements(), max_size=4), st.lists(statements(), max_size=4), requests())
def test_allowed_only_if_both_levels_allow(sn: list[dict[str, Any]], svc: list[dict[str, Any]],
                                           ctx: RequestContext) -> None:
    sn_p = parse_policy({"Statement": sn}) if sn else None
    svc_p = parse_policy({"Statement": svc}) if svc else None
    d = authorize(sn_auth_type="AWS_IAM", sn_policy=sn_p, svc_auth_type="AWS_IAM", svc_policy=svc_p,
                  identity_policy=None, ctx=ctx)
    assert d.allowed == (decide(sn, ctx, "sn") and decide(svc, ctx, "svc"))
    assert (d.body is None) == d.allowed


# --- matchers against reference implementations ----------------------------------------------------

ALPHABET = st.sampled_from(list("ab/*?[]-.:"))
TEXT = st.text(alphabet=st.sampled_from(list("ab/[]-.:*?")), max_size=12)


def reference_like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=10), TEXT)
def test_string_like_agrees_with_fnmatch(pattern: str, value: str) -> None:
    assert compile_globs([pattern])(value) == reference_like(pattern, value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=8), min_size=1, max_size=4), TEXT)
def test_string_like_with_several_patterns_is_their_or(patterns: list[str], value: str) -> None:
    assert compile_globs(patterns)(value) == any(reference_like(p, value) for p in patterns)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=10), TEXT)
def test_string_like_condition_agrees_with_fnmatch(pattern: str, value: str) -> None:
    p = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                     "Resource": "*", "Condition": {"StringLike": {"a:k": pattern}}}]})
    ctx = RequestContext(action="vpc-lattice-svcs:Invoke", resource=f"{SVC}/", principal=None,
                         values={"a:k": value})
    assert (p.evaluate(ctx).verdict == "allow") == reference_like(pattern, value)


IPV4 = st.ip_addresses(v=4)
IPV6 = st.ip_addresses(v=6)


@st.composite
def networks(draw: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    addr = draw(st.one_of(IPV4, IPV6))
    prefix = draw(st.integers(min_value=0, max_value=addr.max_prefixlen))
    return ipaddress.ip_network(f"{addr}/{prefix}", strict=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(networks(), min_size=1, max_size=3), st.one_of(IPV4, IPV6))
def test_ip_address_agrees_with_the_ipaddress_module(nets: list[Any], addr: Any) -> None:
    p = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                     "Resource": "*",
                                     "Condition": {"IpAddress": {"aws:SourceIp": [str(n) for n in nets]}}}]})
    ctx = build_context(service_arn=SVC, source_ip=str(addr))
    expected = any(addr.version == n.version and addr in n for n in nets)
    assert (p.evaluate(ctx).verdict == "allow") == expected
    q = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                     "Resource": "*",
                                     "Condition": {"NotIpAddress": {"aws:SourceIp": [str(n) for n in nets]}}}]})
    assert (q.evaluate(ctx).verdict == "allow") == (not expected)
