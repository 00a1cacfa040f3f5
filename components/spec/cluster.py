"""`aidc:cluster`: the EKS control plane and its system nodes, or an existing cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator

from components.catalog import Catalog

from .base import Cidr, Model, Problem

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
ALL_LOG_TYPES: tuple[LogType, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")


class ExistingCluster(Model):
    """A cluster aidc does not build (on-prem, or another team's): only Kubernetes layers."""

    kubeconfig: str = Field(min_length=1)  # the file's content, set as a Pulumi secret
    context: str | None = None
    # Where the cluster runs; "onPrem" drivers are not in the node image, so the
    # GPU Operator installs them.
    platform: Literal["onPrem", "eks"] = "onPrem"


class SystemNodes(Model):
    """The small CPU node group that runs controllers and add-ons."""

    instance_type: str = "m7i.xlarge"
    min: int = Field(default=2, ge=1)
    max: int = Field(default=4, ge=1)
    disk_gib: int = Field(default=50, ge=20)


class ClusterSpec(Model):
    existing: ExistingCluster | None = None
    # Defaults to the catalog recipe's Kubernetes version (one place for it). Required on an
    # existing cluster: the minor version the site runs, which every component's floor is
    # checked against (aidc cannot ask the cluster offline; `aidc verify` compares it live).
    kubernetes_version: str | None = None
    endpoint_access: Literal["private", "publicAndPrivate", "public"] = "private"
    public_access_cidrs: tuple[Cidr, ...] = ()
    log_types: tuple[LogType, ...] = ALL_LOG_TYPES
    log_retention_days: int = Field(default=7, ge=1)
    # What EKS does when the version leaves standard support: upgrade it (standard) or keep
    # it at the extended-support rate (extended).
    support_type: Literal["standard", "extended"] = "standard"
    authentication: Literal["podIdentity", "irsa"] = "podIdentity"
    admin_role_arns: tuple[str, ...] = ()
    system_nodes: SystemNodes = SystemNodes()

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for arn in v:
            if not arn.startswith("arn:aws") or ":role/" not in arn:
                raise ValueError(f"{arn!r} is not an IAM role ARN")
        return v

    @property
    def public(self) -> bool:
        return self.endpoint_access != "private"


_MINOR = re.compile(r"^1\.\d{1,3}$")


def problems(cl: ClusterSpec, cat: Catalog, path: str = "aidc:cluster") -> Iterator[Problem]:
    if cl.existing is not None:
        if cl.kubernetes_version is None:
            yield Problem(f"{path}.kubernetesVersion",
                          "required on an existing cluster: the Kubernetes minor version it runs, quoted "
                          "(e.g. \"1.33\"; `kubectl version` prints it); aidc checks each component's floor against it")
        elif not _MINOR.match(cl.kubernetes_version):
            yield Problem(f"{path}.kubernetesVersion",
                          f"{cl.kubernetes_version!r} is not a Kubernetes minor version such as \"1.33\"")
        return
    versions = cat.recipe.kubernetes_versions
    if cl.kubernetes_version is not None and cl.kubernetes_version not in versions:
        yield Problem(f"{path}.kubernetesVersion",
                      f"{cl.kubernetes_version!r} is not pinned in the catalog; one of {', '.join(versions)}")
    if cl.public and not cl.public_access_cidrs:
        yield Problem(f"{path}.publicAccessCidrs",
                      f"required when endpointAccess is {cl.endpoint_access}: the CIDRs allowed to reach the API")
    if not cl.public and cl.public_access_cidrs:
        yield Problem(f"{path}.publicAccessCidrs", "only meaningful with a public endpoint")
    if cl.system_nodes.min > cl.system_nodes.max:
        yield Problem(f"{path}.systemNodes.min", f"{cl.system_nodes.min} is above max {cl.system_nodes.max}")
