"""Every Kubernetes object of one model service, grouped by the operator that must be
installed before it (core kinds, KEDA, Prometheus Operator, External Secrets, KServe,
LeaderWorkerSet, Gateway API). Pure: spec in, manifests out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from components.secrets import external_secret

from .pods import (
    HTTP_PORT,
    HUB_TOKEN_KEY,
    TRITON_METRICS_PORT,
    NodeShare,
    hub_secret_name,
    labels,
    pod_spec,
    selector,
)

if TYPE_CHECKING:
    from components.spec import ServiceSpec

KSERVE_CONTAINER = "kserve-container"
LWS_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
# TLS 1.3 with 1.2 fallback: the ELB policy AWS recommends for new listeners.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass
class ServiceObjects:
    """The manifests of one service, by what must exist before they can be applied."""

    core: list[dict[str, Any]] = field(default_factory=list)
    keda: list[dict[str, Any]] = field(default_factory=list)
    monitoring: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    kserve: list[dict[str, Any]] = field(default_factory=list)
    lws: list[dict[str, Any]] = field(default_factory=list)
    gateway: list[dict[str, Any]] = field(default_factory=list)

    def all(self) -> list[dict[str, Any]]:
        return [*self.core, *self.keda, *self.monitoring, *self.secrets, *self.kserve, *self.lws, *self.gateway]


def _meta(name: str, ns: str, svc: "ServiceSpec", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": ns, "labels": labels(svc), **extra}


def workload_name(svc: "ServiceSpec", kserve: bool) -> str:
    """The Deployment (or LeaderWorkerSet) that runs the pods; KServe names its own."""
    return f"{svc.name}-predictor" if kserve else svc.name


def pod_selector(svc: "ServiceSpec", kserve: bool) -> dict[str, str]:
    if kserve:
        return {"serving.kserve.io/inferenceservice": svc.name}
    if svc.multi_node is not None:
        return {**selector(svc), LWS_INDEX_LABEL: "0"}  # leaders serve; workers only compute
    return selector(svc)


def deployment(svc: "ServiceSpec", ns: str, image: str, share: NodeShare, zones: bool = False) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(svc.name, ns, svc),
        "spec": {
            # KEDA owns the count after creation (the component ignores later drift of it).
            "replicas": svc.min_replicas,
            "selector": {"matchLabels": selector(svc)},
            # Surge a new replica, wait for it to be Ready, then retire an old one: a
            # rollout never takes serving capacity away.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "progressDeadlineSeconds": 3600,
            "revisionHistoryLimit": 5,
            "template": {"metadata": {"labels": labels(svc)},
                         "spec": pod_spec(svc, image, share, spread_over=selector(svc), zones=zones)},
        },
    }


def service(svc: "ServiceSpec", ns: str, kserve: bool = False) -> dict[str, Any]:
    ports = [{"name": "http", "port": HTTP_PORT, "targetPort": "http", "protocol": "TCP"}]
    if svc.engine == "triton":
        ports.append({"name": "metrics", "port": TRITON_METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"})
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(svc.name, ns, svc),
            "spec": {"type": "ClusterIP", "selector": pod_selector(svc, kserve), "ports": ports}}


def disruption_budget(svc: "ServiceSpec", ns: str, kserve: bool = False) -> dict[str, Any]:
    """Keep all but one replica through voluntary disruptions (node drains, consolidation).
    A single replica cannot be protected without blocking every drain, so it gets
    maxUnavailable 1; production services should run two or more."""
    budget: dict[str, Any] = ({"minAvailable": svc.min_replicas - 1} if svc.min_replicas >= 2
                              else {"maxUnavailable": 1})
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(svc.name, ns, svc),
            "spec": {**budget, "selector": {"matchLabels": pod_selector(svc, kserve)},
                     "unhealthyPodEvictionPolicy": "AlwaysAllow"}}


def metrics_service(svc: "ServiceSpec", kserve: bool) -> str:
    """The value of the `service` label Prometheus puts on the server's metrics."""
    return f"{svc.name}-predictor" if kserve else svc.name


