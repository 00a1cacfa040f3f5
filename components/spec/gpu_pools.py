"""`aidc:gpuPools`: the GPU node pools, each one instance type on one kind of capacity. On an
existing cluster a pool launches nothing: it describes servers the site already runs
(`provisioner: existing`), found by the pool label the site puts on them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, get_args

from pydantic import Field, field_validator

from components.catalog import Catalog, version_tuple
from components.suggest import unknown

from .base import Model, Problem, rule
from .network import NetworkSpec
from .regions import zone_error

CapacityType = Literal["onDemand", "spot", "capacityBlock", "reservation"]
CAPACITY_TYPES: tuple[str, ...] = get_args(CapacityType)
AmiFamily = Literal["al2023-nvidia", "al2023-nvidia-arm64", "bottlerocket-nvidia"]
# The scale-out fabric of a pool of the site's servers (EC2 pools use `efa` instead).
Fabric = Literal["infiniband", "roce", "tcp"]
RDMA_FABRICS = ("infiniband", "roce")
_IFNAME = rule(r"^[A-Za-z0-9][-A-Za-z0-9_.:]{0,14}$",
               "a network interface name: 1-15 letters, digits, '-', '_', '.' or ':', beginning with a letter or digit")

# Label prefixes aidc, Kubernetes, Karpenter and the NVIDIA stack set themselves; a pool's own
# labels may not shadow them (a wrong `nvidia.com/gpu.present` would hide a node from the operator).
RESERVED_LABEL_PREFIXES = ("aidc.io/", "kubernetes.io/", "k8s.io/", "karpenter.sh/", "karpenter.k8s.aws/",
                           "eks.amazonaws.com/", "nvidia.com/", "feature.node.kubernetes.io/")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class Capacity(Model):
    type: CapacityType = "onDemand"
    # cr-... for a Capacity Block or an On-Demand Capacity Reservation.
    reservation_id: str | None = Field(default=None, pattern=rule(r"^cr-[0-9a-f]{8,17}$", "a reservation id: 'cr-' and 8-17 hex digits"))
    # arn:...:group/... of a capacity reservation group (reservation only).
    reservation_group_arn: str | None = Field(default=None, pattern=rule(r"^arn:aws[a-z-]*:resource-groups:",
                                                                  "the ARN of a resource group (arn:aws:resource-groups:...)"))

    @property
    def reserved(self) -> bool:
        return self.type in ("capacityBlock", "reservation")


class Size(Model):
    min: int = Field(default=0, ge=0)
    max: int = Field(default=1, ge=1)
    desired: int | None = Field(default=None, ge=0)


class Mig(Model):
    """Multi-Instance GPU: the operator's MIG manager partitions each GPU of the pool."""

    # single: every GPU of a node cut the same way, pods ask for nvidia.com/gpu;
    # mixed: profiles differ, pods ask for nvidia.com/mig-<profile>. One strategy per cluster.
    strategy: Literal["single", "mixed"] = "single"
    # A profile name of the MIG manager's config (node label nvidia.com/mig.config).
    config: str = Field(default="all-balanced", pattern=rule(r"^[a-z0-9][a-z0-9.-]{0,62}$",
                                                    "a MIG profile name: 1-63 lowercase letters, digits, '.' or '-'"))


class TimeSlicing(Model):
    """Share each GPU between `replicas` pods (no memory isolation: dev only)."""

    replicas: int = Field(ge=2, le=48)


class Nics(Model):
    """Names of the compute-fabric NICs on the site's servers (site knowledge; each optional)."""

    # RDMA devices NCCL may use (NCCL_IB_HCA), e.g. [mlx5_0, mlx5_1]; default: every mlx5 device.
    hcas: tuple[str, ...] = Field(default=(), max_length=64)
    # Network interfaces of those devices the RDMA device plugin selects (e.g. ibp24s0);
    # default: every Mellanox (15b3) interface of the fabric's link type.
    interfaces: tuple[str, ...] = Field(default=(), max_length=64)
    # Interface NCCL bootstraps over (NCCL_SOCKET_IFNAME); default: any but loopback and bridges.
    socket_interface: str | None = Field(default=None, pattern=_IFNAME)
    # RoCE only: the GID table index of RoCE v2 with the node's IPv4 address (NCCL_IB_GID_INDEX).
    gid_index: int | None = Field(default=None, ge=0, le=255)
    # How pods get the RDMA devices (the Network Operator's device plugin): shared, every pod on
    # a node shares all its HCAs (rdma/<pool>: 1); sriov, each pod gets one virtual function per
    # NIC (rdma/<pool>: <NICs>), which the site creates on its NICs.
    rdma: Literal["shared", "sriov"] = "shared"

    @field_validator("hcas", "interfaces")
    @classmethod
    def _names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if not re.match(_IFNAME, name):
                raise ValueError(f"{name!r} is not a device or interface name")
        return v


