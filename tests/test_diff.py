"""aidc.diff: matching by URN, every operation, replacement from the catalog rules, data-loss
warnings, hidden secrets, cost and policy deltas (with fake estimators), a real preview."""

from __future__ import annotations

import pytest

from aidc.diff import compare_plans, diff_plans, diff_preview, render, to_json
from aidc.diff.values import MISSING, changed, show, show_pair, under
from aidc.errors import UserError
from aidc.plan import SECRET, Plan, parse_plan
from components.catalog import catalog
from tests.diff_fakes import (
    BASE_STACK,
    CIDR_STACK,
    HEAD_STACK,
    fake_estimate,
    fake_evaluate,
    fixture_plans,
    planned,
    preview_document,
)

BUCKET = ("aws:s3/bucket:Bucket", "aidc-lab-datasets")


@pytest.fixture(scope="module")
def report():
    base, head = fixture_plans()
    return diff_plans(base, head, estimator=fake_estimate, evaluator=fake_evaluate)


def by_name(report, name, type_suffix=""):
    found = [r for r in report.changes if r.name == name and r.type.endswith(type_suffix)]
    assert len(found) == 1, found
    return found[0]


def test_every_operation_is_classified(report):
    assert report.counts == {"create": 10, "update": 9, "replace": 2, "delete": 2, "same": 83}
    assert by_name(report, "aidc-lab-vpc").op == "same"
    assert by_name(report, "aidc-lab-nat-1", "NatGateway").op == "delete"
    assert by_name(report, "aidc-lab-train-h100-ng", "NodeGroup").op == "create"


def test_kubernetes_upgrade_is_an_update_not_a_replacement(report):
    eks = by_name(report, "aidc-lab-eks")
    assert eks.op == "update" and eks.replace_reasons == ()
    assert [(c.path, c.old, c.new, c.forces_replace) for c in eks.changes] == [
        ("version", "1.34", "1.35", False),
        ("vpcConfig.endpointPublicAccess", False, True, False),
        ("vpcConfig.publicAccessCidrs[0]", MISSING, "203.0.113.0/24", False)]
    # The upgrade reaches the nodes and add-ons too, each in place.
    assert by_name(report, "aidc-lab-system", "NodeGroup").op == "update"
    assert {by_name(report, a, "Addon").op for a in ("aidc-lab-kube-proxy", "aidc-lab-coredns")} == {"update"}


def test_growing_lustre_is_an_update_in_place(report):
    lustre = by_name(report, "aidc-lab-lustre", "LustreFileSystem")
    assert lustre.op == "update" and lustre.protect
    assert [(c.path, c.old, c.new, c.forces_replace) for c in lustre.changes] == [("storageCapacity", 1200, 2400, False)]
    assert lustre not in report.data_loss


def test_bucket_rename_forces_replacement_and_warns(report):
    bucket = by_name(report, "aidc-lab-datasets", "s3/bucket:Bucket")
    assert bucket.op == "replace" and bucket.replace_reasons == ("bucket",)
    assert [(c.path, c.old, c.new, c.forces_replace) for c in bucket.changes] == [
        ("bucket", "aidc-lab-datasets-4711", "aidc-lab-datasets-v2", True)]
    assert bucket.holds_data == "objects in the bucket" and bucket.protect  # prod protects what holds data
    assert [r.name for r in report.data_loss] == ["aidc-lab-datasets"]
    # Its policy names the bucket: an update. The Lustre link's data_repository_path is ForceNew
    # (data_repository_association.go): a new link, and no data lost (it holds none).
    assert by_name(report, "aidc-lab-datasets", "BucketPolicy").op == "update"
    link = by_name(report, "aidc-lab-datasets", "DataRepositoryAssociation")
    assert link.op == "replace" and link.replace_reasons == ("dataRepositoryPath",) and not link.destroys_data


def test_deleting_what_holds_no_data_is_not_a_data_loss(report):
    assert by_name(report, "aidc-lab-nat-1-eip").op == "delete"
    assert not by_name(report, "aidc-lab-nat-1", "NatGateway").destroys_data
    # The second zone's route now leaves through the remaining NAT gateway.
    rt = by_name(report, "aidc-lab-private-1-rt")
    assert rt.op == "update" and [c.path for c in rt.changes] == ["routes[0].natGatewayId"]


