"""Workload identity: an IAM role bound to one Kubernetes service account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.common import assume_role_policy, child, tags_for

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def service_account_role(name: str, *, cluster_name: pulumi.Input[str], namespace: str, service_account: str,
                         tags: Mapping[str, str], parent: pulumi.Resource,
                         managed_policy_arns: Sequence[pulumi.Input[str]] = (),
                         inline_policy: pulumi.Input[str] | None = None, associate: bool = True) -> aws.iam.Role:
    """An IAM role that only `namespace/service_account` pods of this cluster can assume
    (EKS Pod Identity), with exactly the policies given. With `associate=False` the caller
    binds it (an EKS add-on carries its own association)."""
    role = aws.iam.Role(name, assume_role_policy=assume_role_policy(POD_IDENTITY_PRINCIPAL, tag_session=True),
                        tags=tags_for(tags, name), opts=child(parent))
    for i, arn in enumerate(managed_policy_arns):
        aws.iam.RolePolicyAttachment(f"{name}-{i}", role=role.name, policy_arn=arn, opts=child(parent))
    if inline_policy is not None:
        aws.iam.RolePolicy(name, role=role.id, policy=inline_policy, opts=child(parent))
    if associate:
        aws.eks.PodIdentityAssociation(name, cluster_name=cluster_name, namespace=namespace,
                                       service_account=service_account, role_arn=role.arn,
                                       tags=tags_for(tags, name), opts=child(parent))
    return role
