"""aidc.diff: matching by URN, every operation, replacement from the catalog rules, data-loss
warnings, hidden secrets, cost and policy deltas (with fake estimators), a real preview."""

from __future__ import annotations

import pytest

from aidc.diff import compare_plans, diff_plans, diff_preview, render, to_json
from aidc.diff.values import MISSING, changed, show, show_pair, under
from aidc.errors import UserError
from aidc.plan import Plan, load_plan
from components.catalog import catalog
from tests.diff_fakes import FIXTURES, fake_estimate, fake_evaluate, fixture_plans


@pytest.fixture(scope="module")
def report():
    base, head = fixture_plans()
    return diff_plans(base, head, estimator=fake_estimate, evaluator=fake_evaluate)


def by_name(report, name, type_suffix=""):
    found = [r for r in report.changes if r.name == name and r.type.endswith(type_suffix)]
    assert len(found) == 1, found
    return found[0]


def test_every_operation_is_classified(report):
    assert report.counts == {"create": 2, "update": 4, "replace": 2, "delete": 4, "same": 10}
    assert by_name(report, "aidc-prod-vpc").op == "same"
    assert by_name(report, "aidc-prod-nat-2").op == "delete"
    assert by_name(report, "aidc-prod-train-h100", "NodeGroup").op == "create"


def test_kubernetes_upgrade_is_an_update_not_a_replacement(report):
    eks = by_name(report, "aidc-prod-eks")
    assert eks.op == "update"
    assert [(c.path, c.old, c.new, c.forces_replace) for c in eks.changes] == [("version", "1.32", "1.33", False)]


def test_lustre_deployment_type_forces_replacement_and_warns(report):
    lustre = by_name(report, "aidc-prod-scratch")
    assert lustre.op == "replace" and lustre.replace_reasons == ("deploymentType",)
    forcing = {c.path: c.forces_replace for c in lustre.changes}
    # Throughput changes in place since AWS allowed it; only the deployment type forces.
    assert forcing == {"deploymentType": True, "perUnitStorageThroughput": False}
    assert lustre in report.data_loss and lustre.protect


def test_bucket_rename_forces_replacement_and_warns_unprotected(report):
    bucket = by_name(report, "aidc-prod-datasets")
    assert bucket.op == "replace" and bucket.replace_reasons == ("bucket",)
    assert bucket.holds_data == "objects in the bucket" and not bucket.protect
    assert [r.name for r in report.data_loss] == ["aidc-prod-scratch", "aidc-prod-datasets"]


def test_deleting_what_holds_no_data_is_not_a_data_loss(report):
    assert by_name(report, "aidc-prod-nat-1").op == "delete"
    assert not by_name(report, "aidc-prod-nat-1").destroys_data


def test_a_deleted_data_resource_is_a_data_loss():
    base, head = fixture_plans()
    head = Plan(tuple(r for r in head.resources if r.name != "aidc-prod-cache"), head.config, {}, "head")
    vol = next(r for r in compare_plans(base, head) if r.name == "aidc-prod-cache")
    assert vol.op == "delete" and vol.destroys_data and vol.holds_data == "the blocks on the EBS volume"


def test_secrets_stay_hidden(report):
    registry = by_name(report, "aidc-prod-registry")
    text = render(report, "markdown") + render(report, "text") + render(report, "json")
    assert registry.op == "update" and "[secret]" not in [c.new for c in registry.changes]
    assert show_pair("hunter2", "[secret]") == ("[secret]", "[secret]")
    assert "hunter2" not in text


def test_long_values_are_shortened_where_they_differ(report):
    role = by_name(report, "aidc-prod-node")
    (change,) = role.changes
    old, new = show_pair(change.old, change.new)
    assert len(old) <= 60 and len(new) <= 60 and old.startswith("…") and old != new
    assert "pods.eks.amazonaws.com" in new
    assert show("x" * 100).endswith("…") and len(show("x" * 100)) == 60


