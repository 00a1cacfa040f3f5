"""Cost truth on the shipped stacks and copies of them: every line priced at the stack's
Region's rates, S3 from each bucket's expectedGiB, system nodes, time-aware pools, stale
Capacity Block rates, the pinned totals and output keys, and reviewable policy overrides."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from aidc.cli import main
from aidc.cost import HOURS_PER_MONTH, estimate, plan_pools
from aidc.cost_pools import gib
from aidc.cost_rates import tiered
from aidc.engine import plan_stack
from aidc.policy import evaluate
from components.catalog import catalog
from components.formulas.schedule import monthly_hours, weekly_hours

from .conftest import ROOT

AS_OF = dt.date(2026, 12, 1)  # Kubernetes 1.36 in standard support; Capacity Block table past its date

# Every shipped stack's figures, pinned: (monthly, at max size, GPUs, GPUs at max, GPU-hours,
# average kW, by pool).
PINNED = {
    "prod": (490104.74, 514026.63, 140, 152, 102200.0, 161.805,
             {"infer-l40s": 23026.88, "system": 895.01, "train-h100": 459630.4}),
    "dev": (545.64, 1132.11, 0, 2, 260.714, 0.044, {"dev-l4": 110.63, "system": 155.17}),
    "staging": (8461.51, 16439.48, 4, 8, 2920.0, 2.415, {"stage-l40s": 7675.63, "system": 302.34}),
    "onprem": (0.0, 0.0, 32, 32, 0.0, 47.04, {"dc1-h100": 0.0}),  # 32 x 700 W x 1.5 x the site's PUE 1.4 (aidc:site)
}


@pytest.mark.parametrize("stack", sorted(PINNED))
def test_shipped_stack_totals_are_pinned(stack, plan_of):
    est = estimate(plan_of(stack), as_of=AS_OF)
    total, mx, gpus, gpus_max, gpu_hours, kw, pools = PINNED[stack]
    assert (est.monthly_usd, est.monthly_usd_max, est.gpu_count, est.gpu_count_max) == (total, mx, gpus, gpus_max)
    assert (round(est.gpu_hours, 3), est.power_kw) == (gpu_hours, kw)
    assert est.by_pool() == pools


def test_prod_s3_priced_per_bucket_from_expected_gib_on_the_tier_ladder(plan_of):
    est = estimate(plan_of("prod"), as_of=AS_OF)
    s3 = {ln.urn.rsplit("-", 1)[-1]: ln.monthly_usd for ln in est.lines if ln.type == "aws:s3/bucket:Bucket"}
    # 72,000 GiB (S3 bills GiB as GB): 51,200 at $0.023 + 20,800 at $0.022 = 1,177.60 + 457.60
    assert sum(s3.values()) == pytest.approx(1635.20)
    # Buckets continue the ladder in order: checkpoints 20,000 all in the first tier, datasets
    # 31,200 + 18,800, models 2,000 in the second.
    assert s3 == pytest.approx({"checkpoints": 460.0, "datasets": 31200 * 0.023 + 18800 * 0.022, "models": 44.0,
                                "logs": 0.0})  # access logs: no expectedGiB stated


def test_tier_ladder_by_hand():
    tiers = catalog().prices.regions["us-east-1"].s3_standard
    assert tiered(72000, 0, tiers)[0] == pytest.approx(1635.20)
    # Across the 500 TB step: 51,200 x 0.023 + 460,800 x 0.022 + 88,000 x 0.021
    assert tiered(600000, 0, tiers)[0] == pytest.approx(1177.6 + 10137.6 + 1848.0)
    assert tiered(1000, 51200, tiers)[0] == pytest.approx(22.0)  # starts in the second tier
    assert tiered(0, 0, tiers) == (0.0, [])


def test_prod_system_nodes_are_priced(plan_of):
    (line,) = [ln for ln in estimate(plan_of("prod"), as_of=AS_OF).lines if ln.pool == "system"]
    node = 0.4032 * HOURS_PER_MONTH + 50 * 0.08  # m7i.2xlarge (Karpenter's us-east-1 table) + 50 GiB gp3
    assert line.monthly_usd == pytest.approx(3 * node) and line.monthly_usd_max == pytest.approx(6 * node)
    assert line.priced and "3 x m7i.2xlarge on demand at $0.4032/h" in line.detail


def test_dev_scale_to_zero_server_pays_for_its_work_hours(plan_of):
    est = estimate(plan_of("dev"), as_of=AS_OF)
    (pool,) = [p for p in est.pools if p.name == "dev-l4"]
    hours = 12 * 5 * HOURS_PER_MONTH / 168  # 8-20 Mon-Fri: 260.71 h
    assert (pool.expected, pool.serving_floor) == (0, 0)
    assert pool.node_hours == pytest.approx(hours)
    (line,) = [ln for ln in est.lines if ln.pool == "dev-l4"]
    # Karpenter spot at 50% off: g6.xlarge $0.8048 -> $0.4024/h, plus its 200 GiB gp3 while it runs.
    assert line.monthly_usd == pytest.approx(hours * 0.4024 + 200 * 0.08 * hours / HOURS_PER_MONTH)  # 110.63
    assert line.monthly_usd_max == pytest.approx(2 * (0.4024 * HOURS_PER_MONTH + 200 * 0.08))


@pytest.mark.parametrize("hours, want", [(100, 12 * 5 * HOURS_PER_MONTH / 168 + 100), (5000, 2 * HOURS_PER_MONTH)])
def test_stated_karpenter_node_hours_are_added_up_to_the_pool_max(tmp_path, hours, want):
    path = _copy(tmp_path, "hours", [], f"  aidc:cost: {{poolNodeHours: {{dev-l4: {hours}}}}}\n", base="dev")
    (pool,) = [p for p in plan_pools(plan_stack(str(path), ROOT).plan) if p.name == "dev-l4"]
    assert pool.stated_node_hours == hours and pool.node_hours == pytest.approx(want)


def test_stated_node_hours_only_for_karpenter_pools(tmp_path, capsys):
    path = _copy(tmp_path, "hours", [], "  aidc:cost: {poolNodeHours: {train-h100: 100, nope: 1}}\n")
    assert main(["cost", str(path)]) == 2
    err = capsys.readouterr().err
    assert "aidc:cost.poolNodeHours.train-h100: not a Karpenter pool" in err and "poolNodeHours.nope" in err


def test_work_hours_hold_whole_nodes_per_replica(tmp_path):
    # A 2-GPU replica on a 4-GPU node: one node during the work hours, not two.
    path = _copy(tmp_path, "tp2", [("instanceType: g6.xlarge", "instanceType: g6.12xlarge"),
                                   ("        gpuMemoryUtilization: 0.25", "        tensorParallel: 2\n"
                                    "        gpuMemoryUtilization: 0.25")], base="dev")
    (pool,) = [p for p in plan_pools(plan_stack(str(path), ROOT).plan) if p.name == "dev-l4"]
    assert pool.gpus_per_node == 4 and pool.work_node_hours == pytest.approx(12 * 5 * HOURS_PER_MONTH / 168)


def test_karpenter_node_pool_is_read_from_the_plan(plan_of):
    (infer,) = [p for p in plan_pools(plan_of("prod")) if p.name == "infer-l40s"]
    assert (infer.source, infer.capacity, infer.min, infer.max, infer.disk_gib) == ("plan", "onDemand", 0, 6, 200.0)
    assert (infer.serving_floor, infer.node_hours) == (3, 3 * HOURS_PER_MONTH)
    (train,) = [p for p in plan_pools(plan_of("prod")) if p.name == "train-h100"]
    assert train.serving_floor == 0  # the model servers run on infer-l40s only


def test_sizes_in_gib():
    assert (gib("200Gi"), gib("1Ti"), gib(300), gib("200"), gib("bogus")) == (200.0, 1024.0, 300.0, 200.0, 0.0)
    assert gib("100G") == pytest.approx(100 / 1.073741824)


def test_work_hours_formula():
    assert weekly_hours("0 8 * * 1-5", "0 20 * * 1-5") == 60
    assert weekly_hours("30 9 * * 1,3,5", "0 17 * * 1,3,5") == 22.5
    assert weekly_hours("0 0 * * *", "0 12 * * *") == 84
    assert weekly_hours("0 20 * * 1-5", "0 8 * * 1-5") is None  # overnight: not this simple form
    assert monthly_hours("0 8 1 * *", "0 20 1 * *") is None
    assert monthly_hours("0 8 * * 1-5", "0 20 * * 1-5") == pytest.approx(260.714, abs=1e-3)


def _copy(tmp_path, name: str, edits: list[tuple[str, str]], extra: str = "", base: str = "prod"):
    text = (ROOT / "stacks" / f"Pulumi.{base}.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


WEST = [("aws:region: us-east-1", "aws:region: us-west-2"), ("availabilityZone: us-east-1a", "availabilityZone: us-west-2a")]


def test_us_west_2_stack_is_priced_at_us_west_2_rates_and_says_so(tmp_path, capsys):
    path = _copy(tmp_path, "west", WEST, base="staging")
    est = estimate(plan_stack(str(path), ROOT).plan, as_of=AS_OF)
    assert est.region == "us-west-2"
    assert est.assumptions[0].startswith("730 hours per month; prices us-west-2 from the catalog (pricing.yaml us-west-2")
    nat = [ln for ln in est.lines if ln.type == "aws:ec2/natGateway:NatGateway"]
    assert nat and all(ln.monthly_usd == pytest.approx(0.045 * HOURS_PER_MONTH) for ln in nat)
    # No us-west-2 instance rate was found: the pools are unpriced and named, never priced at us-east-1's.
    by_pool = {ln.pool: ln for ln in est.lines if ln.pool}
    assert not by_pool["stage-l40s"].priced and by_pool["stage-l40s"].monthly_usd == 0
    assert not by_pool["system"].priced
    assert "pool stage-l40s: g6e.12xlarge onDemand (no us-west-2 rate in the catalog)" in est.unpriced
    assert (est.gpu_hours, est.usd_per_gpu_hour) == (0.0, None)  # unpriced GPUs carry no share of the bill
    assert main(["cost", str(path)]) == 0
    out = capsys.readouterr().out
    assert "; 2 not priced in us-west-2 (see aidc cost)" in out.splitlines()[0]
    assert "cost per GPU-hour: n/a (the GPU pools are not priced in us-west-2)" in out


def test_plan_without_a_region_says_it_uses_the_reference_region(plan_of):
    est = estimate(plan_of("onprem"), as_of=AS_OF)
    assert est.region == "us-east-1"
    assert "prices us-east-1 (the plan names no aws:region: the catalog's reference Region)" in est.assumptions[0]


def test_region_without_a_table_prices_nothing_and_says_so(tmp_path):
    path = _copy(tmp_path, "south", [("aws:region: us-east-1", "aws:region: sa-east-1"),
                                     ("availabilityZones: 2", "availabilityZones: [sa-east-1a, sa-east-1c]")], base="dev")
    est = estimate(plan_stack(str(path), ROOT).plan, as_of=AS_OF)
    assert est.monthly_usd == 0.0
    assert "the catalog has no price table for this Region" in est.assumptions[0]
    assert "EKS control plane (no sa-east-1 rate in the catalog)" in est.unpriced


def test_capacity_block_rates_are_marked_stale_past_their_table(plan_of):
    late = estimate(plan_of("prod"), as_of=AS_OF)
    assert late.stale == ["Capacity Block rate p5.48xlarge us-east-1 $39.33/h: AWS's table "
                          "(https://aws.amazon.com/ec2/capacityblocks/pricing/, read 2026-11-23) was valid until 2025-01-01"]
    assert any(a.startswith("STALE: Capacity Block rate p5.48xlarge") for a in late.assumptions)
    assert estimate(plan_of("prod"), as_of=dt.date(2024, 12, 1)).stale == []


COST_KEYS = ["region", "monthlyUsd", "monthlyUsdMax", "byComponent", "byPool", "gpuCount", "gpuCountMax", "gpuHours",
             "unpricedGpuCount", "usdPerGpuHour", "powerKw", "powerKwMax", "energyMwhPerMonth", "unpriced",
             "staleRates", "assumptions", "lines", "carbon"]
LINE_KEYS = ["urn", "component", "pool", "type", "monthlyUsd", "monthlyUsdMax", "priced", "detail"]
POLICY_KEYS = ["environment", "config", "rulesRun", "mandatoryFailed", "violations", "overrides", "notEvaluated"]


def test_json_keys_are_pinned(tmp_path, planned, capsys):
    plan_file = tmp_path / "dev.json"
    from aidc.plan import dumps
    plan_file.write_text(dumps(planned("dev").document), encoding="utf-8")
    assert main(["cost", "--plan", str(plan_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == COST_KEYS
    assert all(list(line) == LINE_KEYS for line in doc["lines"])
    assert main(["policy", "--plan", str(plan_file), "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == POLICY_KEYS


def test_csv_for_finance(plan_of):
    est = estimate(plan_of("prod"), as_of=AS_OF)
    rows = est.to_csv().splitlines()
    assert rows[0] == "region,component,pool,resource,type,monthlyUsd,monthlyUsdMax,priced,detail"
    assert len(rows) == 1 + len(est.lines)
    import csv
    body = list(csv.DictReader(rows))
    assert sum(float(r["monthlyUsd"]) for r in body) == pytest.approx(est.monthly_usd, abs=0.05)
    assert {r["pool"] for r in body} >= {"train-h100", "infer-l40s", "system"}
    keys = [(r["component"], r["pool"]) for r in body]
    assert keys == sorted(keys)  # grouped by component, then pool, for a spreadsheet


def test_cost_cli_csv(capsys):
    assert main(["cost", "dev", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("region,component,pool,") and "\nus-east-1,aidc:cluster:Cluster,system," in out


# ---------------------------------------------------------------- budgets and overrides

P5_ON_DEMAND = [("capacity: {type: capacityBlock, reservationId: cr-0abc1234def567890}", "capacity: {type: onDemand}"),
                ("size: {min: 16, max: 16}", "size: {min: 24, max: 24}")]
REASON = "24 p5 for the Q3 pretraining run, approved by finance (FIN-1234)"
OVERRIDE = f'\n  aidc:policy:\n    overrides:\n      monthly-budget: {{monthlyBudgetUsd: 1500000, reason: "{REASON}"}}\n'


def test_24_on_demand_p5_fail_the_budget_in_policy_and_plan(tmp_path, capsys):
    path = _copy(tmp_path, "p5", P5_ON_DEMAND)
    assert main(["policy", str(path)]) == 1
    assert "monthly-budget: estimated $1,019,081/month at max size" in capsys.readouterr().out
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(path), "--json", str(plan_file)]) == 1
    out = capsys.readouterr().out
    assert "policy FAIL: 1 mandatory" in out and plan_file.is_file()  # written all the same


def test_override_with_a_reason_passes_and_the_reason_is_printed(tmp_path, capsys):
    path = _copy(tmp_path, "p5", P5_ON_DEMAND, OVERRIDE)
    assert main(["policy", str(path)]) == 0
    out = capsys.readouterr().out
    # 24 p5 draw 66,160 kgCO2e/month in us-east-1: over prod's carbon budget, an advisory
    assert "policy pass: 0 mandatory, 1 advisory violations (29 rules, prod, 1 stack override)" in out
    assert "[advisory] carbon-budget: estimated 66,160 kgCO2e/month" in out
    assert (f"override monthly-budget: monthlyBudgetUsd 1500000 (environment: 900000); reason: {REASON}") in out
    assert main(["plan", str(path)]) == 0
    assert f"reason: {REASON}" in capsys.readouterr().out
    report = evaluate(plan_stack(str(path), ROOT).plan)
    assert report.to_json()["overrides"] == [{"policy": "monthly-budget", "params": {"monthlyBudgetUsd": 1500000},
                                              "environment": {"monthlyBudgetUsd": 900000}, "reason": REASON}]


@pytest.mark.parametrize("override, path", [
    ("monthly-budget: {monthlyBudgetUsd: 1500000}", "aidc:policy.overrides.monthly-budget.reason"),
    ("monthly-budget: {monthlyBudgetUsd: 1500000, reason: \"  \"}", "aidc:policy.overrides.monthly-budget.reason"),
    ("gpu-count-max: {maxGpus: 400}", "aidc:policy.overrides.gpu-count-max.reason"),
])
def test_override_without_a_reason_exits_2(tmp_path, capsys, override, path):
    stack = _copy(tmp_path, "p5", P5_ON_DEMAND, f"\n  aidc:policy:\n    overrides:\n      {override}\n")
    assert main(["policy", str(stack)]) == 2
    assert path in capsys.readouterr().err
    assert main(["plan", str(stack)]) == 2


def test_override_of_an_unknown_rule_or_parameter_exits_2(tmp_path, planned, capsys):
    from aidc.plan import dumps
    doc = json.loads(dumps(planned("prod").document))
    doc["config"]["aidc:policy"] = {"overrides": {
        "monthly-budgt": {"monthlyBudgetUsd": 1, "reason": "x"},
        "gpu-count-max": {"maxGpu": 400, "reason": "x"},
        "monthly-budget": {"monthlyBudgetUsd": "lots", "reason": "x"}}}
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["policy", "--plan", str(plan_file)]) == 2
    err = capsys.readouterr().err
    assert "aidc:policy.overrides.monthly-budgt: unknown rule; did you mean monthly-budget" in err
    assert "aidc:policy.overrides.gpu-count-max.maxGpu: unknown parameter of gpu-count-max" in err
    assert 'aidc:policy.overrides.monthly-budget.monthlyBudgetUsd: expected a number, got "lots"' in err


def test_gpu_count_limit_override(tmp_path, capsys):
    edits = [("size: {min: 16, max: 16}", "size: {min: 40, max: 40}")]
    assert main(["policy", str(_copy(tmp_path, "big", edits))]) == 1
    capsys.readouterr()
    extra = ("\n  aidc:policy:\n    overrides:\n      gpu-count-max: {maxGpus: 400, reason: \"capacity plan 2027\"}\n"
             "      monthly-budget: {monthlyBudgetUsd: 1500000, reason: \"capacity plan 2027\"}\n")
    assert main(["policy", str(_copy(tmp_path, "big", edits, extra))]) == 0
    assert "override gpu-count-max: maxGpus 400 (environment: 256); reason: capacity plan 2027" in capsys.readouterr().out


def test_crossguard_applies_the_stack_override():
    from policies.crossguard import _params
    from policies.rule import rules_by_name

    rule = rules_by_name()["monthly-budget"]
    stack = {"aidc:policy": {"overrides": {"monthly-budget": {"monthlyBudgetUsd": 1500000, "reason": REASON}}}}
    assert _params(rule, {"monthlyBudgetUsd": 900000}, stack) == {"monthlyBudgetUsd": 1500000}
    assert _params(rule, {"monthlyBudgetUsd": 900000}, {}) == {"monthlyBudgetUsd": 900000}


def test_docs_list_every_rate_with_its_source_and_date():
    from .cost_doc import table

    doc = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert table() in doc, "docs/cost.md's rate table is out of step with the catalog: regenerate it from tests/cost_doc.py"
