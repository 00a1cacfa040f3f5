"""The utilisation model against published training runs (catalog mfu.yaml): fitted on the
calibration runs only, judged on the held-out runs. `python -m tests.test_sizing_accuracy`
prints the table in docs/sizing.md (error before: the old one-MFU-per-generation defaults,
0.43 A100 / 0.35 H100 bf16 / 0.20 H100 fp8 on 6NT; after: this model)."""

from __future__ import annotations

import statistics

import pytest

from aidc.sizing.mfu import UtilisationModel, shipped_model
from components.catalog import PublishedRun, catalog

MODEL = shipped_model()
CAT = catalog()
# The constant defaults this model replaced, as shipped before it (git history of mfu.yaml).
BEFORE = {("ampere", "bf16"): 0.43, ("hopper", "bf16"): 0.35, ("hopper", "fp8"): 0.20}


def error(run: PublishedRun, model: UtilisationModel = MODEL) -> float:
    """Expected / published GPU-hours - 1: negative = the model is optimistic."""
    return model.expected_gpu_hours(run) / run.published_gpu_hours - 1


def error_before(run: PublishedRun) -> float:
    gpu = CAT.gpus[run.gpu]
    hours = 6 * run.active_params * run.tokens / (gpu.dense_tflops[run.precision] * 1e12
                                                  * BEFORE[gpu.generation, run.precision]) / 3600
    return hours / run.published_gpu_hours - 1


def test_held_out_median_error_within_15_percent_and_nine_in_ten_within_35():
    errors = [abs(error(r)) for r in CAT.mfu.held_out]
    assert len(errors) >= 10
    assert statistics.median(errors) <= 0.15
    assert sum(e <= 0.35 for e in errors) / len(errors) >= 0.90


def test_held_out_beats_the_constant_defaults():
    after = statistics.median(abs(error(r)) for r in CAT.mfu.held_out)
    before = statistics.median(abs(error_before(r)) for r in CAT.mfu.held_out)
    assert after < before


def test_range_covers_the_calibration_runs_and_most_held_out():
    low, high = MODEL.range
    for r in CAT.mfu.calibration:
        assert low - 1e-9 <= MODEL.published_over_expected(r) <= high + 1e-9, r.name
    inside = [low <= MODEL.published_over_expected(r) <= high for r in CAT.mfu.held_out]
    assert sum(inside) / len(inside) >= 0.85


def test_fit_is_the_median_of_the_calibration_runs():
    # Llama 2 13B and Llama 3.1 70B are the medians of their generations: the model hits them.
    runs = {r.name: r for r in CAT.mfu.calibration}
    assert error(runs["Llama 2 13B"]) == pytest.approx(0, abs=1e-9)
    assert error(runs["Llama 3.1 70B"]) == pytest.approx(0, abs=1e-9)
    assert MODEL.base["ampere"] == pytest.approx(0.426, abs=0.001)
    assert MODEL.base["hopper"] == pytest.approx(0.305, abs=0.001)
    assert MODEL.fp8 == pytest.approx(0.651, abs=0.001)


def test_held_out_runs_do_not_move_the_model():
    data = CAT.mfu

    class WithoutHeldOut:
        gpus, mfu = CAT.gpus, data.model_copy(update={"held_out": ()})

    fitted = UtilisationModel(WithoutHeldOut)
    assert fitted.base == MODEL.base and fitted.range == MODEL.range


def test_a_calibration_run_moves_the_model():
    data = CAT.mfu
    runs = list(data.calibration)
    i = next(k for k, r in enumerate(runs) if r.name == "Llama 2 13B")
    runs[i] = runs[i].model_copy(update={"gpu_hours": runs[i].gpu_hours * 2})

    class Shifted:
        gpus, mfu = CAT.gpus, data.model_copy(update={"calibration": tuple(runs)})

    assert UtilisationModel(Shifted).base["ampere"] < MODEL.base["ampere"]


def test_width_slope_is_the_llama3_table():
    # 43% at DP64 -> 41% at DP128 (Llama 3 paper, Table 4): one doubling costs 2^-0.069.
    hopper = MODEL.mfu("hopper", "bf16", False, 128) / MODEL.mfu("hopper", "bf16", False, 64)
    assert hopper == pytest.approx(41 / 43, abs=0.002)


if __name__ == "__main__":  # prints the table in docs/sizing.md
    for kind, runs in (("calibration", CAT.mfu.calibration), ("held out", CAT.mfu.held_out)):
        for r in runs:
            print(f"| {r.name} | {kind} | {r.gpu} {r.precision}{' MoE' if r.moe else ''} | "
                  f"{r.active_params / 1e9:,.1f}B | {r.tokens / 1e12:,.3g}T | {r.seq_len:,} | "
                  f"{r.gpus if r.gpus else '—'} | {r.published_gpu_hours:,.0f} | "
                  f"{MODEL.expected_gpu_hours(r):,.0f} | {error_before(r):+.1%} | {error(r):+.1%} |")
        es = [abs(error(r)) for r in runs]
        bs = [abs(error_before(r)) for r in runs]
        print(f"{kind}: median |error| before {statistics.median(bs):.1%}, after {statistics.median(es):.1%}; "
              f"within 35% before {sum(b <= .35 for b in bs)}/{len(bs)}, after {sum(e <= .35 for e in es)}/{len(es)}")
