"""Karpenter: the controller that launches elastic GPU nodes. Pinned chart, its own IAM role
through Pod Identity, and an SQS queue fed by EventBridge so it drains nodes AWS is about to
take back (spot reclaim, scheduled maintenance) before they vanish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.catalog import catalog
from components.common import child, tags_for
from components.identity import service_account_role
from components.kube import helm_release, namespace

from .policy import INTERRUPTION_EVENTS, NAMESPACE_SA, chart_values, controller_policy, event_pattern, queue_policy

if TYPE_CHECKING:
    from components.cluster.resources import Cluster

__all__ = ["Karpenter", "chart_values", "controller_policy"]


class Karpenter(pulumi.ComponentResource):
    """`opts` must carry the AWS and the Kubernetes providers."""

    release: pulumi.Resource

    def __init__(self, name: str, cluster: "Cluster", *, region: str, tags: Mapping[str, str],
                 reserved_capacity: bool, reserved_enis: int = 0, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:karpenter:Karpenter", name, None, opts)
        tags = dict(tags)
        ident = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self)).partition

        self.queue = aws.sqs.Queue(f"{name}-interruption", name=f"{name}-interruption",
                                   message_retention_seconds=300, sqs_managed_sse_enabled=True,
                                   tags=tags_for(tags, f"{name}-interruption"), opts=child(self))
        aws.sqs.QueuePolicy(f"{name}-interruption", queue_url=self.queue.url,
                            policy=self.queue.arn.apply(queue_policy), opts=child(self))
        for key in INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(f"{name}-{key}", event_pattern=event_pattern(key),
                                            description=f"Karpenter interruption: {key}",
                                            tags=tags_for(tags, f"{name}-{key}"), opts=child(self))
            aws.cloudwatch.EventTarget(f"{name}-{key}", rule=rule.name, arn=self.queue.arn,
                                       target_id="karpenter-interruption-queue", opts=child(self))

        policy = pulumi.Output.all(partition, ident.account_id, cluster.eks.name, cluster.eks.arn, self.queue.arn,
                                   cluster.node_role.arn).apply(lambda a: controller_policy(
                                       partition=a[0], region=region, account=a[1], cluster_name=a[2],
                                       cluster_arn=a[3], queue_arn=a[4], node_role_arn=a[5]))
        chart = catalog().chart("karpenter")
        ns_name, sa = chart.namespace, NAMESPACE_SA[1]
        self.role = service_account_role(f"{name}-controller", cluster_name=cluster.eks.name, namespace=ns_name,
                                         service_account=sa, tags=tags, parent=self, inline_policy=policy)
        ns = namespace(chart.namespace, child(self), privileged=chart.privileged)
        self.release = helm_release(
            "karpenter", "karpenter",
            chart_values(cluster_name=cluster.eks.name, queue_name=self.queue.name,
                         reserved_capacity=reserved_capacity, reserved_enis=reserved_enis),
            child(self), namespace_resource=ns, depends_on=[self.role, cluster.node_access])
        self.register_outputs({"queueUrl": self.queue.url, "roleArn": self.role.arn})
