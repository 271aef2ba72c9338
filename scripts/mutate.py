"""``make mutate``: targeted mutation testing of latsim's decision and engine modules.

Each mutant is one small, plausible bug made on the AST of one module — a comparison flipped
(``<`` ↔ ``<=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``), an arithmetic operator swapped (``+`` ↔ ``-``,
``*`` ↔ ``/``, ``//`` ↔ ``/``), ``and`` ↔ ``or``, a ``not`` dropped, a number moved by one, a boolean
constant negated — and is run against *that module's own tests* only (``MODULES`` below), not the
whole suite, so a run finishes in reasonable time on two cores. A mutant is *killed* when its
tests fail (or exceed ten times the clean run's time: an endless loop), else it *survives*.

Why not mutmut or cosmic-ray: mutmut 3 instruments every function with a trampoline and selects
tests from a full-suite statistics run (several times the 4-minute suite here, and the engine's
hot loop slowed by the trampolines); cosmic-ray needs a session database and one configuration per
module. This script is ~200 lines, has no dependency, and is scoped by construction.

Mutants are made on a private copy of the package (``PYTHONPATH`` points the tests at it, no
bytecode is written), so the working tree is never touched, even if the run is interrupted.
Which mutants: all the mutation points of a module, or a deterministic sample of them
(``--max N --seed S``). The report (``--report FILE``, JSON) lists every survivor with its line
and its change; the README's development section summarises the last run.

    python scripts/mutate.py                       # every module, at most 20 mutants each
    python scripts/mutate.py --module latsim/auth/policy.py --max 0   # all its mutants
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: module -> the tests that specify it (``-m "not slow"`` is added: the slow statistical tests and
#: fuzzers would make each mutant cost minutes).
MODULES: dict[str, list[str]] = {
    "latsim/auth/policy.py": ["tests/test_auth_laws.py", "tests/test_auth_decision.py", "tests/test_auth_api.py",
                              "tests/test_fuzz_auth.py"],
    "latsim/auth/evaluate.py": ["tests/test_auth_laws.py", "tests/test_auth_decision.py", "tests/test_auth_api.py",
                                "tests/test_fuzz_auth.py"],
    "latsim/auth/conditions.py": ["tests/test_auth_conditions.py", "tests/test_auth_laws.py"],
    "latsim/engine/target.py": ["tests/test_exact_counts.py", "tests/test_engine_health.py",
                                "tests/test_engine_theory.py"],
    "latsim/engine/sampling.py": ["tests/test_weighted_split.py", "tests/test_engine_routing.py",
                                  "tests/test_distributions.py"],
    "latsim/engine/simulation.py": ["tests/test_exact_counts.py", "tests/test_access_log.py",
                                    "tests/test_engine_health.py", "tests/test_engine_routing.py",
                                    "tests/test_engine_theory.py"],
    "latsim/metrics/access_log.py": ["tests/test_access_log.py"],
    "latsim/slo.py": ["tests/test_slo_windows.py", "tests/test_slo_gate.py"],
    "latsim/estimate.py": ["tests/test_estimate.py"],
    "latsim/theory.py": ["tests/test_theory.py"],
}

_SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
             ast.Mod: ast.FloorDiv}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
           ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
           ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the index of the node in ast.walk order
    what: str  # "cmp", "bin", "bool", "not", "num", "bool-const"
    line: int
    description: str


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _annotation_ids(tree: ast.AST) -> set[int]:
    """Nodes inside annotations and decorators (``@dataclass(frozen=True, slots=True)``): mutating
    them changes no behaviour, they would only be counted as equivalent survivors."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for deco in node.decorator_list:
                ids.update(id(n) for n in ast.walk(deco))
        for ann in ([node.annotation] if isinstance(node, (ast.AnnAssign, ast.arg)) and node.annotation else []) + \
                ([node.returns] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns else []):
            ids.update(id(n) for n in ast.walk(ann))
    return ids


