"""Secrets from AWS Secrets Manager into Kubernetes, through External Secrets: the operator
(pinned chart, a Pod Identity role that may read exactly the secrets the stack names), a
SecretStore per namespace and one ExternalSecret per secret. Shared by the rooms that need
secrets (model servers' hub tokens, Alertmanager's receiver keys); whichever room installs
the operator passes it on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components import kube
from components.catalog import catalog
from components.common import policy_document

CHART = "external-secrets"
# The controller's service account by a fixed name: its Pod Identity role is bound to it.
SERVICE_ACCOUNT = "external-secrets"
SECRET_STORE = "aws-secrets-manager"
MANAGED = {"app.kubernetes.io/managed-by": "aidc"}


def operator_values() -> dict[str, Any]:
    """external-secrets chart values (external-secrets/external-secrets helm-chart-2.9.0,
    deploy/charts/external-secrets/values.yaml: installCRDs, serviceAccount.create/name)."""
    return {"installCRDs": True, "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}}


def secret_arn_patterns(refs: Sequence[str], partition: str, region: str, account: str) -> list[str]:
    """IAM resources for the named secrets: an ARN as given, a name as its ARN with the
    six-character suffix Secrets Manager appends."""
    return sorted({r if r.startswith("arn:") else f"arn:{partition}:secretsmanager:{region}:{account}:secret:{r}-??????"
                   for r in refs})


def secret_store(ns: str, region: str) -> dict[str, Any]:
    """Secrets Manager, read with the External Secrets controller's own Pod Identity role
    (which may read only the secrets the stack names)."""
    return {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
            "metadata": {"name": SECRET_STORE, "namespace": ns, "labels": dict(MANAGED)},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": region}}}}


def external_secret(name: str, ns: str, remote_key: str, secret_key: str,
                    labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Kubernetes Secret `name` with one key, `secret_key`, holding the Secrets Manager secret
    `remote_key` (its whole string value), refreshed hourly; kept if the ExternalSecret goes."""
    return {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels or MANAGED)},
            "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "SecretStore", "name": SECRET_STORE},
                     "target": {"name": name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
                     "data": [{"secretKey": secret_key, "remoteRef": {"key": remote_key}}]}}


def install_operator(name: str, parent: pulumi.Resource, opts: pulumi.ResourceOptions, *, refs: Sequence[str],
                     region: str, cluster_name: pulumi.Input[str] | None, tags: Mapping[str, str]) -> pulumi.Resource:
    """The operator's release (`{name}-external-secrets`) in its namespace, and on EKS
    (`cluster_name` given) its role over exactly `refs`. Returns the release."""
    chart = catalog().chart(CHART)
    ns = kube.namespace(chart.namespace, opts, privileged=chart.privileged)
    release = kube.helm_release(f"{name}-{CHART}", CHART, operator_values(), opts, namespace_resource=ns)
    if cluster_name is not None:
        import pulumi_aws as aws  # AWS only here: an existing cluster never gets this far

        from components.identity import service_account_role

        ident = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=parent))
        part = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=parent))
        policy = pulumi.Output.all(part.partition, ident.account_id).apply(lambda a: policy_document({
            "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": secret_arn_patterns(refs, a[0], region, a[1])}))
        service_account_role(f"{name}-{CHART}", cluster_name=cluster_name, namespace=chart.namespace,
                             service_account=SERVICE_ACCOUNT, tags=tags, parent=parent, inline_policy=policy)
    return release
