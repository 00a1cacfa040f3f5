"""Capacity planning from the workload: pure functions over the catalog, no Pulumi.

`plan_train` sizes a training run (GPUs or days, nodes, checkpoint, Lustre, cost);
`plan_serve` sizes an inference deployment (tensor parallelism, replicas, KV cache, cost).
Every fact (GPU peak, memory, bandwidth, node shape, price, MFU, model architecture) comes
from the catalog; formulas and assumptions are in docs/sizing.md."""

from components.formulas.memory import kv_bytes_per_token

from .flops import AttentionShape, training_flops
from .hardware import Hardware, resolve_hardware
from .serve import ServePlan, ServeWorkload, plan_serve
from .train import TrainPlan, TrainWorkload, plan_train

__all__ = [
    "AttentionShape", "Hardware", "ServePlan", "ServeWorkload", "TrainPlan", "TrainWorkload", "kv_bytes_per_token",
    "plan_serve", "plan_train", "resolve_hardware", "training_flops",
]
