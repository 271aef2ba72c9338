"""Lattice auth: IAM-style auth policies, the request context, and the per-request decision.

Typical use::

    policy = parse_policy(doc, source="service svc-rates auth policy")
    ctx = build_context(service_arn=svc_arn, principal=None, method="GET", path="/rates")
    decision = authorize(sn_auth_type="NONE", sn_policy=None, svc_auth_type="AWS_IAM",
                         svc_policy=policy, identity_policy=None, ctx=ctx)
"""

from latsim.auth.conditions import OPERATOR_NAMES, Condition
from latsim.auth.context import (
    CONNECT,
    INVOKE,
    Principal,
    RequestContext,
    build_context,
    invoke_resource,
)
from latsim.auth.evaluate import AuthDecision, AuthStep, StatementRef, authorize
from latsim.auth.policy import MAX_POLICY_CHARS, Policy, PolicyResult, Statement, parse_policy

__all__ = [
    "CONNECT",
    "INVOKE",
    "MAX_POLICY_CHARS",
    "OPERATOR_NAMES",
    "AuthDecision",
    "AuthStep",
    "Condition",
    "Policy",
    "PolicyResult",
    "Principal",
    "RequestContext",
    "Statement",
    "StatementRef",
    "authorize",
    "build_context",
    "invoke_resource",
    "parse_policy",
]
