"""Karpenter objects for an elastic GPU pool: one NodePool (what may be launched, how it is
disrupted) and one EC2NodeClass (how a node boots). Pure: values in, manifests out; Pulumi
outputs (subnet ids, role name) may be passed as values and resolve at deploy time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from components.vocabulary import (
    ARCH_LABEL,
    GPU_RESOURCE,
    INSTANCE_TYPE_WELL_KNOWN,
    KARPENTER,
    KARPENTER_AWS,
    POOL_LABEL,
    ZONE_LABEL,
)

from .nodes import KARPENTER_CAPACITY, METADATA_OPTIONS, ami_release, block_devices, karpenter_ami_alias

if TYPE_CHECKING:
    from components.catalog import Catalog
    from components.spec.pools import PoolFacts


def _share(percent: int) -> str:
    """A budget's `nodes`: a percentage, or plain "0" for none."""
    return f"{percent}%" if percent else "0"


def disruption(pool: "PoolFacts") -> dict[str, Any]:
    """Training nodes are only taken back when empty, never to repack or to chase drift (a
    multi-node job dies with any of its nodes); inference nodes consolidate freely."""
    if pool.purpose == "training":
        return {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m",
                "budgets": [{"nodes": _share(pool.replace_budget_percent), "reasons": ["Drifted", "Underutilized"]},
                            {"nodes": _share(pool.empty_budget_percent)}]}
    assert pool.replace_budget_percent == pool.empty_budget_percent
    return {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m",
            "budgets": [{"nodes": _share(pool.replace_budget_percent)}]}


def node_pool(pool: "PoolFacts", zone: str | None = None) -> dict[str, Any]:
    requirements = [
        {"key": INSTANCE_TYPE_WELL_KNOWN, "operator": "In", "values": [pool.instance_type]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [KARPENTER_CAPACITY[pool.capacity]]},
        {"key": ARCH_LABEL, "operator": "In", "values": [pool.arch]},
    ]
    if zone is not None:
        requirements.append({"key": ZONE_LABEL, "operator": "In", "values": [zone]})
    metadata: dict[str, Any] = {"labels": dict(pool.labels)}
    if pool.purpose == "training" and pool.reserved:
        # Reserved capacity is paid for whether a node runs or not: keep every node for the
        # life of the reservation rather than cycling it.
        metadata["annotations"] = {"karpenter.sh/do-not-disrupt": "true"}
    return {
        "apiVersion": KARPENTER.api_version,
        "kind": "NodePool",
        "metadata": {"name": pool.name, "labels": {POOL_LABEL: pool.name}},
        "spec": {
            "template": {
                "metadata": metadata,
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name},
                    "requirements": requirements,
                    "taints": [dict(t) for t in pool.taints],
                    # GPU nodes are replaced by drift (new AMI pin), not by age.
                    "expireAfter": "Never",
                },
            },
            "disruption": disruption(pool),
            # The pool's size.max, counted in GPUs so a bigger instance type cannot overrun it.
            "limits": {GPU_RESOURCE: str(pool.max_gpus)},
        },
    }


def ec2_node_class(pool: "PoolFacts", cat: "Catalog", kubernetes_version: str, *, role: Any,
                   subnet_ids: Sequence[Any], security_group_ids: Sequence[Any],
                   tags: Mapping[str, str]) -> dict[str, Any]:
    ami, release = ami_release(cat, pool.spec, kubernetes_version)
    ebs = block_devices(ami, pool.spec.disk_gib)[0]
    spec: dict[str, Any] = {
        "role": role,
        "amiSelectorTerms": [{"alias": karpenter_ami_alias(ami, release)}],
        "subnetSelectorTerms": [{"id": s} for s in subnet_ids],
        "securityGroupSelectorTerms": [{"id": g} for g in security_group_ids],
        "metadataOptions": {"httpEndpoint": METADATA_OPTIONS["http_endpoint"],
                            "httpTokens": METADATA_OPTIONS["http_tokens"],
                            "httpPutResponseHopLimit": METADATA_OPTIONS["http_put_response_hop_limit"],
                            "httpProtocolIPv6": "disabled"},
        "blockDeviceMappings": [{"deviceName": ebs["device_name"], "ebs": {
            "volumeSize": f"{pool.spec.disk_gib}Gi", "volumeType": "gp3", "encrypted": True,
            "deleteOnTermination": True}}],
        "tags": {**tags, POOL_LABEL: pool.name},
    }
    if pool.instance.nvme_disks:
        spec["instanceStorePolicy"] = "RAID0"
    if any(i.interface_type == "efa-only" for i in pool.efa_interfaces):
        # The pool model's layout (spec.pools.efa_layout): an ENA primary, efa-only on every EFA card.
        spec["networkInterfaces"] = [{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}] + [
            {"networkCardIndex": i.network_card, "deviceIndex": i.device_index, "interfaceType": i.interface_type}
            for i in pool.efa_interfaces]
    if pool.reserved:
        spec["capacityReservationSelectorTerms"] = [{"id": pool.spec.capacity.reservation_id}]
    return {"apiVersion": KARPENTER_AWS.api_version, "kind": "EC2NodeClass",
            "metadata": {"name": pool.name, "labels": {POOL_LABEL: pool.name}}, "spec": spec}
