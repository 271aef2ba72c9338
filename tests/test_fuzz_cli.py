"""Random command lines end in exit 0, 1 or 2 with a message, never in a traceback.

``validate``, ``run``, ``explain``, ``sweep`` and ``import`` (CloudFormation, Terraform, Gateway
API, saved AWS CLI JSON) get random mixes of their flags with good, bad and odd values, unknown
flags, and files that exist, do not, are directories, broken YAML, not UTF-8 or URLs. Everything
they may write goes to a scratch folder.

Kept out on purpose, because they are slow or reach outside the test: ``--jobs`` above 1 and
``--dask`` (worker pools), ``--lint`` (cfn-lint), ``--force`` (it would run the huge durations the
size guard refuses), plots and reports (matplotlib: ``run --out`` comes with ``--no-report``,
``sweep --out`` with ``--no-plots``, ``sweep`` with ``--replications 1`` unless the example says
otherwise) and ``import aws`` (a live account). The inputs are small (reading YAML costs ~5 ms per
KB) and the command tree is built once (typer rebuilds it on every ``invoke``, ~20 ms).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer.main
import typer.testing
from hypothesis import event, example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from latsim.cli import app
from latsim.scenario import parse_document
from latsim.source import split_documents
from tests.conftest import DATA, FUZZ
from tests.test_fuzz_scenario import TooSlow, time_limit

TINY = """\
name: tiny
duration: 1s
accounts: [{id: "111111111111", name: a}]
vpcs: [{name: web, account: a, cidr: 10.0.0.0/16, azs: [use1-az1]}]
service_networks: [{name: net, account: a, vpc_associations: [{vpc: web}], services: [svc]}]
services:
  - {name: svc, account: a, listeners: [{name: http, protocol: HTTP, default_action: {forward: [{target_group: tg1}]}}]}
