"""The Network Operator's NicClusterPolicy for on-prem InfiniBand/RoCE pools: the RDMA device
plugin that advertises each pool's HCAs to pods as `rdma/<pool>`, shared (every pod on a node
reaches all its HCAs) or as SR-IOV virtual functions (one per NIC per pod). Pure dicts.

Field names are the upstream ones: the CRD mellanox.com_nicclusterpolicies.yaml of
Mellanox/network-operator v26.4.1; the shared plugin's configList (resourceName,
resourcePrefix, rdmaHcaMax, selectors: vendors, ifNames, linkTypes) from
Mellanox/k8s-rdma-shared-dev-plugin v1.5.3 pkg/types/types.go; the SR-IOV plugin's resourceList
(resourcePrefix, resourceName, selectors: vendors, pfNames, linkTypes, isRdma) from
k8snetworkplumbingwg/sriov-network-device-plugin v3.11.0 pkg/types/types.go.

No `ofedDriver`: the site's servers carry their NIC driver (DGX OS ships DOCA-OFED/MLNX_OFED),
and a containerised driver would reload it under running jobs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from components.vocabulary import GPU_TOLERATION, NETWORK_OPERATOR, POOL_LABEL, RDMA_RESOURCE_PREFIX

if TYPE_CHECKING:
    from components.spec.pools import PoolFacts

NIC_CLUSTER_POLICY = "nic-cluster-policy"  # the operator reconciles one policy, by convention this name
MELLANOX_VENDOR = "15b3"
# Linux link type of the fabric's netdevices, as both plugins' linkTypes selector reads it.
LINK_TYPES = {"infiniband": "infiniband", "roce": "ether"}
# Pods that may share one node's HCAs through the shared plugin: far above pods per GPU node.
SHARED_HCA_MAX = 64


def _image(ref: str) -> dict[str, str]:
    """A catalog image reference split the way the NicClusterPolicy names it."""
    path, version = ref.rsplit(":", 1)
    repository, image = path.rsplit("/", 1)
    return {"repository": repository, "image": image, "version": version}


def _selectors(pool: "PoolFacts", names_key: str) -> dict[str, Any]:
    """The site's interface names when it gave them, else every Mellanox NIC of the fabric's link type."""
    sel: dict[str, Any] = {"vendors": [MELLANOX_VENDOR], "linkTypes": [LINK_TYPES[pool.fabric]]}
    if pool.spec.nics.interfaces:
        sel[names_key] = list(pool.spec.nics.interfaces)
    return sel


def shared_plugin_config(pools: Iterable["PoolFacts"]) -> str:
    return json.dumps({"configList": [
        {"resourceName": p.name, "resourcePrefix": RDMA_RESOURCE_PREFIX, "rdmaHcaMax": SHARED_HCA_MAX,
         "selectors": _selectors(p, "ifNames")} for p in pools]}, indent=2, sort_keys=True)


def sriov_plugin_config(pools: Iterable["PoolFacts"]) -> str:
    return json.dumps({"resourceList": [
        {"resourceName": p.name, "resourcePrefix": RDMA_RESOURCE_PREFIX,
         "selectors": {**_selectors(p, "pfNames"), "isRdma": True}} for p in pools]}, indent=2, sort_keys=True)


def nic_cluster_policy(pools: Iterable["PoolFacts"], images: dict[str, str]) -> dict[str, Any] | None:
    """The policy for the stack's RDMA pools (None without any): the device plugins run only on
    those pools' nodes, tolerating the GPU taint."""
    rdma = sorted((p for p in pools if p.rdma), key=lambda p: p.name)
    if not rdma:
        return None
    spec: dict[str, Any] = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": [p.name for p in rdma]}]}]}},
        "tolerations": [dict(GPU_TOLERATION)],
    }
    shared = [p for p in rdma if p.spec.nics.rdma == "shared"]
    sriov = [p for p in rdma if p.spec.nics.rdma == "sriov"]
    if shared:
        spec["rdmaSharedDevicePlugin"] = {**_image(images["rdma-shared-device-plugin"]),
                                          "config": shared_plugin_config(shared)}
    if sriov:
        spec["sriovDevicePlugin"] = {**_image(images["sriov-device-plugin"]), "config": sriov_plugin_config(sriov)}
    return {"apiVersion": NETWORK_OPERATOR.api_version, "kind": "NicClusterPolicy",
            "metadata": {"name": NIC_CLUSTER_POLICY}, "spec": spec}
