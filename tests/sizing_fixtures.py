"""Hand-made hardware for worked examples: fixed numbers, independent of the shipped catalog."""

from __future__ import annotations

import datetime as dt

from aidc.sizing import Hardware
from components.catalog import Gpu, Instance, Rate, Source
from components.catalog.model import Price

SRC = Source(url="https://example.test/worked-example", date=dt.date(2026, 1, 1))


def _rate(usd: float | None) -> Rate | None:
    return None if usd is None else Rate(usd_per_hour=usd, source=SRC)


def hardware(name: str, gen: str, mem: float, bw: float, tflops: dict, gpus: int, usd: float,
             efa: int = 4, capacity_block: float | None = None, one_year: float | None = None) -> Hardware:
    gpu = Gpu(name=name, generation=gen, memory_gib=mem, memory_bandwidth_gbps=bw, board_power_w=700,
              dense_tflops=tflops, source=SRC)
    inst = Instance(family="x", gpu=name, gpu_count=gpus, vcpu=96, memory_gib=1024, network_gbps=400,
                    network_cards=max(efa, 1), efa_interfaces=efa, nvme_gb=0, nvme_disks=0,
                    ami_families=("al2023-nvidia",), price=Price(on_demand_usd_per_hour=usd, source=SRC,
                                            capacity_block=_rate(capacity_block), one_year=_rate(one_year)))
    return Hardware(name, gpu, f"{name.lower()}.node", inst)


A100 = hardware("A100", "ampere", 80, 2039, {"bf16": 312}, 8, 40.0)
H100 = hardware("H100", "hopper", 80, 3350, {"bf16": 989, "fp8": 1979}, 8, 55.04, efa=32)
