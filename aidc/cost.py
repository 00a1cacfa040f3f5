"""Cost and energy model over a plan document: monthly USD per resource, per component and
per pool, $/GPU-hour, power (kW) and energy (MWh/month), at the rates of the stack's Region.
Prices come only from the catalog; pool sizes and hours from aidc.cost_pools."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from components.catalog import Catalog, catalog
from components.formulas.energy import node_kw as node_power_kw
from components.formulas.schedule import HOURS_PER_MONTH
from components.spec import CostSpec, Problem
from components.spec.site import power_model
from components.vocabulary import BUCKET_TAG, NODE_GROUP, POOL_LABEL

from .carbon import site_settings
from .cost_pools import GpuPool, as_int, gib, launch_template_disk, plan_pools, stack_spec
from .cost_rates import Rates, tiered
from .errors import UserError
from .plan import Plan, Resource

__all__ = ["HOURS_PER_MONTH", "CostEstimate", "CostLine", "GpuPool", "cost_settings", "estimate", "plan_pools"]

NAT, ENDPOINT, CLUSTER = "aws:ec2/natGateway:NatGateway", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:eks/cluster:Cluster"
LUSTRE, BUCKET, VOLUME = "aws:fsx/lustreFileSystem:LustreFileSystem", "aws:s3/bucket:Bucket", "aws:ebs/volume:Volume"
LOG_GROUP, SERVICE = "aws:cloudwatch/logGroup:LogGroup", "kubernetes:core/v1:Service"


@dataclass(frozen=True)
class CostLine:
    urn: str
    component: str
    type: str
    monthly_usd: float
    detail: str
    monthly_usd_max: float | None = None  # at every pool's max size; None = same as monthly_usd
    pool: str = ""  # the node pool the line runs (GPU pools, system nodes)
    priced: bool = True  # False: the catalog has no rate for it here (counted as $0)


@dataclass
class CostEstimate:
    lines: list[CostLine]
    assumptions: list[str]
    region: str
    gpu_count: int
    gpu_count_max: int | None
    gpu_hours: float  # GPU-hours a month of priced pools
    power_kw: float  # average draw over the month
    power_kw_max: float | None
    pools: list[GpuPool] = field(default_factory=list)
    unpriced_gpu_count: int = 0  # GPUs of on-prem servers: counted for power, not in $/GPU-hour
    unpriced: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    @property
    def monthly_usd_max(self) -> float:
        return round(sum(line.monthly_usd if line.monthly_usd_max is None else line.monthly_usd_max
                         for line in self.lines), 2)

    def _sum_by(self, key: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            if getattr(line, key):
                out[getattr(line, key)] += line.monthly_usd
        return {k: round(v, 2) for k, v in sorted(out.items())}

    def by_component(self) -> dict[str, float]:
        return self._sum_by("component")

    def by_pool(self) -> dict[str, float]:
        return self._sum_by("pool")

    @property
    def usd_per_gpu_hour(self) -> float | None:
        return round(self.monthly_usd / self.gpu_hours, 4) if self.gpu_hours > 0 else None

    @property
    def energy_mwh_per_month(self) -> float:
        return round(self.power_kw * HOURS_PER_MONTH / 1000, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region, "monthlyUsd": self.monthly_usd, "monthlyUsdMax": self.monthly_usd_max,
            "byComponent": self.by_component(), "byPool": self.by_pool(),
            "gpuCount": self.gpu_count, "gpuCountMax": self.gpu_count_max, "gpuHours": round(self.gpu_hours, 2),
            "unpricedGpuCount": self.unpriced_gpu_count,
            "usdPerGpuHour": self.usd_per_gpu_hour, "powerKw": self.power_kw, "powerKwMax": self.power_kw_max,
            "energyMwhPerMonth": self.energy_mwh_per_month, "unpriced": self.unpriced, "staleRates": self.stale,
            "assumptions": self.assumptions,
            "lines": [{"urn": ln.urn, "component": ln.component, "pool": ln.pool, "type": ln.type,
                       "monthlyUsd": round(ln.monthly_usd, 2),
                       "monthlyUsdMax": None if ln.monthly_usd_max is None else round(ln.monthly_usd_max, 2),
                       "priced": ln.priced, "detail": ln.detail} for ln in self.lines],
        }

    def to_csv(self) -> str:
        """One row per resource, for a spreadsheet: region, component, pool, resource, type,
        monthly USD (expected and at max size), priced, detail."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["region", "component", "pool", "resource", "type", "monthlyUsd", "monthlyUsdMax", "priced", "detail"])
        for ln in sorted(self.lines, key=lambda x: (x.component, x.pool, x.urn)):
            mx = ln.monthly_usd if ln.monthly_usd_max is None else ln.monthly_usd_max
            w.writerow([self.region, ln.component, ln.pool, ln.urn.rsplit("::", 1)[-1], ln.type,
                        f"{ln.monthly_usd:.2f}", f"{mx:.2f}", "yes" if ln.priced else "no", ln.detail])
        return out.getvalue()


