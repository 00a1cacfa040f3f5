"""Model serving: the operators it needs (KEDA, External Secrets, KServe, LeaderWorkerSet),
installed only when a service uses them, and one `InferenceService` component per entry of
`aidc:inference.services`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi

from components import kube
from components.catalog import catalog
from components.common import child
from components.secrets import install_operator, secret_store

from . import charts
from .network import Sources, namespace_policies, service_policies
from .objects import ServiceObjects, pod_selector, service_objects
from .pods import NodeShare

if TYPE_CHECKING:
    from components.cluster.resources import Cluster
    from components.spec import ServiceSpec, Spec

__all__ = ["Inference", "InferenceService", "node_share"]


def node_share(spec: "Spec", pool_name: str) -> NodeShare:
    pool = spec.pools[pool_name]
    return NodeShare(pool.vcpu_per_gpu, pool.memory_gib_per_gpu)


class InferenceService(pulumi.ComponentResource):
    """One served model: its workload, Service, disruption budget, autoscaler, metrics and
    hub-token secret, each applied after the operator that defines its kind."""

    def __init__(self, name: str, svc: "ServiceSpec", namespace: str, *, image: str, share: NodeShare,
                 prometheus_url: str | None, kserve: bool, depends: Mapping[str, Sequence[pulumi.Resource]],
                 monitor_labels: Mapping[str, str] | None = None, sources: Sources | None = None,
                 zones: bool = False, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:inference:InferenceService", name, None, opts)
        self.objects: ServiceObjects = service_objects(svc, namespace, image=image, share=share,
                                                       prometheus_url=prometheus_url, kserve=kserve,
                                                       monitor_labels=monitor_labels, zones=zones)
        self.objects.core += service_policies(svc, namespace, pod_selector(svc, kserve), sources or Sources())
        scaled = bool(self.objects.keda)
        self.resources: dict[str, pulumi.Resource] = {}
        for group in ("secrets", "core", "kserve", "lws", "keda", "monitoring", "gateway"):
            deps = list(depends.get(group, ())) + list(depends.get("namespace", ()))
            if group in ("core", "kserve", "lws"):
                deps += [r for k, r in self.resources.items() if k.startswith("externalsecret")]
            for obj in getattr(self.objects, group):
                # KEDA owns the replica count once the workload exists.
                ignore = ["spec.replicas"] if scaled and obj["kind"] in ("Deployment", "LeaderWorkerSet") else []
                ignore += ["spec.predictor.minReplicas"] if scaled and obj["kind"] == "InferenceService" else []
                o = pulumi.ResourceOptions(parent=self, depends_on=deps, ignore_changes=ignore or None)
                key = kube.object_name(obj)
                self.resources[key] = kube.apply_object(obj, o, f"{name}-{key}")
        self.register_outputs({"namespace": namespace, "service": svc.name,
                               "url": f"http://{svc.name}.{namespace}.svc:8000/v1"})


class Inference(pulumi.ComponentResource):
    def __init__(self, name: str, spec: "Spec", *, cluster: "Cluster", prometheus_url: str | None,
                 monitoring: Sequence[pulumi.Resource] = (), monitoring_namespace: str | None = None,
                 secret_refs: Sequence[str] = (), tags: Mapping[str, str] | None = None,
                 namespace: pulumi.Resource | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:inference:Inference", name, None, opts)
        inf = spec.inference
        cat = catalog()
        ns = inf.namespace
        opts_k8s = child(self)
        # The namespace may already exist in the plan: shared storage creates the namespaces
        # that claim the models bucket or Lustre; then the caller passes it in.
        self.namespace = namespace if namespace is not None else kube.namespace(ns, opts_k8s)
        services = inf.services
        # Default-deny before anything runs in the namespace.
        self.network_policies = [
            kube.apply_object(p, pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
                              f"{name}-{kube.object_name(p)}")
            for p in namespace_policies(ns)]
        depends: dict[str, list[pulumi.Resource]] = {"namespace": [self.namespace, *self.network_policies],
                                                     "monitoring": list(monitoring)}
        sources = Sources(monitoring=monitoring_namespace, namespaces=inf.allow_namespaces, cidrs=inf.allow_cidrs,
                          load_balancer_cidr=None if cluster.existing else spec.network.cidr)

        def release(key: str, values: dict, after: Sequence[pulumi.Resource] = ()) -> pulumi.Resource:
            chart = cat.chart(key)
            chart_ns = kube.namespace(chart.namespace, opts_k8s, privileged=chart.privileged) \
                if chart.namespace not in self._namespaces else self._namespaces[chart.namespace]
            self._namespaces[chart.namespace] = chart_ns
            return kube.helm_release(f"{name}-{key}", key, values, opts_k8s, namespace_resource=chart_ns,
                                     depends_on=after)

        self._namespaces: dict[str, pulumi.Resource] = {}
        self.releases: dict[str, pulumi.Resource] = {}
        if any(s.min_replicas != s.max_replicas for s in services) and prometheus_url is not None:
            self.releases["keda"] = release("keda", charts.keda_values())
            depends["keda"] = [self.releases["keda"]]
        # External Secrets serves every secret the stack names (hub tokens here, and the
        # receivers' keys Alertmanager reads); it is installed here whenever there are any.
        token_refs = sorted({s.model.hub.token_secret for s in services if s.model.hub and s.model.hub.token_secret})
        refs = sorted({*token_refs, *secret_refs})
        if refs:
            self.releases["external-secrets"] = install_operator(
                name, self, opts_k8s, refs=refs, region=spec.region or "", tags=tags or {},
                cluster_name=None if cluster.existing else cluster.eks.name)
        if token_refs:
            store = secret_store(ns, spec.region or "")
            depends["secrets"] = [kube.apply_object(store, pulumi.ResourceOptions(
                parent=self, depends_on=[self.namespace, self.releases["external-secrets"]]),
                f"{name}-{kube.object_name(store)}")]
        if inf.kserve and services:
            cm = release("cert-manager", charts.cert_manager_values())
            crd = release("kserve-crd", {}, [cm])
            self.releases["kserve"] = release("kserve", charts.kserve_values(), [crd, cm])
            depends["kserve"] = [self.releases["kserve"]]
        if any(s.multi_node for s in services):
            self.releases["leaderworkerset"] = release("leaderworkerset", charts.lws_values())
            depends["lws"] = [self.releases["leaderworkerset"]]

        image_of = {"vllm": cat.image("vllm"), "triton": cat.image("triton")}
        self.services = {
            s.name: InferenceService(f"{name}-{s.name}", s, ns, image=image_of[s.engine], share=node_share(spec, s.pool),
                                     prometheus_url=prometheus_url, kserve=inf.kserve, depends=depends,
                                     monitor_labels=spec.observability.selector_labels, sources=sources,
                                     zones=spec.pools[s.pool].spans_zones, opts=child(self))
            for s in services
        }
        self.register_outputs({"namespace": ns, "services": sorted(self.services)})
