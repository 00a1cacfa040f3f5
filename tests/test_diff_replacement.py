"""Replacement semantics of `aidc diff`, one diff per rule of components/catalog/replace_on_change.yaml
(read from terraform-provider-aws and pulumi-kubernetes, see the file): whole plans from the
fixture stacks for the cases a reviewer meets, small hand-made plans for each single rule."""

from __future__ import annotations

import importlib
import inspect

import pytest

from aidc.diff import compare_plans, diff_plans, render
from aidc.plan import SECRET, UNKNOWN, Plan, Resource
from components.catalog import catalog
from tests.diff_fakes import (
    BASE_STACK,
    CLAIMS_STACK,
    GROWN_STACK,
    HEAD_STACK,
    IOPS_HIGH_STACK,
    IOPS_LOW_STACK,
    REGION_STACK,
    planned,
)

K8S = "urn:pulumi:prod::aidc::pulumi:providers:kubernetes::k8s"
AWS = "urn:pulumi:prod::aidc::pulumi:providers:aws::aws"


def one(typ: str, old: dict, new: dict, **kw) -> str:
    """The operation `aidc diff` reports for one resource whose inputs go from `old` to `new`."""
    urn = f"urn:pulumi:prod::aidc::{typ}::r"
    return compare_plans(Plan((Resource(urn, typ, old, **kw),), {}, {}),
                         Plan((Resource(urn, typ, new, **kw),), {}, {}))[0].op


# ---------------------------------------------------------------- the cases, whole plans

def test_growing_lustre_replaces_no_claim_and_warns_of_no_data_loss():
    base, head = planned(CLAIMS_STACK).plan, planned(GROWN_STACK).plan  # Lustre 1200 -> 4800 GiB
    report = diff_plans(base, head, estimator=None, evaluator=None)
    assert [(r.type, r.op) for r in report.changed] == [
        ("aws:fsx/lustreFileSystem:LustreFileSystem", "update"), ("kubernetes:core/v1:PersistentVolume", "update")]
    assert not report.data_loss and not report.at_risk
    assert "[!CAUTION]" not in render(report, "markdown")
    claims = head.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert [c.inputs["spec"]["resources"]["requests"]["storage"] for c in claims] == ["1200Gi"]
    volume = next(r for r in head.of_type("kubernetes:core/v1:PersistentVolume") if "lustre" in r.urn)
    assert volume.inputs["spec"]["capacity"]["storage"] == "4800Gi"  # changed in place


def test_lowering_metadata_iops_replaces_the_file_system_first_among_data_loss():
    report = diff_plans(planned(IOPS_HIGH_STACK).plan, planned(IOPS_LOW_STACK).plan, estimator=None, evaluator=None)
    first = report.data_loss[0]
    assert (first.type, first.op, first.replace_reasons) == (
        "aws:fsx/lustreFileSystem:LustreFileSystem", "replace", ("metadataConfiguration.iops",))
    assert len(report.data_loss) == 1
    # The bucket key depends on the file system but sets no replace-on-change property a new ID
    # could reach: not flagged as "may be replaced".
    assert not report.at_risk
    text = render(report, "text")
    assert text.index("DATA LOSS: replace aidc-lab-lustre") < text.index("\n\n")


def test_raising_metadata_iops_is_an_update():
    report = diff_plans(planned(IOPS_LOW_STACK).plan, planned(IOPS_HIGH_STACK).plan, estimator=None, evaluator=None)
    assert [(r.name, r.op) for r in report.changed] == [("aidc-lab-lustre", "update")]
    assert not report.data_loss