def cost_settings(config: Mapping[str, Any]) -> CostSpec:
    raw = config.get("aidc:cost") or {}
    try:
        return CostSpec.model_validate(raw)
    except ValidationError as err:
        raise UserError("invalid aidc:cost settings", [
            Problem("aidc:cost" + "".join(f".{p}" for p in e["loc"]), e["msg"]) for e in err.errors()]) from None


# ---------------------------------------------------------------- nodes

def pool_rate(p: GpuPool, rates: Rates, spot_discount: float) -> tuple[float | None, str]:
    """$/node-hour of a pool by capacity type (None: no rate here), and what to say about it.
    A Capacity Block is sold at its own rate; a reservation (ODCR) is billed at on demand;
    spot at the configured discount."""
    od = rates.on_demand(p.instance_type)
    if p.capacity == "capacityBlock":
        cb, offered = rates.capacity_block(p.instance_type)
        if cb is not None:
            return cb, f"pool {p.name}: Capacity Block rate ${cb:,.2f}/h for {p.instance_type} in {rates.region}"
        why = f"pool {p.name}: no {rates.region} Capacity Block rate for {p.instance_type} in the catalog" + (
            "" if offered else f" ({rates.region} is not listed as selling blocks of it)")
        if od is None:
            return None, why
        return od[0], why + f"; priced at its {rates.region} on-demand rate (an upper bound)"
    if od is None:
        return None, ""
    if p.capacity == "spot":
        return od[0] * (1 - spot_discount), ""
    return od[0], ""


def _size(p: GpuPool) -> str:
    out = f"min {p.min}" + (f", desired {p.desired}" if p.desired is not None else "") + \
        (f", max {p.max}" if p.max is not None else ", no max limit")
    if p.serving_floor:
        out += f", {p.serving_floor} held by model servers"
    if p.work_node_hours:
        out += f", {p.work_node_hours:,.0f} node-h in work hours"
    if p.stated_node_hours:
        out += f", {p.stated_node_hours:,.0f} node-h stated (aidc:cost.poolNodeHours)"
    return out


def _gpu_pool_line(p: GpuPool, cat: Catalog, rates: Rates, s: CostSpec, assumptions: list[str]) -> CostLine:
    inst = cat.instances[p.instance_type]
    gpu = cat.gpus[inst.gpu]
    head = f"{p.name}: {p.node_hours:,.0f} node-h of {p.instance_type} ({p.gpus_per_node}x {gpu.name}) {p.capacity}"
    if inst.price is None:
        assumptions.append(f"pool {p.name}: the site's {p.instance_type} servers (provisioner existing) are not "
                           f"priced (on-prem); counted at size.max for GPUs, power and energy")
        return CostLine(p.urn, p.component, "gpu-pool", 0.0, f"{head} not priced (on-prem); {_size(p)} ({p.source})",
                        0.0, p.name, False)
    rate, why = pool_rate(p, rates, s.spot_discount)
    if why:
        assumptions.append(why)
    if p.source == "config":
        assumptions.append(f"pool {p.name} sized from the stack config (aidc:gpuPools): the plan has no node group for it")
    if rate is None:
        rates.unpriced.add(f"pool {p.name}: {p.instance_type} {p.capacity} (no {rates.region} rate in the catalog)")
        return CostLine(p.urn, p.component, "gpu-pool", 0.0, f"{head}: no {rates.region} rate, not priced; {_size(p)}",
                        0.0, p.name, False)
    disk = rates.service("ebs_gp3_usd_per_gb_month", "EBS gp3 node volumes") or 0.0
    node_month = rate * HOURS_PER_MONTH + p.disk_gib * disk
    return CostLine(p.urn, p.component, "gpu-pool", p.node_hours / HOURS_PER_MONTH * node_month,
                    f"{head} at ${rate:.4f}/h + {p.disk_gib:g} GiB gp3 per node; {_size(p)} ({p.source})",
                    p.max_node_hours / HOURS_PER_MONTH * node_month, p.name)


