"""kube-prometheus-stack values and the objects beside it (the DCGM ServiceMonitor, the
dashboard ConfigMaps, the volume class). Pure functions of the spec."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.vocabulary import DCGM_METRICS_CONFIGMAP, WORKLOAD_UID

from .alerting import alertmanager_config, mounted_secrets

if TYPE_CHECKING:
    from components.spec.observability import ObservabilitySpec

RELEASE = "kube-prometheus-stack"
DASHBOARDS = Path(__file__).resolve().parent / "dashboards"
DASHBOARD_LABEL = "grafana_dashboard"
STORAGE_CLASS = "aidc-gp3-encrypted"
# GPU Operator's DCGM exporter Service (namespace of the gpu-operator chart).
DCGM_SERVICE_LABELS = {"app": "nvidia-dcgm-exporter"}
DCGM_PORT = "gpu-metrics"
# The exporter's field list: a ConfigMap in the GPU Operator's namespace that its values name.
DCGM_METRICS_FILE = "dcgm-metrics.csv"


def prometheus_url(namespace: str) -> str:
    """In-cluster address of Prometheus (the chart names its Service `<release>-prometheus`)."""
    return f"http://{RELEASE}-prometheus.{namespace}.svc:9090"


def storage_class_name(obs: "ObservabilitySpec", existing_cluster: bool) -> str | None:
    """The stack's class; else aidc's encrypted gp3 on EKS; else (an existing cluster) the
    cluster's default class (None)."""
    if obs.storage_class is not None:
        return obs.storage_class
    return None if existing_cluster else STORAGE_CLASS


def _claim(sc: str | None, size: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if sc is not None:
        spec["storageClassName"] = sc
    return {"volumeClaimTemplate": {"spec": spec}}


def storage_class() -> dict[str, Any]:
    """Encrypted gp3 that keeps the volume when the claim goes (metrics survive a reinstall)."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS, "labels": {"app.kubernetes.io/managed-by": "aidc"}},
            "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "encrypted": "true"},
            "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True}


def _pod_security() -> dict[str, Any]:
    """Prometheus and Alertmanager as aidc's workload UID: the chart's default (runAsUser 1000,
    values.yaml prometheusSpec/alertmanagerSpec.securityContext at 88.5.3) is the first login
    user of the host. fsGroup re-owns the existing volumes on the next start."""
    return {"runAsNonRoot": True, "runAsUser": WORKLOAD_UID, "runAsGroup": WORKLOAD_UID, "fsGroup": WORKLOAD_UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


def chart_values(obs: "ObservabilitySpec", storage_class: str | None, region: str = "") -> dict[str, Any]:
    sc = storage_class
    receivers = obs.alerting.receivers
    return {
        "fullnameOverride": RELEASE,
        # The chart installs its CRDs (crds.enabled) before any of its objects.
        "crds": {"enabled": True},
        "prometheus": {"prometheusSpec": {
            "retention": obs.retention,
            # Stop before the volume is full: 90% of it.
            "retentionSize": f"{int(obs.storage_gib * 0.9)}GB",
            # Pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only this release's.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "scrapeInterval": "30s",
            "storageSpec": _claim(sc, f"{obs.storage_gib}Gi"),
            "securityContext": _pod_security(),
        }},
        "alertmanager": {
            "config": alertmanager_config(receivers, region),
            "alertmanagerSpec": {"storage": _claim(sc, "5Gi"), "securityContext": _pod_security(),
                                 **({"secrets": mounted_secrets(receivers)} if mounted_secrets(receivers) else {})},
        },
        "grafana": {
            "enabled": obs.dashboards,
            # Empty: the Grafana chart generates a random admin password into its Secret
            # instead of the well-known default.
            "adminPassword": "",
            "persistence": {"enabled": True, "size": "10Gi", **({"storageClassName": sc} if sc else {})},
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1",
                                       "searchNamespace": "ALL", "folderAnnotation": "grafana_folder",
                                       "provider": {"foldersFromFilesStructure": True}}},
        },
        "kube-state-metrics": {
            # Node labels the GPU rules join on: the pool and the instance type.
            "metricLabelsAllowlist": ["nodes=[aidc.io/pool,node.kubernetes.io/instance-type]"],
        },
    }


def object_labels(obs: "ObservabilitySpec") -> dict[str, str]:
    """Labels of aidc's rules and ServiceMonitors: the installed stack's release label, or the
    ones the site's Prometheus selects by (prometheus: existing)."""
    if obs.prometheus == "existing":
        return {"app.kubernetes.io/managed-by": "aidc", **obs.selector_labels}
    return {"app.kubernetes.io/managed-by": "aidc", "release": RELEASE}


def dcgm_service_monitor(namespace: str, gpu_namespace: str | None,
                         labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Scrape the DCGM exporter; keep the pod/namespace labels it adds for the GPU's workload
    and label each series with its node, which the pool joins need. `gpu_namespace` None: the
    site's GPU Operator, in whatever namespace it runs (the exporter's Service label is the
    operator's own)."""
    where = {"matchNames": [gpu_namespace]} if gpu_namespace is not None else {"any": True}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "nvidia-dcgm-exporter", "namespace": namespace,
                         "labels": labels or {"app.kubernetes.io/managed-by": "aidc", "release": RELEASE}},
            "spec": {"selector": {"matchLabels": DCGM_SERVICE_LABELS},
                     "namespaceSelector": where,
                     "endpoints": [{"port": DCGM_PORT, "path": "/metrics", "interval": "30s", "honorLabels": True,
                                    "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                                     "targetLabel": "node", "action": "replace"}]}]}}


def dcgm_fields() -> list[str]:
    """The DCGM fields the exporter is told to collect (dcgm-metrics.csv)."""
    text = (Path(__file__).resolve().parent / DCGM_METRICS_FILE).read_text(encoding="utf-8")
    return [line.split(",", 1)[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def dcgm_metrics_config_map(gpu_namespace: str) -> dict[str, Any]:
    text = (Path(__file__).resolve().parent / DCGM_METRICS_FILE).read_text(encoding="utf-8")
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": DCGM_METRICS_CONFIGMAP, "namespace": gpu_namespace,
                         "labels": {"app.kubernetes.io/managed-by": "aidc"}},
            "data": {DCGM_METRICS_FILE: text}}


@cache
def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard shipped in dashboards/*.json, by file stem."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS.glob("*.json"))}


def dashboard_config_maps(namespace: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": f"aidc-dashboard-{stem}", "namespace": namespace,
                          "labels": {DASHBOARD_LABEL: "1", "app.kubernetes.io/managed-by": "aidc"},
                          "annotations": {"grafana_folder": "aidc"}},
             "data": {f"{stem}.json": json.dumps(board, indent=1, sort_keys=True)}}
            for stem, board in dashboards().items()]
