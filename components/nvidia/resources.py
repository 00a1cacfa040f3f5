"""NvidiaStack: the software that makes GPU nodes schedulable. Node Feature Discovery, the
NVIDIA GPU Operator, the AWS EFA device plugin on EFA nodes and, on-prem, the NVIDIA Network
Operator; each a pinned catalog chart in its own namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from components.catalog import catalog
from components.kube import apply_object, helm_release, namespace
from components.vocabulary import DCGM_METRICS_CONFIGMAP

from .network import nic_cluster_policy
from .values import efa_plugin_values, gpu_operator_values, network_operator_values, nfd_values

if TYPE_CHECKING:
    from components.spec import Spec

__all__ = ["NvidiaStack", "efa_plugin_values", "gpu_operator_values", "network_operator_values", "nfd_values"]


class NvidiaStack(pulumi.ComponentResource):
    """Installs the charts `spec.charts` names for the NVIDIA layer. `opts` must carry the
    cluster's Kubernetes provider."""

    def __init__(self, name: str, spec: "Spec", opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:nvidia:NvidiaStack", name, None, opts)
        cat = catalog()
        charts = spec.charts
        pools = spec.gpu_pools
        existing = spec.cluster.existing
        # Nodes aidc does not build: on-prem images carry no driver; an existing EKS cluster
        # is assumed to boot the EKS accelerated images.
        on_prem = existing is not None and existing.platform == "onPrem"
        amis = [cat.recipe.amis[f] for f in sorted({p.ami_family for p in pools})]
        if existing is not None:
            # Existing pools boot the site's image, not an AMI aidc pins: none known on-prem.
            amis = [] if on_prem else [cat.recipe.amis["al2023-nvidia"]]
        values = {
            "node-feature-discovery": nfd_values(),
            "gpu-operator": gpu_operator_values(
                amis, pools, on_prem, dcgm_exporter=spec.nvidia.dcgm_exporter,
                dcgm_metrics=DCGM_METRICS_CONFIGMAP if spec.observability.enabled else None,
                own_service_monitor=spec.observability.enabled,
                gpudirect_rdma=any(p.rdma and p.gpudirect_rdma for p in spec.pools.values())),
            "aws-efa-k8s-device-plugin": efa_plugin_values(p.instance_type for p in pools if p.efa),
            "network-operator": network_operator_values(),
        }
        self.values = {k: v for k, v in values.items() if k in charts}
        self.releases: dict[str, pulumi.Resource] = {}
        opts_child = pulumi.ResourceOptions(parent=self)
        for key, chart_values in self.values.items():
            chart = cat.chart(key)
            ns = namespace(chart.namespace, opts_child, privileged=chart.privileged)
            # The operator reads NFD's labels; it waits for NFD so its first pass sees them.
            deps = [self.releases["node-feature-discovery"]] if key != "node-feature-discovery" and \
                "node-feature-discovery" in self.releases else []
            self.releases[key] = helm_release(key, key, chart_values, opts_child, namespace_resource=ns,
                                              depends_on=deps)
        # The RDMA device plugin of the InfiniBand/RoCE pools: a custom resource of the operator's CRD.
        self.nic_cluster_policy = nic_cluster_policy(spec.pools.values(), cat.recipe.images)
        if self.nic_cluster_policy is not None and "network-operator" in self.releases:
            apply_object(self.nic_cluster_policy, pulumi.ResourceOptions(
                parent=self, depends_on=[self.releases["network-operator"]]), "nic-cluster-policy")
        self.register_outputs({})