target_groups: [{name: tg1, vpc: web, targets: [{id: i-1, az: use1-az1, latency: 5ms}]}]
clients: [{name: c, vpc: web, az: use1-az1, url: http://svc, arrival: {poisson: 5/s}}]
"""
BREACHED = TINY.replace("name: tiny", "name: breached") + "slo: [{service: svc, p99: 1ms}]\n"
FILES = {
    "tiny.yaml": TINY,
    "tiny.json": json.dumps(parse_document(TINY)[0], separators=(",", ":")),  # reads 30% faster than the YAML
    "breached.yaml": BREACHED,
    "overlay.yaml": "duration: 2s\nclients: [{name: c, arrival: {poisson: 2/s}}]\n",
    "overlay-list.yaml": "- a\n- b\n",
    "broken.yaml": "name: [unclosed\n",
    "empty.yaml": "",
    "not-a-mapping.yaml": "42\n",
    "tagged.yaml": "name: !!python/object/apply:os.system ['true']\n",
    "a-file.txt": "not a directory\n",
}


TEMPLATE = """\
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Net: {Type: AWS::VpcLattice::ServiceNetwork, Properties: {Name: !Sub "${Env}-shop"}}
  Assoc:
    Type: AWS::VpcLattice::ServiceNetworkVpcAssociation
    Properties: {ServiceNetworkIdentifier: !Ref Net, VpcIdentifier: !Ref Vpc}
Parameters:
  Env: {Type: String, Default: prod}
"""


def _small_imports(root: Path) -> None:
    """Small inputs for ``latsim import`` (the importers themselves are fuzzed in test_fuzz_importers)."""
    (root / "template.yaml").write_text(TEMPLATE)
    state = json.loads((DATA / "terraform" / "state.json").read_text())
    module = state["values"]["root_module"]
    module["resources"] = [r for r in module["resources"]
                           if r["type"] in ("aws_vpc", "aws_vpclattice_service_network")][:3]
    module.pop("child_modules", None)
    (root / "state.json").write_text(json.dumps(state))
    (root / "cluster.yaml").write_text(split_documents((DATA / "k8s" / "west.yaml").read_text())[0][1])
    saved = root / "aws-outputs"
    saved.mkdir()
    for name in ("list-service-networks.json", "get-service-network--sn-0a1b2c3d4e5f60718.json"):
        (saved / name).write_text((DATA / "aws" / "multi-account" / "111111111111" / name).read_text())


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """The scratch folder: the inputs above, a directory, a file that is not UTF-8."""
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None  # run directories are fsync'ed
    with tempfile.TemporaryDirectory(prefix="latsim-cli-fuzz-", dir=memory) as folder:
        root = Path(folder)
        for name, text in FILES.items():
            (root / name).write_text(text)
        (root / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
        (root / "a-directory").mkdir()
        _small_imports(root)
        yield root


@pytest.fixture(scope="module")
def invoke() -> Iterator[Any]:
    """``CliRunner.invoke`` on the app, with the click command built once."""
    command = typer.main.get_command(app)
    runner = CliRunner()
    with mock.patch.object(typer.testing, "_get_command", lambda _app: command):
        yield lambda args: runner.invoke(app, args)


# --- arguments ------------------------------------------------------------------------------------

ODD = st.one_of(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                        max_size=12),
                st.sampled_from(["", "-", "--", "-1", "0", "1e999", "nan", "é", "=", "a=b=c", "--help", " "]))


RANDOM = "\x00random"  # stands for random text (ODD), drawn when the command line is put together


def mostly(good: list[str], bad: list[str], odd: bool = True) -> st.SearchStrategy[str]:
    """A good value about three times in four, else a bad one (or, with ``odd``, random text); one
    draw, since drawing costs more than most of the commands it feeds."""
    wrong = bad + [RANDOM] * odd
    return st.sampled_from(good * max(1, round(3 * len(wrong) / len(good))) + wrong)


def here(names: list[str]) -> list[str]:
    return ["@" + n for n in names]


FILE = mostly(here(["tiny.json", "tiny.json", "tiny.yaml", "breached.yaml"]), here(
    ["broken.yaml", "empty.yaml", "not-a-mapping.yaml", "tagged.yaml", "latin1.yaml", "a-directory", "missing.yaml"])
    + ["https://example.com/s.yaml", "file:///etc/hostname", "s3://bucket/key.yaml", "", "-",
       str(DATA / "cfn" / "network.yaml")], odd=False)
OVERLAY = mostly(here(["overlay.yaml"]), here(["overlay-list.yaml", "broken.yaml", "missing.yaml", "a-directory",
                                               "latin1.yaml"]) + ["https://example.com/o.yaml", "file:///etc/hostname"],
                 odd=False)
DURATION = mostly(["1s", "2s", "500ms", "0.05s"], ["0s", "-1s", "1e9s", "abc", "10", "nan", "inf", "3 s", "1e-9s", "9999h"],
                  odd=False)  # random text could be a long run
SEED = mostly(["0", "1", "42"], ["-1", "18446744073709551616", "1.5", "abc"])
OUT = mostly(here(["out", "out/deeper", "out.yaml"]), here(["a-file.txt", "a-file.txt/x", "a-directory",
                                                            "a-directory/x.yaml"]), odd=False)
PAIR = mostly(["x-tenant=blue", "v=1"], ["=x", "k=", "novalue", "a=b=c"])

COMMON = {"--overlay": OVERLAY, "--json": None, "--quiet": None, "-q": None}
FLAGS: dict[str, dict[str, Any]] = {
    "validate": {**COMMON},
    "run": {**COMMON, "--duration": DURATION, "--seed": SEED, "--out": OUT, "--access-logs": None},
    "explain": {
        "--overlay": OVERLAY, "--json": None,
        "--url": mostly(["http://svc/x", "https://svc/a?b=1", "http://svc"],
                        ["svc", "", "http://", "ftp://svc", "http://[::1", "http://svc:99999/", "http://nope/"]),
        "--client": mostly(["c"], ["nope", ""]),
        "--method": mostly(["GET", "POST"], ["post", "", "BREW"]),
        "--header": PAIR, "--query": PAIR,
        "--protocol": mostly(["HTTP/1.1", "HTTP/2", "gRPC"], ["grpc", "HTTP/3"]),
        "--vpc": mostly(["web"], ["nope", ""]), "--az": mostly(["use1-az1"], ["use1-az9", ""]),
        "--principal": mostly(["anonymous", "arn:aws:iam::111111111111:role/r", "111111111111"], ["x"]),
        "--principal-of": mostly(["c"], ["nope"]), "--org-id": mostly(["o-abc"], [""]),
        "--principal-tag": PAIR, "--source-ip": mostly(["10.0.0.5", "::1"], ["10.0.0.0/8", "x", ""]),
        "--security-group": mostly(["sg-1"], ["web", ""]),
    },
    "sweep": {
        **COMMON, "--duration": DURATION, "--seed": SEED, "--out": OUT, "--resume": None, "--slo": None,
        "--param": mostly(["clients.c.arrival.poisson=1,2", "clients.c.arrival.poisson=x0.5,x2",
                           "target_groups.tg1.targets.0.concurrency=1..2:1", "duration=1s,2s"],
                          ["target_groups.0.targets.0.concurrency=1..3", "clients.nope.rate=1", "x=1", "=", "a.b",
                           "clients.c.arrival.poisson=", "clients.c.arrival.poisson=1..1000000", "seed=1,2"]),
        "--replications": mostly(["1", "2"], ["0", "-1", "x"], odd=False),
        "--metric": mostly(["services.svc.RequestTime.p99", "clients.c.failed", "slo.ok"], ["x", "services.svc.nope"]),
        "--design": mostly(["grid", "random:2", "latin:2"], ["random:0", "latin:x", "sobol:3"]),
        "--jobs": mostly(["1"], ["0", "-2", "x"], odd=False),
        "--find-min": mostly(["clients.c.arrival.poisson"], ["x"], odd=False),
        "--ci-target": mostly(["2", "5%"], ["-1", "x"], odd=False),  # no random numbers: they can ask for
        "--max-replications": mostly(["3"], ["0", "x"], odd=False),  # millions of replications, by design
    },
}
IMPORTS: dict[str, tuple[st.SearchStrategy[str], dict[str, Any]]] = {
    "cloudformation": (mostly(["@template.yaml"], ["@state.json", "@broken.yaml"], odd=False),
                       {"--param": mostly(["AWS::Region=eu-west-1", "Env=dev", "template/Env=x"],
                                          ["AWS::Region=mars", "Env=", "novalue", "=1"])}),
    "terraform": (mostly(["@state.json"], ["@template.yaml", "@a-directory"], odd=False), {}),
    "gateway-api": (mostly(["@cluster.yaml", "west=@cluster.yaml"], ["Bad_Cluster=@cluster.yaml", "=x"], odd=False),
                    {"--pods-per-service": mostly(["1", "2"], ["0", "1001", "x"], odd=False)}),
    "aws-json": (mostly(["@aws-outputs"], ["@a-directory", "@state.json"], odd=False), {}),
}
IMPORT_COMMON = {"--output": OUT, "-o": OUT, "--overlay": OVERLAY}


# built once: strategies made inside the composite would be analysed again for every example
COMMANDS = st.sampled_from(["validate", "run", "explain", "sweep", "import"])
IMPORT_KINDS = st.sampled_from(sorted(IMPORTS) * 4 + ["nope", "aws-jsn"])
FLAG_LISTS = {name: st.lists(st.sampled_from(sorted(flags)), max_size=5) for name, flags in FLAGS.items()}
IMPORT_FLAG_LISTS = {kind: st.lists(st.sampled_from(sorted({**IMPORT_COMMON, **flags})), max_size=5)
                     for kind, (_, flags) in IMPORTS.items()}
IMPORT_FLAG_LISTS["?"] = st.lists(st.sampled_from(sorted(IMPORT_COMMON)), max_size=5)
FILE_LISTS = st.lists(FILE, max_size=2)
SOURCE_LISTS = {kind: st.lists(st.one_of(sources, FILE), max_size=2) for kind, (sources, _) in IMPORTS.items()}
ODD_LINES = st.lists(ODD, max_size=4)
JUNK = st.sampled_from(["--bogus", "-x", "--", "--help", "--json=1", "--version", "-"])
ONE_IN = {n: st.integers(0, n - 1) for n in (2, 5, 6, 7, 21)}


@st.composite
def command_line(draw: Any) -> list[str]:
    """A command line; ``@name`` stands for a file in the scratch folder."""
    if draw(ONE_IN[21]) == 0:
        return draw(ODD_LINES)
    command = draw(COMMANDS)
    if command == "import":
        kind = draw(IMPORT_KINDS)
        sources, flags = IMPORTS.get(kind, (FILE, {}))
        several = draw(ONE_IN[5]) == 0
        args = ["import", kind] + (draw(SOURCE_LISTS.get(kind, FILE_LISTS)) if several else [draw(sources)])
        flags = {**IMPORT_COMMON, **flags}
        chosen = draw(IMPORT_FLAG_LISTS.get(kind, IMPORT_FLAG_LISTS["?"]))
    else:
        args = [command] + (draw(FILE_LISTS) if draw(ONE_IN[5]) == 0 else [draw(FILE)])
        flags = FLAGS[command]
        chosen = draw(FLAG_LISTS[command])
    if command == "explain" and draw(ONE_IN[6]):  # mostly with the two options it needs
        chosen = ["--client", "--url", *chosen]
    for flag in chosen:
        args.append(flag)
        if flags[flag] is not None:
            value = draw(flags[flag])
            args.append(draw(ODD) if value == RANDOM else value)
    if command == "sweep":  # one process, few runs, no plots
        args += ["--jobs", "1"] if "--jobs" not in args else []
        args += ["--replications", "1"] if "--replications" not in args else []
        args += ["--no-plots"]
    if command == "run" and "--out" in args:
        args.append("--no-report")
    if command in ("run", "explain", "sweep") and draw(ONE_IN[2]):  # half the time no rich tables (~4 ms)
        args.append("--json")
    if draw(ONE_IN[7]) == 0:
        args.insert(draw(st.integers(1, len(args))), draw(JUNK))
    return args


LIMIT_S = 20


def check_command_line(invoke: Any, workdir: Path, args: list[str]) -> None:
    argv = [a.replace("@", str(workdir) + "/") for a in args]
    try:
        with time_limit(LIMIT_S):
            result = invoke(argv)
    except TooSlow as exc:  # not shrunk (each try would take as long): name the example instead
        raise TooSlow(f"{exc}: latsim {' '.join(args)}") from None
    event(f"exit {result.exit_code}")
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, text)
    if result.exit_code == 3:  # latsim run: nothing was simulated (no clients or no request), and it says so
        assert args[0] == "run" and ("no clients" in result.stderr or "no request was sent" in result.stderr), text
    if result.exit_code == 2:  # the message is on stderr (--json: the problems are the JSON on stdout)
        assert result.stderr.strip() or "--json" in args and result.stdout.strip(), "exit 2 says why"
    if result.exit_code == 1:
        assert text.strip(), "exit 1 says why"


@example(["run", "@tiny.yaml", "--duration", "1s", "--seed", "7", "--json"])
@example(["run", "@breached.yaml", "--duration", "2s", "--quiet"])
@example(["explain", "@tiny.yaml", "--client", "c", "--url", "http://svc/x", "--json"])
@example(["sweep", "@tiny.yaml", "--param", "clients.c.arrival.poisson=1,2", "--duration", "1s", "--jobs", "1",
          "--replications", "1", "--no-plots", "--json"])
@example(["validate", "https://example.com/s.yaml"])
@example(["import", "aws-json", "@aws-outputs", "--output", "@a-directory"])  # found: IsADirectoryError
@example(["validate", "@broken.yaml", "--json"])
@example(["sweep", "@tiny.yaml", "--out", "@a-file.txt", "--jobs", "1", "--replications", "1", "--no-plots"])  # found
@example(["sweep", "@tiny.yaml", "--out", "@a-file.txt/x", "--jobs", "1", "--replications", "1", "--no-plots"])
@example(["run", "@tiny.yaml", "--out", "@a-file.txt/deeper", "--no-report"])  # found: FileExistsError
@example(["explain", "@tiny.yaml", "--client", "c", "--url", "http://[::1"])  # found: urllib's ValueError
@example(["sweep", "@tiny.json", "--duration", "1e9s", "--jobs", "1", "--replications", "1", "--no-plots"])  # hung
@example(["run", "@tiny.yaml", "--overlay", "file:///etc/hostname"])
@given(command_line())
def test_random_command_lines_exit_cleanly(invoke, workdir, args):
    check_command_line(invoke, workdir, args)


@pytest.mark.slow
@FUZZ
@given(command_line())
def test_fuzz_cli_10k(invoke, workdir, args):
    check_command_line(invoke, workdir, args)


def test_the_examples_above_do_what_they_say(invoke, workdir):
    """The fixed examples are not vacuous: a run succeeds, a breached SLO exits 1, a URL is refused."""
    ok = invoke(["run", str(workdir / "tiny.yaml"), "--duration", "1s", "--seed", "7", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["seed"] == 7
    assert invoke(["run", str(workdir / "breached.yaml"), "--duration", "2s", "--quiet"]).exit_code == 1
    url = invoke(["validate", "https://example.com/s.yaml"])
    assert url.exit_code == 2 and "cannot read file" in url.stderr  # a local path that does not exist
