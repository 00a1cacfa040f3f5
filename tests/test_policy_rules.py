"""Each rule: a compliant baseline passes, and changing one field gives exactly the
violation. Rules run through their CrossGuard policy objects with proxied props."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from components.catalog import catalog
from policies.rule import all_rules
from policies.rules.cost_allocation_tags import taggable_types
from policies.rules.privileged_pods_exempt_namespaces import exempt_namespaces

from .policy_helpers import DELETE, changed, validate, validate_stack

TAGS = {"environment": "prod", "team": "ml-platform", "costCenter": "4711", "Name": "x"}
GPU = next(iter(catalog().instances))  # any catalog GPU type
CLUSTER = {"name": "c", "version": "1.33", "roleArn": "arn:aws:iam::1:role/c", "tags": TAGS,
           "vpcConfig": {"subnetIds": ["subnet-1"], "endpointPrivateAccess": True, "endpointPublicAccess": False},
           "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}, "resources": ["secrets"]},
           "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}
LT = {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
      "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 200, "encrypted": "true"}}],
      "networkInterfaces": [{"deviceIndex": 0, "interfaceType": "efa", "associatePublicIpAddress": "false"}],
      "tags": TAGS}
NODECLASS = {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "gpu"},
             "spec": {"amiSelectorTerms": [{"alias": "al2023@v20250704"}], "role": "node",
                      "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
                      "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "200Gi", "encrypted": True}}],
                      "tags": TAGS}}
NODEGROUP = {"clusterName": "c", "instanceTypes": [GPU], "capacityType": "ON_DEMAND", "tags": TAGS,
             "scalingConfig": {"minSize": 0, "maxSize": 2, "desiredSize": 0}, "labels": {"aidc.io/pool": "gpu"}}
NODEPOOL = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"},
            "spec": {"limits": {"nvidia.com/gpu": 8}, "template": {"spec": {"requirements": [
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [GPU]},
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}}}}
SG = {"vpcId": "vpc-1", "tags": TAGS, "ingress": [
    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
    {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}]}
FSX = {"deploymentType": "PERSISTENT_2", "storageCapacity": 4800, "perUnitStorageThroughput": 250,
       "kmsKeyId": "arn:aws:kms:us-east-1:1:key/k", "subnetIds": ["subnet-1"], "tags": TAGS}
POD = {"containers": [{"name": "train", "image": "nvcr.io/nvidia/pytorch:25.06-py3",
                       "resources": {"requests": {"nvidia.com/gpu": 8}, "limits": {"nvidia.com/gpu": 8}}}]}
DEPLOY = {"metadata": {"name": "llm", "namespace": "inference"},
          "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "llm"}}, "spec": POD}}}
JOBSET = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": {"name": "t", "namespace": "training"},
          "spec": {"replicatedJobs": [{"name": "w", "template": {"spec": {"template": {"spec": POD}}}}]}}
SERVICE = {"metadata": {"name": "llm", "namespace": "inference",
                        "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
           "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
ROLE_POLICY = {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]})}
DEV_TYPES = {"allowedInstanceTypes": [GPU]}
TEAM_POLICY = {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::data/*"]},
    {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::ckpt/research/*"]}]})}
HUB_ENV = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "token"}}}]

# (rule, type, baseline, field, new value, config, expected words in the message)
CASES = [
    ("eks-endpoint-not-public", "aws:eks/cluster:Cluster", CLUSTER, "vpcConfig.endpointPublicAccess", True, None, "public"),
    ("eks-endpoint-not-public", "aws:eks/cluster:Cluster", changed(CLUSTER, "vpcConfig.publicAccessCidrs", ["203.0.113.0/24"]),
     "vpcConfig.endpointPublicAccess", True, None, "private endpoint only"),
    ("eks-endpoint-not-public", "aws:eks/cluster:Cluster",
     changed(changed(CLUSTER, "vpcConfig.endpointPublicAccess", True), "vpcConfig.publicAccessCidrs", ["203.0.113.0/24"]),
     "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"], {"allowPublic": True}, "whole internet"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", CLUSTER, "encryptionConfig", DELETE, None, "envelope"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", CLUSTER, "encryptionConfig.resources", [], None, "envelope"),
    ("eks-control-plane-logs", "aws:eks/cluster:Cluster", CLUSTER, "enabledClusterLogTypes", ["api"], None, "audit"),
    ("imdsv2-required", "aws:ec2/launchTemplate:LaunchTemplate", LT, "metadataOptions.httpTokens", "optional", None, "IMDSv2"),
    ("imdsv2-required", "aws:ec2/launchTemplate:LaunchTemplate", LT, "metadataOptions.httpPutResponseHopLimit", 2, None, "HopLimit 2"),
    ("imdsv2-required", "aws:ec2/launchTemplate:LaunchTemplate", LT, "metadataOptions", DELETE, None, "IMDSv1"),
    ("imdsv2-required", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", NODECLASS, "spec.metadataOptions.httpTokens",
     "optional", None, "IMDSv2"),
    ("ebs-encrypted", "aws:ec2/launchTemplate:LaunchTemplate", LT, "blockDeviceMappings.[0].ebs.encrypted", "false", None, "not encrypted"),
    ("ebs-encrypted", "aws:ec2/launchTemplate:LaunchTemplate", LT, "blockDeviceMappings", DELETE, None, "AMI"),
    ("ebs-encrypted", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", NODECLASS,
     "spec.blockDeviceMappings.[0].ebs.encrypted", False, None, "not encrypted"),
    ("ebs-encrypted", "aws:ebs/volume:Volume", {"size": 100, "encrypted": True}, "encrypted", False, None, "not encrypted"),
    ("no-public-ips-on-nodes", "aws:ec2/launchTemplate:LaunchTemplate", LT,
     "networkInterfaces.[0].associatePublicIpAddress", "true", None, "public IP"),
    ("no-public-ips-on-nodes", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", NODECLASS,
     "spec.associatePublicIPAddress", True, None, "public IPs"),
    ("no-public-ips-on-nodes", "aws:ec2/subnet:Subnet", {"vpcId": "v", "mapPublicIpOnLaunch": False},
     "mapPublicIpOnLaunch", True, None, "public IP"),
    ("no-ssh-from-anywhere", "aws:ec2/securityGroup:SecurityGroup", SG, "ingress.[1].cidrBlocks", ["0.0.0.0/0"], None, "port 22"),
    ("no-ssh-from-anywhere", "aws:ec2/securityGroup:SecurityGroup", SG, "ingress.[0].protocol", "-1", None, "port 22"),
    ("no-ssh-from-anywhere", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"},
     "cidrIpv4", "0.0.0.0/0", None, "port 22"),
    ("no-ssh-from-anywhere", "aws:eks/nodeGroup:NodeGroup", NODEGROUP, "remoteAccess", {"ec2SshKey": "k"}, None, "0.0.0.0/0"),
    ("fsx-customer-managed-key", "aws:fsx/lustreFileSystem:LustreFileSystem", FSX, "kmsKeyId", DELETE, None, "AWS-managed"),
    ("fsx-customer-managed-key", "aws:fsx/lustreFileSystem:LustreFileSystem", FSX, "deploymentType", "SCRATCH_2", None, "SCRATCH_2"),
    ("iam-no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy", ROLE_POLICY, "policy",
     ROLE_POLICY["policy"].replace("s3:PutObject", "s3:*"), None, "s3:*"),
    ("iam-no-wildcard-actions", "aws:iam/policy:Policy", ROLE_POLICY, "policy",
     ROLE_POLICY["policy"].replace('["s3:GetObject", "s3:PutObject"]', '"*"'), None, "'*'"),
    ("privileged-pods-exempt-namespaces-only", "kubernetes:apps/v1:Deployment", DEPLOY,
     "spec.template.spec.hostNetwork", True, None, "hostNetwork"),
    ("privileged-pods-exempt-namespaces-only", "kubernetes:apps/v1:Deployment", DEPLOY,
     "spec.template.spec.containers.[0].securityContext", {"privileged": True}, None, "privileged container train"),
    ("privileged-pods-exempt-namespaces-only", "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet", JOBSET,
     "spec.replicatedJobs.[0].template.spec.template.spec.volumes", [{"name": "dev", "hostPath": {"path": "/dev"}}],
     None, "hostPath"),
    ("privileged-pods-exempt-namespaces-only", "kubernetes:core/v1:Namespace",
     {"metadata": {"name": "inference", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
     "metadata.labels.pod-security.kubernetes.io/enforce", "privileged", None, "not exempted"),
    ("gpu-requests-equal-limits", "kubernetes:apps/v1:Deployment", DEPLOY,
     "spec.template.spec.containers.[0].resources.requests.nvidia.com/gpu", 4, None, "must be equal"),
    ("gpu-requests-equal-limits", "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet", JOBSET,
     "spec.replicatedJobs.[0].template.spec.template.spec.containers.[0].resources.limits", {}, None, "without a limit"),
    ("images-pinned", "kubernetes:apps/v1:Deployment", DEPLOY, "spec.template.spec.containers.[0].image",
     "nvcr.io/nvidia/pytorch:latest", None, "latest"),
    ("images-pinned", "kubernetes:apps/v1:Deployment", DEPLOY, "spec.template.spec.containers.[0].image",
     "vllm/vllm-openai", None, "no tag"),
    ("no-public-load-balancers", "kubernetes:core/v1:Service", SERVICE, "metadata.annotations", {}, None, "internet-facing"),
    ("no-public-load-balancers", "aws:lb/loadBalancer:LoadBalancer", {"internal": True, "tags": TAGS}, "internal",
     False, None, "internet-facing"),
    ("protect-stateful-resources", "aws:fsx/lustreFileSystem:LustreFileSystem", FSX, "tags.team", "ml-platform", None,
     "not protected"),  # baseline run with protect=True below; the change is protect=False
    ("gpu-instance-types-allowed", "aws:eks/nodeGroup:NodeGroup", NODEGROUP, "instanceTypes", ["p5en.48xlarge"],
     DEV_TYPES, "not allowed"),
    ("gpu-instance-types-allowed", "kubernetes:karpenter.sh/v1:NodePool", NODEPOOL,
     "spec.template.spec.requirements.[0].values", [GPU, "p4d.24xlarge"], DEV_TYPES, "p4d.24xlarge"),
    ("gpu-instance-types-allowed", "kubernetes:karpenter.sh/v1:NodePool", NODEPOOL,
     "spec.template.spec.requirements.[0].key", "karpenter.k8s.aws/instance-gpu-count", DEV_TYPES, "constrain"),
    ("dev-gpu-pools-scale-to-zero", "aws:eks/nodeGroup:NodeGroup", NODEGROUP, "scalingConfig.minSize", 1, None, "scale to zero"),
    ("cost-allocation-tags", "aws:eks/nodeGroup:NodeGroup", NODEGROUP, "tags.costCenter", DELETE, None, "costCenter"),
    ("cost-allocation-tags", "aws:kms/key:Key", {"tags": TAGS}, "tags", DELETE, None, "environment, team, costCenter"),
    ("cost-allocation-tags", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", NODECLASS, "spec.tags.team", DELETE, None, "team"),
    ("capacity-block-types-on-reservations", "aws:eks/nodeGroup:NodeGroup", changed(NODEGROUP, "capacityType", "CAPACITY_BLOCK"),
     "capacityType", "ON_DEMAND", "capacity-block-only", "Capacity Blocks"),
    ("fsx-throughput-tier-cap", "aws:fsx/lustreFileSystem:LustreFileSystem", FSX, "perUnitStorageThroughput", 500,
     {"maxThroughputPerTib": 250}, "throughput tier 500"),
    ("no-secret-env-vars", "kubernetes:apps/v1:Deployment", DEPLOY, "spec.template.spec.containers.[0].env", HUB_ENV,
     None, "env HF_TOKEN reads Secret hub"),
    ("no-secret-env-vars", "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet", JOBSET,
     "spec.replicatedJobs.[0].template.spec.template.spec.containers.[0].envFrom", [{"secretRef": {"name": "s3"}}],
     None, "envFrom loads Secret s3"),
    ("team-writes-scoped", "aws:iam/rolePolicy:RolePolicy", TEAM_POLICY, "policy",
     TEAM_POLICY["policy"].replace("ckpt/research/*", "ckpt/*"), None, "every object of bucket ckpt"),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 365, "tags": TAGS}, "retentionInDays", 90,
     {"minDays": 365}, "keeps 90 days"),
]


@pytest.fixture
def block_only_catalog(monkeypatch):
    """The rule reads capacityBlockOnly from the catalog: make the test type one."""
    cat = catalog()
    inst = cat.instances[GPU].model_copy(update={"capacity_block_only": True})
    monkeypatch.setitem(cat.instances, GPU, inst)


@pytest.mark.parametrize("rule,rtype,base,path,value,config,words", CASES,
                         ids=[f"{c[0]}:{c[3]}" for c in CASES])
def test_rule_baseline_passes_and_one_change_violates(rule, rtype, base, path, value, config, words, request):
    if config == "capacity-block-only":
        request.getfixturevalue("block_only_catalog")
        config = None
    protect_base = rule == "protect-stateful-resources"
    assert validate(rule, rtype, base, config, protect=protect_base) == [], "the baseline must be compliant"
    found = validate(rule, rtype, changed(base, path, value), config, protect=False)
    assert len(found) == 1 and words in found[0], found


def test_every_rule_has_a_case_or_a_stack_test():
    covered = {c[0] for c in CASES} | {"s3-bucket-encrypted", "s3-bucket-versioned", "s3-public-access-blocked",
                                       "s3-tls-only", "gpu-count-max", "monthly-budget",
                                       "serving-namespace-default-deny", "carbon-budget"}
    assert covered == {r.name for r in all_rules()}


def test_rule_metadata_is_complete():
    for r in all_rules():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)
        assert r.description and r.remediation and r.severity in ("low", "medium", "high", "critical")
        params = inspect.signature(r.check).parameters
        assert len(params) == (3 if r.kind == "resource" else 2), r.name


# ---------------------------------------------------------------- S3 (stack rules over a bucket and its companions)

BUCKET = ("data", "aws:s3/bucket:Bucket", {"bucket": "aidc-prod-data", "tags": TAGS}, [])
TLS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::aidc-prod-data/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
COMPANIONS = [
    ("sse", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     {"bucket": "aidc-prod-data", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                                    "kmsMasterKeyId": "k"}}]}, ["data"]),
    ("ver", "aws:s3/bucketVersioning:BucketVersioning",
     {"bucket": "aidc-prod-data", "versioningConfiguration": {"status": "Enabled"}}, ["data"]),
    ("pab", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     {"bucket": "aidc-prod-data", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
      "restrictPublicBuckets": True}, ["data"]),
    ("pol", "aws:s3/bucketPolicy:BucketPolicy", {"bucket": "aidc-prod-data", "policy": TLS}, ["data"]),
]
S3_CASES = [
    ("s3-bucket-encrypted", "sse", DELETE, "no server-side encryption"),
    ("s3-bucket-encrypted", "sse", ("rules.[0].applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"), "aws:kms"),
    ("s3-bucket-versioned", "ver", ("versioningConfiguration.status", "Suspended"), "versioning"),
    ("s3-public-access-blocked", "pab", ("restrictPublicBuckets", False), "restrictPublicBuckets"),
    ("s3-public-access-blocked", "pab", DELETE, "no BucketPublicAccessBlock"),
    ("s3-tls-only", "pol", ("policy", TLS.replace('"Deny"', '"Allow"')), "TLS"),
]


@pytest.mark.parametrize("rule,target,change,words", S3_CASES, ids=[f"{c[0]}:{c[1]}" for c in S3_CASES])
def test_s3_rules(rule, target, change, words):
    config = {"requireKms": True} if rule == "s3-bucket-encrypted" else None
    assert validate_stack(rule, [BUCKET, *COMPANIONS], config) == []
    res = []
    for name, rtype, props, deps in COMPANIONS:
        if name == target:
            if change is DELETE:
                continue
            props = changed(props, *change)
        res.append((name, rtype, props, deps))
    found = validate_stack(rule, [BUCKET, *res], config)
    assert len(found) == 1 and words in found[0][1] and found[0][0].endswith("::data"), found


# ---------------------------------------------------------------- data files checked against their sources

def test_taggable_types_match_pulumi_aws():
    """Each listed type has a `tags` input in the installed pulumi_aws, and every type in the
    shipped prod plan that has one is listed (regenerate the list with the grep in its header)."""
    import pulumi_aws

    root = Path(pulumi_aws.__file__).parent
    for token in ["aws:eks/cluster:Cluster", "aws:ec2/natGateway:NatGateway", "aws:kms/key:Key"]:
        assert token in taggable_types()
    for token in sorted(taggable_types())[:200]:
        module = token.split(":")[1].split("/")[0]
        hits = [f for f in (root / module).glob("*.py") if f"'{token}'" in f.read_text(encoding="utf-8")]
        assert hits and any('__props__.__dict__["tags"] = tags' in f.read_text(encoding="utf-8") for f in hits), token
    assert "aws:kms/alias:Alias" not in taggable_types()  # aliases take no tags


def test_exempt_namespaces_are_data_with_reasons():
    ns = exempt_namespaces()
    assert {"kube-system", "gpu-operator"} <= set(ns)
    assert all(len(reason) > 20 for reason in ns.values())
    # Every catalog chart that needs the privileged Pod Security level lands in an exempted namespace.
    for key, chart in catalog().recipe.charts.items():
        if chart.privileged:
            assert chart.namespace in ns, f"chart {key} runs privileged in {chart.namespace}, which is not exempted"


def test_unknown_values_raise_like_in_the_engine():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

    with pytest.raises(UnknownValueError):
        validate("imdsv2-required", "aws:ec2/launchTemplate:LaunchTemplate",
                 changed(LT, "metadataOptions.httpTokens", UNKNOWN_STRING_VALUE))


# ---------------------------------------------------------------- serving namespace (stack rule)

SERVER = ("llm", "kubernetes:apps/v1:Deployment",
          changed(DEPLOY, "metadata.labels", {"app.kubernetes.io/component": "model-server"}), [])
DENY = ("deny", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        {"metadata": {"name": "default-deny", "namespace": "inference"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}, [])


@pytest.mark.parametrize("path,value", [
    ("spec.podSelector", {"matchLabels": {"app": "llm"}}),  # not every pod
    ("spec.policyTypes", ["Ingress"]),  # egress left open
    ("spec.ingress", [{"from": [{"namespaceSelector": {}}]}]),  # allows everyone in
    ("metadata.namespace", "default"),  # another namespace's policy
])
def test_serving_namespace_default_deny(path, value):
    rule = "serving-namespace-default-deny"
    assert validate_stack(rule, [DENY, SERVER]) == []
    found = validate_stack(rule, [(DENY[0], DENY[1], changed(DENY[2], path, value), []), SERVER])
    assert len(found) == 1 and "no default-deny" in found[0][1] and found[0][0].endswith("::llm"), found
