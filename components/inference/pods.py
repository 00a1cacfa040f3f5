"""The model-server pod of one service: scheduling on its pool, the engine's command line,
model volumes, probes sized for slow loads, and the restricted security context. Pure
functions: spec and catalog facts in, Kubernetes dicts out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.spec.inference import BYTES_PER_PARAM, GIB
from components.vocabulary import (
    GPU_RESOURCE,
    GPU_TOLERATION,
    HOSTNAME_LABEL,
    LUSTRE_CLAIM,
    MODELS_CLAIM,
    POOL_LABEL,
    WORKLOAD_UID,
    ZONE_LABEL,
)

if TYPE_CHECKING:
    from components.spec import ServiceSpec

# Claims the storage component creates in the namespaces that ask for them
# (components/storage/volumes.py: MODELS_CLAIM, LUSTRE_CLAIM).
MODELS_MOUNT = "/models"
LUSTRE_MOUNT = "/fsx"
HTTP_PORT = 8000
TRITON_METRICS_PORT = 8002
RAY_PORT = 6379
UID = WORKLOAD_UID
# The hub token, mounted as a file (never an environment variable: those leak through
# /proc/<pid>/environ, crash dumps and `kubectl describe`). huggingface_hub reads the file
# HF_TOKEN_PATH names (huggingface/huggingface_hub v1.0.0, src/huggingface_hub/constants.py).
HUB_TOKEN_DIR = "/var/run/secrets/huggingface"
HUB_TOKEN_KEY = "token"
# Seconds the endpoint keeps the pod after SIGTERM is decided, so load balancers and
# kube-proxy stop sending new requests before the server stops accepting them.
PRESTOP_SECONDS = 20
# Longest request a replica is allowed to finish after SIGTERM (long generations).
DRAIN_SECONDS = 180


@dataclass(frozen=True)
class NodeShare:
    """What one GPU of the pool's instance type brings along: CPUs and memory."""

    vcpu_per_gpu: float
    memory_gib_per_gpu: float


def labels(svc: "ServiceSpec") -> dict[str, str]:
    return {**selector(svc), "app.kubernetes.io/managed-by": "aidc", "aidc.io/engine": svc.engine,
            POOL_LABEL: svc.pool}


def selector(svc: "ServiceSpec") -> dict[str, str]:
    return {"app.kubernetes.io/name": svc.name, "app.kubernetes.io/component": "model-server"}


def pool_scheduling(pool: str) -> dict[str, Any]:
    """Tolerate the GPU taint and require a node of the named pool (and nothing else)."""
    return {
        "tolerations": [dict(GPU_TOLERATION)],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": [pool]}]}]}}},
    }


def hub_secret_name(svc: "ServiceSpec") -> str:
    return f"{svc.name}-hub-token"


def model_path(svc: "ServiceSpec") -> str:
    src = svc.model
    if src.bucket is not None:
        return f"{MODELS_MOUNT}/{src.bucket.strip('/')}"
    if src.lustre is not None:
        return f"{LUSTRE_MOUNT}{src.lustre}"
    assert src.hub is not None
    return src.hub.id


def checkpoint_gib(svc: "ServiceSpec") -> float:
    """Size of the checkpoint read at start. fp8 is quantized on load from a 16-bit checkpoint
    (vLLM `--quantization fp8`), so it reads twice what it keeps; int8/int4 checkpoints come
    pre-quantized."""
    bytes_per_param = 2.0 if svc.precision == "fp8" else BYTES_PER_PARAM[svc.precision]
    return svc.model.params_b * 1e9 * bytes_per_param / GIB


def startup_seconds(svc: "ServiceSpec") -> int:
    """How long a replica may take to load: a fixed part (CUDA init, compile, CUDA graphs)
    plus the checkpoint at a pessimistic rate (hub downloads are slower than a mounted bucket)."""
    per_gib = 20 if svc.model.hub is not None else 8
    total = 300 + checkpoint_gib(svc) * per_gib * (1.5 if svc.multi_node else 1)
    return min(3600, int(math.ceil(total / 60) * 60))


def _dtype_args(svc: "ServiceSpec") -> list[str]:
    # int8/int4/mxfp4 come as pre-quantized checkpoints (AWQ, GPTQ, compressed-tensors, gpt-oss's
    # MXFP4): vLLM reads the method from the checkpoint's config, so no flag is passed.
    return {"bf16": ["--dtype", "bfloat16"], "fp16": ["--dtype", "float16"],
            "fp8": ["--quantization", "fp8"]}.get(svc.precision, [])