def test_cost_delta_from_the_estimator(report):
    c = report.cost
    # Two NAT gateways go (2 × 32.85); a 16-node pool arrives (1000 in the fake table).
    assert c.before == pytest.approx(3 * 32.85 + 73 + 1000 + 2000)
    assert c.delta == pytest.approx(1000 - 2 * 32.85)
    assert c.by_component == {"aidc:gpu_pool:GpuPool": (0.0, 1000.0),
                              "aidc:network:Network": (pytest.approx(98.55), pytest.approx(32.85))}


def test_policy_new_and_fixed(report):
    p = report.policy
    assert [(v.policy, v.enforcement) for v in p.new] == [("nat-gateway-per-az", "mandatory")]
    assert [v.policy for v in p.fixed] == ["eks-standard-support"]
    assert p.mandatory_new == 1 and p.remaining == 0


def test_without_cost_and_policy_modules_the_report_says_so():
    base, head = fixture_plans()
    r = diff_plans(base, head, estimator=None, evaluator=None)
    md = render(r, "markdown")
    assert "cost: not available" in md and "policy: not available" in md
    assert to_json(r)["cost"] is None


def test_default_seams_are_the_real_cost_model_and_policy_runner():
    from aidc.cost import estimate
    from aidc.diff.verdicts import default_estimator, default_evaluator
    from aidc.policy import evaluate
    assert default_estimator() is estimate
    assert default_evaluator() is evaluate


def test_plans_of_different_stacks_are_refused():
    base, head = fixture_plans()
    other = load_plan(FIXTURES / "plan-head.json")
    other = Plan(tuple(r.__class__(**{**r.__dict__, "urn": r.urn.replace(":prod::", ":dev::")})
                       for r in other.resources), other.config, {}, "dev.json")
    with pytest.raises(UserError, match="different stacks"):
        diff_plans(base, other, estimator=None, evaluator=None)


def test_replace_rules_are_catalog_data():
    rules = catalog().replace_on_change
    assert "subnetIds" in rules.rule("aws:fsx/lustreFileSystem:LustreFileSystem").replace_on_changes
    assert rules.rule("aws:ec2/launchTemplate:LaunchTemplate").replace_on_changes == ()
    pvc = rules.rule("kubernetes:core/v1:PersistentVolumeClaim")
    assert pvc.holds_data and {"metadata.name", "metadata.namespace", "spec"} <= set(pvc.replace_on_changes)
    assert rules.rule("kubernetes:apps/v1:Deployment").replace_on_changes[:2] == ("metadata.name", "metadata.namespace")
    for typ in ("aws:fsx/lustreFileSystem:LustreFileSystem", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
                "aws:ebs/volume:Volume", "aws:eks/cluster:Cluster"):
        assert rules.rule(typ).holds_data, typ
    assert not rules.rule("aws:ec2/vpc:Vpc").holds_data


@pytest.mark.parametrize("old,new,op", [
    ({"storageCapacity": 4800}, {"storageCapacity": 9600}, "update"),  # grows in place
    ({"storageCapacity": 9600}, {"storageCapacity": 4800}, "replace"),  # shrinking recreates
    ({"fileSystemTypeVersion": "2.12"}, {"fileSystemTypeVersion": "2.15"}, "update"),
    ({"fileSystemTypeVersion": "2.15"}, {"fileSystemTypeVersion": "2.12"}, "replace"),
    ({"subnetIds": ["subnet-a"]}, {"subnetIds": ["subnet-b"]}, "replace"),
])
def test_lustre_rules(old, new, op):
    typ = "aws:fsx/lustreFileSystem:LustreFileSystem"
    urn = f"urn:pulumi:prod::aidc::{typ}::fs"
    from aidc.plan import Resource
    base = Plan((Resource(urn, typ, old),), {}, {})
    head = Plan((Resource(urn, typ, new),), {}, {})
    assert compare_plans(base, head)[0].op == op


