"""The EKS control plane per environment, and the existing-cluster mode."""

import json

import pytest

from components.catalog import catalog
from components.cluster.resources import CORE_ADDONS
from tests.conftest import only

EKS = "aws:eks/cluster:Cluster"


def eks(plan):
    return only(plan.of_type(EKS))


@pytest.mark.parametrize("stack,public", [("dev", True), ("staging", False), ("prod", False)])
def test_endpoint_access_per_environment(plan_of, stack, public):
    vpc = eks(plan_of(stack)).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is public
    if public:
        assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    else:
        assert "publicAccessCidrs" not in vpc


def test_control_plane_logs_and_envelope_encryption(plan_of):
    plan = plan_of("prod")
    cluster = eks(plan)
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    key = only(plan.of_type("aws:kms/key:Key"), "-secrets")
    assert key.inputs["enableKeyRotation"] is True
    enc = cluster.inputs["encryptionConfig"]
    assert enc["resources"] == ["secrets"]
    assert enc["provider"]["keyArn"].startswith("arn:aws:kms:us-east-1:")
    assert key.urn in cluster.dependencies
    assert cluster.inputs["version"] == catalog().recipe.default_kubernetes_version


def test_cluster_sits_in_private_subnets_only(plan_of):
    plan = plan_of("prod")
    subnet_ids = set(eks(plan).inputs["vpcConfig"]["subnetIds"])
    assert len(subnet_ids) == 3
    assert all(s.startswith("subnet-") for s in subnet_ids)


def test_addons_are_pinned_from_the_catalog(plan_of):
    plan = plan_of("prod")
    pinned = catalog().recipe.kubernetes_versions[catalog().recipe.default_kubernetes_version].addons
    addons = {r.inputs["addonName"]: r.inputs for r in plan.of_type("aws:eks/addon:Addon")}
    for name in CORE_ADDONS:
        assert addons[name]["addonVersion"] == pinned[name].version
    # controllers that call AWS get their own Pod Identity role, not the node's
    assert addons["vpc-cni"]["podIdentityAssociations"][0]["serviceAccount"] == "aws-node"
    assert addons["aws-ebs-csi-driver"]["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"


def test_prod_protects_the_cluster_and_its_key(plan_of):
    plan = plan_of("prod")
    assert eks(plan).protect and eks(plan).retain_on_delete
    assert only(plan.of_type("aws:kms/key:Key"), "-secrets").protect
    assert not eks(plan_of("dev")).protect


def test_system_nodes_use_imdsv2_and_encrypted_disks(plan_of):
    lt = only(plan_of("prod").of_type("aws:ec2/launchTemplate:LaunchTemplate"), "-system")
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    assert lt.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    ebs = lt.inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3"
    ng = only(plan_of("prod").of_type("aws:eks/nodeGroup:NodeGroup"), "-system")
    ami = catalog().recipe.amis["al2023-standard"]
    assert ng.inputs["releaseVersion"] == ami.release_versions[catalog().recipe.default_kubernetes_version]
    assert ng.inputs["scalingConfig"] == {"minSize": 3, "maxSize": 6, "desiredSize": 3}


def test_admin_access_entries(plan_of):
    plan = plan_of("prod")
    assoc = only(plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"))
    assert assoc.inputs["principalArn"] == "arn:aws:iam::123456789012:role/ml-platform-admin"
    assert assoc.inputs["policyArn"].endswith(":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")


def test_kubeconfig_is_a_secret_and_the_provider_uses_it(plan_of):
    plan = plan_of("prod")
    provider = only(plan.of_type("pulumi:providers:kubernetes"))
    assert provider.inputs["kubeconfig"] == "[secret]"


def test_existing_cluster_creates_no_aws_resources(plan_of):
    plan = plan_of("onprem")
    assert not [r for r in plan.resources if r.type.startswith("aws:") or r.type == "pulumi:providers:aws"]
    provider = only(plan.of_type("pulumi:providers:kubernetes"))
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["context"] == "dc1-gpu"


def test_kubeconfig_uses_exec_auth_not_a_stored_token():
    from components.cluster.kubeconfig import eks_kubeconfig

    cfg = json.loads(eks_kubeconfig("aidc-prod", "https://x.eks", "Q0E=", "us-east-1"))
    user = cfg["users"][0]["user"]
    assert "token" not in user
    assert user["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "aidc-prod"]
    assert cfg["clusters"][0]["cluster"]["server"] == "https://x.eks"


@pytest.mark.parametrize("stack,support,retention", [("dev", "STANDARD", 7), ("staging", "STANDARD", 30),
                                                      ("prod", "EXTENDED", 365)])
def test_support_policy_and_log_retention_per_environment(plan_of, stack, support, retention):
    plan = plan_of(stack)
    assert eks(plan).inputs["upgradePolicy"] == {"supportType": support}
    group = only(plan.of_type("aws:cloudwatch/logGroup:LogGroup"), "-control-plane")
    assert group.inputs["retentionInDays"] == retention
    assert group.inputs["name"] == f"/aws/eks/aidc-{stack}/cluster"
    # Under a customer-managed key the account controls (rotated).
    key = only(plan.of_type("aws:kms/key:Key"), "-control-plane-logs")
    assert key.inputs["enableKeyRotation"] is True and key.urn in group.dependencies
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")


def test_vpc_cni_enforces_network_policies(plan_of):
    # The team namespaces' default-deny NetworkPolicies only act when the CNI enforces them.
    cni = only([r for r in plan_of("prod").of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"])
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
