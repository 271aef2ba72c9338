"""Lattice's default quotas (docs/lattice.md §9), one dated table; a scenario may raise them."""

from __future__ import annotations

QUOTAS_AS_OF = "2026-11-01"

DEFAULT_QUOTAS: dict[str, int] = {
    "service_networks_per_region": 50,
    "services_per_region": 2000,
    "target_groups_per_region": 500,
    "target_groups_per_service": 10,
    "targets_per_target_group": 1000,
    "listeners_per_service": 2,
    "rules_per_listener": 10,
    "service_associations_per_service_network": 500,
    "vpc_associations_per_service_network": 500,
    "vpc_endpoints_per_service_network": 200,
    "security_groups_per_vpc_association": 5,  # not adjustable in AWS
    "auth_policy_size_bytes": 10240,  # not adjustable in AWS
    "requests_per_second_per_service_per_az": 10000,
    "target_groups_per_forward_action": 10,
    "header_matches_per_rule": 5,
}

FIXED_QUOTAS = {"security_groups_per_vpc_association", "auth_policy_size_bytes",
                "target_groups_per_forward_action", "header_matches_per_rule"}
