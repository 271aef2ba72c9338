"""Mutated scenarios give a located LatsimError or a valid model, never another exception.

Two levels: plain data (keys dropped, renamed, retyped, moved) through ``scenario_from_data``, and
text (random bytes, truncation, indentation damage, YAML syntax spliced in) through
``parse_document`` then ``scenario_from_data``. The ``*_10k`` tests are the slow fuzz runs (their size is
set by the hypothesis profile, ``tests/conftest.py``); the
tree mutations here are shared by the other ``test_fuzz_*`` files. Failing examples that were
found are kept in ``tests/data/fuzz_regressions/scenario/`` and replayed on every run.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from latsim.errors import LatsimError, ScenarioError
from latsim.scenario import parse_document, scenario_from_data
from tests.conftest import DATA, FUZZ, ROOT, load_yaml

BASE = load_yaml(ROOT / "scenarios" / "quickstart.yaml")
DESIGN = load_yaml(ROOT / "tests" / "data" / "design_example.yaml")
LIBRARY = [load_yaml(ROOT / "scenarios" / f"{name}.yaml")
           for name in ("canary-progressive", "az-failure", "zero-trust", "retry-storm")]
REGRESSIONS = DATA / "fuzz_regressions"


# --- tree mutations (shared with the importer fuzzers) ---------------------------------------------

def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a tree of dicts and lists, the root's ``()`` first."""
    out: list[tuple] = []
    stack = [(prefix, node)]
    while stack:
        here, value = stack.pop()
        out.append(here)
        if isinstance(value, dict):
            stack.extend((here + (k,), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((here + (i,), v) for i, v in reversed(list(enumerate(value))))
    return out


_INDEX: dict[int, tuple[Any, list[tuple], list[str]]] = {}


def base_index(base: Any) -> tuple[list[tuple], list[str]]:
    """The inner paths and the key names of a base document, remembered (bases are never changed)."""
    hit = _INDEX.get(id(base))
    if hit is None or hit[0] is not base:
        if len(_INDEX) > 256:
            _INDEX.clear()
        inner = [p for p in paths(base) if p]
        hit = _INDEX[id(base)] = (base, inner, sorted({p[-1] for p in inner if isinstance(p[-1], str)}))
    return hit[1], hit[2]


def exists(node: Any, path: tuple) -> bool:
    for k in path:
        if isinstance(node, dict) and k in node or isinstance(node, list) and isinstance(k, int) and k < len(node):
            node = node[k]
        else:
            return False
    return True


def get(node: Any, path: tuple) -> Any:
    for k in path:
        node = node[k]
    return node


def replaced(node: Any, path: tuple, fn: Callable[[Any], Any]) -> Any:
    """A copy of ``node`` whose value at ``path`` is ``fn(old)``; only the containers along the path
    are copied, so a large base document is never copied whole (nor changed)."""
    if not path:
        return fn(node)
    out = copy.copy(node)
    out[path[0]] = replaced(node[path[0]], path[1:], fn)
    return out


WEIRD = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                  st.sampled_from(["250ms", "-5s", "1e400", "10.0.0.0/8", "checkout", "nan", "x" * 300, "300/s",
                                   "0.1%", "vpc-lattice", "AWS_IAM", "HTTPS", "use1-az3", 2**64, -(2**63), "",
                                   "0", "0s", "1e-300s", "inf", "-inf", "∞", "10.0.0.1/33", "::/0", "*", "${x}",
                                   "arn:aws:iam::111111111111:root", "i-0", "\x00"]))

OPS = ("drop", "rename", "retype", "retype", "duplicate", "transplant", "wrap", "empty")


@st.composite
def mutated_tree(draw: Any, bases: Sequence[Any], weird: st.SearchStrategy[Any] = WEIRD,
                 max_ops: int = 4) -> Any:
    """One of ``bases`` with 1..max_ops structural mutations (the bases are never modified). Paths
    are drawn from the base (cheap for large documents); one that a previous mutation removed is
    skipped."""
    base = doc = draw(st.sampled_from(bases))
    all_paths, all_keys = base_index(base)
    if not all_paths:
        return doc
    for _ in range(draw(st.integers(1, max_ops))):
        path = draw(st.sampled_from(all_paths))
        if not exists(doc, path):
            continue
        key = path[-1]
        op = draw(st.sampled_from(OPS))
        if op == "drop":
            doc = replaced(doc, path[:-1], lambda parent, key=key: _without(parent, key))
        elif op == "rename" and isinstance(key, str):
            new = draw(st.one_of(st.sampled_from([key + "x", key + "_", key + "s", key.upper(), key.title(), ""]),
                                 st.sampled_from(all_keys)))
            doc = replaced(doc, path[:-1], lambda parent, key=key, new=new: _renamed(parent, key, new))
        elif op == "duplicate" and isinstance(key, int):
            doc = replaced(doc, path[:-1], lambda parent, key=key: parent + [parent[key]])
        elif op == "transplant":
            donor = get(base, draw(st.sampled_from(all_paths)))
            doc = replaced(doc, path, lambda _old, donor=donor: donor)
        elif op == "wrap":
            doc = replaced(doc, path, lambda old: [old] if not isinstance(old, list) else {"x": old})
        elif op == "empty":
            value = draw(st.sampled_from([[], {}, "", 0]))
            doc = replaced(doc, path, lambda _old, value=value: value)
        else:
            value = draw(weird)
            doc = replaced(doc, path, lambda _old, value=value: value)
    return doc


def _without(parent: Any, key: Any) -> Any:
    out = copy.copy(parent)
    del out[key]
    return out


def _renamed(parent: dict[str, Any], key: str, new: str) -> dict[str, Any]:
    return {(new if k == key else k): v for k, v in parent.items()}


def mutated() -> st.SearchStrategy[Any]:
    # no copy needed: scenario_from_data never changes its input (checked when this was written)
    return mutated_tree([BASE, DESIGN, *LIBRARY], max_ops=3)


class TooSlow(BaseException):
    """Raised in an example that runs too long. A BaseException, so that neither the CLI runner nor a
    study's run loop records it as an ordinary failure, and hypothesis stops at once instead of
    shrinking (every try would take as long)."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """A hung example fails instead of hanging the whole test run (main thread only: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_: Any) -> None:
        raise TooSlow(f"the example ran for more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- the laws --------------------------------------------------------------------------------------

def check_data(data: Any) -> None:
    """Validating plain data: a model, or a ScenarioError with located problems."""
    try:
        scenario_from_data(data)
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError carries at least one problem"
        for p in exc.problems:
            assert p.message
            # located: a dotted path, a line, or a top-level key (which may be the empty key '')
            assert p.location.path or len(p.location.keys) <= 1 or p.location.line is not None
    except LatsimError as exc:
        assert str(exc)


def check_text(text: str) -> None:
    """Reading then validating text: a model, or a LatsimError located inside the text."""
    lines = sum(text.count(c) for c in "\n\r\x85\u2028\u2029") + 2  # what YAML may count as line breaks
    try:
        data, pos = parse_document(text, "f.yaml")
        scenario_from_data(data, pos)
    except ScenarioError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.message
            assert p.location.line is None or 1 <= p.location.line <= lines, p.format()
    except LatsimError as exc:
        assert str(exc)


@settings(max_examples=150)
@given(mutated())
def test_mutated_scenarios_fail_with_located_errors(data):
    check_data(data)


@pytest.mark.slow
@FUZZ
@given(mutated())
def test_fuzz_scenario_data_10k(data):
    check_data(data)


# --- text-level damage ----------------------------------------------------------------------------

MINI = """\
name: mini
accounts: [{id: "111111111111", name: a}]
vpcs: [{name: web, account: a, cidr: 10.0.0.0/16, azs: [use1-az1]}]
service_networks: [{name: net, account: a, vpc_associations: [{vpc: web}], services: [svc]}]
services:
  - name: svc
    account: a
    listeners: [{name: http, protocol: HTTP, default_action: {forward: [{target_group: tg1}]}}]
target_groups:
  - {name: tg1, vpc: web, targets: [{id: i-1, az: use1-az1, latency: 5ms}]}
clients:
  - {name: c, vpc: web, az: use1-az1, url: http://svc, arrival: {poisson: 5/s}, retries: {max: 1}}
"""


def _stripped(name: str) -> list[str]:
    """A library scenario without its comments (the parser's cost grows with the text)."""
    lines = (ROOT / "scenarios" / f"{name}.yaml").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


LIBRARY_LINES = [_stripped(n) for n in ("quickstart", "canary-progressive", "az-failure", "zero-trust",
                                        "retry-storm", "lambda-cold-start", "blue-green")]
SPLICES = ["&a ", "*a", "<<: *a\n", "!!str ", "!!python/object/apply:os.system ['true'] ", "!Ref ", "!!binary ",
           "!!timestamp ", "!!set ", "!!omap ", "!!pairs ", "!!float ", "!!int ", "!!bool ", "!!null ", "? ", ": ", "- ", "{", "}", "[", "]", '"', "'", "|\n",
           ">-\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "#", "@", "`", "\t", "\r", "\x00",
           "\ufeff", "\u2028", "~", "null", "yes", "0x1F", "0o17", "1_000", ".inf", ".nan", "2001-12-14t21:59:43Z",
           "2002-12-14", "1e999", "-0", "é", "\U0001f600", "\\", "%", "&", "*", "!", ",", "  ", "\n  ", "\n- "]


@st.composite
def base_text(draw: Any) -> str:
    if draw(st.booleans()):
        return MINI
    lines = draw(st.sampled_from(LIBRARY_LINES))
    start = draw(st.integers(0, len(lines) - 1))
    return "\n".join(lines[start:start + draw(st.integers(1, 10))]) + "\n"


def damage(draw: Any, text: str, splices: Sequence[str] = SPLICES, max_ops: int = 3) -> str:
    """``text`` with 1..max_ops kinds of damage: truncation, deletion, random characters or bytes,
    spliced syntax, broken indentation, lines deleted, duplicated or swapped."""
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "splice", "splice", "indent", "line", "bytes"]))
        n = len(text)
        at = draw(st.integers(0, n))
        if op == "truncate":
            text = text[:at]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif op == "insert":
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        elif op == "splice":
            text = text[:at] + draw(st.sampled_from(splices)) + text[at:]
        elif op == "bytes":
            raw = draw(st.binary(min_size=1, max_size=8))
            text = text[:at] + raw.decode(draw(st.sampled_from(["latin-1", "utf-8"])), "replace") + text[at:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "indent":
                body = lines[i].lstrip(" ")
                lines[i] = draw(st.sampled_from(["", " ", "   ", "\t", "  \t", " " * 40])) + body
            else:
                j = draw(st.integers(0, len(lines) - 1))
                how = draw(st.sampled_from(["del", "dup", "swap"]))
                if how == "del":
                    del lines[i]
                elif how == "dup":
                    lines.insert(j, lines[i])
                else:
                    lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@st.composite
def damaged_text(draw: Any) -> str:
    """A small scenario text with 1..3 kinds of damage."""
    return damage(draw, draw(base_text()))


@example("!!omap name: quickstart\n")  # found by the fuzz: ruamel's AttributeError
@example("a: &a [*a]\n")  # a recursive alias
@example("accounts: [{id: !!binary aGk=, name: x}]\n")
@example("services: [{? [a, b] : c}]\n")  # a complex key
@example("name: !!timestamp 2001-12-14\nduration: !!float .nan\n")
@example("%YAML 1.1\n---\n<<: {name: x}\n")
@example("name: x\nseed: 1" + "0" * 40 + "\n")
@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
@given(damaged_text())
def test_damaged_scenario_text_gives_a_model_or_located_errors(text):
    check_text(text)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
@FUZZ
@given(damaged_text())
def test_fuzz_scenario_text_10k(text):
    check_text(text)


def _regressions(kind: str) -> list[Any]:
    folder = REGRESSIONS / kind
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("path", _regressions("scenario"), ids=lambda p: p.name)
def test_kept_scenario_fuzz_findings_stay_fixed(path):
    check_text(path.read_bytes().decode("utf-8", "surrogateescape"))
