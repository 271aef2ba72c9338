"""Parsing auth policies: accepted forms, located errors with "did you mean", warnings, size quota."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruamel.yaml import YAML

from latsim.auth import MAX_POLICY_CHARS, parse_policy
from latsim.errors import Location, Problem, ScenarioError

ACCT = "111122223333"
INVOKE = "vpc-lattice-svcs:Invoke"


def statement(**overrides: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": "*"}
    for k, v in overrides.items():
        if v is None:
            st.pop(k, None)
        else:
            st[k] = v
    return st


def problems(doc: Any, **kw: Any) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        parse_policy(doc, **kw)
    return info.value.problems


def only(doc: Any, **kw: Any) -> Problem:
    found = problems(doc, **kw)
    assert len(found) == 1, [p.format() for p in found]
    return found[0]


# --- accepted forms ------------------------------------------------------------------------------


def test_a_single_statement_object_is_accepted() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": statement(Sid="One")})
    assert len(p.statements) == 1 and p.statements[0].sid == "One"


def test_version_is_optional_and_2008_is_accepted() -> None:
    assert parse_policy({"Statement": [statement()]}).version is None
    assert parse_policy({"Version": "2008-10-17", "Statement": [statement()]}).version == "2008-10-17"


def test_a_json_string_is_accepted() -> None:
    doc = {"Version": "2012-10-17", "Statement": [statement()]}
    assert parse_policy(json.dumps(doc)).to_dict() == doc


def test_a_ruamel_commented_map_is_accepted() -> None:
    text = """
Version: "2012-10-17"
Statement:
  - Sid: Org
    Effect: Allow
    Principal: "*"
    Action: vpc-lattice-svcs:Invoke
    Resource: "*"
    Condition:
      StringEquals:
        aws:PrincipalOrgID: [o-example]