def _node_group_line(res: Resource, comp: str, by_urn: Mapping[str, Resource], rates: Rates,
                     spot_discount: float) -> CostLine:
    """A node group that is no GPU pool (the system nodes): its first instance type at on
    demand (or spot), desired size, else min."""
    i = res.inputs
    sc = i.get("scalingConfig") or {}
    types = [str(x) for x in i.get("instanceTypes") or []]
    count = as_int(sc.get("desiredSize")) if as_int(sc.get("desiredSize")) is not None else as_int(sc.get("minSize")) or 0
    mx = as_int(sc.get("maxSize"))
    pool = str((i.get("labels") or {}).get(POOL_LABEL) or res.name)
    od = rates.on_demand(types[0]) if types else None
    if od is None:
        rates.unpriced.add(f"node group {res.name}: {', '.join(types) or 'no instance type'} "
                           f"(no {rates.region} rate in the catalog)")
        return CostLine(res.urn, comp, res.type, 0.0, f"{pool}: {count} x {', '.join(types)} not priced", 0.0, pool, False)
    spot = str(i.get("capacityType") or "ON_DEMAND") == "SPOT"
    rate = od[0] * (1 - spot_discount) if spot else od[0]
    disk_gib = launch_template_disk(res, by_urn)
    node_month = rate * HOURS_PER_MONTH + disk_gib * (rates.service("ebs_gp3_usd_per_gb_month", "EBS gp3 node volumes") or 0.0)
    return CostLine(res.urn, comp, res.type, count * node_month,
                    f"{pool}: {count} x {types[0]} {'spot' if spot else 'on demand'} at ${rate:.4f}/h + {disk_gib:g} GiB gp3"
                    + (f"; max {mx}" if mx is not None else ""),
                    (mx if mx is not None else count) * node_month, pool)


# ---------------------------------------------------------------- everything else

def _support_rate(res: Resource, cat: Catalog, rates: Rates, as_of: dt.date) -> tuple[float | None, str]:
    version = str(res.inputs.get("version") or cat.recipe.default_kubernetes_version)
    kv = cat.recipe.kubernetes_versions.get(version)
    support = str((res.inputs.get("upgradePolicy") or {}).get("supportType") or "EXTENDED")
    if kv is not None and as_of > kv.standard_support_end and support == "EXTENDED":
        return rates.service("eks_extended_support_usd_per_hour", "EKS extended support"), (
            f"Kubernetes {version} is in extended support since {kv.standard_support_end}")
    why = f"Kubernetes {version} past standard support; supportType STANDARD: AWS upgrades it" \
        if kv is not None and as_of > kv.standard_support_end else f"Kubernetes {version} in standard support"
    return rates.service("eks_cluster_usd_per_hour", "EKS control plane"), why


def _bucket_gib(res: Resource, expected: Mapping[str, float]) -> tuple[str, float]:
    kind = str((res.inputs.get("tags") or {}).get(BUCKET_TAG) or "")
    return kind, expected.get(kind, 0.0)


