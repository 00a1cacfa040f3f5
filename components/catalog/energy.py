"""Typed shape of `energy.yaml`: the power model's factors, grid carbon intensity per Region and
embodied emissions of GPU hosts. Lookups return None where the data has no figure (a named gap)."""

from __future__ import annotations

from pydantic import Field

from .model import Entry, RepoSource, Source


class PowerFactors(Entry):
    server_overhead_factor: float = Field(ge=1, le=4)
    server_overhead_source: Source
    pue: float = Field(ge=1, le=3)
    pue_source: Source


class Grid(Entry):
    source: RepoSource
    g_per_kwh: dict[str, float]


class EmbodiedHost(Entry):
    host_kg: float = Field(gt=0)  # kgCO2e of the whole host over its life
    host_vcpu: int = Field(gt=0)


class Embodied(Entry):
    source: RepoSource
    life_hours: float = Field(gt=0)
    families: dict[str, EmbodiedHost]


class EnergyCatalog(Entry):
    power: PowerFactors
    grid: Grid
    embodied: Embodied

    def grid_g_per_kwh(self, region: str | None) -> float | None:
        return self.grid.g_per_kwh.get(region) if region else None

    def embodied_kg_per_hour(self, family: str, vcpu: int) -> float | None:
        """A node's share of its host's manufacturing emissions per hour it runs."""
        host = self.embodied.families.get(family)
        if host is None:
            return None
        return host.host_kg / self.embodied.life_hours * min(1.0, vcpu / host.host_vcpu)
