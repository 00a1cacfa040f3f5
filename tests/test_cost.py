"""The cost and energy model against figures computed by hand, on a small plan and a
catalog stub (so the arithmetic below does not move when the real catalog's prices do)."""

from __future__ import annotations

import datetime as dt

import pytest

from aidc.cost import HOURS_PER_MONTH, estimate, plan_pools
from aidc.errors import UserError
from aidc.plan import Plan, Resource
from components.catalog import Catalog, Gpu, Instance, KubernetesVersion, Prices, Recipe, catalog

SRC = {"url": "https://example.invalid/test", "date": "2026-01-01"}


def stub_catalog(capacity_block: float | None = None, capacity_block_only: bool = False) -> Catalog:
    gpu = Gpu.model_validate({"name": "L40S", "generation": "ada", "memoryGib": 48, "memoryBandwidthGbps": 864,
                              "boardPowerW": 350, "denseTflops": {"bf16": 362}, "source": SRC})
    inst = Instance.model_validate({
        "family": "g6e", "gpu": "L40S", "gpuCount": 4, "vcpu": 48, "memoryGib": 384, "networkGbps": 100,
        "networkCards": 1, "efaInterfaces": 1, "nvmeGb": 3800, "nvmeDisks": 2, "amiFamilies": [],
        "capacityBlockOnly": capacity_block_only,
        "price": {"onDemandUsdPerHour": 10.0, "source": SRC}})
    recipe = Recipe.model_validate({
        "defaultKubernetesVersion": "1.33", "amis": {}, "charts": {}, "images": {},
        "kubernetesVersions": {"1.33": KubernetesVersion.model_validate(
            {"standardSupportEnd": "2026-07-29", "extendedSupportEnd": "2027-07-29", "addons": {}})}})
    blocks = {"source": SRC, "validUntil": "2030-01-01", "offered": ["g6e.12xlarge"] if capacity_block else [],
              "usdPerHour": {"g6e.12xlarge": capacity_block} if capacity_block else {}}
    prices = Prices.model_validate({"referenceRegion": "us-east-1", "regions": {"us-east-1": {
        "eksClusterUsdPerHour": 0.10, "eksExtendedSupportUsdPerHour": 0.60, "natGatewayUsdPerHour": 0.045,
        "natGatewayUsdPerGb": 0.045, "fsxLustrePersistent2UsdPerGbMonth": {125: 0.145, 250: 0.21},
        "s3Standard": [{"upToGb": 100, "usdPerGbMonth": 0.03}, {"usdPerGbMonth": 0.02}],
        "ebsGp3UsdPerGbMonth": 0.08, "interfaceEndpointUsdPerHour": 0.01,
        "fsxLustreBackupUsdPerGbMonth": 0.05, "nlbUsdPerHour": 0.0225, "cloudwatchLogsIngestUsdPerGb": 0.5,
        "instances": {"m7i.large": 0.1}, "instancesSource": SRC, "capacityBlocks": blocks, "source": SRC}}})
    return Catalog({"L40S": gpu}, {"g6e.12xlarge": inst}, recipe, prices, {"energy": catalog().extra["energy"]})  # the shipped power factors


def labels(pool: str, capacity: str) -> dict[str, str]:
    """The pool facts every aidc node group carries as node labels (what cost reads)."""
    return {"aidc.io/pool": pool, "aidc.io/instance-type": "g6e.12xlarge", "aidc.io/gpu-count": "4",
            "aidc.io/capacity-type": capacity}


def urn(t: str, name: str, comp: str = "aidc:gpu_pool:GpuPool") -> str:
    return f"urn:pulumi:test::aidc::aidc:datacenter:AiDatacenter${comp}${t}::{name}"


