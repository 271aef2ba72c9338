"""Fuzzed auth policies: ``parse_policy`` gives a Policy or a located ScenarioError, and a policy
that parses decides every random request (``build_context`` + ``authorize``) without raising.

The documents mix the grammar Lattice accepts (every condition operator, qualifier and
``IfExists`` form, policy variables, wildcards) with wrong types, unknown elements and odd
strings; the requests mix real callers with unusual methods, paths, headers, query strings and
addresses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from latsim.auth import CONNECT, INVOKE, OPERATOR_NAMES, Principal, authorize, build_context, parse_policy
from latsim.errors import LatsimError, ScenarioError
from tests.conftest import FUZZ

ACCT = "111122223333"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
SN = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:servicenetwork/sn-0123456789abcdef0"

ODD = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=10),
                st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.text(max_size=4),
                                                                      max_size=2))
ARNS = st.sampled_from([
    f"arn:aws:iam::{ACCT}:root", f"arn:aws:iam::{ACCT}:role/rates-client", f"arn:aws:iam::{ACCT}:role/a/b/c",
    f"arn:aws:iam::{ACCT}:user/bob", f"arn:aws:sts::{ACCT}:assumed-role/rates-client/session",
    f"arn:aws:sts::{ACCT}:federated-user/eve", "arn:aws:iam::444455556666:root", ACCT, "444455556666",
    "arn:aws-cn:iam::111122223333:user/x", "arn:aws:iam::1234:root", "arn:aws:iam::*:role/*", "arn:*", "*",
    "arn:aws:sts::111122223333:assumed-role/only", "arn:aws:iam::111122223333:group/g", "", "arn::::",
])
STRINGS = st.one_of(st.text(max_size=12), st.sampled_from([
    "*", "?", "**", "*/*", "*/rates", f"{SVC}/*", f"{SVC}/admin*", SVC, SN, "/", "/rates", "GET", "get",
    "10.0.0.0/16", "10.0.0.1", "::1", "2001:db8::/32", "10.0.0.0/33", "999.1.1.1", "0.0.0.0/0",
    "2020-01-01T00:00:00Z", "2020-01-01", "1577836800", "2020-13-45", "1e3", "1e400", "-0", "nan", "inf", "0x10",
    "true", "false", "TRUE", "yes", "Zm9v", "Zm9v=", "!!", "${aws:PrincipalTag/team}", "${aws:username}",
    "${*}", "${?}", "${$}", "${", "$", "${aws:SourceIp}", "${unknown:key}", "${aws:PrincipalTag/}", "o-acme12345",
    "o-acme12345/*", "Anonymous", "AssumedRole", "\x00", "é", "\U0001f600",
]))
CONDITION_KEYS = ([
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalType",
    "aws:PrincipalTag/team", "aws:ResourceTag/env", "aws:SourceIp", "aws:username", "aws:CurrentTime",
    "aws:EpochTime", "aws:SecureTransport", "vpc-lattice-svcs:Port", "vpc-lattice-svcs:RequestMethod",
    "vpc-lattice-svcs:RequestPath", "vpc-lattice-svcs:RequestHeader/x-tenant", "vpc-lattice-svcs:RequestHeader/",
    "vpc-lattice-svcs:RequestQueryString/v", "vpc-lattice-svcs:ServiceArn", "vpc-lattice-svcs:ServiceNetworkArn",
    "vpc-lattice-svcs:SourceVpc", "vpc-lattice-svcs:SourceVpcOwnerAccount", "aws:SourceVpc", "s3:prefix",
    "AWS:SOURCEIP", "aws:", ":", "",
])
KEYS = st.one_of(st.text(max_size=10), st.sampled_from(CONDITION_KEYS))
OPERATORS = st.one_of(
    st.sampled_from(OPERATOR_NAMES),
    st.builds(lambda q, o: f"{q}:{o}", st.sampled_from(["ForAllValues", "ForAnyValue", "forallvalues", "Any", ""]),
              st.sampled_from(OPERATOR_NAMES)),
    st.sampled_from(["StringEqualz", "Null", "NullIfExists", "stringequals", "", ":", "ForAllValues:",
                     "ForAllValues:ForAnyValue:StringEquals", "IpAddressIfExistsIfExists"]),
    st.text(max_size=8))
VALUES = st.one_of(STRINGS, st.lists(STRINGS, max_size=3), ODD, st.lists(ODD, max_size=2))
CONDITION = st.one_of(st.dictionaries(OPERATORS, st.one_of(st.dictionaries(KEYS, VALUES, max_size=2), ODD),
                                      max_size=2), ODD)
PRINCIPAL = st.one_of(st.sampled_from(["*", {"AWS": "*"}]), st.builds(lambda a: {"AWS": a}, ARNS),
                      st.builds(lambda a: {"AWS": a}, st.lists(ARNS, max_size=3)),
                      st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "aws", "X"]),
                                      st.one_of(ARNS, st.lists(ARNS, max_size=2), ODD), max_size=2),
                      ARNS, ODD)
ACTIONS = st.one_of(st.sampled_from(["vpc-lattice-svcs:Invoke", "vpc-lattice-svcs:Connect", "vpc-lattice-svcs:*",
                                     "*", "VPC-LATTICE-SVCS:invoke", "vpc-lattice-svcs:Inv?ke", "s3:GetObject",
                                     "vpc-lattice:*", "", "vpc-lattice-svcs"]),
                    st.lists(STRINGS, max_size=3), ODD)
RESOURCES = st.one_of(STRINGS, st.lists(STRINGS, max_size=3), ODD)
ELEMENTS = {
    "Sid": st.one_of(st.sampled_from(["A", "B", "a b", ""]), ODD),
    "Effect": st.one_of(st.sampled_from(["Allow", "Deny", "allow", "DENY", "Maybe"]), ODD),
    "Principal": PRINCIPAL, "NotPrincipal": PRINCIPAL,
    "Action": ACTIONS, "NotAction": ACTIONS,
    "Resource": RESOURCES, "NotResource": RESOURCES,
    "Condition": CONDITION,
}

# --- the well-formed side: values each operator family accepts, so most policies parse and decide ---
GOOD_KEYS = [k for k in CONDITION_KEYS if ":" in k and not k.endswith((":", "/"))]
GOOD_ARNS = [f"arn:aws:iam::{ACCT}:root", f"arn:aws:iam::{ACCT}:role/rates-client", f"arn:aws:iam::{ACCT}:user/bob",
             f"arn:aws:sts::{ACCT}:assumed-role/rates-client/session", ACCT, "444455556666"]
FAMILY_VALUES = {
    "String": ["GET", "/rates", "blue", "o-acme12345", "${aws:PrincipalTag/team}", "", "AssumedRole"],
    "Like": ["/admin*", "*", "b?ue", "${aws:username}*", f"{SVC}/*"],
    "Arn": [SVC, f"{SVC}/*", "arn:aws:iam::*:role/*", f"arn:aws:iam::{ACCT}:root"],
    "Numeric": ["443", "-1.5", "1e3", "0"],
    "Date": ["2020-01-01T00:00:00Z", "2020-01-01", "1577836800", "2100-01-01T00:00:00+02:00"],
    "Ip": ["10.0.0.0/16", "10.0.3.4", "::1", "2001:db8::/32", "0.0.0.0/0"],
    "Bool": ["true", "false"],
    "Binary": ["Zm9v", ""],
    "Null": ["true", "false"],
}


def _family(operator: str) -> str:
    base = operator.removesuffix("IfExists").replace("Not", "")
    for name in ("Like", "Arn", "Numeric", "Date", "Ip", "Bool", "Binary", "Null"):
        if name in base:
            return name
    return "String"


# Strategies are built once, here: built inside a composite they would be analysed anew for every
# example, which costs more than the policy evaluation under test.
ONE_IN = {n: st.integers(0, n - 1) for n in (2, 4, 5, 6, 7, 10, 11, 13, 26)}
OPERATOR = st.sampled_from(OPERATOR_NAMES)
QUALIFIER = st.sampled_from(["ForAllValues:", "ForAnyValue:"])
GOOD_KEY = st.sampled_from(GOOD_KEYS)
FAMILY_STRATEGIES = {family: st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1,
                                                                         max_size=3))
                     for family, values in FAMILY_VALUES.items()}


@st.composite
def good_condition(draw: Any) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for _ in range(1 + draw(ONE_IN[2])):
        operator = draw(OPERATOR)
        if draw(ONE_IN[4]) == 0 and not operator.startswith("Null"):
            operator = draw(QUALIFIER) + operator
        block.setdefault(operator, {})[draw(GOOD_KEY)] = draw(FAMILY_STRATEGIES[_family(operator)])
    return block


GOOD = {
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Principal": st.one_of(st.sampled_from(["*", {"AWS": "*"}]), st.sampled_from(GOOD_ARNS).map(lambda a: {"AWS": a}),
                           st.lists(st.sampled_from(GOOD_ARNS), min_size=1, max_size=3).map(lambda a: {"AWS": a})),
    "Action": st.sampled_from(["vpc-lattice-svcs:Invoke", "vpc-lattice-svcs:Connect", "vpc-lattice-svcs:*", "*",
                               "vpc-lattice-svcs:Inv*", ["vpc-lattice-svcs:Connect", "vpc-lattice-svcs:Invoke"]]),
    "Resource": st.sampled_from(["*", "*/*", "*/rates", f"{SVC}/*", f"{SVC}/admin*", SVC, f"{SVC}/${{aws:username}}",
                                 [f"{SVC}/rates", f"{SVC}/rates/*"]]),
    "Sid": st.sampled_from(["A", "B", "C"]),
    "Condition": good_condition(),
}
GOOD["NotPrincipal"], GOOD["NotAction"], GOOD["NotResource"] = GOOD["Principal"], GOOD["Action"], GOOD["Resource"]


@st.composite
def statement(draw: Any) -> Any:
    """A statement: well-formed five times in six, else with odd elements too."""
    if draw(ONE_IN[26]) == 0:
        return draw(ODD)
    messy = draw(ONE_IN[6]) == 0
    elements = ELEMENTS if messy else GOOD
    st_: dict[str, Any] = {"Effect": draw(elements["Effect"])}
    for name in ("Principal", "Action", "Resource"):
        if draw(ONE_IN[7] if messy else ONE_IN[13]):
            key = name if draw(ONE_IN[6]) else "Not" + name
            st_[key] = draw(elements[key])
    for name in ("Sid", "Condition"):
        if draw(ONE_IN[2]):
            st_[name] = draw(elements[name])
    if messy and draw(ONE_IN[5]) == 0:
        st_[draw(STRAY_KEYS)] = draw(ODD)
    return st_


STRAY_KEYS = st.sampled_from(["Principals", "effect", "Conditions", "X"])
VERSIONS = st.sampled_from(["2012-10-17"] * 5 + ["2008-10-17", None, "2012-10-18", 2012])
TOP_KEYS = st.sampled_from(["Id", "Statements", "version", ""])
ODD_TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["{", "[]", "null", '{"Statement": [}', "1e999"]))


@st.composite
def policy_document(draw: Any) -> Any:
    """A policy: a mapping (most of the time), its JSON text, or odd text."""
    doc: dict[str, Any] = {}
    version = draw(VERSIONS)
    if version is not None:
        doc["Version"] = version
    shape = draw(ONE_IN[10])
    if shape == 0:
        doc["Statement"] = draw(STATEMENT)
    elif shape == 1:
        doc["Statement"] = draw(ODD)
    elif shape > 2:
        doc["Statement"] = draw(STATEMENTS)
    if draw(ONE_IN[11]) == 0:
        doc[draw(TOP_KEYS)] = draw(ODD)
    form = draw(ONE_IN[13])
    if form == 0:
        return json.dumps(doc)
    if form == 1:
        return draw(ODD_TEXT)
    return doc


STATEMENT = statement()
STATEMENTS = st.lists(STATEMENT, max_size=4)


def _principal(arn: str, org: str | None = None, paths: tuple[str, ...] = (),
               tags: dict[str, str] | None = None) -> Principal | None:
    try:
        return Principal(arn, org_id=org, org_paths=paths, tags=tags or {})
    except LatsimError:
        return None  # not a caller Lattice can see: the request is anonymous


#: Callers, built once (drawing them field by field would cost more than the rest of a request).
CALLERS = [None, *[p for p in (_principal(arn, org, paths, tags) for arn in ARNS.elements
                               for org, paths, tags in ((None, (), {}),
                                                        ("o-acme12345", ("o-acme12345/r-1/*",), {"team": "blue"}),
                                                        ("", ("",), {"Team": "é", "": ""})))
                   if p is not None]]
HEADERS = st.sampled_from([{}, {"X-Tenant": "blue"}, {"x-tenant": ["a", "b"]}, {"X-Tenant": "a", "x-tenant": "b"},
                           {"": ""}, {"a b": []}, {"x-tenant": "é\x00"}])
QUERIES = st.sampled_from([{}, {"v": "1"}, {"v": ["3", "2"]}, {"V": [], "v": "1"}, {"": ""}, {"&": "="}])
NOW = st.one_of(st.integers(0, 2**32), st.sampled_from([None, 0.5, datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
                                                                 datetime(1999, 12, 31, tzinfo=UTC)]))


TEXT = st.text(max_size=10)
REQUEST_FIELDS = {
    "service_arn": st.sampled_from([SVC, f"{SVC}x", "arn:aws:vpc-lattice:us-east-1:1:service/svc-1"]),
    "action": st.sampled_from([INVOKE, INVOKE, CONNECT]),
    "principal": st.sampled_from(CALLERS),
    "service_network_arn": st.sampled_from([None, SN]),
    "service_tags": st.sampled_from([{}, {"env": "prod"}, {"ENV": "x", "team": ""}]),
    "source_vpc": st.sampled_from([None, "vpc-0123", ""]),
    "source_vpc_owner": st.sampled_from([None, ACCT]),
    "source_ip": st.one_of(st.sampled_from([None, "10.0.3.4", "192.0.2.1", "::1", "2001:db8::5", "10.0.0.0/8", "",
                                            "300.1.1.1"]), TEXT),
    "port": st.sampled_from([None, 443, 80, 8080, 0, -1, 70000]),
    "method": st.one_of(st.sampled_from([None, "GET", "post", "DELETE", ""]), TEXT),
    "path": st.one_of(st.sampled_from([None, "/", "/rates", "/admin/x?y=1", "", "?", "//"]), TEXT),
    "headers": HEADERS,
    "query": QUERIES,
    "grpc": st.booleans(),
    "now": NOW,
    "secure_transport": st.sampled_from([None, True, False]),
}


@st.composite
def request(draw: Any) -> Any:
    """A request context; the drawing is kept cheap (sampled values) where the content matters little."""
    return build_context(**{name: draw(field) for name, field in REQUEST_FIELDS.items()})


IDENTITY_POLICIES = [
    None,
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "vpc-lattice-svcs:Invoke",
                                              "Resource": f"{SVC}/admin*"}]},
    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "vpc-lattice-svcs:*", "Resource": "*",
                                             "Condition": {"StringLike": {"aws:PrincipalTag/team": "${aws:username}"}}}},
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},  # not an identity policy
]


def parsed(doc: Any, kind: str | None = None) -> Any:
    """The compiled policy, or None after checking that the refusal is a located ScenarioError."""
    try:
        return parse_policy(doc, kind=kind)
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return None


#: Matches every request by the policy language's definition (no condition, every wildcard).
UNIVERSAL_DENY = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}


def statements_of(doc: Any) -> list[dict[str, Any]] | None:
    """The statements of a well-formed policy mapping, else None (the laws need the text)."""
    if not isinstance(doc, dict):
        return None
    stmts = doc.get("Statement")
    stmts = [stmts] if isinstance(stmts, dict) else stmts
    if not isinstance(stmts, list) or not all(isinstance(x, dict) for x in stmts):
        return None
    return stmts


def with_statements(doc: dict[str, Any], stmts: list[dict[str, Any]]) -> Any:
    return parsed({**doc, "Statement": stmts})


def check_laws(doc: Any, identity_policy: Any, ctx: Any, auth_types: tuple[str, str]) -> None:
    """The laws of IAM evaluation, stated on the policy text, so that the oracle is the text and
    not the evaluator: (1) statement order is irrelevant; (2) an explicit Deny that matches every
    request wins, at either level; (3) adding the Deny twin of every Allow statement (same
    elements, Effect Deny) always denies — if an Allow matched, so does its twin, and if none
    matched the policy denies implicitly; (4) monotonicity: adding an Allow never turns allow into
    deny, adding a Deny never turns deny into allow; (5) a policy without an Allow statement never
    allows."""
    stmts = statements_of(doc)
    policy = parsed(doc)
    if stmts is None or policy is None:
        return
    sn_on, svc_on = (t == "AWS_IAM" for t in auth_types)

    def allowed(p: Any, level: str) -> bool:
        sn_policy, svc_policy = (p, None) if level == "sn" else (None, p)
        return authorize(sn_auth_type=auth_types[0], sn_policy=sn_policy, svc_auth_type=auth_types[1],
                         svc_policy=svc_policy, identity_policy=identity_policy, ctx=ctx).allowed

    for level, on in (("sn", sn_on), ("svc", svc_on)):
        base = allowed(policy, level)
        event(f"{level} {'on' if on else 'off'} {'allow' if base else 'deny'}")
        reordered = with_statements(doc, stmts[::-1])
        assert reordered is not None and allowed(reordered, level) == base  # (1)
        denied = with_statements(doc, [*stmts, UNIVERSAL_DENY])
        if denied is not None and on:
            assert not allowed(denied, level)  # (2)
        twins = [{**x, "Effect": "Deny"} for x in stmts if x.get("Effect") == "Allow"]
        with_twins = with_statements(doc, [*twins, *stmts])
        if with_twins is not None and on:
            assert not allowed(with_twins, level)  # (3)
        for extra in stmts:  # a statement of the same document, added again with either effect
            for effect in ("Allow", "Deny"):
                grown = with_statements(doc, [*stmts, {**extra, "Effect": effect}])
                if grown is None:
                    continue
                if effect == "Allow" and base:
                    assert allowed(grown, level)  # (4)
                if effect == "Deny" and not base:
                    assert not allowed(grown, level)  # (4)
        if on and not any(x.get("Effect") == "Allow" for x in stmts):
            assert not base  # (5)


def check_policy(doc: Any, identity: Any, requests: list[Any], auth_types: tuple[str, str]) -> None:
    policy = parsed(doc)
    identity_policy = parsed(identity, "identity")
    event("policy parsed" if policy is not None else "policy refused")
    for ctx in requests:
        for sn_policy, svc_policy in ((policy, None), (None, policy), (policy, policy)):
            d = authorize(sn_auth_type=auth_types[0], sn_policy=sn_policy, svc_auth_type=auth_types[1],
                          svc_policy=svc_policy, identity_policy=identity_policy, ctx=ctx)
            assert isinstance(d.allowed, bool)
            assert d.allowed == (d.auth_denied_reason is None)
            assert d.describe()
        check_laws(doc, identity_policy, ctx, auth_types)


AUTH_TYPES = st.tuples(st.sampled_from(["AWS_IAM", "NONE", None]), st.sampled_from(["AWS_IAM", "NONE", None]))
CASES = (policy_document(), st.sampled_from(IDENTITY_POLICIES), st.lists(request(), min_size=1, max_size=1),
         AUTH_TYPES)


@example({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                  "Resource": "*", "Condition": {"DateLessThan": {
                                                      "aws:CurrentTime": "2020-13-45"}}}]},
         None, [build_context(service_arn=SVC, now=0.0)], ("AWS_IAM", "NONE"))
@given(*CASES)
def test_fuzzed_policies_parse_or_fail_located_and_always_decide(doc, identity, requests, auth_types):
    check_policy(doc, identity, requests, auth_types)


@pytest.mark.slow
@FUZZ
@given(*CASES)
def test_fuzz_auth_policies_10k(doc, identity, requests, auth_types):
    check_policy(doc, identity, requests, auth_types)


# --- the laws on well-formed generated policies: broad enough that allows are common ------------------
# Earlier (and repeated) values are the ones that cover the request: hypothesis favours the start of a
# sampled list, and a law is only tested when the policy allows often enough.
LAW_PRINCIPAL = st.sampled_from(["*", {"AWS": "*"}, {"AWS": ACCT}, "*", *({"AWS": a} for a in GOOD_ARNS)])
LAW_ACTION = st.sampled_from(["vpc-lattice-svcs:Invoke", "*", "vpc-lattice-svcs:*", "vpc-lattice-svcs:Inv*",
                              "vpc-lattice-svcs:Connect"])
LAW_RESOURCE = st.sampled_from(["*", f"{SVC}/*", "*/*", f"{SVC}/admin*", "*/rates", SVC])
PLAIN = st.sampled_from([True, True, True, True, False])  # the element itself, or its Not- form


@st.composite
def law_statement(draw: Any) -> dict[str, Any]:
    x: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    for name, values in (("Principal", LAW_PRINCIPAL), ("Action", LAW_ACTION), ("Resource", LAW_RESOURCE)):
        x[name if draw(PLAIN) else "Not" + name] = draw(values)
    if not draw(PLAIN):
        x["Condition"] = draw(good_condition())
    return x


LAW_CASES = (st.lists(law_statement(), min_size=1, max_size=5).map(lambda s: {"Version": "2012-10-17",
                                                                               "Statement": s}),
             st.sampled_from([None, None, None, *IDENTITY_POLICIES[1:4]]),
             st.builds(build_context, service_arn=st.just(SVC), action=st.sampled_from([INVOKE, INVOKE, CONNECT]),
                       principal=st.sampled_from(CALLERS[:8]),
                       method=st.sampled_from(["GET", "POST"]), path=st.sampled_from(["/", "/rates", "/admin/x"]),
                       source_ip=st.sampled_from([None, "10.0.3.4", "192.0.2.1"]), port=st.sampled_from([443, 80]),
                       headers=HEADERS, query=QUERIES, service_tags=REQUEST_FIELDS["service_tags"]),
             st.sampled_from([("AWS_IAM", "NONE"), ("NONE", "AWS_IAM")]))


@given(*LAW_CASES)
def test_auth_laws_hold_on_generated_policies(doc, identity, ctx, auth_types):
    check_laws(doc, parsed(identity, "identity"), ctx, auth_types)


@pytest.mark.slow
@FUZZ
@given(*LAW_CASES)
def test_fuzz_auth_laws(doc, identity, ctx, auth_types):
    check_laws(doc, parsed(identity, "identity"), ctx, auth_types)