def test_a_region_move_replaces_every_regional_resource():
    report = diff_plans(planned(BASE_STACK).plan, planned(REGION_STACK).plan, estimator=None, evaluator=None)
    ops = {(r.type, r.name): r for r in report.changes}
    for key in [("aws:ec2/vpc:Vpc", "aidc-lab-vpc"), ("aws:s3/bucket:Bucket", "aidc-lab-datasets"),
                ("aws:kms/key:Key", "aidc-lab-buckets"), ("aws:fsx/lustreFileSystem:LustreFileSystem", "aidc-lab-lustre")]:
        r = ops[key]
        assert r.op == "replace" and "region" in r.replace_reasons, key
        assert any(c.path == "region" and (c.old, c.new) == ("us-east-1", "us-west-2") and c.forces_replace
                   for c in r.changes)
    assert ops[("pulumi:providers:aws", "aidc-lab-aws")].op == "update"  # the provider itself is updated
    iam = [r for r in report.changes if r.type.startswith("aws:iam/")]
    assert iam and all("region" not in r.replace_reasons for r in iam)  # IAM is global
    # The EKS cluster is replaced, so the Kubernetes provider's kubeconfig is unknown at preview.
    k8s = ops[("pulumi:providers:kubernetes", "aidc-lab-k8s")]
    assert k8s.replace_reasons == ("kubeconfig",)
    assert [(c.path, c.old, c.new, c.forces_replace) for c in k8s.changes] == [("kubeconfig", SECRET, UNKNOWN, True)]
    assert "`kubeconfig`: `[secret]` → `(known after apply)` ⚠️ forces replacement" in render(report, "markdown")
    assert {r.type for r in report.data_loss} >= {"aws:s3/bucket:Bucket", "aws:kms/key:Key",
                                                  "aws:fsx/lustreFileSystem:LustreFileSystem"}


# ---------------------------------------------------------------- one diff per AWS rule

@pytest.mark.parametrize("old,new,op", [
    # encryption_config has no ForceNew: a new key is an in-place update (cluster.go CustomizeDiff)
    ({"encryptionConfig": {"provider": {"keyArn": "k1"}, "resources": ["secrets"]}},
     {"encryptionConfig": {"provider": {"keyArn": "k2"}, "resources": ["secrets"]}}, "update"),
    ({}, {"encryptionConfig": {"provider": {"keyArn": "k1"}, "resources": ["secrets"]}}, "update"),
    # ... only removing it forces a new cluster (ForceNewIfChange: 1 item -> 0)
    ({"encryptionConfig": {"provider": {"keyArn": "k1"}, "resources": ["secrets"]}}, {}, "replace"),
    ({"name": "a"}, {"name": "b"}, "replace"),
    ({"kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.100.0.0/16"}},
     {"kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.200.0.0/16"}}, "replace"),
    ({"vpcConfig": {"subnetIds": ["a", "b"]}}, {"vpcConfig": {"subnetIds": ["a", "c"]}}, "update"),
    ({"version": "1.34"}, {"version": "1.35"}, "update"),
])
def test_eks_cluster_rules(old, new, op):
    assert one("aws:eks/cluster:Cluster", old, new) == op


@pytest.mark.parametrize("old,new,op", [
    ({"metadataConfiguration": {"mode": "USER_PROVISIONED", "iops": 6000}},
     {"metadataConfiguration": {"mode": "USER_PROVISIONED", "iops": 3000}}, "replace"),
    ({"metadataConfiguration": {"mode": "USER_PROVISIONED", "iops": 3000}},
     {"metadataConfiguration": {"mode": "USER_PROVISIONED", "iops": 6000}}, "update"),
    ({"storageCapacity": 2400}, {"storageCapacity": 1200}, "replace"),
    ({"kmsKeyId": "k1"}, {"kmsKeyId": "k2"}, "replace"),
    ({"automaticBackupRetentionDays": 7}, {"automaticBackupRetentionDays": 30}, "update"),
    ({"efaEnabled": False}, {"efaEnabled": True}, "replace"),
    ({"fileSystemTypeVersion": "2.15"}, {"fileSystemTypeVersion": "2.12"}, "replace"),
])
def test_lustre_customize_diff_rules(old, new, op):
    assert one("aws:fsx/lustreFileSystem:LustreFileSystem", old, new) == op


