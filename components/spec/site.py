"""`aidc:site`: the facility a stack runs in, as its operators declare it: power per rack,
PUE, cooling, grid carbon intensity. From it and the server shapes' vendor figures (maximum
draw, cooling) come the rack plan of every pool of the site's own servers, and the refusals
of a pool the facility cannot power or cool."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from components.formulas.energy import racks, servers_per_rack

from .base import Model, Problem

if TYPE_CHECKING:
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


def problems(site: SiteSpec | None, pools: Mapping[str, "PoolFacts"], pool_index: Mapping[str, int]) -> Iterator[Problem]:
    """A pool of the site's servers the facility cannot cool or power, with the numbers."""
    if site is None:
        return
    for name, p in pools.items():
        if not p.existing:
            continue
        i = pool_index[name]
        if p.instance.cooling == "liquid" and site.cooling == "air":
            yield Problem(f"aidc:gpuPools[{i}].instanceType",
                          f"{p.instance_type} needs liquid cooling ({p.instance.max_power_kw:g} kW per server) and "
                          f"aidc:site.cooling is air: the pool cannot run in this room")
        kw = p.instance.max_power_kw
        if site.rack_power_kw is not None and kw is not None and servers_per_rack(site.rack_power_kw, kw) == 0:
            yield Problem("aidc:site.rackPowerKw",
                          f"{site.rack_power_kw:g} kW per rack cannot power one {p.instance_type} of pool {name} "
                          f"({kw:g} kW maximum draw each, {p.instance.cooling}-cooled): raise the rack budget "
                          f"(aidc:site.rackPowerKw >= {kw:g}) or place the pool in another room")
