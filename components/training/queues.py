"""Scheduler objects generated from the GPU pools and the teams: one Kueue ResourceFlavor per
pool, a Topology per EC2 network depth in use, a ClusterQueue and a LocalQueue per team (or a
Volcano Queue for volcano teams), and the Kueue manager configuration. Pure dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import yaml

from components.catalog import catalog
from components.vocabulary import (
    FABRIC_LABEL,
    GPU_RESOURCE,
    KUEUE,
    KUEUE_CONFIG,
    POOL_LABEL,
    RDMA_RESOURCE_PREFIX,
    TEAM_LABEL,
    VOLCANO,
)

from .pools import node_selector, tolerations, topology_name

if TYPE_CHECKING:
    from components.catalog import Catalog
    from components.spec import TrainingSpec
    from components.spec.pools import PoolFacts
    from components.spec.training import Quota, Team

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
# Kueue's ClusterQueue lists quota per resource in this order for every flavor.
COVERED = ("cpu", "memory", GPU_RESOURCE)
# Per-node EFA and RDMA devices follow the GPUs onto the node: Kueue does not meter them (a
# resource neither covered by a ClusterQueue nor excluded would make every such job inadmissible).
UNMETERED_PREFIXES = ("vpc.amazonaws.com/", f"{RDMA_RESOURCE_PREFIX}/")
# Workers per Kueue controller, as the kueue chart 0.19.2 sets them in its default manager
# configuration (kubernetes-sigs/kueue v0.19.2 charts/kueue/values.yaml).
KUEUE_CONCURRENCY = {"Job.batch": 5, "Pod": 5, "Workload.kueue.x-k8s.io": 10, "LocalQueue.kueue.x-k8s.io": 5,
                     "ClusterQueue.kueue.x-k8s.io": 5, "ResourceFlavor.kueue.x-k8s.io": 1}
# Kueue integrations for each operator (besides plain Jobs and Pods, always on).
_FRAMEWORKS = {"jobset": ["jobset.x-k8s.io/jobset"], "trainer": ["trainer.kubeflow.org/trainjob"],
               "kuberay": ["ray.io/rayjob", "ray.io/raycluster"], "mpi": ["kubeflow.org/mpijob"]}


def _q(field: str, value: int) -> str:
    return f"{value}Gi" if field == "memory_gib" else str(value)


def resource_flavor(pool: "PoolFacts", topology_aware: bool = True) -> dict[str, Any]:
    """The pool as a Kueue flavor: admitted pods get its node selector and GPU toleration. The
    flavor is labelled with the pool's fabric (infiniband | roce | efa | tcp), so queues and
    people can tell which flavors cross an RDMA fabric."""
    spec: dict[str, Any] = {"nodeLabels": node_selector(pool), "tolerations": tolerations(pool)}
    levels = pool.topology_levels if topology_aware else None
    if levels:
        spec["topologyName"] = topology_name(levels)
    return {"apiVersion": KUEUE.api_version, "kind": "ResourceFlavor",
            "metadata": {"name": pool.name, "labels": {POOL_LABEL: pool.name, FABRIC_LABEL: pool.fabric}},
            "spec": spec}


def topologies(pools: "Iterable[PoolFacts]") -> list[dict[str, Any]]:
    """One Topology per distinct level list the pools use, sorted by name."""
    found = {topology_name(lv): lv for p in pools if (lv := p.topology_levels)}
    return [{"apiVersion": KUEUE.api_version, "kind": "Topology", "metadata": {"name": name},
             "spec": {"levels": [{"nodeLabel": label} for label in found[name]]}} for name in sorted(found)]


def _flavor_quotas(q: "Quota") -> dict[str, Any]:
    resources = []
    for name, field in zip(COVERED, ("cpu", "memory_gib", "gpus"), strict=True):
        entry: dict[str, Any] = {"name": name, "nominalQuota": _q(field, getattr(q, field))}
        limit = getattr(q.borrowing_limit, field) if q.borrowing_limit else None
        if limit is not None:
            entry["borrowingLimit"] = _q(field, limit)
        resources.append(entry)
    return {"name": q.pool, "resources": resources}


def cluster_queue(team: "Team") -> dict[str, Any]:
    """The team's quotas: one flavor per pool it has a quota on, in the order it lists them.
    Only the team's own namespace may point a LocalQueue at it."""
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team.name}},
        "queueingStrategy": "BestEffortFIFO",
        "preemption": {"reclaimWithinCohort": team.preemption.reclaim_within_cohort,
                       "withinClusterQueue": team.preemption.within_cluster_queue},
    }
    if team.quotas:
        spec["resourceGroups"] = [{"coveredResources": list(COVERED),
                                   "flavors": [_flavor_quotas(q) for q in team.quotas]}]
    if team.cohort:
        spec["cohortName"] = team.cohort
    return {"apiVersion": KUEUE.api_version, "kind": "ClusterQueue",
            "metadata": {"name": team.name, "labels": {TEAM_LABEL: team.name}}, "spec": spec}


