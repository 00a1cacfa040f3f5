"""Node auto repair of a GPU pool: what a managed node group is told (`nodeRepairConfig`), and
the thresholds every provisioner applies, in one place for the plan, the docs and the tests.

The conditions come from the EKS node monitoring agent (a core add-on, components.cluster):
`AcceleratedHardwareReady` goes False on a fatal XID, a double-bit ECC error, an NVLink or
fabric error, a DCGM health failure or a missing GPU. Repair then replaces (or, on managed node
groups, may reboot) the node. Fields: EKS API NodeRepairConfig (pulumi-aws 7.51.1
`NodeGroupNodeRepairConfigArgs`); Karpenter's policies: aws/karpenter-provider-aws v1.14.1
pkg/cloudprovider/cloudprovider.go RepairPolicies, kubernetes-sigs/karpenter 6e7eab7a0f48
pkg/controllers/node/health/controller.go (allowedUnhealthyPercent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.spec.pools import PoolFacts

# Above this share of a pool's nodes unhealthy at once the cause is systemic (a bad AMI or
# driver, the fabric, a zone): replacing nodes would churn the whole pool and fix nothing, so
# repair stops and a person looks. Karpenter hard-codes the same 20% per NodePool.
MAX_UNHEALTHY_PERCENT = 20
# Minutes a node condition may stay bad before the node is repaired (EKS node-repair defaults,
# which Karpenter's RepairPolicies repeat): a GPU fault is acted on after 10 minutes.
REPAIR_AFTER_MINUTES = {"AcceleratedHardwareReady": 10, "NetworkingReady": 30, "StorageReady": 30,
                        "KernelReady": 30, "ContainerRuntimeReady": 30, "Ready": 30}
# The node monitoring agent's conditions (the kubelet's Ready is not one of them).
AGENT_CONDITIONS = tuple(c for c in REPAIR_AFTER_MINUTES if c != "Ready")


def mng_repair_config(pool: "PoolFacts") -> dict[str, Any]:
    """`nodeRepairConfig` of a managed GPU node group.

    Training: every unhealthy node is repaired at once. A multi-node job restarts from its
    checkpoint on the first lost node anyway; repairing one node at a time would restart it once
    per node. Inference: one node at a time, so the other replicas keep serving.
    Reserved capacity (Capacity Block, ODCR) gets the same settings: a replacement launches
    into the slot the terminated instance frees (see docs/resilience.md for what that costs)."""
    parallel: dict[str, int] = ({"max_parallel_nodes_repaired_percentage": 100} if pool.purpose == "training"
                                else {"max_parallel_nodes_repaired_count": 1})
    return {"enabled": True, "max_unhealthy_node_threshold_percentage": MAX_UNHEALTHY_PERCENT, **parallel}