LT_URN = urn("aws:ec2/launchTemplate:LaunchTemplate", "train-lt")
PLAN = Plan(resources=(
    Resource(urn("aws:eks/cluster:Cluster", "eks", "aidc:cluster:Cluster"), "aws:eks/cluster:Cluster",
             {"version": "1.33", "upgradePolicy": {"supportType": "EXTENDED"}}),
    Resource(urn("aws:ec2/natGateway:NatGateway", "nat-0", "aidc:network:Network"), "aws:ec2/natGateway:NatGateway", {}),
    Resource(urn("aws:ec2/vpcEndpoint:VpcEndpoint", "sts", "aidc:network:Network"), "aws:ec2/vpcEndpoint:VpcEndpoint",
             {"vpcEndpointType": "Interface", "subnetIds": ["a", "b"]}),
    Resource(LT_URN, "aws:ec2/launchTemplate:LaunchTemplate",
             {"blockDeviceMappings": [{"ebs": {"volumeSize": 100, "encrypted": "true"}}]}),
    Resource(urn("aws:eks/nodeGroup:NodeGroup", "train"), "aws:eks/nodeGroup:NodeGroup",
             {"instanceTypes": ["g6e.12xlarge"], "capacityType": "ON_DEMAND", "labels": labels("train", "onDemand"),
              "scalingConfig": {"minSize": 1, "desiredSize": 2, "maxSize": 4}}, dependencies=(LT_URN,)),
    Resource(urn("aws:fsx/lustreFileSystem:LustreFileSystem", "scratch", "aidc:storage:Storage"),
             "aws:fsx/lustreFileSystem:LustreFileSystem",
             {"deploymentType": "PERSISTENT_2", "storageCapacity": 2400, "perUnitStorageThroughput": 250}),
    Resource(urn("aws:s3/bucket:Bucket", "data", "aidc:storage:Storage"), "aws:s3/bucket:Bucket", {"bucket": "d"}),
), config={
    "aidc:environment": "staging",
    "aidc:cost": {"natDataGbPerMonth": 200, "pue": 1.2, "serverOverheadFactor": 1.5,
                  "spotDiscount": 0.6},
    # A pool the program did not declare costs nothing: cost reads node groups, not this list.
    "aidc:gpuPools": [
        {"name": "train", "instanceType": "g6e.12xlarge", "size": {"min": 9, "max": 9}},
        {"name": "burst", "instanceType": "g6e.12xlarge", "capacity": {"type": "spot"}, "size": {"min": 1, "max": 3}},
    ]}, change_summary={})


def test_small_stack_by_hand():
    est = estimate(PLAN, cat=stub_catalog(), as_of=dt.date(2026, 3, 1))
    h = HOURS_PER_MONTH  # 730
    eks = 0.10 * h                                  # 73.00: standard support on 2026-03-01
    nat = 0.045 * h + 200 * 0.045                   # 32.85 + 9.00 = 41.85
    endpoint = 0.01 * h * 2                         # 14.60: two zones
    train_node = 10.0 * h + 100 * 0.08              # 7300 + 8 (100 GiB gp3 root) = 7308
    train = 2 * train_node                          # desired 2 -> 14616.00
    fsx = 2400 * 0.21                               # 504.00
    s3 = 0.0                                        # the plan's config states no expectedGiB
    total = eks + nat + endpoint + train + fsx + s3
    assert est.monthly_usd == pytest.approx(total) == pytest.approx(15249.45)
    assert est.monthly_usd_max == pytest.approx(total - train + 4 * train_node)
    assert est.by_component() == pytest.approx({
        "aidc:cluster:Cluster": 73.0, "aidc:network:Network": 56.45, "aidc:gpu_pool:GpuPool": 14616.0,
        "aidc:storage:Storage": 504.0})
    assert est.by_pool() == pytest.approx({"train": 14616.0})
    assert [p.name for p in est.pools] == ["train"]  # "burst" has no node group: nothing runs, nothing is billed
    assert est.gpu_count == 2 * 4 and est.gpu_count_max == 4 * 4
    assert est.usd_per_gpu_hour == pytest.approx(round(total / (8 * h), 4))  # 2.6152
    kw = 8 * 350 * 1.5 * 1.2 / 1000                 # 5.04 kW for 8 GPUs
    assert est.power_kw == pytest.approx(kw)
    assert est.energy_mwh_per_month == pytest.approx(round(kw * h / 1000, 3))  # 3.679
    assert any("spot capacity at 60% off" in a for a in est.assumptions)


def test_extended_support_premium_after_standard_support_ends():
    cat = stub_catalog()
    after = estimate(PLAN, cat=cat, as_of=dt.date(2026, 8, 1))
    before = estimate(PLAN, cat=cat, as_of=dt.date(2026, 3, 1))
    assert after.monthly_usd - before.monthly_usd == pytest.approx((0.60 - 0.10) * HOURS_PER_MONTH)  # 365.00


def test_bad_cost_settings_name_the_key():
    plan = Plan(PLAN.resources, {**PLAN.config, "aidc:cost": {"pue": "high"}}, {})
    with pytest.raises(UserError) as err:
        estimate(plan, cat=stub_catalog())
    assert [p.path for p in err.value.problems] == ["aidc:cost.pue"]


