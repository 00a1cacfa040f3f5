"""Job templates for a stack: a distributed PyTorch JobSet and an NCCL all-reduce acceptance
MPIJob, shaped by the resolved pool (GPUs, EFA or InfiniBand/RoCE devices, GPUDirect RDMA,
expected bus bandwidth) and routed through the team's Kueue LocalQueue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.catalog import catalog
from components.kube import render_text
from components.suggest import unknown
from components.vocabulary import (
    ACCEPTED_LABEL,
    EFA_RESOURCE,
    GPU_RESOURCE,
    LUSTRE_CLAIM,
    MODELS_CLAIM,
    TEAM_LABEL,
    WORKLOAD_UID,
)

from .pools import closest_level, node_selector, tolerations
from .queues import QUEUE_LABEL
from .tenancy import SERVICE_ACCOUNT, quota_ceiling

if TYPE_CHECKING:
    from components.catalog import Catalog, Instance
    from components.spec import Spec
    from components.spec.pools import PoolFacts

TEMPLATES = {"pytorch": "training/pytorch-jobset.yaml.j2", "nccl-tests": "training/nccl-tests-mpijob.yaml.j2"}
# The operator each template's kind needs.
NEEDS = {"pytorch": "jobset", "nccl-tests": "mpi"}
_NODE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Variables the templates set for the job to work at all: not the user's to change.
_RESERVED_ENV = {"JOB_COMPLETION_INDEX": "the rank of the node", "HOME": "a writable home for a non-root user",
                 "AIDC_CHECKPOINT_DIR": "the job's checkpoint directory, which restarts resume from"}
# Large-message floor of the acceptance run: rows of at least this many bytes are judged.
JUDGED_BYTES = 1 << 30
# Gang restarts (node lost or rank failed) before a JobSet gives up; each resumes from the newest
# complete checkpoint. Bounded so a job on a fault that follows it (bad data, a bug) stops.
DEFAULT_MAX_RESTARTS = 3
# Where the pods mount the shared Lustre claim (k8s/training/pytorch-jobset.yaml.j2).
LUSTRE_MOUNT = "/lustre"


class JobError(ValueError):
    """Bad job request: `field` is the CLI option at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def fabric_env(instance: "Instance", efa: bool) -> list[dict[str, str]]:
    """NCCL over libfabric's EFA provider; empty for a pool without EFA (NCCL then uses TCP
    sockets and needs no settings)."""
    if not efa:
        return []
    env = [
        ("FI_PROVIDER", "efa"),
        # libfabric must stay usable after Python forks dataloader workers.
        ("FI_EFA_FORK_SAFE", "1"),
        # Pods get no preallocated huge pages; libfabric falls back to regular pages.
        ("FI_EFA_USE_HUGE_PAGE", "0"),
    ]
    if instance.gpudirect_rdma:
        # GPU memory registered directly with the EFA device (p4d and newer).
        env.append(("FI_EFA_USE_DEVICE_RDMA", "1"))
    env += [
        # Bootstrap traffic over the pod interface, never loopback or bridges.
        ("NCCL_SOCKET_IFNAME", "^lo,docker,veth"),
        # INFO prints "NET/OFI Selected provider is efa": proof the fabric is in use.
        ("NCCL_DEBUG", "INFO"),
        ("NCCL_DEBUG_SUBSYS", "INIT,NET"),
    ]
    return [{"name": k, "value": v} for k, v in env]


# NCCL's own defaults, spelled out where the site gave no names: every mlx5 HCA (a prefix
# match), bootstrap over any interface but loopback and container bridges, and for RoCE the
# GID index that is RoCE v2 over IPv4 on a default Linux GID table (NCCL docs, NCCL_IB_GID_INDEX).
DEFAULT_HCAS = "mlx5"
DEFAULT_SOCKET_IFNAME = "^lo,docker,veth"
DEFAULT_ROCE_GID_INDEX = 3


def rdma_env(pool: "PoolFacts") -> list[dict[str, str]]:
    """NCCL over InfiniBand or RoCE verbs (the Network Operator's RDMA devices in the pod)."""
    nics = pool.spec.nics
    env = [
        # NCCL's own InfiniBand/RoCE transport, not a network plugin the image may carry (the
        # catalog's nccl-tests image bundles aws-ofi-nccl for EFA).
        ("NCCL_NET", "IB"),
        # `=` makes NCCL match the names exactly; the default is a prefix match.
        ("NCCL_IB_HCA", "=" + ",".join(nics.hcas) if nics.hcas else DEFAULT_HCAS),
        ("NCCL_SOCKET_IFNAME", nics.socket_interface or DEFAULT_SOCKET_IFNAME),
    ]
    if pool.fabric == "roce":
        gid = nics.gid_index if nics.gid_index is not None else DEFAULT_ROCE_GID_INDEX
        env.append(("NCCL_IB_GID_INDEX", str(gid)))
    if not pool.gpudirect_rdma:
        # GPU memory cannot be registered with the NIC: stage through host memory.
        env.append(("NCCL_NET_GDR_LEVEL", "LOC"))
    env += [
        # INFO prints "NET/IB : Using [0]mlx5_0:1/IB ...": proof the fabric is in use.
        ("NCCL_DEBUG", "INFO"),
        ("NCCL_DEBUG_SUBSYS", "INIT,NET"),
    ]
    return [{"name": k, "value": v} for k, v in env]