class GpuPoolSpec(Model):
    name: str = Field(pattern=rule(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$",
                                "2-32 lowercase letters, digits or '-', beginning with a letter and ending with a letter or digit"))
    instance_type: str
    # existing: nodes of an existing cluster that the site labels aidc.io/pool=<name>.
    provisioner: Literal["managed", "karpenter", "existing"] = "managed"
    capacity: Capacity = Capacity()
    size: Size = Size()
    efa: bool = False
    # Pin the zone; a reservation or Capacity Block is bound to one.
    availability_zone: str | None = Field(default=None, pattern=rule(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$",
                                                   "an availability zone name such as us-east-1a"))
    purpose: Literal["training", "inference"] = "training"
    # EKS-optimized accelerated AMI, pinned to the catalog's release for the cluster version.
    ami_family: AmiFamily = "al2023-nvidia"
    mig: Mig | None = None
    time_slicing: TimeSlicing | None = None
    # Extra node labels (the pool, GPU, instance and capacity labels are always set).
    labels: dict[str, str] = {}
    disk_gib: int = Field(default=200, ge=50, le=16384)  # encrypted gp3 root volume
    # Existing pools: the fabric the site's servers are cabled to, and its NIC names.
    fabric: Fabric = "tcp"
    nics: Nics = Nics()

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not _LABEL_KEY.match(key) or len(key) > 316:
                raise ValueError(f"{key!r} is not a valid Kubernetes label key")
            if not _LABEL_VALUE.match(value):
                raise ValueError(f"label {key}: {value!r} is not a valid label value")
        return v

    @property
    def single_zone(self) -> bool:
        """EFA needs every node in one zone (and subnet); so does reserved capacity."""
        return self.efa or self.capacity.reserved or self.availability_zone is not None

    @property
    def existing(self) -> bool:
        """Nodes the site runs: aidc creates no node resource for this pool."""
        return self.provisioner == "existing"

    @property
    def rdma(self) -> bool:
        """NCCL reaches the other nodes over InfiniBand or RoCE verbs (an existing pool)."""
        return self.fabric in RDMA_FABRICS

    @property
    def placement_group(self) -> bool:
        """A cluster placement group for EFA pools, unless the capacity is reserved: a Capacity
        Block or reservation is already placed, and a second placement constraint fails launches.
        Karpenter pools get none (the NodePool launches wherever the reservation or fleet puts them)."""
        return self.efa and not self.capacity.reserved and self.provisioner == "managed"


def zone_index(pool: GpuPoolSpec, net: NetworkSpec, region: str | None) -> int | None:
    """The network zone (index into Network.private_subnets) a pool lives in; None = all zones.

    Named zones map by position in `aidc:network.availabilityZones`. With a zone count the
    network takes the region's first N zones in name order, so `us-east-1b` is index 1.
    Single-zone pools without a zone pinned go to zone 0. Raises ValueError for a zone the
    network does not cover."""
    az = pool.availability_zone
    if az is None:
        return 0 if pool.single_zone else None
    if not isinstance(net.availability_zones, int):
        names = list(net.availability_zones)
        if az not in names:
            raise ValueError(f"{az} is not one of the network's zones ({', '.join(names)})")
        return names.index(az)
    if region and (why := zone_error(az, region)):
        raise ValueError(why)
    index = ord(az[-1]) - ord("a")
    if index >= net.availability_zones:
        last = chr(ord("a") + net.availability_zones - 1)
        raise ValueError(f"the network covers the first {net.availability_zones} zones ({region or ''}a..{last}); "
                         f"list zones by name in aidc:network.availabilityZones to use {az}")
    return index


