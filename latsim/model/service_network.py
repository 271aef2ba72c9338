"""Service networks: auth, sharing, VPC associations (with their security groups) and services."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from latsim.model.base import Model, stable_hex
from latsim.model.service import AuthType


class VpcAssociation(Model):
    """An SN <-> VPC association (at most one per VPC), optionally with 0-5 security groups."""

    vpc: str
    security_groups: list[str] = Field(default_factory=list)


class ServiceNetwork(Model):
    name: str
    account: str
    id: str | None = Field(default=None, pattern=r"^sn-[0-9a-z]{17}$")
    auth_type: AuthType = "NONE"
    auth_policy: dict[str, Any] | str | None = None
    shared_with: list[str] = Field(
        default_factory=list,
        description="AWS RAM share: account names/ids, org ids (o-...) or 'organization'")
    vpc_associations: list[VpcAssociation] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def sn_id(self) -> str:
        return self.id or f"sn-{stable_hex('sn', self.account, self.name)}"
