"""`aidc:storage`: the shared file system (FSx for Lustre, sized from a requirement), the
S3 buckets for datasets, checkpoints and models, and the namespaces that mount them; or,
on an existing cluster, storage that is already there."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field

from components.formulas.lustre import MAX_CAPACITY_GIB, SizingError, lustre_size

from .base import ABSOLUTE_PATH, DNS_LABEL, Model, Problem, rule
from .gpu_pools import zone_index

if TYPE_CHECKING:
    from .root import Spec

# SSD metadata IOPS that FSx accepts in USER_PROVISIONED mode.
METADATA_IOPS = (1500, 3000, 6000, *range(12000, 192001, 12000))


def _namespace(v: str) -> str:
    if not re.match(DNS_LABEL, v):
        raise ValueError(f"{v!r} is not a valid namespace name: lowercase letters, digits and '-', at most 63")
    return v


NamespaceName = Annotated[str, AfterValidator(_namespace)]


class LustreSpec(Model):
    """Exactly one requirement: capacityGiB + throughputPerTiB, throughputGBps, or
    checkpointGiB + maxWriteSeconds (checkpointGiB alone may accompany the first two to
    report its write time)."""

    capacity_gib: int | None = Field(default=None, alias="capacityGiB", ge=1)
    throughput_per_tib: Literal[125, 250, 500, 1000] | None = Field(default=None, alias="throughputPerTiB")
    throughput_gbps: float | None = Field(default=None, alias="throughputGBps", gt=0, le=100_000)
    checkpoint_gib: float | None = Field(default=None, alias="checkpointGiB", gt=0)
    max_write_seconds: float | None = Field(default=None, gt=0)
    # Room the file system must have regardless of speed (datasets staged on it).
    min_capacity_gib: int = Field(default=0, alias="minCapacityGiB", ge=0)
    max_capacity_gib: int = Field(default=MAX_CAPACITY_GIB, alias="maxCapacityGiB", ge=1200)
    # Daily automatic backups kept this many days; 0 turns them off (defaults per environment).
    backup_retention_days: int = Field(default=0, ge=0, le=90)
    backup_start_time: str = Field(default="03:00", pattern=rule(r"^([01]\d|2[0-3]):[0-5]\d$", "a time of day HH:MM (00:00-23:59)"))  # UTC
    # None: FSx scales metadata IOPS with capacity (AUTOMATIC); a number provisions it.
    metadata_iops: int | None = None
    # Where the datasets bucket appears on the file system (import and export).
    datasets_path: str = Field(default="/datasets", pattern=ABSOLUTE_PATH)
    # A second association that exports what jobs write under this path to the checkpoints
    # bucket (versioned there); null leaves checkpoints on Lustre only.
    checkpoints_path: str | None = Field(default="/checkpoints", pattern=ABSOLUTE_PATH)

    @property
    def explicit(self) -> bool:
        return self.capacity_gib is not None or self.throughput_per_tib is not None


class BucketSpec(Model):
    # The physical name; omitted, Pulumi names it from the stack plus a random suffix.
    name: str | None = None
    # What the bucket is expected to hold (GiB), for the cost model.
    expected_gib: float = Field(default=0, alias="expectedGiB", ge=0)


class CheckpointBucketSpec(BucketSpec):
    # Overwritten or deleted checkpoints stay recoverable this long, then expire.
    noncurrent_version_expiry_days: int = Field(default=30, ge=1)


class Buckets(Model):
    datasets: BucketSpec = BucketSpec()
    checkpoints: CheckpointBucketSpec = CheckpointBucketSpec()
    models: BucketSpec = BucketSpec()

    def items(self) -> list[tuple[str, BucketSpec]]:
        return [("datasets", self.datasets), ("checkpoints", self.checkpoints), ("models", self.models)]


class NfsExport(Model):
    server: str = Field(min_length=1)
    path: str = Field(pattern=rule(r"^/", "an absolute path beginning with '/'"))


class LustreExport(Model):
    """An existing Lustre file system: `dnsName@<lnet>:/mountName`.

    Over `tcp` the FSx CSI driver mounts it in each pod. The driver builds the source as
    `<dnsname>@tcp:/<mountname>` (kubernetes-sigs/aws-fsx-csi-driver v1.9.0,
    pkg/driver/node.go), so an `o2ib` (InfiniBand LNet) file system is mounted by the site's
    nodes themselves, whose Lustre client carries the LNet configuration, and pods reach it
    through `hostPath`, the directory where the site mounts it on every GPU node."""

    dns_name: str = Field(min_length=1)  # the MGS NID's address (or host name)
    mount_name: str = Field(min_length=1)  # the file system name
    lnet: Literal["tcp", "o2ib"] = "tcp"
    host_path: str | None = Field(default=None, pattern=rule(r"^/[^\s]*$", "an absolute path without spaces"))

    @property
    def source(self) -> str:
        return f"{self.dns_name}@{self.lnet}:/{self.mount_name}"


class ExistingStorage(Model):
    """Storage aidc does not create. One of: a ReadWriteMany StorageClass (claims are
    provisioned from it), an NFS export, or a Lustre export (static volumes)."""

    storage_class: str | None = Field(default=None, pattern=rule(
        r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", "a StorageClass name: 1-253 lowercase letters, digits, '.' or '-'"))
    nfs: NfsExport | None = None
    lustre: LustreExport | None = None
    # Size each claim asks for (GiB).
    request_gib: int = Field(default=1024, alias="requestGiB", ge=1)

    @property
    def kind(self) -> str | None:
        set_ = [k for k in ("storage_class", "nfs", "lustre") if getattr(self, k) is not None]
        return set_[0] if len(set_) == 1 else None


class StorageSpec(Model):
    lustre: LustreSpec | None = None
    buckets: Buckets = Buckets()
    # Days the buckets' S3 server access logs are kept (prod: a year).
    access_log_retention_days: int = Field(default=90, ge=1, le=3650)
    # Namespaces that get the shared Lustre claim (or the existing storage's claim).
    namespaces: tuple[NamespaceName, ...] = ()
    # Namespaces that get the read-only models bucket claim (Mountpoint for S3).
    model_namespaces: tuple[NamespaceName, ...] = ()
    existing: ExistingStorage | None = None


def prune_defaults(defaults: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Environment defaults of `aidc:storage` apply only to the parts a stack uses: a
    stack without storage gets none, and an existing storage gets no Lustre settings."""
    stack = data.get("storage")
    if not isinstance(stack, Mapping):
        defaults.pop("storage", None)
        return
    if "lustre" not in stack:
        defaults.get("storage", {}).pop("lustre", None)


