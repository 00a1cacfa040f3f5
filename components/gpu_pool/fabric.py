"""The high-bandwidth fabric of a pool as the launch template states it: the pool model's EFA
interfaces with their security groups, and where the nodes may be placed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.spec.pools import PoolFacts


def placement_strategy(pool: "PoolFacts") -> str | None:
    """`cluster` for an EFA pool on capacity that is not reserved, else None.

    A Capacity Block or capacity reservation already fixes where instances land; asking for a
    placement group on top makes launches fail with insufficient capacity."""
    return "cluster" if pool.placement_group else None


def network_interfaces(pool: "PoolFacts", security_groups: list[Any]) -> list[dict[str, Any]]:
    """Launch-template `network_interfaces` for an EFA pool: the cluster and EFA security groups on
    every interface (a template that defines interfaces cannot set security groups elsewhere).
    No subnet here: the managed node group places the interfaces in its own subnet.

    A template that lists interfaces must list the primary (card 0, device 0). Where card 0
    carries no EFA (p6-b300) the primary is a plain ENA interface: no interface_type, which EC2
    reads as `interface` (EC2 User Guide, efa-acc-inst-types: "For the primary network interface
    ... create an ENA interface")."""
    efa = [{"network_card_index": i.network_card, "device_index": i.device_index,
            "interface_type": i.interface_type, "delete_on_termination": "true",
            "security_groups": security_groups}
           for i in pool.efa_interfaces]
    if efa and not any(i.network_card == 0 and i.device_index == 0 for i in pool.efa_interfaces):
        efa.insert(0, {"network_card_index": 0, "device_index": 0, "delete_on_termination": "true",
                       "security_groups": security_groups})
    return efa
