"""`aidc:nvidia`: options of the NVIDIA software stack that are not per pool."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog import Catalog, version_tuple

from .base import Model, Problem


class NvidiaSpec(Model):
    # NVIDIA Network Operator (RDMA shared device plugin, OFED) for on-prem InfiniBand/RoCE
    # fabrics. EKS nodes reach their fabric through EFA and the EFA device plugin instead.
    network_operator: bool = False
    # DCGM exporter: per-GPU metrics (utilization, memory, XID errors) for Prometheus.
    dcgm_exporter: bool = True


def problems(nv: NvidiaSpec, cat: Catalog, charts: list[str], *, existing_cluster: bool,
             kubernetes_version: str | None, path: str = "aidc:nvidia") -> Iterator[Problem]:
    if nv.network_operator and not existing_cluster:
        yield Problem(f"{path}.networkOperator",
                      "EKS GPU nodes use EFA (the EFA device plugin); the Network Operator is for on-prem InfiniBand/RoCE")
    if kubernetes_version is None:
        return  # an existing cluster's version is not known offline
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
    """The catalog charts the GPU layer installs for this stack (in install order)."""
    charts: list[str] = []
    if pools or existing_cluster:
        charts += ["node-feature-discovery", "gpu-operator"]
    if any(p.efa for p in pools):
        charts.append("aws-efa-k8s-device-plugin")
    if any(p.provisioner == "karpenter" for p in pools):
        charts.append("karpenter")
    if nv.network_operator:
        charts.append("network-operator")
    return charts
