"""`aidc:gpuPools`: the GPU node pools, each one instance type on one kind of capacity."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from components.catalog import Catalog

from .base import Model, Problem

CapacityType = Literal["onDemand", "spot", "capacityBlock", "reservation"]


class Capacity(Model):
    type: CapacityType = "onDemand"
    # cr-... for a Capacity Block or an On-Demand Capacity Reservation.
    reservation_id: str | None = Field(default=None, pattern=r"^cr-[0-9a-f]{8,17}$")
    # arn:...:group/... of a capacity reservation group (reservation only).
    reservation_group_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:resource-groups:")

    @property
    def reserved(self) -> bool:
        return self.type in ("capacityBlock", "reservation")


class Size(Model):
    min: int = Field(default=0, ge=0)
    max: int = Field(default=1, ge=1)
    desired: int | None = Field(default=None, ge=0)


class GpuPoolSpec(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
    instance_type: str
    provisioner: Literal["managed", "karpenter"] = "managed"
    capacity: Capacity = Capacity()
    size: Size = Size()
    efa: bool = False
    # Pin the zone; a reservation or Capacity Block is bound to one.
    availability_zone: str | None = None
    purpose: Literal["training", "inference"] = "training"


def problems(pools: tuple[GpuPoolSpec, ...], cat: Catalog, path: str = "aidc:gpuPools") -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, pool in enumerate(pools):
        at = f"{path}[{i}]"
        if pool.name in seen:
            yield Problem(f"{at}.name", f"{pool.name!r} is already the name of gpuPools[{seen[pool.name]}]")
        seen.setdefault(pool.name, i)
        inst = cat.instances.get(pool.instance_type)
        if inst is None:
            close = difflib.get_close_matches(pool.instance_type, cat.instances, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(cat.instances))}"
            yield Problem(f"{at}.instanceType", f"unknown GPU instance type {pool.instance_type!r}{hint}")
        elif pool.efa and inst.efa_interfaces == 0:
            yield Problem(f"{at}.efa", f"{pool.instance_type} has no EFA interfaces")
        cap = pool.capacity
        if cap.type == "capacityBlock" and not cap.reservation_id:
            yield Problem(f"{at}.capacity.reservationId", "required for capacityBlock")
        if cap.type == "reservation" and not (cap.reservation_id or cap.reservation_group_arn):
            yield Problem(f"{at}.capacity.reservationId", "required for reservation (or reservationGroupArn)")
        if not cap.reserved and (cap.reservation_id or cap.reservation_group_arn):
            yield Problem(f"{at}.capacity.type", f"{cap.type} capacity cannot use a reservation")
        if inst is not None and inst.capacity_block_only and cap.type != "capacityBlock":
            yield Problem(f"{at}.capacity.type",
                          f"{pool.instance_type} is sold only as Capacity Blocks; use capacityBlock")
        size = pool.size
        if size.min > size.max:
            yield Problem(f"{at}.size.min", f"{size.min} is above max {size.max}")
        if size.desired is not None and not size.min <= size.desired <= size.max:
            yield Problem(f"{at}.size.desired", f"{size.desired} is outside min..max ({size.min}..{size.max})")
