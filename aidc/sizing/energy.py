"""Energy and carbon of a sized fleet, Region by Region: what a training run or a month of
serving draws (nodes x facility power per node x hours) and emits at each Region's grid
intensity (catalog energy.yaml), so a planner can set us-east-1 beside a low-carbon Region."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog import Catalog
from components.formulas.energy import kg_co2e, kwh, node_kw, racks, servers_per_rack
from components.spec import CostSpec
from components.spec.site import power_model, refusal, region_intensity

from ..errors import Problem, UserError
from .hardware import Hardware


@dataclass(frozen=True)
class RegionCarbon:
    region: str
    g_per_kwh: float | None  # None: the catalog has no figure for the Region
    tco2e: float | None


@dataclass(frozen=True)
class FleetEnergy:
    nodes: int
    node_kw: float
    hours: float
    mwh: float
    regions: tuple[RegionCarbon, ...]
    assumption: str

    def to_json(self) -> dict:
        return {"nodes": self.nodes, "nodeKw": round(self.node_kw, 3), "hours": round(self.hours, 1),
                "mwh": round(self.mwh, 3),
                "carbon": [{"region": r.region, "gCo2ePerKwh": r.g_per_kwh,
                            "tCo2e": None if r.tco2e is None else round(r.tco2e, 3)} for r in self.regions]}

    def lines(self, what: str) -> list[str]:
        per = " ".join(f"{r.region} {r.tco2e:,.2f} t ({r.g_per_kwh:g} g/kWh);" if r.tco2e is not None
                       else f"{r.region} no grid figure;" for r in self.regions).rstrip(";")
        return [f"  energy      {self.mwh:,.1f} MWh {what} ({self.nodes:,} node{'s' * (self.nodes != 1)} x {self.node_kw:,.2f} kW x "
                f"{self.hours:,.0f} h)",
                f"  carbon      tCO2e {what}: {per}"]


def regions_asked(regions: list[str] | None, cat: Catalog) -> list[str]:
    """--region values (default: the catalog's pricing Region), each a Region aidc knows."""
    asked = regions or [cat.prices.reference_region]
    bad = [r for r in asked if r not in cat.regions.regions]
    if bad:
        raise UserError("unknown Region", [Problem("--region", f"{r!r} is not an AWS Region in the catalog "
                                                              "(components/catalog/regions.yaml)") for r in bad])
    return list(dict.fromkeys(asked))


def fleet_energy(hw: Hardware, nodes: int, hours: float, regions: list[str], cat: Catalog) -> FleetEnergy:
    pm = power_model(CostSpec(), None, cat)
    kw = node_kw(hw.gpus_per_node, hw.gpu.board_power_w, pm.server_overhead, pm.pue)
    energy = kwh(nodes * kw, hours)
    out = []
    for region in regions:
        i = region_intensity(region, cat)
        out.append(RegionCarbon(region, i.g_per_kwh if i else None,
                                kg_co2e(energy, i.g_per_kwh) / 1000 if i else None))
    src = cat.energy.grid.source
    return FleetEnergy(nodes, kw, hours, energy / 1000, tuple(out),
                       f"energy: {pm.assumption}; carbon at each Region's location-based grid intensity "
                       f"(Cloud Carbon Footprint {src.tag}, {src.path}); embodied emissions not counted")


@dataclass(frozen=True)
class OnPremRacks:
    """The sized GPUs as the site's own servers: how many, and the racks they take."""

    shape: str
    servers: int
    server_kw: float
    per_rack: int
    racks: int
    rack_kw: float       # the site's budget per rack
    cooling: str | None  # the site's

    def to_json(self) -> dict:
        return {"serverShape": self.shape, "servers": self.servers, "serverMaxKw": self.server_kw,
                "serversPerRack": self.per_rack, "racks": self.racks, "rackPowerKw": self.rack_kw,
                "kwPerRack": round(min(self.per_rack, self.servers) * self.server_kw, 3), "cooling": self.cooling}

    def line(self) -> str:
        return (f"  racks       on-prem at {self.rack_kw:g} kW per rack{f' ({self.cooling})' if self.cooling else ''}: "
                f"{self.servers:,} x {self.shape} ({self.server_kw:g} kW max) -> {self.racks:,} racks of "
                f"{self.per_rack}, {min(self.per_rack, self.servers) * self.server_kw:,.1f} kW per rack")


def on_prem_racks(hw: Hardware, gpus: int, rack_kw: float | None, cooling: str | None,
                  cat: Catalog) -> OnPremRacks | None:
    """With --rack-power-kw: the catalog's server shape carrying the same GPU (with a vendor power
    figure), the servers the GPUs need and the racks they take; refused like a site's pool."""
    if rack_kw is None:
        if cooling is not None:
            raise UserError("incomplete site", [Problem("--rack-power-kw", "needed with --cooling")])
        return None
    if rack_kw <= 0:
        raise UserError("invalid site", [Problem("--rack-power-kw", f"must be positive, got {rack_kw:g}")])
    shapes = sorted(((n, s) for n, s in cat.servers.items() if s.gpu == hw.gpu_key and s.max_power_kw),
                    key=lambda ns: (-ns[1].gpu_count, ns[0]))
    if not shapes:
        raise UserError("no server shape", [Problem(
            "--rack-power-kw", f"no on-prem server shape in the catalog with a vendor power figure carries "
                               f"{hw.gpu.name}: no rack plan")])
    name, shape = shapes[0]
    found = refusal(name, shape, rack_kw, cooling)
    if found is not None:
        setting, why = found
        raise UserError("the site cannot take these servers",
                        [Problem("--cooling" if setting == "cooling" else "--rack-power-kw", why)])
    servers = -(-gpus // shape.gpu_count)
    per = servers_per_rack(rack_kw, shape.max_power_kw)
    return OnPremRacks(name, servers, shape.max_power_kw, per, racks(servers, per), rack_kw, cooling)
