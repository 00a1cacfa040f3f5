"""`aidc size train --plot FILE.png`: days and cost against GPU count for one training run,
with the utilisation model's range as a band, the plan's own answer marked."""

from __future__ import annotations

import dataclasses

from components.catalog import Catalog

from .train import TrainPlan, plan_train


def sweep(plan: TrainPlan, cat: Catalog, points: int = 24) -> list[TrainPlan]:
    """Plans for the same run at whole-node GPU counts from the memory floor to 16x the answer
    (geometric steps): the curve a planner trades days against money on."""
    gpn = plan.hardware.gpus_per_node
    floor = gpn * -(-plan.min_gpus_for_state // gpn)
    top = max(plan.gpus * 16, floor * 4)
    counts = sorted({gpn * max(1, round(floor * (top / floor) ** (i / (points - 1)) / gpn)) for i in range(points)}
                    | {plan.gpus})
    w = plan.workload
    return [plan_train(dataclasses.replace(w, gpus=g, days=None), plan.hardware, cat) for g in counts if g >= floor]


def write_plot(plan: TrainPlan, cat: Catalog, path: str, title: str) -> list[TrainPlan]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    plans = sweep(plan, cat)
    gpus = [p.gpus for p in plans]
    fig, (ax_days, ax_cost) = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    ax_days.plot(gpus, [p.days for p in plans], color="tab:blue", label="expected")
    ax_days.fill_between(gpus, [p.days_range[1] for p in plans], [p.days_range[0] for p in plans],
                         color="tab:blue", alpha=0.2, label="range (calibration runs)")
    ax_days.scatter([plan.gpus], [plan.days], color="black", zorder=3, label=f"plan: {plan.gpus:,} GPUs")
    ax_days.set_ylabel("days")
    ax_cost.plot(gpus, [p.cost_usd / 1e6 for p in plans], color="tab:red", label="on demand, expected")
    ax_cost.fill_between(gpus, [p.cost_usd_range[1] / 1e6 for p in plans], [p.cost_usd_range[0] / 1e6 for p in plans],
                         color="tab:red", alpha=0.2, label="range")
    ax_cost.scatter([plan.gpus], [plan.cost_usd / 1e6], color="black", zorder=3)
    ax_cost.set_ylabel("cost, million USD (on demand)")
    ax_cost.set_xlabel(f"GPUs ({plan.hardware.instance_type}, {plan.hardware.gpus_per_node} per node)")
    ax_days.set_yscale("log")  # days fall as 1/GPUs; cost rises slowly as utilisation drops
    for ax in (ax_days, ax_cost):
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return plans
