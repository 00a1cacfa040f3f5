"""Every name `aidc verify` shares with the components that create the objects it checks.

Each name is owned by another module (GPU pools, NVIDIA stack, storage, training, inference)
and imported from it; names fixed by the operators themselves are kept here. Accessors over
spec sections read attributes by name (`getattr`), so an absent section has no checks."""

from __future__ import annotations

from typing import Any

# Read by the checks as names.GPU_TAINT, names.POOL_LABEL, names.workload_name, names.object_labels.
from components.inference.objects import workload_name  # noqa: F401
from components.observability.values import object_labels  # noqa: F401
from components.vocabulary import (  # noqa: F401
    DEVICE_PLUGIN_DEPLOY_LABEL,
    EFA_RESOURCE,
    GPU_RESOURCE,
    GPU_TAINT,
    INSTANCE_TYPE_WELL_KNOWN,
    KUEUE,
    LUSTRE_CLAIM,
    MODELS_CLAIM,
    POOL_LABEL,
)

# Bottlerocket's NVIDIA variant runs its own device plugin; the operator's skips such nodes.
OPERATOR_DEVICE_PLUGIN_OFF = (DEVICE_PLUGIN_DEPLOY_LABEL, "false")


# The operator that serves each custom resource the checks and the acceptance job use, by
# "plural.group" or by group: a 404 on the kind means it is not installed.
OPERATORS = {
    "mpijobs.kubeflow.org": "MPI operator", "trainjobs.trainer.kubeflow.org": "Kubeflow Trainer",
    "pytorchjobs.kubeflow.org": "Kubeflow Training Operator", "kueue.x-k8s.io": "Kueue",
    "jobset.x-k8s.io": "JobSet", "nvidia.com": "NVIDIA GPU Operator", "serving.kserve.io": "KServe",
    "leaderworkerset.x-k8s.io": "LeaderWorkerSet", "scheduling.volcano.sh": "Volcano", "keda.sh": "KEDA",
}


# --- NVIDIA stack (catalog charts; object names fixed by the GPU Operator and the EFA chart) --
GPU_OPERATOR_CHART = "gpu-operator"
EFA_PLUGIN_CHART = "aws-efa-k8s-device-plugin"
CLUSTER_POLICY = ("nvidia.com", "v1", "clusterpolicies")
# DaemonSets the GPU Operator creates in its own namespace (names are the operator's, not ours).
DEVICE_PLUGIN_DAEMONSET = "nvidia-device-plugin-daemonset"
DCGM_EXPORTER_DAEMONSET = "nvidia-dcgm-exporter"
# The EFA chart names its DaemonSet after the Helm release; its selector label is the chart's name.
EFA_PLUGIN_SELECTOR = ("app.kubernetes.io/name", "aws-efa-k8s-device-plugin")


def site_gpu_operator(spec: Any) -> bool:
    """The site runs the GPU Operator (aidc:nvidia.gpuOperator existing), in a namespace of its own."""
    return getattr(getattr(spec, "nvidia", None), "gpu_operator", "install") == "existing"


def dcgm_exporter_enabled(spec: Any) -> bool:
    nvidia = getattr(spec, "nvidia", None)
    return bool(getattr(nvidia, "dcgm_exporter", True))


# --- Storage (claim names from components/storage/volumes.py) -------------------------------
def storage_claims(storage: Any) -> list[tuple[str, str]]:
    """(namespace, claim) of every claim the storage section creates."""
    out = [(ns, LUSTRE_CLAIM) for ns in getattr(storage, "namespaces", ()) or ()]
    out += [(ns, MODELS_CLAIM) for ns in getattr(storage, "model_namespaces", ()) or ()]
    return out


# --- Training (components/training/queues.py: Kueue queues per team) -----------------------
KUEUE_GROUP, KUEUE_VERSION = KUEUE.group, KUEUE.version


def teams(training: Any) -> list[Any]:
    """Teams whose jobs queue through Kueue (a Volcano team has a Volcano Queue instead)."""
    return [t for t in getattr(training, "teams", ()) or () if t.scheduler == "kueue"]


def team_namespace(team: Any) -> str:
    # The training platform names the namespace, the ClusterQueue and the LocalQueue after the team.
    return team.name


def cluster_queue_name(team: Any) -> str:
    return team.name


def acceptance_team(training: Any, pool_name: str) -> Any | None:
    """The team an acceptance run goes through by default: one with a quota on the pool whose
    namespace admits the MPI workers (podSecurity baseline), else any team with a quota there."""
    with_quota = [t for t in teams(training) if any(q.pool == pool_name for q in getattr(t, "quotas", ()))]
    baseline = [t for t in with_quota if t.pod_security == "baseline"]
    return (baseline or with_quota or teams(training) or [None])[0]


# --- Inference (components/inference/objects.py) -----------------------------------------
KSERVE_GROUP, KSERVE_VERSION, KSERVE_PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
LWS_GROUP, LWS_VERSION, LWS_PLURAL = "leaderworkerset.x-k8s.io", "v1", "leaderworkersets"


def services(inference: Any) -> list[Any]:
    return list(getattr(inference, "services", ()) or ())


def kserve_enabled(inference: Any) -> bool:
    return bool(inference.kserve)


def multi_node(svc: Any) -> bool:
    """A model served across nodes runs as a LeaderWorkerSet, not a Deployment."""
    return svc.multi_node is not None


def service_namespace(inference: Any, svc: Any) -> str:
    return inference.namespace


def min_replicas(svc: Any) -> int:
    return svc.min_replicas  # 0 (scale to zero, dev) is a real minimum
