"""Training: each team's Kueue ClusterQueue is active (its flavors and quotas resolved), holds
the flavors, quotas, borrowing limits and cohort the stack gives the team, and its namespace
has a LocalQueue that feeds it, so submitted jobs are admitted as the stack promises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubernetes.utils import parse_quantity

from components.training.queues import cluster_queue

from . import names
from .kube import Kube
from .result import Check, Outcome, failed, passed

AREA = "training"


def applies(spec: Any) -> bool:
    return getattr(spec, "training", None) is not None and bool(names.teams(spec.training))


def _condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), None)


def _amount(value: Any) -> Any:
    try:
        return parse_quantity(value)
    except (ValueError, TypeError):
        return value


def _quotas(spec: dict) -> dict[tuple[str, str, str], Any]:
    """(flavor, resource, nominalQuota | borrowingLimit) -> amount, over every resource group."""
    out = {}
    for group in spec.get("resourceGroups") or []:
        for flavor in group.get("flavors") or []:
            for res in flavor.get("resources") or []:
                for field in ("nominalQuota", "borrowingLimit"):
                    if field in res:
                        out[(flavor.get("name"), res.get("name"), field)] = _amount(res[field])
    return out


def _flavors(spec: dict) -> set[str]:
    return {f.get("name") for g in spec.get("resourceGroups") or [] for f in g.get("flavors") or []}


def quota_faults(want: dict, have: dict) -> list[str]:
    """How the live ClusterQueue spec `have` differs from the one the stack renders, `want`:
    flavors (the pools), nominal quotas and borrowing limits per resource, and the cohort."""
    faults = []
    want_q, have_q = _quotas(want.get("spec") or {}), _quotas(have.get("spec") or {})
    want_flavors, have_flavors = _flavors(want.get("spec") or {}), _flavors(have.get("spec") or {})
    if missing := sorted(want_flavors - have_flavors):
        faults.append(f"no quota on flavor {', '.join(missing)}")
    if extra := sorted(have_flavors - want_flavors):
        faults.append(f"quota on flavor {', '.join(extra)} the stack does not give")
    for key in sorted(k for k in want_q if k[0] in have_flavors):
        flavor, resource, field = key
        if have_q.get(key) != want_q[key]:
            faults.append(f"{flavor} {resource} {field} {have_q.get(key, 'unset')}, the stack says {want_q[key]}")
    for key in sorted(k for k in have_q if k not in want_q and k[0] in want_flavors):
        faults.append(f"{key[0]} {key[1]} {key[2]} {have_q[key]}, the stack sets none")
    want_cohort, have_cohort = (want.get("spec") or {}).get("cohortName"), (have.get("spec") or {}).get("cohortName")
    if want_cohort != have_cohort:
        faults.append(f"cohort {have_cohort or 'none'}, the stack says {want_cohort or 'none'}")
    return faults


def _cluster_queue(kube: Kube, team: Any) -> Outcome:
    name = names.cluster_queue_name(team)
    queues = {q["metadata"]["name"]: q for q in
              kube.cluster_objects(names.KUEUE_GROUP, names.KUEUE_VERSION, "clusterqueues")}
    cq = queues.get(name)
    if cq is None:
        return failed(f"ClusterQueue {name} not found" + (f" (have: {', '.join(sorted(queues))})" if queues else ""))
    faults = []  # every fault: an inactive queue may also hold the wrong quotas
    active = _condition(cq, "Active")
    if active is None or active.get("status") != "True":
        why = (active or {}).get("reason") or "no Active condition"
        msg = (active or {}).get("message")
        faults.append(f"not active: {why}{': ' + msg if msg else ''}")
    faults += quota_faults(cluster_queue(team), cq)
    if faults:
        return failed(f"ClusterQueue {name}: " + "; ".join(faults))
    flavors = len(_flavors(cq.get("spec") or {}))
    return passed(f"ClusterQueue {name} active, its {flavors} flavor quota{'s' * (flavors != 1)} as the stack says")


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
        yield Check(f"training/{team.name}/cluster-queue", AREA, f"{team.name}: ClusterQueue {cq} active, "
                    "quotas as in the stack", lambda t=team: _cluster_queue(kube, t))
        yield Check(f"training/{team.name}/local-queue", AREA, f"{team.name}: LocalQueue in {ns}",
                    lambda n=ns, q=cq: _local_queue(kube, n, q))
