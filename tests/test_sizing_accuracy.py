"""The planner against published training runs, with the shipped catalog's GPU facts and
default MFU (no --mfu). Calibrated on Llama 2 70B only; every other run is a check.

Runs the defaults cannot reach within 35% are listed as such (and must stay outside, so
docs/sizing.md stays true): see the "Accuracy" section there for why."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from aidc.sizing import TrainWorkload, plan_train, resolve_hardware
from components.catalog import catalog

TOLERANCE = 0.35


class Run(NamedTuple):
    name: str
    gpu: str  # catalog GPU name prefix
    params: float  # active parameters
    tokens: float
    gpu_hours: float  # published
    within: bool  # whether the defaults land within TOLERANCE
    precision: str = "bf16"


RUNS = [
    # Meta, Llama 2 model card (A100-80GB GPU-hours); parameter counts from the released weights.
    Run("Llama 2 70B (calibration)", "A100", 68.98e9, 2.0e12, 1_720_320, True),
    Run("Llama 2 13B", "A100", 13.02e9, 2.0e12, 368_640, True),
    Run("Llama 2 7B", "A100", 6.74e9, 2.0e12, 184_320, True),
    # LLaMA paper (arXiv 2302.13971), Table 15 and Table 2.
    Run("LLaMA 65B", "A100", 65.2e9, 1.4e12, 1_022_362, True),
    Run("LLaMA 33B", "A100", 32.5e9, 1.4e12, 530_432, True),
    Run("LLaMA 13B", "A100", 13.0e9, 1.0e12, 135_168, True),
    Run("LLaMA 7B", "A100", 6.7e9, 1.0e12, 82_432, True),
    # BLOOM paper (arXiv 2211.05100, 3.4.1) and Luccioni et al. (arXiv 2211.02001, Table 1).
    Run("BLOOM 176B", "A100", 176.25e9, 366e9, 1_082_990, True),
    # OPT-175B: 992 A100s, 180B tokens; GPU-hours from the LLaMA paper's Table 15.
    Run("OPT-175B", "A100", 175e9, 180e9, 809_472, False),
    # Meta, Llama 3.1 model card (H100-80GB GPU-hours); 15.6T tokens (Llama 3 paper).
    Run("Llama 3.1 405B", "H100", 405.85e9, 15.6e12, 30_840_000, True),
    Run("Llama 3.1 70B", "H100", 70.55e9, 15.6e12, 7_000_000, True),
    Run("Llama 3.1 8B", "H100", 8.03e9, 15.6e12, 1_460_000, False),
    # DeepSeek-V3 (arXiv 2412.19437): 37B active, 14.8T tokens, FP8, 2.664M H800-hours of
    # pre-training; the H800 has the H100 SXM's tensor throughput.
    Run("DeepSeek-V3 (fp8, MoE)", "H100", 37e9, 14.8e12, 2_664_000, True, "fp8"),
]


def _hardware(prefix: str):
    cat = catalog()
    keys = [k for k, g in cat.gpus.items() if k.upper().startswith(prefix) and g.memory_gib >= 80]
    assert keys, f"the catalog has no {prefix} 80GB GPU"
    return resolve_hardware(cat, None, keys[0])


def estimate(run: Run) -> float:
    plan = plan_train(TrainWorkload(run.params, run.tokens, gpus=4096, precision=run.precision),
                      _hardware(run.gpu), catalog())
    return plan.gpu_hours


@pytest.mark.parametrize("run", RUNS, ids=[r.name for r in RUNS])
def test_published_run(run: Run):
    error = estimate(run) / run.gpu_hours - 1
    assert (abs(error) <= TOLERANCE) == run.within, f"{run.name}: estimate off by {error:+.1%}"


def test_calibration_case_is_close():
    # Llama 2 70B with the round numbers: 70e9 params, 2T tokens, 1,720,320 A100-hours.
    run = Run("Llama 2 70B", "A100", 70e9, 2e12, 1_720_320, True)
    assert estimate(run) == pytest.approx(1_720_320, rel=0.03)


def test_most_runs_land_within_tolerance():
    assert sum(r.within for r in RUNS) >= len(RUNS) - 2


if __name__ == "__main__":  # prints the table in docs/sizing.md
    for r in RUNS:
        est = estimate(r)
        print(f"| {r.name} | {r.gpu} {r.precision} | {r.params / 1e9:,.2f}B | {r.tokens / 1e12:,.3g}T | "
              f"{r.gpu_hours:,.0f} | {est:,.0f} | {est / r.gpu_hours - 1:+.1%} |")
