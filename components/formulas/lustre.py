"""FSx for Lustre sizing: from what the workloads need to a capacity and throughput tier.

Pure and dependency-free (no pulumi, no pydantic, no catalog import): the storage
component and the capacity planner (`aidc size`) both call `lustre_size`.

Rules of the service for PERSISTENT_2 file systems on SSD (FSx CreateFileSystem API,
StorageCapacity): 1200 GiB, 2400 GiB, then increments of 2400 GiB, the same at every
throughput tier. (EFA-enabled file systems use per-tier increments of 38400/19200/9600/4800
GiB; aidc does not create those.) Throughput per unit of storage is 125, 250, 500 or
1000 MB/s per TiB, and the file system's baseline throughput is capacity (TiB) x tier.

Names shared with the capacity planner (`aidc size train`), which calls
`lustre_size(checkpoint_gib, max_write_seconds, prices)` with `prefer="cost"` as default.

Units: throughput in MB/s (10^6 bytes) and GB/s (10^9 bytes) as FSx quotes it; capacity
and checkpoint sizes in GiB; a TiB is 1024 GiB. The FSx console shows 1200 GiB as
"1.2 TiB" (so 600 MB/s at 500 MB/s/TiB); aidc plans with the exact 1.17 TiB (586 MB/s),
which never overstates what the file system delivers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

TIERS: tuple[int, ...] = (125, 250, 500, 1000)  # PERSISTENT_2 SSD, MB/s per TiB
MIN_CAPACITY_GIB = 1200
STEP_GIB = 2400
# Largest file system a stack may ask for unless it says otherwise (`maxCapacityGiB`);
# FSx accepts more when the account's quota allows.
MAX_CAPACITY_GIB = 100_800
MB_PER_GIB = 2**30 / 1e6  # 1073.741824
Prefer = Literal["cost", "capacity"]


class SizingError(ValueError):
    """A requirement no PERSISTENT_2 file system can meet. `field` names the argument at
    fault (e.g. "throughput_gbps"), so callers can point at their own key."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class LustreSize:
    capacity_gib: int
    tier_mbps_per_tib: int
    throughput_mbps: float  # aggregate baseline throughput of the file system
    write_seconds: float | None = None  # time to write checkpoint_gib at throughput_mbps
    usd_per_month: float | None = None  # capacity x the tier's price, when prices were given
    checkpoint_gib: float | None = None

    @property
    def throughput_gbps(self) -> float:
        return self.throughput_mbps / 1000

    def summary(self) -> str:
        """'7200 GiB at 1000 MB/s/TiB = 7.03 GB/s; 1050 GiB checkpoint in 160 s; $4,320/month'"""
        parts = [f"{self.capacity_gib} GiB at {self.tier_mbps_per_tib} MB/s/TiB = {self.throughput_gbps:.2f} GB/s"]
        if self.write_seconds is not None:
            parts.append(f"{self.checkpoint_gib:g} GiB checkpoint in {self.write_seconds:.0f} s")
        if self.usd_per_month is not None:
            parts.append(f"${self.usd_per_month:,.0f}/month")
        return "; ".join(parts)


def is_valid_capacity(gib: int) -> bool:
    """1200, 2400, 4800, 7200, ... GiB: what CreateFileSystem accepts for PERSISTENT_2 SSD."""
    return gib == MIN_CAPACITY_GIB or (gib >= STEP_GIB and gib % STEP_GIB == 0)


def valid_capacity_gib(at_least_gib: float) -> int:
    """The smallest valid capacity that is at least `at_least_gib`."""
    if at_least_gib <= MIN_CAPACITY_GIB:
        return MIN_CAPACITY_GIB
    return math.ceil(at_least_gib / STEP_GIB) * STEP_GIB


def throughput_mbps(capacity_gib: int, tier: int) -> float:
    """Baseline throughput of a file system: capacity in TiB times the tier."""
    return capacity_gib / 1024 * tier


def write_seconds(size_gib: float, mbps: float) -> float:
    """Seconds to stream `size_gib` at `mbps` (the file system's share; clients may be slower)."""
    return size_gib * MB_PER_GIB / mbps