@pytest.mark.parametrize("typ,old,new,op", [
    ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}, {"cidrBlock": "10.1.0.0/16"}, "replace"),
    ("aws:ec2/vpc:Vpc", {"enableDnsHostnames": False}, {"enableDnsHostnames": True}, "update"),
    ("aws:ec2/subnet:Subnet", {"cidrBlock": "10.0.0.0/24"}, {"cidrBlock": "10.0.1.0/24"}, "replace"),
    ("aws:s3/bucket:Bucket", {"bucket": "a"}, {"bucket": "b"}, "replace"),
    ("aws:s3/bucket:Bucket", {"forceDestroy": False}, {"forceDestroy": True}, "update"),
    ("aws:kms/key:Key", {"customerMasterKeySpec": "SYMMETRIC_DEFAULT"}, {"customerMasterKeySpec": "RSA_2048"},
     "replace"),
    ("aws:kms/key:Key", {"deletionWindowInDays": 30}, {"deletionWindowInDays": 7}, "update"),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", {"region": "us-east-1"}, {"region": "us-west-2"}, "replace"),
])
def test_aws_force_new(typ, old, new, op):
    assert one(typ, old, new) == op


@pytest.mark.parametrize("name", ["default", "default_7_51_1"])  # offline plans; Pulumi's own
def test_the_default_aws_provider_takes_its_region_from_the_stack_config(name):
    default = f"urn:pulumi:prod::aidc::pulumi:providers:aws::{name}"
    vpc, role = "urn:pulumi:prod::aidc::aws:ec2/vpc:Vpc::v", "urn:pulumi:prod::aidc::aws:iam/role:Role::r"

    def plan(region: str) -> Plan:
        return Plan((Resource(default, "pulumi:providers:aws", {}),
                     Resource(vpc, "aws:ec2/vpc:Vpc", {}, provider=f"{default}::id"),
                     Resource(role, "aws:iam/role:Role", {}, provider=f"{default}::id")),
                    {"aws:region": region}, {})

    ops = {r.name: (r.op, r.replace_reasons) for r in compare_plans(plan("us-east-1"), plan("eu-west-1"))}
    assert ops == {name: ("update", ()), "v": ("replace", ("region",)), "r": ("same", ())}


def test_a_resource_that_sets_its_own_region_stays_when_the_provider_moves():
    vpc = "urn:pulumi:prod::aidc::aws:ec2/vpc:Vpc::v"

    def plan(region: str) -> Plan:
        return Plan((Resource(AWS, "pulumi:providers:aws", {"region": region}),
                     Resource(vpc, "aws:ec2/vpc:Vpc", {"region": "eu-central-1"}, provider=f"{AWS}::id")), {}, {})

    assert [r.op for r in compare_plans(plan("us-east-1"), plan("eu-west-1"))] == ["update", "same"]


# ---------------------------------------------------------------- one diff per Kubernetes rule