def test_prod_plan_is_believable(plan_of):
    est = estimate(plan_of("prod"))
    # 16 x p5.48xlarge on the Capacity Block dominates: 128 H100. The Karpenter inference pool
    # starts from zero nodes, but the model servers' minimum replicas hold 2 x 1 + 2 x 4 = 10
    # L40S GPUs up: at least 3 of its 4-GPU nodes run all month.
    assert est.gpu_count == 16 * 8 + 3 * 4
    assert est.gpu_count_max == 16 * 8 + 6 * 4
    (infer,) = [p for p in plan_pools(plan_of("prod")) if p.name == "infer-l40s"]
    assert (infer.min, infer.serving_floor, infer.expected) == (0, 3, 3)
    assert 100_000 < est.monthly_usd < 2_000_000
    # The Capacity Block pool is priced at the catalog's Capacity Block rate, not on demand.
    p5 = catalog().instances["p5.48xlarge"].price
    (train,) = [ln for ln in est.lines if "train-h100:" in ln.detail]
    rate = catalog().prices.regions["us-east-1"].capacity_blocks.usd_per_hour["p5.48xlarge"]
    assert rate == p5.capacity_block.usd_per_hour == 39.33
    assert f"capacityBlock at ${rate:.4f}/h" in train.detail
    assert train.monthly_usd == pytest.approx(16 * (rate * HOURS_PER_MONTH + 200 * catalog().pricing.ebs_gp3_usd_per_gb_month))
    assert est.by_component()["aidc:network:Network"] > 0


def _one_pool(capacity_type: str, capacity: str) -> Plan:
    """One node group of 2-3 g6e.12xlarge and nothing else: the pool line is the whole bill."""
    return Plan(resources=(
        Resource(urn("aws:eks/nodeGroup:NodeGroup", "train"), "aws:eks/nodeGroup:NodeGroup",
                 {"instanceTypes": ["g6e.12xlarge"], "capacityType": capacity_type, "diskSize": 100,
                  "labels": labels("train", capacity), "scalingConfig": {"minSize": 2, "desiredSize": 2, "maxSize": 3}}),
    ), config={}, change_summary={})


CB_PLAN = _one_pool("CAPACITY_BLOCK", "capacityBlock")


def test_capacity_block_pool_at_the_capacity_block_rate():
    est = estimate(CB_PLAN, cat=stub_catalog(capacity_block=6.0))
    # Reserved capacity is paid at max size: 3 nodes x (6.00/h x 730 + 100 GiB x 0.08) = 3 x 4388 = 13164.
    assert est.monthly_usd == pytest.approx(3 * (6.0 * 730 + 100 * 0.08)) == pytest.approx(13164.0)
    assert est.monthly_usd_max == pytest.approx(13164.0)
    assert "capacityBlock at $6.0000/h" in est.lines[0].detail
    assert any("pool train: Capacity Block rate $6.00/h" in a for a in est.assumptions)


def test_capacity_block_without_a_rate_falls_back_to_on_demand():
    est = estimate(CB_PLAN, cat=stub_catalog())
    assert est.monthly_usd == pytest.approx(3 * (10.0 * 730 + 100 * 0.08))  # 21924.00
    assert any("no us-east-1 Capacity Block rate for g6e.12xlarge in the catalog (us-east-1 is not listed as "
               "selling blocks of it); priced at its us-east-1 on-demand rate (an upper bound)" in a
               for a in est.assumptions)
    # A type sold only as blocks has no on-demand rate to fall back on: unpriced, and said so.
    only = estimate(CB_PLAN, cat=stub_catalog(capacity_block_only=True))
    assert only.monthly_usd == 0.0 and not only.lines[0].priced
    assert only.unpriced == ["pool train: g6e.12xlarge capacityBlock (no us-east-1 rate in the catalog)"]


def test_reservation_stays_at_on_demand_even_with_a_capacity_block_rate():
    plan = _one_pool("ON_DEMAND", "reservation")
    est = estimate(plan, cat=stub_catalog(capacity_block=6.0))
    assert est.pools[0].capacity == "reservation"
    assert est.monthly_usd == pytest.approx(21924.0)  # an ODCR bills the on-demand rate, used or not
    assert not any("Capacity Block rate" in a for a in est.assumptions)
