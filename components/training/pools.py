"""How training objects find a GPU pool's nodes: the pool label, the GPU taint's toleration,
the EFA devices per node and, where EC2 reports it, the pool's network topology."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.catalog import catalog
from components.gpu_pool.fabric import efa_interfaces
from components.gpu_pool.nodes import GPU_TOLERATION, POOL_LABEL

if TYPE_CHECKING:
    from components.catalog import Catalog, Instance
    from components.spec import GpuPoolSpec

HOSTNAME_LABEL = "kubernetes.io/hostname"


def node_selector(pool: "GpuPoolSpec") -> dict[str, str]:
    """Every node of a pool carries the pool label (set by the GPU pool component)."""
    return {POOL_LABEL: pool.name}


def tolerations(pool: "GpuPoolSpec") -> list[dict[str, str]]:
    """GPU nodes are tainted so only GPU work lands there; training pods tolerate the taint."""
    return [dict(GPU_TOLERATION)]


def efa_devices(instance: "Instance") -> int:
    """EFA devices a pod on one node requests: every interface the pool attaches."""
    return len(efa_interfaces(instance))


def topology_levels(pool: "GpuPoolSpec", cat: "Catalog | None" = None) -> tuple[str, ...] | None:
    """Kueue Topology levels (coarsest first, hostname last) for an EFA pool whose instance
    family EC2 reports topology for; None when the nodes carry no topology labels."""
    cat = cat or catalog()
    if not pool.efa or pool.instance_type not in cat.instances:
        return None
    data: dict[str, Any] = cat.extra["training"]["networkTopology"]
    layers = data["layers"].get(cat.instances[pool.instance_type].family)
    if not layers:
        return None
    return (*data["labels"][:layers], HOSTNAME_LABEL)


def topology_name(levels: tuple[str, ...]) -> str:
    """One cluster-scoped Topology per depth of the EC2 hierarchy (3 or 4 network layers)."""
    return f"ec2-network-{len(levels) - 1}-layer"


def closest_level(levels: tuple[str, ...]) -> str:
    """The finest network layer: nodes sharing it sit under the same switch."""
    return levels[-2]