def _other_lines(plan: Plan, cat: Catalog, rates: Rates, s: CostSpec, as_of: dt.date,
                 skip: set[str], assumptions: list[str]) -> list[CostLine]:
    h = HOURS_PER_MONTH
    live = [r for r in plan.resources if r.op != "delete" and r.urn not in skip]
    by_urn = plan.by_urn()
    spec = stack_spec(plan.config)
    expected = {k: b.expected_gib for k, b in spec.storage.buckets.items()} \
        if spec is not None and spec.storage is not None else {}
    nats = [r for r in live if r.type == NAT]
    logs = [r for r in live if r.type == LOG_GROUP]
    s3_start = 0.0  # GB already counted in the Region: S3's tiers are per account and Region
    lines: list[CostLine] = []
    for res in sorted(live, key=lambda r: r.urn):
        comp, t, i = plan.component_of(res), res.type, res.inputs

        def add(usd: float, detail: str, res: Resource = res, comp: str = comp) -> None:
            lines.append(CostLine(res.urn, comp, res.type, usd, detail))

        if t == CLUSTER:
            rate, why = _support_rate(res, cat, rates, as_of)
            if rate is not None:
                add(rate * h, f"control plane ${rate}/h; {why}")
        elif t == NAT:
            hourly = rates.service("nat_gateway_usd_per_hour", "NAT gateway hours")
            per_gb = rates.service("nat_gateway_usd_per_gb", "NAT data processing") if s.nat_data_gb_per_month else 0.0
            if hourly is not None:
                data = s.nat_data_gb_per_month / len(nats)
                add(hourly * h + data * (per_gb or 0.0), f"${hourly}/h + {data:g} GB processed at ${per_gb or 0}/GB")
        elif t == ENDPOINT and i.get("vpcEndpointType") == "Interface":
            zones = max(1, len(i.get("subnetIds") or []))
            rate = rates.service("interface_endpoint_usd_per_hour", "interface endpoints")
            if rate is not None:
                add(rate * h * zones, f"interface endpoint in {zones} zones at ${rate}/h each (data processed not modelled)")
        elif t == LUSTRE:
            size, tier = gib(i.get("storageCapacity")), as_int(i.get("perUnitStorageThroughput"))
            table = rates.table.fsx_lustre_persistent2_usd_per_gb_month if rates.table is not None else {}
            price = table.get(tier) if str(i.get("deploymentType")) == "PERSISTENT_2" and tier is not None else None
            if price is None:
                rates.unpriced.add(f"FSx for Lustre {i.get('deploymentType')} tier {tier} in {rates.region}")
                continue
            usd, detail = size * price, f"{size:g} GiB PERSISTENT_2 {tier} MB/s/TiB at ${price}/GB-month"
            if (as_int(i.get("automaticBackupRetentionDays")) or 0) > 0:
                backup = rates.service("fsx_lustre_backup_usd_per_gb_month", "FSx for Lustre backups")
                if backup is not None:
                    usd += size * backup
                    detail += f" + backups ~{size:g} GB at ${backup}/GB-month (one full copy; increments not modelled)"
            add(usd, detail)
        elif t == BUCKET:
            kind, gb = _bucket_gib(res, expected)
            tiers = rates.s3_tiers()
            usd, parts = tiered(gb, s3_start, tiers)
            s3_start += gb
            src = f"aidc:storage.buckets.{kind}.expectedGiB" if kind in expected else "no expectedGiB"
            add(usd, f"{gb:,.0f} GB S3 Standard ({src}): " + (", ".join(parts) or "empty")
                + "; requests and noncurrent versions not modelled")
        elif t == VOLUME:
            size = gib(i.get("size"))
            rate = rates.service("ebs_gp3_usd_per_gb_month", "EBS volumes")
            if rate is not None:
                add(size * rate, f"{size:g} GiB at the gp3 rate ${rate}/GB-month")
        elif t == SERVICE and (i.get("spec") or {}).get("type") == "LoadBalancer":
            rate = rates.service("nlb_usd_per_hour", "load balancers")
            if rate is not None:
                add(rate * h, f"Network Load Balancer at ${rate}/h (LCUs not modelled)")
        elif t == NODE_GROUP:
            lines.append(_node_group_line(res, comp, by_urn, rates, s.spot_discount))
        elif t == LOG_GROUP and s.log_ingest_gb_per_month and res is logs[0]:
            rate = rates.service("cloudwatch_logs_ingest_usd_per_gb", "CloudWatch Logs ingestion")
            if rate is not None:
                add(s.log_ingest_gb_per_month * rate, f"{s.log_ingest_gb_per_month:g} GB/month into all "
                    f"{len(logs)} log groups (aidc:cost.logIngestGbPerMonth) at ${rate}/GB")
    if any(r.type == BUCKET for r in live) and not any(expected.values()):
        assumptions.append("S3 buckets priced empty: set aidc:storage.buckets.<kind>.expectedGiB")
    if nats and not s.nat_data_gb_per_month:
        assumptions.append("NAT data processing not counted: set aidc:cost.natDataGbPerMonth")
    if logs and not s.log_ingest_gb_per_month:
        assumptions.append("CloudWatch Logs ingestion not counted: set aidc:cost.logIngestGbPerMonth")
    return lines


