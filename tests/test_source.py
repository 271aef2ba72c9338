"""``latsim.source``, the one reader of YAML and JSON documents: the same plain data and the same
positions as the ruamel.yaml round-trip reader it replaced (the oracle here), YAML 1.2 scalars,
duplicate keys refused, positions of JSON found on demand."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from latsim.errors import ScenarioError
from latsim.source import parse, parse_documents, parse_yaml
from tests.conftest import ROOT


def ruamel_data(text: str) -> Any:
    """The oracle: ruamel.yaml's YAML 1.2 reader, its scalars made plain."""
    def plain(node: Any) -> Any:
        if isinstance(node, dict):
            return {str(k): plain(v) for k, v in node.items()}
        if isinstance(node, list):
            return [plain(v) for v in node]
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return str(node) if isinstance(node, str) else node
    return plain(YAML(typ="rt", pure=True).load(io.StringIO(text)))


SCALARS = ["on", "off", "yes", "no", "y", "n", "true", "False", "TRUE", "~", "null", "", "017", "0o17", "0x1F",
           "0b101", "1_000", "-0", "+5", "1e3", "1.5e3", ".5", "1.", "-.inf", ".Inf", "3.25", "'3'", '"on"',
           "2001-12-14", "1:30", "20ms", "0.1_0", "1e-3", "-2.5E+2"]


@pytest.mark.parametrize("scalar", SCALARS)
def test_a_plain_scalar_reads_as_ruamel_yaml_1_2_reads_it(scalar):
    text = f"a: {scalar}\nb: [{scalar}]\n"
    data, _ = parse_yaml(text)
    assert data == ruamel_data(text)
    assert type(data["a"]) is type(ruamel_data(text)["a"])


def test_on_is_a_key_and_yes_is_a_string():
    data, _ = parse_yaml("on: yes\noff: no\n")
    assert data == {"on": "yes", "off": "no"}


