"""GPU pools as the plan declares them, and how many node-hours each runs in a month:
node groups and Karpenter NodePools read from the pool facts their node labels carry, the
site's own servers from the stack's pool model, and the hours model servers hold nodes up
(minimum replicas all month, scale-to-zero services during their work hours)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from components.catalog import Catalog, catalog
from components.formulas.schedule import HOURS_PER_MONTH, monthly_hours
from components.spec import Spec, SpecError, load_spec
from components.spec.gpu_pools import CAPACITY_TYPES
from components.spec.pools import PoolFacts
from components.vocabulary import (
    CAPACITY_TYPE_LABEL,
    GPU_COUNT_LABEL,
    GPU_RESOURCE,
    INSTANCE_TYPE_LABEL,
    LAUNCH_TEMPLATE,
    NODE_CLASS,
    NODE_GROUP,
    NODE_POOL,
    POOL_LABEL,
)

from .plan import Plan, Resource

RESERVED = ("capacityBlock", "reservation", "existing")


@dataclass(frozen=True)
class GpuPool:
    """One pool of GPU nodes as the plan (or the stack config) sizes it."""

    urn: str
    component: str
    name: str
    instance_type: str
    capacity: str  # onDemand | spot | capacityBlock | reservation | existing (the site's servers)
    min: int
    desired: int | None
    max: int | None  # None: no limit found
    source: str  # "plan" or "config"
    disk_gib: float = 0.0
    serving_floor: int = 0  # nodes the model servers' minReplicas keep up all month
    gpus_per_node: int = 0
    work_node_hours: float = 0.0  # node-hours scale-to-zero servers hold during their work hours
    stated_node_hours: float = 0.0  # aidc:cost.poolNodeHours: what the stack expects beyond that

    @property
    def reserved(self) -> bool:
        return self.capacity in RESERVED and self.max is not None

    @property
    def expected(self) -> int:
        """Nodes up all month: desired where given, else min, never fewer than the model
        servers hold up; reserved capacity (and the site's servers) at its full size."""
        if self.reserved:
            return self.max  # type: ignore[return-value]
        return max(self.desired if self.desired is not None else self.min, self.serving_floor)

    @property
    def node_hours(self) -> float:
        """Node-hours in a 730-hour month: the expected nodes all month, plus work-hours and
        stated hours, never more than the pool's maximum all month."""
        if self.reserved:
            return self.expected * HOURS_PER_MONTH
        hours = self.expected * HOURS_PER_MONTH + self.work_node_hours + self.stated_node_hours
        return hours if self.max is None else min(hours, self.max * HOURS_PER_MONTH)

    @property
    def max_node_hours(self) -> float:
        return (self.max * HOURS_PER_MONTH) if self.max is not None else self.node_hours


def stack_spec(config: Mapping[str, Any]) -> Spec | None:
    """The stack the plan was made from, resolved (pool model included); None when the plan
    carries no valid aidc config (a plan of another program, or of an older aidc)."""
    try:
        return load_spec(config) if config else None
    except SpecError:
        return None


def as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\d+(\.\d+)?", v):
        return int(float(v))
    return None


_SCALE = {"Gi": 1.0, "Ti": 1024.0, "G": 1 / 1.073741824, "T": 1000 / 1.073741824}


def gib(v: Any) -> float:
    """'200Gi' / '100G' / '1Ti' / 200 -> GiB."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Gi|G|Ti|T)?", str(v or ""))
    if not m:
        return 0.0
    return float(m.group(1)) * _SCALE[m.group(2) or "Gi"]


def node_labels(res: Resource) -> Mapping[str, Any]:
    """The labels a node group or NodePool puts on its nodes: the pool model's facts."""
    if res.type == NODE_GROUP:
        return res.inputs.get("labels") or {}
    return ((res.inputs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def launch_template_disk(res: Resource, by_urn: Mapping[str, Resource]) -> float:
    """A node group's volume, from the launch template it depends on (EKS's 20 GiB without one)."""
    lts = [by_urn[d] for d in res.dependencies if d in by_urn and by_urn[d].type == LAUNCH_TEMPLATE]
    if not lts:
        return float(as_int(res.inputs.get("diskSize")) or 20)
    return sum(gib((m.get("ebs") or {}).get("volumeSize")) for lt in lts
               for m in lt.inputs.get("blockDeviceMappings") or [])


def _node_class_disk(res: Resource, node_classes: Mapping[str, Resource]) -> float:
    """The NodePool's volume, from the EC2NodeClass its nodeClassRef names."""
    ref = ((res.inputs.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeClassRef") or {}
    node_class = node_classes.get(str(ref.get("name")))
    if node_class is None:
        return 0.0
    return sum(gib((m.get("ebs") or {}).get("volumeSize"))
               for m in (node_class.inputs.get("spec") or {}).get("blockDeviceMappings") or [])


def _declared_pool(res: Resource, plan: Plan, by_urn: Mapping[str, Resource],
                   node_classes: Mapping[str, Resource], cat: Catalog) -> GpuPool | None:
    """A GPU pool from its node group or NodePool, or None when the resource carries no aidc
    pool facts (a node group another program made, or the system nodes)."""
    labels = node_labels(res)
    name, itype = labels.get(POOL_LABEL), labels.get(INSTANCE_TYPE_LABEL)
    capacity, per_node = labels.get(CAPACITY_TYPE_LABEL), as_int(labels.get(GPU_COUNT_LABEL))
    if not name or itype not in cat.ec2_types or capacity not in CAPACITY_TYPES or not per_node:
        return None
    if res.type == NODE_GROUP:
        sc = res.inputs.get("scalingConfig") or {}
        return GpuPool(res.urn, plan.component_of(res), name, itype, capacity, as_int(sc.get("minSize")) or 0,
                       as_int(sc.get("desiredSize")), as_int(sc.get("maxSize")), "plan",
                       launch_template_disk(res, by_urn), gpus_per_node=per_node)
    # A NodePool starts no node on its own; its GPU limit is its size.max in GPUs.
    gpus = as_int(((res.inputs.get("spec") or {}).get("limits") or {}).get(GPU_RESOURCE))
    return GpuPool(res.urn, plan.component_of(res), name, itype, capacity, 0, None,
                   None if gpus is None else gpus // per_node, "plan", _node_class_disk(res, node_classes),
                   gpus_per_node=per_node)


def _config_pool(index: int, pool: PoolFacts) -> GpuPool:
    """A pool the plan has no node resource for (the site's servers), from the stack's pool model."""
    return GpuPool(f"config:aidc:gpuPools[{index}]", "aidc:gpuPools", pool.name, pool.instance_type, pool.capacity,
                   pool.min_nodes, pool.desired_nodes, pool.max_nodes, "config", float(pool.disk_gib or 0),
                   gpus_per_node=pool.gpus_per_node)


def _time_aware(p: GpuPool, spec: Spec) -> GpuPool:
    """The hours model servers hold nodes of the pool: minReplicas all month (a lower bound:
    replicas pack), one replica of each scale-to-zero service during its work hours (on
    nodes of its own: an upper bound), plus the node-hours the stack states."""
    held = work = 0.0
    for svc in spec.inference.services:
        if svc.pool != p.name:
            continue
        held += svc.min_replicas * svc.gpus_per_replica
        if svc.min_replicas == 0:
            wh = svc.scaling.work_hours
            work += -(-svc.gpus_per_replica // p.gpus_per_node) * (monthly_hours(wh.start, wh.end) or HOURS_PER_MONTH)
    return replace(p, serving_floor=int(-(-held // p.gpus_per_node)), work_node_hours=work,
                   stated_node_hours=spec.cost.pool_node_hours.get(p.name, 0.0))


def plan_pools(plan: Plan, cat: Catalog | None = None) -> list[GpuPool]:
    """GPU pools: node groups and NodePools priced from the pool facts their node labels carry,
    plus the stack's pools that launch nothing (existing servers), from its pool model."""
    cat = cat or catalog()
    by_urn = plan.by_urn()
    live = [r for r in plan.resources if r.op != "delete"]
    node_classes = {str((r.inputs.get("metadata") or {}).get("name")): r for r in live if r.type == NODE_CLASS}
    pools = [p for r in live if r.type in (NODE_GROUP, NODE_POOL)
             if (p := _declared_pool(r, plan, by_urn, node_classes, cat)) is not None]
    spec = stack_spec(plan.config)
    if spec is None:
        return pools
    declared = {p.name for p in pools}
    pools += [_config_pool(i, spec.pools[s.name]) for i, s in enumerate(spec.gpu_pools)
              if s.name in spec.pools and s.name not in declared and s.existing]
    return [_time_aware(p, spec) for p in pools]
