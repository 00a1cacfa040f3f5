"""How training objects find a GPU pool's nodes: the pool label, the GPU taint's toleration,
and the names of the Kueue Topology for the pool model's network levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.vocabulary import GPU_TOLERATION, POOL_LABEL

if TYPE_CHECKING:
    from components.spec import GpuPoolSpec


def node_selector(pool: "GpuPoolSpec") -> dict[str, str]:
    """Every node of a pool carries the pool label (set by the GPU pool component)."""
    return {POOL_LABEL: pool.name}


def tolerations(pool: "GpuPoolSpec") -> list[dict[str, str]]:
    """GPU nodes are tainted so only GPU work lands there; training pods tolerate the taint."""
    return [dict(GPU_TOLERATION)]


def topology_name(levels: tuple[str, ...]) -> str:
    """One cluster-scoped Topology per depth of the EC2 hierarchy (3 or 4 network layers)."""
    return f"ec2-network-{len(levels) - 1}-layer"


def closest_level(levels: tuple[str, ...]) -> str:
    """The finest network layer: nodes sharing it sit under the same switch."""
    return levels[-2]
