"""Cost and energy model over a plan document: monthly USD per resource and per component,
$/GPU-hour, power (kW) and energy (MWh/month). Prices come only from the catalog; GPU pool
sizes from the plan's node groups and NodePools, else from the stack config it carries."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from components.catalog import Catalog, Instance, catalog
from components.spec import CostSpec, Problem, Spec, SpecError, load_spec
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

from .errors import UserError
from .plan import Plan, Resource

HOURS_PER_MONTH = 730  # AWS's convention: 8760 h / 12


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
    serving_floor: int = 0  # nodes the model servers' minReplicas keep up (aidc:inference)
    gpus_per_node: int = 0

    @property
    def expected(self) -> int:
        """Nodes running in a normal month: desired where given, else min, and never fewer than the
        model servers on the pool hold up (reserved capacity is paid in full; the site's own
        servers stand and draw power whether or not work runs)."""
        if self.capacity in ("capacityBlock", "reservation", "existing") and self.max is not None:
            return self.max
        return max(self.desired if self.desired is not None else self.min, self.serving_floor)


@dataclass(frozen=True)
class CostLine:
    urn: str
    component: str
    type: str
    monthly_usd: float
    detail: str
    monthly_usd_max: float | None = None  # at every pool's max size; None = same as monthly_usd


@dataclass
class CostEstimate:
    lines: list[CostLine]
    assumptions: list[str]
    gpu_count: int
    gpu_count_max: int | None
    power_kw: float
    power_kw_max: float | None
    pools: list[GpuPool] = field(default_factory=list)
    unpriced_gpu_count: int = 0  # GPUs of on-prem servers: counted for power, not in $/GPU-hour

    @property
    def monthly_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    @property
    def monthly_usd_max(self) -> float:
        return round(sum(line.monthly_usd if line.monthly_usd_max is None else line.monthly_usd_max
                         for line in self.lines), 2)

    def by_component(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[line.component] += line.monthly_usd
        return {k: round(v, 2) for k, v in sorted(out.items())}

    @property
    def usd_per_gpu_hour(self) -> float | None:
        priced = self.gpu_count - self.unpriced_gpu_count
        return round(self.monthly_usd / (priced * HOURS_PER_MONTH), 4) if priced > 0 else None

    @property
    def energy_mwh_per_month(self) -> float:
        return round(self.power_kw * HOURS_PER_MONTH / 1000, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "monthlyUsd": self.monthly_usd, "monthlyUsdMax": self.monthly_usd_max,
            "byComponent": self.by_component(), "gpuCount": self.gpu_count, "gpuCountMax": self.gpu_count_max,
            "unpricedGpuCount": self.unpriced_gpu_count,
            "usdPerGpuHour": self.usd_per_gpu_hour, "powerKw": self.power_kw, "powerKwMax": self.power_kw_max,
            "energyMwhPerMonth": self.energy_mwh_per_month, "assumptions": self.assumptions,
            "lines": [{"urn": ln.urn, "component": ln.component, "type": ln.type, "monthlyUsd": round(ln.monthly_usd, 2),
                       "monthlyUsdMax": None if ln.monthly_usd_max is None else round(ln.monthly_usd_max, 2),
                       "detail": ln.detail} for ln in self.lines],
        }


# ---------------------------------------------------------------- GPU pools as the program declared them

def cost_settings(config: Mapping[str, Any]) -> CostSpec:
    raw = config.get("aidc:cost") or {}
    try:
        return CostSpec.model_validate(raw)
    except ValidationError as err:
        raise UserError("invalid aidc:cost settings", [
            Problem("aidc:cost" + "".join(f".{p}" for p in e["loc"]), e["msg"]) for e in err.errors()]) from None


def stack_spec(config: Mapping[str, Any]) -> Spec | None:
    """The stack the plan was made from, resolved (pool model included); None when the plan
    carries no valid aidc config (a plan of another program, or of an older aidc)."""
    try:
        return load_spec(config) if config else None
    except SpecError:
        return None


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\d+(\.\d+)?", v):
        return int(float(v))
    return None


def _gib(v: Any) -> float:
    """'200Gi' / '100G' / 200 -> GiB."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Gi|G|Ti|T)?", str(v or ""))
    if not m:
        return 0.0
    scale = {"Ti": 1024, "T": 1000 / 1.073741824, "G": 1 / 1.073741824}.get(m.group(2) or "Gi", 1.0)
    return float(m.group(1)) * scale


