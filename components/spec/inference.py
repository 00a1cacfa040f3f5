"""`aidc:inference`: model servers, one entry per served model, on the GPU pools."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.catalog import Catalog
from components.formulas import memory

from .base import ABSOLUTE_PATH, DNS_LABEL, NOTHING_UNPARSED, Cidr, Model, Problem, Unparsed, rule
from .schedule import cron_error, timezone_error

if TYPE_CHECKING:
    from .root import Spec

_DNS_LABEL = rule(r"^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$",
                  "1-42 lowercase letters, digits or '-', beginning with a letter and ending with a letter or digit")
# A Secrets Manager secret: its ARN or its name. Never the token itself.
_SECRET_REF = rule(r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+|[A-Za-z0-9/_+=.@-]+)$",
                   "a Secrets Manager secret: its ARN, or its name (letters, digits and /_+=.@-)")
# Tokens of the common model hubs: a value that looks like one is a leaked credential.
_TOKEN_LIKE = re.compile(r"^(hf_[A-Za-z0-9]{20,}|ghp_|github_pat_|sk-)")

Precision = Literal["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]
BYTES_PER_PARAM = memory.WEIGHT_BYTES
GIB = memory.GIB
# vLLM rejects nothing shorter, but a server for fewer tokens than this is a mistake.
MIN_MAX_MODEL_LEN = 256


# The `vllm serve` flags aidc sets (components/inference/pods.py), each with the stack key that
# sets it: extraArgs may not give them again (vLLM would take the last, unchecked by the stack).
VLLM_FLAGS = {
    "--model": "model", "--host": "the server's endpoint", "--port": "the server's endpoint",
    "--served-model-name": "model.servedName", "--tensor-parallel-size": "tensorParallel",
    "--gpu-memory-utilization": "gpuMemoryUtilization", "--dtype": "precision", "--quantization": "precision",
    "--pipeline-parallel-size": "multiNode.nodes", "--distributed-executor-backend": "multiNode",
    "--max-model-len": "maxModelLen", "--max-num-seqs": "maxNumSeqs", "--kv-cache-dtype": "kvCacheDtype",
    "--revision": "model.hub.revision",
}


class HubModel(Model):
    # A model hub id such as meta-llama/Llama-3.1-8B-Instruct.
    id: str = Field(pattern=rule(r"^[\w.-]+/[\w.-]+$", "a model hub id: owner/name, such as Qwen/Qwen2.5-1.5B-Instruct"))
    # AWS Secrets Manager secret (ARN or name) whose value is the hub token; gated models need it.
    token_secret: str | None = Field(default=None, pattern=_SECRET_REF)
    # An exact revision (commit) so a rollout never picks up new weights by surprise.
    revision: str | None = Field(default=None, pattern=rule(r"^[0-9a-f]{7,40}$", "a commit: 7-40 lowercase hex digits"))


class Architecture(Model):
    """The attention shape that sets the KV cache per token (the model's config.json:
    num_hidden_layers, num_key_value_heads, head_dim). With it and maxModelLen, memory fit
    counts the exact KV cache; `aidc size serve --emit-stack` writes it."""

    layers: int = Field(ge=1, le=1024)
    kv_heads: int = Field(ge=1, le=1024)
    head_dim: int = Field(ge=1, le=4096)
    # Multi-head latent attention (DeepSeek): the cached latent per layer and token
    # (kv_lora_rank + qk_rope_head_dim); it replaces K and V per head in the KV cache.
    kv_latent_dim: int | None = Field(default=None, ge=1, le=65536)

    def attention(self) -> memory.Attention:
        return memory.Attention(self.layers, self.kv_heads, self.head_dim, self.kv_latent_dim)


class ModelSource(Model):
    """Exactly one of bucket (a path in the models bucket), lustre (a path on the shared file
    system) or hub."""

    bucket: str | None = Field(default=None, pattern=rule(r"^[A-Za-z0-9._/-]+$",
                                                                 "a path in the models bucket: letters, digits, '.', '_', '-' or '/'"))
    lustre: str | None = Field(default=None, pattern=ABSOLUTE_PATH)
    hub: HubModel | None = None
    # Billions of parameters: how memory fit is checked (weights = params x bytes per param).
    params_b: float = Field(alias="paramsB", gt=0, le=10_000)
    # Layers, KV heads, head dim: memory fit then counts the KV cache exactly.
    architecture: Architecture | None = None
    # The name clients use in the OpenAI API (`model` field); defaults to the service name.
    served_name: str | None = Field(default=None, pattern=rule(r"^[\w./-]{1,128}$",
                                                                "1-128 letters, digits, '_', '.', '/' or '-'"))

    @property
    def kind(self) -> str | None:
        set_ = [k for k in ("bucket", "lustre", "hub") if getattr(self, k) is not None]
        return set_[0] if len(set_) == 1 else None


def _checked(why: Callable[[str], str | None]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (reason := why(value)) is not None:
            raise ValueError(reason)
        return value
    return check


class WorkHours(Model):
    """When a scale-to-zero (dev) service keeps one replica up: KEDA cron schedules."""

    timezone: Annotated[str, AfterValidator(_checked(timezone_error))] = "UTC"  # an IANA zone
    start: Annotated[str, AfterValidator(_checked(cron_error))] = "0 8 * * 1-5"  # cron, as KEDA reads it
    end: Annotated[str, AfterValidator(_checked(cron_error))] = "0 20 * * 1-5"

    @model_validator(mode="after")
    def _distinct(self) -> "WorkHours":
        if self.start == self.end:
            raise ValueError("start and end are the same schedule (KEDA rejects that)")
        return self


class Scaling(Model):
    # The server gauge the autoscaler follows: requests waiting for a slot, or running.
    metric: Literal["waiting", "running"] = "waiting"
    # Per-replica value above which KEDA adds a replica.
    target: float = Field(default=4, gt=0)
    # Seconds of low load before a replica is removed (model servers are slow to come back).
    cooldown_seconds: int = Field(default=600, ge=60)
    # With minReplicas 0 the queue metric vanishes with the last pod, so it can never wake
    # the service; these hours bring one replica back.
    work_hours: WorkHours = WorkHours()


class Expose(Model):
    """clusterIP: reachable inside the cluster only. loadBalancer: an NLB with TLS (internal
    unless `public`). gateway: a Gateway API listener with TLS on an existing GatewayClass."""

    type: Literal["clusterIP", "loadBalancer", "gateway"] = "clusterIP"
    # Internet-facing: only when the stack says so.
    public: bool = False
    # ACM certificate for the load balancer's TLS listener.
    certificate_arn: str | None = Field(default=None, pattern=rule(
        r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/", "the ARN of an ACM certificate (arn:aws:acm:REGION:ACCOUNT:certificate/...)"))
    gateway_class_name: str | None = Field(default=None, pattern=_DNS_LABEL)
    host: str | None = Field(default=None, pattern=rule(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$",
                                                  "a lowercase DNS name such as llm.example.com"))
    # Secret (in the inference namespace) holding the gateway's TLS certificate and key.
    tls_secret_name: str | None = Field(default=None, pattern=_DNS_LABEL)


class MultiNode(Model):
    # Nodes per replica (LeaderWorkerSet group size); the model is pipelined across them.
    nodes: int = Field(ge=2, le=64)


class ServiceSpec(Model):
    name: str = Field(pattern=_DNS_LABEL)
    engine: Literal["vllm", "triton"] = "vllm"
    model: ModelSource
    pool: str
    tensor_parallel: int = Field(default=1, ge=1, le=64)
    precision: Precision = "bf16"
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=2, ge=1, le=1000)
    scaling: Scaling = Scaling()
    expose: Expose = Expose()
    multi_node: MultiNode | None = None
    # Longest context the server accepts (tokens); None leaves the model's own.
    max_model_len: int | None = Field(default=None, ge=MIN_MAX_MODEL_LEN)
    # Sequences a replica runs at once (vLLM --max-num-seqs); None leaves vLLM's default.
    # With maxModelLen and model.architecture, memory fit reserves KV for all of them at
    # full length; without it, for one (what vLLM itself needs to start).
    max_num_seqs: int | None = Field(default=None, ge=1, le=65_536)
    # KV-cache values: auto keeps the 16-bit activation dtype, fp8 halves the cache.
    kv_cache_dtype: Literal["auto", "fp8"] = "auto"
    # More `vllm serve` arguments, appended as given (`--enable-prefix-caching`, ...); never one
    # aidc sets from another key (VLLM_FLAGS).
    extra_args: tuple[str, ...] = ()
    # Share of each GPU's memory vLLM may take (weights, activations, KV cache).
    gpu_memory_utilization: float = Field(default=memory.DEFAULT_GPU_MEMORY_UTILIZATION,
                                          ge=memory.MIN_GPU_MEMORY_UTILIZATION,
                                          le=memory.MAX_GPU_MEMORY_UTILIZATION)

    @property
    def nodes(self) -> int:
        return self.multi_node.nodes if self.multi_node else 1

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor_parallel * self.nodes

    @property
    def served_name(self) -> str:
        return self.model.served_name or self.name


class InferenceSpec(Model):
    namespace: str = Field(default="inference", pattern=_DNS_LABEL)
    # Serve through KServe InferenceService objects (Standard/raw deployment mode).
    kserve: bool = False
    # Namespaces whose pods may call the model servers (the serving namespace is default-deny:
    # only these, the monitoring namespace and load balancers reach port 8000). A gateway
    # exposure needs the namespace its implementation runs the data plane in.
    allow_namespaces: tuple[Annotated[str, Field(pattern=DNS_LABEL)], ...] = ()
    # Address ranges outside the cluster that may call the servers directly (on an existing
    # cluster: where its load balancers connect from; on EKS the VPC is allowed for
    # loadBalancer services without saying so).
    allow_cidrs: tuple[Cidr, ...] = ()
    services: tuple[ServiceSpec, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> "InferenceSpec":
        names = [s.name for s in self.services]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"service names must be unique: {', '.join(dup)}")
        return self


def weights_gib(svc: ServiceSpec) -> float:
    return memory.weight_bytes(svc.model.params_b, svc.precision) / GIB


def _fit_args(svc: ServiceSpec, gpu_memory_gib: float) -> dict:
    arch = svc.model.architecture
    return dict(params_b=svc.model.params_b, precision=svc.precision, gpu_memory_gib=gpu_memory_gib,
                gpu_memory_utilization=svc.gpu_memory_utilization, nodes=svc.nodes,
                attention=arch.attention() if arch else None, kv_dtype=svc.kv_cache_dtype,
                context=svc.max_model_len, sequences=svc.max_num_seqs or 1)


def memory_fit(svc: ServiceSpec, gpu_memory_gib: float) -> memory.MemoryFit:
    """One replica of the service on GPUs of `gpu_memory_gib`: components.formulas.memory's
    rule, fed from the stack (the KV cache the stack promises when it describes the model)."""
    return memory.memory_fit(tensor_parallel=svc.tensor_parallel, **_fit_args(svc, gpu_memory_gib))


def _memory_problem(svc: ServiceSpec, gpu_name: str, gpu_memory_gib: float) -> str | None:
    fit = memory_fit(svc, gpu_memory_gib)
    if fit.fits:
        return None
    if fit.kv_exact:
        kv = f"KV {fit.kv_gib:.1f} for {svc.max_num_seqs or 1} x {svc.max_model_len} tokens"
    else:
        kv = f"KV {fit.kv_gib:.1f} as {memory.KV_SHARE_WITHOUT_ARCHITECTURE:.0%} of the weights"
    tp = memory.min_tensor_parallel(**_fit_args(svc, gpu_memory_gib))
    # Tensor parallelism splits attention heads evenly: the suggestion is a power of two.
    across = f" on each of {svc.nodes} nodes ({tp * svc.nodes} GPUs)" if tp and svc.nodes > 1 else ""
    ways = ([f"tensorParallel {tp}{across}"] if tp else []) + ["a lower precision"]
    if fit.kv_exact:
        ways += ["fewer maxNumSeqs", "a shorter maxModelLen"]
    hint = "use " + (f"{', '.join(ways[:-1])} or {ways[-1]}" if len(ways) > 1 else ways[0])
    if not fit.kv_exact:
        hint += " (model.architecture and maxModelLen would count the KV cache exactly)"
    return (f"{svc.model.params_b:g}B parameters at {svc.precision} need {fit.need_gib:.1f} GiB "
            f"(weights {fit.weights_gib:.1f} + {kv} + runtime {fit.runtime_gib:.1f}) but "
            f"{fit.gpus} x {gpu_name} give {fit.budget_gib:.1f} GiB at gpuMemoryUtilization "
            f"{svc.gpu_memory_utilization:g}; {hint}")


def problems(inf: InferenceSpec, spec: "Spec", cat: Catalog, path: str = "aidc:inference",
             unparsed: Unparsed = NOTHING_UNPARSED) -> Iterator[Problem]:
    names = {p.name for p in spec.gpu_pools}
    for i, svc in enumerate(inf.services):
        at = f"{path}.services[{i}]"
        yield from _source_problems(svc, spec, f"{at}.model", unparsed)
        if svc.min_replicas > svc.max_replicas:
            yield Problem(f"{at}.minReplicas", f"{svc.min_replicas} is above maxReplicas {svc.max_replicas}")
        if svc.min_replicas == 0 and spec.environment != "dev":
            yield Problem(f"{at}.minReplicas", f"scale to zero is allowed only in dev, not {spec.environment}: "
                                               "the first request would wait minutes for a model to load")
        if svc.min_replicas != svc.max_replicas and not spec.observability.enabled:
            yield Problem(f"{at}.maxReplicas", "autoscaling reads the server's queue from Prometheus: "
                                               "enable aidc:observability or set minReplicas == maxReplicas")
        elif svc.min_replicas != svc.max_replicas and spec.observability.prometheus == "existing" \
                and spec.observability.prometheus_url is None:
            yield Problem(f"{at}.maxReplicas", "autoscaling reads the server's queue from the site's Prometheus: "
                                               "set aidc:observability.prometheusUrl, or minReplicas == maxReplicas")
        yield from _expose_problems(svc, spec, f"{at}.expose")
        yield from _extra_arg_problems(svc, f"{at}.extraArgs")
        if inf.kserve and svc.multi_node is not None:
            yield Problem(f"{at}.multiNode", "multi-node serving runs as a LeaderWorkerSet, not through KServe: "
                                             "set aidc:inference.kserve to false")
        if svc.engine == "triton" and svc.multi_node is not None:
            yield Problem(f"{at}.multiNode", "multi-node serving is supported for the vllm engine only")
        if svc.pool not in names:
            if unparsed.pool(svc.pool):
                continue  # the pool's own definition failed, and was reported
            known = ", ".join(sorted(names)) or "none"
            yield Problem(f"{at}.pool", f"no GPU pool named {svc.pool!r} in aidc:gpuPools (pools: {known})")
            continue
        pool = spec.pools.get(svc.pool)
        if pool is None:
            continue  # its instance type is unknown: reported on aidc:gpuPools
        gpu = pool.gpu
        if svc.tensor_parallel > pool.gpus_per_node:
            yield Problem(f"{at}.tensorParallel",
                          f"{svc.tensor_parallel} is above the {pool.gpus_per_node} GPUs of a {pool.instance_type} node "
                          f"of pool {pool.name}" + ("" if svc.multi_node else "; use multiNode to span nodes"))
        elif svc.tensor_parallel & (svc.tensor_parallel - 1):
            yield Problem(f"{at}.tensorParallel", f"{svc.tensor_parallel} is not a power of two "
                                                  "(attention heads must split evenly across GPUs)")
        shared = pool.pods_per_gpu
        if shared > 1 and svc.gpu_memory_utilization > 1 / shared:
            yield Problem(f"{at}.gpuMemoryUtilization",
                          f"pool {pool.name} time-slices each GPU between {shared} pods, whose memory is not "
                          f"isolated: use at most {1 / shared:.2f} ({svc.gpu_memory_utilization:g} would starve the others)")
        if svc.precision == "fp8" and "fp8" not in gpu.dense_tflops:
            yield Problem(f"{at}.precision", f"{gpu.name} ({pool.instance_type}) has no FP8 support")
        unfit = _memory_problem(svc, gpu.name, gpu.memory_gib)
        if unfit:
            yield Problem(f"{at}.model.paramsB", unfit)
        if svc.min_replicas * svc.gpus_per_replica > pool.max_gpus:
            yield Problem(f"{at}.minReplicas",
                          f"{svc.min_replicas} replicas x {svc.gpus_per_replica} GPUs exceed pool {pool.name}'s "
                          f"{pool.max_gpus} GPUs (size.max {pool.max_nodes} x {pool.gpus_per_node})")


def _source_problems(svc: ServiceSpec, spec: "Spec", at: str, unparsed: Unparsed = NOTHING_UNPARSED) -> Iterator[Problem]:
    src = svc.model
    if src.kind is None:
        yield Problem(at, "give exactly one of bucket, lustre, hub")
        return
    if src.hub is not None and src.hub.token_secret and _TOKEN_LIKE.match(src.hub.token_secret):
        yield Problem(f"{at}.hub.tokenSecret", "looks like a token: give the Secrets Manager secret's ARN or name, "
                                               "never the token itself")
    if src.hub is not None and src.hub.token_secret and spec.existing_cluster:
        yield Problem(f"{at}.hub.tokenSecret", "reading Secrets Manager needs AWS (EKS Pod Identity); on an existing "
                                               "cluster load the model from bucket or lustre")
    if src.kind == "bucket" and spec.existing_cluster:
        yield Problem(f"{at}.bucket", "the models bucket exists only with AWS storage, not on an existing cluster")
    if not hasattr(spec, "storage"):
        return  # a spec without the aidc:storage section at all (storage not part of this build)
    storage = spec.storage
    if storage is None:
        if src.kind in ("bucket", "lustre") and "storage" not in unparsed.sections:
            yield Problem(f"{at}.{src.kind}", "needs aidc:storage (the models bucket or the Lustre file system)")
        return
    ns = spec.inference.namespace
    if src.kind == "bucket" and ns not in storage.model_namespaces:
        yield Problem(f"{at}.bucket", f"namespace {ns!r} gets no models bucket claim: add it to "
                                      "aidc:storage.modelNamespaces")
    if src.kind == "lustre" and ns not in storage.namespaces:
        yield Problem(f"{at}.lustre", f"namespace {ns!r} gets no Lustre claim: add it to aidc:storage.namespaces")


def _extra_arg_problems(svc: ServiceSpec, at: str) -> Iterator[Problem]:
    if svc.extra_args and svc.engine != "vllm":
        yield Problem(at, f"extra arguments are for the vllm engine; {svc.engine} takes its settings from the "
                          "model repository")
        return
    if svc.extra_args and not svc.extra_args[0].startswith("--"):
        yield Problem(f"{at}[0]", f"{svc.extra_args[0]!r}: the arguments begin with a flag such as "
                                  "--enable-prefix-caching")
    for i, arg in enumerate(svc.extra_args):
        flag = arg.split("=", 1)[0]
        if flag in VLLM_FLAGS:
            yield Problem(f"{at}[{i}]", f"{flag} is set by aidc from {VLLM_FLAGS[flag]}; set that instead")
        if "'" in arg or "\n" in arg:
            yield Problem(f"{at}[{i}]", f"{arg!r}: no quote (') or line break: a multi-node leader passes the "
                                        "arguments through a shell")


def _expose_problems(svc: ServiceSpec, spec: "Spec", at: str) -> Iterator[Problem]:
    ex = svc.expose
    if ex.public and ex.type == "clusterIP":
        yield Problem(f"{at}.public", "a clusterIP service cannot be public; use loadBalancer or gateway")
    if ex.type == "loadBalancer" and ex.certificate_arn is None:
        yield Problem(f"{at}.certificateArn", "a load balancer serves TLS only: give an ACM certificate ARN")
    if ex.type == "gateway":
        for key, value in (("gatewayClassName", ex.gateway_class_name), ("host", ex.host),
                           ("tlsSecretName", ex.tls_secret_name)):
            if value is None:
                yield Problem(f"{at}.{key}", "required for a gateway")
    if ex.type == "loadBalancer" and spec.existing_cluster:
        yield Problem(f"{at}.type", "an AWS load balancer needs an EKS cluster; use gateway on an existing cluster")
