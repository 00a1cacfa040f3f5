"""VPC address arithmetic: how many private IPv4 addresses a node takes under the VPC CNI, and
whether a subnet holds what is planned into it. Pure: numbers in, numbers out.

How the VPC CNI (amazon-vpc-cni-k8s, the version vpc_cni.yaml names) spends addresses:
- secondary-IP mode (its default): pods get secondary addresses of the node's interfaces on
  network card 0, whole interfaces at a time; ipamd keeps WARM_ENI_TARGET whole interfaces
  spare beyond those pods use, and every attached interface holds all of its addresses (its own
  primary address included);
- prefix delegation (ENABLE_PREFIX_DELEGATION): pods get addresses of /28 prefixes (16 each)
  assigned to the interfaces; ipamd keeps WARM_PREFIX_TARGET prefixes spare; an interface's
  primary address is still one address;
- custom networking (a secondary CIDR for pods, ENIConfig per zone): the node's primary
  interface carries no pods; pods' interfaces are in the pod subnet of the node's zone, so the
  node subnet sees only the primary address and the pod subnet sees the rest.
EFA interfaces of type `efa` on other network cards carry an ENA device and take one address
each; `efa-only` interfaces take none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AWS_RESERVED_PER_SUBNET = 5  # network, VPC router, DNS, future use, broadcast
PREFIX_ADDRESSES = 16        # a /28 prefix


def usable(prefixlen: int) -> int:
    """Addresses an instance, interface or endpoint can take in a subnet of this prefix."""
    return 2 ** (32 - prefixlen) - AWS_RESERVED_PER_SUBNET


@dataclass(frozen=True)
class NodeAddresses:
    """One node's addresses: in its own subnet and, with custom networking, in the pod subnet."""

    node_subnet: int
    pod_subnet: int = 0
    prefixes: int = 0  # /28 prefixes among the pods' addresses (in the pod subnet if there is one)


def max_pods(enis: int, ipv4_per_eni: int, *, custom_networking: bool = False) -> int:
    """The VPC CNI's pod ceiling in secondary-IP mode: every secondary address of every
    interface pods may use, plus the two host-network pods (aws-node, kube-proxy). With custom
    networking the primary interface carries no pods."""
    pod_enis = enis - 1 if custom_networking else enis
    return pod_enis * (ipv4_per_eni - 1) + 2


def node_addresses(pods: int, enis: int, ipv4_per_eni: int, *, prefix_delegation: bool,
                   custom_networking: bool, warm_enis: int, warm_prefixes: int,
                   extra_interfaces: int = 0) -> NodeAddresses:
    """Addresses a node takes when `pods` of its pods need a VPC address.

    `extra_interfaces` are further interfaces that each hold one address in the node subnet
    (`efa` EFA interfaces on network cards other than 0). Interfaces beyond the type's limit are
    never attached: the result is capped at what the node can hold."""
    if prefix_delegation:
        prefixes = math.ceil(pods / PREFIX_ADDRESSES) + warm_prefixes
        per_eni = ipv4_per_eni - 1  # each interface: its primary address, then prefix slots
        pod_enis = min(max(1, math.ceil(prefixes / per_eni)), enis - (1 if custom_networking else 0))
        prefixes = min(prefixes, pod_enis * per_eni)
        pod_side = pod_enis + prefixes * PREFIX_ADDRESSES
    else:
        prefixes = 0
        per_eni = ipv4_per_eni - 1
        limit = enis - (1 if custom_networking else 0)
        pod_enis = min(math.ceil(pods / per_eni) + warm_enis, limit)
        pod_enis = max(pod_enis, 1)  # ipamd attaches at least one interface for pods at start
        pod_side = pod_enis * ipv4_per_eni
    if custom_networking:
        return NodeAddresses(1 + extra_interfaces, pod_side, prefixes)
    return NodeAddresses(pod_side + extra_interfaces, 0, prefixes)


@dataclass(frozen=True)
class Demand:
    """One consumer's addresses in one subnet, with how the figure was reached."""

    what: str
    addresses: int
    how: str
    prefixes: int = 0  # of `addresses`, the /28 prefixes (prefix delegation) that need whole blocks


@dataclass(frozen=True)
class SubnetFit:
    """A subnet's planned demand against what it holds."""

    name: str       # e.g. private-0
    cidr: str
    key: str        # the stack key whose value sets the subnet's size
    demands: tuple[Demand, ...]

    @property
    def prefixlen(self) -> int:
        return int(self.cidr.rsplit("/", 1)[1])

    @property
    def capacity(self) -> int:
        return usable(self.prefixlen)

    @property
    def needed(self) -> int:
        return sum(d.addresses for d in self.demands)

    @property
    def fits(self) -> bool:
        return self.needed <= self.capacity and self.blocks_fit

    @property
    def blocks_fit(self) -> bool:
        """Prefixes need whole, aligned /28 blocks. The first and last block hold AWS's reserved
        addresses, so they only take single addresses (27 of them); every other single address
        is assumed to spoil a block only once 16 of them fill it (addresses packed, not spread:
        AWS's advice for prefix delegation is a subnet CIDR reservation that keeps it so)."""
        prefixes = sum(d.prefixes for d in self.demands)
        if prefixes == 0:
            return True
        singles = self.needed - prefixes * PREFIX_ADDRESSES
        blocks = 2 ** (28 - self.prefixlen) - 2
        return prefixes + math.ceil(max(0, singles - 27) / PREFIX_ADDRESSES) <= blocks

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.capacity)

    @property
    def prefix_that_fits(self) -> int | None:
        """The longest prefix whose subnet would hold this demand (prefix blocks included)."""
        for prefix in range(28, 15, -1):
            if SubnetFit(self.name, f"0.0.0.0/{prefix}", self.key, self.demands).fits:
                return prefix
        return None
