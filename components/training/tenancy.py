"""A team's namespace guardrails: the ResourceQuota backstop behind Kueue, default requests,
default-deny networking with the few allowances jobs need, and the workload service account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from components.common import policy_document
from components.kube import render
from components.vocabulary import GPU_RESOURCE, TEAM_LABEL

if TYPE_CHECKING:
    from components.spec.pools import PoolFacts
    from components.spec.training import Quota, Team

# The service account every team job runs as; EKS Pod Identity binds it to the storage role.
SERVICE_ACCOUNT = "training"
# EKS Pod Identity agent (link-local, on every node): where the SDKs fetch role credentials.
POD_IDENTITY_AGENT = "169.254.170.23/32"


def quota_ceiling(team: "Team", q: "Quota", field: str, capacity: int) -> int:
    """The most of one resource Kueue can ever admit for a team on one pool: the nominal quota
    without a cohort; with one, nominal plus the borrowing limit (the whole pool when the
    limit is unset), never more than the pool holds."""
    nominal = getattr(q, field)
    if team.cohort is None:
        return nominal
    limit = getattr(q.borrowing_limit, field) if q.borrowing_limit else None
    return capacity if limit is None else min(nominal + limit, capacity)


def ceilings(team: "Team", pools: Mapping[str, "PoolFacts"]) -> dict[str, int]:
    """`quota_ceiling` summed over the team's pools, per resource."""
    out = {"gpus": 0, "cpu": 0, "memory_gib": 0}
    for q in team.quotas:
        cap = pools[q.pool].max_resources
        for field in out:
            out[field] += quota_ceiling(team, q, field, cap[field])
    return out


def resource_quota_hard(team: "Team", pools: Mapping[str, "PoolFacts"]) -> dict[str, str]:
    """ResourceQuota `hard`: pods that bypass Kueue still cannot exceed what it would admit,
    and nothing in a team namespace opens a load balancer or node port."""
    hard = {"services.loadbalancers": "0", "services.nodeports": "0", "persistentvolumeclaims": "20"}
    if team.quotas:
        c = ceilings(team, pools)
        hard.update({"requests.cpu": str(c["cpu"]), "requests.memory": f"{c['memory_gib']}Gi",
                     f"requests.{GPU_RESOURCE}": str(c["gpus"])})
    return hard


def tenancy_objects(team: "Team", pools: Mapping[str, "PoolFacts"]) -> list[dict[str, Any]]:
    """Objects inside the team namespace (the namespace itself comes from components.kube)."""
    return render("training/tenancy.yaml.j2", team=team.name, team_label=TEAM_LABEL,
                  hard=resource_quota_hard(team, pools), service_account=SERVICE_ACCOUNT,
                  pod_identity_agent=POD_IDENTITY_AGENT, egress_cidrs=[str(c) for c in team.egress_cidrs])


def namespace_labels(team: "Team") -> dict[str, str]:
    """Team label (Kueue manages jobs only in labelled namespaces) and, for a baseline team,
    the Pod Security level that replaces the default restricted one."""
    labels = {TEAM_LABEL: team.name}
    if team.pod_security != "restricted":
        labels.update({f"pod-security.kubernetes.io/{m}": team.pod_security for m in ("enforce", "audit", "warn")})
        labels["pod-security.kubernetes.io/warn"] = "restricted"  # still say what restricted would reject
    return labels


def checkpoint_prefix(team: str) -> str:
    """Where one team's checkpoints live in the shared checkpoints bucket."""
    return f"{team}/"


def team_storage_policy(team: str, datasets_arn: str, checkpoints_arn: str, models_arn: str, key_arn: str) -> str:
    """What one team's jobs may do in the stack's buckets: read the shared datasets and
    models; read and write checkpoints only under the team's own prefix, so one tenant can
    neither overwrite nor read another's (no delete: the bucket is versioned and overwrites
    stay recoverable); use the buckets' KMS key for exactly that."""
    prefix = checkpoint_prefix(team)
    own = f"{checkpoints_arn}/{prefix}*"
    return policy_document(
        {"Sid": "ListSharedBuckets", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [datasets_arn, models_arn]},
        {"Sid": "ListOwnCheckpoints", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [checkpoints_arn],
         "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}},
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"{datasets_arn}/*", f"{models_arn}/*", own]},
        {"Sid": "WriteOwnCheckpoints", "Effect": "Allow",
         "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": [own]},
        {"Sid": "BucketKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [key_arn]},
    )