def vllm_args(svc: "ServiceSpec") -> list[str]:
    """`vllm serve` arguments: the model, the OpenAI endpoint, parallelism and precision."""
    args = [model_path(svc), "--host", "0.0.0.0", "--port", str(HTTP_PORT),
            "--served-model-name", svc.served_name,
            "--tensor-parallel-size", str(svc.tensor_parallel),
            "--gpu-memory-utilization", f"{svc.gpu_memory_utilization:g}",
            *_dtype_args(svc)]
    if svc.multi_node is not None:
        args += ["--pipeline-parallel-size", str(svc.multi_node.nodes), "--distributed-executor-backend", "ray"]
    if svc.max_model_len is not None:
        args += ["--max-model-len", str(svc.max_model_len)]
    # Both enter the stack's memory fit: the server must run with what was checked.
    if svc.max_num_seqs is not None:
        args += ["--max-num-seqs", str(svc.max_num_seqs)]
    if svc.kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", svc.kv_cache_dtype]
    if svc.model.hub is not None and svc.model.hub.revision:
        args += ["--revision", svc.model.hub.revision]
    return args + list(svc.extra_args)  # the stack's own, none of the flags above (VLLM_FLAGS)


def triton_args(svc: "ServiceSpec") -> list[str]:
    # Tensor parallelism of a Triton model is baked into its repository (TensorRT-LLM
    # engines); the pod only has to bring the GPUs.
    return [f"--model-repository={model_path(svc)}", f"--http-port={HTTP_PORT}", "--grpc-port=8001",
            f"--metrics-port={TRITON_METRICS_PORT}", "--exit-on-error=true"]


def _leader_script(svc: "ServiceSpec") -> str:
    assert svc.multi_node is not None
    n, tp = svc.multi_node.nodes, svc.tensor_parallel
    serve = " ".join(["vllm", "serve", *[_quote(a) for a in vllm_args(svc)]])
    wait = ("import ray, time; ray.init(address='auto'); "
            f"exec(\"while sum(1 for x in ray.nodes() if x['Alive']) < {n}: time.sleep(5)\")")
    return (f"ray start --head --port={RAY_PORT} --num-gpus={tp} --dashboard-host=127.0.0.1 && "
            f"python3 -c \"{wait}\" && exec {serve}")


def _quote(arg: str) -> str:
    return arg if arg.replace("-", "").replace(".", "").replace("/", "").replace("_", "").isalnum() else f"'{arg}'"


def command(svc: "ServiceSpec", role: str = "single") -> tuple[list[str], list[str]]:
    """(command, args) of the container: a plain server, or a Ray leader/worker of a group."""
    if svc.engine == "triton":
        return ["tritonserver"], triton_args(svc)
    if role == "leader":
        return ["/bin/sh", "-c"], [_leader_script(svc)]
    if role == "worker":
        return ["/bin/sh", "-c"], [f"exec ray start --address=$(LWS_LEADER_ADDRESS):{RAY_PORT} "
                                   f"--num-gpus={svc.tensor_parallel} --block"]
    return ["vllm", "serve"], vllm_args(svc)


