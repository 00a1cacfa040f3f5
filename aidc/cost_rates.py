"""The rates of one Region, read from the catalog's price tables: instance on-demand and
Capacity Block rates, and the per-service rates. A rate the Region's table lacks is None
and is recorded as unpriced; nothing is ever taken from another Region's table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from components.catalog import Catalog, Pricing, S3Tier, Source


@dataclass
class Rates:
    region: str
    cat: Catalog
    as_of: dt.date
    stated: bool = True  # False: the plan names no aws:region, the reference Region is used
    unpriced: set[str] = field(default_factory=set)
    stale: set[str] = field(default_factory=set)

    @property
    def table(self) -> Pricing | None:
        return self.cat.prices.regions.get(self.region)

    def service(self, key: str, what: str) -> float | None:
        """A per-service rate of the Region's table (Pricing field name), or None, recorded."""
        value = getattr(self.table, key, None) if self.table is not None else None
        if value is None:
            self.unpriced.add(f"{what} (no {self.region} rate in the catalog)")
        return value

    def on_demand(self, itype: str) -> tuple[float, Source] | None:
        """Linux on-demand $/h of a type in this Region: the Region's table, else the type's
        own catalog price when it is for this Region (never a Capacity-Block-only type's)."""
        table = self.table
        if table is not None and itype in table.instances and table.instances_source is not None:
            return table.instances[itype], table.instances_source
        inst = self.cat.instances.get(itype)
        if inst is not None and inst.price is not None and inst.price.region == self.region \
                and not inst.capacity_block_only:
            return inst.price.on_demand_usd_per_hour, inst.price.source
        return None

    def capacity_block(self, itype: str) -> tuple[float | None, bool]:
        """(effective $/instance-hour of a Capacity Block here or None, whether the Region sells
        blocks of the type at all). A rate past its table's validUntil is recorded as stale."""
        cb = self.table.capacity_blocks if self.table is not None else None
        if cb is None:
            return None, False
        rate = cb.usd_per_hour.get(itype)
        if rate is not None and cb.valid_until is not None and self.as_of > cb.valid_until:
            self.stale.add(f"Capacity Block rate {itype} {self.region} ${rate:,.2f}/h: AWS's table "
                           f"({cb.source.url}, read {cb.source.date}) was valid until {cb.valid_until}")
        return rate, itype in cb.offered

    def s3_tiers(self) -> tuple[S3Tier, ...]:
        tiers = self.table.s3_standard if self.table is not None else ()
        if not tiers:
            self.unpriced.add(f"S3 Standard storage (no {self.region} rate in the catalog)")
        return tiers

    def source_line(self) -> str:
        table = self.table
        if table is None:
            return f"prices {self.region}: the catalog has no price table for this Region: its resources are not priced"
        where = "" if self.stated else " (the plan names no aws:region: the catalog's reference Region)"
        line = f"prices {self.region}{where} from the catalog (pricing.yaml {self.region}, {table.source.url}, " \
               f"read {table.source.date})"
        if table.unverified:
            line += f"; not verified against a source: {', '.join(table.unverified)}"
        return line


def tiered(gb: float, start: float, tiers: tuple[S3Tier, ...]) -> tuple[float, list[str]]:
    """The cost of `gb` GB stored on top of `start` GB already in the Region (S3's volume
    ladder is per account and Region, so each bucket continues where the last one ended)."""
    usd, parts, lo = 0.0, [], 0.0
    for tier in tiers:
        hi = tier.up_to_gb if tier.up_to_gb is not None else float("inf")
        a, b = max(lo, start), min(hi, start + gb)
        if b > a:
            usd += (b - a) * tier.usd_per_gb_month
            parts.append(f"{b - a:,.0f} GB at ${tier.usd_per_gb_month}")
        lo = hi
    return usd, parts
