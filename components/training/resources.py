"""TrainingPlatform: the job operators (pinned catalog charts), the Kueue objects generated from
the GPU pools and teams, and each team's guarded namespace. Every custom resource depends on
the release that installs its CRD; every release uses the cluster's Kubernetes provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from components.catalog import catalog
from components.kube import apply_objects, helm_release, namespace

from .queues import kueue_objects, kueue_values, local_queue, trainer_values, volcano_queue
from .tenancy import SERVICE_ACCOUNT, namespace_labels, team_storage_policy, tenancy_objects

if TYPE_CHECKING:
    from components.spec import Spec

__all__ = ["TrainingPlatform"]

# Operator switch -> catalog chart key, in install order (Trainer after the JobSet it drives).
CHARTS = (("kueue", "kueue"), ("jobset", "jobset"), ("trainer", "kubeflow-trainer"),
          ("kuberay", "kuberay-operator"), ("volcano", "volcano"))
# Operator namespaces enforce `restricted` unless a pinned chart's own pods fail it; then
# `baseline` (which still forbids host access), warned at `restricted`. Kubeflow Trainer 2.3.0:
# its runtime-installer hook Job runs as root with no securityContext. Volcano 1.15.1: every
# container adds DAC_OVERRIDE (custom.default_csc). Under `restricted` their pods are rejected
# and the release times out.
_BASELINE = {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/audit": "baseline",
             "pod-security.kubernetes.io/warn": "restricted"}
POD_SECURITY = {"kubeflow-trainer": _BASELINE, "volcano": _BASELINE}


def _opts(base: pulumi.ResourceOptions, *deps: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=list(deps)))


class TrainingPlatform(pulumi.ComponentResource):
    """`opts` must carry the cluster's Kubernetes provider (AiDatacenter.k8s_opts)."""

    releases: dict[str, pulumi.Resource]
    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, spec: "Spec", opts: pulumi.ResourceOptions):
        super().__init__("aidc:training:TrainingPlatform", name, None, opts)
        tr = spec.training
        assert tr is not None
        kopts = pulumi.ResourceOptions(parent=self)  # the provider is inherited from opts
        self.releases = self._operators(name, spec, kopts)
        self.namespaces = {}

        # Cluster-scoped Kueue objects: Topologies, ResourceFlavors, ClusterQueues.
        kueue_rel = self.releases.get("kueue")
        objs = kueue_objects(tr, spec.pools) if kueue_rel is not None else []
        cluster_scoped = [o for o in objs if o["kind"] != "LocalQueue"]
        if kueue_rel is not None:
            apply_objects(cluster_scoped, _opts(kopts, kueue_rel), prefix=f"{name}-")

        for team in tr.teams:
            ns = namespace(team.name, kopts, labels=namespace_labels(team))
            self.namespaces[team.name] = ns
            apply_objects(tenancy_objects(team, spec.pools), _opts(kopts, ns), prefix=f"{name}-")
            if team.scheduler == "kueue" and kueue_rel is not None:
                apply_objects([local_queue(team)], _opts(kopts, kueue_rel, ns), prefix=f"{name}-")
            elif team.scheduler == "volcano":
                apply_objects([volcano_queue(team)], _opts(kopts, self.releases["volcano"]), prefix=f"{name}-")
        self._name, self._teams, self._tags = name, [t.name for t in tr.teams], spec.resource_tags()
        self.storage_roles: dict[str, pulumi.Resource] = {}
        self.register_outputs({"releases": {k: r.urn for k, r in self.releases.items()}, "teams": self._teams})

    def bind_storage(self, cluster_name: pulumi.Input[str], buckets: Mapping[str, Any],
                     key_arn: pulumi.Input[str]) -> None:
        """Bind each team's `training` service account (EKS Pod Identity) to a role over the
        stack's buckets. EKS stacks only: `opts` must then carry the AWS provider too."""
        from components.identity import service_account_role

        arns = pulumi.Output.all(buckets["datasets"].arn, buckets["checkpoints"].arn, buckets["models"].arn, key_arn)
        for team in self._teams:
            doc = arns.apply(lambda a, t=team: team_storage_policy(t, *a))
            self.storage_roles[team] = service_account_role(
                f"{self._name}-{team}-storage", cluster_name=cluster_name, namespace=team,
                service_account=SERVICE_ACCOUNT, tags=self._tags, parent=self, inline_policy=doc)

    def _operators(self, name: str, spec: "Spec", kopts: pulumi.ResourceOptions) -> dict[str, pulumi.Resource]:
        tr = spec.training
        assert tr is not None
        cat = catalog()
        values: Mapping[str, Mapping[str, Any]] = {"kueue": kueue_values(tr), "kubeflow-trainer": trainer_values()}
        out: dict[str, pulumi.Resource] = {}
        for switch, chart_key in CHARTS:
            if not getattr(tr.operators, switch):
                continue
            ns = namespace(cat.chart(chart_key).namespace, kopts, privileged=cat.chart(chart_key).privileged,
                           labels=POD_SECURITY.get(chart_key))
            deps = [out["jobset"]] if switch == "trainer" else []
            out[switch] = helm_release(chart_key, chart_key, values.get(chart_key, {}), kopts,
                                       namespace_resource=ns, depends_on=deps)
        if tr.operators.mpi:
            manifest = cat.extra["training"]["manifests"]["mpi-operator"]
            # No chart upstream: the release's single manifest, applied by the provider at deploy time.
            out["mpi"] = k8s.yaml.v2.ConfigFile(f"{name}-mpi-operator", file=manifest["url"], opts=kopts)
        return out