def pool_env(pool: "PoolFacts") -> list[dict[str, str]]:
    """The fabric environment of a pool: EFA, InfiniBand/RoCE, or none (NCCL over TCP sockets)."""
    if pool.rdma:
        return rdma_env(pool)
    return fabric_env(pool.instance, pool.efa_devices > 0)


def pod_resources(instance: "Instance") -> tuple[int, int]:
    """(cpu cores, memory GiB) one rank-per-node pod requests: 90% of the vCPUs and 85% of
    the memory, leaving room for kubelet reservations and the node agents (GPU operator,
    EFA plugin, CSI drivers, exporters)."""
    return int(instance.vcpu * 0.9), int(instance.memory_gib * 0.85)


@dataclass(frozen=True)
class JobRequest:
    stack: str
    pool: str
    team: str
    nodes: int
    template: str = "pytorch"
    image: str | None = None
    name: str | None = None
    max_restarts: int = DEFAULT_MAX_RESTARTS
    on_nodes: tuple[str, ...] = ()  # nccl-tests: run on exactly these nodes (a repaired node and peers)
    accepted_only: bool = False  # pytorch: only nodes labelled ACCEPTED_LABEL=true
    # What torchrun runs on every node instead of the smoke test: the script, then its arguments.
    command: tuple[str, ...] = ()
    # Extra environment (NAME, VALUE) for every pod; a NAME aidc sets (NCCL_DEBUG, ...) is replaced.
    env: tuple[tuple[str, str], ...] = ()


def _team_ceiling_gpus(spec: "Spec", team_name: str, pool_name: str) -> int:
    team = spec.training.team(team_name)  # type: ignore[union-attr]
    cap = spec.pools[pool_name].max_gpus
    return sum(quota_ceiling(team, q, "gpus", cap) for q in team.quotas if q.pool == pool_name)


def check(spec: "Spec", req: JobRequest) -> None:
    """Every reason the job could never run, as a JobError naming the option."""
    tr = spec.training
    if tr is None:
        raise JobError("stack", f"stack {req.stack} has no aidc:training section")
    if req.template not in TEMPLATES:
        raise JobError("--template", unknown("template", req.template, TEMPLATES))
    if not getattr(tr.operators, NEEDS[req.template]):
        raise JobError("--template", f"{req.template} needs aidc:training.operators.{NEEDS[req.template]}: true")
    pools = {p.name: p for p in spec.gpu_pools}
    if req.pool not in pools:
        raise JobError("--pool", unknown("pool", req.pool, pools, empty=f"stack {req.stack} has no gpuPools"))
    teams = [t.name for t in tr.teams]
    if req.team not in teams:
        raise JobError("--team", unknown("team", req.team, teams, empty=f"stack {req.stack} has no training teams"))
    team, pool = tr.team(req.team), pools[req.pool]
    if team.scheduler != "kueue":
        raise JobError("--team", f"team {req.team} schedules with {team.scheduler}; these templates queue through Kueue")
    if req.nodes < 1:
        raise JobError("--nodes", "at least 1")
    if req.nodes > pool.size.max:
        raise JobError("--nodes", f"{req.nodes} nodes, but pool {req.pool} holds at most {pool.size.max}")
    if req.template == "nccl-tests":
        if req.nodes < 2:
            raise JobError("--nodes", "an acceptance run crosses the fabric: at least 2 nodes")
        if team.pod_security != "baseline":
            raise JobError("--team", f"nccl-tests workers run sshd as root (MPI operator); team {req.team}'s namespace "
                                     "enforces restricted. Use a team with podSecurity: baseline")
    gpus = req.nodes * spec.pools[req.pool].gpus_per_node
    if not any(q.pool == req.pool for q in team.quotas):
        raise JobError("--pool", f"team {req.team} has no quota on pool {req.pool}: Kueue would never admit the job")
    most = _team_ceiling_gpus(spec, req.team, req.pool)
    if gpus > most:
        raise JobError("--nodes", f"{gpus} GPUs on {req.pool}, but team {req.team} can be admitted at most {most} there "
                                  "(nominal quota plus borrowing)")
    if req.on_nodes:
        if req.template != "nccl-tests":
            raise JobError("--on-node", "only the nccl-tests acceptance job is placed on named nodes")
        bad = [n for n in req.on_nodes if not _NODE.match(n)]
        if bad:
            raise JobError("--on-node", f"not a node name: {', '.join(bad)}")
        if len(set(req.on_nodes)) != len(req.on_nodes) or len(req.on_nodes) != req.nodes:
            raise JobError("--on-node", f"{len(set(req.on_nodes))} distinct nodes named, --nodes is {req.nodes}: "
                                        "name each node once, as many as --nodes")
    if req.accepted_only and req.template != "pytorch":
        raise JobError("--accepted-only", "gates training jobs (pytorch); the acceptance job is what sets the label")
    if not 0 <= req.max_restarts <= 100:
        raise JobError("--max-restarts", f"{req.max_restarts}: between 0 and 100")
    if req.command and req.template != "pytorch":
        raise JobError("--command", f"the {req.template} template runs its own program; --command is for pytorch")
    for key, _ in req.env:
        if not _ENV_NAME.match(key):
            raise JobError("--env", f"{key!r} is not an environment variable name (letters, digits and '_', "
                                    "not beginning with a digit)")
        if key in _RESERVED_ENV:
            raise JobError("--env", f"{key} is set by the job itself ({_RESERVED_ENV[key]})")
    if req.name is not None and not _NAME.match(req.name):
        raise JobError("--name", f"{req.name!r}: lowercase letters, digits and '-', at most 40 characters")