def lustre_size(checkpoint_gib: float | None = None, max_write_seconds: float | None = None,
                prices: Mapping[int, float] | None = None, *, throughput_gbps: float | None = None,
                capacity_gib: int | None = None, tier: int | None = None,
                min_capacity_gib: float = 0, max_capacity_gib: int | None = None,
                tiers: Sequence[int] = TIERS, prefer: Prefer = "cost") -> LustreSize:
    """Size a PERSISTENT_2 file system. Give exactly one requirement:

    - `capacity_gib` and `tier`: explicit; checked against the service's increments;
    - `throughput_gbps`: aggregate baseline throughput to reach (GB/s);
    - `checkpoint_gib` and `max_write_seconds`: a checkpoint to write in at most that long
      (needs checkpoint_gib x 1073.74 / max_write_seconds MB/s; the capacity also holds
      at least one checkpoint).

    For a target, each tier in `tiers` is sized to the smallest valid capacity (at least
    `min_capacity_gib`) whose throughput meets it; then
    - `prefer="capacity"` (the stack's file system) keeps the smallest capacity, and among
      tiers that reach the target at that capacity the cheapest by `prices` (USD per
      GB-month by tier, the catalog's FSx prices), else the lowest tier;
    - `prefer="cost"` (the capacity planner) keeps the cheapest by `prices`, ties to the
      smaller capacity; without prices it behaves as "capacity".
    Rounding up to 2400 GiB steps makes them differ: 1 TB in 5 minutes is 4800 GiB at
    1000 MB/s/TiB by capacity, 7200 GiB at 500 MB/s/TiB by cost ($2,448 against $2,880).
    `checkpoint_gib` may accompany the other requirements to report its write time.
    `max_capacity_gib` bounds the answer (None: unbounded, as the planner wants; stacks
    pass their `maxCapacityGiB`). Raises SizingError naming the argument that cannot be met."""
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
        if not is_valid_capacity(capacity_gib):
            raise SizingError("capacity_gib", f"{capacity_gib} GiB is not a valid PERSISTENT_2 capacity: 1200, 2400, "
                                              f"then multiples of 2400 (nearest above: {valid_capacity_gib(capacity_gib)})")
        if max_capacity_gib is not None and capacity_gib > max_capacity_gib:
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

    floor = valid_capacity_gib(min_capacity_gib)
    candidates: list[tuple[int, float, int]] = []  # (capacity, cost, tier)
    for t in tiers:
        # Smallest capacity c with c / 1024 * t >= need, i.e. c >= need * 1024 / t.
        cap = max(floor, valid_capacity_gib(need_mbps * 1024 / t))
        while throughput_mbps(cap, t) < need_mbps:  # guard against float rounding at a boundary
            cap = valid_capacity_gib(cap + 1)
        if max_capacity_gib is None or cap <= max_capacity_gib:
            # Without prices the lowest tier stands in for the cheapest (prices rise with it).
            candidates.append((cap, cap * prices[t] if prices is not None else float(t), t))
    if not candidates:
        assert max_capacity_gib is not None
        top = max(tiers)
        most = throughput_mbps(max_capacity_gib - max_capacity_gib % STEP_GIB, top)
        raise SizingError(field, f"needs {need_mbps / 1000:.2f} GB/s; the largest file system aidc may size "
                                 f"({max_capacity_gib} GiB at {top} MB/s/TiB) gives {most / 1000:.2f} GB/s")
    by_cost = prefer == "cost" and prices is not None
    cap, _, t = min(candidates, key=lambda c: (c[1], c[0]) if by_cost else (c[0], c[1]))
    return _result(cap, t, checkpoint_gib, prices)


def _result(capacity: int, tier: int, checkpoint_gib: float | None, prices: Mapping[int, float] | None) -> LustreSize:
    mbps = throughput_mbps(capacity, tier)
    return LustreSize(
        capacity_gib=capacity, tier_mbps_per_tib=tier, throughput_mbps=mbps, checkpoint_gib=checkpoint_gib,
        write_seconds=write_seconds(checkpoint_gib, mbps) if checkpoint_gib is not None else None,
        usd_per_month=capacity * prices[tier] if prices is not None and tier in prices else None)
