"""Single cost lines by hand on small plans and the catalog stub of test_cost: node groups
that are no GPU pool, node groups sized by min only, the control plane's support window,
NAT data shared between gateways, storage lines, and what is left unpriced."""

from __future__ import annotations

import datetime as dt

import pytest

from aidc.cost import HOURS_PER_MONTH, estimate
from aidc.plan import Plan, Resource

from .test_cost import labels, stub_catalog, urn

H = HOURS_PER_MONTH


def _plan(*resources: Resource, **config) -> Plan:
    return Plan(resources=resources, config={"aws:region": "us-east-1", **config}, change_summary={})


def _system(scaling: dict, capacity: str = "ON_DEMAND", types: tuple[str, ...] = ("m7i.large",)) -> Resource:
    return Resource(urn("aws:eks/nodeGroup:NodeGroup", "system", "aidc:cluster:Cluster"), "aws:eks/nodeGroup:NodeGroup",
                    {"instanceTypes": list(types), "capacityType": capacity, "diskSize": 50,
                     "labels": {"aidc.io/pool": "system"}, "scalingConfig": scaling})


def test_system_node_group_at_desired_size_and_max():
    est = estimate(_plan(_system({"minSize": 1, "desiredSize": 2, "maxSize": 5})), cat=stub_catalog())
    node = 0.1 * H + 50 * 0.08  # m7i.large in the stub's table + 50 GiB gp3 = 77.00
    (line,) = est.lines
    assert (line.pool, line.priced) == ("system", True)
    assert line.monthly_usd == pytest.approx(2 * node) and line.monthly_usd_max == pytest.approx(5 * node)
    assert est.by_pool() == pytest.approx({"system": 154.0})


def test_system_node_group_on_spot_gets_the_discount():
    est = estimate(_plan(_system({"minSize": 2, "maxSize": 2}, "SPOT"), **{"aidc:cost": {"spotDiscount": 0.7}}),
                   cat=stub_catalog())
    assert est.monthly_usd == pytest.approx(2 * (0.1 * 0.3 * H + 50 * 0.08))  # 2 x (21.90 + 4) = 51.80
    assert "2 x m7i.large spot at $0.0300/h" in est.lines[0].detail


def test_node_group_of_an_unknown_type_is_named_unpriced():
    est = estimate(_plan(_system({"minSize": 3, "maxSize": 3}, types=("c7i.large",))), cat=stub_catalog())
    assert est.monthly_usd == 0 and not est.lines[0].priced
    assert est.unpriced == ["node group system: c7i.large (no us-east-1 rate in the catalog)"]


def test_gpu_node_group_without_desired_runs_its_minimum():
    res = Resource(urn("aws:eks/nodeGroup:NodeGroup", "train"), "aws:eks/nodeGroup:NodeGroup",
                   {"instanceTypes": ["g6e.12xlarge"], "diskSize": 100, "labels": labels("train", "onDemand"),
                    "scalingConfig": {"minSize": 2, "maxSize": 3}})
    est = estimate(_plan(res), cat=stub_catalog())
    assert (est.pools[0].min, est.pools[0].expected, est.pools[0].node_hours) == (2, 2, 2 * H)
    assert est.monthly_usd == pytest.approx(2 * (10.0 * H + 100 * 0.08))  # 14616.00
    assert est.gpu_count == 8 and est.gpu_hours == 8 * H
    # A scaling config without minSize: nothing runs (never a negative node count).
    res0 = Resource(res.urn, res.type, {**res.inputs, "scalingConfig": {"maxSize": 3}})
    assert estimate(_plan(res0), cat=stub_catalog()).monthly_usd == 0.0


def _cluster(support: str) -> Resource:
    return Resource(urn("aws:eks/cluster:Cluster", "eks", "aidc:cluster:Cluster"), "aws:eks/cluster:Cluster",
                    {"version": "1.33", "upgradePolicy": {"supportType": support}})


