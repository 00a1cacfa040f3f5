"""Observability: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node-exporter,
kube-state-metrics) pinned from the catalog, the DCGM exporter scraped, GPU and serving
alert rules, and the GPU, training and inference dashboards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi

from components import kube
from components.catalog import catalog
from components.common import child, policy_document
from components.secrets import external_secret, install_operator, secret_store
from components.spec.site import intensity, power_model

from .alerting import KEY_FILE, secret_name, sns_publish_policy
from .energy_rules import energy_rule_object
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

# The chart's Alertmanager service account: `<fullname>-alertmanager` (kube-prometheus-stack
# 88.5.3 templates/_helpers.tpl alertmanager.serviceAccountName; fullname = fullnameOverride).
ALERTMANAGER_SERVICE_ACCOUNT = f"{RELEASE}-alertmanager"


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
        self._name, self._spec, self._ns = name, spec, None
        after = child(self)
        if not site:
            ns = kube.namespace(chart.namespace, child(self), privileged=chart.privileged)
            deps: list[pulumi.Resource] = []
            sc_name = storage_class_name(obs, spec.existing_cluster)
            if obs.storage_class is None and sc_name is not None:
                sc = storage_class()
                deps.append(kube.apply_object(sc, child(self), f"{name}-{kube.object_name(sc)}"))
            self.release = kube.helm_release(f"{name}-{RELEASE}", "kube-prometheus-stack",
                                             chart_values(obs, sc_name, spec.region or ""), child(self),
                                             namespace_resource=ns, depends_on=deps)
            # Everything below is a custom resource of the chart's CRDs, or is read by its Grafana.
            after = pulumi.ResourceOptions(parent=self, depends_on=[self.release, ns])
            self._ns = ns
        labels = object_labels(obs)
        gpu_ns = cat.chart("gpu-operator").namespace if spec.nvidia.gpu_operator == "install" else None
        objects = [dcgm_service_monitor(self.namespace_name, gpu_ns, labels),
                   *prometheus_rules(obs.alerts, gpus_per_instance(spec),
                                     spec.inference.namespace if spec.inference.services else None,
                                     self.namespace_name, gpus_per_site_pool(spec), labels),
                   energy_object(spec, self.namespace_name, labels)]
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

    def bind_receivers(self, *, external_secrets: pulumi.Resource | None, cluster_name: pulumi.Input[str] | None,
                       tags: Mapping[str, str]) -> None:
        """The receivers' keys synced from Secrets Manager into the Secrets Alertmanager mounts
        (External Secrets: the release given, or one installed here when no other room has
        one), and, for sns receivers on EKS, Alertmanager's role to publish to their topics."""
        spec, name = self._spec, self._name
        if self.release is None:
            return  # the site's own Prometheus: its Alertmanager is the site's to configure
        receivers = spec.observability.alerting.receivers
        keyed = [r for r in receivers if r.type in KEY_FILE]
        refs = spec.observability.alerting.secret_refs
        if keyed:
            if external_secrets is None:
                external_secrets = install_operator(name, self, child(self), refs=refs, region=spec.region or "",
                                                    cluster_name=cluster_name, tags=tags)
            after = pulumi.ResourceOptions(parent=self, depends_on=[self._ns, external_secrets])
            objs = [secret_store(self.namespace_name, spec.region or "")]
            objs += [external_secret(secret_name(r), self.namespace_name, r.secret or "", KEY_FILE[r.type][0])
                     for r in keyed]
            for obj in objs:
                kube.apply_object(obj, after, f"{name}-{kube.object_name(obj)}")
        topics = [r.topic_arn for r in receivers if r.topic_arn]
        if topics and cluster_name is not None:
            from components.identity import service_account_role

            service_account_role(f"{name}-alertmanager", cluster_name=cluster_name, namespace=self.namespace_name,
                                 service_account=ALERTMANAGER_SERVICE_ACCOUNT, tags=tags, parent=self,
                                 inline_policy=policy_document(sns_publish_policy(topics)))


def energy_object(spec: "Spec", namespace: str, labels: dict[str, str]) -> dict:
    """The energy recording rules at the stack's power factors and grid intensity."""
    pm = power_model(spec.cost, spec.site)
    grid = intensity(spec.site, spec.region)
    return energy_rule_object(namespace, labels, spec.inference.namespace, pm.server_overhead, pm.pue,
                              grid.g_per_kwh if grid else None)
