"""FSx for Lustre sizing: from what the workloads need to a capacity and throughput tier.

Pure and dependency-free (no pulumi, no pydantic, no catalog import): the storage
component and the capacity planner (`aidc size`) both call `lustre_size`.

Rules of the service for PERSISTENT_2 file systems on SSD (FSx CreateFileSystem API,
StorageCapacity): 1200 GiB, 2400 GiB, then increments of 2400 GiB, the same at every
throughput tier. (EFA-enabled file systems use per-tier increments of 38400/19200/9600/4800
GiB; aidc does not create those.) Throughput per unit of storage is 125, 250, 500 or
1000 MB/s per TiB, and the file system's baseline throughput is capacity (TiB) x tier.

Units: throughput in MB/s (10^6 bytes) and GB/s (10^9 bytes) as FSx quotes it; capacity
and checkpoint sizes in GiB; a TiB is 1024 GiB. The FSx console shows 1200 GiB as
"1.2 TiB" (so 600 MB/s at 500 MB/s/TiB); aidc plans with the exact 1.17 TiB (586 MB/s),
which never overstates what the file system delivers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TIERS: tuple[int, ...] = (125, 250, 500, 1000)  # PERSISTENT_2 SSD, MB/s per TiB
MIN_CAPACITY_GIB = 1200
STEP_GIB = 2400
# Largest file system aidc sizes without being told otherwise; FSx accepts more when the
# account's quota allows (the stack's `maxCapacityGiB` raises it).
MAX_CAPACITY_GIB = 100_800
MB_PER_GIB = 2**30 / 1e6  # 1073.741824


class SizingError(ValueError):
    """A requirement no PERSISTENT_2 file system can meet. `field` names the argument at
    fault (e.g. "throughput_gbps"), so callers can point at their own key."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class LustreSize:
    capacity_gib: int
    tier: int  # MB/s per TiB
    throughput_mbps: float  # aggregate baseline throughput of the file system
    checkpoint_gib: float | None = None
    checkpoint_seconds: float | None = None  # time to write checkpoint_gib at throughput_mbps
    monthly_usd: float | None = None  # capacity x the tier's price, when prices were given

    @property
    def throughput_gbps(self) -> float:
        return self.throughput_mbps / 1000

    def summary(self) -> str:
        """'7200 GiB at 1000 MB/s/TiB = 7.03 GB/s; 1050 GiB checkpoint in 160 s; $4,320/month'"""
        parts = [f"{self.capacity_gib} GiB at {self.tier} MB/s/TiB = {self.throughput_gbps:.2f} GB/s"]
        if self.checkpoint_seconds is not None:
            parts.append(f"{self.checkpoint_gib:g} GiB checkpoint in {self.checkpoint_seconds:.0f} s")
        if self.monthly_usd is not None:
            parts.append(f"${self.monthly_usd:,.0f}/month")
        return "; ".join(parts)


def valid_capacity(gib: int) -> bool:
    """1200, 2400, 4800, 7200, ... GiB: what CreateFileSystem accepts for PERSISTENT_2 SSD."""
    return gib == MIN_CAPACITY_GIB or (gib >= STEP_GIB and gib % STEP_GIB == 0)


def round_up_capacity(gib: float) -> int:
    """The smallest valid capacity that is at least `gib`."""
    if gib <= MIN_CAPACITY_GIB:
        return MIN_CAPACITY_GIB
    return math.ceil(gib / STEP_GIB) * STEP_GIB


def throughput_mbps(capacity_gib: int, tier: int) -> float:
    """Baseline throughput of a file system: capacity in TiB times the tier."""
    return capacity_gib / 1024 * tier


def write_seconds(size_gib: float, mbps: float) -> float:
    """Seconds to stream `size_gib` at `mbps` (the file system's share; clients may be slower)."""
    return size_gib * MB_PER_GIB / mbps


