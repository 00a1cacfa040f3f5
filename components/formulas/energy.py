"""Energy, carbon and rack arithmetic (stdlib only): the one place the power model's formulas live."""

from __future__ import annotations

import math

from .schedule import HOURS_PER_MONTH  # noqa: F401  (the one definition; energy callers read it here)


def node_kw(gpus: int, board_power_w: float, server_overhead: float, pue: float) -> float:
    """Facility power of one GPU node at full board power: GPUs x board power x whole-server
    overhead x PUE (the building's cooling and conversion on top of the IT load)."""
    return gpus * board_power_w * server_overhead * pue / 1000


def kwh(kw: float, hours: float) -> float:
    return kw * hours


def kg_co2e(energy_kwh: float, g_per_kwh: float) -> float:
    """Operational emissions: energy drawn from the grid x the grid's carbon intensity."""
    return energy_kwh * g_per_kwh / 1000


def servers_per_rack(rack_kw: float, server_kw: float) -> int:
    """Whole servers a rack's power budget holds at their maximum draw (0: not even one)."""
    return math.floor(rack_kw / server_kw + 1e-9)


def racks(servers: int, per_rack: int) -> int:
    return -(-servers // per_rack) if per_rack > 0 else 0
