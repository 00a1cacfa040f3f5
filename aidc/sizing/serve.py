"""Inference sizing: weights and KV cache -> tensor parallelism, replicas, nodes; prefill time
(time to first token) from FLOPs, a decode bound from HBM bandwidth (MoE: the experts a step
touches), throughput at the prompt and output lengths, and cost. Whether a replica fits its GPUs is
components.formulas.memory's rule, the one the stack validator applies to the fragment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aidc.errors import Problem, UserError
from components.catalog import Catalog, catalog
from components.formulas import memory
from components.formulas.memory import (
    DEFAULT_GPU_MEMORY_UTILIZATION,
    MAX_GPU_MEMORY_UTILIZATION,
    MIN_GPU_MEMORY_UTILIZATION,
    RUNTIME_SHARE,
    WEIGHT_BYTES,
)

from .hardware import GIB, HOURS_PER_MONTH, Hardware, positive, reserved_assumption

# KV-cache precisions the sizer takes (16-bit is vLLM's `--kv-cache-dtype auto`).
KV_PRECISIONS = ("bf16", "fp16", "fp8")


@dataclass(frozen=True)
class Architecture:
    params: float
    layers: int
    kv_heads: int
    head_dim: int
    attention_heads: int | None = None  # TP must divide it when known
    name: str = "custom"
    active_params: float | None = None  # per token (MoE); default params
    attention_width: int | None = None  # heads x head dim for attention FLOPs; default kv-free estimate
    experts: int = 1
    experts_per_token: int = 1
    kv_latent_dim: int | None = None  # MLA

    @property
    def active(self) -> float:
        return self.active_params or self.params

    def step_weight_bytes(self, batch: float, bytes_per_param: float) -> float:
        """Weights one decode step streams for `batch` tokens. Dense: all of them. MoE: the
        shared part plus the experts the batch touches, E x (1 - (1 - k/E)^batch) of E when
        each token picks k at random (routing balanced, as its training loss asks)."""
        if self.experts <= 1:
            return self.params * bytes_per_param
        e, k = self.experts, self.experts_per_token
        per_expert = (self.params - self.active) / (e - k)
        shared = self.active - k * per_expert
        touched = e * (1 - (1 - k / e) ** max(batch, 1.0))
        return (shared + touched * per_expert) * bytes_per_param

    @classmethod
    def of_preset(cls, m) -> "Architecture":
        return cls(m.params, m.layers, m.kv_heads, m.head_dim, m.attention_heads, m.name, m.active_params,
                   m.attention_width, m.experts, m.experts_per_token, m.kv_latent_dim)


@dataclass(frozen=True)
class ServeWorkload:
    arch: Architecture
    precision: str  # weights
    context: int  # tokens per sequence (prompt + output)
    concurrency: int  # sequences in flight
    kv_precision: str = "bf16"
    # Share of each GPU vLLM may take; the emitted stack carries it as gpuMemoryUtilization.
    gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION
    output_tokens: int | None = None  # of the context; default min(512, context // 2)

    @property
    def output(self) -> int:
        return self.output_tokens if self.output_tokens is not None else max(1, min(512, self.context // 2))

    @property
    def prompt(self) -> int:
        return self.context - self.output

    @property
    def params_b(self) -> float:
        # Billions, as the stack's paramsB: the validator must compute from the same float.
        return self.arch.params / 1e9

    @property
    def attention(self) -> memory.Attention:
        return memory.Attention(self.arch.layers, self.arch.kv_heads, self.arch.head_dim, self.arch.kv_latent_dim)


@dataclass(frozen=True)
class TpOption:
    tp: int
    seqs_per_replica: int
    replicas: int
    nodes: int


@dataclass(frozen=True)
class ServePlan:
    hardware: Hardware
    workload: ServeWorkload
    weights_gib: float
    kv_bytes_per_token: float
    kv_gib_per_sequence: float
    kv_cache_gib: float  # concurrency x context
    usable_gib_per_gpu: float  # weights + KV: gpu_memory_utilization less the runtime share
    min_tensor_parallel: int
    tensor_parallel: int
    seqs_per_replica: int
    replicas: int
    gpus: int
    nodes: int
    decode_tokens_per_s: float  # aggregate bound, every sequence at full context
    decode_tokens_per_s_per_seq: float
    prefill_seconds: float  # one prompt on an idle replica: the time to first token
    prefill_tokens_per_s: float  # per replica
    throughput_tokens_per_s: float  # output tokens/s in all, prefill and decode interleaved
    step_weights_gib: float  # weights one decode step streams (MoE: the experts touched)
    usd_per_month: float
    usd_per_million_tokens: float
    usd_per_month_reserved: float | None = None  # at the 1-year rate, when the catalog has one
    reserved_basis: str | None = None  # oneYear | None
    options: list[TpOption] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def _fit_args(w: ServeWorkload, gpu_memory_gib: float) -> dict:
    return dict(params_b=w.params_b, precision=w.precision, gpu_memory_gib=gpu_memory_gib,
                gpu_memory_utilization=w.gpu_memory_utilization, attention=w.attention,
                kv_dtype=w.kv_precision, context=w.context)


def tp_degrees(gpus_per_node: int, attention_heads: int | None) -> list[int]:
    """Powers of two within one node (NVLink domain) that divide the attention heads."""
    out, tp = [], 1
    while tp <= gpus_per_node:
        if attention_heads is None or attention_heads % tp == 0:
            out.append(tp)
        tp *= 2
    return out


def _validate(w: ServeWorkload, hw: Hardware) -> None:
    problems: list[Problem] = []
    a = w.arch
    positive("--params", a.params, problems)
    positive("--layers", a.layers, problems, integer=True)
    positive("--kv-heads", a.kv_heads, problems, integer=True)
    positive("--head-dim", a.head_dim, problems, integer=True)
    positive("--context", w.context, problems, integer=True)
    positive("--concurrency", w.concurrency, problems, integer=True)
    if not MIN_GPU_MEMORY_UTILIZATION <= w.gpu_memory_utilization <= MAX_GPU_MEMORY_UTILIZATION:
        problems.append(Problem("--gpu-memory-utilization",
                                f"must be in [{MIN_GPU_MEMORY_UTILIZATION:g}, {MAX_GPU_MEMORY_UTILIZATION:g}] "
                                f"(what a stack accepts), got {w.gpu_memory_utilization:g}"))
    if w.precision not in WEIGHT_BYTES:
        problems.append(Problem("--precision", f"{w.precision!r} is not one of: {', '.join(WEIGHT_BYTES)}"))
    if w.kv_precision not in KV_PRECISIONS:
        problems.append(Problem("--kv-precision", f"{w.kv_precision!r} is not one of: {', '.join(KV_PRECISIONS)}"))
    if problems:
        raise UserError("invalid serving workload", problems)
    # Weights at fp8 need FP8 tensor cores to be served as fp8; int4 is dequantised on any GPU.
    if w.precision == "fp8" or w.kv_precision == "fp8":
        hw.peak_flops("fp8", "--precision" if w.precision == "fp8" else "--kv-precision")
    if w.output_tokens is not None and not 1 <= w.output_tokens < w.context:
        raise UserError("invalid serving workload", [Problem(
            "--output-tokens", f"must be at least 1 and below --context {w.context} (the prompt takes the rest)")])


def prefill_flops(a: Architecture, prompt: int) -> float:
    """Forward pass over a prompt: 2 x active params per token plus causal attention,
    2 x layers x width x prompt^2 (QK^T and AV, half the square)."""
    width = a.attention_width or (a.attention_heads or a.kv_heads) * a.head_dim
    return 2.0 * a.active * prompt + 2.0 * a.layers * width * prompt * prompt


def prefill_peak(hw: Hardware, precision: str) -> float:
    """Prefill runs at the weights' tensor-core precision: fp8 weights on FP8 cores, the rest
    (bf16, fp16, and int8/int4 dequantised to 16 bits) at the bf16 peak."""
    return hw.peak_flops("fp8" if precision == "fp8" else "bf16")


def plan_serve(w: ServeWorkload, hw: Hardware, cat: Catalog | None = None) -> ServePlan:
    _validate(w, hw)
    a, gpn = w.arch, hw.gpus_per_node
    weights = memory.weight_bytes(w.params_b, w.precision)
    kv_bytes = memory.KV_BYTES[w.kv_precision]
    per_token = memory.attention_kv_bytes_per_token(w.attention, kv_bytes)
    usable = hw.gpu.memory_gib * GIB * (w.gpu_memory_utilization - RUNTIME_SHARE)
    options: list[TpOption] = []
    degrees = tp_degrees(gpn, a.attention_heads)
    for tp in degrees:
        # The most sequences memory_fit accepts: exactly what the validator will check.
        seqs = memory.max_sequences(tensor_parallel=tp, **_fit_args(w, hw.gpu.memory_gib))
        if seqs < 1:
            continue
        seqs = min(seqs, w.concurrency)
        replicas = math.ceil(w.concurrency / seqs)
        options.append(TpOption(tp, seqs, replicas, math.ceil(replicas / (gpn // tp))))
    if not options:
        fit = memory.memory_fit(tensor_parallel=max(degrees), **_fit_args(w, hw.gpu.memory_gib))
        raise UserError("the model does not fit one node", [Problem(
            "--instance-type",
            f"{a.name} at {w.precision} needs {fit.weights_gib:,.0f} GiB of weights + {fit.kv_gib:,.1f} GiB KV for "
            f"one {w.context}-token sequence + {fit.runtime_gib:,.0f} GiB runtime ({fit.need_gib:,.0f} GiB) on "
            f"{fit.gpus} GPU{'s' * (fit.gpus > 1)}; one {hw.instance_type} lets vLLM take {fit.gpus} x {hw.gpu.memory_gib:g} GiB x "
            f"{w.gpu_memory_utilization:g} = {fit.budget_gib:,.0f} GiB{_fits_hint(cat, w)}")])
    # Fewest nodes, then the smallest TP degree (less all-reduce, more independent replicas).
    best = min(options, key=lambda o: (o.nodes, o.tp))
    tp = best.tp
    replica_per_token = memory.replica_kv_bytes_per_token(w.attention, tp, w.kv_precision)
    seqs_each = w.concurrency / best.replicas
    bandwidth = tp * hw.gpu.memory_bandwidth_gbps * 1e9
    step_weights = a.step_weight_bytes(seqs_each, WEIGHT_BYTES[w.precision])
    step_s = (step_weights + seqs_each * w.context * replica_per_token) / bandwidth
    per_seq_tps = 1.0 / step_s
    total_tps = w.concurrency * per_seq_tps
    # Prefill: compute-bound at the catalog's prefill utilisation of the replica's peak.
    prefill_mfu = (cat or catalog()).mfu.serving.prefill_mfu
    prefill_s = prefill_flops(a, w.prompt) / (tp * prefill_peak(hw, w.precision) * prefill_mfu)
    # Steady state of a replica: each of its sequences needs one prefill and `output` decode
    # steps; the steps are shared by the batch, the prefills are not. Decode at the average
    # context of a generation (prompt + output / 2).
    avg_step_s = (step_weights + seqs_each * (w.prompt + w.output / 2) * replica_per_token) / bandwidth
    replica_tps = seqs_each * w.output / (seqs_each * prefill_s + w.output * avg_step_s)
    throughput = best.replicas * replica_tps
    usd_hour = best.nodes * hw.usd_per_node_hour
    reserved = hw.reserved_rate(training=False)
    kv_total = w.concurrency * w.context * per_token
    kv_shape = (f"MLA latent {a.layers} layers x {a.kv_latent_dim} (whole on every tensor-parallel shard)"
                if a.kv_latent_dim else f"2 x {a.layers} layers x {a.kv_heads} KV heads x {a.head_dim} head dim")
    assumptions = [
        f"weights {WEIGHT_BYTES[w.precision]:g} B/param at {w.precision}; KV cache {w.kv_precision} "
        f"({kv_bytes:g} B/value), {kv_shape}",
        f"vLLM takes {w.gpu_memory_utilization:.0%} of each GPU's {hw.gpu.memory_gib:g} GiB "
        f"(gpu_memory_utilization {w.gpu_memory_utilization:g}); {RUNTIME_SHARE:.0%} of the GPU goes to "
        f"activations and runtime, the rest ({usable / GIB:,.1f} GiB) to weights + KV; CUDA graphs use the "
        "memory left outside",
        "every sequence reserves its full context of KV (no prefix sharing, no eviction)",
        "tensor parallelism within one node (powers of two dividing the attention heads); the smallest "
        "degree among those needing the fewest nodes",
        "decode bound: each step streams the weights"
        + (f" the batch's tokens route to (MoE: {step_weights / GIB:,.0f} of {weights / GIB:,.0f} GiB at "
           f"{seqs_each:,.0f} sequences, {a.experts_per_token} of {a.experts} experts each, routing balanced)"
           if a.experts > 1 else "")
        + " and every sequence's KV from HBM at the catalog "
        f"bandwidth ({hw.gpu.memory_bandwidth_gbps:,.0f} GB/s/GPU), all sequences at full context; "
        "real servers reach roughly 50-80% of it",
        f"prefill: {prefill_flops(a, w.prompt):.3g} FLOPs for a {w.prompt:,}-token prompt (2 x "
        f"{a.active / 1e9:,.1f}B active params per token + causal attention) at {prefill_mfu:.0%} of "
        f"{tp} x {prefill_peak(hw, w.precision) / 1e12:,.0f} TFLOPS (catalog mfu.yaml serving.prefillMfu, an "
        "estimate): time to first token on an idle replica, queueing not counted",
        f"throughput: each sequence = one {w.prompt:,}-token prefill + {w.output:,} output tokens"
        + (" (default min(512, context / 2); --output-tokens)" if w.output_tokens is None else "")
        + "; prefills do not overlap decode steps (no chunked prefill), decode at the average context",
        f"cost: {best.nodes} x {hw.instance_type} on demand at ${hw.usd_per_node_hour:,.2f}/h "
        f"({hw.instance.price.source.date}), {HOURS_PER_MONTH} h/month",
        reserved_assumption("month", hw, reserved),
    ]
    return ServePlan(
        hardware=hw, workload=w, weights_gib=weights / GIB, kv_bytes_per_token=per_token,
        kv_gib_per_sequence=per_token * w.context / GIB, kv_cache_gib=kv_total / GIB,
        usable_gib_per_gpu=usable / GIB, min_tensor_parallel=min(o.tp for o in options),
        tensor_parallel=tp, seqs_per_replica=best.seqs_per_replica, replicas=best.replicas,
        gpus=best.replicas * tp, nodes=best.nodes, decode_tokens_per_s=total_tps,
        decode_tokens_per_s_per_seq=per_seq_tps, prefill_seconds=prefill_s,
        prefill_tokens_per_s=w.prompt / prefill_s, throughput_tokens_per_s=throughput,
        step_weights_gib=step_weights / GIB, usd_per_month=usd_hour * HOURS_PER_MONTH,
        usd_per_million_tokens=usd_hour / (throughput * 3600) * 1e6,
        usd_per_month_reserved=best.nodes * reserved[0].usd_per_hour * HOURS_PER_MONTH if reserved else None,
        reserved_basis=reserved[1] if reserved else None, options=options, assumptions=assumptions)


def plan_serve_cheapest(w: ServeWorkload, candidates: list[Hardware], cat: Catalog | None = None) -> ServePlan:
    """The cheapest plan per month over several node types carrying the same GPU (for --gpu):
    many small nodes can cost less than one large node when no replica needs NVLink."""
    plans, first_error = [], None
    for hw in candidates:
        try:
            plans.append(plan_serve(w, hw, cat))
        except UserError as err:
            first_error = first_error or err
    if not plans:
        raise first_error or UserError("no node carries this GPU", [Problem("--gpu", "no instance type")])
    return min(plans, key=lambda p: (p.usd_per_month, p.nodes, p.hardware.instance_type))


def _fits_hint(cat: Catalog | None, w: ServeWorkload) -> str:
    """Catalog node types on which one full-context sequence fits, every GPU of the node used."""
    if cat is None:
        return ""
    fits = sorted(name for name, i in cat.ec2_types.items()
                  if memory.memory_fit(tensor_parallel=i.gpu_count, **_fit_args(w, cat.gpus[i.gpu].memory_gib)).fits)
    return f"; instance types that fit: {', '.join(fits)}" if fits else "; no catalog instance type fits it: use a lower precision"
