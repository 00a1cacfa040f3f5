"""`aidc:training`: the job operators a stack installs and the teams that share its GPU pools
(Kueue quotas per pool, cohorts, borrowing), each team in its own guarded namespace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from components.suggest import unknown

from .base import DNS_LABEL, NOTHING_UNPARSED, Cidr, Model, Problem, Unparsed

if TYPE_CHECKING:
    from .gpu_pools import GpuPoolSpec
    from .pools import PoolFacts

# Namespaces the platform itself uses: a team may not claim one.
RESERVED_NAMESPACES = frozenset({
    "default", "kube-system", "kube-public", "kube-node-lease", "kueue-system", "jobset-system",
    "kubeflow-system", "kuberay-system", "volcano-system", "mpi-operator", "gpu-operator", "karpenter",
    "monitoring", "cert-manager", "node-feature-discovery", "nvidia-network-operator",
})


class Operators(Model):
    """Which job operators to install. Kueue is the admission front of every queue aidc makes."""

    kueue: bool = True
    # JobSet: the distributed PyTorch job template renders a JobSet; Kubeflow Trainer builds on it.
    jobset: bool = True
    # Kubeflow Trainer v2 (TrainJob + ClusterTrainingRuntimes).
    trainer: bool = False
    kuberay: bool = False
    # MPI operator (MPIJob v2beta1): the NCCL acceptance job needs it.
    mpi: bool = False
    # Volcano: an alternative gang scheduler for teams with `scheduler: volcano`.
    volcano: bool = False


class Limits(Model):
    """Amounts beyond a team's nominal quota (borrowing from its cohort)."""

    gpus: int | None = Field(default=None, ge=0)
    cpu: int | None = Field(default=None, ge=0)
    memory_gib: int | None = Field(default=None, alias="memoryGiB", ge=0)


class Quota(Model):
    """A team's guaranteed share of one GPU pool."""

    pool: str
    gpus: int = Field(ge=0)
    cpu: int = Field(ge=0)  # cores
    memory_gib: int = Field(alias="memoryGiB", ge=0)
    # Omitted: the team may borrow everything its cohort leaves idle. Needs a cohort.
    borrowing_limit: Limits | None = None


class Preemption(Model):
    """Kueue ClusterQueue preemption: how a team gets its nominal quota back."""

    reclaim_within_cohort: Literal["Never", "LowerPriority", "Any"] = "Any"
    within_cluster_queue: Literal["Never", "LowerPriority", "LowerOrNewerEqualPriority"] = "LowerPriority"


class Team(Model):
    # Also the team's namespace, LocalQueue and ClusterQueue name.
    name: str = Field(pattern=DNS_LABEL, max_length=53)
    cohort: str | None = Field(default=None, pattern=DNS_LABEL)
    scheduler: Literal["kueue", "volcano"] = "kueue"
    # restricted everywhere; baseline only for a team that runs sshd as root (MPI acceptance runs).
    pod_security: Literal["restricted", "baseline"] = "restricted"
    preemption: Preemption = Preemption()
    quotas: tuple[Quota, ...] = ()
    # Pods are denied all traffic but their own namespace's, DNS and the Pod Identity agent;
    # these CIDRs are opened for HTTPS egress (S3, a model hub, ...).
    egress_cidrs: tuple[Cidr, ...] = ()


class TrainingSpec(Model):
    operators: Operators = Operators()
    teams: tuple[Team, ...] = ()
    # Kueue admits a gang only when all its pods can start; pods not Ready within this many
    # seconds release the quota and the workload is requeued.
    pods_ready_timeout_seconds: int = Field(default=600, ge=30, le=86400)
    # Kueue Topology + ResourceFlavor.topologyName for pools whose nodes carry EC2 topology labels.
    topology_aware: bool = True

    def team(self, name: str) -> Team:
        for t in self.teams:
            if t.name == name:
                return t
        raise KeyError(name)


