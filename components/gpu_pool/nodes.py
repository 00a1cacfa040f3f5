"""How a GPU node of a pool boots: the managed node group's taints and capacity type, the
launch template's capacity settings, the pinned AMI and the boot configuration that assembles
local NVMe as RAID0. Pure functions of the resolved pool, shared by both provisioners."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.catalog import Ami, Catalog, Instance
    from components.spec import GpuPoolSpec
    from components.spec.pools import PoolFacts

# Root/data volume per OS: Bottlerocket keeps images and pods on its second volume.
DATA_DEVICE = {"al2023": "/dev/xvda", "bottlerocket": "/dev/xvdb"}

# Karpenter's word for each capacity type (`karpenter.sh/capacity-type`).
KARPENTER_CAPACITY = {"onDemand": "on-demand", "spot": "spot", "capacityBlock": "reserved", "reservation": "reserved"}
# The managed node group's `capacityType`.
MNG_CAPACITY = {"onDemand": "ON_DEMAND", "spot": "SPOT", "capacityBlock": "CAPACITY_BLOCK", "reservation": "ON_DEMAND"}


def mng_taints(pool: "PoolFacts") -> list[dict[str, str]]:
    """The pool's taints in the managed node group's spelling (NO_SCHEDULE)."""
    return [{"key": t["key"], "value": t["value"], "effect": "NO_SCHEDULE"} for t in pool.taints]


def ami_release(cat: "Catalog", pool: "GpuPoolSpec", kubernetes_version: str) -> tuple["Ami", str]:
    """The pool's AMI family and its exact release version for the cluster's Kubernetes version."""
    ami = cat.recipe.amis[pool.ami_family]
    return ami, ami.release_versions[kubernetes_version]


def karpenter_ami_alias(ami: "Ami", release: str) -> str:
    """Karpenter's pinned alias for the same release the managed node groups use.

    AL2023 releases read `1.33.0-20250704` -> `al2023@v20250704`; Bottlerocket releases read
    `1.41.0-<build>` -> `bottlerocket@v1.41.0`. Karpenter picks the NVIDIA variant for GPU types."""
    if ami.os == "al2023":
        return f"al2023@v{release.rsplit('-', 1)[-1]}"
    return f"bottlerocket@v{release.split('-', 1)[0]}"


def nodeadm_user_data(instance: "Instance") -> str | None:
    """AL2023: a nodeadm NodeConfig that assembles the instance-store NVMe disks as RAID0 and
    puts containerd and kubelet state on it. EKS merges its own cluster settings into this
    MIME document; nothing else needs to be said."""
    if instance.nvme_disks == 0:
        return None
    return "\n".join([
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="AIDC"',
        "",
        "--AIDC",
        "Content-Type: application/node.eks.aws",
        "",
        "apiVersion: node.eks.aws/v1alpha1",
        "kind: NodeConfig",
        "spec:",
        "  instance:",
        "    localStorage:",
        "      strategy: RAID0",
        "",
        "--AIDC--",
        "",
    ])


def bottlerocket_user_data(instance: "Instance") -> str | None:
    """Bottlerocket: settings that build one RAID0 array from the instance-store disks at boot and
    bind containerd, kubelet and pod logs onto it (EKS adds the cluster settings)."""
    if instance.nvme_disks == 0:
        return None
    return "\n".join([
        "[settings.bootstrap-commands.k8s-ephemeral-storage]",
        'commands = [["apiclient", "ephemeral-storage", "init"], '
        '["apiclient", "ephemeral-storage", "bind", "--dirs", "/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods"]]',
        "essential = true",
        'mode = "always"',
        "",
    ])


def user_data(ami: "Ami", instance: "Instance") -> str | None:
    """Base64 launch-template user data for the pool's OS, or None when there is no local NVMe."""
    text = nodeadm_user_data(instance) if ami.os == "al2023" else bottlerocket_user_data(instance)
    return base64.b64encode(text.encode()).decode() if text else None


def capacity_settings(pool: "GpuPoolSpec") -> dict[str, Any]:
    """Launch-template settings that aim instances at the pool's capacity.

    Capacity Blocks need the `capacity-block` market and the block's id; an On-Demand Capacity
    Reservation is targeted by id or by resource group; on-demand and spot need neither
    (spot is chosen by the node group's capacity type)."""
    cap = pool.capacity
    out: dict[str, Any] = {}
    if cap.type == "capacityBlock":
        out["instance_market_options"] = {"market_type": "capacity-block"}
    if cap.reserved:
        target = ({"capacity_reservation_id": cap.reservation_id} if cap.reservation_id
                  else {"capacity_reservation_resource_group_arn": cap.reservation_group_arn})
        out["capacity_reservation_specification"] = {"capacity_reservation_target": target}
    return out


def block_devices(ami: "Ami", disk_gib: int) -> list[dict[str, Any]]:
    """An encrypted gp3 volume for images and pod state; on Bottlerocket the data volume, with
    the small OS volume left at the AMI's default."""
    return [{"device_name": DATA_DEVICE[ami.os], "ebs": {
        "volume_size": disk_gib, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"}}]


METADATA_OPTIONS = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}
