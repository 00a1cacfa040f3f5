"""The resolved pool model: everything derived about a GPU pool, computed once from its spec
and the catalog, and read by every consumer (node groups and NodePools, Kueue flavors and
quotas, job templates, alerts, model servers, verify, cost, policies, diagram).

A consumer that needs a fact about a pool asks its `PoolFacts`; it never looks the instance
type up in the catalog again, and never reads a fact back out of rendered resources.
Pure: no Pulumi, no I/O beyond the catalog."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from components.vocabulary import (
    CAPACITY_TYPE_LABEL,
    DEVICE_PLUGIN_CONFIG_LABEL,
    DEVICE_PLUGIN_DEPLOY_LABEL,
    EFA_LABEL,
    GPU_COUNT_LABEL,
    GPU_LABEL,
    GPU_TAINT,
    HOSTNAME_LABEL,
    INSTANCE_TYPE_LABEL,
    MIG_CONFIG_LABEL,
    POOL_LABEL,
    PURPOSE_LABEL,
    RDMA_RESOURCE_PREFIX,
)

if TYPE_CHECKING:
    from components.catalog import Catalog, Gpu, Instance

    from .gpu_pools import GpuPoolSpec


# Managed node groups replace one node at a time (updateConfig.maxUnavailable).
MAX_UNAVAILABLE = 1


def managed_surge(zones: int) -> int:
    """Nodes an EKS managed node group update (DEFAULT strategy) launches beside the old ones:
    up to twice its zones, or maxUnavailable if larger (EKS User Guide,
    managed-node-update-behavior). The system node group and GPU node groups alike."""
    return max(2 * zones, MAX_UNAVAILABLE)


@dataclass(frozen=True)
class EfaInterface:
    """One EFA interface of a launch template: which network card, which device index, and
    whether it carries IP traffic too (`efa`) or only EFA (`efa-only`)."""

    network_card: int
    device_index: int
    interface_type: str  # efa | efa-only


def efa_layout(instance: "Instance", provisioner: str = "managed") -> tuple[EfaInterface, ...]:
    """Every EFA interface a node of the pool gets: one on each card the catalog lists as
    carrying EFA (`efaCards`; by default cards 0 .. efaInterfaces-1).

    Managed node groups get aidc's launch template. When card 0 carries EFA, its device 0 is
    the primary interface and must carry IP traffic, so it is `efa` (EFA with ENA: the node's
    address plus the first EFA device); each further card gets one interface at device index 1,
    `efa-only` where the type supports it (no ENA device, so no VPC address is spent), else
    `efa`. A p5.48xlarge gets 32 interfaces, one of them with an address. When card 0 carries
    no EFA (p6-b300), the primary is a plain ENA interface (`fabric.network_interfaces` adds it)
    and every EFA card gets the device-1 interface.

    Karpenter builds its own launch template. Where the type supports `efa-only`, aidc's
    EC2NodeClass lists networkInterfaces: a plain ENA primary (card 0, device 0) and an `efa-only`
    interface at device index 1 on every EFA card (card 0 included), so no EFA interface spends an
    address; the EFA device count is the same. Otherwise (no networkInterfaces) Karpenter puts an
    `efa` interface on cards 0 .. n-1 (device index 0 on card 0, 1 on the others), each with an
    address (aws/karpenter-provider-aws v1.14.1, pkg/providers/launchtemplate/launchtemplate.go,
    generateNetworkInterfaces; the EC2NodeClass CRD allows `interface` and `efa-only` only); such
    a type whose EFA cards are not 0 .. n-1 is refused for Karpenter EFA pools at validation."""
    if instance.efa_interfaces == 0:
        return ()
    if provisioner == "karpenter" and instance.efa_only:
        return tuple(EfaInterface(card, 1, "efa-only") for card in instance.efa_network_cards)
    rest = "efa-only" if instance.efa_only and provisioner == "managed" else "efa"
    return tuple(EfaInterface(0, 0, "efa") if card == 0 else EfaInterface(card, 1, rest)
                 for card in instance.efa_network_cards)


@dataclass(frozen=True)
class PoolFacts:
    """One GPU pool, resolved. `spec` is kept for what is the user's own choice (names of
    reservations, MIG profile); every derived number is a field here."""

    spec: "GpuPoolSpec"
    instance: "Instance"
    gpu: "Gpu"
    labels: Mapping[str, str]  # every node's labels (an existing pool: the ones the site must set)
    taints: tuple[Mapping[str, str], ...]
    efa_interfaces: tuple[EfaInterface, ...]  # empty unless the pool uses EFA
    topology_levels: tuple[str, ...] | None  # Kueue Topology levels, coarsest first; None: no labels
    arch: str = "amd64"  # kubernetes.io/arch of the nodes: the pool's AMI's (arm64 on Grace types)

    # ---- who the pool is
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def instance_type(self) -> str:
        return self.spec.instance_type

    @property
    def provisioner(self) -> str:
        return self.spec.provisioner

    @property
    def purpose(self) -> str:
        return self.spec.purpose

    @property
    def existing(self) -> bool:
        """The site's own servers: aidc launches nothing for this pool."""
        return self.spec.existing

    @property
    def capacity(self) -> str:
        """The one capacity vocabulary: onDemand | spot | capacityBlock | reservation, or
        `existing` for servers the site runs (what cost and reports print)."""
        return "existing" if self.existing else self.spec.capacity.type

    @property
    def reserved(self) -> bool:
        """Paid whether a node runs or not: a Capacity Block or a capacity reservation."""
        return not self.existing and self.spec.capacity.reserved

    # ---- per node
    @property
    def gpus_per_node(self) -> int:
        return self.instance.gpu_count

    @property
    def advertised_gpus_per_node(self) -> tuple[int, bool]:
        """(`nvidia.com/gpu` a node advertises, exact?): time-slicing multiplies the GPUs; MIG
        splits each into slices whose number depends on the profile, so only a floor is known."""
        if self.spec.time_slicing is not None:
            return self.gpus_per_node * self.spec.time_slicing.replicas, True
        if self.spec.mig is not None:
            return self.gpus_per_node, False
        return self.gpus_per_node, True

    @property
    def pods_per_gpu(self) -> int:
        """Pods sharing one GPU (time-slicing replicas; 1 otherwise)."""
        return self.spec.time_slicing.replicas if self.spec.time_slicing is not None else 1

    @property
    def vcpu_per_gpu(self) -> float:
        return self.instance.vcpu / self.gpus_per_node

    @property
    def memory_gib_per_gpu(self) -> float:
        return self.instance.memory_gib / self.gpus_per_node

    @property
    def efa_devices(self) -> int:
        """`vpc.amazonaws.com/efa` a pod that takes a whole node requests: every interface."""
        return len(self.efa_interfaces)

    @property
    def disk_gib(self) -> int | None:
        """The node's gp3 volume; None for the site's servers (their disks are not aidc's)."""
        return None if self.existing else self.spec.disk_gib

    # ---- the pool's size
    @property
    def min_nodes(self) -> int:
        """A Karpenter pool starts from zero whatever min says (the spec requires 0 anyway)."""
        return 0 if self.provisioner == "karpenter" else self.spec.size.min

    @property
    def max_nodes(self) -> int:
        return self.spec.size.max

    @property
    def desired_nodes(self) -> int | None:
        return self.spec.size.desired

    @property
    def max_gpus(self) -> int:
        """The most GPUs the pool can ever hold: size.max nodes of its type."""
        return self.max_nodes * self.gpus_per_node

    @property
    def max_vcpu(self) -> int:
        return self.max_nodes * self.instance.vcpu

    @property
    def max_memory_gib(self) -> int:
        return int(self.max_nodes * self.instance.memory_gib)

    @property
    def max_resources(self) -> dict[str, int]:
        """What the pool can ever hold, in the units quotas use: gpus, cpu, memory_gib."""
        return {"gpus": self.max_gpus, "cpu": self.max_vcpu, "memory_gib": self.max_memory_gib}

    @property
    def placement_group(self) -> bool:
        return self.spec.placement_group

    # ---- replacement (a new AMI, a changed launch template, drift)
    @property
    def update_strategy(self) -> str:
        """Managed node group update strategy: reserved capacity has no spare instances to surge
        into, so its nodes are replaced in place (MINIMAL); others surge first (DEFAULT)."""
        return "MINIMAL" if self.reserved else "DEFAULT"

    @property
    def replace_budget_percent(self) -> int:
        """Karpenter: the share of nodes replaced at once for drift or repacking. Training nodes
        never are (a multi-node job dies with any of its nodes); inference nodes 20 %."""
        return 0 if self.purpose == "training" else 20

    @property
    def empty_budget_percent(self) -> int:
        """Karpenter: the share of empty nodes taken back at once."""
        return 10 if self.purpose == "training" else 20

    def replacement_surge(self, zones: int) -> int:
        """Nodes that may run beside a full pool while it is replaced, each needing addresses.
        A managed node group with the DEFAULT strategy surges (`managed_surge`) before draining
        old nodes; MINIMAL does not surge.
        Karpenter launches a replacement before draining, up to its replacement budget."""
        if self.existing:
            return 0
        if self.provisioner == "karpenter":
            return math.ceil(self.max_nodes * self.replace_budget_percent / 100)
        return 0 if self.update_strategy == "MINIMAL" else managed_surge(zones)

    # ---- the scale-out fabric
    @property
    def fabric(self) -> str:
        """infiniband | roce | tcp for the site's servers (its declaration); efa | tcp on EC2."""
        if self.existing:
            return self.spec.fabric
        return "efa" if self.efa_interfaces else "tcp"

    @property
    def rdma(self) -> bool:
        """NCCL uses InfiniBand/RoCE verbs through the Network Operator's RDMA devices."""
        return self.existing and self.spec.rdma

    @property
    def rdma_resource(self) -> str | None:
        """The extended resource the RDMA device plugin advertises on this pool's nodes."""
        return f"{RDMA_RESOURCE_PREFIX}/{self.name}" if self.rdma else None

    @property
    def rdma_devices(self) -> int:
        """`rdma_resource` a whole-node pod requests: the shared device once, or one SR-IOV
        virtual function per compute NIC."""
        if not self.rdma:
            return 0
        return self.instance.network_cards if self.spec.nics.rdma == "sriov" else 1

    @property
    def gpudirect_rdma(self) -> bool:
        """GPU memory goes straight to the NIC: the shape supports it and the fabric is RDMA."""
        return self.instance.gpudirect_rdma and (self.rdma or bool(self.efa_interfaces))

    @property
    def nccl_floor_gbps(self) -> float | None:
        """The acceptance floor for this shape on this fabric (catalog); None when none is known."""
        if self.existing and not self.rdma:
            return None  # TCP sockets: no catalog figure, and none of the RDMA floors applies
        return self.instance.nccl_floor(self.fabric if self.existing else None)

    @property
    def spans_zones(self) -> bool:
        """Nodes may land in more than one zone: a launched pool that is not held to one zone
        (EFA, reserved capacity and a pinned zone each hold it). The site's pools: unknown, no."""
        return not self.existing and not self.spec.single_zone


