"""Reading an input never runs it, never fetches anything, and never writes to AWS.

* YAML tags that would build Python objects (``!!python/object/apply:os.system [...]`` and kin)
  are refused by every reader: scenarios, overlays, Gateway API manifests, CloudFormation
  templates, saved AWS CLI outputs; the command they name never runs.
* CloudFormation's short tags mean its intrinsic functions and nothing else.
* A static look at ``latsim/``: no eval/exec, pickle, unsafe YAML loading, shell commands or HTTP
  clients (the documented exceptions are listed with their reasons).
* Files a scenario names (a trace to replay) are local paths relative to the scenario, never
  URLs; ``--overlay`` is a local path too. Nothing touches the network meanwhile.
* The live AWS importer calls read operations only (the moto-backed runtime check is
  ``tests/test_import_aws.py::test_live_import_calls_only_read_operations``; here, statically).
"""

from __future__ import annotations

import ast
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import latsim
from latsim.cli import app
from latsim.errors import LatsimError
from latsim.scenario import load_scenario
from tests.conftest import DATA, ROOT

PAYLOADS = {
    "apply": "!!python/object/apply:os.system ['touch {marker}']",
    "new": "!!python/object/new:os.system ['touch {marker}']",
    "verbatim": "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
    "name": "!!python/name:os.system",
    "module": "!!python/module:os",
}
MINI = """\
name: mini
accounts: [{id: "111111111111", name: a}]
vpcs: [{name: web, account: a, cidr: 10.0.0.0/16, azs: [use1-az1]}]
service_networks: [{name: net, account: a, vpc_associations: [{vpc: web}], services: [svc]}]
services:
  - {name: svc, account: a, listeners: [{name: http, protocol: HTTP, default_action: {forward: [{target_group: tg1}]}}]}
target_groups: [{name: tg1, vpc: web, targets: [{id: i-1, az: use1-az1}]}]
clients: [{name: c, vpc: web, az: use1-az1, url: http://svc, arrival: {poisson: 5/s}}]
"""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve a name or open a connection fails the test."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args[:2]}")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# --- python tags: refused everywhere, never run ----------------------------------------------------

def _scenario(tmp: Path, payload: str) -> None:
    (tmp / "s.yaml").write_text(MINI.replace("name: mini", f"name: mini\ndescription: {payload}"))
    load_scenario(tmp / "s.yaml")


def _overlay(tmp: Path, payload: str) -> None:
    (tmp / "s.yaml").write_text(MINI)
    (tmp / "o.yaml").write_text(f"description: {payload}\n")
    load_scenario(tmp / "s.yaml", overlays=[tmp / "o.yaml"])


def _gateway_api(tmp: Path, payload: str) -> None:
    from latsim.importers.gateway_api import import_gateway_api
    (tmp / "m.yaml").write_text((DATA / "k8s" / "west.yaml").read_text().replace(
        "  name: inventory\n  namespace: shop\nspec:\n  selector", f"  name: inventory\n  namespace: shop\n"
        f"  labels: {{app: {payload}}}\nspec:\n  selector", 1))
    import_gateway_api([str(tmp / "m.yaml")])


def _cloudformation(tmp: Path, payload: str) -> None:
    from latsim.importers.cloudformation import import_cloudformation
    (tmp / "t.yaml").write_text("Resources:\n  Net:\n    Type: AWS::VpcLattice::ServiceNetwork\n"
                                f"    Properties:\n      Name: {payload}\n")
    import_cloudformation([str(tmp / "t.yaml")])


def _aws_json(tmp: Path, payload: str) -> None:
    # the saved outputs are read with the YAML reader (JSON is YAML), so tags must be refused there too
    from latsim.importers.aws import import_aws_json
    (tmp / "out").mkdir()
    (tmp / "out" / "list-services.json").write_text(f'{{"items": {payload}}}\n')
    import_aws_json(tmp / "out")


