"""SharedStorage: FSx for Lustre sized from the stack's requirement, S3 buckets for
datasets, checkpoints and models, the CSI drivers, and the claims namespaces mount.
On an existing cluster (or with existing storage) only the Kubernetes volumes are made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import kube
from components.common import child, key_policy, stateful, tags_for
from components.formulas.lustre import LustreSize
from components.identity import service_account_role
from components.vocabulary import BUCKET_TAG

from . import documents, volumes
from .figures import planned_size

if TYPE_CHECKING:
    from components.cluster.resources import Cluster
    from components.spec import Spec
    from components.spec.storage import BucketSpec, LustreSpec


FSX_CSI_ADDON = "aws-fsx-csi-driver"
S3_CSI_ADDON = "aws-mountpoint-s3-csi-driver"
S3_CSI_SERVICE_ACCOUNT = ("kube-system", "s3-csi-driver-sa")  # the add-on's node service account
IMPORT_EXPORT_EVENTS = ["NEW", "CHANGED", "DELETED"]


class SharedStorage(pulumi.ComponentResource):
    """Outputs: `size` (LustreSize: capacity, tier, GB/s, checkpoint write time), `buckets`
    (kind -> aws.s3.Bucket), `file_system`, `claims` (namespace -> claim names)."""

    def __init__(self, name: str, spec: "Spec", cluster: "Cluster", *, tags: Mapping[str, str] | None = None,
                 vpc_id: pulumi.Input[str] | None = None, vpc_cidr: str | None = None,
                 subnet_id: pulumi.Input[str] | None = None,
                 k8s_provider: k8s.Provider | None = None,
                 namespaces: Mapping[str, k8s.core.v1.Namespace] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:storage:SharedStorage", name, None, opts)
        st = spec.storage
        if st is None:
            raise ValueError("SharedStorage needs aidc:storage")
        self.spec = spec
        self.tags = dict(tags or {})
        self.size: LustreSize | None = None
        self.file_system: aws.fsx.LustreFileSystem | None = None
        self.buckets: dict[str, aws.s3.Bucket] = {}
        self.claims: dict[str, list[str]] = {}
        k8s_opts = pulumi.ResourceOptions(parent=self, providers={"kubernetes": k8s_provider or cluster.provider})
        self._namespaces = dict(namespaces or {})
        self._k8s_opts = k8s_opts
        outputs: dict[str, pulumi.Input] = {}

        if st.existing is not None:
            if not cluster.existing and st.existing.lustre is not None and st.existing.lustre.host_path is None:
                cluster.addon(f"{name}-fsx-csi", FSX_CSI_ADDON, self.tags, self)
            self._existing_claims(name)
            self.register_outputs({"claims": self.claims})
            return

        if cluster.existing:
            raise ValueError("aidc:storage.existing is required with an existing cluster")
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self)).partition
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        region = spec.region or ""
        for kind, bucket_spec in st.buckets.items():
            self.buckets[kind] = self._bucket(name, kind, bucket_spec)

        if st.lustre is not None:
            if vpc_id is None or vpc_cidr is None or subnet_id is None:
                raise ValueError("Lustre needs the VPC (vpc_id, vpc_cidr) and the training pool's subnet")
            self.size = planned_size(spec)
            self.file_system = self._lustre(name, st.lustre, self.size, vpc_id, vpc_cidr, subnet_id)
            outputs.update({"fileSystemId": self.file_system.id, "dnsName": self.file_system.dns_name,
                            "mountName": self.file_system.mount_name, "capacityGiB": self.size.capacity_gib,
                            "throughputPerTiB": self.size.tier_mbps_per_tib, "throughputGBps": round(self.size.throughput_gbps, 3),
                            "checkpointWriteSeconds": None if self.size.write_seconds is None
                            else round(self.size.write_seconds, 1)})

        linked = self._linked_buckets(st.lustre)
        fs_id = self.file_system.id if self.file_system is not None else None
        key_policy = pulumi.Output.all(partition, account, fs_id, *[b.arn for _, b in linked]).apply(
            lambda a: documents.bucket_key_policy(a[0], a[1], region, a[2], a[3:]))
        self.bucket_key = aws.kms.Key(
            f"{name}-buckets", description=f"SSE-KMS of the {name} datasets, checkpoints and models buckets",
            enable_key_rotation=True, deletion_window_in_days=30, policy=key_policy,
            tags=tags_for(self.tags, f"{name}-buckets"), opts=stateful(self, spec.protect))
        aws.kms.Alias(f"{name}-buckets", name=f"alias/{name}-buckets", target_key_id=self.bucket_key.key_id,
                      opts=child(self))
        encryption = {kind: self._bucket_settings(name, kind, bucket, st) for kind, bucket in self.buckets.items()}
        self.access_logs = self._access_logs(name, st, account)

        if self.file_system is not None:
            for (kind, path), (_, bucket) in zip(self._dra_paths(st.lustre), linked, strict=True):
                export_only = kind == "checkpoints"
                s3 = {"auto_export_policy": {"events": IMPORT_EXPORT_EVENTS}}
                if not export_only:
                    s3["auto_import_policy"] = {"events": IMPORT_EXPORT_EVENTS}
                aws.fsx.DataRepositoryAssociation(
                    f"{name}-{kind}", file_system_id=self.file_system.id, file_system_path=path,
                    data_repository_path=pulumi.Output.concat("s3://", bucket.bucket, "/"),
                    batch_import_meta_data_on_create=not export_only, delete_data_in_filesystem=False, s3=s3,
                    tags=tags_for(self.tags, f"{name}-{kind}"),
                    opts=child(self, depends_on=[self.bucket_key, encryption[kind]]))
            cluster.addon(f"{name}-fsx-csi", FSX_CSI_ADDON, self.tags, self)
            for ns in st.namespaces:
                self._apply(ns, volumes.lustre_volumes(name, ns, self.size.capacity_gib, self.file_system.id,
                                                       self.file_system.dns_name, self.file_system.mount_name))

        if st.model_namespaces:
            models = self.buckets["models"]
            sa_ns, sa = S3_CSI_SERVICE_ACCOUNT
            role = service_account_role(
                f"{name}-mountpoint", cluster_name=cluster.eks.name, namespace=sa_ns, service_account=sa,
                tags=self.tags, parent=self, associate=False,
                inline_policy=pulumi.Output.all(models.arn, self.bucket_key.arn).apply(
                    lambda a: documents.read_only_bucket_policy(a[0], a[1])))
            cluster.addon(f"{name}-mountpoint", S3_CSI_ADDON, self.tags, self, role_arn=role.arn, service_account=sa)
            for ns in st.model_namespaces:
                self._apply(ns, volumes.models_volumes(name, ns, models.bucket, region))

        outputs.update({f"{kind}Bucket": b.bucket for kind, b in self.buckets.items()})
        outputs["claims"] = self.claims
        self.register_outputs(outputs)

    # -- S3 ---------------------------------------------------------------------------------
    def _bucket(self, name: str, kind: str, bs: "BucketSpec") -> aws.s3.Bucket:
        # Never force_destroy: deleting a bucket that still holds objects must fail.
        return aws.s3.Bucket(f"{name}-{kind}", bucket=bs.name, force_destroy=False,
                             tags={**tags_for(self.tags, f"{name}-{kind}"), BUCKET_TAG: kind},
                             opts=stateful(self, self.spec.protect))

    def _bucket_settings(self, name: str, kind: str, bucket: aws.s3.Bucket, st) -> pulumi.Resource:
        rn = f"{name}-{kind}"
        aws.s3.BucketOwnershipControls(rn, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
                                       opts=child(self))
        block = aws.s3.BucketPublicAccessBlock(rn, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                               ignore_public_acls=True, restrict_public_buckets=True, opts=child(self))
        aws.s3.BucketPolicy(rn, bucket=bucket.id, policy=bucket.arn.apply(documents.tls_only_bucket_policy),
                            opts=child(self, depends_on=[block]))
        aws.s3.BucketVersioning(rn, bucket=bucket.id, versioning_configuration={"status": "Enabled"},
                                opts=child(self))
        rules = [{"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {"prefix": ""},
                  "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}]
        if kind == "checkpoints":
            rules.append({"id": "expire-old-checkpoint-versions", "status": "Enabled", "filter": {"prefix": ""},
                          "noncurrent_version_expiration": {
                              "noncurrent_days": st.buckets.checkpoints.noncurrent_version_expiry_days}})
        aws.s3.BucketLifecycleConfiguration(rn, bucket=bucket.id, rules=rules, opts=child(self))
        return aws.s3.BucketServerSideEncryptionConfiguration(
            rn, bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                "kms_master_key_id": self.bucket_key.arn},
                    "bucket_key_enabled": True}],
            opts=child(self))

    def _access_logs(self, name: str, st, account: pulumi.Output[str]) -> aws.s3.Bucket:
        """Who read or wrote which object: S3 server access logs of the data buckets into a
        bucket of their own, locked down like them, kept `accessLogRetentionDays`.

        Server access logs, not CloudTrail data events: no charge per request (a training job
        reads millions of dataset shards; data events are billed per 100,000), and no trail to
        run. They name the requester's IAM principal and the object key, which is what "who
        read the weights" needs; delivery is best effort, which an organization trail with
        data events can complement where it exists. SSE-S3 on this bucket: log delivery
        writes with it without being granted a KMS key."""
        rn = f"{name}-access-logs"
        logs = aws.s3.Bucket(rn, force_destroy=False, tags={**tags_for(self.tags, rn), "aidc.io/bucket": "access-logs"},
                             opts=stateful(self, self.spec.protect))
        aws.s3.BucketOwnershipControls(rn, bucket=logs.id, rule={"object_ownership": "BucketOwnerEnforced"},
                                       opts=child(self))
        block = aws.s3.BucketPublicAccessBlock(rn, bucket=logs.id, block_public_acls=True, block_public_policy=True,
                                               ignore_public_acls=True, restrict_public_buckets=True, opts=child(self))
        sources = [b.arn for b in self.buckets.values()]
        policy = aws.s3.BucketPolicy(rn, bucket=logs.id, opts=child(self, depends_on=[block]), policy=pulumi.Output.all(
            logs.arn, account, *sources).apply(lambda a: documents.access_log_bucket_policy(a[0], a[1], a[2:])))
        aws.s3.BucketVersioning(rn, bucket=logs.id, versioning_configuration={"status": "Enabled"}, opts=child(self))
        days = st.access_log_retention_days
        aws.s3.BucketLifecycleConfiguration(rn, bucket=logs.id, opts=child(self), rules=[
            {"id": "expire-access-logs", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": days},
             "noncurrent_version_expiration": {"noncurrent_days": 1},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}])
        aws.s3.BucketServerSideEncryptionConfiguration(
            rn, bucket=logs.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child(self))
        for kind, bucket in self.buckets.items():
            aws.s3.BucketLogging(f"{name}-{kind}", bucket=bucket.id, target_bucket=logs.id, target_prefix=f"{kind}/",
                                 opts=child(self, depends_on=[policy]))
        return logs

    def _dra_paths(self, ls: "LustreSpec | None") -> list[tuple[str, str]]:
        if ls is None:
            return []
        paths = [("datasets", ls.datasets_path)]
        if ls.checkpoints_path is not None:
            paths.append(("checkpoints", ls.checkpoints_path))
        return paths

    def _linked_buckets(self, ls: "LustreSpec | None") -> list[tuple[str, aws.s3.Bucket]]:
        return [(kind, self.buckets[kind]) for kind, _ in self._dra_paths(ls)]

    # -- FSx for Lustre ---------------------------------------------------------------------
    def _lustre(self, name: str, ls: "LustreSpec", size: LustreSize, vpc_id: pulumi.Input[str], vpc_cidr: str,
                subnet_id: pulumi.Input[str]) -> aws.fsx.LustreFileSystem:
        protect = self.spec.protect
        part = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self)).partition
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        self.lustre_key = aws.kms.Key(
            f"{name}-lustre", description=f"Encryption at rest of the {name} Lustre file system and its backups",
            enable_key_rotation=True, deletion_window_in_days=30, policy=key_policy(part, account),
            tags=tags_for(self.tags, f"{name}-lustre"),
            opts=stateful(self, protect))
        aws.kms.Alias(f"{name}-lustre", name=f"alias/{name}-lustre", target_key_id=self.lustre_key.key_id,
                      opts=child(self))
        ingress, egress = documents.lustre_security_rules(vpc_cidr)
        sg = aws.ec2.SecurityGroup(f"{name}-lustre", vpc_id=vpc_id, description="Lustre traffic within the VPC",
                                   ingress=ingress, egress=egress, tags=tags_for(self.tags, f"{name}-lustre"),
                                   opts=child(self))
        backups = ls.backup_retention_days
        metadata = ({"mode": "AUTOMATIC"} if ls.metadata_iops is None
                    else {"mode": "USER_PROVISIONED", "iops": ls.metadata_iops})
        return aws.fsx.LustreFileSystem(
            f"{name}-lustre", deployment_type="PERSISTENT_2", storage_type="SSD",
            storage_capacity=size.capacity_gib, per_unit_storage_throughput=size.tier_mbps_per_tib,
            subnet_ids=subnet_id, security_group_ids=[sg.id], kms_key_id=self.lustre_key.arn,
            data_compression_type="LZ4", file_system_type_version="2.15", metadata_configuration=metadata,
            automatic_backup_retention_days=backups,
            daily_automatic_backup_start_time=ls.backup_start_time if backups else None,
            copy_tags_to_backups=True,
            # A last backup when the file system is deleted, wherever backups are kept.
            skip_final_backup=not (backups or protect),
            log_configuration={"level": "WARN_ERROR"},
            tags=tags_for(self.tags, f"{name}-lustre"), opts=stateful(self, protect))

    # -- Kubernetes -------------------------------------------------------------------------
    def _namespace(self, ns: str) -> k8s.core.v1.Namespace:
        if ns not in self._namespaces:
            self._namespaces[ns] = kube.namespace(ns, self._k8s_opts)
        return self._namespaces[ns]

    def _apply(self, ns: str, objs: list[dict]) -> None:
        opts = pulumi.ResourceOptions.merge(self._k8s_opts, pulumi.ResourceOptions(depends_on=[self._namespace(ns)]))
        protect = self.spec.protect
        for obj in objs:
            # A volume is how pods reach the data: protected with what it points at.
            held = pulumi.ResourceOptions(protect=protect, retain_on_delete=protect) \
                if obj["kind"] == "PersistentVolume" else None
            kube.apply_object(obj, pulumi.ResourceOptions.merge(opts, held))
        self.claims.setdefault(ns, []).extend(o["metadata"]["name"] for o in objs
                                              if o["kind"] == "PersistentVolumeClaim")

    def _existing_claims(self, name: str) -> None:
        st = self.spec.storage
        assert st is not None and st.existing is not None
        ex = st.existing
        for ns in st.namespaces:
            self._apply(ns, volumes.existing_volumes(
                name, ns, request_gib=ex.request_gib, storage_class=ex.storage_class,
                nfs=(ex.nfs.server, ex.nfs.path) if ex.nfs else None,
                lustre=(ex.lustre.dns_name, ex.lustre.mount_name) if ex.lustre else None,
                host_path=ex.lustre.host_path if ex.lustre else None))
