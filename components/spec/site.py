"""`aidc:site`: the facility a stack runs in, as its operators declare it: power per rack,
PUE, cooling, grid carbon intensity. From it and the server shapes' vendor figures (maximum
draw, cooling) come the rack plan of every pool of the site's own servers, and the refusals
of a pool the facility cannot power or cool."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from components.catalog import Catalog, catalog
from components.formulas.energy import racks, servers_per_rack

from .base import Model, Problem

if TYPE_CHECKING:
    from components.catalog import Instance

    from .cost import CostSpec
    from .pools import PoolFacts


class SiteSpec(Model):
    # Power a rack can draw (kW): what the PDUs and the room's cooling allow per rack position.
    rack_power_kw: float | None = Field(default=None, gt=0, le=1000)
    # The facility's power usage effectiveness; replaces the cloud figure of the catalog.
    pue: float | None = Field(default=None, ge=1, le=3)
    # How the racks are cooled: an air-cooled room cannot take a shape that needs liquid.
    cooling: Literal["air", "liquid"] | None = None
    # The grid mix (or the site's contract) in gCO2e per kWh; replaces the Region's figure.
    carbon_g_per_kwh: float | None = Field(default=None, ge=0, le=2000)


@dataclass(frozen=True)
class PowerModel:
    """Whole-server draw / GPU board power, and the facility's PUE, with where they come from."""

    server_overhead: float
    pue: float
    assumption: str


def power_model(cost: "CostSpec", site: SiteSpec | None, cat: Catalog | None = None) -> PowerModel:
    """The stack's own figures first (aidc:cost, then aidc:site for the PUE), else the catalog's:
    the one resolution cost, carbon, sizing and the energy recording rules share."""
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


def region_intensity(region: str | None, cat: Catalog | None = None) -> Intensity | None:
    """The Region's grid carbon intensity from the catalog; None when it has no figure."""
    grid = (cat or catalog()).energy.grid
    g = grid.g_per_kwh.get(region) if region else None
    if g is None:
        return None
    s = grid.source
    return Intensity(g, f"{region} grid, location-based: Cloud Carbon Footprint {s.tag} ({s.repository}, {s.path})")


def intensity(site: SiteSpec | None, region: str | None, cat: Catalog | None = None) -> Intensity | None:
    """The site's declared figure, else the Region's."""
    if site is not None and site.carbon_g_per_kwh is not None:
        return Intensity(site.carbon_g_per_kwh, "aidc:site.carbonGPerKwh (the site's declared figure)")
    return region_intensity(region, cat)


@dataclass(frozen=True)
class RackPlan:
    """The racks one pool of the site's servers takes at its maximum size."""

    pool: str
    instance_type: str
    servers: int
    server_kw: float      # the vendor's maximum draw of one server
    per_rack: int         # servers one rack's power budget holds
    racks: int
    rack_kw: float        # IT load of a full rack at maximum draw
    facility_kw: float    # all the pool's servers at maximum draw, PUE applied
    cooling: str

    def line(self) -> str:
        return (f"{self.pool}: {self.servers} x {self.instance_type} at {self.server_kw:g} kW max -> "
                f"{self.racks} rack(s) of {self.per_rack} ({self.rack_kw:,.1f} kW per rack, {self.cooling}-cooled); "
                f"{self.facility_kw:,.1f} kW with PUE")


def rack_plans(site: SiteSpec | None, pools: Mapping[str, "PoolFacts"], default_pue: float) -> list[RackPlan]:
    """The rack plan of every pool of the site's own servers whose shape has a vendor power figure."""
    if site is None or site.rack_power_kw is None:
        return []
    out = []
    pue = site.pue if site.pue is not None else default_pue
    for p in pools.values():
        kw = p.instance.max_power_kw
        if not p.existing or kw is None:
            continue
        per = servers_per_rack(site.rack_power_kw, kw)
        out.append(RackPlan(p.name, p.instance_type, p.max_nodes, kw, per, racks(p.max_nodes, per),
                            round(min(per, p.max_nodes) * kw, 3), round(p.max_nodes * kw * pue, 3),
                            p.instance.cooling or "air"))
    return out


def refusal(instance_type: str, inst: "Instance", rack_kw: float | None, cooling: str | None) -> tuple[str, str] | None:
    """Why a room cannot take servers of this shape, as (which setting, message); None when it can.
    The settings are "cooling" and "rackPowerKw"; callers name them in their own terms."""
    if inst.cooling == "liquid" and cooling == "air":
        return "cooling", (f"{instance_type} needs liquid cooling ({inst.max_power_kw:g} kW per server) and the "
                           f"site is air-cooled")
    kw = inst.max_power_kw
    if rack_kw is not None and kw is not None and servers_per_rack(rack_kw, kw) == 0:
        return "rackPowerKw", (f"{rack_kw:g} kW per rack cannot power one {instance_type} ({kw:g} kW maximum "
                               f"draw each, {inst.cooling}-cooled): the rack budget must be >= {kw:g} kW")
    return None


def problems(site: SiteSpec | None, pools: Mapping[str, "PoolFacts"], pool_index: Mapping[str, int]) -> Iterator[Problem]:
    """A pool of the site's servers the facility cannot cool or power, with the numbers."""
    if site is None:
        return
    for name, p in pools.items():
        if not p.existing:
            continue
        found = refusal(p.instance_type, p.instance, site.rack_power_kw, site.cooling)
        if found is None:
            continue
        setting, why = found
        if setting == "cooling":
            yield Problem(f"aidc:gpuPools[{pool_index[name]}].instanceType",
                          f"{why} (aidc:site.cooling): pool {name} cannot run in this room")
        else:
            yield Problem("aidc:site.rackPowerKw", f"{why}; pool {name} needs a larger aidc:site.rackPowerKw "
                                                   f"or another room")
