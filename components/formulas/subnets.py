"""Subnet layout: a pure function from the VPC CIDR and zone count to subnet CIDRs.

The layout is append-only, so adding a zone never moves an existing subnet (a moved
subnet is a replaced subnet, and everything in it goes with it):
  - the VPC is cut into equal private blocks of `private_prefix`; zone i gets block i;
  - the last block is reserved for public subnets, cut to `public_prefix`; zone i gets
    public subnet i of that block.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal


class SubnetLayoutError(ValueError):
    pass


@dataclass(frozen=True)
class Subnet:
    tier: Literal["private", "public"]
    zone: int  # index into the stack's availability zones
    cidr: str


def _nth(block: ipaddress.IPv4Network, prefix: int, n: int) -> ipaddress.IPv4Network:
    size = 2 ** (32 - prefix)
    return ipaddress.IPv4Network((int(block.network_address) + n * size, prefix))


def plan_subnets(vpc_cidr: str, zones: int, private_prefix: int = 19,
                 public_prefix: int = 24) -> list[Subnet]:
    vpc = ipaddress.IPv4Network(vpc_cidr)
    if zones < 1:
        raise SubnetLayoutError("at least one availability zone is needed")
    if private_prefix <= vpc.prefixlen:
        raise SubnetLayoutError(
            f"private subnets (/{private_prefix}) must be smaller than the VPC (/{vpc.prefixlen})")
    if public_prefix < private_prefix:
        raise SubnetLayoutError(
            f"public subnets (/{public_prefix}) must not be larger than private ones (/{private_prefix})")
    blocks = 2 ** (private_prefix - vpc.prefixlen)
    if zones + 1 > blocks:
        raise SubnetLayoutError(
            f"{vpc} holds {blocks} blocks of /{private_prefix}: {zones} private subnets plus "
            f"the public block need {zones + 1}; use a larger VPC or a longer privateSubnetPrefix")
    public_slots = 2 ** (public_prefix - private_prefix)
    if zones > public_slots:
        raise SubnetLayoutError(
            f"a /{private_prefix} public block holds {public_slots} public /{public_prefix} subnets, "
            f"not {zones}")
    public_block = _nth(vpc, private_prefix, blocks - 1)
    private = [Subnet("private", i, str(_nth(vpc, private_prefix, i))) for i in range(zones)]
    public = [Subnet("public", i, str(_nth(public_block, public_prefix, i))) for i in range(zones)]
    return private + public


def nat_gateway_zones(strategy: str, zones: int) -> list[int]:
    """Zones that get a NAT gateway (`aidc:network.natGateways`): none, the first only, or each."""
    return {"none": [], "single": [0], "onePerAz": list(range(zones))}[strategy]


def pod_subnets(pod_cidr: str, zones: int, prefix: int) -> list[str]:
    """Pod subnets of a secondary CIDR (VPC CNI custom networking): zone i gets block i of
    `prefix`, so adding a zone never moves one."""
    block = ipaddress.IPv4Network(pod_cidr)
    if prefix < block.prefixlen:
        raise SubnetLayoutError(f"pod subnets (/{prefix}) cannot be larger than the pod CIDR (/{block.prefixlen})")
    if zones > 2 ** (prefix - block.prefixlen):
        raise SubnetLayoutError(f"{block} holds {2 ** (prefix - block.prefixlen)} pod subnets of /{prefix}, "
                                f"not {zones}; use a shorter pods.subnetPrefix")
    return [str(_nth(block, prefix, i)) for i in range(zones)]
