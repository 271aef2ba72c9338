"""docs/lattice.md is the semantics' reference: every code comment that cites it names a section
it has, every point in it names its AWS source or says it is latsim's assumption, and every
assumption key of the model appears both there and in the README's assumptions table."""

from __future__ import annotations

import re
from pathlib import Path

from latsim.model.scenario_fields import Assumptions

ROOT = Path(__file__).resolve().parent.parent
LATTICE = ROOT / "docs" / "lattice.md"
OLD = "LATTICE" + ".md"  # the out-of-tree source map that comments used to cite (spelt so as not to match here)
CITE = re.compile(r"docs/lattice\.md §(\d+(?:\.\d+)?)(?:-§(\d+(?:\.\d+)?))?")


def _sections() -> set[str]:
    heads = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", LATTICE.read_text(encoding="utf-8"), flags=re.M)
    return set(heads)


def _cited_files() -> list[Path]:
    out = [ROOT / "README.md"]
    for sub, pattern in (("latsim", "*.py"), ("tests", "*.py"), ("scenarios", "*.yaml"), ("benchmarks", "*.py"),
                         ("notebooks", "*.ipynb")):
        out += sorted((ROOT / sub).rglob(pattern))
    return out


def _assumption_keys_in(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)(?::[^`]*)?`", text)) & set(Assumptions.model_fields)


def test_every_citation_of_docs_lattice_names_a_section_it_has() -> None:
    sections = _sections()
    assert {"1.1", "1.3", "2", "4.2", "5.2", "7.1", "8.2", "12", "13"} <= sections
    seen = 0
    for path in _cited_files():
        text = path.read_text(encoding="utf-8")
        assert OLD not in text, f"{path.relative_to(ROOT)} cites {OLD}, a file the repository does not hold"
        for m in CITE.finditer(text):
            seen += 1
            for sec in filter(None, m.groups()):
                assert sec in sections, f"{path.relative_to(ROOT)}: docs/lattice.md has no §{sec}"
    assert seen >= 15


def test_every_point_names_its_aws_source_or_is_marked_as_an_assumption() -> None:
    text = LATTICE.read_text(encoding="utf-8")
    body = text[text.index("## 1."):text.index("## 12.")]
    points = re.split(r"\n(?=\* )", body)
    bullets = [p for p in points if p.startswith("* ")]
    assert len(bullets) >= 40
    for point in bullets:
        point = point.split("\n#")[0]
        assert "](https://" in point or "**[assumption]**" in point, point[:120]


def test_every_assumption_key_is_in_docs_lattice_and_in_the_readme_table() -> None:
    keys = set(Assumptions.model_fields)
    lattice = LATTICE.read_text(encoding="utf-8")
    section13 = lattice[lattice.index("## 13."):]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Assumptions"):readme.index("\n## ", readme.index("## Assumptions") + 1)]
    assert _assumption_keys_in(section13) == keys, keys - _assumption_keys_in(section13)
    assert _assumption_keys_in(table) == keys, keys - _assumption_keys_in(table)
    # the table in docs/lattice.md gives each key's default as the model has it
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section13, flags=re.M))
    defaults = Assumptions().model_dump(mode="json")
    for key, shown in rows.items():
        want = defaults[key]
        text = shown.strip().strip("`")
        if isinstance(want, bool):
            assert text == str(want).lower(), key
        else:
            assert text == str(want), key