def _capacity_problems(pool: GpuPoolSpec, at: str) -> Iterator[Problem]:
    cap = pool.capacity
    if cap.type == "capacityBlock" and not cap.reservation_id:
        yield Problem(f"{at}.capacity.reservationId", "required for capacityBlock")
    if cap.type == "capacityBlock" and cap.reservation_group_arn:
        yield Problem(f"{at}.capacity.reservationGroupArn", "a Capacity Block is targeted by its reservationId")
    if cap.type == "reservation" and not (cap.reservation_id or cap.reservation_group_arn):
        yield Problem(f"{at}.capacity.reservationId", "required for reservation (or reservationGroupArn)")
    if cap.reservation_id and cap.reservation_group_arn:
        yield Problem(f"{at}.capacity.reservationGroupArn", "give reservationId or reservationGroupArn, not both")
    if not cap.reserved and (cap.reservation_id or cap.reservation_group_arn):
        yield Problem(f"{at}.capacity.type", f"{cap.type} capacity cannot use a reservation")
    if pool.provisioner == "karpenter" and cap.reservation_group_arn:
        yield Problem(f"{at}.capacity.reservationGroupArn",
                      "Karpenter selects reservations by id; use reservationId (one pool per reservation)")
    if cap.reserved and pool.availability_zone is None:
        yield Problem(f"{at}.availabilityZone", f"required for {cap.type}: the reservation lives in one zone")
    size = pool.size
    if size.min > size.max:
        yield Problem(f"{at}.size.min", f"{size.min} is above max {size.max}")
    if size.desired is not None and not size.min <= size.desired <= size.max:
        yield Problem(f"{at}.size.desired", f"{size.desired} is outside min..max ({size.min}..{size.max})")
    if pool.provisioner == "karpenter":
        if size.min > 0:
            yield Problem(f"{at}.size.min", "a karpenter pool starts nodes when pods need them and has no minimum; "
                                            "use 0, or provisioner managed for a standing floor")
        if size.desired is not None:
            yield Problem(f"{at}.size.desired", "not used by a karpenter pool")


def _sharing_problems(pool: GpuPoolSpec, at: str, cat: Catalog, environment: str) -> Iterator[Problem]:
    inst = cat.instances.get(pool.instance_type)
    if pool.mig is not None and inst is not None and not cat.gpus[inst.gpu].mig:
        yield Problem(f"{at}.mig", f"{inst.gpu} GPUs ({pool.instance_type}) cannot be partitioned with MIG")
    if pool.time_slicing is not None:
        if environment != "dev":
            yield Problem(f"{at}.timeSlicing",
                          f"time-slicing shares GPU memory without isolation; dev only (this is {environment})")
        if pool.mig is not None:
            yield Problem(f"{at}.timeSlicing", "choose MIG or time-slicing, not both")
    if not pool.existing and pool.ami_family == "bottlerocket-nvidia" and (pool.mig is not None or pool.time_slicing is not None):
        yield Problem(f"{at}.amiFamily", "MIG and time-slicing are configured through the GPU Operator's device "
                                         "plugin, which runs on al2023-nvidia; Bottlerocket brings its own plugin")
    for key in pool.labels:
        if key.startswith(RESERVED_LABEL_PREFIXES) or "kubernetes.io/" in key:
            yield Problem(f"{at}.labels.{key}", "reserved prefix: aidc, Kubernetes, Karpenter or NVIDIA sets it")


def _catalog_problems(pool: GpuPoolSpec, at: str, cat: Catalog) -> Iterator[Problem]:
    inst = cat.instances.get(pool.instance_type)
    if inst is None:
        yield _unknown_type(pool, at, list(cat.ec2_types), "GPU instance type")
        return
    if pool.efa and inst.efa_interfaces == 0:
        yield Problem(f"{at}.efa", f"{pool.instance_type} has no EFA interfaces")
    elif (pool.efa and pool.provisioner == "karpenter" and not inst.efa_only
          and inst.efa_network_cards != tuple(range(inst.efa_interfaces))):
        # Without efa-only the EC2NodeClass cannot list the interfaces (its CRD allows only
        # `interface` and `efa-only`), and Karpenter v1.14.1 then puts EFA on cards 0..n-1.
        yield Problem(f"{at}.provisioner",
                      f"{pool.instance_type} carries EFA on network cards {inst.efa_network_cards[0]}-"
                      f"{inst.efa_network_cards[-1]}, not from card 0 as Karpenter lays EFA out; use provisioner managed")
    if inst.capacity_block_only and pool.capacity.type != "capacityBlock":
        yield Problem(f"{at}.capacity.type",
                      f"{pool.instance_type} is sold only as Capacity Blocks; use capacityBlock")
    if pool.ami_family not in inst.ami_families:
        yield Problem(f"{at}.amiFamily",
                      f"{pool.instance_type} does not boot {pool.ami_family}; one of {', '.join(inst.ami_families)}")