def lustre_size(*, throughput_gbps: float | None = None,
                checkpoint_gib: float | None = None, max_write_seconds: float | None = None,
                capacity_gib: int | None = None, tier: int | None = None,
                min_capacity_gib: float = 0, max_capacity_gib: int = MAX_CAPACITY_GIB,
                tiers: Sequence[int] = TIERS, prices: Mapping[int, float] | None = None) -> LustreSize:
    """Size a PERSISTENT_2 file system. Give exactly one requirement:

    - `capacity_gib` and `tier`: explicit; checked against the service's increments;
    - `throughput_gbps`: aggregate baseline throughput to reach (GB/s);
    - `checkpoint_gib` and `max_write_seconds`: a checkpoint to write in at most that long
      (needs checkpoint_gib x 1073.74 / max_write_seconds MB/s; the capacity also holds
      at least one checkpoint).

    For a target, the answer is the smallest valid capacity, over `tiers`, whose throughput
    meets it and that is at least `min_capacity_gib`. Several tiers can reach it at that
    capacity (at the 1200 GiB floor): the cheapest by `prices` (USD per GB-month by tier,
    the catalog's FSx prices) wins, else the lowest tier (cheapest under any price list
    that rises with the tier). `checkpoint_gib` may accompany the other requirements to
    report its write time. Raises SizingError naming the argument that cannot be met."""
    explicit = capacity_gib is not None or tier is not None
    modes = [explicit, throughput_gbps is not None, max_write_seconds is not None]
    if sum(modes) != 1:
        raise SizingError("capacity_gib", "give exactly one of capacity_gib+tier, throughput_gbps, "
                                          "or checkpoint_gib+max_write_seconds")
    for t in tiers:
        if t not in TIERS:
            raise SizingError("tier", f"{t} MB/s/TiB is not a PERSISTENT_2 tier; one of {TIERS}")
    if prices is not None and any(t not in prices for t in tiers):
        raise SizingError("prices", f"prices must cover every tier considered: {tuple(tiers)}")
    if checkpoint_gib is not None and checkpoint_gib <= 0:
        raise SizingError("checkpoint_gib", "must be positive")

    if explicit:
        if capacity_gib is None or tier is None:
            raise SizingError("capacity_gib" if capacity_gib is None else "tier",
                              "an explicit size needs both capacity_gib and tier")
        if tier not in TIERS:
            raise SizingError("tier", f"{tier} MB/s/TiB is not a PERSISTENT_2 tier; one of {', '.join(map(str, TIERS))}")
        if not valid_capacity(capacity_gib):
            raise SizingError("capacity_gib", f"{capacity_gib} GiB is not a valid PERSISTENT_2 capacity: 1200, 2400, "
                                              f"then multiples of 2400 (nearest above: {round_up_capacity(capacity_gib)})")
        if capacity_gib > max_capacity_gib:
            raise SizingError("capacity_gib", f"{capacity_gib} GiB is above the limit of {max_capacity_gib} GiB")
        if capacity_gib < min_capacity_gib:
            raise SizingError("capacity_gib", f"{capacity_gib} GiB is below the {min_capacity_gib:g} GiB required")
        return _result(capacity_gib, tier, checkpoint_gib, prices)

    if throughput_gbps is not None:
        field, need_mbps = "throughput_gbps", throughput_gbps * 1000
        if throughput_gbps <= 0:
            raise SizingError(field, "must be positive")
    else:
        if checkpoint_gib is None:
            raise SizingError("checkpoint_gib", "max_write_seconds needs the checkpoint size (checkpoint_gib)")
        if max_write_seconds is None or max_write_seconds <= 0:
            raise SizingError("max_write_seconds", "must be positive")
        field, need_mbps = "max_write_seconds", checkpoint_gib * MB_PER_GIB / max_write_seconds
        min_capacity_gib = max(min_capacity_gib, checkpoint_gib)

    floor = round_up_capacity(min_capacity_gib)
    best: tuple[int, float, int] | None = None  # (capacity, cost, tier)
    for t in tiers:
        # Smallest capacity c with c / 1024 * t >= need, i.e. c >= need * 1024 / t.
        cap = max(floor, round_up_capacity(need_mbps * 1024 / t))
        while throughput_mbps(cap, t) < need_mbps:  # guard against float rounding at a boundary
            cap = round_up_capacity(cap + 1)
        if cap > max_capacity_gib:
            continue
        cost = cap * prices[t] if prices is not None else float(t)
        if best is None or (cap, cost) < best[:2]:
            best = (cap, cost, t)
    if best is None:
        top = max(tiers)
        most = throughput_mbps(max_capacity_gib - max_capacity_gib % STEP_GIB, top)
        raise SizingError(field, f"needs {need_mbps / 1000:.2f} GB/s; the largest file system aidc may size "
                                 f"({max_capacity_gib} GiB at {top} MB/s/TiB) gives {most / 1000:.2f} GB/s")
    return _result(best[0], best[2], checkpoint_gib, prices)


def _result(capacity: int, tier: int, checkpoint_gib: float | None, prices: Mapping[int, float] | None) -> LustreSize:
    mbps = throughput_mbps(capacity, tier)
    return LustreSize(
        capacity_gib=capacity, tier=tier, throughput_mbps=mbps, checkpoint_gib=checkpoint_gib,
        checkpoint_seconds=write_seconds(checkpoint_gib, mbps) if checkpoint_gib is not None else None,
        monthly_usd=capacity * prices[tier] if prices is not None and tier in prices else None)