def env(svc: "ServiceSpec") -> list[dict[str, Any]]:
    """Every cache the engine writes goes under /cache (an emptyDir): the root file system
    stays read-only and the pod runs as an unprivileged user."""
    out: list[dict[str, Any]] = [
        {"name": "HOME", "value": "/cache"},
        {"name": "XDG_CACHE_HOME", "value": "/cache"},
        {"name": "HF_HOME", "value": "/cache/huggingface"},
        {"name": "VLLM_CACHE_ROOT", "value": "/cache/vllm"},
        {"name": "TRITON_CACHE_DIR", "value": "/cache/triton"},
        {"name": "TORCHINDUCTOR_CACHE_DIR", "value": "/cache/inductor"},
        {"name": "NUMBA_CACHE_DIR", "value": "/cache/numba"},
        {"name": "TMPDIR", "value": "/tmp"},
        {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
        {"name": "DO_NOT_TRACK", "value": "1"},
    ]
    hub = svc.model.hub
    if hub is None:
        out.append({"name": "HF_HUB_OFFLINE", "value": "1"})  # weights are local; never reach for a hub
    elif hub.token_secret:
        out.append({"name": "HF_TOKEN_PATH", "value": f"{HUB_TOKEN_DIR}/{HUB_TOKEN_KEY}"})
    return out


def volumes(svc: "ServiceSpec") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pod volumes, container mounts): writable scratch, shared memory for NCCL, the model."""
    cache_gib = int(checkpoint_gib(svc) * 1.1) + 20 if svc.model.hub is not None else 20
    shm_gib = 16 if svc.gpus_per_replica > 1 else 2
    vols: list[dict[str, Any]] = [
        {"name": "cache", "emptyDir": {"sizeLimit": f"{cache_gib}Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_gib}Gi"}},
    ]
    mounts: list[dict[str, Any]] = [{"name": "cache", "mountPath": "/cache"}, {"name": "tmp", "mountPath": "/tmp"},
                                    {"name": "shm", "mountPath": "/dev/shm"}]
    if svc.model.bucket is not None:
        vols.append({"name": "models", "persistentVolumeClaim": {"claimName": MODELS_CLAIM, "readOnly": True}})
        mounts.append({"name": "models", "mountPath": MODELS_MOUNT, "readOnly": True})
    elif svc.model.lustre is not None:
        vols.append({"name": "lustre", "persistentVolumeClaim": {"claimName": LUSTRE_CLAIM, "readOnly": True}})
        mounts.append({"name": "lustre", "mountPath": LUSTRE_MOUNT, "readOnly": True})
    if svc.model.hub is not None and svc.model.hub.token_secret:
        # Readable by the pod's group only (fsGroup), never written.
        vols.append({"name": "hub-token", "secret": {"secretName": hub_secret_name(svc), "defaultMode": 0o440,
                                                     "items": [{"key": HUB_TOKEN_KEY, "path": HUB_TOKEN_KEY}]}})
        mounts.append({"name": "hub-token", "mountPath": HUB_TOKEN_DIR, "readOnly": True})
    return vols, mounts


def probes(svc: "ServiceSpec") -> dict[str, Any]:
    """A startup probe that waits as long as the model takes to load, then readiness (take the
    replica out of the Service when it stops answering) and a patient liveness probe."""
    ready, live = ("/v2/health/ready", "/v2/health/live") if svc.engine == "triton" else ("/health", "/health")
    period = 10
    return {
        "startupProbe": {"httpGet": {"path": ready, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 5,
                         "failureThreshold": startup_seconds(svc) // period},
        "readinessProbe": {"httpGet": {"path": ready, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 5,
                           "failureThreshold": 3, "successThreshold": 1},
        "livenessProbe": {"httpGet": {"path": live, "port": "http"}, "periodSeconds": 15, "timeoutSeconds": 10,
                          "failureThreshold": 6},
    }


def resources(svc: "ServiceSpec", share: NodeShare) -> dict[str, Any]:
    """GPUs = tensor-parallel degree, requests equal to limits; CPU and memory in proportion
    to the GPUs taken, leaving a quarter of the node for system pods and page cache."""
    gpus = str(svc.tensor_parallel)
    cpu = max(2, int(share.vcpu_per_gpu * svc.tensor_parallel * 0.75))
    mem = max(8, int(share.memory_gib_per_gpu * svc.tensor_parallel * 0.75))
    return {"requests": {GPU_RESOURCE: gpus, "cpu": str(cpu), "memory": f"{mem}Gi"},
            "limits": {GPU_RESOURCE: gpus, "memory": f"{mem}Gi"}}


def container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": UID, "runAsGroup": UID, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container(svc: "ServiceSpec", image: str, share: NodeShare, role: str = "single",
              name: str = "server") -> dict[str, Any]:
    cmd, args = command(svc, role)
    _, mounts = volumes(svc)
    ports = [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}]
    if svc.engine == "triton":
        ports += [{"name": "grpc", "containerPort": 8001, "protocol": "TCP"},
                  {"name": "metrics", "containerPort": TRITON_METRICS_PORT, "protocol": "TCP"}]
    if role in ("leader", "worker"):
        ports = ports if role == "leader" else []
        ports.append({"name": "ray", "containerPort": RAY_PORT, "protocol": "TCP"})
    out: dict[str, Any] = {
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": cmd, "args": args,
        "env": env(svc), "ports": ports, "resources": resources(svc, share), "volumeMounts": mounts,
        "securityContext": container_security(),
    }
    if role != "worker":
        out.update(probes(svc))
        out["lifecycle"] = {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}}
    return out


def spread(svc: "ServiceSpec", match: dict[str, str], zones: bool) -> list[dict[str, Any]]:
    """Replicas of a multi-replica server on different nodes, so one node drain or failure
    costs at most one replica, which is exactly what the PodDisruptionBudget allows
    (minAvailable = minReplicas - 1). `minDomains` = minReplicas makes the scheduler (and
    Karpenter, which simulates it) place the first minReplicas replicas on distinct nodes
    even while fewer nodes exist. Across zones as well where the pool spans zones, as a
    preference: GPU capacity is not always there in every zone."""
    if svc.max_replicas < 2:
        return []
    out: list[dict[str, Any]] = [{
        "maxSkew": 1, "topologyKey": HOSTNAME_LABEL, "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": dict(match)}, "minDomains": max(2, svc.min_replicas)}]
    if zones:
        out.append({"maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": dict(match)}})
    return out


def pod_spec(svc: "ServiceSpec", image: str, share: NodeShare, role: str = "single",
             container_name: str = "server", spread_over: dict[str, str] | None = None,
             zones: bool = False) -> dict[str, Any]:
    """`spread_over`: the labels of the pods to spread apart (None: no spread, e.g. the
    workers of one multi-node group, which already take a node each)."""
    vols, _ = volumes(svc)
    constraints = spread(svc, spread_over, zones) if spread_over is not None else []
    return {
        **pool_scheduling(svc.pool),
        **({"topologySpreadConstraints": constraints} if constraints else {}),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "terminationGracePeriodSeconds": PRESTOP_SECONDS + DRAIN_SECONDS,
        "containers": [container(svc, image, share, role, container_name)],
        "volumes": vols,
    }