READERS = {"scenario": _scenario, "overlay": _overlay, "gateway-api": _gateway_api,
           "cloudformation": _cloudformation, "aws-json": _aws_json}


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_python_yaml_tags_are_refused_and_never_run(tmp_path, reader, payload):
    marker = tmp_path / "pwned"
    with pytest.raises(LatsimError):
        READERS[reader](tmp_path, PAYLOADS[payload].format(marker=marker))
    assert not marker.exists(), f"{reader} ran the command of a {payload} tag"


def test_the_cli_refuses_a_tagged_scenario_with_a_located_error_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "s.yaml").write_text(MINI.replace("name: mini", "name: " + PAYLOADS["apply"].format(marker=marker)))
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2 and f"{tmp_path / 's.yaml'}:1:" in result.stderr
    assert not marker.exists()


# --- CloudFormation: intrinsic functions only --------------------------------------------------------

def _template(tmp: Path, value: str) -> Any:
    from latsim.importers.cloudformation import import_cloudformation
    (tmp / "t.yaml").write_text("Parameters:\n  Env: {Type: String, Default: prod}\nResources:\n  Net:\n"
                                f"    Type: AWS::VpcLattice::ServiceNetwork\n    Properties:\n      Name: {value}\n")
    return import_cloudformation([str(tmp / "t.yaml")])


@pytest.mark.parametrize("value, name", [("!Sub 'shop-${Env}'", "shop-prod"), ("!Join [-, [shop, !Ref Env]]", "shop-prod"),
                                         ("!Select [1, !Split [',', 'a,shop-b']]", "shop-b")])
def test_cloudformation_short_tags_are_its_intrinsic_functions(tmp_path, value, name):
    assert _template(tmp_path, value).data["service_networks"][0]["name"] == name


@pytest.mark.parametrize("tag", ["!Foo", "!Rain::Embed", "!Exec", "!Include"])
def test_an_unknown_short_tag_is_a_located_problem_and_is_not_evaluated(tmp_path, tag):
    result = _template(tmp_path, f"{tag} shop-x")
    (problem,) = [w for w in result.warnings if "unsupported intrinsic function" in w.message]
    assert problem.location.line == 7 and f"Fn::{tag[1:]}" in problem.message
    assert result.data["service_networks"][0]["name"] != "shop-x"  # the value is not used


# --- a static look at the package --------------------------------------------------------------------

FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "subprocess", "requests", "httpx", "aiohttp",
                     "urllib.request", "urllib3", "http.client", "socket", "ftplib", "telnetlib", "smtplib", "yaml"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "os.system", "os.popen", "importlib.import_module"}
#: What the scan finds, and why each is fine: (file, finding) -> reason.
ALLOWED = {
    ("latsim/scenario.py", "__import__('types')"): "a constant module name, to reach types.UnionType",
    ("latsim/lazy.py", "importlib.import_module(f'{self.__name__}.{module}')"):
        "lazy exports: a submodule named in a package's constant _EXPORTS table, never user input",
    ("latsim/source.py", "import yaml"):
        "libyaml's C parser composes nodes only (no constructor, no tag resolution to objects); latsim.source "
        "builds plain data from them and refuses every tag outside YAML's core schema (YAML 1.1 core scalars go "
        "through SafeConstructor's scalar constructors only; local tags only to the caller's hook: !Ref...)",
    ("latsim/source.py", "from yaml._yaml import ..."): "the same C parser (CParser), for the reason above",
    ("latsim/metrics/spool.py", "import marshal"):
        "the recorder's spool of closed minutes: plain data (numbers, strings, lists, dicts) that this process "
        "wrote to an anonymous temporary file (no name on disk) and reads back; never a file from elsewhere",
    ("latsim/figures.py", "import pickle"):
        "a run's result and its scenario's Scene (plain data) handed to latsim's own forked drawing processes "
        "through an anonymous temporary file that latsim created (no name on disk; what multiprocessing's pipes "
        "would pickle too); never a file from elsewhere",
    ("latsim/figures.py", "pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)"):
        "writing that file (above)",
    ("latsim/figures.py", "pickle.loads(os.pread(shared, msg[2], msg[1]))"):
        "a forked drawing process reading it back, at the offset its parent sent (above)",
    ("latsim/native.py", "importlib.import_module(name)"):
        "the engine's own modules by their fixed names (latsim.native.MODULES), to say which are compiled",
    ("latsim/native_build.py", "import subprocess"):
        "`python -m latsim.native_build build` (run by make) runs mypyc on latsim's own engine modules (latsim.native.MODULES)",
    ("latsim/native_build.py", "subprocess.run([sys.executable, '-m', 'mypyc', *files], cwd=work, env=env, stdou"):
        "that build: a fixed argument list (this Python, mypyc, latsim's module paths), no shell, nothing a "
        "user wrote",
}


