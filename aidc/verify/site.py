"""What a site brings to an existing cluster, and the fabric aidc adds there: the API server
runs the Kubernetes minor the stack declares (every floor was checked against it), each
InfiniBand/RoCE pool's nodes advertise their RDMA devices, the Network Operator's
NicClusterPolicy is ready, and, with `prometheus: existing`, the site's Prometheus selects
aidc's rules and ServiceMonitors. (The site's GPU Operator is checked by the nvidia area.)"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from . import names
from .gpu import pool_nodes
from .kube import Kube
from .result import Check, Outcome, failed, passed, skipped

AREA = "site"
NIC_CLUSTER_POLICY = ("mellanox.com", "v1alpha1", "nicclusterpolicies")
PROMETHEUSES = ("monitoring.coreos.com", "v1", "prometheuses")


def _rdma_pools(spec: Any) -> list[Any]:
    return [p for p in getattr(spec, "pools", {}).values() if getattr(p, "rdma", False)]


def _site_prometheus(spec: Any) -> bool:
    obs = getattr(spec, "observability", None)
    return bool(getattr(obs, "enabled", False)) and getattr(obs, "prometheus", "install") == "existing"


def applies(spec: Any) -> bool:
    return bool(getattr(spec, "existing_cluster", False)) or bool(_rdma_pools(spec))


def _minor(text: str) -> str:
    """`1.33` of "1.33", "33+" (EKS/GKE add a +) or "v1.33.4"."""
    digits = re.match(r"\d+", text)
    return digits.group(0) if digits else text


def _version(kube: Kube, declared: str | None) -> Outcome:
    v = kube.server_version()
    live = f"{_minor(str(v.major))}.{_minor(str(v.minor))}"
    if declared is None:
        return failed(f"the API server runs {live} ({v.git_version}); the stack declares no "
                      "aidc:cluster.kubernetesVersion")
    if live != declared:
        return failed(f"the API server runs {live} ({v.git_version}), the stack declares {declared} "
                      "(aidc:cluster.kubernetesVersion): component floors were checked against the declared "
                      "version; set it to what the cluster runs")
    return passed(f"the API server runs {live} ({v.git_version}), as declared")


def _allocatable(node: Any, resource: str) -> int:
    try:
        return int((node.status.allocatable or {}).get(resource) or 0)
    except ValueError:
        return 0


def _rdma(kube: Kube, pool: Any) -> Outcome:
    """Each node advertises at least what one whole-node pod requests (the shared plugin
    advertises rdmaHcaMax, SR-IOV one per virtual function)."""
    nodes = pool_nodes(kube, pool.name)
    if not nodes:
        return skipped(f"no nodes in pool {pool.name} to inspect")
    want, resource = pool.rdma_devices, pool.rdma_resource
    bad = [f"{n.metadata.name} allocates {_allocatable(n, resource)}" for n in nodes
           if _allocatable(n, resource) < want]
    if bad:
        return failed(f"{len(bad)} of {len(nodes)} nodes lack {resource} (a pod needs {want}): " + "; ".join(bad[:5])
                      + " (NicClusterPolicy not ready, or the NICs' link type or names do not match the pool's "
                        "fabric and nics?)")
    return passed(f">= {want} {resource} allocatable on all {len(nodes)} nodes")


def _nic_cluster_policy(kube: Kube) -> Outcome:
    found = kube.cluster_objects(*NIC_CLUSTER_POLICY)
    if not found:
        return failed("no NicClusterPolicy (mellanox.com/v1alpha1): the Network Operator has not got aidc's policy")
    states = {p["metadata"]["name"]: (p.get("status") or {}).get("state", "<none>") for p in found}
    bad = {n: s for n, s in states.items() if s != "ready"}
    if bad:
        return failed(", ".join(f"NicClusterPolicy {n} is {s}" for n, s in sorted(bad.items())))
    return passed(", ".join(f"NicClusterPolicy {n} ready" for n in sorted(states)))


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector against labels (nil selects nothing, {} everything)."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or ():
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        ok = {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}.get(op, False)
        if not ok:
            return False
    return True


def _prometheus(kube: Kube, obs: Any, labels: Mapping[str, str]) -> Outcome:
    found = kube.cluster_objects(*PROMETHEUSES)
    if not found:
        return failed("no Prometheus (monitoring.coreos.com/v1) in any namespace: the site's Prometheus Operator "
                      "runs none, and aidc's rules and ServiceMonitors would go unread")
    why = []
    for p in found:
        meta, spec = p["metadata"], p.get("spec") or {}
        where = f"{meta.get('namespace')}/{meta['name']}"
        misses = [k for k in ("ruleSelector", "serviceMonitorSelector") if not selects(spec.get(k), labels)]
        # A nil namespace selector means the Prometheus's own namespace only.
        misses += [k for k in ("ruleNamespaceSelector", "serviceMonitorNamespaceSelector")
                   if spec.get(k) is None and meta.get("namespace") != obs.namespace]
        if not misses:
            return passed(f"Prometheus {where} selects aidc's rules and ServiceMonitors in {obs.namespace}")
        why.append(f"{where} does not select them ({', '.join(misses)})")
    return failed("; ".join(why) + f": aidc labels its objects {dict(labels)} "
                                   "(aidc:observability.selectorLabels)")


def checks(spec: Any, cat: Any, kube: Kube, pools: list[Any]) -> Iterator[Check]:
    if getattr(spec, "existing_cluster", False):
        declared = spec.cluster.kubernetes_version
        yield Check("site/kubernetes-version", AREA, "API server version matches aidc:cluster.kubernetesVersion",
                    lambda: _version(kube, declared))
    rdma = _rdma_pools(spec)
    if rdma:
        yield Check("site/nic-cluster-policy", AREA, "Network Operator NicClusterPolicy ready",
                    lambda: _nic_cluster_policy(kube))
    chosen = {p.name for p in pools}
    for pool in rdma:
        if pool.name in chosen:
            yield Check(f"gpu-pool/{pool.name}/rdma", AREA, f"{pool.name}: {pool.rdma_resource} per node",
                        lambda p=pool: _rdma(kube, p))
    if _site_prometheus(spec):
        obs = spec.observability
        yield Check("site/prometheus", AREA, "the site's Prometheus selects aidc's rules and ServiceMonitors",
                    lambda: _prometheus(kube, obs, names.object_labels(obs)))
