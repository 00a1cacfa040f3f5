"""Carbon over a cost estimate: grid intensity (the site's declared figure, else the Region's
from the catalog), operational kgCO2e per month and per GPU-hour, embodied emissions of the
hosts a source gives them for, and the power factors (server overhead, PUE) the estimate uses.
Every figure says where it comes from; a missing figure is named, never averaged in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from components.catalog import Catalog, catalog
from components.formulas.energy import HOURS_PER_MONTH, kg_co2e
from components.spec import CostSpec, Problem
from components.spec import Spec
from components.spec.site import SiteSpec, rack_plans

from .errors import UserError

if TYPE_CHECKING:
    from .cost import CostEstimate


def site_settings(config: Mapping[str, Any]) -> SiteSpec | None:
    raw = config.get("aidc:site")
    if raw is None:
        return None
    try:
        return SiteSpec.model_validate(raw)
    except ValidationError as err:
        raise UserError("invalid aidc:site settings", [
            Problem("aidc:site" + "".join(f".{p}" for p in e["loc"]), e["msg"]) for e in err.errors()]) from None


@dataclass(frozen=True)
class PowerModel:
    """Whole-server draw / GPU board power, and the facility's PUE, each with where it comes from."""

    server_overhead: float
    pue: float
    assumption: str


def power_model(cost: CostSpec, site: SiteSpec | None, cat: Catalog | None = None) -> PowerModel:
    """The stack's own figures first (aidc:cost, then aidc:site for the PUE), else the catalog's."""
    f = (cat or catalog()).energy.power
    if cost.server_overhead_factor is not None:
        overhead, o_from = cost.server_overhead_factor, "aidc:cost.serverOverheadFactor"
    else:
        overhead, o_from = f.server_overhead_factor, "catalog energy.yaml, aidc's assumption"
    if cost.pue is not None:
        pue, p_from = cost.pue, "aidc:cost.pue"
    elif site is not None and site.pue is not None:
        pue, p_from = site.pue, "aidc:site.pue"
    else:
        pue, p_from = f.pue, f"catalog energy.yaml: AWS global PUE, {f.pue_source.url} read {f.pue_source.date}"
    return PowerModel(overhead, pue, f"power = GPU board power x server overhead {overhead} ({o_from}) x PUE {pue} "
                                     f"({p_from}), GPUs at full board power")


@dataclass(frozen=True)
class Intensity:
    g_per_kwh: float
    source: str


def intensity(config: Mapping[str, Any], cat: Catalog | None = None) -> Intensity | None:
    """The grid carbon intensity the stack's energy is drawn at; None when no figure is known."""
    site = site_settings(config)
    if site is not None and site.carbon_g_per_kwh is not None:
        return Intensity(site.carbon_g_per_kwh, "aidc:site.carbonGPerKwh (the site's declared figure)")
    return region_intensity(config.get("aws:region"), cat)


def region_intensity(region: str | None, cat: Catalog | None = None) -> Intensity | None:
    grid = (cat or catalog()).energy.grid
    g = grid.g_per_kwh.get(region) if region else None
    if g is None:
        return None
    s = grid.source
    return Intensity(g, f"{region} grid, location-based: Cloud Carbon Footprint {s.tag} ({s.repository}, {s.path})")


@dataclass
class Carbon:
    """A month of the estimate's energy in carbon."""

    kwh_per_month: float
    intensity: Intensity | None
    kg_per_month: float | None          # operational (grid) emissions; None: no intensity known
    kg_per_gpu_hour: float | None
    embodied_kg_per_month: float        # the hosts with a published figure
    embodied_gaps: list[str] = field(default_factory=list)  # instance types without one

    @property
    def total_kg_per_month(self) -> float | None:
        return None if self.kg_per_month is None else round(self.kg_per_month + self.embodied_kg_per_month, 1)

    def to_json(self) -> dict[str, Any]:
        i = self.intensity
        return {"kwhPerMonth": self.kwh_per_month, "gCo2ePerKwh": i.g_per_kwh if i else None,
                "intensitySource": i.source if i else None, "kgCo2ePerMonth": self.kg_per_month,
                "kgCo2ePerGpuHour": self.kg_per_gpu_hour, "embodiedKgCo2ePerMonth": self.embodied_kg_per_month,
                "embodiedGaps": self.embodied_gaps, "totalKgCo2ePerMonth": self.total_kg_per_month}

    def lines(self) -> list[str]:
        if self.intensity is None:
            head = (f"carbon: not estimated: no grid intensity for this stack's Region in the catalog "
                    f"(declare aidc:site.carbonGPerKwh); energy {self.kwh_per_month:,.0f} kWh/month")
        else:
            head = (f"carbon: {self.kg_per_month:,.1f} kgCO2e/month operational "
                    f"({self.kwh_per_month:,.0f} kWh at {self.intensity.g_per_kwh:g} gCO2e/kWh"
                    + (f", {self.kg_per_gpu_hour:.4f} kgCO2e/GPU-hour" if self.kg_per_gpu_hour is not None else "")
                    + f"); source: {self.intensity.source}")
        out = [head, f"  embodied (manufacturing, amortised): {self.embodied_kg_per_month:,.1f} kgCO2e/month"
               + (f"; no published figure for {', '.join(self.embodied_gaps)}" if self.embodied_gaps else "")]
        return out


def footprint(est: "CostEstimate", config: Mapping[str, Any], cat: Catalog | None = None) -> Carbon:
    cat = cat or catalog()
    kwh = round(est.power_kw * HOURS_PER_MONTH, 1)
    i = intensity(config, cat)
    kg = round(kg_co2e(kwh, i.g_per_kwh), 1) if i else None
    per_gpu = round(kg / (est.gpu_count * HOURS_PER_MONTH), 4) if kg is not None and est.gpu_count else None
    embodied, gaps = 0.0, set()
    for p in est.pools:
        inst = cat.instances[p.instance_type]
        per_hour = None if inst.server else cat.energy.embodied_kg_per_hour(inst.family, inst.vcpu)
        if per_hour is None:
            gaps.add(p.instance_type)
        else:
            embodied += p.expected * per_hour * HOURS_PER_MONTH
    return Carbon(kwh, i, kg, per_gpu, round(embodied, 1), sorted(gaps))


def facility_lines(spec: Spec) -> list[str]:
    """The rack plan of the site's own server pools (aidc:site), for `aidc plan`."""
    site = spec.site
    if site is None or site.rack_power_kw is None:
        return []
    pue = power_model(spec.cost, site).pue
    out = [f"site: {site.rack_power_kw:g} kW per rack, {site.cooling or 'unstated'} cooling, PUE {pue:g}"]
    plans = rack_plans(site, spec.pools, pue)
    out += [f"  {rp.line()}" for rp in plans]
    gaps = [p.name for p in spec.pools.values() if p.existing and p.instance.max_power_kw is None]
    out += [f"  {name}: no vendor power figure for {spec.pools[name].instance_type} in the catalog: no rack plan"
            for name in gaps]
    return out
