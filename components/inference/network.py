"""NetworkPolicies of the serving namespace: default-deny, then only what serves or scrapes
a model server may reach it, and a server reaches only DNS, the other pods of its own group
and, when its model comes from a hub, HTTPS to the internet.

Why no S3 or Secrets Manager egress: model pods never call either. Bucket weights are
mounted by the Mountpoint CSI driver (a node plugin in kube-system) and hub tokens are
synced by the External Secrets controller (in its own namespace); the pods read files.
Pure functions: spec in, manifests out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .pods import HTTP_PORT, TRITON_METRICS_PORT, selector

if TYPE_CHECKING:
    from components.spec import ServiceSpec

API = "networking.k8s.io/v1"
DEFAULT_DENY = "default-deny"
# Kubernetes sets this label on every namespace (1.21+): a namespace selected by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# The hub is a CDN without fixed addresses: HTTPS anywhere public, never to private ranges
# (the VPC, peered networks, pod CIDRs aidc allows in 100.64/10 and 198.19/16, the
# instance metadata and Pod Identity link-local addresses).
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
                  "198.18.0.0/15")
MANAGED = {"app.kubernetes.io/managed-by": "aidc"}


@dataclass(frozen=True)
class Sources:
    """Who may call or scrape the servers: the monitoring namespace (Prometheus), namespaces
    the stack allows, and the address range load balancers reach pods from (the VPC for an
    NLB with IP targets and a TLS listener, which connects from its own private addresses)."""

    monitoring: str | None = None
    namespaces: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()
    load_balancer_cidr: str | None = None


def _policy(name: str, ns: str, pods: dict[str, str], types: Sequence[str], **rules: Any) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "labels": dict(MANAGED)},
            "spec": {"podSelector": {"matchLabels": pods} if pods else {}, "policyTypes": list(types), **rules}}


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}}


def namespace_policies(ns: str) -> list[dict[str, Any]]:
    """Every pod of the namespace: nothing in, nothing out, except name resolution."""
    dns = {"to": [{**_namespace("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    return [_policy(DEFAULT_DENY, ns, {}, ["Ingress", "Egress"]),
            _policy("allow-dns", ns, {}, ["Egress"], egress=[dns])]


def service_policies(svc: "ServiceSpec", ns: str, serving_pods: dict[str, str], sources: Sources) -> list[dict[str, Any]]:
    """What one service's pods may do beyond the namespace defaults. `serving_pods` selects
    the pods that answer requests (a multi-node group's leaders; KServe's predictor pods)."""
    ports = [{"protocol": "TCP", "port": HTTP_PORT}]
    if svc.engine == "triton":
        ports.append({"protocol": "TCP", "port": TRITON_METRICS_PORT})
    peers = [_namespace(n) for n in sorted({*([sources.monitoring] if sources.monitoring else []),
                                            *sources.namespaces})]
    cidrs = set(sources.cidrs)
    if svc.expose.type == "loadBalancer" and sources.load_balancer_cidr:
        cidrs.add(sources.load_balancer_cidr)
    peers += [{"ipBlock": {"cidr": c}} for c in sorted(cidrs)]
    out = []
    if peers:
        out.append(_policy(f"{svc.name}-ingress", ns, serving_pods, ["Ingress"],
                           ingress=[{"from": peers, "ports": ports}]))
    if svc.multi_node is not None:
        # Ray head and workers of one group talk on many ports (GCS, object store, NCCL).
        group = selector(svc)
        out.append(_policy(f"{svc.name}-group", ns, group, ["Ingress", "Egress"],
                           ingress=[{"from": [{"podSelector": {"matchLabels": group}}]}],
                           egress=[{"to": [{"podSelector": {"matchLabels": group}}]}]))
    if svc.model.hub is not None:
        # Every pod of a multi-node group loads its own shard from the hub.
        loaders = selector(svc) if svc.multi_node is not None else serving_pods
        out.append(_policy(f"{svc.name}-hub", ns, loaders, ["Egress"],
                           egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                                    "ports": [{"protocol": "TCP", "port": 443}]}]))
    return out