# ---------------------------------------------------------------- the estimate

def estimate(plan: Plan, *, cat: Catalog | None = None, as_of: dt.date | None = None) -> CostEstimate:
    """The monthly cost of everything the plan creates, at its Region's rates, with the
    assumptions used."""
    cat = cat or catalog()
    as_of = as_of or dt.date.today()
    s = cost_settings(plan.config)
    region = plan.config.get("aws:region")
    rates = Rates(str(region or cat.prices.reference_region), cat, as_of, stated=bool(region))
    assumptions = [
        f"{HOURS_PER_MONTH} hours per month; {rates.source_line()}",
        f"spot capacity at {s.spot_discount:.0%} off on-demand (aidc:cost.spotDiscount)",
        "Capacity Blocks and capacity reservations paid at max size all month; a reservation (ODCR) at the "
        "on-demand rate, which AWS bills whether an instance runs in it or not",
        "pools run their desired size (else min) all month, plus the nodes model servers hold: minReplicas all "
        "month, one replica of a scale-to-zero service during its workHours; the max figure runs every pool at max",
        (pm := power_model(s, site_settings(plan.config), cat)).assumption + ", averaged over the node-hours",
    ]
    pools = plan_pools(plan, cat)
    lines = [_gpu_pool_line(p, cat, rates, s, assumptions) for p in pools]
    lines += _other_lines(plan, cat, rates, s, as_of, {p.urn for p in pools}, assumptions)
    gpus = gpus_max = unpriced_gpus = 0
    gpu_hours = kw = kw_max = 0.0
    unbounded = False
    for p, line in zip(pools, lines[:len(pools)], strict=True):  # the pool lines come first
        inst = cat.instances[p.instance_type]
        node_kw = node_power_kw(p.gpus_per_node, cat.gpus[inst.gpu].board_power_w, pm.server_overhead, pm.pue)
        unbounded |= p.max is None
        gpus += p.expected * p.gpus_per_node
        gpus_max += (p.max if p.max is not None else p.expected) * p.gpus_per_node
        kw += p.node_hours / HOURS_PER_MONTH * node_kw
        kw_max += (p.max if p.max is not None else p.expected) * node_kw
        if inst.price is None:
            unpriced_gpus += p.expected * p.gpus_per_node
        elif line.priced:
            gpu_hours += p.node_hours * p.gpus_per_node
    if unbounded:
        assumptions.append("a pool has no max limit: the max figure counts it at its expected size")
    for stale in sorted(rates.stale):
        assumptions.append(f"STALE: {stale}; AWS re-prices blocks with demand: check the offering")
    for u in sorted(rates.unpriced):
        assumptions.append(f"not priced: {u}")
    return CostEstimate(lines, assumptions, rates.region, gpus, None if unbounded else gpus_max, gpu_hours,
                        round(kw, 3), None if unbounded else round(kw_max, 3), pools, unpriced_gpus,
                        sorted(rates.unpriced), sorted(rates.stale))
