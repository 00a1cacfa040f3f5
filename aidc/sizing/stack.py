"""Stack-file fragments from a sizing answer: a `gpuPools` entry and, for training, the Lustre
the checkpoint needs, for serving the inference service the plan sized (with every number
the stack validator's memory fit needs to reach the planner's answer), ready to paste into
stacks/Pulumi.<env>.yaml."""

from __future__ import annotations

import re

import yaml
from pydantic import ValidationError

from aidc.errors import Problem, UserError
from components.spec.base import SpecError
from components.spec.inference import ServiceSpec
from components.spec.root import load_spec

from .serve import ServePlan
from .train import TrainPlan

CAPACITY_TYPES = ("onDemand", "spot", "capacityBlock", "reservation")
MODEL_SOURCES = ("bucket", "lustre", "hub")
# Which flag a bad field of the emitted service comes from.
_SERVICE_FLAGS = {"name": "--service-name", "model": "--model-source", "maxModelLen": "--context"}


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


def _model_source(source: str | None, default_path: str) -> dict:
    kind, _, where = (source or f"bucket:{default_path}").partition(":")
    if kind not in MODEL_SOURCES or not where:
        raise UserError("unknown model source", [Problem(
            "--model-source", f"{source!r} is not bucket:PATH, lustre:/PATH or hub:ORG/NAME")])
    return {"hub": {"id": where}} if kind == "hub" else {kind: where}


def inference_service(plan: ServePlan, pool: str, service: str | None = None, source: str | None = None,
                      preset: str | None = None) -> dict:
    """An `aidc:inference.services` entry that deploys what the plan sized. It carries the
    model's attention shape, maxModelLen (the context), maxNumSeqs (sequences per replica)
    and gpuMemoryUtilization, so the validator counts the same KV cache in the same budget
    (components.formulas.memory) and accepts exactly the tensor parallelism planned here."""
    w = plan.workload
    name = service or re.sub(r"[^a-z0-9]+", "-", (preset or "model").lower()).strip("-")[:42].rstrip("-")
    a = w.arch
    svc: dict = {
        "name": name,
        "model": {**_model_source(source, preset or name), "paramsB": w.params_b,
                  "architecture": {"layers": a.layers, "kvHeads": a.kv_heads, "headDim": a.head_dim,
                                   **({"kvLatentDim": a.kv_latent_dim} if a.kv_latent_dim else {})}},
        "pool": pool,
        "tensorParallel": plan.tensor_parallel,
        "precision": w.precision,
        "minReplicas": plan.replicas,
        "maxReplicas": plan.replicas,
        "maxModelLen": w.context,
        "maxNumSeqs": plan.seqs_per_replica,
        "gpuMemoryUtilization": w.gpu_memory_utilization,
    }
    if w.kv_precision == "fp8":
        svc["kvCacheDtype"] = "fp8"
    try:  # the spec's own field rules, reported against the flag they came from
        ServiceSpec.model_validate(svc)
    except ValidationError as err:
        raise UserError("the emitted service would not load", [
            Problem(_SERVICE_FLAGS.get(str(e["loc"][0]), "--emit-stack"),
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in err.errors()]) from None
    return svc


def fragment(plan: TrainPlan | ServePlan, name: str | None = None, capacity: str | None = None,
             reservation_id: str | None = None, zone: str | None = None, service: str | None = None,
             source: str | None = None, preset: str | None = None) -> str:
    """YAML text: `aidc:gpuPools` with one pool and, for training, the `aidc:storage` Lustre
    the planner chose, pinned (capacity and tier), so the stack builds exactly that; for
    serving, the `aidc:inference` service on that pool."""
    pool = gpu_pool(plan, name, capacity, reservation_id, zone)
    doc: dict = {"aidc:gpuPools": [pool]}
    if isinstance(plan, ServePlan):
        doc["aidc:inference"] = {"services": [inference_service(plan, pool["name"], service, source, preset)]}
    if isinstance(plan, TrainPlan):
        lu = plan.lustre
        doc["aidc:storage"] = {"lustre": {"capacityGiB": lu.capacity_gib, "throughputPerTiB": lu.tier_mbps_per_tib,
                                          "checkpointGiB": round(plan.checkpoint_gib)}}
    if (net := network_that_fits(doc)) is not None:
        doc["aidc:network"] = net
    text = f"# aidc size: {_summary(plan)}\n"
    if "aidc:network" in doc:
        text += ("# the default network's subnets cannot hold these nodes' addresses: the network below "
                 "does (aidc plan prints the figures)\n")
    if isinstance(plan, ServePlan) and source is None:
        folder = doc["aidc:inference"]["services"][0]["model"]["bucket"]
        text += (f"# the weights are read from {folder}/ in the models bucket (aidc:storage.modelNamespaces must "
                 "list the inference namespace); --model-source to change\n")
    if isinstance(plan, TrainPlan):
        lu = plan.lustre
        text += (f"# Lustre for the {plan.checkpoint_gib:,.0f} GiB checkpoint: {lu.capacity_gib:,} GiB at "
                 f"{lu.tier_mbps_per_tib} MB/s/TiB, written in {lu.write_seconds:,.0f} s\n")
    return text + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def network_that_fits(doc: dict) -> dict | None:
    """`aidc:network` keys that hold the fragment's nodes, when the default network does not:
    the private subnet prefix the address plan asks for, and a /16 VPC around it."""
    config = {"aws:region": "us-east-1", "aidc:environment": "staging", **doc}
    try:
        load_spec(config)
        return None  # fits as it is
    except SpecError as err:
        prefixes = [p for p in err.problems if p.path == "aidc:network.privateSubnetPrefix"]
        if not prefixes:
            return None
    net = {"cidr": "10.0.0.0/16"}
    for prefix in range(19, 15, -1):
        try:  # the stack loads only when every subnet holds its addresses (spec.addresses)
            load_spec({**config, "aidc:network": {**net, "privateSubnetPrefix": prefix}})
        except SpecError:
            continue
        return {**net, "privateSubnetPrefix": prefix}
    return None


def _summary(plan: TrainPlan | ServePlan) -> str:
    hw = plan.hardware
    if isinstance(plan, TrainPlan):
        return (f"train {plan.workload.params:.3g} params on {plan.workload.tokens:.3g} tokens: "
                f"{plan.gpus} x {hw.gpu.name} ({plan.nodes} x {hw.instance_type}), {plan.days:,.1f} days")
    return (f"serve {plan.workload.arch.name} {plan.workload.precision}: TP {plan.tensor_parallel} x "
            f"{plan.replicas} replicas on {plan.nodes} x {hw.instance_type}")
