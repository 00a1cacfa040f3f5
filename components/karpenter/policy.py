"""Pure pieces of the Karpenter controller: its IAM policy, the EC2 events it must hear about
in time to drain a node, and its chart values."""

from __future__ import annotations

import json
from typing import Any

from components.common import policy_document

# Namespace (the chart's, from the catalog) and service account of the controller.
NAMESPACE_SA = ("karpenter", "karpenter")

# EventBridge patterns routed to the interruption queue: Karpenter drains and replaces a node
# when AWS announces it will go (spot reclaim, health maintenance) before it actually goes.
INTERRUPTION_EVENTS: dict[str, dict[str, Any]] = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}


def event_pattern(key: str) -> str:
    return json.dumps(INTERRUPTION_EVENTS[key], sort_keys=True)


def queue_policy(queue_arn: str) -> str:
    """Only EventBridge (and SQS itself) may send; nothing over plain HTTP."""
    return policy_document(
        {"Sid": "EventsSend", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Action": "sqs:*", "Resource": queue_arn, "Principal": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    )


def controller_policy(*, partition: str, region: str, account: str, cluster_name: str, cluster_arn: str,
                      queue_arn: str, node_role_arn: str) -> str:
    """What the controller may do: launch and tag instances only with this cluster's tags,
    terminate only what it tagged, pass only the node role, read prices and AMIs."""
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    request_owned = {f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
                     "aws:RequestTag/eks:eks-cluster-name": cluster_name}
    return policy_document(
        {"Sid": "LaunchFromSharedResources", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*", f"{ec2}:*:subnet/*",
                      f"{ec2}:*:capacity-reservation/*"]},
        {"Sid": "LaunchFromOwnTemplates", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": f"{ec2}:*:launch-template/*", "Condition": {"StringEquals": owned}},
        {"Sid": "CreateOwnedResources", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
         "Resource": [f"{ec2}:*:{r}/*" for r in ("fleet", "instance", "volume", "network-interface",
                                                 "launch-template", "spot-instances-request")],
         "Condition": {"StringEquals": request_owned, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": [f"{ec2}:*:{r}/*" for r in ("fleet", "instance", "volume", "network-interface",
                                                 "launch-template", "spot-instances-request")],
         "Condition": {"StringEquals": {**request_owned,
                                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]}}},
        {"Sid": "TagOwnedNodeClaims", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": f"{ec2}:*:instance/*", "Condition": {"StringEquals": owned,
                                                          "ForAllValues:StringEquals": {"aws:TagKeys": [
                                                              "eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}},
        {"Sid": "DeleteOwned", "Effect": "Allow", "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
         "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "ReadRegion", "Effect": "Allow",
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets",
                    "ec2:DescribeAvailabilityZones", "ec2:DescribePlacementGroups"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        {"Sid": "ReadAmiParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*"},
        {"Sid": "ReadPrices", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {"Sid": "InterruptionQueue", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], "Resource": queue_arn},
        {"Sid": "PassNodeRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": node_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com"]}}},
        {"Sid": "ManageOwnInstanceProfiles", "Effect": "Allow",
         "Action": ["iam:CreateInstanceProfile", "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
         "Resource": f"arn:{partition}:iam::{account}:instance-profile/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned",
                                        "aws:ResourceTag/topology.kubernetes.io/region": region}}},
        {"Sid": "CreateInstanceProfiles", "Effect": "Allow", "Action": ["iam:CreateInstanceProfile",
                                                                         "iam:TagInstanceProfile"],
         "Resource": f"arn:{partition}:iam::{account}:instance-profile/*",
         "Condition": {"StringEquals": {f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
                                        "aws:RequestTag/topology.kubernetes.io/region": region}}},
        {"Sid": "ReadInstanceProfiles", "Effect": "Allow", "Action": ["iam:GetInstanceProfile",
                                                                       "iam:ListInstanceProfiles"],
         "Resource": f"arn:{partition}:iam::{account}:instance-profile/*"},
        {"Sid": "DiscoverApiServer", "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn},
    )


def chart_values(*, cluster_name: Any, queue_name: Any, reserved_capacity: bool,
                 reserved_enis: int = 0) -> dict[str, Any]:
    """The controller runs on the system nodes (never on a node it may remove), two replicas.
    With VPC CNI custom networking the primary interface carries no pods: `reservedENIs` keeps it
    out of Karpenter's max-pods arithmetic (chart 1.14.1 values.yaml, settings.reservedENIs).
    Node repair (alpha, off in the chart: settings.featureGates.nodeRepair in the same file)
    replaces a node whose node monitoring agent condition stays False past its toleration
    (components/gpu_pool/repair.py)."""
    settings = {"clusterName": cluster_name, "interruptionQueue": queue_name,
                "featureGates": {"reservedCapacity": reserved_capacity, "nodeRepair": True}}
    if reserved_enis:
        settings["reservedENIs"] = str(reserved_enis)
    return {
        "settings": settings,
        "serviceAccount": {"name": NAMESPACE_SA[1]},
        "replicas": 2,
        "nodeSelector": {"aidc.io/pool": "system"},
        "dnsPolicy": "Default",
        "controller": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}},
    }