def load_query(svc: "ServiceSpec", ns: str, kserve: bool = False) -> str:
    """The PromQL the autoscaler divides by the replica count."""
    where = f'{{namespace="{ns}",service="{metrics_service(svc, kserve)}"}}'
    if svc.engine == "triton":
        return f"sum(nv_inference_pending_request_count{where})"
    metric = "vllm:num_requests_waiting" if svc.scaling.metric == "waiting" else "vllm:num_requests_running"
    return f"sum({metric}{where})"


def scaled_object(svc: "ServiceSpec", ns: str, prometheus_url: str, kserve: bool = False) -> dict[str, Any]:
    sc = svc.scaling
    if svc.multi_node is not None:
        target = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": svc.name}
    else:
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload_name(svc, kserve)}
    triggers: list[dict[str, Any]] = [{"type": "prometheus", "metadata": {
        "serverAddress": prometheus_url, "query": load_query(svc, ns, kserve), "threshold": f"{sc.target:g}",
        # No series (the server is still loading) means no load, not an error.
        "ignoreNullValues": "true"}}]
    if svc.min_replicas == 0:
        wh = sc.work_hours
        triggers.append({"type": "cron", "metadata": {"timezone": wh.timezone, "start": wh.start, "end": wh.end,
                                                      "desiredReplicas": "1"}})
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": _meta(svc.name, ns, svc),
        "spec": {
            "scaleTargetRef": target,
            "minReplicaCount": svc.min_replicas, "maxReplicaCount": svc.max_replicas,
            "pollingInterval": 15, "cooldownPeriod": sc.cooldown_seconds,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                # Add one replica a minute at most (each one takes minutes to load), remove
                # one per cooldown so a lull does not throw away warm servers.
                "scaleUp": {"stabilizationWindowSeconds": 0,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": sc.cooldown_seconds,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": sc.cooldown_seconds}]},
            }}},
            "triggers": triggers,
        },
    }


def service_monitor(svc: "ServiceSpec", ns: str, kserve: bool = False,
                    labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`labels`: extra labels the site's own Prometheus selects ServiceMonitors by (observability
    prometheus: existing); the Prometheus aidc installs selects every ServiceMonitor."""
    port = "metrics" if svc.engine == "triton" else "http"
    match = {"serving.kserve.io/inferenceservice": svc.name} if kserve else selector(svc)
    meta = _meta(svc.name, ns, svc)
    if labels:
        meta = {**meta, "labels": {**meta["labels"], **labels}}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": meta,
            "spec": {"selector": {"matchLabels": match}, "namespaceSelector": {"matchNames": [ns]},
                     "endpoints": [{"port": port, "path": "/metrics", "interval": "15s"}]}}


def hub_token_secret(svc: "ServiceSpec", ns: str) -> dict[str, Any]:
    hub = svc.model.hub
    assert hub is not None and hub.token_secret
    return external_secret(hub_secret_name(svc), ns, hub.token_secret, HUB_TOKEN_KEY, labels(svc))


def kserve_service(svc: "ServiceSpec", ns: str, image: str, share: NodeShare, zones: bool = False) -> dict[str, Any]:
    """A KServe InferenceService in Standard (raw Deployment) mode running the same container;
    KServe's own autoscaler is off ("external") because KEDA scales the predictor."""
    pod = pod_spec(svc, image, share, container_name=KSERVE_CONTAINER, spread_over=pod_selector(svc, True),
                   zones=zones)
    return {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": _meta(svc.name, ns, svc, annotations={"serving.kserve.io/deploymentMode": "Standard",
                                                            "serving.kserve.io/autoscalerClass": "external"}),
        "spec": {"predictor": {
            "minReplicas": svc.min_replicas, "maxReplicas": svc.max_replicas,
            "deploymentStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            **pod,
        }},
    }


