"""The offline runner and the CLI: shipped stacks pass their environment's mandatory rules;
one setting turns prod red with a fix; bad input exits 2."""

from __future__ import annotations

import json

import pytest

from aidc.cli import main
from aidc.plan import dumps
from aidc.policy import evaluate

from .conftest import ROOT, SHIPPED


@pytest.mark.parametrize("stack", SHIPPED)
def test_shipped_stacks_pass_every_mandatory_rule(stack, planned):
    report = evaluate(planned(stack).plan)
    assert report.environment == planned(stack).spec.environment
    assert not report.mandatory_failed, [(v.policy, v.urn, v.message) for v in report.violations]
    assert report.rules_run >= 23


def _prod_copy(tmp_path, old: str, new: str):
    text = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_public_prod_endpoint_turns_policy_red_with_a_fix(tmp_path, capsys):
    path = _prod_copy(tmp_path, "endpointAccess: private",
                      "endpointAccess: public\n    publicAccessCidrs: [203.0.113.0/24]")
    assert main(["policy", str(path)]) == 1
    out = capsys.readouterr().out
    assert "policy FAIL: 1 mandatory" in out
    assert "eks-endpoint-not-public: the Kubernetes API endpoint is public (publicAccessCidrs ['203.0.113.0/24'])" in out
    assert "fix: Set aidc:cluster.endpointAccess: private" in out
    assert main(["policy", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [v["policy"] for v in doc["violations"]] == ["eks-endpoint-not-public"]
    assert doc["violations"][0]["urn"].endswith("aws:eks/cluster:Cluster::aidc-prod-eks")


def test_gpu_pool_over_the_prod_cap_fails_count_and_budget(tmp_path, capsys):
    path = _prod_copy(tmp_path, "size: {min: 16, max: 16}", "size: {min: 40, max: 40}")
    assert main(["policy", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    by_rule = {v["policy"]: v["message"] for v in doc["violations"]}
    # 40 x 8 H100 + 6 x 4 L40S = 344 GPUs > 256
    assert "can grow to 344 GPUs" in by_rule["gpu-count-max"]
    assert "exceeds the policy's budget of $900,000" in by_rule["monthly-budget"]


def test_carbon_budget_is_an_advisory_one_pool_size_over(tmp_path, capsys):
    """prod at 16 p5 nodes draws 44,775 kgCO2e/month in us-east-1; 24 nodes add 8 x 8 x 700 W x 1.5
    x 1.15 x 730 h x 379.069 g/kWh = 21,385 kg, over prod's 60,000 kg (and nothing else fails)."""
    path = _prod_copy(tmp_path, "size: {min: 16, max: 16}", "size: {min: 24, max: 24}")
    assert main(["policy", str(path), "--json"]) == 0  # advisory: reported, not failing
    doc = json.loads(capsys.readouterr().out)
    assert [(v["policy"], v["enforcement"]) for v in doc["violations"]] == [("carbon-budget", "advisory")]
    assert "estimated 66,160 kgCO2e/month" in doc["violations"][0]["message"]
    assert "exceeds the budget of 60,000 kgCO2e/month" in doc["violations"][0]["message"]


def test_plan_file_round_trip_and_bad_inputs(tmp_path, planned, capsys):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dumps(planned("dev").document), encoding="utf-8")
    assert main(["policy", "--plan", str(plan_file)]) == 0
    assert "policy pass" in capsys.readouterr().out
    assert main(["cost", "--plan", str(plan_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["byComponent"]["aidc:network:Network"] > 0

    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": 3}', encoding="utf-8")
    assert main(["policy", "--plan", str(bad)]) == 2
    bad.write_text("{not json", encoding="utf-8")
    assert main(["cost", "--plan", str(bad)]) == 2

    unknown_rule = tmp_path / "c.json"
    unknown_rule.write_text(json.dumps({"no-such-rule": "mandatory"}), encoding="utf-8")
    assert main(["policy", "--plan", str(plan_file), "--config", str(unknown_rule)]) == 2
    assert "no-such-rule: unknown rule" in capsys.readouterr().err

    budget = tmp_path / "b.json"
    budget.write_text(json.dumps({"monthly-budget": {"monthlyBudgetUsd": "lots"}}), encoding="utf-8")
    assert main(["policy", "--plan", str(plan_file), "--config", str(budget)]) == 2
    assert 'monthly-budget.monthlyBudgetUsd: expected a number, got "lots"' in capsys.readouterr().err


def test_stack_budget_that_is_not_a_number_exits_2(tmp_path, capsys):
    path = _prod_copy(tmp_path, "aidc:environment: prod", "aidc:environment: prod\n  aidc:cost: {monthlyBudgetUsd: lots}")
    assert main(["cost", str(path)]) == 2
    assert "aidc:cost.monthlyBudgetUsd" in capsys.readouterr().err


def test_stack_budget_tightens_the_environment_budget(tmp_path, capsys):
    path = _prod_copy(tmp_path, "aidc:environment: prod", "aidc:environment: prod\n  aidc:cost: {monthlyBudgetUsd: 100000}")
    assert main(["policy", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [v["policy"] for v in doc["violations"]] == ["monthly-budget"]
    assert "exceeds the stack's own (aidc:cost.monthlyBudgetUsd) budget of $100,000" in doc["violations"][0]["message"]


def test_unknown_values_are_reported_not_evaluated(planned):
    doc = json.loads(dumps(planned("prod").document))
    templates = 0
    for step in doc["steps"]:
        if step["newState"]["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
            step["newState"]["inputs"]["metadataOptions"]["httpTokens"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
            templates += 1
    from aidc.plan import parse_plan

    report = evaluate(parse_plan(doc))
    assert not report.mandatory_failed
    assert templates == 2  # the system nodes' and train-h100's
    assert [v.policy for v in report.unknown] == ["imdsv2-required"] * templates


def test_pack_files_are_consistent():
    from policies.rule import rules_by_name

    names = set(rules_by_name())
    for env in ("dev", "staging", "prod"):
        cfg = json.loads((ROOT / "policies" / "config" / f"{env}.json").read_text(encoding="utf-8"))
        assert set(cfg) == names, f"{env}.json must name every rule"


def test_docs_name_every_rule_with_its_levels():
    from policies.rule import all_rules

    doc = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    for rule in all_rules():
        assert f"| `{rule.name}` | {rule.severity} |" in doc, f"docs/policies.md lacks {rule.name}"
