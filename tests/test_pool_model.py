"""The resolved pool model and the numbers that depend on it: one answer per fact, whichever
consumer asks (node pools, quotas, cost), and URNs that survive the refactor."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from aidc.cost import HOURS_PER_MONTH, estimate
from aidc.engine import plan_stack
from aidc.stackfile import StackFile, read_stack
from components.catalog import catalog
from components.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
CAT = catalog()


def _stack(name: str, pools: list[dict]) -> StackFile:
    """prod with its GPU pools replaced (and the sections that name pools dropped)."""
    base = read_stack("prod", ROOT)
    config = copy.deepcopy(base.config)
    config["aidc:gpuPools"] = pools
    for key in ("aidc:training", "aidc:inference"):
        config.pop(key, None)
    return StackFile(name, base.path, config, ())


def _pool_lines(sf: StackFile):
    est = estimate(plan_stack(sf, ROOT).plan)
    return {p.name: p for p in est.pools}, {ln.detail.split(":", 1)[0]: ln for ln in est.lines if ln.type == "gpu-pool"}


CB = {"type": "capacityBlock", "reservationId": "cr-0123456789abcdef0"}


def test_a_capacity_block_pool_costs_the_same_under_either_provisioner():
    """Reproduced on the old code: $57,454 managed against $80,390 as a Karpenter pool (its
    `reserved` capacity type was read back as a reservation and priced on demand)."""
    pool = {"name": "cb", "instanceType": "p5.48xlarge", "capacity": CB, "availabilityZone": "us-east-1a",
            "size": {"min": 0, "max": 2}, "efa": True}
    managed_pools, managed = _pool_lines(_stack("cb-managed", [{**pool, "provisioner": "managed"}]))
    karpenter_pools, karpenter = _pool_lines(_stack("cb-karpenter", [{**pool, "provisioner": "karpenter"}]))
    assert managed_pools["cb"].capacity == karpenter_pools["cb"].capacity == "capacityBlock"
    price = CAT.instances["p5.48xlarge"].price
    rate = price.capacity_block.usd_per_hour
    # Reserved capacity is paid at max size: 2 nodes x (block rate x 730 h + 200 GiB gp3).
    want = 2 * (rate * HOURS_PER_MONTH + 200 * CAT.pricing.ebs_gp3_usd_per_gb_month)
    assert managed["cb"].monthly_usd == pytest.approx(want)
    assert karpenter["cb"].monthly_usd == pytest.approx(want)
    assert rate < price.on_demand_usd_per_hour  # the old Karpenter answer was the dearer one


def test_each_karpenter_pool_is_priced_by_its_own_disk():
    """The old code priced every Karpenter pool with the disk of the first EC2NodeClass."""
    pools = [{"name": "small", "instanceType": "g6e.12xlarge", "provisioner": "karpenter", "diskGib": 100,
              "capacity": CB, "availabilityZone": "us-east-1a", "size": {"max": 1}},
             {"name": "large", "instanceType": "g6e.12xlarge", "provisioner": "karpenter", "diskGib": 4000,
              "capacity": {"type": "reservation", "reservationId": "cr-0123456789abcdef1"},
              "availabilityZone": "us-east-1a", "size": {"max": 1}}]
    found, _ = _pool_lines(_stack("two-disks", pools))
    assert found["small"].disk_gib == 100
    assert found["large"].disk_gib == 4000


def test_facts_are_the_ones_every_consumer_reads():
    spec = load_spec(read_stack("prod", ROOT).config)
    h100 = spec.pools["train-h100"]
    assert (h100.gpus_per_node, h100.max_gpus, h100.efa_devices, h100.capacity) == (8, 128, 32, "capacityBlock")
    assert h100.labels["aidc.io/gpu-count"] == "8" and h100.labels["aidc.io/capacity-type"] == "capacityBlock"
    assert h100.topology_levels[-1] == "kubernetes.io/hostname" and len(h100.topology_levels) == 4
    l40s = spec.pools["infer-l40s"]
    assert (l40s.gpus_per_node, l40s.max_gpus, l40s.efa_devices, l40s.min_nodes) == (4, 24, 0, 0)
    assert l40s.vcpu_per_gpu == 12 and l40s.memory_gib_per_gpu == 96


def test_shipped_stacks_declare_what_their_pool_model_says(plan_of):
    """The node group / NodePool labels of every shipped pool are the pool model's labels, and
    cost reads its pools (capacity, size, GPUs per node) from them."""
    for stack in ("dev", "staging", "prod"):
        plan = plan_of(stack)
        spec = load_spec(plan.config)
        priced = {p.name: p for p in estimate(plan).pools}
        assert set(priced) == set(spec.pools)
        for name, facts in spec.pools.items():
            assert priced[name].capacity == facts.capacity
            assert priced[name].gpus_per_node == facts.gpus_per_node
            assert priced[name].max == facts.max_nodes
            assert priced[name].disk_gib == facts.disk_gib
