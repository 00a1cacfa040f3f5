"""`aidc:network`: the VPC the datacenter lives in."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator

from components.formulas.subnets import SubnetLayoutError, plan_subnets, pod_subnets

from .base import Model, Problem

# A secondary VPC CIDR may come from RFC 1918, 100.64.0.0/10 (RFC 6598) or 198.19.0.0/16
# (EC2 User Guide, "VPC CIDR blocks": IPv4 VPC CIDR block association restrictions).
_SECONDARY_RANGES = tuple(ipaddress.IPv4Network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.19.0.0/16"))

InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "sts", "logs", "ssm", "ec2", "elasticloadbalancing"]


class PodAddressing(Model):
    """How the VPC CNI gives pods addresses. `secondaryIp` (the CNI's default) hands out single
    addresses of whole interfaces; `prefixDelegation` hands out /28 prefixes, so a node takes
    far fewer addresses when it runs few pods. `cidr` adds a secondary VPC CIDR with one pod
    subnet per zone (the CNI's custom networking): pods then take no address of the node subnets."""

    ip_mode: Literal["secondaryIp", "prefixDelegation"] = "secondaryIp"
    cidr: str | None = None
    subnet_prefix: int | None = Field(default=None, ge=16, le=28)  # default: the largest that fits every zone

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        if v is None:
            return v
        net = ipaddress.IPv4Network(v)
        if not any(net.subnet_of(r) for r in _SECONDARY_RANGES):
            raise ValueError(f"{v} is not a range a secondary VPC CIDR may use "
                             "(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 198.19.0.0/16)")
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("a VPC CIDR must be between /16 and /24")
        return str(net)

    @property
    def custom_networking(self) -> bool:
        return self.cidr is not None

    @property
    def prefix_delegation(self) -> bool:
        return self.ip_mode == "prefixDelegation"


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
    pods: PodAddressing = PodAddressing()

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

    @property
    def pod_subnet_prefix(self) -> int | None:
        """Pod subnets: the stack's prefix, else the largest that gives every zone one."""
        if self.pods.cidr is None:
            return None
        if self.pods.subnet_prefix is not None:
            return self.pods.subnet_prefix
        base = ipaddress.IPv4Network(self.pods.cidr).prefixlen
        return base + max(0, (self.zone_count - 1).bit_length())

    def pod_subnets(self) -> list[str]:
        """One pod subnet per zone, zone i in block i of the pod CIDR (append-only, like the node
        subnets); [] without custom networking. Raises SubnetLayoutError when they do not fit."""
        if self.pods.cidr is None:
            return []
        return pod_subnets(self.pods.cidr, self.zone_count, self.pod_subnet_prefix or 0)


def problems(net: NetworkSpec, path: str = "aidc:network") -> Iterator[Problem]:
    try:
        plan_subnets(net.cidr, net.zone_count, net.private_subnet_prefix, net.public_subnet_prefix)
    except SubnetLayoutError as exc:
        yield Problem(f"{path}.cidr", str(exc))
    if net.pods.cidr is not None:
        pods = ipaddress.IPv4Network(net.pods.cidr)
        if pods.overlaps(ipaddress.IPv4Network(net.cidr)):
            yield Problem(f"{path}.pods.cidr", f"{pods} overlaps the VPC's {net.cidr}")
        try:
            net.pod_subnets()
        except SubnetLayoutError as exc:
            yield Problem(f"{path}.pods.subnetPrefix", str(exc))
    elif net.pods.subnet_prefix is not None:
        yield Problem(f"{path}.pods.subnetPrefix", "only with pods.cidr (the secondary CIDR pod subnets are cut from)")
    if net.nat_gateways == "none" and net.interface_endpoints == ():
        yield Problem(f"{path}.natGateways",
                      "with no NAT gateway, nodes need interfaceEndpoints (ecr.api, ecr.dkr, sts) to pull images")
