"""Nothing an input names is executed or fetched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from latsim.errors import LatsimError
from latsim.scenario import load_scenario, parse_document
from tests.conftest import ROOT

EVIL = ['name: !!python/object/apply:os.system ["touch {marker}"]\n',
        'name: x\ndescription: !!python/object/new:os.system ["touch {marker}"]\n',
        'name: !!python/name:os.system\n']


@pytest.mark.parametrize("text", EVIL)
def test_python_tags_in_a_scenario_are_never_executed(tmp_path, text):
    marker = tmp_path / "pwned"
    f = tmp_path / "s.yaml"
    f.write_text(text.format(marker=marker))
    try:
        load_scenario(f)
    except LatsimError:
        pass
    assert not marker.exists()


def test_python_tags_in_an_overlay_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    overlay = tmp_path / "o.yaml"
    overlay.write_text(EVIL[0].format(marker=marker))
    try:
        load_scenario(ROOT / "scenarios" / "quickstart.yaml", overlays=[overlay])
    except LatsimError:
        pass
    assert not marker.exists()


def test_python_tags_in_gateway_manifests_are_never_executed(tmp_path):
    from latsim.importers.gateway_api import import_gateway_api
    marker = tmp_path / "pwned"
    m = tmp_path / "m.yaml"
    m.write_text("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n"
                 f"  name: !!python/object/apply:os.system [\"touch {marker}\"]\n")
    try:
        import_gateway_api([str(m)])
    except LatsimError:
        pass
    assert not marker.exists()


def test_unknown_tags_are_located_errors():
    from latsim.errors import ScenarioError
    for text in ("name: !custom x\n", "services: !thing [a]\n", "network: !net {a: 1}\n"):
        with pytest.raises(ScenarioError, match="tag") as info:
            parse_document(text, "s.yaml")
        assert info.value.problems[0].location.line == 1


@pytest.mark.parametrize("url", ["https://example.com/trace.csv", "file:///etc/passwd", "s3://bucket/trace.csv"])
def test_replay_files_are_local_paths_never_urls(tmp_path, url):
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text().replace(
        "arrival: {poisson: 200/s}", f"arrival: {{replay: {{file: '{url}'}}}}")
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(LatsimError, match="never a URL"):
        load_scenario(f)


def test_the_package_has_no_eval_exec_pickle_or_network_calls():
    # PyYAML is used only for libyaml's C composer (latsim/source.py: nodes, never constructors)
    pattern = re.compile(r"\beval\(|\bexec\(|\bpickle\b|^\s*import yaml\b|^\s*from yaml import|shell=True|"
                         r"\burllib\.request\b|\brequests\.(get|post)\b|\bos\.system\(")
    # documented exception: cfn-lint's (safe) template decoder raises PyYAML's exception types
    allowed = {("latsim/importers/cloudformation.py", "import yaml"),
               # libyaml's C parser composes nodes; latsim.source builds plain data and refuses tags
               ("latsim/source.py", "import yaml"),
               # a run's result handed to latsim's own forked drawing processes through an anonymous
               # temporary file it created (as multiprocessing's pipes pickle): never a user's file
               ("latsim/figures.py", "import pickle"),
               ("latsim/figures.py", "loaded = pickle.loads(os.pread(shared, msg[2], msg[1]))"),
               ("latsim/figures.py", "data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)")}
    hits = []
    for path in sorted(Path(ROOT / "latsim").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if (str(path.relative_to(ROOT)), line.strip()) in allowed:
                continue
            if pattern.search(line) and not line.lstrip().startswith("#"):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


def test_the_cloudformation_loader_knows_only_intrinsic_tags(tmp_path):
    from latsim.importers.cloudformation import import_cloudformation
    marker = tmp_path / "pwned"
    t = tmp_path / "t.yaml"
    t.write_text("Resources:\n  X:\n    Type: AWS::VpcLattice::ServiceNetwork\n    Properties:\n"
                 f"      Name: !!python/object/apply:os.system [\"touch {marker}\"]\n")
    try:
        import_cloudformation([str(t)])
    except LatsimError:
        pass
    assert not marker.exists()