def checkpoint_dir(spec: "Spec", team: str, job: str) -> str | None:
    """The job's checkpoint directory on the team's shared claim (on Lustre, under the stack's
    checkpoints path, which exports to the versioned checkpoints bucket), per team and job;
    None when the team mounts no shared storage."""
    st = spec.storage
    if st is None or team not in set(st.namespaces):
        return None
    base = (st.lustre.checkpoints_path if st.lustre is not None else None) or "/checkpoints"
    return f"{LUSTRE_MOUNT}{base.rstrip('/')}/{team}/{job}"


def context(spec: "Spec", req: JobRequest, cat: "Catalog | None" = None) -> dict[str, Any]:
    """Everything a job template needs, from the spec and the catalog alone."""
    cat = cat or catalog()
    pool = spec.pools[req.pool]
    inst = pool.instance
    cpu, mem = pod_resources(inst)
    levels = pool.topology_levels if spec.training and spec.training.topology_aware else None
    image = req.image or cat.image("pytorch" if req.template == "pytorch" else "nccl-tests")
    lustre_ns = set(spec.storage.namespaces) if spec.storage else set()
    models_ns = set(spec.storage.model_namespaces) if spec.storage else set()
    name = req.name or f"{req.template}-{req.pool}"[:40].rstrip("-")
    return {
        "name": name, "max_restarts": req.max_restarts, "checkpoint_dir": checkpoint_dir(spec, req.team, name),
        "on_nodes": list(req.on_nodes), "accepted_only": req.accepted_only, "accepted_label": ACCEPTED_LABEL,
        "stack": req.stack, "team": req.team, "pool": req.pool, "instance_type": pool.instance_type,
        "nodes": req.nodes, "gpus_per_node": pool.gpus_per_node, "ranks": req.nodes * pool.gpus_per_node,
        "efa_devices": pool.efa_devices,
        "env": _merged_env(pool_env(pool), req.env), "image": image, "fabric": pool.fabric,
        "rdma_resource": pool.rdma_resource, "rdma_devices": pool.rdma_devices, "command": list(req.command),
        "cpu": cpu, "memory_gib": mem, "shm_gib": max(1, mem // 4),
        "node_selector": node_selector(pool), "tolerations": tolerations(pool),
        "topology_level": closest_level(levels) if levels else None,
        "queue_label": QUEUE_LABEL, "team_label": TEAM_LABEL, "queue": req.team,
        "gpu_resource": GPU_RESOURCE, "efa_resource": EFA_RESOURCE, "service_account": SERVICE_ACCOUNT,
        "lustre_claim": LUSTRE_CLAIM if req.team in lustre_ns else None,
        "models_claim": MODELS_CLAIM if req.team in models_ns else None,
        "min_busbw_gbps": pool.nccl_floor_gbps, "judged_bytes": JUDGED_BYTES, "uid": WORKLOAD_UID,
    }


def _merged_env(own: list[dict[str, str]], extra: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    """The pool's fabric settings with the user's variables: a name given twice keeps the user's value."""
    given = dict(extra)
    return [{"name": e["name"], "value": given.pop(e["name"], e["value"])} for e in own] + \
        [{"name": k, "value": v} for k, v in given.items()]


def render_job(spec: "Spec", req: JobRequest, cat: "Catalog | None" = None) -> str:
    """The job as YAML text a user can `kubectl apply -f -`."""
    check(spec, req)
    return render_text(TEMPLATES[req.template], **context(spec, req, cat))