@pytest.mark.parametrize("typ,old,new,op", [
    ("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {"resources": {"requests": {"storage": "1Ti"}}}},
     {"spec": {"resources": {"requests": {"storage": "2Ti"}}}}, "update"),
    ("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {"storageClassName": ""}},
     {"spec": {"storageClassName": "gp3"}}, "replace"),
    ("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {"accessModes": ["ReadWriteOnce"]}},
     {"spec": {"accessModes": ["ReadWriteMany"]}}, "replace"),
    ("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {"volumeName": "a"}}, {"spec": {"volumeName": "b"}},
     "replace"),
    ("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
     {"spec": {"selector": {"matchLabels": {"a": "2"}}}}, "replace"),
    ("kubernetes:core/v1:PersistentVolume", {"spec": {"capacity": {"storage": "1200Gi"}}},
     {"spec": {"capacity": {"storage": "2400Gi"}}}, "update"),
    ("kubernetes:core/v1:PersistentVolume", {"spec": {"csi": {"volumeHandle": "fs-1"}}},
     {"spec": {"csi": {"volumeHandle": "fs-2"}}}, "replace"),
    ("kubernetes:apps/v1:StatefulSet", {"spec": {"revisionHistoryLimit": 10}}, {"spec": {"revisionHistoryLimit": 3}},
     "replace"),
    ("kubernetes:apps/v1:StatefulSet", {"spec": {"replicas": 1}}, {"spec": {"replicas": 3}}, "update"),
    ("kubernetes:apps/v1:Deployment", {"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}, "update"),
    ("kubernetes:apps/v1:Deployment", {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
     {"spec": {"selector": {"matchLabels": {"a": "2"}}}}, "replace"),
    ("kubernetes:core/v1:ResourceQuota", {"spec": {"scopes": ["A"]}}, {"spec": {"scopes": ["B"]}}, "replace"),
    ("kubernetes:core/v1:ResourceQuota", {"spec": {"hard": {"cpu": "1"}}}, {"spec": {"hard": {"cpu": "2"}}},
     "update"),
    ("kubernetes:policy/v1:PodDisruptionBudget", {"spec": {"minAvailable": 1}}, {"spec": {"minAvailable": 2}},
     "update"),  # diff.go replaces on .spec for policy/v1beta1 only
    ("kubernetes:core/v1:ConfigMap", {"data": {"a": "1"}}, {"data": {"a": "2"}}, "replace"),
    ("kubernetes:batch/v1:Job", {"spec": {"template": {"x": 1}}}, {"spec": {"template": {"x": 2}}}, "replace"),
    ("kubernetes:core/v1:Namespace", {"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}, "replace"),
    ("kubernetes:helm.sh/v3:Release", {"values": {"a": 1}}, {"values": {"a": 2}}, "update"),
    ("kubernetes:helm.sh/v3:Release", {"namespace": "a"}, {"namespace": "b"}, "replace"),
])
def test_kubernetes_force_new(typ, old, new, op):
    assert one(typ, old, new) == op


def kubeconfig(server: str, token: str = "t") -> str:
    return (f"apiVersion: v1\nclusters:\n- name: c\n  cluster: {{server: '{server}'}}\n"
            f"contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
            f"users:\n- name: u\n  user: {{token: {token}}}\n")


def k8s_plan(provider_inputs: dict, *, eks: dict | None = None) -> Plan:
    eks_urn = "urn:pulumi:prod::aidc::aws:eks/cluster:Cluster::eks"
    claim = "urn:pulumi:prod::aidc::kubernetes:core/v1:PersistentVolumeClaim::claim"
    return Plan((Resource(eks_urn, "aws:eks/cluster:Cluster", eks or {"name": "a"}, provider=f"{AWS}::1"),
                 Resource(K8S, "pulumi:providers:kubernetes", provider_inputs, dependencies=(eks_urn,)),
                 Resource(claim, "kubernetes:core/v1:PersistentVolumeClaim", {"spec": {}}, provider=f"{K8S}::2")),
                {}, {})


@pytest.mark.parametrize("old,new,eks,reasons", [
    ({"kubeconfig": kubeconfig("https://a")}, {"kubeconfig": kubeconfig("https://b")}, None, ("kubeconfig",)),
    ({"kubeconfig": kubeconfig("https://a")}, {"kubeconfig": kubeconfig("https://a", "t2")}, None, ()),  # same cluster
    ({"kubeconfig": SECRET}, {"kubeconfig": UNKNOWN}, None, ("kubeconfig",)),  # unknown at preview
    ({"kubeconfig": SECRET}, {"kubeconfig": SECRET}, {"name": "b"}, ("kubeconfig",)),  # its cluster is replaced
    ({"clusterIdentifier": "a", "kubeconfig": SECRET}, {"clusterIdentifier": "b", "kubeconfig": SECRET}, None,
     ("clusterIdentifier",)),
    ({"clusterIdentifier": "a", "kubeconfig": SECRET}, {"clusterIdentifier": "a", "kubeconfig": SECRET},
     {"name": "b"}, ()),  # an unchanged identifier cancels every replacement
    ({"renderYamlToDirectory": "a"}, {"renderYamlToDirectory": "b"}, None, ("renderYamlToDirectory",)),
])
def test_kubernetes_provider_diff_config(old, new, eks, reasons):
    records = {r.name: r for r in compare_plans(k8s_plan(old), k8s_plan(new, eks=eks))}
    provider, claim = records["k8s"], records["claim"]
    assert provider.replace_reasons == reasons
    assert claim.op == ("replace" if reasons else "same")  # the provider's replacement reaches its resources
    if reasons:
        assert claim.replace_reasons == ("provider",) and claim.destroys_data


# ---------------------------------------------------------------- the data

def test_every_rule_cites_its_source():
    data = catalog().replace_on_change
    entries = {**data.types, **{f"provider {k}": v for k, v in data.providers.items()}}
    assert len(entries) > 20
    for key, entry in entries.items():
        assert entry.source, f"{key}: no source"
        for s in entry.source:
            assert s.repository in ("hashicorp/terraform-provider-aws", "pulumi/pulumi-aws",
                                    "pulumi/pulumi-kubernetes", "pulumi/pulumi"), key
            assert s.path.endswith((".go", ".py")) and s.ref and s.at, key


def test_global_aws_types_are_those_without_a_region_input_in_the_pinned_sdk():
    """pulumi-aws copies the provider's region into resources that have a `region` input: the
    catalog's global types must be exactly the plans' AWS types without one, at the pinned SDK."""
    rule = catalog().replace_on_change.provider("aws")
    types = {r.type for r in planned(HEAD_STACK).plan.resources if r.type.startswith("aws:")}
    assert {"aws:iam/role:Role", "aws:s3/bucket:Bucket"} <= types
    for token in sorted(types):
        module, name = token.split(":")[1].split("/")[0], token.rsplit(":", 1)[1]
        cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), name)
        has_region = "region" in inspect.signature(cls._internal_init).parameters
        assert rule.is_global(token) == (not has_region), token


def test_the_kubernetes_provider_follows_only_what_its_kubeconfig_comes_from():
    """aidc's provider depends on the system node group too (depends_on) but its kubeconfig
    comes from the cluster alone (propertyDependencies): replacing the nodes keeps it."""
    eks = "urn:pulumi:prod::aidc::aws:eks/cluster:Cluster::eks"
    nodes = "urn:pulumi:prod::aidc::aws:eks/nodeGroup:NodeGroup::system"
    claim = "urn:pulumi:prod::aidc::kubernetes:core/v1:PersistentVolumeClaim::claim"

    def plan(eks_name: str, instance: str) -> Plan:
        return Plan((Resource(eks, "aws:eks/cluster:Cluster", {"name": eks_name}),
                     Resource(nodes, "aws:eks/nodeGroup:NodeGroup", {"instanceTypes": [instance]}),
                     Resource(K8S, "pulumi:providers:kubernetes", {"kubeconfig": SECRET}, dependencies=(eks, nodes),
                              property_dependencies={"kubeconfig": (eks,)}),
                     Resource(claim, "kubernetes:core/v1:PersistentVolumeClaim", {"spec": {}}, provider=f"{K8S}::2")),
                    {}, {})

    ops = {r.name: r.op for r in compare_plans(plan("a", "m7i.2xlarge"), plan("a", "m7i.4xlarge"))}
    assert ops == {"eks": "same", "system": "replace", "k8s": "same", "claim": "same"}
    ops = {r.name: r.op for r in compare_plans(plan("a", "m7i.2xlarge"), plan("b", "m7i.2xlarge"))}
    assert ops == {"eks": "replace", "system": "same", "k8s": "replace", "claim": "replace"}


def test_plans_record_where_each_input_comes_from():
    """The offline engine keeps Pulumi's propertyDependencies: the diff reads them to know
    which replacement reaches which property."""
    plan = planned(BASE_STACK).plan
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    (eks,) = plan.of_type("aws:eks/cluster:Cluster")
    assert provider.property_dependencies == {"kubeconfig": (eks.urn,)}
    (lustre,) = plan.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")
    assert {"subnetIds", "securityGroupIds", "kmsKeyId"} <= set(lustre.property_dependencies)
