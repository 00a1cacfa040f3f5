"""`aidc:cost`: the assumptions of the cost and energy model a stack may override."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Model


class CostSpec(Model):
    # Fraction off the on-demand price for spot capacity (GPU spot savings vary by type and zone).
    spot_discount: float = Field(default=0.5, ge=0, lt=1)
    # Power usage effectiveness of the facility: total facility power / IT power. None: the site's
    # (aidc:site.pue), else the catalog's (components/catalog/energy.yaml).
    pue: float | None = Field(default=None, ge=1, le=3)
    # Whole-server draw / GPU board power (CPUs, memory, NICs, fans, power conversion). None: the catalog's.
    server_overhead_factor: float | None = Field(default=None, ge=1, le=4)
    # The team's own monthly budget; it can only tighten the environment's budget in policies/config.
    monthly_budget_usd: float | None = Field(default=None, gt=0)
    # Data processed by all NAT gateways together per month.
    nat_data_gb_per_month: float = Field(default=0, ge=0)
    # Log data sent to CloudWatch Logs per month (control-plane and flow logs), when known.
    log_ingest_gb_per_month: float = Field(default=0, ge=0)
    # Node-hours a month a Karpenter pool is expected to run beyond what model servers hold
    # up (pool name -> hours); without it such a pool costs only its held-up nodes.
    pool_node_hours: dict[str, float] = {}

    @field_validator("pool_node_hours")
    @classmethod
    def _hours(cls, v: dict[str, float]) -> dict[str, float]:
        for name, hours in v.items():
            if hours < 0:
                raise ValueError(f"{name}: node-hours cannot be negative")
        return v
