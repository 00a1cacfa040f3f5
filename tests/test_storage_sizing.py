"""Lustre sizing: worked examples (the 1 TB checkpoint at every tier), the service's
increments, and a property test that the answer meets the target with the smallest
valid capacity."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.formulas.lustre import (
    MAX_CAPACITY_GIB,
    MB_PER_GIB,
    TIERS,
    SizingError,
    is_valid_capacity,
    lustre_size,
    throughput_mbps,
    valid_capacity_gib,
)

TB_IN_GIB = 1e12 / 2**30  # a "1 TB" checkpoint: 931.3 GiB
PRICES = {125: 0.145, 250: 0.21, 500: 0.34, 1000: 0.6}  # USD per GB-month, the shape of the catalog's


def test_capacity_increments():
    assert [c for c in range(0, 12001, 100) if is_valid_capacity(c)] == [1200, 2400, 4800, 7200, 9600, 12000]
    assert valid_capacity_gib(1) == 1200
    assert valid_capacity_gib(1201) == 2400
    assert valid_capacity_gib(2401) == 4800
    assert valid_capacity_gib(7200) == 7200


@pytest.mark.parametrize("tier,mbps,seconds", [
    # 1200 GiB = 1.171875 TiB; 1e12 bytes / throughput.
    (125, 146.484375, 6826.7),
    (250, 292.96875, 3413.3),
    (500, 585.9375, 1706.7),  # the anchors' fixed file system: about half an hour per checkpoint
    (1000, 1171.875, 853.3),
])
def test_one_tb_checkpoint_on_the_smallest_file_system(tier, mbps, seconds):
    size = lustre_size(capacity_gib=1200, tier=tier, checkpoint_gib=TB_IN_GIB)
    assert size.throughput_mbps == pytest.approx(mbps)
    assert size.write_seconds == pytest.approx(seconds, abs=0.1)


@pytest.mark.parametrize("tier,capacity,seconds", [
    # 1 TB in 5 minutes needs 3333.3 MB/s: capacity >= 3333.3 * 1024 / tier, rounded up to a valid size.
    (125, 28800, 284.4),
    (250, 14400, 284.4),
    (500, 7200, 284.4),
    (1000, 4800, 213.3),
])
def test_one_tb_checkpoint_in_five_minutes_per_tier(tier, capacity, seconds):
    size = lustre_size(checkpoint_gib=TB_IN_GIB, max_write_seconds=300, tiers=(tier,))
    assert (size.capacity_gib, size.tier_mbps_per_tib) == (capacity, tier)
    assert size.write_seconds == pytest.approx(seconds, abs=0.1)
    assert size.write_seconds <= 300


def test_stack_prefers_the_smallest_capacity_the_planner_the_cheapest():
    size = lustre_size(checkpoint_gib=TB_IN_GIB, max_write_seconds=300, prices=PRICES, prefer="capacity")
    assert (size.capacity_gib, size.tier_mbps_per_tib) == (4800, 1000)
    assert size.usd_per_month == pytest.approx(4800 * 0.6)
    # Rounding 3413 GiB up to 4800 costs more than 7200 GiB at half the tier.
    cheap = lustre_size(TB_IN_GIB, 300, PRICES)  # the planner's call: positional, prefer="cost"
    assert (cheap.capacity_gib, cheap.tier_mbps_per_tib) == (7200, 500)
    assert cheap.usd_per_month == pytest.approx(2448)
    assert cheap.write_seconds <= 300


def test_prod_checkpoint_target():
    # 70e9 parameters x 14 bytes (913 GiB) in 3 minutes: 5.45 GB/s -> 7200 GiB at 1000 MB/s/TiB.
    size = lustre_size(checkpoint_gib=913, max_write_seconds=180, prices=PRICES, prefer="capacity")
    cheapest = lustre_size(913, 180, PRICES)
    assert (cheapest.capacity_gib, cheapest.tier_mbps_per_tib) == (12000, 500)
    assert cheapest.usd_per_month == pytest.approx(4080)
    assert (size.capacity_gib, size.tier_mbps_per_tib) == (7200, 1000)
    assert size.throughput_gbps == pytest.approx(7.03125)
    assert size.write_seconds == pytest.approx(139.4, abs=0.1)
    assert size.summary() == ("7200 GiB at 1000 MB/s/TiB = 7.03 GB/s; 913 GiB checkpoint in 139 s; "
                              "$4,320/month")


def test_ties_at_the_floor_go_to_the_cheapest_tier():
    # 0.5 GB/s: 1200 GiB reaches it at 500 and at 1000 MB/s/TiB; 500 is cheaper.
    assert lustre_size(throughput_gbps=0.5, prices=PRICES, prefer="capacity").tier_mbps_per_tib == 500
    assert lustre_size(throughput_gbps=0.5, prefer="capacity").tier_mbps_per_tib == 500  # no prices: lowest tier
    # Prices that (unrealistically) favour 1000 win the tie instead.
    cheap_top = {**PRICES, 1000: 0.1}
    assert lustre_size(throughput_gbps=0.5, prices=cheap_top, prefer="capacity").tier_mbps_per_tib == 1000


def test_minimum_capacity_for_data():
    size = lustre_size(throughput_gbps=0.1, min_capacity_gib=10000, prices=PRICES, prefer="capacity")
    assert size.capacity_gib == 12000
    assert size.tier_mbps_per_tib == 125  # every tier meets 0.1 GB/s at 12000 GiB; 125 is cheapest


@pytest.mark.parametrize("kwargs,field", [
    # above 100800 GiB at 1000 MB/s/TiB (98.4 GB/s)
    ({"throughput_gbps": 200, "max_capacity_gib": MAX_CAPACITY_GIB}, "throughput_gbps"),
    ({"checkpoint_gib": 100_000, "max_write_seconds": 60, "max_capacity_gib": MAX_CAPACITY_GIB}, "max_write_seconds"),
    ({"capacity_gib": 102_000, "tier": 125, "max_capacity_gib": MAX_CAPACITY_GIB}, "capacity_gib"),
    ({"capacity_gib": 3600, "tier": 250}, "capacity_gib"),
    ({"capacity_gib": 1200, "tier": 200}, "tier"),
    ({"capacity_gib": 1200}, "tier"),
    ({"max_write_seconds": 60}, "checkpoint_gib"),
    ({}, "capacity_gib"),
    ({"throughput_gbps": 1, "capacity_gib": 1200, "tier": 125}, "capacity_gib"),
])
def test_impossible_requirements_name_their_argument(kwargs, field):
    with pytest.raises(SizingError) as exc:
        lustre_size(**kwargs)
    assert exc.value.field == field


def test_unmeetable_message_says_what_is_possible():
    with pytest.raises(SizingError, match=r"needs 200.00 GB/s; .* gives 98.44 GB/s"):
        lustre_size(throughput_gbps=200, max_capacity_gib=MAX_CAPACITY_GIB)
    # Unbounded (the planner's default), it is simply large.
    assert lustre_size(throughput_gbps=200).capacity_gib == 206_400


@settings(max_examples=300, deadline=None)
@given(target=st.floats(min_value=0.01, max_value=98.0),
       tiers=st.lists(st.sampled_from(TIERS), min_size=1, max_size=4, unique=True),
       floor=st.integers(min_value=0, max_value=40000))
def test_result_meets_target_with_the_smallest_capacity(target, tiers, floor):
    try:
        size = lustre_size(throughput_gbps=target, tiers=tiers, min_capacity_gib=floor, prices=PRICES,
                           prefer="capacity", max_capacity_gib=MAX_CAPACITY_GIB)
    except SizingError:
        # Only when even the largest file system at the best tier allowed cannot reach it.
        assert throughput_mbps(100_800, max(tiers)) < target * 1000 or valid_capacity_gib(floor) > 100_800
        return
    need = target * 1000
    assert is_valid_capacity(size.capacity_gib) and size.tier_mbps_per_tib in tiers
    assert size.throughput_mbps >= need
    assert size.capacity_gib >= floor
    # No smaller valid capacity meets the target at any allowed tier.
    smaller = [c for c in (1200, *range(2400, size.capacity_gib, 2400)) if c < size.capacity_gib and c >= floor]
    assert not any(throughput_mbps(c, t) >= need for c in smaller for t in tiers)
    # And among tiers that meet it at this capacity, the chosen one is the cheapest.
    meeting = [t for t in tiers if throughput_mbps(size.capacity_gib, t) >= need]
    assert size.tier_mbps_per_tib == min(meeting, key=lambda t: PRICES[t])


@settings(max_examples=200, deadline=None)
@given(target=st.floats(min_value=0.01, max_value=98.0))
def test_cost_preference_is_the_cheapest_file_system_that_meets_the_target(target):
    size = lustre_size(throughput_gbps=target, prices=PRICES)
    need = target * 1000
    assert size.throughput_mbps >= need
    options = [(c, t) for t in TIERS for c in (1200, *range(2400, 100_801, 2400)) if throughput_mbps(c, t) >= need]
    assert size.usd_per_month == pytest.approx(min(c * PRICES[t] for c, t in options))


@settings(max_examples=200, deadline=None)
@given(ckpt=st.floats(min_value=1, max_value=5000), seconds=st.floats(min_value=30, max_value=7200))
def test_checkpoint_target_is_met_and_holds_the_checkpoint(ckpt, seconds):
    try:
        size = lustre_size(checkpoint_gib=ckpt, max_write_seconds=seconds, max_capacity_gib=MAX_CAPACITY_GIB)
    except SizingError:
        assert ckpt * MB_PER_GIB / seconds > throughput_mbps(100_800, 1000)
        return
    assert size.write_seconds <= seconds * (1 + 1e-9)
    assert size.capacity_gib >= ckpt
    assert math.isclose(size.write_seconds, ckpt * MB_PER_GIB / size.throughput_mbps)