_SIZING_KEYS = {"capacity_gib": "capacityGiB", "tier": "throughputPerTiB", "throughput_gbps": "throughputGBps",
                "checkpoint_gib": "checkpointGiB", "max_write_seconds": "maxWriteSeconds", "prices": "capacityGiB"}


def sizing_args(ls: LustreSpec) -> dict[str, Any]:
    """The spec's requirement as `lustre_size` keyword arguments."""
    return {"capacity_gib": ls.capacity_gib, "tier": ls.throughput_per_tib, "throughput_gbps": ls.throughput_gbps,
            "checkpoint_gib": ls.checkpoint_gib, "max_write_seconds": ls.max_write_seconds,
            "min_capacity_gib": ls.min_capacity_gib, "max_capacity_gib": ls.max_capacity_gib,
            # The stack's file system is the smallest that meets the requirement (ties: cheapest).
            "prefer": "capacity"}


def bucket_name_problem(name: str) -> str | None:
    """Why S3 (or Mountpoint's HTTPS) would reject a general purpose bucket name, or None."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not re.match(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$", name):
        return "only lowercase letters, digits, '.' and '-', beginning and ending with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"must not begin with {prefix!r} (reserved by S3)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"must not end with {suffix!r} (reserved by S3)"
    if "." in name:
        # Legal for S3, but virtual-hosted HTTPS (Mountpoint, the SDKs) then fails certificate checks.
        return "must not contain '.': HTTPS clients such as Mountpoint cannot verify dotted bucket hosts"
    return None


def training_pool(spec: "Spec") -> tuple[int, Any] | None:
    """(index, pool) of the first training pool: the file system goes into its zone."""
    for i, pool in enumerate(spec.gpu_pools):
        if pool.purpose == "training":
            return i, pool
    return None


def lustre_zone_name(spec: "Spec") -> str | None:
    """The zone the first training pool pins by name, if any (the file system follows it)."""
    found = training_pool(spec)
    return None if found is None or spec.existing_cluster else found[1].availability_zone


def lustre_zone_index(spec: "Spec") -> int:
    """Index of the private subnet the file system goes into: the zone of the first training
    pool as the GPU pools resolve it (so the two always share a subnet), zone 0 when there is
    no training pool or it spans zones. A zone the network does not cover is reported at the
    pool's availabilityZone."""
    found = training_pool(spec)
    if found is None or spec.existing_cluster:
        return 0
    try:
        index = zone_index(found[1], spec.network, spec.region)
    except ValueError:
        return 0
    return 0 if index is None else index


