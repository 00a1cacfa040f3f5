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
from components.gpu_pool.nodes import GPU_RESOURCE, POOL_LABEL
from components.spec import CostSpec, GpuPoolSpec, Problem
from components.spec.inference import ServiceSpec

from .errors import UserError
from .plan import Plan, Resource

HOURS_PER_MONTH = 730  # AWS's convention: 8760 h / 12
NODEGROUP = "aws:eks/nodeGroup:NodeGroup"
NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
_NODEGROUP_CAPACITY = {"ON_DEMAND": "onDemand", "SPOT": "spot", "CAPACITY_BLOCK": "capacityBlock"}


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


# ---------------------------------------------------------------- stack config carried in the plan

def cost_settings(config: Mapping[str, Any]) -> CostSpec:
    raw = config.get("aidc:cost") or {}
    try:
        return CostSpec.model_validate(raw)
    except ValidationError as err:
        raise UserError("invalid aidc:cost settings", [
            Problem("aidc:cost" + "".join(f".{p}" for p in e["loc"]), e["msg"]) for e in err.errors()]) from None


def serving_gpus(config: Mapping[str, Any]) -> dict[str, int]:
    """GPUs per pool that the model servers' minimum replicas occupy (aidc:inference.services)."""
    gpus: dict[str, int] = defaultdict(int)
    for raw in (config.get("aidc:inference") or {}).get("services") or []:
        try:
            svc = ServiceSpec.model_validate(raw)
        except ValidationError:
            continue
        gpus[svc.pool] += svc.min_replicas * svc.gpus_per_replica
    return gpus


def config_pools(config: Mapping[str, Any]) -> list[GpuPoolSpec]:
    pools = []
    for p in config.get("aidc:gpuPools") or []:
        try:
            pools.append(GpuPoolSpec.model_validate(p))
        except ValidationError:
            continue  # a plan from elsewhere: skip what we cannot read, the plan's own resources still count
    return pools


# ---------------------------------------------------------------- GPU pools in the plan

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


def _requirement(props: Mapping[str, Any], key: str) -> list[str]:
    reqs = ((props.get("spec") or {}).get("template") or {}).get("spec", {}).get("requirements") or []
    return [str(v) for r in reqs if isinstance(r, Mapping) and r.get("key") == key
            and r.get("operator", "In") == "In" for v in r.get("values") or []]


def _launch_template_disk(plan: Plan, res: Resource, by_urn: dict[str, Resource]) -> float:
    lts = [by_urn[d] for d in res.dependencies if d in by_urn and by_urn[d].type == LAUNCH_TEMPLATE]
    if not lts:
        return float(_int(res.inputs.get("diskSize")) or 20)  # EKS managed node group default root volume
    return sum(_gib((m.get("ebs") or {}).get("volumeSize")) for lt in lts
               for m in lt.inputs.get("blockDeviceMappings") or [])


def _pool_name(res: Resource) -> str:
    labels = res.inputs.get("labels") or ((res.inputs.get("spec") or {}).get("template") or {}).get(
        "metadata", {}).get("labels") or {}
    meta_name = (res.inputs.get("metadata") or {}).get("name")
    return str(labels.get(POOL_LABEL) or res.inputs.get("nodeGroupName") or meta_name or res.name)


def _match(name: str, res: Resource, specs: list[GpuPoolSpec]) -> GpuPoolSpec | None:
    for s in specs:
        if s.name == name or res.name.endswith(f"-{s.name}"):
            return s
    return None


