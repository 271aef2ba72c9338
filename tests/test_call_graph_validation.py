"""Bad call graphs get located errors (file:line:col, dotted path, what is allowed, a suggestion),
never a traceback; the CLI exits 2 with every error of the file at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCENARIO = (ROOT / "scenarios" / "microservices.yaml").read_text()


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    return subprocess.run([sys.executable, "-m", "latsim.cli", "validate", str(f)], capture_output=True, text=True)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


LAST_PAYMENTS_STEP = "      - {work: {constant: 1ms}}"


@pytest.mark.parametrize("replacement, message, path", [
    ("      - {call: https://ledgr.pay.internal/entry}", "no service answers to host ledgr.pay.internal",
     "target_groups.payments-tg.calls.2.call"),
    ("      - {work: 5}", "a bare number is ambiguous", "target_groups.payments-tg.calls.2.work"),
    ("      - {parallel: []}", "parallel needs at least one branch", "target_groups.payments-tg.calls.2.parallel"),
    ("      - {work: 1ms, call: https://ledger.pay.internal/entry}", "exactly one of work, call or parallel",
     "target_groups.payments-tg.calls.2"),
    ("      - {call: https://ledger.pay.internal/entry, on_error: retry}", "on_error",
     "target_groups.payments-tg.calls.2.on_error"),
])
def test_a_bad_step_is_located(tmp_path, replacement, message, path):
    text = SCENARIO.replace(LAST_PAYMENTS_STEP, replacement)
    proc = validate(tmp_path, text)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    line = line_of(text, replacement.strip())
    wanted = [x for x in proc.stderr.splitlines() if message in x]
    assert wanted, proc.stderr
    assert wanted[0].startswith(f"{tmp_path / 'bad.yaml'}:{line}:"), wanted[0]
    assert f": {path}:" in wanted[0] or f": {path} " in wanted[0] or wanted[0].split(": ")[1] == path, wanted[0]


def test_an_unknown_host_gets_a_suggestion(tmp_path):
    text = SCENARIO.replace(LAST_PAYMENTS_STEP, "      - {call: https://ledgr.pay.internal/entry}")
    proc = validate(tmp_path, text)
    assert "did you mean 'ledger.pay.internal'?" in proc.stderr


def test_a_cycle_is_refused_with_its_path(tmp_path):
    text = SCENARIO.replace(LAST_PAYMENTS_STEP, "      - {call: https://checkout.shop.internal/again, method: POST}")
    proc = validate(tmp_path, text)
    assert proc.returncode == 2
    assert "calls form a cycle: checkout-tg -> payments (payments-tg) -> checkout (checkout-tg)" in proc.stderr
    line = line_of(text, "call: https://payments.pay.internal/charge")  # the cycle's first call
    assert f"bad.yaml:{line}:" in proc.stderr


def test_a_principal_arn_that_is_not_an_arn_is_refused(tmp_path):
    text = SCENARIO.replace('principal: {arn: "arn:aws:iam::222222222222:role/payments"',
                            'principal: {arn: "payments-role"')
    proc = validate(tmp_path, text)
    assert proc.returncode == 2
    assert "target_groups.payments-tg.principal.arn" in proc.stderr


def test_a_lambda_function_that_calls_needs_a_vpc(tmp_path):
    text = SCENARIO.replace("""  - name: fraud-tg
    vpc: pay
    protocol: HTTP
    port: 8080
    security_groups: [pay-targets]
    targets:
      - {id: i-0fraud1, az: use1-az1, concurrency: 8, latency: {lognormal: {median: 15ms, sigma: 0.5}}}
      - {id: i-0fraud2, az: use1-az2, concurrency: 8, latency: {lognormal: {median: 15ms, sigma: 0.5}}}""",
                            """  - name: fraud-tg
    type: LAMBDA
    calls: [{call: https://ledger.pay.internal/entry}]
    targets:
      - {id: "arn:aws:lambda:us-east-1:222222222222:function:fraud"}""")
    proc = validate(tmp_path, text)
    assert proc.returncode == 2, proc.stderr
    assert "a Lambda function outside every VPC cannot reach Lattice services" in proc.stderr
    assert "target_groups.fraud-tg.vpc" in proc.stderr
    ok = validate(tmp_path, text.replace("    type: LAMBDA\n", "    type: LAMBDA\n    vpc: pay\n"))
    assert ok.returncode == 0, ok.stderr


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path):
    text = SCENARIO.replace(LAST_PAYMENTS_STEP, "      - {call: https://ledgr.pay.internal/entry}").replace(
        "      - {work: {lognormal: {median: 4ms, sigma: 0.4}}}", "      - {call: https://frod.pay.internal/x}")
    proc = validate(tmp_path, text)
    assert proc.stderr.count("no service answers to host") == 2, proc.stderr
