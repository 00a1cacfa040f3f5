"""Training run sizing: FLOPs (with attention) -> utilisation at the run's data-parallel width ->
GPU-hours -> GPUs or days, nodes, checkpoint, Lustre, cost, each with the model's range."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aidc.errors import Problem, UserError
from components.catalog import Catalog
from components.formulas.lustre import LustreSize, lustre_size

from .flops import AttentionShape, training_flops
from .hardware import GIB, Hardware, positive, reserved_assumption
from .mfu import model_for
from .state import STATE_BYTES_PER_PARAM, STATE_MEMORY_FRACTION, data_parallel_width, min_gpus_for_state, state_gib

# A resumable checkpoint: bf16 weights + fp32 master weights + both Adam moments (no gradients).
CHECKPOINT_BYTES_PER_PARAM = 14
DEFAULT_CHECKPOINT_WRITE_SECONDS = 300.0
PRECISIONS = ("bf16", "fp8")


@dataclass(frozen=True)
class TrainWorkload:
    params: float  # all parameters (every expert)
    tokens: float
    active_params: float | None = None  # per token (mixture of experts); default = params
    gpus: int | None = None  # answer: days
    days: float | None = None  # answer: GPUs, rounded up to whole nodes
    mfu: float | None = None  # default: the utilisation model (catalog mfu.yaml)
    attention: AttentionShape | None = None  # layers, width, seq len: attention FLOPs when known
    precision: str = "bf16"
    checkpoint_write_seconds: float = DEFAULT_CHECKPOINT_WRITE_SECONDS


@dataclass(frozen=True)
class TrainPlan:
    hardware: Hardware
    workload: TrainWorkload
    flops: float
    peak_flops_per_gpu: float
    mfu: float
    mfu_source: str
    gpu_hours: float
    # The model's range (the calibration runs' spread): slow end first. Equal to the expected
    # values with --mfu.
    mfu_range: tuple[float, float]
    gpu_hours_range: tuple[float, float]
    days_range: tuple[float, float]
    cost_usd_range: tuple[float, float]
    dp_width: float
    attention_share: float  # attention FLOPs / all FLOPs
    gpus: int
    nodes: int
    days: float
    state_gib: float
    min_gpus_for_state: int
    checkpoint_gib: float
    lustre: LustreSize
    cost_usd: float  # on demand, whole nodes for the whole run
    cost_usd_reserved: float | None  # at a committed rate, when the catalog has one
    reserved_basis: str | None  # capacityBlock | oneYear | None
    assumptions: list[str] = field(default_factory=list)


def gpu_hours_for(flops: float, peak_flops: float, mfu: float) -> float:
    return flops / (peak_flops * mfu) / 3600.0


def days_on(gpu_hours: float, gpus: int) -> float:
    return gpu_hours / gpus / 24.0


def gpus_within(gpu_hours: float, days: float, gpus_per_node: int) -> int:
    """GPUs that finish in `days`, rounded up to whole nodes."""
    gpus = math.ceil(gpu_hours / (days * 24.0) - 1e-9)
    return gpus_per_node * math.ceil(gpus / gpus_per_node)


def checkpoint_gib(params: float) -> float:
    return params * CHECKPOINT_BYTES_PER_PARAM / GIB


def _lustre(checkpoint: float, max_write_seconds: float, cat: Catalog | None) -> LustreSize:
    prices = dict(cat.pricing.fsx_lustre_persistent2_usd_per_gb_month) if cat else None
    return lustre_size(checkpoint, max_write_seconds, prices)


def _mfu(w: TrainWorkload, hw: Hardware, cat: Catalog, gpus: float) -> tuple[float, float, float, str]:
    """Expected, slow-end and fast-end MFU at this many GPUs, and where it comes from."""
    if w.mfu is not None:
        return w.mfu, w.mfu, w.mfu, "--mfu"
    moe = bool(w.active_params) and w.active_params < w.params
    est = model_for(cat).estimate(hw.gpu.generation, w.precision, moe,
                                  data_parallel_width(gpus, w.params, hw.gpu.memory_gib))
    return est.expected, est.slow, est.fast, est.terms


def _validate(w: TrainWorkload) -> None:
    problems: list[Problem] = []
    positive("--params", w.params, problems)
    positive("--tokens", w.tokens, problems)
    positive("--active-params", w.active_params, problems)
    positive("--gpus", w.gpus, problems, integer=True)
    positive("--days", w.days, problems)
    positive("--checkpoint-write-seconds", w.checkpoint_write_seconds, problems)
    if w.mfu is not None and not 0 < w.mfu <= 1:
        problems.append(Problem("--mfu", f"must be a fraction in (0, 1], got {w.mfu:g}"))
    if w.active_params and w.params > 0 and w.active_params > w.params:
        problems.append(Problem("--active-params", f"{w.active_params:g} is more than --params {w.params:g}"))
    if w.gpus is not None and w.days is not None:
        problems.append(Problem("--days", "give --gpus (answer: days) or --days (answer: GPUs), not both"))
    elif w.gpus is None and w.days is None:
        problems.append(Problem("--gpus", "give --gpus (answer: days) or --days (answer: GPUs)"))
    if w.precision not in PRECISIONS:
        problems.append(Problem("--precision", f"{w.precision!r} is not one of: {', '.join(PRECISIONS)}"))
    if problems:
        raise UserError("invalid training workload", problems)


def _gpus_for_days(w: TrainWorkload, hw: Hardware, cat: Catalog, flops: float, peak: float, floor: int) -> int:
    """GPUs (whole nodes) that finish within --days. MFU falls as the cluster widens, so this is
    a fixed point: GPUs -> MFU -> GPU-hours -> GPUs; it settles in a few steps (slope < 0.1)."""
    gpn, gpus = hw.gpus_per_node, floor
    for _ in range(50):
        hours = gpu_hours_for(flops, peak, _mfu(w, hw, cat, gpus)[0])
        nxt = max(gpus_within(hours, w.days, gpn), floor)
        if nxt == gpus:
            break
        gpus = nxt
    return gpus


def plan_train(w: TrainWorkload, hw: Hardware, cat: Catalog) -> TrainPlan:
    _validate(w)
    active = w.active_params or w.params
    peak = hw.peak_flops(w.precision)
    flops = training_flops(active, w.tokens, w.attention)
    attention_share = 1 - training_flops(active, w.tokens) / flops
    need = min_gpus_for_state(w.params, hw.gpu.memory_gib)
    gpn = hw.gpus_per_node
    if w.gpus is not None:
        gpus = int(w.gpus)
        if gpus < need:
            raise UserError("too few GPUs for the model", [Problem(
                "--gpus", f"{gpus} x {hw.gpu.name} ({hw.gpu.memory_gib:g} GiB) cannot hold the "
                          f"{state_gib(w.params):,.0f} GiB of sharded training state; need at least {need}")])
    else:
        gpus = _gpus_for_days(w, hw, cat, flops, peak, gpn * math.ceil(need / gpn))
    mfu, slow, fast, mfu_source = _mfu(w, hw, cat, gpus)
    hours = gpu_hours_for(flops, peak, mfu)
    hours_range = (gpu_hours_for(flops, peak, slow), gpu_hours_for(flops, peak, fast))
    nodes = math.ceil(gpus / gpn)
    days = days_on(hours, gpus)
    days_range = (days_on(hours_range[0], gpus), days_on(hours_range[1], gpus))
    ckpt = checkpoint_gib(w.params)
    lustre = _lustre(ckpt, w.checkpoint_write_seconds, cat)
    node_day = nodes * hw.usd_per_node_hour * 24
    cost = node_day * days
    reserved = hw.reserved_rate(training=True)
    cost_reserved = nodes * reserved[0].usd_per_hour * days * 24 if reserved else None
    dp = data_parallel_width(gpus, w.params, hw.gpu.memory_gib)
    attn = (f"{attention_share:.0%} of it attention at {w.attention.seq_len:,}-token sequences"
            if w.attention else "attention not counted: give --preset or --layers, --hidden-size and --seq-len")
    given = w.mfu is not None
    fast_end, slow_end = (1.0, 1.0) if given else model_for(cat).range
    assumptions = [
        f"training FLOPs = (6 x active params + 12 x layers x attention width x seq len) x tokens = {flops:.3g} "
        f"({attn}); activation recomputation not counted",
        f"{hw.gpu.name} dense {w.precision} peak {peak / 1e12:,.0f} TFLOPS x effective MFU {mfu:.3f} "
        + ("(given with --mfu)" if given else
           f"(utilisation model, catalog mfu.yaml: {mfu_source}; data-parallel width = {gpus:,} GPUs / "
           f"{need:,} holding one copy of the state)"),
        "range: --mfu given, none" if given else
        f"range: GPU-hours {fast_end:.2f}x to {slow_end:.2f}x the expected value, published / expected over the "
        "calibration runs at percentiles {:g}-{:g} (mfu.yaml, docs/sizing.md); the slow end is what restarts and "
        "unstable runs cost".format(*cat.mfu.model.range_percentiles),
        f"sharded state {STATE_BYTES_PER_PARAM} B/param (bf16 weights+grads, fp32 master, Adam) in "
        f"{STATE_MEMORY_FRACTION:.0%} of GPU memory; activations not sized",
        f"checkpoint {CHECKPOINT_BYTES_PER_PARAM} B/param (bf16 + fp32 weights, Adam moments); "
        f"Lustre PERSISTENT_2 writes it within {w.checkpoint_write_seconds:g} s",
        f"cost: {nodes} x {hw.instance_type} on demand at ${hw.usd_per_node_hour:,.2f}/h "
        f"({hw.instance.price.source.date}) for the whole run",
        reserved_assumption("run", hw, reserved),
    ]
    inst = hw.instance
    if nodes > 1 and inst.efa_interfaces == 0:
        assumptions.append(f"WARNING: {nodes} nodes of {hw.instance_type} have no EFA; data-parallel traffic "
                           f"over {inst.network_gbps:g} Gb/s TCP will not sustain this MFU")
    return TrainPlan(hw, w, flops, peak, mfu, mfu_source, hours, (slow, fast), hours_range, days_range,
                     (node_day * days_range[0], node_day * days_range[1]), dp, attention_share, gpus, nodes, days,
                     state_gib(w.params), need, ckpt, lustre, cost, cost_reserved,
                     reserved[1] if reserved else None, assumptions)
