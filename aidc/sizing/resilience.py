"""Failures of a training run and what they cost: expected interruptions, the checkpoint
interval that minimises lost time (Young/Daly), goodput and lost GPU-hours. Pure functions of
the run (GPUs, failure-free hours, checkpoint write time) and the catalog's failure rate.

Model (docs/sizing.md, "Failures, checkpoint interval and goodput"): every GPU fails
independently at rate `lam` per hour and any failure stops the whole synchronous job, so the
run's mean time between interruptions is M = 1 / (N lam). Writing a checkpoint blocks training
for `delta`; after an interruption the job loses the restart time R (detect, replace, reload)
plus, on average, half a checkpoint period of work done since the last checkpoint."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aidc.errors import Problem, UserError
from components.catalog import Catalog

HOUR = 3600.0


@dataclass(frozen=True)
class Resilience:
    rate_per_gpu_hour: float
    rate_source: str
    mtbi_hours: float  # mean time between interruptions of the whole run
    checkpoint_seconds: float  # delta: one blocking checkpoint write
    restart_hours: float  # R: detect + replace + reload
    interval_seconds: float  # tau: compute time between checkpoints (Daly's optimum)
    young_interval_seconds: float  # sqrt(2 delta M), Young's first-order optimum
    goodput: float  # useful training time / wall time
    failure_free_hours: float
    wall_hours: float
    interruptions: float  # expected over the wall time
    lost_gpu_hours: float
    assumptions: tuple[str, ...]


def mtbi_hours(rate_per_gpu_hour: float, gpus: int) -> float:
    """Mean time between interruptions of a job on `gpus` GPUs: 1 / (N lam)."""
    return 1.0 / (rate_per_gpu_hour * gpus)


def young_interval(delta: float, mtbi: float) -> float:
    """Young (1974): tau = sqrt(2 delta M), in the unit of delta and M."""
    return math.sqrt(2.0 * delta * mtbi)


def daly_interval(delta: float, mtbi: float) -> float:
    """Daly (2006), higher order: tau = sqrt(2 delta M) [1 + sqrt(delta/2M)/3 + (delta/2M)/9] - delta
    for delta < 2M; otherwise tau = M (checkpointing cannot keep up with failures)."""
    if delta >= 2.0 * mtbi:
        return mtbi
    x = delta / (2.0 * mtbi)
    return young_interval(delta, mtbi) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta


def goodput(tau: float, delta: float, restart: float, mtbi: float) -> float:
    """Share of wall time spent on useful training: tau / (tau + delta) for the checkpoint
    writes, times 1 - (R + (tau + delta) / 2) / M for what each interruption throws away.
    0 when interruptions come faster than a restart and half a period."""
    return tau / (tau + delta) * max(0.0, 1.0 - (restart + (tau + delta) / 2.0) / mtbi)


def plan_resilience(cat: Catalog, gpus: int, failure_free_hours: float, checkpoint_seconds: float,
                    restart_minutes: float | None = None, rate_per_gpu_hour: float | None = None) -> Resilience:
    """The run's failures and their cost. `restart_minutes` and `rate_per_gpu_hour` override
    the catalog (failures.yaml); the checkpoint is read back as fast as it was written."""
    problems: list[Problem] = []
    if restart_minutes is not None and not (math.isfinite(restart_minutes) and restart_minutes >= 0):
        problems.append(Problem("--restart-minutes", f"must be 0 or more, got {restart_minutes:g}"))
    if rate_per_gpu_hour is not None and not (math.isfinite(rate_per_gpu_hour) and rate_per_gpu_hour > 0):
        problems.append(Problem("--failures-per-gpu-hour", f"must be more than 0, got {rate_per_gpu_hour:g}"))
    if problems:
        raise UserError("invalid failure assumptions", problems)
    data = cat.failures
    observed = data.rates[data.default]
    if rate_per_gpu_hour is None:
        lam = observed.per_gpu_hour
        source = (f"{observed.interruptions} unexpected interruptions in {observed.days:g} days on "
                  f"{observed.gpus:,} GPUs ({data.default}, {observed.source.url})")
    else:
        lam, source = rate_per_gpu_hour, "--failures-per-gpu-hour"
    rs = data.restart
    if restart_minutes is None:
        setup_h = (rs.detect_minutes + rs.replace_minutes) / 60.0
        how = f"{rs.detect_minutes:g} min to detect + {rs.replace_minutes:g} min to replace (catalog)"
    else:
        setup_h, how = restart_minutes / 60.0, f"{restart_minutes:g} min (--restart-minutes)"
    m = mtbi_hours(lam, gpus) * HOUR
    delta = checkpoint_seconds
    restart = setup_h * HOUR + delta
    tau = daly_interval(delta, m)
    g = goodput(tau, delta, restart, m)
    wall = failure_free_hours / g if g > 0 else math.inf
    assumptions = (
        f"failures: {lam:.3g} per GPU-hour from {source}; any failure stops the whole job",
        f"restart after a failure: {how} + reading the checkpoint back ({delta:,.0f} s, as long as writing it)",
        "checkpoint writes block training; half a checkpoint period of work is redone per interruption",
    )
    return Resilience(lam, source, m / HOUR, delta, restart / HOUR, tau, young_interval(delta, m), g,
                      failure_free_hours, wall, wall * HOUR / m, (wall - failure_free_hours) * gpus, assumptions)


def resilience_lines(r: Resilience) -> list[str]:
    wall_days = r.wall_hours / 24.0
    return [
        f"  failures    {r.interruptions:,.0f} expected interruptions over {wall_days:,.1f} days "
        f"(one every {r.mtbi_hours:,.1f} h); {r.lost_gpu_hours:,.0f} GPU-hours lost",
        f"  checkpoint every {r.interval_seconds / 60:,.0f} min (Young/Daly optimum for a {r.checkpoint_seconds:,.0f} s "
        f"write and {r.mtbi_hours:,.1f} h between failures) -> goodput {r.goodput:.1%}",
    ]


def resilience_json(r: Resilience) -> dict:
    return {"failuresPerGpuHour": r.rate_per_gpu_hour, "failureSource": r.rate_source,
            "hoursBetweenInterruptions": round(r.mtbi_hours, 3), "expectedInterruptions": round(r.interruptions, 1),
            "checkpointIntervalSeconds": round(r.interval_seconds), "youngIntervalSeconds": round(r.young_interval_seconds),
            "checkpointWriteSeconds": round(r.checkpoint_seconds, 1), "restartHours": round(r.restart_hours, 3),
            "goodput": round(r.goodput, 4), "wallDays": round(r.wall_hours / 24.0, 2),
            "lostGpuHours": round(r.lost_gpu_hours), "assumptions": list(r.assumptions)}
