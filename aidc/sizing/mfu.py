"""The utilisation model: effective MFU from GPU generation, precision, dense/MoE and the
data-parallel width, with its bases fitted on the published runs in the catalog (mfu.yaml).

    mfu = base[generation] x moe x fp8 x (dp_width / dp_reference) ^ -dp_slope

The slope is read from one published scaling measurement (mfu.yaml `model.slopeSource`); the
bases, the MoE and the FP8 factor are the medians of the calibration runs' log residuals, so
one outlying run moves them little and no run is tuned for. The range is the spread of
published / expected GPU-hours over the calibration runs, at the percentiles mfu.yaml names."""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

from aidc.errors import Problem, UserError
from components.catalog import Catalog, PublishedRun, catalog

from .flops import AttentionShape, training_flops
from .state import data_parallel_width


@dataclass(frozen=True)
class MfuEstimate:
    expected: float
    slow: float  # MFU at the range's slow end (more GPU-hours)
    fast: float  # MFU at the range's fast end
    dp_width: float | None
    terms: str  # how the expected value was composed, for the assumptions


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * pct / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def run_flops(run: PublishedRun) -> float:
    return training_flops(run.active_params, run.tokens, AttentionShape(run.layers, run.attention_width, run.seq_len))


class UtilisationModel:
    def __init__(self, cat: Catalog):
        if cat.mfu is None:
            raise UserError("no utilisation model", [Problem("--mfu", "the catalog has no mfu.yaml; give --mfu")])
        self.cat = cat
        self.data = cat.mfu
        shape = self.data.model
        self.slope, self.reference = shape.dp_slope, shape.dp_reference
        runs = self.data.calibration
        resid = {r.name: math.log(self._published_mfu(r) / self._width_term(self._run_dp(r))) for r in runs}
        gen_of = {r.name: cat.gpus[r.gpu].generation for r in runs}
        self.base: dict[str, float] = {}
        for gen, entry in self.data.generations.items():
            if entry.calibrated:
                dense = [resid[r.name] for r in runs if gen_of[r.name] == gen and not r.moe and r.precision == "bf16"]
                if not dense:
                    raise UserError("mfu.yaml", [Problem(f"mfu.generations.{gen}", "calibrated, but no dense bf16 "
                                                                                    "calibration run")])
                self.base[gen] = math.exp(statistics.median(dense))
        for gen, entry in self.data.generations.items():
            if not entry.calibrated:
                self.base[gen] = self.base[entry.derived_from] * entry.factor
        lb = {r.name: math.log(self.base[gen_of[r.name]]) for r in runs}
        moe = [resid[r.name] - lb[r.name] for r in runs if r.moe and r.precision == "bf16"]
        self.moe = math.exp(statistics.median(moe)) if moe else 1.0
        fp8 = [resid[r.name] - lb[r.name] - (math.log(self.moe) if r.moe else 0.0)
               for r in runs if r.precision == "fp8"]
        self.fp8 = math.exp(statistics.median(fp8)) if fp8 else None
        ratios = [self.published_over_expected(r) for r in runs]
        low, high = shape.range_percentiles
        self.range = (percentile(ratios, low), percentile(ratios, high))

    # -- the model --------------------------------------------------------------------------
    def _width_term(self, dp: float | None) -> float:
        return 1.0 if dp is None else (dp / self.reference) ** -self.slope

    def mfu(self, generation: str, precision: str, moe: bool, dp_width: float | None) -> float:
        if generation not in self.base:
            raise UserError("no utilisation model for this GPU", [Problem(
                "--mfu", f"mfu.yaml has no base for {generation} GPUs; give --mfu")])
        m = self.base[generation] * self._width_term(dp_width) * (self.moe if moe else 1.0)
        if precision == "fp8":
            if self.fp8 is None:
                raise UserError("no FP8 utilisation", [Problem("--mfu", "no fp8 calibration run in mfu.yaml; give --mfu")])
            m *= self.fp8
        return min(m, 1.0)

    def estimate(self, generation: str, precision: str, moe: bool, dp_width: float | None) -> MfuEstimate:
        m = self.mfu(generation, precision, moe, dp_width)
        slow, fast = self.range[1], self.range[0]
        terms = (f"{generation} base {self.base[generation]:.3f}"
                 + (f" x MoE {self.moe:.2f}" if moe else "") + (f" x FP8 {self.fp8:.2f}" if precision == "fp8" else "")
                 + (f" x data-parallel width {dp_width:,.0f} vs {self.reference:g} ^-{self.slope:g}"
                    f" = {self._width_term(dp_width):.3f}" if dp_width is not None else ""))
        return MfuEstimate(m, m / slow, min(m / fast, 1.0), dp_width, terms)

    # -- published runs ---------------------------------------------------------------------
    def _run_dp(self, run: PublishedRun) -> float | None:
        if run.gpus is None:
            return None
        return data_parallel_width(run.gpus, run.params, self.cat.gpus[run.gpu].memory_gib)

    def _peak(self, run: PublishedRun) -> float:
        return self.cat.gpus[run.gpu].dense_tflops[run.precision] * 1e12

    def _published_mfu(self, run: PublishedRun) -> float:
        return run_flops(run) / (run.published_gpu_hours * 3600 * self._peak(run))

    def expected_gpu_hours(self, run: PublishedRun) -> float:
        m = self.mfu(self.cat.gpus[run.gpu].generation, run.precision, run.moe, self._run_dp(run))
        return run_flops(run) / (self._peak(run) * m) / 3600

    def published_over_expected(self, run: PublishedRun) -> float:
        return run.published_gpu_hours / self.expected_gpu_hours(run)


@functools.cache
def shipped_model() -> UtilisationModel:
    """The model fitted on the shipped catalog, once per process."""
    return UtilisationModel(catalog())


def model_for(cat: Catalog) -> UtilisationModel:
    return shipped_model() if cat is catalog() else UtilisationModel(cat)
