"""Karpenter NodePool and EC2NodeClass for a spot pool and a reserved pool; the controller's
IAM policy and interruption events."""

import json

from components.catalog import catalog
from components.gpu_pool.karpenter import ec2_node_class, node_pool
from components.karpenter.policy import (
    INTERRUPTION_EVENTS,
    chart_values,
    controller_policy,
    event_pattern,
    queue_policy,
)
from components.spec import GpuPoolSpec
from components.spec.pools import resolve_pool

CAT = catalog()
K8S = CAT.recipe.default_kubernetes_version
CR = "cr-0123456789abcdef0"

# Fields the CRDs require (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass).
NODEPOOL_REQUIRED = [("spec", "template", "spec", "nodeClassRef", "name"), ("spec", "template", "spec", "requirements")]
NODECLASS_REQUIRED = [("spec", "amiSelectorTerms"), ("spec", "subnetSelectorTerms"),
                      ("spec", "securityGroupSelectorTerms"), ("spec", "role")]


def dig(obj, path):
    for key in path:
        obj = obj[key]
    return obj


def objects(spec: GpuPoolSpec, zone=None):
    pool = resolve_pool(spec, CAT)
    nc = ec2_node_class(pool, CAT, K8S, role="aidc-prod-node", subnet_ids=["subnet-1"],
                        security_group_ids=["sg-cluster", "sg-efa"], tags={"team": "ml"})
    np = node_pool(pool, zone)
    for path in NODEPOOL_REQUIRED:
        assert dig(np, path)
    for path in NODECLASS_REQUIRED:
        assert dig(nc, path)
    assert np["spec"]["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                                              "name": nc["metadata"]["name"]}
    return np, nc


def requirement(np, key):
    return next(r["values"] for r in np["spec"]["template"]["spec"]["requirements"] if r["key"] == key)


def test_spot_inference_pool():
    pool = GpuPoolSpec.model_validate({"name": "infer-l4", "instanceType": "g6.xlarge", "provisioner": "karpenter",
                                       "capacity": {"type": "spot"}, "size": {"max": 3}, "purpose": "inference"})
    np, nc = objects(pool)
    assert np["apiVersion"] == "karpenter.sh/v1" and nc["apiVersion"] == "karpenter.k8s.aws/v1"
    assert requirement(np, "karpenter.sh/capacity-type") == ["spot"]
    assert requirement(np, "node.kubernetes.io/instance-type") == ["g6.xlarge"]
    assert np["spec"]["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert np["spec"]["limits"] == {"nvidia.com/gpu": "3"}
    assert np["spec"]["template"]["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true",
                                                         "effect": "NoSchedule"}]
    assert "annotations" not in np["spec"]["template"]["metadata"]
    assert "capacityReservationSelectorTerms" not in nc["spec"]
    ami = CAT.recipe.amis["al2023-nvidia"]
    assert nc["spec"]["amiSelectorTerms"] == [{"alias": f"al2023@v{ami.release_versions[K8S].rsplit('-', 1)[-1]}"}]
    assert nc["spec"]["metadataOptions"]["httpTokens"] == "required"
    assert nc["spec"]["blockDeviceMappings"][0]["ebs"]["encrypted"] is True
    assert nc["spec"]["instanceStorePolicy"] == "RAID0"  # g6.xlarge has local NVMe


def test_reserved_training_pool():
    pool = GpuPoolSpec.model_validate({"name": "train-h100", "instanceType": "p5.48xlarge", "efa": True,
                                       "provisioner": "karpenter", "size": {"max": 4},
                                       "capacity": {"type": "reservation", "reservationId": CR},
                                       "availabilityZone": "us-east-1a"})
    np, nc = objects(pool, zone="us-east-1a")
    assert requirement(np, "karpenter.sh/capacity-type") == ["reserved"]
    assert requirement(np, "topology.kubernetes.io/zone") == ["us-east-1a"]
    assert nc["spec"]["capacityReservationSelectorTerms"] == [{"id": CR}]
    disruption = np["spec"]["disruption"]
    assert disruption["consolidationPolicy"] == "WhenEmpty"
    assert {"nodes": "0", "reasons": ["Drifted", "Underutilized"]} in disruption["budgets"]
    assert np["spec"]["template"]["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    assert np["spec"]["limits"] == {"nvidia.com/gpu": "32"}
    assert np["spec"]["template"]["metadata"]["labels"]["aidc.io/efa"] == "true"
    assert nc["spec"]["securityGroupSelectorTerms"] == [{"id": "sg-cluster"}, {"id": "sg-efa"}]


def test_controller_policy_and_events():
    doc = json.loads(controller_policy(partition="aws", region="us-east-1", account="123456789012",
                                       cluster_name="aidc-prod", cluster_arn="arn:aws:eks:us-east-1:1:cluster/aidc-prod",
                                       queue_arn="arn:aws:sqs:us-east-1:1:q", node_role_arn="arn:aws:iam::1:role/n"))
    sids = {s["Sid"]: s for s in doc["Statement"]}
    assert sids["PassNodeRole"]["Resource"] == "arn:aws:iam::1:role/n"
    assert sids["DeleteOwned"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/aidc-prod": "owned"}
    assert "ec2:DescribeCapacityReservations" in sids["ReadRegion"]["Action"]
    assert sids["InterruptionQueue"]["Resource"] == "arn:aws:sqs:us-east-1:1:q"
    assert all(s["Effect"] == "Allow" for s in doc["Statement"])
    assert not any(s.get("Action") == "*" for s in doc["Statement"])
    assert json.loads(event_pattern("spot-interruption"))["detail-type"] == ["EC2 Spot Instance Interruption Warning"]
    assert len(INTERRUPTION_EVENTS) == 4
    qp = json.loads(queue_policy("arn:q"))
    assert qp["Statement"][1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    values = chart_values(cluster_name="aidc-prod", queue_name="q", reserved_capacity=True)
    assert values["settings"] == {"clusterName": "aidc-prod", "interruptionQueue": "q",
                                  "featureGates": {"reservedCapacity": True, "nodeRepair": True}}
    assert values["nodeSelector"] == {"aidc.io/pool": "system"}