def mutants_of(module: str) -> list[Mutant]:
    tree = ast.parse((ROOT / module).read_text())
    skip = _docstring_ids(tree) | _annotation_ids(tree)
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAP_CMP:
            a, b = type(node.ops[0]), _SWAP_CMP[type(node.ops[0])]
            out.append(Mutant(module, i, "cmp", line, f"{_SYMBOL[a]} -> {_SYMBOL[b]}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BIN:
            a, b = type(node.op), _SWAP_BIN[type(node.op)]
            if a is ast.Mod and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                continue  # "%" formatting
            out.append(Mutant(module, i, "bin", line, f"{_SYMBOL[a]} -> {_SYMBOL[b]}"))
        elif isinstance(node, ast.BoolOp):
            a = type(node.op)
            out.append(Mutant(module, i, "bool", line, f"{_SYMBOL[a]} -> {'or' if a is ast.And else 'and'}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append(Mutant(module, i, "not", line, "not x -> x"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            out.append(Mutant(module, i, "bool-const", line, f"{node.value} -> {not node.value}"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            out.append(Mutant(module, i, "num", line, f"{node.value!r} -> {node.value + 1!r}"))
    return out


def apply(source: str, m: Mutant) -> str:
    tree = ast.parse(source)
    node = list(ast.walk(tree))[m.index]
    if m.what == "cmp":
        node.ops = [_SWAP_CMP[type(node.ops[0])]()]  # type: ignore[attr-defined]
    elif m.what == "bin":
        node.op = _SWAP_BIN[type(node.op)]()  # type: ignore[attr-defined]
    elif m.what == "bool":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
    elif m.what == "not":
        operand = node.operand  # type: ignore[attr-defined]
        for parent in ast.walk(tree):  # replace the UnaryOp by its operand in its parent
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, operand)
                elif isinstance(value, list) and any(v is node for v in value):
                    setattr(parent, field, [operand if v is node else v for v in value])
    elif m.what == "bool-const":
        node.value = not node.value  # type: ignore[attr-defined]
    elif m.what == "num":
        node.value = node.value + 1  # type: ignore[attr-defined]
    return ast.unparse(ast.fix_missing_locations(tree))


def run_tests(pkg_root: Path, tests: list[str], timeout: float | None) -> tuple[bool, float]:
    """True when the tests pass; the wall time."""
    env = dict(os.environ, PYTHONPATH=f"{pkg_root}{os.pathsep}{ROOT}", PYTHONDONTWRITEBYTECODE="1",
               HYPOTHESIS_PROFILE="ci")
    # run from the copy: ``python -m`` puts the working directory first on sys.path, and the tree's
    # own latsim would shadow the mutant if it were ROOT
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
           "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "-m", "not slow",
           *(str(ROOT / t) for t in tests)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=pkg_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - t0
    return proc.returncode == 0, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", action="append", help="a module of MODULES (repeatable; default: all)")
    ap.add_argument("--max", type=int, default=20, help="mutants per module, sampled (0 = all; default 20)")
    ap.add_argument("--seed", type=int, default=20, help="seed of the sample (default 20)")
    ap.add_argument("--report", default=str(ROOT / "mutation-report.json"), help="JSON report path")
    args = ap.parse_args()
    modules = args.module or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        ap.error(f"not a mutated module: {', '.join(unknown)} (known: {', '.join(MODULES)})")
    work = Path(tempfile.mkdtemp(prefix="latsim-mutate-"))
    report: dict[str, dict[str, object]] = {}
    try:
        shutil.copytree(ROOT / "latsim", work / "latsim", ignore=shutil.ignore_patterns("__pycache__"))
        for module in modules:
            tests = MODULES[module]
            target = work / module
            original = target.read_text()
            ok, clean = run_tests(work, tests, None)
            target.write_text(original + "\nraise ImportError('latsim-mutate: the copy is imported')\n")
            shadowed, _ = run_tests(work, tests, None)
            target.write_text(original)
            if shadowed:
                raise SystemExit(f"{module}: the tests did not import the mutated copy; nothing would be measured")
            if not ok:
                print(f"{module}: its tests fail without a mutant; skipped", flush=True)
                continue
            every = mutants_of(module)
            chosen = every if args.max <= 0 or len(every) <= args.max else \
                sorted(random.Random(f"{args.seed}:{module}").sample(every, args.max), key=lambda m: m.index)
            killed, survivors = 0, []
            for m in chosen:
                try:
                    mutated = apply(original, m)
                    compile(mutated, module, "exec")
                except (SyntaxError, ValueError, TypeError):
                    continue
                target.write_text(mutated)
                try:
                    passed, _ = run_tests(work, tests, 10 * clean + 30)
                finally:
                    target.write_text(original)
                if passed:
                    survivors.append(m)
                    print(f"  survived  {module}:{m.line}  {m.description}", flush=True)
                else:
                    killed += 1
            total = killed + len(survivors)
            rate = killed / total if total else 1.0
            print(f"{module}: {killed}/{total} killed ({rate:.0%}) of {len(every)} mutation points; "
                  f"clean run {clean:.0f} s", flush=True)
            report[module] = {"mutation_points": len(every), "run": total, "killed": killed,
                              "kill_rate": round(rate, 3), "tests": tests,
                              "survivors": [{"line": m.line, "change": m.description} for m in survivors]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(f"report: {args.report}")


if __name__ == "__main__":
    main()
