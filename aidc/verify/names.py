"""Every name `aidc verify` shares with the components that create the objects it checks.

Each name is owned by another module (GPU pools, NVIDIA stack, storage, training, inference).
When that module is present its own constant or function is used; the fallbacks below are
what the sibling branches are building, kept here, in one place, until they are merged.
Accessors over spec sections read attributes by name (`getattr`) so that a section that
does not exist in this build simply has no checks."""

from __future__ import annotations

from typing import Any

# --- GPU pools (components/gpu_pool/nodes.py) --------------------------------------------
try:
    from components.gpu_pool.nodes import GPU_TAINT, POOL_LABEL, node_labels, node_taints
except ImportError:  # GPU compute branch not merged yet
    POOL_LABEL = "aidc.io/pool"
    GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    node_labels = None
    node_taints = None

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"  # set by the kubelet / cloud provider
GPU_RESOURCE = "nvidia.com/gpu"
EFA_RESOURCE = "vpc.amazonaws.com/efa"
# Bottlerocket's NVIDIA variant runs its own device plugin; the operator's skips such nodes.
OPERATOR_DEVICE_PLUGIN_OFF = ("nvidia.com/gpu.deploy.device-plugin", "false")


def expected_node_labels(pool: Any, cat: Any) -> dict[str, str]:
    """Labels every node of the pool must carry."""
    if node_labels is not None:
        return dict(node_labels(pool, cat))
    return {POOL_LABEL: pool.name, **dict(getattr(pool, "labels", {}) or {})}


def expected_taints(pool: Any) -> list[dict[str, str]]:
    if node_taints is not None:
        return [dict(t) for t in node_taints(pool)]
    return [dict(GPU_TAINT)]


# --- NVIDIA stack (catalog charts; object names fixed by the GPU Operator and the EFA chart) --
GPU_OPERATOR_CHART = "gpu-operator"
EFA_PLUGIN_CHART = "aws-efa-k8s-device-plugin"
CLUSTER_POLICY = ("nvidia.com", "v1", "clusterpolicies")
# DaemonSets the GPU Operator creates in its own namespace (names are the operator's, not ours).
DEVICE_PLUGIN_DAEMONSET = "nvidia-device-plugin-daemonset"
DCGM_EXPORTER_DAEMONSET = "nvidia-dcgm-exporter"
# The EFA chart names its DaemonSet after the Helm release; its selector label is the chart's name.
EFA_PLUGIN_SELECTOR = ("app.kubernetes.io/name", "aws-efa-k8s-device-plugin")


def dcgm_exporter_enabled(spec: Any) -> bool:
    nvidia = getattr(spec, "nvidia", None)
    return bool(getattr(nvidia, "dcgm_exporter", True))


# --- Storage (components/storage/volumes.py; the training tenancy repeats them) ---------------
try:
    from components.storage.volumes import LUSTRE_CLAIM, MODELS_CLAIM
except ImportError:
    try:
        from components.training.tenancy import LUSTRE_CLAIM, MODELS_CLAIM
    except ImportError:  # neither storage nor training merged yet
        LUSTRE_CLAIM = "shared-lustre"
        MODELS_CLAIM = "models"


def storage_claims(storage: Any) -> list[tuple[str, str]]:
    """(namespace, claim) of every claim the storage section creates."""
    out = [(ns, LUSTRE_CLAIM) for ns in getattr(storage, "namespaces", ()) or ()]
    out += [(ns, MODELS_CLAIM) for ns in getattr(storage, "model_namespaces", ()) or ()]
    return out


# --- Training (components/training/queues.py: Kueue queues per team) -----------------------
try:
    from components.training.queues import KUEUE_API
except ImportError:  # training branch not merged yet
    KUEUE_API = "kueue.x-k8s.io/v1beta2"
KUEUE_GROUP, KUEUE_VERSION = KUEUE_API.split("/")


def teams(training: Any) -> list[Any]:
    """Teams whose jobs queue through Kueue (a Volcano team has a Volcano Queue instead)."""
    found = getattr(training, "teams", ()) or ()
    found = list(found.values()) if isinstance(found, dict) else list(found)
    return [t for t in found if getattr(t, "scheduler", "kueue") == "kueue"]


def team_namespace(team: Any) -> str:
    # The training platform names the namespace, the ClusterQueue and the LocalQueue after the team.
    return getattr(team, "namespace", None) or team.name


def cluster_queue_name(team: Any) -> str:
    return getattr(team, "cluster_queue", None) or team.name


def acceptance_team(training: Any, pool_name: str) -> Any | None:
    """The team an acceptance run goes through by default: one with a quota on the pool whose
    namespace admits the MPI workers (podSecurity baseline), else any team with a quota there."""
    with_quota = [t for t in teams(training) if any(q.pool == pool_name for q in getattr(t, "quotas", ()))]
    baseline = [t for t in with_quota if getattr(t, "pod_security", "restricted") == "baseline"]
    return (baseline or with_quota or teams(training) or [None])[0]


# --- Inference (components/inference/objects.py) -----------------------------------------
KSERVE_GROUP, KSERVE_VERSION, KSERVE_PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
LWS_GROUP, LWS_VERSION, LWS_PLURAL = "leaderworkerset.x-k8s.io", "v1", "leaderworkersets"
DEFAULT_INFERENCE_NAMESPACE = "inference"
try:
    from components.inference.objects import workload_name
except ImportError:  # inference branch not merged yet
    def workload_name(svc: Any, kserve: bool) -> str:
        # KServe's raw (Standard) deployment mode names the predictor's Deployment `<isvc>-predictor`.
        return f"{svc.name}-predictor" if kserve else svc.name


def services(inference: Any) -> list[Any]:
    found = getattr(inference, "services", ()) or ()
    return list(found.values()) if isinstance(found, dict) else list(found)


def kserve_enabled(inference: Any) -> bool:
    ks = getattr(inference, "kserve", False)
    return bool(getattr(ks, "enabled", ks)) if ks is not None else False


def multi_node(svc: Any) -> bool:
    """A model served across nodes runs as a LeaderWorkerSet, not a Deployment."""
    return getattr(svc, "multi_node", None) is not None


def service_namespace(inference: Any, svc: Any) -> str:
    return (getattr(svc, "namespace", None) or getattr(inference, "namespace", None)
            or DEFAULT_INFERENCE_NAMESPACE)


def min_replicas(svc: Any) -> int:
    value = getattr(svc, "min_replicas", None)
    return 1 if value is None else int(value)  # 0 (scale to zero, dev) is a real minimum