def ruamel_positions(text: str) -> tuple[dict[Any, tuple[int, int]], dict[Any, tuple[int, int]]]:
    """The oracle's line/column (1-based) of every key and value."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    keys: dict[Any, tuple[int, int]] = {}
    values: dict[Any, tuple[int, int]] = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, CommentedMap):
            for k in node:
                kl, kc = node.lc.key(k)
                vl, vc = node.lc.value(k)
                keys[path + (str(k),)] = (kl + 1, kc + 1)
                values[path + (str(k),)] = (vl + 1, vc + 1)
                walk(node[k], path + (str(k),))
        elif isinstance(node, CommentedSeq):
            for i, item in enumerate(node):
                il, ic = node.lc.item(i)
                values[path + (i,)] = (il + 1, ic + 1)
                walk(item, path + (i,))
    walk(YAML(typ="rt", pure=True).load(io.StringIO(text)), ())
    return keys, values


def test_every_bundled_document_reads_the_same_data_and_positions_as_before():
    files = sorted(ROOT.glob("scenarios/*.yaml")) + sorted(ROOT.glob("tests/data/**/*.yaml"))
    files = [f for f in files if "fuzz_regressions" not in str(f) and "cfn" not in str(f)]
    assert len(files) >= 12
    for f in files:
        text = f.read_text()
        if "\n---" in text:
            continue  # several documents: the Gateway API importer splits them first
        data, pos = parse(text, str(f))
        assert data == ruamel_data(text), f
        keys, values = ruamel_positions(text)
        assert pos.key == keys, f
        assert pos.value == values, f


def test_a_duplicate_key_is_a_located_error_in_yaml_and_in_json():
    for text, line in (("a: 1\nb: 2\na: 3\n", 3), ('{"a": 1,\n "b": 2,\n "a": 3}', 3)):
        with pytest.raises(ScenarioError) as info:
            parse(text, "f")
        p = info.value.problems[0]
        assert "duplicate key" in p.message and p.location.line == line


def test_merge_keys_merge_and_the_mapping_s_own_keys_win():
    data, _ = parse_yaml("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n")
    assert data["item"] == {"x": 1, "y": 3} == ruamel_data("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n")["item"]


@pytest.mark.parametrize("text", ["a: !!python/object:os.system x\n", "a: !custom 3\n", "a: !!binary aGk=\n"])
def test_a_tag_outside_the_core_schema_is_refused_where_it_is(text):
    with pytest.raises(ScenarioError) as info:
        parse(text, "f")
    p = info.value.problems[0]
    assert p.code == "yaml-tag" and (p.location.line, p.location.path) == (1, "a")


def test_json_positions_are_found_only_when_asked_and_match_yaml_s():
    text = json.dumps({"name": "x", "services": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]}, indent=2)
    data, pos = parse(text, "f.json")
    assert pos._fill is not None  # nothing computed yet
    loc = pos.locate(("services", 1, "port"), data=data)
    assert (loc.line, loc.column) == (text.splitlines().index('      "port": 81') + 1, 15)
    assert loc.path == "services.b.port"
    assert pos.value == parse_yaml(text, "f.json")[1].value


def test_a_json_syntax_error_is_located():
    with pytest.raises(ScenarioError) as info:
        parse('{"a": 1,\n "b": [}', "f.json")
    assert info.value.problems[0].location.line == 2


def test_json_nan_is_not_json_and_reads_as_yaml_text():
    data, _ = parse('{"a": NaN}')
    assert data == {"a": "NaN"}


def test_nesting_and_alias_bombs_are_bounded():
    deep = "a: " + "[" * 80 + "]" * 80 + "\n"
    with pytest.raises(ScenarioError) as info:
        parse(deep)
    assert info.value.problems[0].code == "too-deep"
    deep_json = '{"a": ' + "[" * 80 + "]" * 80 + "}"
    with pytest.raises(ScenarioError) as info:
        parse(deep_json)
    assert info.value.problems[0].code == "too-deep"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))
    with pytest.raises(ScenarioError) as info:
        parse(bomb)
    assert info.value.problems[0].code == "too-large"


keys_st = st.text(alphabet="abcdefxyz_-", min_size=1, max_size=6)
leaves = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                   st.booleans(), st.none(), st.text(alphabet="abc xyz-/:.", max_size=8))
docs = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(keys_st, inner, max_size=4)), max_leaves=25)


@given(st.dictionaries(keys_st, docs, min_size=1, max_size=5))
def test_json_and_yaml_of_the_same_data_read_back_equal(doc):
    text = json.dumps(doc)
    assert parse(text)[0] == doc
    block = io.StringIO()
    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = False
    dumper.dump(doc, block)
    assert parse_yaml(block.getvalue())[0] == ruamel_data(block.getvalue())


def test_a_multi_document_stream_reads_each_document_and_locates_in_the_whole_text():
    text = "a: 1\n---\nb: [1,\n--- # third\nc:\n  d: 2\n...\n---\n{\"e\": 3}\n"
    docs = list(parse_documents(text, "m.yaml"))
    assert len(docs) == 4
    first, broken, third, fourth = docs
    assert not isinstance(first, list) and first[0] == {"a": 1}
    assert isinstance(broken, list) and broken  # the broken document: its problems, located in the file
    assert all(p.location.file == "m.yaml" and p.location.line in (3, 4) for p in broken)
    assert not isinstance(third, list) and third[0] == {"c": {"d": 2}}
    assert third[1].key[("c",)] == (5, 1) and third[1].value[("c", "d")] == (6, 6)
    assert not isinstance(fourth, list) and fourth[0] == {"e": 3}
    assert fourth[1].value[("e",)] == (9, 7)


def test_cloudformation_s_options_yaml_1_1_scalars_local_tags_and_the_last_duplicate_wins():
    seen: list[tuple[str, int | None, tuple[int, int]]] = []
    text = "a: yes\nb: 017\nc: !Ref X\nd: !GetAtt\n  - A\n  - B\na: no\n"
    data, pos = parse_yaml(text, "t.yaml", yaml11=True, local_tag=lambda t: t or None,
                           tagged=lambda t, v: v.lower() if isinstance(v, str) else v,
                           on_duplicate=lambda k, where, last: seen.append((k, where.line, last)))
    assert data == {"b": 15, "c": {"Ref": "x"}, "d": {"GetAtt": ["A", "B"]}, "a": False}
    assert seen == [("a", 1, (7, 1))]
    assert pos.value[("c", "Ref")] == (3, 4) and pos.value[("d", "GetAtt", 1)] == (6, 5)
    with pytest.raises(ScenarioError) as exc:  # a tag the caller does not take: located, no crash
        parse_yaml("a:\n  b: !Nope x\n", "t.yaml", yaml11=True, local_tag=lambda t: None if t == "Nope" else t)
    (p,) = exc.value.all_problems
    assert (p.location.line, p.location.column, p.code) == (2, 6, "yaml-tag")
    assert parse_yaml("a: yes\n")[0] == {"a": "yes"}  # the default stays YAML 1.2