def local_queue(team: "Team") -> dict[str, Any]:
    return {"apiVersion": KUEUE.api_version, "kind": "LocalQueue",
            "metadata": {"name": team.name, "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
            "spec": {"clusterQueue": team.name}}


def volcano_queue(team: "Team") -> dict[str, Any]:
    """A Volcano queue capped at the team's quotas summed over pools (Volcano has no flavors);
    a team without quotas gets an uncapped queue."""
    spec: dict[str, Any] = {"weight": 1, "reclaimable": True}
    if team.quotas:
        spec["capability"] = {"cpu": str(sum(q.cpu for q in team.quotas)),
                              "memory": f"{sum(q.memory_gib for q in team.quotas)}Gi",
                              GPU_RESOURCE: str(sum(q.gpus for q in team.quotas))}
    return {"apiVersion": VOLCANO.api_version, "kind": "Queue",
            "metadata": {"name": team.name, "labels": {TEAM_LABEL: team.name}}, "spec": spec}


def kueue_objects(tr: "TrainingSpec", pools: "Mapping[str, PoolFacts]") -> list[dict[str, Any]]:
    """Everything Kueue needs, cluster-scoped objects first: Topologies, ResourceFlavors,
    ClusterQueues, then the LocalQueues in the team namespaces."""
    kueue_teams = [t for t in tr.teams if t.scheduler == "kueue"]
    objs = topologies(pools.values()) if tr.topology_aware else []
    objs += [resource_flavor(p, tr.topology_aware) for p in pools.values()]
    objs += [cluster_queue(t) for t in kueue_teams]
    objs += [local_queue(t) for t in kueue_teams]
    return objs


# Requeues of one workload before Kueue deactivates it (spec.active=false): with the backoff
# above, about three hours of retrying (60+120+...+1920 s, then hourly). Field:
# waitForPodsReady.requeuingStrategy.backoffLimitCount, config.kueue.x-k8s.io/v1beta2 in
# kubernetes-sigs/kueue v0.19.2 apis/config/v1beta2/configuration_types.go.
REQUEUE_LIMIT = 8


def manager_config(tr: "TrainingSpec") -> dict[str, Any]:
    """Kueue's Configuration: gang admission (all pods Ready or requeue), only team
    namespaces managed, and a job there without a queue is held rather than run unmetered."""
    ops = tr.operators
    frameworks = ["batch/job", "pod"] + [f for op, fs in _FRAMEWORKS.items() if getattr(ops, op) for f in fs]
    return {
        "apiVersion": KUEUE_CONFIG.api_version, "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        # Kept from the chart's default string, which this configuration replaces whole: without
        # groupKindConcurrency every Kueue controller runs a single worker.
        "controller": {"groupKindConcurrency": dict(KUEUE_CONCURRENCY)},
        "clientConnection": {"qps": 300, "burst": 500},
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]},
        "waitForPodsReady": {"timeout": f"{tr.pods_ready_timeout_seconds}s", "blockAdmission": True,
                             # A gang that lost pods (a node failed) and cannot get them back within
                             # the timeout (recoveryTimeout defaults to it) is suspended, gives its
                             # quota back and is requeued after 60 s, 120 s, ... at most an hour
                             # apart; after REQUEUE_LIMIT requeues it is deactivated for a person.
                             "requeuingStrategy": {"timestamp": "Eviction", "backoffBaseSeconds": 60,
                                                   "backoffMaxSeconds": 3600,
                                                   "backoffLimitCount": REQUEUE_LIMIT}},
        "integrations": {"frameworks": frameworks},
        "resources": {"excludeResourcePrefixes": list(UNMETERED_PREFIXES)},
    }


def kueue_values(tr: "TrainingSpec", cat: "Catalog | None" = None) -> dict[str, Any]:
    """Helm values of the kueue chart: the controller image pinned to the chart's own release
    (chart and app versions move together) and the manager configuration above."""
    cat = cat or catalog()
    version = cat.chart("kueue").version
    return {
        "controllerManager": {"replicas": 2, "manager": {"image": {
            "repository": "registry.k8s.io/kueue/kueue", "tag": f"v{version.lstrip('v')}", "pullPolicy": "IfNotPresent"}}},
        "managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(manager_config(tr), sort_keys=False)},
    }


def trainer_values() -> dict[str, Any]:
    """Kubeflow Trainer without its bundled JobSet (aidc installs the pinned JobSet chart) and
    with the torch runtime, which TrainJobs reference as `torch-distributed`."""
    return {"jobset": {"install": False}, "runtimes": {"torchDistributed": {"enabled": True}}}