def _findings(package: Path = ROOT / "latsim") -> set[tuple[str, str]]:
    """(file, what) for every import of a forbidden module and every risky call in a package."""
    out: set[tuple[str, str]] = set()
    for path in sorted(package.rglob("*.py")):
        rel = str(path.relative_to(package.parent))
        tree = ast.parse(path.read_text(), rel)
        safe_yaml = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)  # x = YAML(typ="rt"|"safe")
                     and isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == "YAML"
                     and any(k.arg == "typ" and isinstance(k.value, ast.Constant) and k.value.value in ("rt", "safe")
                             for k in node.value.keywords)
                     for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out |= {(rel, f"import {a.name}") for a in node.names
                        if a.name in FORBIDDEN_MODULES or a.name.split(".")[0] in FORBIDDEN_MODULES - {"urllib"}}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module in FORBIDDEN_MODULES or node.module.split(".")[0] in FORBIDDEN_MODULES:
                    out.add((rel, f"from {node.module} import ..."))
            elif isinstance(node, ast.Call):
                call = ast.unparse(node.func)
                receiver = call.rsplit(".", 1)[0] if "." in call else ""
                risky = (call in FORBIDDEN_CALLS or call.startswith(("os.exec", "os.spawn", "pickle.", "subprocess."))
                         or any(k.arg == "shell" for k in node.keywords)
                         or call.endswith((".load", ".load_all", ".unsafe_load", ".full_load"))
                         and receiver not in safe_yaml and receiver not in ("json", "self")
                         or call == "YAML" and not any(k.arg == "typ" and isinstance(k.value, ast.Constant)
                                                       and k.value.value in ("rt", "safe") for k in node.keywords))
                if risky:
                    out.add((rel, ast.unparse(node)[:80]))
    return out


def test_the_package_has_no_eval_pickle_unsafe_yaml_shell_or_http_clients():
    assert sorted(_findings() - set(ALLOWED)) == []


def test_the_scan_sees_what_it_looks_for(tmp_path):
    bad = tmp_path / "pkg"
    bad.mkdir()
    (bad / "m.py").write_text(
        "import pickle\nimport subprocess\nfrom urllib.request import urlopen\nimport requests\nimport yaml\n"
        "from ruamel.yaml import YAML\neval('1')\nexec('x = 1')\nsubprocess.run('ls', shell=True)\n"
        "yaml.load(open('f'))\nYAML(typ='unsafe').load('x')\nos.system('ls')\n")
    found = {what for _, what in _findings(bad)}
    assert {"import pickle", "import subprocess", "from urllib.request import ...", "import requests", "import yaml",
            "eval('1')", "exec('x = 1')", "subprocess.run('ls', shell=True)", "yaml.load(open('f'))",
            "YAML(typ='unsafe')", "os.system('ls')"} <= found, found


def test_the_documented_exceptions_are_still_there():
    """If one goes away, drop it from ALLOWED."""
    assert set(ALLOWED) <= _findings()


