"""The model: the nouns of a Lattice topology, plain and immutable once validated.

The model knows nothing of SimPy or files; ``latsim.scenario`` reads files into it and
``latsim.compile`` turns it into lookup tables.
"""

from latsim.model.calls import CallStep
from latsim.model.client import (
    Arrival,
    Client,
    Closed,
    Principal,
    RequestSpec,
    RetryPolicy,
)
from latsim.model.network import Account, Network, SecurityGroup, SecurityGroupRule, Vpc
from latsim.model.scenario import AccessLogs, Assumptions, Scenario
from latsim.model.service import (
    Action,
    HeaderMatch,
    Listener,
    Match,
    PathMatch,
    Rule,
    Service,
    WeightedTargetGroup,
)
from latsim.model.service_network import ServiceNetwork, VpcAssociation
from latsim.model.target_group import ErrorInjection, HealthCheck, Target, TargetGroup
from latsim.model.timeline import Canary, CanaryChecks, Slo, TimelineEvent

__all__ = [
    "AccessLogs", "Account", "Action", "Arrival", "Assumptions", "CallStep", "Canary", "CanaryChecks", "Client", "Closed",
    "ErrorInjection", "HeaderMatch", "HealthCheck", "Listener", "Match", "Network", "PathMatch", "Principal",
    "RequestSpec", "RetryPolicy", "Rule", "Scenario", "SecurityGroup", "SecurityGroupRule", "Service",
    "ServiceNetwork", "Slo", "Target", "TargetGroup", "TimelineEvent", "Vpc", "VpcAssociation",
    "WeightedTargetGroup",
]
