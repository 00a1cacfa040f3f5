"""Policy documents of the storage component, as pure functions of ARNs (plain strings),
so tests read exactly what AWS will be given."""

from __future__ import annotations

import json
from collections.abc import Sequence

FSX_S3_ROLE_PATH = "aws-service-role/s3.data-source.lustre.fsx.amazonaws.com"
# Lustre network traffic (FSx for Lustre user guide, file system access control with VPC).
LUSTRE_PORTS: tuple[tuple[int, int], ...] = ((988, 988), (1018, 1023))


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def objects(bucket_arn: str) -> str:
    return f"{bucket_arn}/*"


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Refuse every request to the bucket or its objects that does not arrive over TLS."""
    return _doc({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [bucket_arn, objects(bucket_arn)],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def access_log_bucket_policy(log_bucket_arn: str, account: str, source_bucket_arns: Sequence[str]) -> str:
    """The access-log bucket: S3's log delivery may put objects, only for this account's
    named source buckets (confused-deputy conditions), and nothing reaches it without TLS.
    S3 user guide, "Enabling Amazon S3 server access logging", permissions for log delivery
    (bucket policy, not ACLs: the bucket enforces BucketOwnerEnforced)."""
    return _doc(
        {"Sid": "S3ServerAccessLogsDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": objects(log_bucket_arn),
         "Condition": {"ArnLike": {"aws:SourceArn": sorted(source_bucket_arns)},
                       "StringEquals": {"aws:SourceAccount": account}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [log_bucket_arn, objects(log_bucket_arn)], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def read_only_bucket_policy(bucket_arn: str, key_arn: str) -> str:
    """What Mountpoint needs to mount one bucket read-only: list it, get its objects, and
    decrypt them with the bucket's key. Nothing else, no other bucket."""
    return _doc(
        {"Sid": "ListBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [objects(bucket_arn)]},
        {"Sid": "DecryptObjects", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]},
    )


def fsx_s3_role_arn(partition: str, account: str, file_system_id: str) -> str:
    """The service-linked role FSx creates per file system to reach its linked buckets."""
    return f"arn:{partition}:iam::{account}:role/{FSX_S3_ROLE_PATH}/AWSServiceRoleForFSxS3Access_{file_system_id}"


def bucket_key_policy(partition: str, account: str, region: str, file_system_id: str | None,
                      linked_bucket_arns: Sequence[str]) -> str:
    """Key policy of the buckets' KMS key: the account administers it through IAM (the
    default), and, when a file system is linked, that file system's FSx role may use it only
    through S3 in this region, only for the linked buckets (FSx user guide: SSE-KMS buckets)."""
    statements: list[dict] = [{
        "Sid": "AccountAdministersThroughIam", "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]
    if file_system_id is not None and linked_bucket_arns:
        statements.append({
            "Sid": "FsxDataRepositoryThroughS3", "Effect": "Allow",
            # The role exists only once FSx links the bucket, so it is named in a condition,
            # which (unlike a principal) may name a role that does not exist yet.
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalArn": fsx_s3_role_arn(partition, account, file_system_id),
                                 "kms:CallerAccount": account, "kms:ViaService": f"s3.{region}.amazonaws.com"},
                # With S3 Bucket Keys the context is the bucket ARN, without them the object ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn":
                               [a for arn in linked_bucket_arns for a in (arn, objects(arn))]},
            }})
    return _doc(*statements)


def lustre_security_rules(vpc_cidr: str) -> tuple[list[dict], list[dict]]:
    """(ingress, egress) of the file system's security group: Lustre ports from and to the
    VPC and between the file system's own interfaces."""
    ingress, egress = [], []
    for lo, hi in LUSTRE_PORTS:
        ingress.append({"protocol": "tcp", "from_port": lo, "to_port": hi, "cidr_blocks": [vpc_cidr],
                        "description": f"Lustre {lo}-{hi} from the VPC"})
        ingress.append({"protocol": "tcp", "from_port": lo, "to_port": hi, "self": True,
                        "description": f"Lustre {lo}-{hi} between file servers"})
        egress.append({"protocol": "tcp", "from_port": lo, "to_port": hi, "cidr_blocks": [vpc_cidr],
                       "description": f"Lustre {lo}-{hi} to clients in the VPC"})
    return ingress, egress
