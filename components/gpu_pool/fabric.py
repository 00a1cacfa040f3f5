"""The high-bandwidth fabric of a pool, derived only from the catalog entry of its instance type:
which EFA interfaces to attach, and where the nodes may be placed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.catalog import Instance
    from components.spec import GpuPoolSpec


def efa_interfaces(instance: "Instance") -> list[dict[str, Any]]:
    """Every EFA interface the instance supports, one per network card.

    Card 0, device 0 is the primary interface and must carry IP traffic, so it is `efa`
    (EFA with ENA: the node's address plus the first EFA device). Each further card gets one
    interface at device index 1: `efa-only` where the type supports it (no ENA device, so no
    VPC address is spent and Linux sees no extra routes), else `efa`. A p5.48xlarge gets 32
    interfaces, so NCCL sees all 32 EFA devices."""
    if instance.efa_interfaces == 0:
        return []
    rest = "efa-only" if instance.efa_only else "efa"
    return [{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "efa"}] + [
        {"networkCardIndex": card, "deviceIndex": 1, "interfaceType": rest}
        for card in range(1, instance.efa_interfaces)
    ]


def placement_strategy(pool: "GpuPoolSpec") -> str | None:
    """`cluster` for an EFA pool on capacity that is not reserved, else None.

    A Capacity Block or capacity reservation already fixes where instances land; asking for a
    placement group on top makes launches fail with insufficient capacity."""
    return "cluster" if pool.placement_group else None


def network_interfaces(instance: "Instance", security_groups: list[Any]) -> list[dict[str, Any]]:
    """Launch-template `network_interfaces` for an EFA pool: the cluster and EFA security groups on
    every interface (a template that defines interfaces cannot set security groups elsewhere).
    No subnet here: the managed node group places the interfaces in its own subnet."""
    return [{"network_card_index": i["networkCardIndex"], "device_index": i["deviceIndex"],
             "interface_type": i["interfaceType"], "delete_on_termination": "true",
             "security_groups": security_groups}
            for i in efa_interfaces(instance)]
