"""Address planning: for every subnet the stack builds, the addresses it will need (nodes at
their pool's maximum plus the surge of a rolling replacement, Lustre, endpoints, NAT gateways,
load balancers, the EKS control plane) against what the subnet holds.

Per-node figures come from the catalog (the VPC CNI's interface limits, vpc_cni.yaml) and the
resolved pool model (GPUs, EFA layout, surge); the arithmetic is components.formulas.addresses.
What each constant is and where it comes from is said next to it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.catalog import catalog
from components.formulas.addresses import Demand, NodeAddresses, SubnetFit, max_pods, node_addresses
from components.formulas.subnets import SubnetLayoutError, nat_gateway_zones, plan_subnets

from .base import Problem
from .gpu_pools import zone_index
from .pools import managed_surge
from .storage import lustre_zone_index

if TYPE_CHECKING:
    from .pools import PoolFacts
    from .root import Spec

# Pods with a VPC address that aidc's DaemonSets put on every GPU node: NVIDIA device plugin,
# GPU feature discovery, DCGM exporter, container toolkit, operator validator, MIG manager, NFD
# worker, EFA device plugin, EBS CSI node. Host-network DaemonSets (aws-node, kube-proxy, node
# exporter, Pod Identity agent, FSx CSI node) take none. Rounded up for site DaemonSets.
GPU_NODE_DAEMON_PODS = 12
# MIG splits a GPU into at most 7 instances (NVIDIA MIG User Guide, supported profiles: 1g on
# A100, H100, H200, B200), so a MIG node runs at most 7 GPU pods per GPU.
MIG_MAX_SLICES = 7
# The EKS control plane puts 2-4 cross-account interfaces into the cluster subnets and creates
# new ones before deleting the old during a version update: "at least six IP addresses ... we
# recommend at least 16" per subnet (awsdocs/amazon-eks-user-guide, latest/ug/networking/
# network-reqs.adoc). aidc plans the recommended figure.
EKS_CONTROL_PLANE = 16
# An FSx for Lustre file system has "more than one" interface in its subnet (FSx API reference,
# FileSystem.NetworkInterfaceIds) and AWS publishes no count per size or deployment type: this is
# an allowance, not an AWS figure (DescribeFileSystems shows the real interfaces once it exists).
LUSTRE_INTERFACES = 24
LUSTRE_NOTE = "allowance: AWS publishes no per-file-system count"
# The AWS Load Balancer Controller only picks subnets with at least 8 free addresses
# (kubernetes-sigs/aws-load-balancer-controller docs/deploy/subnet_discovery.md); each NLB then
# takes one address per subnet (ELB guide, Network Load Balancers, availability zones).
LB_CONTROLLER_FREE = 8


@dataclass(frozen=True)
class AddressPlan:
    mode: str
    subnets: tuple[SubnetFit, ...]

    def lines(self) -> list[str]:
        """What `aidc plan` prints: one line per subnet, worst first."""
        out = [f"addresses ({self.mode}):"]
        width = max((len(s.name) for s in self.subnets), default=0)
        for s in self.subnets:
            worst = max(s.demands, key=lambda d: d.addresses, default=None)
            tail = f"; most: {worst.what} {worst.addresses:,} ({worst.how})" if worst else ""
            verdict = "" if s.fits else f"  SHORT by {s.shortfall:,}" if s.shortfall else "  no room for /28 prefixes"
            out.append(f"  {s.name:<{width}} {s.cidr:<18} needs {s.needed:>6,} of {s.capacity:>6,}{verdict}{tail}")
        return out


def _mode(spec: "Spec") -> str:
    pods = spec.network.pods
    mode = "VPC CNI prefix delegation" if pods.prefix_delegation else "VPC CNI secondary IPs"
    return f"{mode}, pods in {pods.cidr}" if pods.custom_networking else mode


def _per_node(spec: "Spec", instance_type: str, pods: int | None, extra: int = 0,
              card0_taken: int = 0) -> NodeAddresses | None:
    """A node's addresses with `pods` pods that need one; None: the node's maximum. None when the
    instance type is not in the VPC CNI's table (reported by the caller). `card0_taken`: further
    interfaces aidc puts on network card 0 (efa-only), which the VPC CNI then cannot attach."""
    cni = catalog().vpc_cni
    limits = cni.limits.get(instance_type)
    if limits is None:
        return None
    limits = (limits.enis - card0_taken, limits.ipv4_per_eni)
    pod_mode = spec.network.pods
    if pods is None:  # a system node full of pods; the two host-network ones take no address
        pods = max_pods(*limits, custom_networking=pod_mode.custom_networking) - 2
    return node_addresses(pods, *limits, prefix_delegation=pod_mode.prefix_delegation,
                          custom_networking=pod_mode.custom_networking,
                          warm_enis=cni.defaults.warm_eni_target, warm_prefixes=cni.defaults.warm_prefix_target,
                          extra_interfaces=extra)


def _card0_taken(pool: "PoolFacts") -> int:
    """Interfaces aidc adds on network card 0 beside the primary (Karpenter's efa-only one), which
    the VPC CNI then cannot attach there."""
    return sum(1 for i in pool.efa_interfaces if i.network_card == 0 and i.device_index > 0)


def _spread(nodes: int, zones: list[int]) -> dict[int, int]:
    """Nodes per zone when a node group spans `zones` (EC2 Auto Scaling and Karpenter balance
    across them; the remainder lands in the first zones)."""
    return {z: nodes // len(zones) + (1 if i < nodes % len(zones) else 0) for i, z in enumerate(zones)}


def _node_demands(spec: "Spec") -> Iterator[tuple[int, str, int, NodeAddresses, str]]:
    """(zone, who, nodes, per-node addresses, how) for every node group aidc launches."""
    zones = list(range(spec.network.zone_count))
    sysn = spec.cluster.system_nodes
    per = _per_node(spec, sysn.instance_type, None)
    if per is not None:
        surge = managed_surge(len(zones))
        for z, n in _spread(sysn.max + surge, zones).items():
            yield z, "system nodes", n, per, f"max {sysn.max} + {surge} surge over {len(zones)} zones, full of pods"
    for pool in spec.pools.values():
        if pool.existing:
            continue
        try:
            zone = zone_index(pool.spec, spec.network, spec.region)
        except ValueError:  # a zone the network does not cover: reported at the pool
            continue
        pool_zones = zones if zone is None else [zone]
        extra = sum(1 for i in pool.efa_interfaces if i.network_card > 0 and i.interface_type == "efa")
        card0_taken = _card0_taken(pool)
        advertised, exact = pool.advertised_gpus_per_node
        pods = GPU_NODE_DAEMON_PODS + (advertised if exact else pool.gpus_per_node * MIG_MAX_SLICES)
        per = _per_node(spec, pool.instance_type, pods, extra, card0_taken)
        if per is None:
            continue
        surge = pool.replacement_surge(len(pool_zones))
        for z, n in _spread(pool.max_nodes + surge, pool_zones).items():
            yield z, pool.name, n, per, f"max {pool.max_nodes} + {surge} surge, {pods} pods each" + (
                f", {extra} efa interfaces" if extra else "")


def address_plan(spec: "Spec") -> AddressPlan | None:
    """The stack's subnets and what each must hold; None on an existing cluster (no subnets)
    or when the layout itself is invalid (reported by the network's own checks)."""
    if spec.existing_cluster:
        return None
    net = spec.network
    try:
        layout = plan_subnets(net.cidr, net.zone_count, net.private_subnet_prefix, net.public_subnet_prefix)
        pod_cidrs = net.pod_subnets()
    except SubnetLayoutError:
        return None
    names = list(net.availability_zones) if not isinstance(net.availability_zones, int) else None
    demands: dict[tuple[str, int], list[Demand]] = {(s.tier, s.zone): [] for s in layout}
    demands.update({("pods", z): [] for z in range(len(pod_cidrs))})

    for z, who, nodes, per, how in _node_demands(spec):
        # with custom networking the pods' prefixes are in the pod subnet, else beside the node
        demands["private", z].append(Demand(who, nodes * per.node_subnet, f"{nodes} x {per.node_subnet}: {how}",
                                            0 if pod_cidrs else nodes * per.prefixes))
        if pod_cidrs:
            demands["pods", z].append(Demand(who, nodes * per.pod_subnet, f"{nodes} x {per.pod_subnet}: {how}",
                                             nodes * per.prefixes))

    if spec.storage is not None and spec.storage.lustre is not None and spec.storage.existing is None:
        demands["private", lustre_zone_index(spec)].append(Demand("Lustre", LUSTRE_INTERFACES, LUSTRE_NOTE))
    for z in range(net.zone_count):
        demands["private", z].append(Demand("EKS control plane", EKS_CONTROL_PLANE, "free for its interfaces"))
        if net.interface_endpoints:
            demands["private", z].append(Demand("interface endpoints", len(net.interface_endpoints),
                                                "one interface each"))
    for z in nat_gateway_zones(net.nat_gateways, net.zone_count):
        demands["public", z].append(Demand("NAT gateway", 1, "one interface"))
    lbs = [s for s in spec.inference.services if s.expose.type == "loadBalancer"]
    for tier, public in (("private", False), ("public", True)):
        n = sum(1 for s in lbs if s.expose.public is public)
        if n:
            for z in range(net.zone_count):
                demands[tier, z].append(Demand("load balancers", max(n, LB_CONTROLLER_FREE),
                                               f"{n} NLB, one address each; the controller needs 8 free"))

    keys = {"private": "aidc:network.privateSubnetPrefix", "public": "aidc:network.publicSubnetPrefix",
            "pods": "aidc:network.pods.subnetPrefix"}
    cidrs = {(s.tier, s.zone): s.cidr for s in layout} | {("pods", z): c for z, c in enumerate(pod_cidrs)}
    fits = []
    for (tier, z), ds in demands.items():
        label = f"{tier}-{z}" + (f" ({names[z]})" if names else "")
        fits.append(SubnetFit(label, cidrs[tier, z], keys[tier], tuple(d for d in ds if d.addresses)))
    order = {"private": 0, "pods": 1, "public": 2}
    fits.sort(key=lambda f: (order[f.name.split("-")[0]], f.name))
    return AddressPlan(_mode(spec), tuple(fits))


def problems(spec: "Spec") -> Iterator[Problem]:
    """A subnet too small for what is planned into it, with the prefix that would fit; an
    instance type the VPC CNI table does not know."""
    if spec.existing_cluster:
        return
    known = catalog().vpc_cni.limits
    if spec.cluster.system_nodes.instance_type not in known:
        yield Problem("aidc:cluster.systemNodes.instanceType",
                      f"{spec.cluster.system_nodes.instance_type!r} is not a type aidc can plan addresses for "
                      f"(the VPC CNI limits in vpc_cni.yaml list {_families(known)})")
    if spec.network.pods.custom_networking:
        for pool in spec.pools.values():
            limits = known.get(pool.instance_type)
            taken = _card0_taken(pool)
            if not pool.existing and limits is not None and limits.enis - taken - 1 < 1:
                yield Problem("aidc:network.pods.cidr",
                              f"pool {pool.name}: network card 0 of {pool.instance_type} holds {limits.enis} "
                              f"interfaces, {1 + taken} of them aidc's, so custom networking has none left for "
                              "pods (the VPC CNI never puts pods on the primary); drop pods.cidr or use "
                              "provisioner managed")
    plan = address_plan(spec)
    if plan is None:
        return
    reported: set[str] = set()
    for s in plan.subnets:
        if s.fits or s.key in reported:
            continue
        reported.add(s.key)
        yield Problem(s.key, _shortfall_message(spec, s))


def _families(known) -> str:
    fams = sorted({t.split(".")[0] for t in known})
    return ", ".join(fams)


def _with_prefix_delegation(spec: "Spec", s: SubnetFit) -> int | None:
    """What subnet `s` would need with prefix delegation, when the stack does not use it."""
    if spec.network.pods.prefix_delegation:
        return None
    pods = spec.network.pods.model_copy(update={"ip_mode": "prefixDelegation"})
    other = spec.model_copy(update={"network": spec.network.model_copy(update={"pods": pods})})
    plan = address_plan(other)
    found = [f for f in plan.subnets if f.name == s.name] if plan else []
    return found[0].needed if found and found[0].needed < s.needed else None


def _shortfall_message(spec: "Spec", s: SubnetFit) -> str:
    parts = ", ".join(f"{d.what} {d.addresses:,}" for d in sorted(s.demands, key=lambda d: -d.addresses))
    head = (f"subnet {s.name} ({s.cidr}) holds {s.capacity:,} addresses; the stack needs {s.needed:,} there "
            f"({parts})")
    if s.shortfall:
        head += f": short by {s.shortfall:,}"
    else:
        head += ": too fragmented for the /28 prefixes prefix delegation needs"
    fit = s.prefix_that_fits
    if fit is None:
        return head + "; no subnet of a /16 VPC holds that: use pods.cidr or fewer nodes"
    advice = f"; use /{fit} or larger"
    if (pd := _with_prefix_delegation(spec, s)) is not None:
        advice = f" (with aidc:network.pods.ipMode: prefixDelegation it needs {pd:,})" + advice
    if s.key.endswith("privateSubnetPrefix"):
        zones = spec.network.zone_count
        # the VPC holds zones + 1 blocks of the private prefix (the last is the public block)
        vpc = fit - math.ceil(math.log2(zones + 1))
        if vpc < int(spec.network.cidr.rsplit("/", 1)[1]):
            advice += f" (with a /{vpc} or larger aidc:network.cidr for {zones} zones plus the public block)"
    return head + advice