@pytest.mark.parametrize("support, day, rate", [
    ("EXTENDED", dt.date(2026, 7, 29), 0.10),   # the last day of standard support is still standard
    ("EXTENDED", dt.date(2026, 7, 30), 0.60),
    ("STANDARD", dt.date(2026, 8, 1), 0.10),    # AWS upgrades the cluster instead of charging extended
])
def test_control_plane_support_window(support, day, rate):
    est = estimate(_plan(_cluster(support)), cat=stub_catalog(), as_of=day)
    assert est.monthly_usd == pytest.approx(rate * H)


def test_nat_data_is_shared_between_gateways():
    nats = [Resource(urn("aws:ec2/natGateway:NatGateway", f"nat-{i}", "aidc:network:Network"),
                     "aws:ec2/natGateway:NatGateway", {}) for i in range(2)]
    est = estimate(_plan(*nats, **{"aidc:cost": {"natDataGbPerMonth": 200}}), cat=stub_catalog())
    assert [ln.monthly_usd for ln in est.lines] == pytest.approx([0.045 * H + 100 * 0.045] * 2)  # 37.35 each


def test_storage_load_balancer_and_log_lines():
    lustre = Resource(urn("aws:fsx/lustreFileSystem:LustreFileSystem", "fs", "aidc:storage:Storage"),
                      "aws:fsx/lustreFileSystem:LustreFileSystem",
                      {"deploymentType": "PERSISTENT_2", "storageCapacity": 1200, "perUnitStorageThroughput": 125,
                       "automaticBackupRetentionDays": 7})
    scratch = Resource(urn("aws:fsx/lustreFileSystem:LustreFileSystem", "scratch", "aidc:storage:Storage"),
                       "aws:fsx/lustreFileSystem:LustreFileSystem",
                       {"deploymentType": "SCRATCH_2", "storageCapacity": 1200})
    volume = Resource(urn("aws:ebs/volume:Volume", "vol", "aidc:storage:Storage"), "aws:ebs/volume:Volume",
                      {"size": 500})
    nlb = Resource(urn("kubernetes:core/v1:Service", "svc", "aidc:inference:Inference"), "kubernetes:core/v1:Service",
                   {"spec": {"type": "LoadBalancer"}})
    internal = Resource(urn("kubernetes:core/v1:Service", "ip", "aidc:inference:Inference"),
                        "kubernetes:core/v1:Service", {"spec": {"type": "ClusterIP"}})
    logs = [Resource(urn("aws:cloudwatch/logGroup:LogGroup", f"lg{i}", "aidc:cluster:Cluster"),
                     "aws:cloudwatch/logGroup:LogGroup", {}) for i in range(2)]
    est = estimate(_plan(lustre, scratch, volume, nlb, internal, *logs, **{"aidc:cost": {"logIngestGbPerMonth": 40}}),
                   cat=stub_catalog())
    by_name = {ln.urn.rsplit("::", 1)[-1]: ln.monthly_usd for ln in est.lines}
    assert by_name == pytest.approx({
        "fs": 1200 * 0.145 + 1200 * 0.05,   # storage + one full backup copy = 234.00
        "vol": 500 * 0.08,                  # 40.00
        "svc": 0.0225 * H,                  # 16.425
        "lg0": 40 * 0.5,                    # all log groups together, once: 20.00
    })
    assert est.unpriced == ["FSx for Lustre SCRATCH_2 tier None in us-east-1"]


def test_node_group_without_launch_template_or_disk_size_has_eks_default_20_gib():
    res = _system({"minSize": 1, "maxSize": 1})
    res = Resource(res.urn, res.type, {k: v for k, v in res.inputs.items() if k != "diskSize"})
    assert estimate(_plan(res), cat=stub_catalog()).monthly_usd == pytest.approx(0.1 * H + 20 * 0.08)  # 74.60


def test_node_pool_without_a_gpu_limit_is_flagged_unbounded():
    pool = Resource(urn("kubernetes:karpenter.sh/v1:NodePool", "burst"), "kubernetes:karpenter.sh/v1:NodePool",
                    {"spec": {"template": {"metadata": {"labels": labels("burst", "spot")}}}})
    est = estimate(_plan(pool), cat=stub_catalog())
    assert (est.pools[0].max, est.gpu_count_max, est.power_kw_max) == (None, None, None)
    assert "a pool has no max limit: the max figure counts it at its expected size" in est.assumptions
