"""Kubernetes volumes of the shared storage: a static PersistentVolume bound one-to-one to
a PersistentVolumeClaim per namespace. Pure functions returning manifests (values may be
Pulumi outputs when the component calls them; tests pass strings)."""

from __future__ import annotations

from typing import Any

from components.formulas.lustre import MIN_CAPACITY_GIB
from components.vocabulary import LUSTRE_CLAIM, MODELS_CLAIM

FSX_CSI_DRIVER = "fsx.csi.aws.com"
S3_CSI_DRIVER = "s3.csi.aws.com"
LABELS = {"app.kubernetes.io/managed-by": "aidc", "app.kubernetes.io/component": "storage"}


def _pv(name: str, namespace: str, claim: str, size: str, access: str, source: dict[str, Any],
        mount_options: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "capacity": {"storage": size}, "volumeMode": "Filesystem", "accessModes": [access],
        # Deleting the claim never deletes the data behind it.
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
        # Reserved for exactly one claim, so no other claim can bind it.
        "claimRef": {"namespace": namespace, "name": claim},
        **source,
    }
    if mount_options:
        spec["mountOptions"] = mount_options
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {**LABELS, "aidc.io/claim-namespace": namespace}}, "spec": spec}


# What a claim on the shared Lustre volume requests: the smallest file system FSx makes, so it
# binds to the volume whatever its capacity. It never follows the capacity: the class ("") cannot
# expand, so the API server refuses a larger request, and growing Lustre must not touch claims.
LUSTRE_CLAIM_REQUEST = f"{MIN_CAPACITY_GIB}Gi"


def _pvc(namespace: str, claim: str, size: str, access: str, *, volume: str | None,
         storage_class: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": [access], "storageClassName": storage_class,
                            "resources": {"requests": {"storage": size}}}
    if volume is not None:
        spec["volumeName"] = volume
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": namespace, "labels": dict(LABELS)}, "spec": spec}


def lustre_volumes(prefix: str, namespace: str, capacity_gib: int, file_system_id: Any, dns_name: Any,
                   mount_name: Any) -> list[dict[str, Any]]:
    """The FSx for Lustre file system as a ReadWriteMany volume in one namespace. The volume
    shows the capacity (it changes in place); the claim's request stays fixed."""
    pv = f"{prefix}-lustre-{namespace}"
    source = {"csi": {"driver": FSX_CSI_DRIVER, "volumeHandle": file_system_id,
                      "volumeAttributes": {"dnsname": dns_name, "mountname": mount_name}}}
    return [_pv(pv, namespace, LUSTRE_CLAIM, f"{capacity_gib}Gi", "ReadWriteMany", source, ["flock"]),
            _pvc(namespace, LUSTRE_CLAIM, LUSTRE_CLAIM_REQUEST, "ReadWriteMany", volume=pv)]


def models_volumes(prefix: str, namespace: str, bucket: Any, region: str) -> list[dict[str, Any]]:
    """The models bucket, read-only through Mountpoint for S3 (the size is required by
    Kubernetes and ignored by the driver)."""
    pv = f"{prefix}-models-{namespace}"
    source = {"csi": {"driver": S3_CSI_DRIVER, "volumeHandle": pv,  # unique per volume, as the driver requires
                      "volumeAttributes": {"bucketName": bucket}}}
    return [_pv(pv, namespace, MODELS_CLAIM, "1Ti", "ReadOnlyMany", source,
                ["read-only", "allow-other", f"region {region}"]),
            _pvc(namespace, MODELS_CLAIM, "1Ti", "ReadOnlyMany", volume=pv)]


def existing_volumes(prefix: str, namespace: str, *, request_gib: int, storage_class: str | None = None,
                     nfs: tuple[str, str] | None = None, lustre: tuple[str, str] | None = None,
                     host_path: str | None = None) -> list[dict[str, Any]]:
    """Storage aidc did not create: a claim on a ReadWriteMany class, or a static volume of
    an NFS export (server, path), a Lustre export (dnsName, mountName) mounted by the FSx CSI
    driver, or a file system the site's nodes mount at `host_path` (Lustre over o2ib)."""
    size = f"{request_gib}Gi"
    if storage_class is not None:
        return [_pvc(namespace, LUSTRE_CLAIM, size, "ReadWriteMany", volume=None, storage_class=storage_class)]
    pv = f"{prefix}-shared-{namespace}"
    if nfs is not None:
        source: dict[str, Any] = {"nfs": {"server": nfs[0], "path": nfs[1]}}
        options = ["nfsvers=4.1", "hard"]
    elif host_path is not None:
        # The node's own mount; hostPath volumes take no mount options (the site's mount has them).
        source = {"hostPath": {"path": host_path, "type": "Directory"}}
        options = []
    elif lustre is not None:
        source = {"csi": {"driver": FSX_CSI_DRIVER, "volumeHandle": f"{lustre[0]}@tcp:/{lustre[1]}",
                          "volumeAttributes": {"dnsname": lustre[0], "mountname": lustre[1]}}}
        options = ["flock"]
    else:
        raise ValueError("one of storage_class, nfs, lustre")
    return [_pv(pv, namespace, LUSTRE_CLAIM, size, "ReadWriteMany", source, options),
            _pvc(namespace, LUSTRE_CLAIM, size, "ReadWriteMany", volume=pv)]
