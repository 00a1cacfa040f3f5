"""Carbon over a cost estimate: grid intensity (the site's declared figure, else the Region's
from the catalog), operational kgCO2e per month and per GPU-hour, embodied emissions of the
hosts a source gives them for; the `aidc:site` settings of a plan and its rack plan lines.
Every figure says where it comes from; a missing figure is named, never averaged in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from components.catalog import Catalog, catalog
from components.formulas.energy import HOURS_PER_MONTH, kg_co2e
from components.spec import Problem, Spec
from components.spec.site import Intensity, SiteSpec, power_model, rack_plans
from components.spec.site import intensity as site_intensity

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


def intensity(config: Mapping[str, Any], cat: Catalog | None = None) -> Intensity | None:
    """The grid carbon intensity the stack's energy is drawn at; None when no figure is known."""
    return site_intensity(site_settings(config), config.get("aws:region"), cat)


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
            head = (f"carbon: not estimated: no grid intensity known (the catalog has none for the stack's Region, "
                    f"or an on-prem stack declares none: aidc:site.carbonGPerKwh); "
                    f"energy {self.kwh_per_month:,.0f} kWh/month")
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
            embodied += p.node_hours * per_hour  # the node-hours the cost model counts for the pool
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
