"""Which GPU and node a sizing question is about, looked up in the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from aidc.errors import Problem, UserError
from components.catalog import Catalog, Gpu, Instance, Rate
from components.suggest import unknown

HOURS_PER_MONTH = 730  # AWS's billing month: 8,760 h / 12
GIB = 1 << 30
RESERVED_KINDS = {
    "capacityBlock": "Capacity Block (effective rate of the up-front fee; AWS re-prices blocks with demand)",
    "oneYear": "1-year Instance Savings Plan / RI, no upfront (the commitment is paid for the whole year)",
}


def reserved_assumption(what: str, hw: "Hardware", found: tuple[Rate, str] | None) -> str:
    """One assumption line naming the committed rate used, or saying there is none."""
    if found is None:
        return (f"reserved: the catalog has no {'Capacity Block or ' if what == 'run' else ''}1-year rate for "
                f"{hw.instance_type}; costUsdReserved is null")
    rate, kind = found
    return (f"reserved: {RESERVED_KINDS[kind]} at ${rate.usd_per_hour:,.2f}/h per node for the whole {what} "
            f"({rate.region}, read {rate.source.date})")


@dataclass(frozen=True)
class Hardware:
    gpu_key: str
    gpu: Gpu
    instance_type: str
    instance: Instance

    @property
    def gpus_per_node(self) -> int:
        return self.instance.gpu_count

    @property
    def usd_per_node_hour(self) -> float:
        price = self.instance.price
        assert price is not None, "resolve_hardware admits EC2 types only"
        return price.on_demand_usd_per_hour

    def reserved_rate(self, training: bool) -> tuple[Rate, str] | None:
        """The committed rate quoted next to on demand, and its kind. A training run (days to
        weeks) is what Capacity Blocks are sold for, so that rate comes first, then the 1-year
        Savings Plan / RI rate. Serving runs all year: only the 1-year rate applies."""
        price = self.instance.price
        if price is None:
            return None  # never reached: resolve_hardware admits EC2 types only
        order = [("capacityBlock", price.capacity_block)] if training else []
        order.append(("oneYear", price.one_year))
        return next(((rate, kind) for kind, rate in order if rate is not None), None)

    def peak_flops(self, precision: str, flag: str = "--precision") -> float:
        """Dense peak FLOP/s of one GPU at a precision (catalog `denseTflops`)."""
        tflops = self.gpu.dense_tflops.get(precision)
        if not tflops:
            known = ", ".join(sorted(self.gpu.dense_tflops))
            raise UserError("precision not supported by this GPU",
                            [Problem(flag, f"{self.gpu.name} has no dense {precision} peak in the catalog "
                                           f"(known: {known})")])
        return tflops * 1e12


def nodes_carrying(cat: Catalog, gpu_key: str) -> list[Hardware]:
    """EC2 types carrying the GPU: sizing prices what aidc can launch, never on-prem servers."""
    return [Hardware(gpu_key, cat.gpus[gpu_key], name, inst)
            for name, inst in sorted(cat.ec2_types.items()) if inst.gpu == gpu_key]


def _unknown(flag: str, what: str, name: str, known: list[str]) -> UserError:
    return UserError(f"unknown {what}", [Problem(flag, unknown(what, name, known))])


def resolve_hardware(cat: Catalog, instance_type: str | None, gpu: str | None) -> Hardware:
    """From --instance-type, or from --gpu (then the catalog's largest node carrying it)."""
    if instance_type and gpu:
        raise UserError("conflicting options", [Problem("--gpu", "give --instance-type or --gpu, not both")])
    if instance_type:
        inst = cat.instances.get(instance_type)
        if inst is not None and inst.server:
            raise UserError("on-prem server shape", [Problem(
                "--instance-type", f"{instance_type} is an on-prem server shape: aidc size prices and launches EC2 "
                                   f"instance types; use --gpu {inst.gpu} (or an EC2 type carrying it)")])
        if inst is None:
            raise _unknown("--instance-type", "GPU instance type", instance_type, list(cat.ec2_types))
        return Hardware(inst.gpu, cat.gpus[inst.gpu], instance_type, inst)
    if not gpu:
        raise UserError("no GPU given", [Problem("--instance-type", "give --instance-type (or --gpu)")])
    key = next((k for k, g in cat.gpus.items() if gpu.lower() in (k.lower(), g.name.lower())), None)
    if key is None:
        raise _unknown("--gpu", "GPU", gpu, list(cat.gpus))
    nodes = [(name, i) for name, i in cat.ec2_types.items() if i.gpu == key]
    if not nodes:
        raise UserError("no node carries this GPU",
                        [Problem("--gpu", f"no instance type in the catalog carries {gpu}; use --instance-type")])
    # Largest node first (training spans nodes), then one you can buy on demand, then the cheapest.
    name, inst = min(nodes, key=lambda ni: (-ni[1].gpu_count, ni[1].capacity_block_only,
                                            ni[1].price.on_demand_usd_per_hour if ni[1].price else 0.0, ni[0]))
    return Hardware(key, cat.gpus[key], name, inst)


def positive(flag: str, value: float | None, problems: list[Problem], integer: bool = False) -> None:
    """Collect a problem when a given size is zero, negative or (for counts) not whole."""
    if value is None:
        return
    if value <= 0:
        problems.append(Problem(flag, f"must be positive, got {value:g}"))
    elif integer and value != int(value):
        problems.append(Problem(flag, f"must be a whole number, got {value:g}"))