def _operator_switches(pool: "GpuPoolSpec") -> dict[str, str]:
    """GPU Operator per-node switches: the MIG profile, the time-slicing config's name."""
    labels = {}
    if pool.mig is not None:
        labels[MIG_CONFIG_LABEL] = pool.mig.config
    if pool.time_slicing is not None:
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = pool.name
    return labels


def _labels(pool: "GpuPoolSpec", inst: "Instance", cat: "Catalog") -> dict[str, str]:
    """Who the node is (pool, purpose), what it carries (GPU model and count, instance type,
    EFA), what it costs (capacity type), and the GPU Operator's per-node switches.

    An existing pool's nodes are the site's: aidc cannot label them, so the labels are the
    ones the site must set (the pool label, its own `labels`, the operator's switches)."""
    if pool.existing:
        return {**pool.labels, POOL_LABEL: pool.name, **_operator_switches(pool)}
    labels = {
        POOL_LABEL: pool.name,
        PURPOSE_LABEL: pool.purpose,
        GPU_LABEL: inst.gpu,
        GPU_COUNT_LABEL: str(inst.gpu_count),
        INSTANCE_TYPE_LABEL: pool.instance_type,
        CAPACITY_TYPE_LABEL: pool.capacity.type,
        EFA_LABEL: "true" if pool.efa else "false",
        **_operator_switches(pool),
    }
    if cat.recipe.amis[pool.ami_family].os == "bottlerocket":
        # Bottlerocket's NVIDIA variant runs the device plugin itself; a second one would
        # advertise nvidia.com/gpu twice.
        labels[DEVICE_PLUGIN_DEPLOY_LABEL] = "false"
    return {**pool.labels, **labels}


