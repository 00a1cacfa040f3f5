"""`aidc:nvidia`: options of the NVIDIA software stack that are not per pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from components.catalog import Catalog, version_tuple

from .base import Model, Problem


class NvidiaSpec(Model):
    # install: aidc installs Node Feature Discovery and the GPU Operator; existing: the site runs
    # them (an existing cluster only) and aidc installs neither, nor configures them.
    gpu_operator: Literal["install", "existing"] = "install"
    # NVIDIA Network Operator with the RDMA device plugin for on-prem InfiniBand/RoCE fabrics;
    # installed whenever a pool has fabric infiniband or roce. EKS nodes use EFA instead.
    network_operator: bool = False
    # DCGM exporter: per-GPU metrics (utilization, memory, XID errors) for Prometheus.
    dcgm_exporter: bool = True


def problems(nv: NvidiaSpec, cat: Catalog, charts: list[str], *, existing_cluster: bool,
             kubernetes_version: str | None, pools: tuple = (), path: str = "aidc:nvidia") -> Iterator[Problem]:
    if nv.network_operator and not existing_cluster:
        yield Problem(f"{path}.networkOperator",
                      "EKS GPU nodes use EFA (the EFA device plugin); the Network Operator is for on-prem InfiniBand/RoCE")
    if nv.network_operator and existing_cluster and not any(p.existing and p.rdma for p in pools):
        yield Problem(f"{path}.networkOperator",
                      "no pool has fabric infiniband or roce, so the operator would expose no RDMA device to pods: "
                      "set fabric on the pools cabled to the fabric (the operator then comes with them)")
    if nv.gpu_operator == "existing":
        if not existing_cluster:
            yield Problem(f"{path}.gpuOperator", "existing is for a cluster aidc did not build (aidc:cluster.existing); "
                                                 "on the EKS cluster aidc builds, it installs the GPU Operator")
        # The site's operator runs the site's ClusterPolicy: aidc cannot set MIG or sharing there.
        for i, pool in enumerate(pools):
            for field, key in (("mig", "mig"), ("time_slicing", "timeSlicing")):
                if getattr(pool, field) is not None:
                    yield Problem(f"aidc:gpuPools[{i}].{key}", "configured through the GPU Operator's values, and "
                                                              "aidc:nvidia.gpuOperator is existing (the site's "
                                                              "operator): configure it there and drop this key")
    if kubernetes_version is None:
        return  # not pinned (EKS) or not a minor version (existing): reported by the cluster section
    for key in charts:
        floor = cat.chart(key).min_kubernetes
        if floor and version_tuple(kubernetes_version) < version_tuple(floor):
            yield Problem("aidc:cluster.kubernetesVersion",
                          f"{key} {cat.chart(key).version} needs Kubernetes >= {floor}, the stack has {kubernetes_version}")
    # Catalog constraints scoped to a chart (`when: {chart: gpu-operator}`) apply when it is installed.
    for c in cat.recipe.constraints:
        if set(c.when) != {"chart"} or c.when["chart"] not in charts:
            continue
        for dep, floor in c.require.items():
            have = kubernetes_version if dep == "kubernetes" else cat.chart(dep).version
            if version_tuple(have) < version_tuple(floor):
                where = "aidc:cluster.kubernetesVersion" if dep == "kubernetes" else path
                yield Problem(where, f"{c.description} (constraint {c.id}): needs {dep} >= {floor}, "
                                     f"the stack has {have}")


def charts_in_use(pools: tuple, nv: NvidiaSpec, *, existing_cluster: bool) -> list[str]:
    """The catalog charts the GPU layer installs for this stack (in install order). With the
    site's GPU Operator, its Node Feature Discovery is the site's too (the operator deploys or
    needs one; a second would fight it over the same labels)."""
    charts: list[str] = []
    if (pools or existing_cluster) and nv.gpu_operator == "install":
        charts += ["node-feature-discovery", "gpu-operator"]
    if any(p.efa for p in pools):
        charts.append("aws-efa-k8s-device-plugin")
    if any(p.provisioner == "karpenter" for p in pools):
        charts.append("karpenter")
    if nv.network_operator or any(p.existing and p.rdma for p in pools):
        charts.append("network-operator")
    return charts
