"""Training: each team's Kueue ClusterQueue is active (its flavors and quotas resolved) and
its namespace has a LocalQueue that feeds it, so submitted jobs are admitted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import names
from .kube import Kube
from .result import Check, Outcome, failed, passed

AREA = "training"


def applies(spec: Any) -> bool:
    return getattr(spec, "training", None) is not None and bool(names.teams(spec.training))


def _condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), None)


def _cluster_queue(kube: Kube, name: str) -> Outcome:
    queues = {q["metadata"]["name"]: q for q in
              kube.cluster_objects(names.KUEUE_GROUP, names.KUEUE_VERSION, "clusterqueues")}
    cq = queues.get(name)
    if cq is None:
        return failed(f"ClusterQueue {name} not found" + (f" (have: {', '.join(sorted(queues))})" if queues else ""))
    active = _condition(cq, "Active")
    if active is None or active.get("status") != "True":
        why = (active or {}).get("reason") or "no Active condition"
        msg = (active or {}).get("message")
        return failed(f"ClusterQueue {name} is not active: {why}{': ' + msg if msg else ''}")
    return passed(f"ClusterQueue {name} active")


def _local_queue(kube: Kube, namespace: str, cluster_queue: str) -> Outcome:
    queues = kube.namespaced_objects(names.KUEUE_GROUP, names.KUEUE_VERSION, namespace, "localqueues")
    feeding = [q["metadata"]["name"] for q in queues if (q.get("spec") or {}).get("clusterQueue") == cluster_queue]
    if not feeding:
        have = ", ".join(f"{q['metadata']['name']}->{(q.get('spec') or {}).get('clusterQueue')}" for q in queues)
        return failed(f"no LocalQueue in {namespace} points at ClusterQueue {cluster_queue}"
                      + (f" (have: {have})" if have else ""))
    return passed(f"LocalQueue {namespace}/{feeding[0]} -> {cluster_queue}")


def checks(spec: Any, cat: Any, kube: Kube, pools: list[Any]) -> Iterator[Check]:
    for team in names.teams(spec.training):
        cq, ns = names.cluster_queue_name(team), names.team_namespace(team)
        yield Check(f"training/{team.name}/cluster-queue", AREA, f"{team.name}: ClusterQueue {cq} active",
                    lambda q=cq: _cluster_queue(kube, q))
        yield Check(f"training/{team.name}/local-queue", AREA, f"{team.name}: LocalQueue in {ns}",
                    lambda n=ns, q=cq: _local_queue(kube, n, q))
