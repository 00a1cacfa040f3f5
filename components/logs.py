"""CloudWatch log groups encrypted with a customer-managed KMS key (CIS AWS 3.x: log data
under a key the account controls, rotated yearly). Each room that owns a log group makes it
through `encrypted_log_group`, so the key and its policy are written once."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.common import account_administers_key, child, stateful, tags_for


def logs_key_policy(partition: str, account: str, region: str) -> str:
    """The account administers the key through IAM; CloudWatch Logs of this region may use it
    only for log groups of this account and region (the encryption context names the group).
    AWS CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS", step 2."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        account_administers_key(partition, account),
        {"Sid": "CloudWatchLogsOfThisAccount", "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
         "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                   f"arn:{partition}:logs:{region}:{account}:log-group:*"}}},
    ]}, sort_keys=True)


def encrypted_log_group(name: str, *, retention_days: int, region: str, tags: Mapping[str, str],
                        parent: pulumi.Resource, protect: bool, log_group_name: str | None = None,
                        depends_on: list[pulumi.Resource] | None = None) -> aws.cloudwatch.LogGroup:
    """A log group `name` (physical name `log_group_name` when the writer fixes it, as EKS
    does) keeping `retention_days`, encrypted with its own key `{name}-logs`."""
    part = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=parent)).partition
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=parent)).account_id
    key = aws.kms.Key(f"{name}-logs", description=f"Encryption of the {name} CloudWatch log group",
                      enable_key_rotation=True, deletion_window_in_days=30,
                      policy=pulumi.Output.all(part, account).apply(lambda a: logs_key_policy(a[0], a[1], region)),
                      tags=tags_for(tags, f"{name}-logs"), opts=stateful(parent, protect))
    aws.kms.Alias(f"{name}-logs", name=f"alias/{name}-logs", target_key_id=key.key_id, opts=child(parent))
    return aws.cloudwatch.LogGroup(name, name=log_group_name, retention_in_days=retention_days, kms_key_id=key.arn,
                                   tags=tags_for(tags, name), opts=child(parent, depends_on=[key, *(depends_on or [])]))