def test_provider_change_replaces():
    from aidc.plan import Resource
    typ, urn = "aws:ec2/vpc:Vpc", "urn:pulumi:prod::aidc::aws:ec2/vpc:Vpc::v"
    p1 = "urn:pulumi:prod::aidc::pulumi:providers:aws::east::1111"
    p2 = "urn:pulumi:prod::aidc::pulumi:providers:aws::west::2222"
    r = compare_plans(Plan((Resource(urn, typ, {}, provider=p1),), {}, {}),
                      Plan((Resource(urn, typ, {}, provider=p2),), {}, {}))[0]
    assert r.op == "replace" and r.replace_reasons == ("provider",)


def test_property_paths():
    assert changed({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}) == [("a.b[1]", 2, 3)]
    assert changed({"n": 1}, {"n": 1.0}) == []
    assert changed({}, {"tags": {"k.io/x": "1"}}) == [('tags["k.io/x"]', MISSING, "1")]
    assert under("spec.containers[2].image", "spec.containers[*].image")
    assert under("encryptionConfig", "encryptionConfig.provider.keyArn")  # the block appears or goes
    assert not under("subnetIdsExtra", "subnetIds")


# ---------------------------------------------------------------- a real preview


@pytest.fixture(scope="module")
def preview():
    return diff_preview(load_plan(FIXTURES / "preview-prod.json"), estimator=fake_estimate, evaluator=fake_evaluate)


def test_preview_folds_the_replacement_steps_into_one(preview):
    assert preview.counts == {"create": 1, "update": 2, "replace": 1, "delete": 1, "same": 2}
    lustre = by_name(preview, "aidc-prod-scratch")
    assert lustre.replace_reasons == ("subnetIds",)
    assert [(c.path, c.forces_replace) for c in lustre.changes] == [("subnetIds[0]", True)]


def test_preview_data_loss_and_protection(preview):
    loss = {r.name: (r.op, r.protect) for r in preview.data_loss}
    assert loss == {"aidc-prod-scratch": ("replace", True), "aidc-prod-cache": ("delete", False)}


def test_preview_cost_uses_old_and_new_states(preview):
    # The only priced change: none (Lustre is replaced by one of the same size); EKS stays.
    assert preview.cost.before == pytest.approx(73 + 2000)
    assert preview.cost.delta == pytest.approx(0)
    assert [v.policy for v in preview.policy.fixed] == ["eks-standard-support"]


def test_a_data_holder_depending_on_a_replaced_resource_is_flagged():
    """Offline IDs are stable stand-ins: a replaced subnet keeps its fake ID, so the Lustre file
    system on it shows no change although the real preview would replace it."""
    from aidc.plan import Resource
    sub_t, fs_t = "aws:ec2/subnet:Subnet", "aws:fsx/lustreFileSystem:LustreFileSystem"
    sub = f"urn:pulumi:prod::aidc::{sub_t}::private-0"
    fs = f"urn:pulumi:prod::aidc::{fs_t}::scratch"
    fs_in = {"subnetIds": ["subnet-0a1b"], "deploymentType": "PERSISTENT_2"}
    base = Plan((Resource(sub, sub_t, {"cidrBlock": "10.40.0.0/19"}), Resource(fs, fs_t, fs_in, dependencies=(sub,))),
                {}, {})
    head = Plan((Resource(sub, sub_t, {"cidrBlock": "10.50.0.0/19"}), Resource(fs, fs_t, fs_in, dependencies=(sub,))),
                {}, {})
    report = diff_plans(base, head, estimator=None, evaluator=None)
    (risk,) = report.at_risk
    assert risk.name == "scratch" and risk.op == "same" and risk.knock_on == ("private-0",)
    md = render(report, "markdown")
    assert "[!CAUTION]" in md and "**may be replaced** `scratch`" in md and "depends on `private-0`" in md