def test_a_deleted_data_resource_is_a_data_loss():
    base, head = fixture_plans()
    head = Plan(tuple(r for r in head.resources if not r.type.endswith("LustreFileSystem")), head.config, {}, "head")
    fs = next(r for r in compare_plans(base, head) if r.name == "aidc-lab-lustre" and r.op == "delete")
    assert fs.destroys_data and fs.holds_data == "files on the Lustre file system" and fs.protect


def test_secrets_stay_hidden(report):
    base, head = fixture_plans()
    eks = by_name(report, "aidc-lab-eks")
    urn = eks.urn
    secret_head = Plan(tuple(r.__class__(**{**r.__dict__, "inputs": {**r.inputs, "name": SECRET}}) if r.urn == urn
                             else r for r in head.resources), head.config, {}, "head")
    secret_report = diff_plans(base, secret_head, estimator=None, evaluator=None)
    (name,) = [c for c in by_name(secret_report, "aidc-lab-eks").changes if c.path == "name"]
    assert show_pair(name.old, name.new) == ("[secret]", "[secret]")  # neither side is shown
    text = render(secret_report, "markdown") + render(secret_report, "text") + render(secret_report, "json")
    assert "aidc-lab-eks" in text and f"`name`: `{name.old}`" not in text
    assert show_pair("hunter2", "[secret]") == ("[secret]", "[secret]")


def test_long_values_are_shortened_where_they_differ(report):
    policy = by_name(report, "aidc-lab-datasets", "BucketPolicy")
    (change,) = policy.changes
    old, new = show_pair(change.old, change.new)
    assert len(old) <= 60 and len(new) <= 60 and old.startswith("…") and old != new
    assert "datasets-4711" in old and "datasets-v2" in new
    assert show("x" * 100).endswith("…") and len(show("x" * 100)) == 60


def test_cost_delta_from_the_estimator(report):
    c = report.cost
    # One NAT gateway goes (32.85); a GPU node group arrives (1000 in the fake table).
    assert c.before == pytest.approx(2 * 32.85 + 73 + 1000 + 2000)
    assert c.delta == pytest.approx(1000 - 32.85)
    assert c.by_component == {"aidc:gpu_pool:GpuNodePool": (0.0, 1000.0),
                              "aidc:network:Network": (pytest.approx(65.7), pytest.approx(32.85))}


def test_policy_new_and_fixed(report):
    p = report.policy
    assert [(v.policy, v.enforcement, v.urn.rsplit("::", 1)[-1]) for v in p.new] == [
        ("nat-gateway-per-az", "mandatory", "aidc-lab-nat-0")]
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
    other = Plan(tuple(r.__class__(**{**r.__dict__, "urn": r.urn.replace(":lab::", ":dev::")})
                       for r in head.resources), head.config, {}, "dev.json")
    with pytest.raises(UserError, match="different stacks"):
        diff_plans(base, other, estimator=None, evaluator=None)


def test_replace_rules_are_catalog_data():
    rules = catalog().replace_on_change
    assert "subnetIds" in rules.rule("aws:fsx/lustreFileSystem:LustreFileSystem").replace_on_changes
    assert rules.rule("aws:ec2/launchTemplate:LaunchTemplate").replace_on_changes == ("region",)  # aws:* only
    pvc = rules.rule("kubernetes:core/v1:PersistentVolumeClaim")
    assert pvc.holds_data and pvc.replace_on_changes == (
        "metadata.name", "metadata.namespace", "spec.accessModes", "spec.selector", "spec.storageClassName",
        "spec.volumeName")
    assert rules.rule("kubernetes:apps/v1:Deployment").replace_on_changes[:2] == ("metadata.name", "metadata.namespace")
    for typ in ("aws:fsx/lustreFileSystem:LustreFileSystem", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
                "aws:eks/cluster:Cluster"):
        assert rules.rule(typ).holds_data, typ
    assert not rules.rule("aws:ec2/vpc:Vpc").holds_data


