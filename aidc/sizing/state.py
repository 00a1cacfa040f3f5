"""Training state in GPU memory: how many GPUs a model's sharded state needs. The utilisation
model reads the same floor as the planner (data-parallel width = GPUs / this floor)."""

from __future__ import annotations

import math

GIB = 1 << 30
# Mixed-precision Adam, fully sharded (ZeRO-3 / FSDP): bf16 weights 2 + bf16 gradients 2 +
# fp32 master weights 4 + Adam first and second moments 4 + 4 bytes per parameter.
STATE_BYTES_PER_PARAM = 16
# Of each GPU's memory, the share sharded state may take; the rest is for activations,
# communication buffers and allocator fragmentation.
STATE_MEMORY_FRACTION = 0.75


def state_gib(params: float) -> float:
    return params * STATE_BYTES_PER_PARAM / GIB


def min_gpus_for_state(params: float, memory_gib: float) -> int:
    """GPUs whose memory holds weights, gradients and optimizer state when fully sharded."""
    return max(1, math.ceil(state_gib(params) / (memory_gib * STATE_MEMORY_FRACTION) - 1e-9))


def data_parallel_width(gpus: float, params: float, memory_gib: float) -> float:
    """Model replicas a cluster runs: GPUs over the fewest that hold one copy of the state."""
    return max(1.0, gpus / min_gpus_for_state(params, memory_gib))