def _topology_levels(pool: "GpuPoolSpec", inst: "Instance", cat: "Catalog") -> tuple[str, ...] | None:
    """Kueue Topology levels (coarsest first, hostname last) for an EFA pool whose instance
    family EC2 reports topology for; None when the nodes carry no topology labels."""
    if not pool.efa:
        return None
    data: dict[str, Any] = cat.extra["training"]["networkTopology"]
    layers = data["layers"].get(inst.family)
    if not layers:
        return None
    return (*data["labels"][:layers], HOSTNAME_LABEL)


def resolve_pool(pool: "GpuPoolSpec", cat: "Catalog") -> PoolFacts:
    """The facts of one pool whose instance type the catalog knows (KeyError otherwise)."""
    inst = cat.instances[pool.instance_type]
    return PoolFacts(
        spec=pool, instance=inst, gpu=cat.gpus[inst.gpu],
        labels=MappingProxyType(_labels(pool, inst, cat)),
        # An existing pool's taints are the site's choice: GPU_TAINT is recommended, not required.
        taints=() if pool.existing else (MappingProxyType(dict(GPU_TAINT)),),
        efa_interfaces=efa_layout(inst, pool.provisioner) if pool.efa else (),
        topology_levels=_topology_levels(pool, inst, cat),
        arch=cat.recipe.amis[pool.ami_family].arch if pool.ami_family in cat.recipe.amis else "amd64")


def resolve_pools(pools: Iterable["GpuPoolSpec"], cat: "Catalog") -> dict[str, PoolFacts]:
    """Pools by name; a pool whose instance type the catalog lacks is left out (validation
    reports it at its key path), so checks that need facts skip it instead of failing twice."""
    return {p.name: resolve_pool(p, cat) for p in pools if p.instance_type in cat.instances}
