"""Training run sizing: FLOPs -> GPU-hours -> GPUs or days, nodes, checkpoint, Lustre, cost."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aidc.errors import Problem, UserError
from components.catalog import Catalog
from components.formulas.lustre import LustreSize, lustre_size

from .hardware import GIB, Hardware, positive, reserved_assumption

# Mixed-precision Adam, fully sharded (ZeRO-3 / FSDP): bf16 weights 2 + bf16 gradients 2 +
# fp32 master weights 4 + Adam first and second moments 4 + 4 bytes per parameter.
STATE_BYTES_PER_PARAM = 16
# Of each GPU's memory, the share sharded state may take; the rest is for activations,
# communication buffers and allocator fragmentation.
STATE_MEMORY_FRACTION = 0.75
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
    mfu: float | None = None  # default: catalog mfu.yaml for the GPU generation and precision
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


def training_flops(active_params: float, tokens: float) -> float:
    """6 N T: 2 FLOPs per parameter per token forward, 4 backward."""
    return 6.0 * active_params * tokens


def gpu_hours_for(flops: float, peak_flops: float, mfu: float) -> float:
    return flops / (peak_flops * mfu) / 3600.0


def days_on(gpu_hours: float, gpus: int) -> float:
    return gpu_hours / gpus / 24.0


def gpus_within(gpu_hours: float, days: float, gpus_per_node: int) -> int:
    """GPUs that finish in `days`, rounded up to whole nodes."""
    gpus = math.ceil(gpu_hours / (days * 24.0) - 1e-9)
    return gpus_per_node * math.ceil(gpus / gpus_per_node)


def state_gib(params: float) -> float:
    return params * STATE_BYTES_PER_PARAM / GIB


def min_gpus_for_state(params: float, memory_gib: float) -> int:
    """GPUs whose memory holds weights, gradients and optimizer state when fully sharded."""
    return math.ceil(state_gib(params) / (memory_gib * STATE_MEMORY_FRACTION) - 1e-9)


def checkpoint_gib(params: float) -> float:
    return params * CHECKPOINT_BYTES_PER_PARAM / GIB


def _lustre(checkpoint: float, max_write_seconds: float, cat: Catalog | None) -> LustreSize:
    prices = dict(cat.pricing.fsx_lustre_persistent2_usd_per_gb_month) if cat else None
    return lustre_size(checkpoint, max_write_seconds, prices)


def default_mfu(cat: Catalog, hw: Hardware, precision: str) -> tuple[float, str]:
    gen = cat.mfu.get(hw.gpu.generation)
    value = gen.mfu.get(precision) if gen else None
    if value is None:
        raise UserError("no default MFU", [Problem(
            "--mfu", f"the catalog has no default {precision} MFU for {hw.gpu.generation} GPUs ({hw.gpu.name}); "
                     "give --mfu")])
    return value, gen.source.url


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


def plan_train(w: TrainWorkload, hw: Hardware, cat: Catalog) -> TrainPlan:
    _validate(w)
    active = w.active_params or w.params
    peak = hw.peak_flops(w.precision)
    if w.mfu is not None:
        mfu, mfu_source = w.mfu, "--mfu"
    else:
        mfu, mfu_source = default_mfu(cat, hw, w.precision)
    flops = training_flops(active, w.tokens)
    hours = gpu_hours_for(flops, peak, mfu)
    need = min_gpus_for_state(w.params, hw.gpu.memory_gib)
    gpn = hw.gpus_per_node
    if w.gpus is not None:
        gpus = int(w.gpus)
        if gpus < need:
            raise UserError("too few GPUs for the model", [Problem(
                "--gpus", f"{gpus} x {hw.gpu.name} ({hw.gpu.memory_gib:g} GiB) cannot hold the "
                          f"{state_gib(w.params):,.0f} GiB of sharded training state; need at least {need}")])
    else:
        gpus = max(gpus_within(hours, w.days, gpn), gpn * math.ceil(need / gpn))
    nodes = math.ceil(gpus / gpn)
    days = days_on(hours, gpus)
    ckpt = checkpoint_gib(w.params)
    lustre = _lustre(ckpt, w.checkpoint_write_seconds, cat)
    cost = nodes * hw.usd_per_node_hour * days * 24
    reserved = hw.reserved_rate(training=True)
    cost_reserved = nodes * reserved[0].usd_per_hour * days * 24 if reserved else None
    assumptions = [
        f"training FLOPs = 6 x active params x tokens = {flops:.3g} "
        "(attention and recomputation not counted)",
        f"{hw.gpu.name} dense {w.precision} peak {peak / 1e12:,.0f} TFLOPS x effective MFU {mfu:.2f} "
        f"({'given' if w.mfu is not None else hw.gpu.generation + ' default, catalog mfu.yaml'}); "
        "MFU held constant at any GPU count",
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
    return TrainPlan(hw, w, flops, peak, mfu, mfu_source, hours, gpus, nodes, days, state_gib(w.params),
                     need, ckpt, lustre, cost, cost_reserved, reserved[1] if reserved else None, assumptions)