def plan_pools(plan: Plan, cat: Catalog | None = None) -> list[GpuPool]:
    """GPU pools: node groups and NodePools that launch catalog GPU types, plus the stack
    config's pools that the plan has no resource for (plans made before GPU pools existed)."""
    cat = cat or catalog()
    specs = config_pools(plan.config)
    by_urn = plan.by_urn()
    pools: list[GpuPool] = []
    matched: set[str] = set()
    for res in plan.resources:
        if res.op == "delete" or res.type not in (NODEGROUP, NODEPOOL):
            continue
        name = _pool_name(res)
        spec = _match(name, res, specs)
        if res.type == NODEGROUP:
            types = [str(t) for t in res.inputs.get("instanceTypes") or []]
            gpu_types = [t for t in types if t in cat.ec2_types]
            if not gpu_types:
                continue
            sc = res.inputs.get("scalingConfig") or {}
            capacity = _NODEGROUP_CAPACITY.get(str(res.inputs.get("capacityType") or "ON_DEMAND"), "onDemand")
            if capacity == "onDemand" and spec is not None and spec.capacity.type == "reservation":
                capacity = "reservation"  # an ODCR is targeted from the launch template
            pool = GpuPool(res.urn, plan.component_of(res), name, gpu_types[0], capacity,
                           _int(sc.get("minSize")) or 0, _int(sc.get("desiredSize")), _int(sc.get("maxSize")),
                           "plan", _launch_template_disk(plan, res, by_urn))
        else:
            types = [t for t in _requirement(res.inputs, "node.kubernetes.io/instance-type") if t in cat.ec2_types]
            if not types:
                continue
            # The dearest allowed type bounds the cost; Karpenter may pick any of them.
            itype = max(types, key=lambda t: _rate(cat, t))
            ctypes = set(_requirement(res.inputs, "karpenter.sh/capacity-type"))
            capacity = ("reservation" if "reserved" in ctypes else "spot" if ctypes == {"spot"} else "onDemand")
            limits = (res.inputs.get("spec") or {}).get("limits") or {}
            gpus, cpus = _int(limits.get(GPU_RESOURCE)), _int(limits.get("cpu"))
            inst = cat.instances[itype]
            maxn = (gpus // inst.gpu_count if gpus is not None else cpus // inst.vcpu if cpus is not None
                    else spec.size.max if spec else None)
            pool = GpuPool(res.urn, plan.component_of(res), name, itype, capacity,
                           spec.size.min if spec else 0, spec.size.desired if spec else None, maxn, "plan",
                           _nodeclass_disk(plan))
        pools.append(pool)
        if spec is not None:
            matched.add(spec.name)
    for i, s in enumerate(specs):
        if s.name in matched or s.instance_type not in cat.instances:
            continue
        pools.append(GpuPool(f"config:aidc:gpuPools[{i}]", "aidc:gpuPools", s.name, s.instance_type,
                             "existing" if s.existing else s.capacity.type, s.size.min, s.size.desired, s.size.max,
                             "config"))
    # A pool never runs fewer nodes than its model servers need (a lower bound: GPUs / GPUs per node).
    serving = serving_gpus(plan.config)
    return [replace(p, serving_floor=-(-serving[p.name] // cat.instances[p.instance_type].gpu_count))
            if serving.get(p.name) else p for p in pools]


def _rate(cat: Catalog, instance_type: str) -> float:
    price = cat.instances[instance_type].price
    return price.on_demand_usd_per_hour if price is not None else 0.0


def _nodeclass_disk(plan: Plan) -> float:
    for r in plan.of_type(NODECLASS):
        return sum(_gib((m.get("ebs") or {}).get("volumeSize")) for m in (r.inputs.get("spec") or {}).get(
            "blockDeviceMappings") or [])
    return 0.0


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
        node_kw = inst.gpu_count * gpu.board_power_w * s.server_overhead_factor * s.pue / 1000
        gpus += p.expected * inst.gpu_count
        gpus_max += mx * inst.gpu_count
        kw += p.expected * node_kw
        kw_max += mx * node_kw
        size = f"min {p.min}" + (f", desired {p.desired}" if p.desired is not None else "") + \
               (f", max {p.max}" if p.max is not None else ", no max limit") + \
               (f", {p.serving_floor} held by model servers" if p.serving_floor else "")
        if inst.price is None:
            # The site's own servers: no EC2 rate; their power and energy still count.
            unpriced_gpus += p.expected * inst.gpu_count
            lines.append(CostLine(
                p.urn, p.component, "gpu-pool", 0.0,
                f"{p.name}: {p.expected} x {p.instance_type} ({inst.gpu_count}x {gpu.name}) not priced (on-prem), "
                f"{p.expected * node_kw:,.1f} kW; {size} ({p.source})", 0.0))
            assumptions.append(f"pool {p.name}: the site's {p.instance_type} servers (provisioner existing) are not "
                               f"priced (on-prem); counted at size.max for GPUs, power and energy")
            continue
        lines.append(CostLine(
            p.urn, p.component, "gpu-pool", p.expected * node_month,
            f"{p.name}: {p.expected} x {p.instance_type} ({inst.gpu_count}x {gpu.name}) {p.capacity} at "
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
        elif t == NODEGROUP:
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
