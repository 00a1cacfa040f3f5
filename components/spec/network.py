"""`aidc:network`: the VPC the datacenter lives in."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator

from components.formulas.subnets import SubnetLayoutError, plan_subnets

from .base import Model, Problem

InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "sts", "logs", "ssm", "ec2", "elasticloadbalancing"]


class NetworkSpec(Model):
    cidr: str = "10.0.0.0/16"
    # A count takes the region's first N zones; names pin them (a capacity reservation lives in one).
    availability_zones: int | tuple[str, ...] = 3
    nat_gateways: Literal["none", "single", "onePerAz"] = "single"
    private_subnet_prefix: int = Field(default=19, ge=16, le=28)
    public_subnet_prefix: int = Field(default=24, ge=16, le=28)
    interface_endpoints: tuple[InterfaceEndpoint, ...] = ()
    flow_logs: bool = False
    flow_log_retention_days: int = Field(default=90, ge=1)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        net = ipaddress.IPv4Network(v)  # ValueError names the bad address
        if not net.is_private:
            raise ValueError(f"{v} is not a private (RFC 1918) range")
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("a VPC CIDR must be between /16 and /24")
        return str(net)

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, v: int | tuple[str, ...]) -> int | tuple[str, ...]:
        count = v if isinstance(v, int) else len(v)
        if not 1 <= count <= 6:
            raise ValueError("between 1 and 6 availability zones")
        if not isinstance(v, int) and len(set(v)) != len(v):
            raise ValueError("zone names repeat")
        return v

    @property
    def zone_count(self) -> int:
        return self.availability_zones if isinstance(self.availability_zones, int) else len(self.availability_zones)


def problems(net: NetworkSpec, path: str = "aidc:network") -> Iterator[Problem]:
    try:
        plan_subnets(net.cidr, net.zone_count, net.private_subnet_prefix, net.public_subnet_prefix)
    except SubnetLayoutError as exc:
        yield Problem(f"{path}.cidr", str(exc))
    if net.nat_gateways == "none" and net.interface_endpoints == ():
        yield Problem(f"{path}.natGateways",
                      "with no NAT gateway, nodes need interfaceEndpoints (ecr.api, ecr.dkr, sts) to pull images")