def problems(st: StorageSpec, spec: "Spec", prices: Mapping[int, float] | None = None,
             path: str = "aidc:storage") -> Iterator[Problem]:
    if spec.existing_cluster and st.existing is None:
        yield Problem(f"{path}.existing", "required with an existing cluster (aidc creates no AWS resources there): "
                                          "a ReadWriteMany storageClass, or an nfs or lustre export")
    if st.existing is not None:
        yield from _existing_problems(st, path)
    elif st.lustre is not None:
        yield from lustre_problems(st.lustre, spec, prices, f"{path}.lustre")
    elif st.namespaces:
        yield Problem(f"{path}.namespaces", "no file system to claim: set lustre (or existing)")
    seen: dict[str, str] = {}
    for kind, bucket in st.buckets.items():
        if bucket.name is None:
            continue
        at = f"{path}.buckets.{kind}.name"
        reason = bucket_name_problem(bucket.name)
        if reason:
            yield Problem(at, f"{bucket.name!r} is not a valid S3 bucket name: {reason}")
        elif bucket.name in seen:
            yield Problem(at, f"{bucket.name!r} is already the {seen[bucket.name]} bucket")
        seen.setdefault(bucket.name, kind)
    for key, names in (("namespaces", st.namespaces), ("modelNamespaces", st.model_namespaces)):
        if len(set(names)) != len(names):
            yield Problem(f"{path}.{key}", "a namespace is listed twice")


def _existing_problems(st: StorageSpec, path: str) -> Iterator[Problem]:
    ex = st.existing
    assert ex is not None
    if ex.kind is None:
        yield Problem(f"{path}.existing", "give exactly one of storageClass, nfs, lustre")
    if st.lustre is not None:
        yield Problem(f"{path}.lustre", "existing storage replaces the Lustre file system aidc would create; remove one")
    if st.model_namespaces:
        yield Problem(f"{path}.modelNamespaces", "the models bucket is created only with AWS storage, not with existing")
    if not st.namespaces:
        yield Problem(f"{path}.namespaces", "list the namespaces that claim the existing storage")
    lustre = ex.lustre
    if lustre is not None and lustre.lnet == "o2ib" and lustre.host_path is None:
        yield Problem(f"{path}.existing.lustre.hostPath",
                      "required with lnet: o2ib: the FSx CSI driver mounts over tcp only, so the site's nodes mount "
                      f"{lustre.source} (their LNet on o2ib) and pods use that directory")


def lustre_problems(ls: LustreSpec, spec: "Spec", prices: Mapping[int, float] | None,
                    path: str) -> Iterator[Problem]:
    modes = [name for name, on in (("capacityGiB", ls.explicit), ("throughputGBps", ls.throughput_gbps is not None),
                                   ("maxWriteSeconds", ls.max_write_seconds is not None)) if on]
    if len(modes) > 1:
        yield Problem(f"{path}.{modes[1]}", f"give one requirement, not both {modes[0]} and {modes[1]}")
    elif not modes:
        if ls.checkpoint_gib is not None:
            yield Problem(f"{path}.maxWriteSeconds", "a checkpoint target needs the longest acceptable write time")
        else:
            yield Problem(path, "give one requirement: capacityGiB + throughputPerTiB, throughputGBps, "
                                "or checkpointGiB + maxWriteSeconds")
    elif ls.explicit and (ls.capacity_gib is None or ls.throughput_per_tib is None):
        missing = "throughputPerTiB" if ls.throughput_per_tib is None else "capacityGiB"
        yield Problem(f"{path}.{missing}", "an explicit size needs both capacityGiB and throughputPerTiB")
    else:
        try:
            lustre_size(**sizing_args(ls), prices=prices)
        except SizingError as err:
            yield Problem(f"{path}.{_SIZING_KEYS.get(err.field, 'capacityGiB')}", str(err))
    if ls.metadata_iops is not None and ls.metadata_iops not in METADATA_IOPS:
        yield Problem(f"{path}.metadataIops", "1500, 3000, 6000, or a multiple of 12000 up to 192000")
    if ls.checkpoints_path is not None and (ls.checkpoints_path.startswith(ls.datasets_path.rstrip("/") + "/")
                                            or ls.datasets_path.startswith(ls.checkpoints_path.rstrip("/") + "/")
                                            or ls.checkpoints_path == ls.datasets_path):
        yield Problem(f"{path}.checkpointsPath", "must not overlap datasetsPath (one bucket per path)")
