"""Memory fit of one vLLM replica: its weights, KV cache and runtime against the share of its
GPUs the server may take. The stack validator (components/spec/inference.py) and the sizer
(aidc/sizing/serve.py) both ask `memory_fit`, so the two cannot disagree.

What vLLM does at start (its GPU worker's `determine_available_memory`): it may use
`gpu_memory_utilization` x each GPU's total memory. Out of that budget come its shard of the
weights, then the peak of a profiling forward pass at its largest batch plus non-torch
allocations (NCCL buffers, cuBLAS workspaces); what is left becomes the KV cache, which must
hold at least one `max_model_len` sequence or the server refuses to start. The rest of the
GPU (1 - gpu_memory_utilization) is left to CUDA graphs, the driver and other processes.

Numbers in, numbers out: standard library only, no catalog, no spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GIB = 1024**3

# Bytes per weight. int8/int4 checkpoints (AWQ, GPTQ) add per-group scales: ~3% at group
# size 128, not counted.
# mxfp4 (OCP Microscaling MX v1.0): 32 FP4 (E2M1) values share one 8-bit E8M0 scale, so
# 4 + 8/32 = 4.25 bits per weight. gpt-oss publishes its experts so; counting every weight at
# that width under-counts its 16-bit attention and embeddings (~2% of gpt-oss-120b).
WEIGHT_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5, "mxfp4": 0.53125}
# Bytes per KV-cache value. vLLM's `--kv-cache-dtype auto` keeps the activation dtype (16-bit,
# also under fp8/int8/int4 weights); `fp8` halves it.
KV_BYTES: dict[str, float] = {"auto": 2.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}

# vLLM's default `gpu_memory_utilization`, and the range a stack may set.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.90
MIN_GPU_MEMORY_UTILIZATION = 0.05
MAX_GPU_MEMORY_UTILIZATION = 0.98

# Activation peak + non-torch memory per GPU, taken out of the budget before the KV cache,
# as a share of the GPU's memory. Measured for dense models on H100 (79.18 GiB) at vLLM's
# defaults: activations 4.76-5.64 GiB + non-torch 0.13-0.55 GiB = 6-8% (llm-d/llm-d-benchmark,
# config_explorer/empirical-vllm-memory-results.md). vLLM profiles a smaller batch on smaller
# GPUs, so the share, not a fixed GiB figure, carries over. The upper end: too little here and
# the server starts without room for a single sequence.
RUNTIME_SHARE = 0.08

# A stack that does not describe the model's attention (layers, KV heads, head dim) or its
# context cannot have its KV cache computed: it must leave at least this share of the
# weights for it (Llama 3.1 70B at bf16 keeps ~10% of its weights as KV for one 40k-token
# sequence).
KV_SHARE_WITHOUT_ARCHITECTURE = 0.10


@dataclass(frozen=True)
class Attention:
    """What sets the KV cache's size per token. `latent_dim` set: multi-head latent attention
    (DeepSeek-V2/V3), which caches one compressed vector of kv_lora_rank + rope dim per layer
    and token instead of K and V per head (DeepSeek-V2, arXiv 2405.04434, Table 1)."""

    layers: int
    kv_heads: int
    head_dim: int
    latent_dim: int | None = None


@dataclass(frozen=True)
class MemoryFit:
    """One replica, in GiB, summed over its GPUs."""

    gpus: int
    weights_gib: float
    kv_gib: float  # the KV cache the replica must hold (or the floor, without an architecture)
    runtime_gib: float  # activation peak + non-torch memory
    budget_gib: float  # gpus x GPU memory x gpu_memory_utilization
    kv_exact: bool  # False: kv_gib is the KV_SHARE_WITHOUT_ARCHITECTURE floor

    @property
    def need_gib(self) -> float:
        return self.weights_gib + self.kv_gib + self.runtime_gib

    @property
    def fits(self) -> bool:
        return self.need_gib <= self.budget_gib

    @property
    def kv_room_gib(self) -> float:
        """What the server would give the KV cache: the budget less weights and runtime."""
        return self.budget_gib - self.weights_gib - self.runtime_gib


def _lookup(table: dict[str, float], key: str, what: str) -> float:
    if key not in table:
        raise ValueError(f"unknown {what} {key!r}; known: {', '.join(table)}")
    return table[key]


def weight_bytes(params_b: float, precision: str) -> float:
    """Weights of a model of `params_b` billion parameters: 70.55 at fp8 = 70.55e9 B = 65.7 GiB."""
    return params_b * 1e9 * _lookup(WEIGHT_BYTES, precision, "precision")


def kv_bytes_per_token(layers: int, kv_heads: int, head_dim: int, kv_bytes: float) -> float:
    """K and V, per layer, per KV head: 2 x layers x kv_heads x head_dim x bytes."""
    return 2.0 * layers * kv_heads * head_dim * kv_bytes


def latent_kv_bytes_per_token(layers: int, latent_dim: int, kv_bytes: float) -> float:
    """MLA: one latent per layer (no separate K and V): layers x latent x bytes."""
    return float(layers * latent_dim) * kv_bytes


def attention_kv_bytes_per_token(attention: Attention, kv_bytes: float) -> float:
    """One copy of a token's KV cache: K and V per KV head, or MLA's one latent."""
    if attention.latent_dim is not None:
        return latent_kv_bytes_per_token(attention.layers, attention.latent_dim, kv_bytes)
    return kv_bytes_per_token(attention.layers, attention.kv_heads, attention.head_dim, kv_bytes)


def replica_kv_bytes_per_token(attention: Attention, tensor_parallel: int, kv_dtype: str = "auto") -> float:
    """KV bytes per token summed over a replica's shards. With more shards than KV heads each
    shard still keeps one head: the heads are replicated. MLA's latent is not split by heads, so
    every tensor-parallel shard keeps all of it. Pipeline stages split the layers, so nodes add
    nothing."""
    kv = _lookup(KV_BYTES, kv_dtype, "KV-cache dtype")
    if attention.latent_dim is not None:
        return latent_kv_bytes_per_token(attention.layers, attention.latent_dim, kv) * tensor_parallel
    return kv_bytes_per_token(attention.layers, max(attention.kv_heads, tensor_parallel), attention.head_dim, kv)


def memory_fit(*, params_b: float, precision: str, tensor_parallel: int, gpu_memory_gib: float,
               gpu_memory_utilization: float, nodes: int = 1, attention: Attention | None = None,
               kv_dtype: str = "auto", context: int | None = None, sequences: int = 1) -> MemoryFit:
    """Does one replica (tensor_parallel x nodes GPUs) hold `params_b` billion parameters at
    `precision`, the runtime, and the KV cache of `sequences` sequences of `context` tokens?
    Without `attention` or `context` the KV cache is the floor share of the weights."""
    if not 0 < gpu_memory_utilization <= 1:
        raise ValueError(f"gpu_memory_utilization must be in (0, 1], got {gpu_memory_utilization:g}")
    if tensor_parallel < 1 or nodes < 1 or sequences < 0:
        raise ValueError(f"tensor_parallel {tensor_parallel}, nodes {nodes}, sequences {sequences}: "
                         "need at least one GPU and no negative sequences")
    gpus = tensor_parallel * nodes
    weights = weight_bytes(params_b, precision)
    if attention is not None and context is not None:
        kv = replica_kv_bytes_per_token(attention, tensor_parallel, kv_dtype) * context * sequences
    else:
        kv = weights * KV_SHARE_WITHOUT_ARCHITECTURE
    return MemoryFit(
        gpus=gpus, weights_gib=weights / GIB, kv_gib=kv / GIB,
        runtime_gib=gpus * gpu_memory_gib * RUNTIME_SHARE,
        budget_gib=gpus * gpu_memory_gib * gpu_memory_utilization,
        kv_exact=attention is not None and context is not None)


def max_sequences(*, params_b: float, precision: str, tensor_parallel: int, gpu_memory_gib: float,
                  gpu_memory_utilization: float, attention: Attention, context: int, kv_dtype: str = "auto",
                  nodes: int = 1) -> int:
    """The most full-context sequences one replica holds (0: not even one): the largest n for
    which `memory_fit(..., sequences=n)` fits, so a stack promising n passes validation."""
    args = dict(params_b=params_b, precision=precision, tensor_parallel=tensor_parallel,
                gpu_memory_gib=gpu_memory_gib, gpu_memory_utilization=gpu_memory_utilization, nodes=nodes,
                attention=attention, kv_dtype=kv_dtype, context=context)
    empty = memory_fit(**args, sequences=0)
    per_seq = replica_kv_bytes_per_token(attention, tensor_parallel, kv_dtype) * context / GIB
    if not empty.fits:
        return 0
    n = math.floor(empty.kv_room_gib / per_seq)
    # Float rounding may put the quotient a hair above what the sum allows: step down.
    while n > 0 and not memory_fit(**args, sequences=n).fits:
        n -= 1
    return n


def min_tensor_parallel(*, limit: int = 1024, **fit_args) -> int | None:
    """The smallest power-of-two tensor_parallel (<= limit) at which `memory_fit(**fit_args)`
    fits; None if none does."""
    tp = 1
    while tp <= limit:
        if memory_fit(tensor_parallel=tp, **fit_args).fits:
            return tp
        tp *= 2
    return None
