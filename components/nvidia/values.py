"""Helm values of the NVIDIA software stack, computed from the node image and the pools.
Pure: no Pulumi, so golden files pin exactly what each AMI family gets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from components.vocabulary import EFA_LABEL, GPU_TOLERATION

if TYPE_CHECKING:
    from components.catalog import Ami
    from components.spec import GpuPoolSpec

TIME_SLICING_CONFIGMAP = "aidc-device-plugin-config"
# PCI classes NFD labels: network (02xx incl. InfiniBand 0207) for the Network Operator,
# display/3D controllers (0300, 0302) for GPUs; the vendor id makes the label (10de = NVIDIA).
NFD_PCI_CLASSES = ["02", "0200", "0207", "0300", "0302"]
# The Network Operator prefers control-plane nodes (its chart's default affinity and toleration).
CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
                            "effect": "NoSchedule"}


def _amis(ami: "Ami | Sequence[Ami] | None") -> list["Ami"]:
    if ami is None:
        return []
    return [ami] if not isinstance(ami, Sequence) else list(ami)


def time_slicing_config(replicas: int) -> str:
    """The device plugin's sharing config: each GPU advertised `replicas` times."""
    return yaml.safe_dump({"version": "v1", "flags": {"migStrategy": "none"}, "sharing": {"timeSlicing": {
        "renameByDefault": False, "failRequestsGreaterThanOne": True,
        "resources": [{"name": "nvidia.com/gpu", "replicas": replicas}]}}}, sort_keys=True)


def gpu_operator_values(ami: "Ami | Sequence[Ami] | None", pools: Iterable["GpuPoolSpec"],
                        existing_cluster: bool, *, dcgm_exporter: bool = True,
                        dcgm_metrics: str | None = None, own_service_monitor: bool = False,
                        gpudirect_rdma: bool = False) -> dict[str, Any]:
    """Values of the NVIDIA GPU Operator chart.

    `ami` is the image (or images) the pools boot; `existing_cluster` is true for nodes aidc
    does not build (on-prem), where nothing can be assumed preinstalled. The driver and the
    container toolkit are installed by the operator only where the image lacks them: the EKS
    accelerated AL2023 and Bottlerocket NVIDIA images ship both, and a second driver fights the
    first. NFD is the separately pinned chart, so the operator's bundled copy stays off.
    `own_service_monitor`: aidc's Observability scrapes the exporter with its own ServiceMonitor
    (it adds the node label the pool joins need), so the operator's (on by default since chart
    v26.7.0) stays off: two would scrape every GPU twice and double every sum.
    `gpudirect_rdma`: an InfiniBand/RoCE pool whose servers support GPUDirect RDMA; the driver
    the operator builds then loads nvidia-peermem against the host's NIC driver (aidc deploys no
    containerised OFED, so useHostMofed). driver.rdma is the operator's GPUDirectRDMASpec, "the
    properties for nvidia-peermem deployment" (NVIDIA/gpu-operator v26.7.0,
    api/nvidia/v1/clusterpolicy_types.go; values.yaml driver.rdma.enabled/useHostMofed)."""
    pools = list(pools)
    amis = _amis(ami)
    driver = existing_cluster or any(not a.ships_driver for a in amis)
    toolkit = existing_cluster or any(not a.ships_toolkit for a in amis)
    mig = sorted({p.mig.strategy for p in pools if p.mig is not None})
    sliced = [p for p in pools if p.time_slicing is not None]
    # Bottlerocket's NVIDIA variants run their own device plugin (its nodes are labelled so the
    # operator's stays off them); with only Bottlerocket nodes the operator's is not deployed at all.
    device_plugin: dict[str, Any] = {"enabled": not amis or any(a.os != "bottlerocket" for a in amis)}
    if sliced:
        # Nodes pick their config by the label nvidia.com/device-plugin.config=<pool name>.
        device_plugin["config"] = {"create": True, "name": TIME_SLICING_CONFIGMAP,
                                   "data": {p.name: time_slicing_config(p.time_slicing.replicas) for p in sliced}}
    dcgm: dict[str, Any] = {"enabled": dcgm_exporter, **_dcgm_metrics(dcgm_metrics)}
    if own_service_monitor:
        dcgm["serviceMonitor"] = {"enabled": False}
    # No operator.defaultRuntime: the chart dropped it and the operator detects the runtime itself.
    values: dict[str, Any] = {
        "driver": {"enabled": driver},
        "toolkit": {"enabled": toolkit},
        "devicePlugin": device_plugin,
        "dcgmExporter": dcgm,
        "gfd": {"enabled": True},
        "nfd": {"enabled": False},
        "mig": {"strategy": mig[0] if mig else "none"},
        "migManager": {"enabled": bool(mig)},
        "daemonsets": {"tolerations": [dict(GPU_TOLERATION)], "priorityClassName": "system-node-critical"},
    }
    if driver:
        # Kernel modules built on the node need the open kernel module flavour on Hopper and later.
        values["driver"].update({"kernelModuleType": "auto", "upgradePolicy": {"autoUpgrade": False}})
        if gpudirect_rdma:
            values["driver"]["rdma"] = {"enabled": True, "useHostMofed": True}
    return values


def efa_plugin_values(efa_instance_types: Iterable[str]) -> dict[str, Any]:
    """The AWS EFA device plugin only on EFA nodes of this stack: selected by aidc's EFA label and
    by instance type, and tolerating the GPU taint (every EFA node here is a GPU node)."""
    return {
        "supportedInstanceLabels": {"keys": ["node.kubernetes.io/instance-type"],
                                    "values": sorted(set(efa_instance_types))},
        "nodeSelector": {EFA_LABEL: "true"},
        "tolerations": [dict(GPU_TOLERATION)],
    }


def nfd_values() -> dict[str, Any]:
    """Node Feature Discovery: workers on every node, GPU nodes included, labelling PCI vendors
    the GPU Operator (10de) and Network Operator (15b3) select on."""
    return {
        "worker": {
            "tolerations": [dict(GPU_TOLERATION)],
            "config": {"sources": {"pci": {"deviceClassWhitelist": NFD_PCI_CLASSES,
                                           "deviceLabelFields": ["vendor"]}}},
        },
        "gc": {"enable": True},
    }


def network_operator_values() -> dict[str, Any]:
    """NVIDIA Network Operator for on-prem InfiniBand/RoCE: the operator only; the site's
    NicClusterPolicy (OFED driver, RDMA shared device plugin) is applied by the site team."""
    return {
        "nfd": {"enabled": False, "deployNodeFeatureRules": True},
        "sriovNetworkOperator": {"enabled": False},
        # A list replaces the chart's whole default: keep its control-plane toleration.
        "operator": {"tolerations": [dict(CONTROL_PLANE_TOLERATION), dict(GPU_TOLERATION)]},
    }


def _dcgm_metrics(config_map: str | None) -> dict[str, Any]:
    """Point the exporter at the field list Observability ships (ConfigMap `config_map`, key
    dcgm-metrics.csv), which adds the ECC, clock-event and violation fields its alerts read."""
    if config_map is None:
        return {}
    return {"config": {"name": config_map},
            "env": [{"name": "DCGM_EXPORTER_COLLECTORS", "value": "/etc/dcgm-exporter/dcgm-metrics.csv"}]}
