"""Training sizing: formulas against hand-worked examples, monotonicity, bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidc.errors import UserError
from aidc.sizing import TrainWorkload, plan_train, training_flops
from aidc.sizing.train import (
    checkpoint_gib,
    gpu_hours_for,
    gpus_within,
    min_gpus_for_state,
)
from components.catalog import catalog
from components.formulas.lustre import lustre_size, valid_capacity_gib
from tests.sizing_fixtures import A100, H100

PRICES = {125: 0.145, 250: 0.21, 500: 0.34, 1000: 0.6}


def test_flops_and_gpu_hours_worked_example():
    # 70B dense on 2T tokens: 6 x 70e9 x 2e12 = 8.4e23 FLOPs.
    assert training_flops(70e9, 2e12) == pytest.approx(8.4e23)
    # 8.4e23 / (312e12 x 0.43) s = 6.2612e9 GPU-seconds = 1,739,217 GPU-hours.
    assert gpu_hours_for(8.4e23, 312e12, 0.43) == pytest.approx(1_739_216.9, abs=1)
    # In 30 days: 1,739,217 / 720 h = 2,415.6 GPUs -> 2,416 = 302 nodes of 8.
    assert gpus_within(1_739_216.9, 30, 8) == 2416
    assert gpus_within(1_739_216.9, 30, 7) == 2422  # 346 nodes of 7


def test_state_and_checkpoint_worked_example():
    # 16 B/param: 70e9 x 16 = 1,043.1 GiB; 75% of 80 GiB = 60 GiB per GPU -> 17.4 -> 18 GPUs.
    assert min_gpus_for_state(70e9, 80) == 18
    # 14 B/param: 70e9 x 14 / 2^30 = 912.7 GiB.
    assert checkpoint_gib(70e9) == pytest.approx(912.70, abs=0.01)


def test_lustre_for_a_70b_checkpoint():
    # 912.7 GiB in 300 s = 3,266.7 MB/s. Per tier: 125 -> 28,800 GiB ($4,176), 250 -> 14,400
    # ($3,024), 500 -> 7,200 ($2,448), 1000 -> 4,800 ($2,880): the 500 tier is cheapest.
    size = lustre_size(912.68, 300, PRICES)
    assert (size.capacity_gib, size.tier_mbps_per_tib) == (7200, 500)
    assert size.throughput_mbps == pytest.approx(3515.6, abs=0.1)
    assert size.write_seconds == pytest.approx(278.8, abs=0.1)
    assert size.usd_per_month == pytest.approx(2448)


def test_lustre_rules_and_the_one_tb_checkpoint():
    assert [valid_capacity_gib(x) for x in (1, 1200, 1201, 2400, 2401, 4800)] == [1200, 1200, 2400, 2400, 4800, 4800]
    # The anchors' fixed 1.2 TiB at 500 MB/s/TiB = 600 MB/s writes 1 TB in ~28 minutes: asking
    # for 30 minutes keeps the smallest filesystem, asking for 5 needs more capacity.
    one_tb_gib = 1e12 / (1 << 30)
    slow = lustre_size(one_tb_gib, 1800)
    # 555.6 MB/s needed: 1,200 GiB at 500 MB/s/TiB gives 585.9 MB/s (1,707 s); 250 would need 2,400 GiB.
    assert (slow.capacity_gib, slow.tier_mbps_per_tib) == (1200, 500)
    assert slow.write_seconds == pytest.approx(1706.7, abs=0.1)
    assert lustre_size(one_tb_gib, 1800, PRICES).write_seconds <= 1800
    fast = lustre_size(one_tb_gib, 300, PRICES)
    assert fast.write_seconds <= 300 and fast.capacity_gib % 2400 == 0
    plain = lustre_size(one_tb_gib, 300)  # no prices: the smallest capacity
    assert plain.write_seconds <= 300 and plain.capacity_gib >= one_tb_gib
    assert plain.tier_mbps_per_tib in (125, 250, 500, 1000)


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 500_000), st.floats(10, 10_000))
def test_lustre_meets_the_target_and_holds_the_checkpoint(ckpt, secs):
    size = lustre_size(ckpt, secs, PRICES)
    assert size.write_seconds <= secs * (1 + 1e-9)
    assert size.capacity_gib >= ckpt
    assert size.capacity_gib == valid_capacity_gib(size.capacity_gib)


def test_plan_with_days_and_with_gpus():
    cat = catalog()
    by_days = plan_train(TrainWorkload(70e9, 2e12, days=30, mfu=0.43), A100, cat)
    assert (by_days.gpus, by_days.nodes) == (2416, 302)
    assert by_days.days == pytest.approx(1_739_216.9 / 2416 / 24, rel=1e-6)
    assert by_days.cost_usd == pytest.approx(302 * 40.0 * by_days.days * 24)
    by_gpus = plan_train(TrainWorkload(70e9, 2e12, gpus=2048, mfu=0.43), A100, cat)
    assert by_gpus.days == pytest.approx(1_739_216.9 / 2048 / 24, rel=1e-6)  # 35.4 days
    assert by_gpus.nodes == 256
    # A mixture of experts: FLOPs from active parameters, memory and checkpoint from all.
    moe = plan_train(TrainWorkload(46.7e9, 1e12, active_params=12.9e9, gpus=64, mfu=0.35), H100, cat)
    assert moe.flops == pytest.approx(6 * 12.9e9 * 1e12)
    assert moe.checkpoint_gib == pytest.approx(checkpoint_gib(46.7e9))


def test_days_target_never_below_the_memory_floor():
    # A tiny run would finish on one GPU, but 405B needs its sharded state somewhere.
    plan = plan_train(TrainWorkload(405e9, 1e9, days=365, mfu=0.35), H100, catalog())
    assert plan.gpus == 8 * math.ceil(min_gpus_for_state(405e9, 80) / 8)


@pytest.mark.parametrize("kwargs, flag", [
    ({"params": 0, "tokens": 1e12, "gpus": 8}, "--params"),
    ({"params": 7e9, "tokens": -1, "gpus": 8}, "--tokens"),
    ({"params": 7e9, "tokens": 1e12, "gpus": 0}, "--gpus"),
    ({"params": 7e9, "tokens": 1e12, "gpus": 8.5}, "--gpus"),
    ({"params": 7e9, "tokens": 1e12, "days": 0}, "--days"),
    ({"params": 7e9, "tokens": 1e12, "gpus": 8, "days": 3}, "--days"),
    ({"params": 7e9, "tokens": 1e12}, "--gpus"),
    ({"params": 7e9, "tokens": 1e12, "gpus": 8, "mfu": 1.5}, "--mfu"),
    ({"params": 7e9, "tokens": 1e12, "gpus": 8, "active_params": 8e9}, "--active-params"),
    ({"params": 70e9, "tokens": 1e12, "gpus": 8}, "--gpus"),  # 1,043 GiB of state on 8 x 80 GiB
    ({"params": 7e9, "tokens": 1e12, "gpus": 8, "precision": "fp8"}, "--precision"),  # A100: no fp8
])
def test_bad_training_input_names_the_flag(kwargs, flag):
    with pytest.raises(UserError) as err:
        plan_train(TrainWorkload(**kwargs), A100, catalog())
    assert flag in [p.path for p in err.value.problems]


@settings(max_examples=80, deadline=None)
@given(st.floats(1e9, 1e12), st.floats(1e9, 1e14), st.floats(1e9, 1e14))
def test_more_tokens_never_fewer_gpu_hours(params, t1, t2):
    lo, hi = sorted((t1, t2))
    a = plan_train(TrainWorkload(params, lo, days=30), H100, catalog())
    b = plan_train(TrainWorkload(params, hi, days=30), H100, catalog())
    assert b.gpu_hours >= a.gpu_hours
    assert b.gpus >= a.gpus


@settings(max_examples=80, deadline=None)
@given(st.floats(1e9, 2e11), st.integers(0, 20_000), st.integers(0, 20_000))
def test_more_gpus_never_more_days(params, extra1, extra2):
    floor = min_gpus_for_state(params, 80)
    g1, g2 = sorted((floor + extra1, floor + extra2))
    a = plan_train(TrainWorkload(params, 1e12, gpus=g1), H100, catalog())
    b = plan_train(TrainWorkload(params, 1e12, gpus=g2), H100, catalog())
    assert b.days <= a.days


@settings(max_examples=60, deadline=None)
@given(st.floats(1e9, 2e11), st.floats(0.5, 400), st.floats(0.5, 400))
def test_more_days_never_more_gpus(params, d1, d2):
    lo, hi = sorted((d1, d2))
    a = plan_train(TrainWorkload(params, 2e12, days=lo), H100, catalog())
    b = plan_train(TrainWorkload(params, 2e12, days=hi), H100, catalog())
    assert b.gpus <= a.gpus
    assert a.days <= lo * (1 + 1e-9) or a.gpus == 8 * math.ceil(min_gpus_for_state(params, 80) / 8)


def test_reserved_cost_prefers_the_capacity_block_rate_for_a_run():
    from tests.sizing_fixtures import hardware
    work = TrainWorkload(70e9, 2e12, days=30, mfu=0.43)
    plain = plan_train(work, A100, catalog())
    assert (plain.cost_usd_reserved, plain.reserved_basis) == (None, None)
    assert any("no Capacity Block or 1-year rate" in a for a in plain.assumptions)
    # Same run (302 nodes, 1,739,216.9 GPU-hours / 2,416 GPUs = 719.87 h) with committed rates:
    # a Capacity Block at $25/h wins over a 1-year rate for a run: 302 x 25 x 719.87 = $5,435,049.
    both = hardware("A100", "ampere", 80, 2039, {"bf16": 312}, 8, 40.0, capacity_block=25.0, one_year=30.0)
    cb = plan_train(work, both, catalog())
    assert cb.reserved_basis == "capacityBlock"
    assert cb.cost_usd_reserved == pytest.approx(302 * 25.0 * 1_739_216.9 / 2416, rel=1e-6)
    assert cb.cost_usd_reserved == pytest.approx(5_435_049, rel=1e-6)
    assert cb.cost_usd_reserved / cb.cost_usd == pytest.approx(25.0 / 40.0)
    assert any("reserved: Capacity Block" in a and "$25.00/h" in a for a in cb.assumptions)
    # Only a 1-year rate: 302 x 30 x 719.87 = $6,522,063.
    year = hardware("A100", "ampere", 80, 2039, {"bf16": 312}, 8, 40.0, one_year=30.0)
    yr = plan_train(work, year, catalog())
    assert yr.reserved_basis == "oneYear"
    assert yr.cost_usd_reserved == pytest.approx(6_522_063, rel=1e-6)


def test_days_answer_is_the_fewest_nodes_under_the_width_dependent_mfu():
    cat = catalog()
    plan = plan_train(TrainWorkload(70e9, 15e12, days=40), H100, cat)
    assert plan.days <= 40
    fewer = plan_train(TrainWorkload(70e9, 15e12, gpus=plan.gpus - 8), H100, cat)
    assert fewer.days > 40
    # Wider data parallelism, lower utilisation: 2^-0.069 per doubling of the width.
    wide = plan_train(TrainWorkload(70e9, 15e12, gpus=plan.gpus * 2), H100, cat)
    assert wide.mfu / plan.mfu == pytest.approx(2 ** -0.069, rel=0.01)
    assert wide.gpu_hours > plan.gpu_hours


def test_attention_flops_and_the_range():
    from aidc.sizing import AttentionShape
    from aidc.sizing.mfu import shipped_model
    att = AttentionShape(layers=32, width=4096, seq_len=8192)
    assert training_flops(8e9, 1e12, att) == pytest.approx((6 * 8e9 + 12 * 32 * 4096 * 8192) * 1e12)
    plan = plan_train(TrainWorkload(8e9, 1e12, gpus=512, attention=att), H100, catalog())
    assert plan.attention_share == pytest.approx(12 * 32 * 4096 * 8192 / (6 * 8e9 + 12 * 32 * 4096 * 8192))
    slow, fast = shipped_model().range[1], shipped_model().range[0]
    assert plan.gpu_hours_range == pytest.approx((plan.gpu_hours * slow, plan.gpu_hours * fast))
    assert plan.days_range[0] > plan.days > plan.days_range[1]
    given = plan_train(TrainWorkload(8e9, 1e12, gpus=512, attention=att, mfu=0.3), H100, catalog())
    assert given.gpu_hours_range == (given.gpu_hours, given.gpu_hours)