def leader_worker_set(svc: "ServiceSpec", ns: str, image: str, share: NodeShare, zones: bool = False) -> dict[str, Any]:
    """One replica = one group of `multiNode.nodes` pods: a Ray head that serves the OpenAI
    API and workers that join it; a failed pod restarts its whole group."""
    assert svc.multi_node is not None
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": _meta(svc.name, ns, svc),
        "spec": {
            "replicas": svc.min_replicas,
            "startupPolicy": "LeaderCreated",
            "rolloutStrategy": {"type": "RollingUpdate",
                                "rollingUpdateConfiguration": {"maxUnavailable": 0, "maxSurge": 1}},
            "leaderWorkerTemplate": {
                "size": svc.multi_node.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {"metadata": {"labels": {**labels(svc), "aidc.io/role": "leader"}},
                                   # Leaders apart: each group then starts on its own nodes.
                                   "spec": pod_spec(svc, image, share, "leader",
                                                    spread_over=pod_selector(svc, False), zones=zones)},
                "workerTemplate": {"metadata": {"labels": {**labels(svc), "aidc.io/role": "worker"}},
                                   "spec": pod_spec(svc, image, share, "worker")},
            },
        },
    }


def exposure(svc: "ServiceSpec", ns: str, kserve: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(core objects, Gateway API objects) that publish the service beyond the cluster."""
    ex = svc.expose
    scheme = "internet-facing" if ex.public else "internal"
    if ex.type == "loadBalancer":
        annotations = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme,
            "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": ex.certificate_arn,
            "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "https",
            "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": TLS_POLICY,
        }
        lb = {"apiVersion": "v1", "kind": "Service",
              "metadata": _meta(f"{svc.name}-lb", ns, svc, annotations=annotations),
              "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb",
                       "selector": pod_selector(svc, kserve),
                       "ports": [{"name": "https", "port": 443, "targetPort": "http", "protocol": "TCP"}]}}
        return [lb], []
    if ex.type == "gateway":
        gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": _meta(svc.name, ns, svc),
              "spec": {"gatewayClassName": ex.gateway_class_name,
                       # Implementations that front the Gateway with a Service pass these on.
                       "infrastructure": {"annotations": {
                           "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme}},
                       "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443, "hostname": ex.host,
                                      "tls": {"mode": "Terminate",
                                              "certificateRefs": [{"kind": "Secret", "name": ex.tls_secret_name}]},
                                      "allowedRoutes": {"namespaces": {"from": "Same"}}}]}}
        backend = metrics_service(svc, kserve) if kserve else svc.name
        route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                 "metadata": _meta(svc.name, ns, svc),
                 "spec": {"parentRefs": [{"name": svc.name, "sectionName": "https"}], "hostnames": [ex.host],
                          "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
                                     "backendRefs": [{"name": backend, "port": HTTP_PORT}]}]}}
        return [], [gw, route]
    return [], []


def service_objects(svc: "ServiceSpec", ns: str, *, image: str, share: NodeShare, prometheus_url: str | None,
                    kserve: bool = False, monitor_labels: Mapping[str, str] | None = None,
                    zones: bool = False) -> ServiceObjects:
    """`zones`: the service's pool spans zones (replicas spread over them too)."""
    out = ServiceObjects()
    if svc.multi_node is not None:
        out.lws.append(leader_worker_set(svc, ns, image, share, zones))
    elif kserve:
        out.kserve.append(kserve_service(svc, ns, image, share, zones))
    else:
        out.core.append(deployment(svc, ns, image, share, zones))
    if not kserve:
        out.core.append(service(svc, ns))
    out.core.append(disruption_budget(svc, ns, kserve))
    core, gateway = exposure(svc, ns, kserve)
    out.core += core
    out.gateway += gateway
    if svc.min_replicas != svc.max_replicas and prometheus_url is not None:
        out.keda.append(scaled_object(svc, ns, prometheus_url, kserve))
    if prometheus_url is not None:
        out.monitoring.append(service_monitor(svc, ns, kserve, monitor_labels))
    if svc.model.hub is not None and svc.model.hub.token_secret:
        out.secrets.append(hub_token_secret(svc, ns))
    return out