def test_url_handling_is_parsing_only():
    """``urllib`` appears only as ``urllib.parse`` (splitting URL strings), never as a fetcher."""
    for path in sorted((ROOT / "latsim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert all(not m.startswith("urllib") or m == "urllib.parse" for m in mods), (path, mods)


# --- file references: local, relative to the scenario, never URLs ------------------------------------

def _replay_scenario(folder: Path, file: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trace.csv").write_text("time,method,path,headers\n0.2,GET,/a,\n0.4,GET,/b,\n0.6,GET,/c,\n")
    path = folder / "s.yaml"
    path.write_text(MINI.replace("name: mini", "name: mini\nduration: 1s").replace(
        "arrival: {poisson: 5/s}", f"arrival: {{replay: {{file: '{file}'}}}}"))
    return path


def test_latsim_run_finds_a_replay_trace_beside_the_scenario_from_any_directory(tmp_path, monkeypatch, no_network):
    path = _replay_scenario(tmp_path / "project", "trace.csv")
    monkeypatch.chdir(tmp_path)  # elsewhere: the trace is not in the working directory
    result = CliRunner().invoke(app, ["run", "project/s.yaml", "--json"])
    assert result.exit_code == 0, result.output
    assert '"requests": 3' in result.stdout and path.exists()


def test_a_study_finds_a_replay_trace_beside_the_scenario(tmp_path, monkeypatch, no_network):
    _replay_scenario(tmp_path / "project", "trace.csv")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["sweep", "project/s.yaml", "-p", "duration=1s,2s", "-j", "1", "-r", "1",
                                      "-m", "clients.c.requests", "--json", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert '"errors": 0' in result.stdout and '"mean": 3.0' in result.stdout


def test_the_python_api_finds_a_replay_trace_beside_the_scenario(tmp_path, monkeypatch):
    path = _replay_scenario(tmp_path / "project", "trace.csv")
    monkeypatch.chdir(tmp_path)
    assert latsim.simulate(latsim.load(str(path))).summary["clients"]["c"]["requests"] == 3


@pytest.mark.parametrize("url", ["https://example.com/trace.csv", "http://169.254.169.254/latest/meta-data",
                                 "file:///etc/hostname", "s3://bucket/trace.csv", "ftp://example.com/t.csv"])
def test_a_replay_file_that_is_a_url_is_refused_without_fetching(tmp_path, url, no_network):
    path = _replay_scenario(tmp_path, url)
    with pytest.raises(LatsimError, match="never a URL") as info:
        load_scenario(path)
    assert info.value.problems[0].location.line is not None


@pytest.mark.parametrize("url", ["https://example.com/overlay.yaml", "file:///etc/hostname"])
def test_an_overlay_url_is_a_local_path_that_does_not_exist(tmp_path, url, no_network):
    (tmp_path / "s.yaml").write_text(MINI)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml"), "--overlay", url])
    assert result.exit_code == 2 and "cannot read file" in result.stderr


# --- the live AWS importer reads only -----------------------------------------------------------------

def test_the_live_aws_importer_only_names_read_operations():
    """Every boto3 operation ``latsim import aws`` names is a get_/list_/describe_ call, and nothing
    in the module calls a mutating client method (create, delete, put, register, tag, ...)."""
    tree = ast.parse((ROOT / "latsim" / "importers" / "aws.py").read_text())
    named, mutating = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("call", "absorb") and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                named.append(node.args[1].value)
            if node.func.attr.startswith(("create_", "delete_", "update_", "put_", "register_", "deregister_",
                                          "tag_", "untag_", "associate_", "disassociate_", "modify_", "start_",
                                          "stop_", "batch_")):
                mutating.append(ast.unparse(node)[:80])
    assert len(named) >= 20
    assert all(op.startswith(("get_", "list_", "describe_")) for op in named), named
    assert mutating == []
