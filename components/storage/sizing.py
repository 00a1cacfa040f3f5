"""FSx for Lustre PERSISTENT_2 sizing: the smallest filesystem (capacity x per-TiB throughput
tier) that writes a checkpoint of a given size within a given time.

Service rules (AWS FSx for Lustre user guide, "Storage capacity" and "Throughput"):
PERSISTENT_2 SSD is 1,200 GiB or a multiple of 2,400 GiB, and its aggregate throughput is the
per-unit tier (125, 250, 500 or 1000 MB/s per TiB) times the capacity in TiB."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

PERSISTENT_2_TIERS: tuple[int, ...] = (125, 250, 500, 1000)  # MB/s per TiB of storage
FIRST_GIB = 1200
STEP_GIB = 2400
MB = 1_000_000  # FSx throughput is quoted in decimal megabytes per second
GIB = 1 << 30


@dataclass(frozen=True)
class LustreSize:
    capacity_gib: int
    tier_mbps_per_tib: int
    throughput_mbps: float  # aggregate: tier x capacity in TiB
    write_seconds: float  # time to write the checkpoint at the aggregate throughput
    usd_per_month: float | None  # at the catalog price, None when no price was given


def valid_capacity_gib(at_least_gib: float) -> int:
    """The smallest PERSISTENT_2 capacity (1,200 GiB, then 2,400 GiB steps) >= at_least_gib."""
    if at_least_gib <= FIRST_GIB:
        return FIRST_GIB
    return STEP_GIB * math.ceil(at_least_gib / STEP_GIB)


def throughput_mbps(capacity_gib: float, tier_mbps_per_tib: int) -> float:
    return tier_mbps_per_tib * capacity_gib / 1024


def lustre_size(checkpoint_gib: float, max_write_seconds: float,
                usd_per_gb_month: Mapping[int, float] | None = None) -> LustreSize:
    """Capacity and tier that hold one checkpoint and write it within max_write_seconds.

    Every tier is sized to the throughput it needs; the cheapest at the given prices wins
    (without prices: the smallest capacity, then the lower tier)."""
    if checkpoint_gib <= 0:
        raise ValueError("checkpoint size must be positive")
    if max_write_seconds <= 0:
        raise ValueError("write time must be positive")
    need_mbps = checkpoint_gib * GIB / MB / max_write_seconds
    options = []
    for tier in PERSISTENT_2_TIERS:
        capacity = valid_capacity_gib(max(checkpoint_gib, need_mbps / tier * 1024))
        mbps = throughput_mbps(capacity, tier)
        price = usd_per_gb_month.get(tier) if usd_per_gb_month else None
        cost = capacity * price if price is not None else None
        options.append(LustreSize(capacity, tier, mbps, checkpoint_gib * GIB / MB / mbps, cost))
    if usd_per_gb_month and all(o.usd_per_month is not None for o in options):
        return min(options, key=lambda o: (o.usd_per_month, o.capacity_gib, o.tier_mbps_per_tib))
    return min(options, key=lambda o: (o.capacity_gib, o.tier_mbps_per_tib))