def _node_labels(res: Resource) -> Mapping[str, Any]:
    """The labels a node group or NodePool puts on its nodes: the pool model's facts."""
    if res.type == NODE_GROUP:
        return res.inputs.get("labels") or {}
    return ((res.inputs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def _launch_template_disk(res: Resource, by_urn: Mapping[str, Resource]) -> float:
    """The node group's volume, from the launch template it depends on (EKS's 20 GiB without one)."""
    lts = [by_urn[d] for d in res.dependencies if d in by_urn and by_urn[d].type == LAUNCH_TEMPLATE]
    if not lts:
        return float(_int(res.inputs.get("diskSize")) or 20)
    return sum(_gib((m.get("ebs") or {}).get("volumeSize")) for lt in lts
               for m in lt.inputs.get("blockDeviceMappings") or [])


def _node_class_disk(res: Resource, node_classes: Mapping[str, Resource]) -> float:
    """The NodePool's volume, from the EC2NodeClass its nodeClassRef names."""
    ref = ((res.inputs.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeClassRef") or {}
    node_class = node_classes.get(str(ref.get("name")))
    if node_class is None:
        return 0.0
    return sum(_gib((m.get("ebs") or {}).get("volumeSize"))
               for m in (node_class.inputs.get("spec") or {}).get("blockDeviceMappings") or [])


def _declared_pool(res: Resource, plan: Plan, by_urn: Mapping[str, Resource],
                   node_classes: Mapping[str, Resource], cat: Catalog) -> GpuPool | None:
    """A GPU pool from its node group or NodePool, or None when the resource carries no aidc
    pool facts (a node group another program made, or the system nodes)."""
    labels = _node_labels(res)
    name, itype = labels.get(POOL_LABEL), labels.get(INSTANCE_TYPE_LABEL)
    capacity, per_node = labels.get(CAPACITY_TYPE_LABEL), _int(labels.get(GPU_COUNT_LABEL))
    if not name or itype not in cat.ec2_types or capacity not in CAPACITY_TYPES or not per_node:
        return None
    if res.type == NODE_GROUP:
        sc = res.inputs.get("scalingConfig") or {}
        return GpuPool(res.urn, plan.component_of(res), name, itype, capacity, _int(sc.get("minSize")) or 0,
                       _int(sc.get("desiredSize")), _int(sc.get("maxSize")), "plan", _launch_template_disk(res, by_urn),
                       gpus_per_node=per_node)
    # A NodePool starts no node on its own; its GPU limit is its size.max in GPUs.
    gpus = _int(((res.inputs.get("spec") or {}).get("limits") or {}).get(GPU_RESOURCE))
    return GpuPool(res.urn, plan.component_of(res), name, itype, capacity, 0, None,
                   None if gpus is None else gpus // per_node, "plan", _node_class_disk(res, node_classes),
                   gpus_per_node=per_node)


def _config_pool(index: int, pool: PoolFacts) -> GpuPool:
    """A pool the plan has no node resource for (the site's servers), from the stack's pool model."""
    return GpuPool(f"config:aidc:gpuPools[{index}]", "aidc:gpuPools", pool.name, pool.instance_type, pool.capacity,
                   pool.min_nodes, pool.desired_nodes, pool.max_nodes, "config", float(pool.disk_gib or 0),
                   gpus_per_node=pool.gpus_per_node)


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
    # A pool never runs fewer nodes than its model servers need (a lower bound: GPUs / GPUs per node).
    serving: dict[str, int] = defaultdict(int)
    for svc in spec.inference.services:
        serving[svc.pool] += svc.min_replicas * svc.gpus_per_replica
    return [replace(p, serving_floor=-(-serving[p.name] // p.gpus_per_node))
            if serving.get(p.name) else p for p in pools]


# ---------------------------------------------------------------- the estimate

def _support_rate(res: Resource, cat: Catalog, as_of: dt.date) -> tuple[float, str]:
    pricing = cat.pricing
    version = str(res.inputs.get("version") or cat.recipe.default_kubernetes_version)
    kv = cat.recipe.kubernetes_versions.get(version)
    support = str((res.inputs.get("upgradePolicy") or {}).get("supportType") or "EXTENDED")
    if kv is not None and as_of > kv.standard_support_end:
        if support == "EXTENDED":
            return pricing.eks_extended_support_usd_per_hour, (
                f"Kubernetes {version} is in extended support since {kv.standard_support_end}")
        return pricing.eks_cluster_usd_per_hour, (
            f"Kubernetes {version} past standard support; supportType STANDARD: AWS upgrades it")
    return pricing.eks_cluster_usd_per_hour, f"Kubernetes {version} in standard support"


def pool_rate(p: GpuPool, inst: Instance, spot_discount: float) -> tuple[float, str]:
    """$/node-hour of a pool by capacity type, and the assumption to print ("" = none new).
    A Capacity Block is sold at its own (usually lower) rate; a reservation (ODCR) is billed
    at the on-demand rate; spot at the configured discount."""
    price = inst.price
    if price is None:
        return 0.0, ""  # an on-prem server: not priced (estimate says so on its line)
    if p.capacity == "spot":
        return price.on_demand_usd_per_hour * (1 - spot_discount), ""
    if p.capacity != "capacityBlock":
        return price.on_demand_usd_per_hour, ""
    cb = price.capacity_block
    if cb is not None:
        where = "" if cb.region == price.region else f", a {cb.region} figure"
        return cb.usd_per_hour, (
            f"pool {p.name}: Capacity Block rate ${cb.usd_per_hour:,.2f}/h for {p.instance_type} "
            f"(catalog, read {cb.source.date}{where}; blocks are re-priced with demand: check the offering)")
    if inst.capacity_block_only:
        return price.on_demand_usd_per_hour, (
            f"pool {p.name}: {p.instance_type} is sold only as Capacity Blocks; its catalog rate "
            f"${price.on_demand_usd_per_hour:,.2f}/h is a Capacity Block rate ({price.source.date})")
    return price.on_demand_usd_per_hour, (
        f"pool {p.name}: no Capacity Block rate for {p.instance_type} in the catalog; priced at on demand")


def estimate(plan: Plan, *, cat: Catalog | None = None, as_of: dt.date | None = None) -> CostEstimate:
    """The monthly cost of everything the plan creates, with the assumptions used."""
    cat = cat or catalog()
    as_of = as_of or dt.date.today()
    s = cost_settings(plan.config)
    pr = cat.pricing
    h = HOURS_PER_MONTH
    lines: list[CostLine] = []
    assumptions = [
        f"{h} hours per month; prices {pr.region} from the catalog (pricing {pr.source.date}, {pr.source.url})",
        f"spot capacity at {s.spot_discount:.0%} off on-demand (aidc:cost.spotDiscount)",
        "Capacity Blocks and capacity reservations paid at max size; a reservation (ODCR) at the on-demand "
        "rate, which AWS bills whether an instance runs in it or not",
        "GPU pools run at their desired size, else min; the max figure runs every pool at max",
        f"power = GPU board power x server overhead {s.server_overhead_factor} (aidc:cost.serverOverheadFactor) "
        f"x PUE {s.pue} (aidc:cost.pue), GPUs at full board power",
    ]
    unpriced: set[str] = set()

    pools = plan_pools(plan, cat)
    pool_urns = {p.urn for p in pools}
    gpus = gpus_max = unpriced_gpus = 0
    kw = kw_max = 0.0
    unbounded = False
    for p in pools:
        inst = cat.instances[p.instance_type]
        rate, why = pool_rate(p, inst, s.spot_discount)
        if why:
            assumptions.append(why)
        node_month = rate * h + p.disk_gib * pr.ebs_gp3_usd_per_gb_month
        mx = p.max if p.max is not None else p.expected
        unbounded |= p.max is None
        gpu = cat.gpus[inst.gpu]
        node_kw = p.gpus_per_node * gpu.board_power_w * s.server_overhead_factor * s.pue / 1000
        gpus += p.expected * p.gpus_per_node
        gpus_max += mx * p.gpus_per_node
        kw += p.expected * node_kw
        kw_max += mx * node_kw
        size = f"min {p.min}" + (f", desired {p.desired}" if p.desired is not None else "") + \
               (f", max {p.max}" if p.max is not None else ", no max limit") + \
               (f", {p.serving_floor} held by model servers" if p.serving_floor else "")
        if inst.price is None:
            # The site's own servers: no EC2 rate; their power and energy still count.
            unpriced_gpus += p.expected * p.gpus_per_node
            lines.append(CostLine(
                p.urn, p.component, "gpu-pool", 0.0,
                f"{p.name}: {p.expected} x {p.instance_type} ({p.gpus_per_node}x {gpu.name}) not priced (on-prem), "
                f"{p.expected * node_kw:,.1f} kW; {size} ({p.source})", 0.0))
            assumptions.append(f"pool {p.name}: the site's {p.instance_type} servers (provisioner existing) are not "
                               f"priced (on-prem); counted at size.max for GPUs, power and energy")
            continue
        lines.append(CostLine(
            p.urn, p.component, "gpu-pool", p.expected * node_month,
            f"{p.name}: {p.expected} x {p.instance_type} ({p.gpus_per_node}x {gpu.name}) {p.capacity} at "
            f"${rate:.4f}/h + {p.disk_gib:g} GiB gp3; {size} ({p.source})", mx * node_month))
        if p.source == "config":
            assumptions.append(f"pool {p.name} sized from the stack config (aidc:gpuPools): the plan has no node group for it")
    if unbounded:
        assumptions.append("a pool has no max limit: the max figure counts it at its expected size")

    nat_count = len([r for r in plan.resources if r.type == "aws:ec2/natGateway:NatGateway" and r.op != "delete"])
    buckets = [r for r in plan.resources if r.type == "aws:s3/bucket:Bucket" and r.op != "delete"]
    for res in plan.resources:
        if res.op == "delete" or res.urn in pool_urns:
            continue
        comp, t, i = plan.component_of(res), res.type, res.inputs
        if t == "aws:eks/cluster:Cluster":
            rate, why = _support_rate(res, cat, as_of)
            lines.append(CostLine(res.urn, comp, t, rate * h, f"control plane ${rate}/h; {why}"))
        elif t == "aws:ec2/natGateway:NatGateway":
            data = s.nat_data_gb_per_month / nat_count
            lines.append(CostLine(res.urn, comp, t, pr.nat_gateway_usd_per_hour * h + data * pr.nat_gateway_usd_per_gb,
                                  f"${pr.nat_gateway_usd_per_hour}/h + {data:g} GB at ${pr.nat_gateway_usd_per_gb}/GB"))
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint" and i.get("vpcEndpointType") == "Interface":
            zones = max(1, len(i.get("subnetIds") or []))
            lines.append(CostLine(res.urn, comp, t, pr.interface_endpoint_usd_per_hour * h * zones,
                                  f"interface endpoint in {zones} zones at ${pr.interface_endpoint_usd_per_hour}/h each"))
        elif t == "aws:fsx/lustreFileSystem:LustreFileSystem":
            gib = _gib(i.get("storageCapacity"))
            tier = _int(i.get("perUnitStorageThroughput"))
            price = pr.fsx_lustre_persistent2_usd_per_gb_month.get(tier) if str(
                i.get("deploymentType")) == "PERSISTENT_2" and tier is not None else None
            if price is None:
                unpriced.add(f"FSx for Lustre {i.get('deploymentType')} tier {tier}")
                continue
            lines.append(CostLine(res.urn, comp, t, gib * price, f"{gib:g} GiB PERSISTENT_2 {tier} MB/s/TiB at ${price}/GB-month"))
        elif t == "aws:s3/bucket:Bucket":
            gb = s.s3_expected_gb / len(buckets)
            lines.append(CostLine(res.urn, comp, t, gb * pr.s3_standard_usd_per_gb_month,
                                  f"{gb:g} GB S3 Standard at ${pr.s3_standard_usd_per_gb_month}/GB-month"))
        elif t == "aws:ebs/volume:Volume":
            gib = _gib(i.get("size"))
            lines.append(CostLine(res.urn, comp, t, gib * pr.ebs_gp3_usd_per_gb_month,
                                  f"{gib:g} GiB at the gp3 rate ${pr.ebs_gp3_usd_per_gb_month}/GB-month"))
        elif t == NODE_GROUP:
            types = [str(x) for x in i.get("instanceTypes") or []]
            unpriced.add(f"node group instance types {', '.join(types)} (not in the catalog)")
    if buckets and not s.s3_expected_gb:
        assumptions.append("S3 buckets priced empty: set aidc:cost.s3ExpectedGb to the data you expect")
    if nat_count and not s.nat_data_gb_per_month:
        assumptions.append("NAT data processing not counted: set aidc:cost.natDataGbPerMonth")
    for u in sorted(unpriced):
        assumptions.append(f"not priced: {u}")
    return CostEstimate(lines, assumptions, gpus, None if unbounded else gpus_max, round(kw, 3),
                        None if unbounded else round(kw_max, 3), pools, unpriced_gpus)