# `when` keys of a catalog constraint -> (the pool's value, the key path the problem names)
def _facets(pool: GpuPoolSpec, cat: Catalog) -> dict[str, tuple[str, str]]:
    inst = cat.instances.get(pool.instance_type)
    return {
        "capacity": (pool.capacity.type, "capacity.type"),
        "provisioner": (pool.provisioner, "provisioner"),
        "family": (inst.family if inst else "", "instanceType"),
        "instanceType": (pool.instance_type, "instanceType"),
        "amiFamily": (pool.ami_family, "amiFamily"),
        "efa": ("true" if pool.efa else "false", "efa"),
        "purpose": (pool.purpose, "purpose"),
        "gpu": (inst.gpu if inst else "", "instanceType"),
        "mig": ("true" if pool.mig is not None else "false", "mig"),
    }


def constraint_problems(pool: GpuPoolSpec, at: str, cat: Catalog, kubernetes_version: str | None) -> Iterator[Problem]:
    """The catalog's compatibility floors that apply to this pool (Karpenter for reserved
    capacity, EFA plugin per family, Kubernetes per feature), each against the pinned version."""
    facets = _facets(pool, cat)
    for c in cat.recipe.constraints:
        if not all(k in facets and facets[k][0] == v for k, v in c.when.items()):
            continue
        key = facets[next(iter(c.when))][1] if c.when else "instanceType"
        for dep, floor in c.require.items():
            if dep == "kubernetes":
                have = kubernetes_version
                if have is None:
                    continue  # an existing cluster's version is not known offline
            else:
                have = cat.recipe.charts[dep].version
            if version_tuple(have) < version_tuple(floor):
                yield Problem(f"{at}.{key}", f"{c.description} (constraint {c.id}): needs {dep} >= {floor}, "
                                             f"the stack has {have}")


# Keys that steer EC2 launches; an existing pool launches nothing, so each is an error there.
EC2_ONLY_KEYS = {"capacity": "capacity", "efa": "efa", "availability_zone": "availabilityZone",
                 "ami_family": "amiFamily", "disk_gib": "diskGib"}


def _unknown_type(pool: GpuPoolSpec, at: str, names: list[str], what: str) -> Problem:
    return Problem(f"{at}.instanceType", unknown(what, pool.instance_type, names))


def _existing_problems(pool: GpuPoolSpec, at: str, cat: Catalog, platform: str) -> Iterator[Problem]:
    """A pool of an existing cluster names nodes the site runs: a server shape (or, on an
    existing EKS cluster, an EC2 type), `provisioner: existing`, no EC2 launch settings."""
    if pool.provisioner != "existing":
        yield Problem(f"{at}.provisioner", f"{pool.provisioner!r} launches nodes, and aidc launches none on an existing "
                                           "cluster: use provisioner: existing (the site labels its nodes "
                                           f"aidc.io/pool={pool.name})")
    inst = cat.instances.get(pool.instance_type)
    allowed = cat.instances if platform == "eks" else cat.servers
    if inst is None:
        yield _unknown_type(pool, at, list(allowed), "server shape" if platform != "eks" else "server shape or EC2 type")
    elif not inst.server and platform != "eks":
        yield Problem(f"{at}.instanceType", f"{pool.instance_type} is an EC2 instance type and this cluster is on-prem "
                                            f"(aidc:cluster.existing.platform onPrem); use a server shape: "
                                            f"{', '.join(sorted(cat.servers))}")
    for field, key in EC2_ONLY_KEYS.items():
        if field in pool.model_fields_set:
            yield Problem(f"{at}.{key}", "EC2 only: an existing pool describes nodes the site runs and launches none")
    yield from _fabric_problems(pool, at)
    if pool.rdma and inst is not None and not inst.server:
        yield Problem(f"{at}.fabric", f"{pool.instance_type} is an EC2 type: its fabric is EFA (the EFA device plugin), "
                                      "not the Network Operator's InfiniBand/RoCE devices")
    size = pool.size
    if size.min > size.max:
        yield Problem(f"{at}.size.min", f"{size.min} is above max {size.max}")
    if size.desired is not None:
        yield Problem(f"{at}.size.desired", "not used by an existing pool: aidc does not scale the site's nodes "
                                            "(size.min..max bound how many carry the pool label)")


