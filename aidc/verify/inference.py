"""Inference: every model server is up with at least its minimum replicas available, as a
Deployment, a LeaderWorkerSet (multi-node) or, when the stack uses KServe, a Ready
InferenceService and its predictor Deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import names
from .kube import Kube
from .result import Check, Outcome, failed, passed

AREA = "inference"


def applies(spec: Any) -> bool:
    return getattr(spec, "inference", None) is not None and bool(names.services(spec.inference))


def _deployment(kube: Kube, namespace: str, name: str, minimum: int, prefix: str = "") -> Outcome:
    dep = kube.deployment(namespace, name)
    if dep is None:
        return failed(f"{prefix}Deployment {namespace}/{name} not found")
    available = (dep.status.available_replicas if dep.status else None) or 0
    if available < minimum:
        return failed(f"{prefix}Deployment {namespace}/{name} has {available} available replicas, "
                      f"minReplicas is {minimum}")
    return passed(f"{prefix}Deployment {namespace}/{name}: {available} available (min {minimum})")


def _inference_service(kube: Kube, namespace: str, svc: Any, minimum: int) -> Outcome:
    isvc = kube.namespaced_object(names.KSERVE_GROUP, names.KSERVE_VERSION, namespace, names.KSERVE_PLURAL, svc.name)
    if isvc is None:
        return failed(f"InferenceService {namespace}/{svc.name} not found")
    ready = next((c for c in (isvc.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") != "True":
        why = (ready or {}).get("reason") or (ready or {}).get("message") or "no Ready condition"
        return failed(f"InferenceService {namespace}/{svc.name} not Ready: {why}")
    return _deployment(kube, namespace, names.workload_name(svc, True), minimum,
                       prefix=f"InferenceService {svc.name} Ready; ")


def checks(spec: Any, cat: Any, kube: Kube, pools: list[Any]) -> Iterator[Check]:
    inference = spec.inference
    kserve = names.kserve_enabled(inference)
    for svc in names.services(inference):
        ns, minimum = names.service_namespace(inference, svc), names.min_replicas(svc)
        yield Check(f"inference/{svc.name}", AREA, f"{svc.name}: ≥ {minimum} replicas available",
                    lambda s=svc, n=ns, m=minimum: _service(kube, n, s, m, kserve))


def _leader_worker_set(kube: Kube, namespace: str, svc: Any, minimum: int) -> Outcome:
    lws = kube.namespaced_object(names.LWS_GROUP, names.LWS_VERSION, namespace, names.LWS_PLURAL, svc.name)
    if lws is None:
        return failed(f"LeaderWorkerSet {namespace}/{svc.name} not found")
    ready = int((lws.get("status") or {}).get("readyReplicas") or 0)  # groups with leader and workers Ready
    if ready < minimum:
        return failed(f"LeaderWorkerSet {namespace}/{svc.name} has {ready} ready groups, minReplicas is {minimum}")
    return passed(f"LeaderWorkerSet {namespace}/{svc.name}: {ready} ready groups (min {minimum})")


def _service(kube: Kube, namespace: str, svc: Any, minimum: int, kserve: bool) -> Outcome:
    if kserve:
        return _inference_service(kube, namespace, svc, minimum)
    if names.multi_node(svc):
        return _leader_worker_set(kube, namespace, svc, minimum)
    return _deployment(kube, namespace, names.workload_name(svc, False), minimum)
