"""Small helpers every component shares: names, tags, IAM documents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class ClusterHandle:
    """What a node pool needs of the cluster it joins, as one typed bundle (the habit of
    pulumi-eks' CoreData): the Cluster component builds it, node pools read it, and rooms never
    reach into each other's resources for these names."""

    name: pulumi.Input[str]
    kubernetes_version: str
    node_role_arn: pulumi.Input[str]
    node_role_name: pulumi.Input[str]
    security_group_id: pulumi.Input[str]  # the cluster security group every node joins
    ready: tuple[pulumi.Resource, ...] = ()  # what a node must wait for (access entry, VPC CNI settings)


def tags_for(tags: Mapping[str, str], name: str) -> dict[str, str]:
    """The stack's tags plus a Name, for one AWS resource."""
    return {**tags, "Name": name}


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def stateful(parent: pulumi.Resource, protect: bool, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected and kept on delete when asked."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect, **kwargs)


def assume_role_policy(service: str, *, tag_session: bool = False) -> str:
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
    })


def account_administers_key(partition: str, account: str) -> dict[str, Any]:
    """The key-policy statement of a KMS key the account administers through IAM (what AWS
    puts in a key created without a policy, written out so the policy is explicit)."""
    return {"Sid": "AccountAdministersThroughIam", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def key_policy(partition: pulumi.Input[str], account: pulumi.Input[str]) -> pulumi.Output[str]:
    """A key policy with the account-administers statement only."""
    return pulumi.Output.all(partition, account).apply(
        lambda a: json.dumps({"Version": "2012-10-17", "Statement": [account_administers_key(a[0], a[1])]},
                             sort_keys=True))


def policy_document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def managed_policy(partition: str | pulumi.Output[str], name: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", name)