_KEYS = {"gpus": "gpus", "cpu": "cpu", "memory_gib": "memoryGiB"}
_UNITS = {"gpus": "GPUs", "cpu": "vCPUs", "memory_gib": "GiB of memory"}


def _capacity_problems(tr: TrainingSpec, pools: Mapping[str, "PoolFacts"], path: str) -> Iterator[Problem]:
    """Nominal quotas are guarantees: over every team they must fit in what the pool can hold."""
    totals: dict[tuple[str, str], int] = {}
    for i, team in enumerate(tr.teams):
        for j, q in enumerate(team.quotas):
            pool = pools.get(q.pool)
            if pool is None:
                continue  # an unknown pool or instance type is reported where it is named
            cap = pool.max_resources
            for field, key in _KEYS.items():
                before = totals.get((q.pool, field), 0)
                total = totals[(q.pool, field)] = before + getattr(q, field)
                if before <= cap[field] < total:
                    yield Problem(f"{path}.teams[{i}].quotas[{j}].{key}",
                                  f"nominal quotas on pool {q.pool} add up to {total} {_UNITS[field]}, more than it "
                                  f"can ever hold: {cap[field]} (size.max {pool.max_nodes} x {pool.instance_type})")
                limit = getattr(q.borrowing_limit, field) if q.borrowing_limit else None
                if limit is not None and limit + getattr(q, field) > cap[field]:
                    yield Problem(f"{path}.teams[{i}].quotas[{j}].borrowingLimit.{key}",
                                  f"nominal + borrowing ({limit + getattr(q, field)}) exceeds pool {q.pool}'s "
                                  f"{cap[field]} {_UNITS[field]}")


def problems(tr: TrainingSpec, pools: tuple["GpuPoolSpec", ...], facts: Mapping[str, "PoolFacts"],
             path: str = "aidc:training", unparsed: Unparsed = NOTHING_UNPARSED) -> Iterator[Problem]:
    ops = tr.operators
    if ops.trainer and not ops.jobset:
        yield Problem(f"{path}.operators.trainer", "Kubeflow Trainer runs TrainJobs as JobSets: enable jobset too")
    by_name = {p.name: p for p in pools}
    seen: dict[str, int] = {}
    for i, team in enumerate(tr.teams):
        at = f"{path}.teams[{i}]"
        if team.name in seen:
            yield Problem(f"{at}.name", f"{team.name!r} is already the name of teams[{seen[team.name]}]")
        seen.setdefault(team.name, i)
        if team.name in RESERVED_NAMESPACES:
            yield Problem(f"{at}.name", f"{team.name!r} is a system or operator namespace")
        if team.scheduler == "kueue" and not ops.kueue:
            yield Problem(f"{at}.scheduler", "kueue is off (aidc:training.operators.kueue)")
        if team.scheduler == "volcano":
            if not ops.volcano:
                yield Problem(f"{at}.scheduler", "volcano is off (aidc:training.operators.volcano)")
            if team.cohort is not None:
                yield Problem(f"{at}.cohort", "cohorts are a Kueue concept; a volcano team has none")
        pools_seen: dict[str, int] = {}
        for j, q in enumerate(team.quotas):
            qat = f"{at}.quotas[{j}]"
            if q.pool not in by_name:
                if unparsed.pool(q.pool):
                    continue  # the pool's own definition failed, and was reported
                yield Problem(f"{qat}.pool", unknown("GPU pool", q.pool, by_name, empty="this stack has no gpuPools"))
            elif q.pool in pools_seen:
                yield Problem(f"{qat}.pool", f"pool {q.pool!r} already has a quota in quotas[{pools_seen[q.pool]}]")
            pools_seen.setdefault(q.pool, j)
            if q.borrowing_limit is not None and team.cohort is None:
                yield Problem(f"{qat}.borrowingLimit", "borrowing needs a cohort to borrow from (set cohort)")
    yield from _capacity_problems(tr, facts, path)
