"""Observability: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node-exporter,
kube-state-metrics) pinned from the catalog, the DCGM exporter scraped, GPU and serving
alert rules, and the GPU, training and inference dashboards."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from components import kube
from components.catalog import catalog
from components.common import child

from .rules import prometheus_rules
from .values import (
    RELEASE,
    chart_values,
    dashboard_config_maps,
    dcgm_metrics_config_map,
    dcgm_service_monitor,
    object_labels,
    prometheus_url,
    storage_class,
    storage_class_name,
)

if TYPE_CHECKING:
    from components.spec import Spec

__all__ = ["Observability", "gpus_per_instance", "gpus_per_site_pool", "prometheus_url"]


def gpus_per_instance(spec: "Spec") -> dict[str, int]:
    """GPUs per node of each instance type of the stack's launched pools."""
    return {p.instance_type: p.gpus_per_node for p in spec.pools.values() if not p.existing}


def gpus_per_site_pool(spec: "Spec") -> dict[str, int]:
    """GPUs per node of each existing pool: the site's nodes are known by their pool label."""
    return {p.name: p.gpus_per_node for p in spec.pools.values() if p.existing}


class Observability(pulumi.ComponentResource):
    """`prometheus: install` installs kube-prometheus-stack and puts aidc's objects beside it;
    `existing` creates only aidc's objects (rules, the DCGM ServiceMonitor, dashboards) in the
    site's monitoring namespace, labelled for the site's Prometheus."""

    def __init__(self, name: str, spec: "Spec", *, gpu_operator: pulumi.Resource | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:observability:Observability", name, None, opts)
        obs = spec.observability
        cat = catalog()
        chart = cat.chart("kube-prometheus-stack")
        site = obs.prometheus == "existing"
        self.namespace_name = obs.namespace if site and obs.namespace else chart.namespace
        self.url = obs.prometheus_url if site else prometheus_url(chart.namespace)
        self.release: pulumi.Resource | None = None
        after = child(self)
        if not site:
            ns = kube.namespace(chart.namespace, child(self), privileged=chart.privileged)
            deps: list[pulumi.Resource] = []
            sc_name = storage_class_name(obs, spec.existing_cluster)
            if obs.storage_class is None and sc_name is not None:
                sc = storage_class()
                deps.append(kube.apply_object(sc, child(self), f"{name}-{kube.object_name(sc)}"))
            self.release = kube.helm_release(f"{name}-{RELEASE}", "kube-prometheus-stack",
                                             chart_values(obs, sc_name), child(self),
                                             namespace_resource=ns, depends_on=deps)
            # Everything below is a custom resource of the chart's CRDs, or is read by its Grafana.
            after = pulumi.ResourceOptions(parent=self, depends_on=[self.release, ns])
        labels = object_labels(obs)
        gpu_ns = cat.chart("gpu-operator").namespace if spec.nvidia.gpu_operator == "install" else None
        objects = [dcgm_service_monitor(self.namespace_name, gpu_ns, labels),
                   *prometheus_rules(obs.alerts, gpus_per_instance(spec), spec.inference.namespace,
                                     self.namespace_name, gpus_per_site_pool(spec), labels)]
        if obs.dashboards:
            objects += dashboard_config_maps(self.namespace_name)
        self.objects = objects
        for obj in objects:
            kube.apply_object(obj, after, f"{name}-{kube.object_name(obj)}")
        if gpu_operator is not None and spec.nvidia.dcgm_exporter:
            # The field list the GPU Operator's values point the exporter at (see nvidia/values.py).
            cm = dcgm_metrics_config_map(cat.chart("gpu-operator").namespace)
            kube.apply_object(cm, pulumi.ResourceOptions(parent=self, depends_on=[gpu_operator]),
                              f"{name}-{kube.object_name(cm)}")
        self.register_outputs({"prometheusUrl": self.url, "namespace": self.namespace_name})