"""
    doc = YAML().load(text)
    p = parse_policy(doc)
    assert p.statements[0].conditions[0].values == ("o-example",)
    assert json.loads(p.to_json())["Statement"][0]["Sid"] == "Org"


def test_unquoted_yaml_dates_are_read_as_text() -> None:
    doc = YAML().load('Version: 2012-10-17\nStatement:\n  - Effect: Allow\n    Principal: "*"\n'
                      '    Action: "*"\n    Resource: "*"\n'
                      '    Condition: {DateLessThan: {aws:CurrentTime: 2030-01-01}}\n')
    p = parse_policy(doc)
    assert p.version == "2012-10-17"
    assert p.statements[0].conditions[0].values == ("2030-01-01",)


def test_principal_forms_are_accepted() -> None:
    for principal in ("*", {"AWS": "*"}, {"AWS": ACCT}, {"AWS": f"arn:aws:iam::{ACCT}:root"},
                      {"AWS": [f"arn:aws:iam::{ACCT}:role/a", f"arn:aws:iam::{ACCT}:user/b",
                               f"arn:aws:sts::{ACCT}:assumed-role/a/s"]}):
        parse_policy({"Statement": [statement(Principal=principal)]})


def test_identity_policies_have_no_principal() -> None:
    p = parse_policy({"Statement": [statement(Principal=None, Action="*")]}, kind="identity")
    assert p.kind == "identity"
    prob = only({"Statement": [statement()]}, kind="identity")
    assert prob.location.path == "Statement.0.Principal"


def test_numbers_and_booleans_are_read_as_strings() -> None:
    p = parse_policy({"Statement": [statement(Condition={
        "NumericEquals": {"vpc-lattice-svcs:Port": 443}, "Bool": {"aws:SecureTransport": True}})]})
    assert [c.values for c in p.statements[0].conditions] == [("443",), ("true",)]


# --- located errors --------------------------------------------------------------------------------


def test_unknown_operator_is_located_with_a_suggestion() -> None:
    prob = only({"Statement": [statement(Condition={"StringEqualz": {"aws:PrincipalOrgID": "o-1"}})]})
    assert prob.location.path == "Statement.0.Condition.StringEqualz"
    assert "unknown condition operator" in prob.message
    assert prob.hint == "did you mean 'StringEquals'?"


def test_unknown_qualified_operator_keeps_the_qualifier_in_the_suggestion() -> None:
    prob = only({"Statement": [statement(Condition={"ForAnyValue:StringLik": {"a:b": "x"}})]})
    assert prob.hint == "did you mean 'ForAnyValue:StringLike'?"
    prob = only({"Statement": [statement(Condition={"ForAnyValues:StringLike": {"a:b": "x"}})]})
    assert prob.hint == "did you mean 'ForAnyValue'?"


def test_unknown_top_level_key_is_located_with_a_suggestion() -> None:
    prob = only({"Version": "2012-10-17", "Statment": [statement()], "Statement": [statement()]})
    assert prob.location.path == "Statment"
    assert prob.hint == "did you mean 'Statement'?"


def test_unknown_statement_key_is_located_with_a_suggestion() -> None:
    prob = only({"Statement": [statement(Resources="*")]})
    assert prob.location.path == "Statement.0.Resources"
    assert prob.hint == "did you mean 'Resource'?"


def test_bad_effect_is_located_with_a_suggestion() -> None:
    prob = only({"Statement": [statement(Effect="allow")]})
    assert prob.location.path == "Statement.0.Effect"
    assert prob.hint == "did you mean 'Allow'?"


def test_bad_version_is_located() -> None:
    prob = only({"Version": "2012-10-18", "Statement": [statement()]})
    assert prob.location.path == "Version"
    assert prob.hint == "did you mean '2012-10-17'?"


def test_bad_cidr_is_located() -> None:
    prob = only({"Statement": [statement(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "10.0.0.300/8"]}})]})
    assert prob.location.path == "Statement.0.Condition.IpAddress.aws:SourceIp.1"
    assert "10.0.0.300/8" in prob.message


def test_non_numeric_numeric_value_is_located() -> None:
    prob = only({"Statement": [statement(Condition={"NumericLessThan": {"vpc-lattice-svcs:Port": "high"}})]})
    assert prob.location.path == "Statement.0.Condition.NumericLessThan.vpc-lattice-svcs:Port"
    assert "not a number" in prob.message


@pytest.mark.parametrize(("operator", "value", "fragment"), [
    ("DateLessThan", "tomorrow", "not a date"),
    ("Bool", "yes", "not a boolean"),
    ("Null", "maybe", "not a boolean"),
    ("BinaryEquals", "***", "not base64"),
])
def test_bad_typed_values_are_located(operator: str, value: str, fragment: str) -> None:
    prob = only({"Statement": [statement(Condition={operator: {"a:b": value}})]})
    assert prob.location.path == f"Statement.0.Condition.{operator}.a:b"
    assert fragment in prob.message


@pytest.mark.parametrize(("overrides", "path", "fragment"), [
    ({"Action": 5}, "Statement.0.Action", "string"),
    ({"Action": []}, "Statement.0.Action", "non-empty"),
    ({"Action": ["vpc-lattice-svcs:Invoke", 3]}, "Statement.0.Action.1", "strings"),
    ({"Action": "Invoke"}, "Statement.0.Action", "not an action"),
    ({"Resource": "svc-123"}, "Statement.0.Resource", "not a resource"),
    ({"Principal": "everyone"}, "Statement.0.Principal", "Principal must be"),
    ({"Principal": {"AWS": "12345"}}, "Statement.0.Principal.AWS", "not an AWS account id"),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/*"}}, "Statement.0.Principal.AWS",
     "wildcards are not allowed"),
    ({"Principal": {"Aws": "*"}}, "Statement.0.Principal.Aws", "unknown principal type"),
    ({"Condition": []}, "Statement.0.Condition", "Condition must be"),
    ({"Condition": {"StringEquals": "x"}}, "Statement.0.Condition.StringEquals", "non-empty object"),
    ({"Condition": {"StringEquals": {"nocolon": "x"}}}, "Statement.0.Condition.StringEquals.nocolon",
     "not a condition key"),
    ({"Condition": {"StringEquals": {"a:b": {"x": 1}}}}, "Statement.0.Condition.StringEquals.a:b",
     "not dict"),
    ({"Condition": {"StringEquals": {"a:b": []}}}, "Statement.0.Condition.StringEquals.a:b",
     "empty value list"),
    ({"Condition": {"NullIfExists": {"a:b": "true"}}}, "Statement.0.Condition.NullIfExists",
     "Null takes no IfExists"),
    ({"Sid": 3}, "Statement.0.Sid", "Sid must be a string"),
])
def test_wrong_types_and_shapes_are_located(overrides: dict[str, Any], path: str, fragment: str) -> None:
    prob = only({"Statement": [statement(**overrides)]})
    assert prob.location.path == path
    assert fragment in prob.message


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"Effect": None}, "no Effect"),
    ({"Action": None}, "no Action"),
    ({"Resource": None}, "no Resource"),
    ({"NotAction": "a:b"}, "Action or NotAction"),
    ({"NotResource": "*"}, "Resource or NotResource"),
    ({"NotPrincipal": "*"}, "Principal or NotPrincipal"),
])
def test_missing_or_doubled_elements_are_located_at_the_statement(overrides: dict[str, Any],
                                                                  fragment: str) -> None:
    prob = only({"Statement": [statement(**overrides)]})
    assert prob.location.path == "Statement.0"
    assert fragment in prob.message


def test_auth_policies_need_a_principal_in_every_statement() -> None:
    prob = only({"Statement": [statement(Principal=None)]}, kind="resource")
    assert prob.location.path == "Statement.0" and "no Principal" in prob.message
    prob = only({"Statement": [statement(), statement(Principal=None)]})
    assert prob.location.path == "Statement.1" and "no Principal" in prob.message


def test_kind_is_inferred_from_the_principals() -> None:
    assert parse_policy({"Statement": [statement(Principal=None)]}).kind == "identity"
    assert parse_policy({"Statement": [statement()]}).kind == "resource"


def test_duplicate_sids_are_an_error() -> None:
    prob = only({"Statement": [statement(Sid="A"), statement(Sid="A")]})
    assert prob.location.path == "Statement.1.Sid"


def test_a_policy_must_be_an_object_with_statements() -> None:
    assert "no Statement" in only({"Version": "2012-10-17"}).message
    assert "JSON object" in only(json.dumps(["x"])).message
    assert "list of statements" in only({"Statement": "x"}).message


def test_invalid_json_reports_line_and_column() -> None:
    prob = only('{"Statement": [\n  {"Effect": "Allow",,}]}')
    assert prob.location.line == 2 and prob.location.column is not None
    assert "not valid JSON" in prob.message


def test_every_problem_is_reported_at_once() -> None:
    doc = {
        "Versoin": "2012-10-17",
        "Statement": [
            statement(Effect="Alow"),
            statement(Condition={"StringEqualz": {"a:b": "x"}, "IpAddress": {"aws:SourceIp": "bad"}}),
        ],
    }
    paths = {p.location.path for p in problems(doc)}
    assert paths == {"Versoin", "Statement.0.Effect", "Statement.1.Condition.StringEqualz",
                     "Statement.1.Condition.IpAddress.aws:SourceIp"}


def test_policy_over_10_kb_is_an_error_showing_the_size() -> None:
    values = [f"vpc-{i:08x}" for i in range(900)]
    doc = {"Statement": [statement(Condition={"StringEquals": {"vpc-lattice-svcs:SourceVpc": values}})]}
    size = len(json.dumps(doc, separators=(",", ":")))
    assert size > MAX_POLICY_CHARS
    prob = only(doc)
    assert str(size) in prob.message and "10 KB" in prob.message


def test_where_callback_locates_problems_in_the_source_file() -> None:
    calls: list[tuple[Any, ...]] = []

    def where(rel: tuple[str | int, ...]) -> Location:
        calls.append(rel)
        return Location(file="scenario.yaml", line=12, column=7)

    prob = only({"Statement": [statement(Effect="Permit")]}, where=where)
    assert calls == [("Statement", 0, "Effect")]
    assert prob.location == Location(file="scenario.yaml", line=12, column=7, path="Statement.0.Effect")
    assert prob.format().startswith("scenario.yaml:12:7: Statement.0.Effect: Effect must be")


def test_yaml_line_numbers_reach_problems_through_where() -> None:
    text = 'Statement:\n  - Effect: Allow\n    Principal: "*"\n    Action: "*"\n    Resource: "*"\n' \
           '    Condition:\n      StringEqualz:\n        a:b: x\n'
    doc = YAML().load(text)

    def where(rel: tuple[str | int, ...]) -> Location:
        node: Any = doc
        line = col = None
        for part in rel:
            lc = node.lc
            if isinstance(part, int):
                line, col = lc.item(part)
            else:
                line, col = lc.key(part)
            node = node[part]
        return Location(file="s.yaml", line=None if line is None else line + 1,
                        column=None if col is None else col + 1)

    prob = only(doc, where=where)
    assert (prob.location.line, prob.location.column) == (7, 7)


# --- warnings (do not raise) ------------------------------------------------------------------------


def test_lattice_key_typos_are_warnings_with_suggestions() -> None:
    p = parse_policy({"Statement": [statement(Condition={
        "StringEquals": {"vpc-lattice-svcs:SourceVpcs": "vpc-1", "vpc-lattice-svcs:RequestHeaders/x": "y"}})]})
    hints = {w.location.path: w.hint for w in p.warnings}
    assert hints["Statement.0.Condition.StringEquals.vpc-lattice-svcs:SourceVpcs"] == \
        "did you mean 'vpc-lattice-svcs:SourceVpc'?"
    assert hints["Statement.0.Condition.StringEquals.vpc-lattice-svcs:RequestHeaders/x"] == \
        "did you mean 'vpc-lattice-svcs:RequestHeader/'?"
    assert all(w.severity == "warning" for w in p.warnings)


def test_aws_source_vpc_warns_towards_the_lattice_key() -> None:
    p = parse_policy({"Statement": [statement(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})]})
    assert p.warnings[0].hint == "use vpc-lattice-svcs:SourceVpc for the client VPC"


def test_control_plane_action_warns_it_never_matches() -> None:
    p = parse_policy({"Statement": [statement(Action="vpc-lattice:Invoke")]})
    assert p.warnings and "never matches" in p.warnings[0].message
    assert p.warnings[0].hint == "did you mean 'vpc-lattice-svcs:Invoke'?"


def test_not_principal_with_allow_warns() -> None:
    p = parse_policy({"Statement": [statement(Principal=None, NotPrincipal={"AWS": ACCT})]})
    assert any("NotPrincipal" in w.message for w in p.warnings)


def test_empty_statement_list_warns_it_allows_nothing() -> None:
    p = parse_policy({"Statement": []})
    assert p.statements == () and "allows nothing" in p.warnings[0].message