def _fabric_problems(pool: GpuPoolSpec, at: str) -> Iterator[Problem]:
    """RDMA settings only where they apply: NIC names with an RDMA fabric, a GID index with RoCE."""
    nics = pool.nics
    if not pool.rdma and (nics.hcas or nics.interfaces or nics.gid_index is not None or nics.rdma != "shared"):
        yield Problem(f"{at}.nics", f"HCA, interface and GID settings are for RDMA fabrics; fabric is {pool.fabric} "
                                    "(set fabric: infiniband or roce)")
    elif pool.fabric != "roce" and nics.gid_index is not None:
        yield Problem(f"{at}.nics.gidIndex", "RoCE only: InfiniBand addresses by LID, not by GID index")


def problems(pools: tuple[GpuPoolSpec, ...], cat: Catalog, path: str = "aidc:gpuPools", *,
             environment: str = "prod", kubernetes_version: str | None = None, network: NetworkSpec | None = None,
             region: str | None = None, existing_cluster: bool = False,
             platform: str | None = None) -> Iterator[Problem]:
    """`platform` is aidc:cluster.existing.platform (onPrem | eks) on an existing cluster."""
    seen: dict[str, int] = {}
    mig_strategies: dict[str, int] = {}
    for i, pool in enumerate(pools):
        at = f"{path}[{i}]"
        if pool.name in seen:
            yield Problem(f"{at}.name", f"{pool.name!r} is already the name of gpuPools[{seen[pool.name]}]")
        seen.setdefault(pool.name, i)
        if existing_cluster:
            yield from _existing_problems(pool, at, cat, platform or "onPrem")
            if pool.instance_type in cat.instances:
                yield from constraint_problems(pool, at, cat, kubernetes_version)
        else:
            yield from _built_problems(pool, at, cat, kubernetes_version)
        yield from _sharing_problems(pool, at, cat, environment)
        if pool.mig is not None:
            first = mig_strategies.setdefault(pool.mig.strategy, i)
            if len(mig_strategies) > 1 and first == i:
                other = next(s for s in mig_strategies if s != pool.mig.strategy)
                yield Problem(f"{at}.mig.strategy", f"the GPU Operator runs one MIG strategy per cluster; "
                                                    f"gpuPools[{mig_strategies[other]}] uses {other}")
        if network is not None and not existing_cluster:
            try:
                zone_index(pool, network, region)
            except ValueError as exc:
                yield Problem(f"{at}.availabilityZone", str(exc))


def _built_problems(pool: GpuPoolSpec, at: str, cat: Catalog, kubernetes_version: str | None) -> Iterator[Problem]:
    """A pool aidc launches on the EKS cluster it builds: an EC2 type it can buy and boot."""
    if pool.existing:
        yield Problem(f"{at}.provisioner", "existing describes nodes of an existing cluster (aidc:cluster.existing); "
                                           "on the cluster aidc builds use managed or karpenter")
    for field, key in (("fabric", "fabric"), ("nics", "nics")):
        if field in pool.model_fields_set:
            yield Problem(f"{at}.{key}", "existing pools only (the site's servers); an EC2 pool's fabric is efa")
    inst = cat.instances.get(pool.instance_type)
    if inst is not None and inst.server:
        yield Problem(f"{at}.instanceType", f"{pool.instance_type} is an on-prem server shape, not an EC2 instance "
                                            "type: aidc cannot launch it (it describes nodes of an existing cluster)")
        return
    yield from _catalog_problems(pool, at, cat)
    yield from _capacity_problems(pool, at)
    if pool.instance_type in cat.instances:
        yield from constraint_problems(pool, at, cat, kubernetes_version)