@pytest.mark.parametrize("old,new,op", [
    ({"storageCapacity": 4800}, {"storageCapacity": 9600}, "update"),  # grows in place
    ({"storageCapacity": 9600}, {"storageCapacity": 4800}, "replace"),  # shrinking recreates
    ({"fileSystemTypeVersion": "2.12"}, {"fileSystemTypeVersion": "2.15"}, "update"),  # upgrades in place
    ({"fileSystemTypeVersion": "2.15"}, {"fileSystemTypeVersion": "2.12"}, "replace"),
    ({"perUnitStorageThroughput": 250}, {"perUnitStorageThroughput": 500}, "update"),  # no ForceNew
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


def preview_doc(replaced=None):
    return preview_document(planned(BASE_STACK), planned(HEAD_STACK), {BUCKET: ("bucket",)} if replaced is None
                            else replaced)


@pytest.fixture(scope="module")
def preview():
    return diff_preview(parse_plan(preview_doc(), "preview.json"), estimator=fake_estimate, evaluator=fake_evaluate)


def test_the_preview_fixture_has_pulumis_layout():
    doc = preview_doc()
    ops = [s["op"] for s in doc["steps"] if s["urn"].endswith("s3/bucket:Bucket::aidc-lab-datasets")]
    assert ops == ["create-replacement", "replace", "delete-replaced"]
    assert [s["op"] for s in doc["steps"][-3:]] == ["delete", "delete", "delete-replaced"]
    assert doc["changeSummary"] == {"create": 12, "delete": 2, "replace": 1, "same": 88, "update": 10}


def test_preview_folds_the_replacement_steps_into_one(preview):
    assert preview.counts == {"create": 10, "update": 10, "replace": 1, "delete": 2, "same": 83}
    bucket = by_name(preview, "aidc-lab-datasets", "s3/bucket:Bucket")
    assert bucket.replace_reasons == ("bucket",)
    assert [(c.path, c.forces_replace) for c in bucket.changes] == [("bucket", True)]


def test_preview_replace_reasons_come_from_pulumi_not_the_catalog():
    """Pulumi said the bucket policy is replaced (its provider's call): the preview is believed,
    reasons from replaceReasons, else detailedDiff kinds, else (an older CLI) the catalog."""
    doc = preview_doc({BUCKET: ("bucket",), ("aws:s3/bucketPolicy:BucketPolicy", "aidc-lab-datasets"): ("policy",)})
    policy = by_name(diff_preview(parse_plan(doc), estimator=None, evaluator=None), "aidc-lab-datasets", "BucketPolicy")
    assert policy.op == "replace" and policy.replace_reasons == ("policy",)
    for step in doc["steps"]:
        step.pop("replaceReasons", None)
    bucket = by_name(diff_preview(parse_plan(doc), estimator=None, evaluator=None), *BUCKET[::-1])
    assert bucket.replace_reasons == ("bucket",)  # from detailedDiff's update-replace kind
    for step in doc["steps"]:
        step.pop("detailedDiff", None)
    report = diff_preview(parse_plan(doc), estimator=None, evaluator=None)
    assert by_name(report, *BUCKET[::-1]).replace_reasons == ("bucket",)  # the catalog: `bucket` forces
    assert by_name(report, "aidc-lab-datasets", "BucketPolicy").replace_reasons == ()  # the catalog names none


def test_preview_data_loss_and_protection(preview):
    loss = {r.name: (r.op, r.protect) for r in preview.data_loss}
    assert loss == {"aidc-lab-datasets": ("replace", True)}
    assert not by_name(preview, "aidc-lab-nat-1", "NatGateway").destroys_data


def test_preview_cost_uses_old_and_new_states(preview, report):
    assert preview.cost.before == pytest.approx(2 * 32.85 + 73 + 1000 + 2000)
    assert preview.cost.delta == pytest.approx(report.cost.delta)
    assert [v.policy for v in preview.policy.fixed] == ["eks-standard-support"]
    assert [v.policy for v in preview.policy.new] == ["nat-gateway-per-az"]


def test_a_data_holder_depending_on_a_replaced_resource_is_flagged():
    """A new CIDR replaces the subnets. Offline IDs are stable stand-ins: a replaced subnet keeps
    its fake ID, so Lustre on it shows no change although the real preview would replace it (its
    subnetIds, which take the subnet's ID, are replace-on-change). The EKS cluster takes the
    subnets too, but in vpcConfig.subnetIds, which changes in place: not flagged."""
    report = diff_plans(planned(BASE_STACK).plan, planned(CIDR_STACK).plan, estimator=None, evaluator=None)
    assert {r.name for r in report.changes if r.op == "replace"} == {
        "aidc-lab-vpc", "aidc-lab-private-0", "aidc-lab-private-1", "aidc-lab-public-0", "aidc-lab-public-1"}
    risk = {r.name: (r.op, r.knock_on) for r in report.at_risk}
    assert risk == {"aidc-lab-lustre": ("same", ("aidc-lab-private-0",))}
    md = render(report, "markdown")
    assert "[!CAUTION]" in md and "**may be replaced** `aidc-lab-lustre`" in md and "depends on `aidc-lab-private-0`" in md
