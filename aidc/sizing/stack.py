"""Stack-file fragments from a sizing answer: a `gpuPools` entry (and the Lustre the
checkpoint needs), ready to paste into stacks/Pulumi.<env>.yaml."""

from __future__ import annotations

import re

import yaml

from aidc.errors import Problem, UserError

from .serve import ServePlan
from .train import TrainPlan

CAPACITY_TYPES = ("onDemand", "spot", "capacityBlock", "reservation")


def pool_name(prefix: str, gpu_key: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", gpu_key.lower()).strip("-")
    return f"{prefix}-{slug}"[:32].rstrip("-")


def _capacity(plan: TrainPlan | ServePlan, capacity: str | None, reservation_id: str | None,
              zone: str | None) -> dict:
    inst = plan.hardware.instance
    kind = capacity or ("capacityBlock" if inst.capacity_block_only else "onDemand")
    if kind not in CAPACITY_TYPES:
        raise UserError("unknown capacity type",
                        [Problem("--capacity", f"{kind!r} is not one of: {', '.join(CAPACITY_TYPES)}")])
    if inst.capacity_block_only and kind != "capacityBlock":
        raise UserError("capacity not sold", [Problem(
            "--capacity", f"{plan.hardware.instance_type} is sold only as Capacity Blocks; use capacityBlock")])
    if kind in ("capacityBlock", "reservation") and not reservation_id:
        raise UserError("reservation needed", [Problem(
            "--reservation-id", f"{kind} capacity needs the reservation id (cr-...) of the capacity you hold")])
    if kind in ("capacityBlock", "reservation") and not zone:
        raise UserError("zone needed", [Problem(
            "--zone", f"{kind} capacity lives in one availability zone: give it (e.g. us-east-1a)")])
    if kind not in ("capacityBlock", "reservation") and reservation_id:
        raise UserError("reservation not used", [Problem("--reservation-id", f"{kind} capacity takes no reservation")])
    return {"type": kind, **({"reservationId": reservation_id} if reservation_id else {})}


def gpu_pool(plan: TrainPlan | ServePlan, name: str | None = None, capacity: str | None = None,
             reservation_id: str | None = None, zone: str | None = None) -> dict:
    training = isinstance(plan, TrainPlan)
    hw = plan.hardware
    pool = {
        "name": name or pool_name("train" if training else "infer", hw.gpu_key),
        "instanceType": hw.instance_type,
        "provisioner": "managed",
        "capacity": _capacity(plan, capacity, reservation_id, zone),
        "size": {"min": plan.nodes, "max": plan.nodes},
        # Multi-node training all-reduces over EFA; tensor-parallel serving stays inside a node.
        "efa": bool(training and hw.instance.efa_interfaces > 0),
        "purpose": "training" if training else "inference",
    }
    if zone:
        pool["availabilityZone"] = zone
    return pool


def fragment(plan: TrainPlan | ServePlan, name: str | None = None, capacity: str | None = None,
             reservation_id: str | None = None, zone: str | None = None) -> str:
    """YAML text: `aidc:gpuPools` with one pool and, for training, the `aidc:storage` Lustre
    the planner chose, pinned (capacity and tier), so the stack builds exactly that."""
    doc: dict = {"aidc:gpuPools": [gpu_pool(plan, name, capacity, reservation_id, zone)]}
    if isinstance(plan, TrainPlan):
        lu = plan.lustre
        doc["aidc:storage"] = {"lustre": {"capacityGiB": lu.capacity_gib, "throughputPerTiB": lu.tier_mbps_per_tib,
                                          "checkpointGiB": round(plan.checkpoint_gib)}}
    text = f"# aidc size: {_summary(plan)}\n"
    if isinstance(plan, TrainPlan):
        lu = plan.lustre
        text += (f"# Lustre for the {plan.checkpoint_gib:,.0f} GiB checkpoint: {lu.capacity_gib:,} GiB at "
                 f"{lu.tier_mbps_per_tib} MB/s/TiB, written in {lu.write_seconds:,.0f} s\n")
    return text + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _summary(plan: TrainPlan | ServePlan) -> str:
    hw = plan.hardware
    if isinstance(plan, TrainPlan):
        return (f"train {plan.workload.params:.3g} params on {plan.workload.tokens:.3g} tokens: "
                f"{plan.gpus} x {hw.gpu.name} ({plan.nodes} x {hw.instance_type}), {plan.days:,.1f} days")
    return (f"serve {plan.workload.arch.name} {plan.workload.precision}: TP {plan.tensor_parallel} x "
            f"{plan.replicas} replicas on {plan.nodes} x {hw.instance_type}")
