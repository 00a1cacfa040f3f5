"""Ordering, proved on the plan's dependency graph of every shipped stack: each custom resource
depends (transitively) on the release that installs its CRD, and every Kubernetes resource,
operator releases included, goes through the cluster's one Kubernetes provider."""

from collections import deque

import pytest

from aidc.plan import Plan, Resource
from tests.conftest import SHIPPED

# API groups Kubernetes serves itself, plus Pulumi's own kinds (Helm releases, YAML files).
BUILT_IN = {"core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
            "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
            "node.k8s.io", "apiextensions.k8s.io", "helm.sh", "yaml"}
# CRD group -> (resource type, name) of what installs the CRD. Written down here independently
# of the components, so a component that forgets a dependency fails.
CRD_OWNER = {
    "kueue.x-k8s.io": ("kubernetes:helm.sh/v3:Release", "kueue"),
    "jobset.x-k8s.io": ("kubernetes:helm.sh/v3:Release", "jobset"),
    "trainer.kubeflow.org": ("kubernetes:helm.sh/v3:Release", "kubeflow-trainer"),
    "ray.io": ("kubernetes:helm.sh/v3:Release", "kuberay-operator"),
    "scheduling.volcano.sh": ("kubernetes:helm.sh/v3:Release", "volcano"),
    "kubeflow.org": ("kubernetes:yaml/v2:ConfigFile", "-mpi-operator"),
    "karpenter.sh": ("kubernetes:helm.sh/v3:Release", "karpenter"),
    "karpenter.k8s.aws": ("kubernetes:helm.sh/v3:Release", "karpenter"),
    "nvidia.com": ("kubernetes:helm.sh/v3:Release", "gpu-operator"),
    "mellanox.com": ("kubernetes:helm.sh/v3:Release", "network-operator"),
    "nfd.k8s-sigs.io": ("kubernetes:helm.sh/v3:Release", "node-feature-discovery"),
    "monitoring.coreos.com": ("kubernetes:helm.sh/v3:Release", "-kube-prometheus-stack"),
    "keda.sh": ("kubernetes:helm.sh/v3:Release", "-keda"),
    "external-secrets.io": ("kubernetes:helm.sh/v3:Release", "-external-secrets"),
    "serving.kserve.io": ("kubernetes:helm.sh/v3:Release", "-kserve"),
    "leaderworkerset.x-k8s.io": ("kubernetes:helm.sh/v3:Release", "-leaderworkerset"),
}


def group_of(res: Resource) -> str | None:
    if not res.type.startswith("kubernetes:"):
        return None
    return res.type.split(":")[1].rsplit("/", 1)[0]


def custom_resources(plan: Plan) -> list[Resource]:
    return [r for r in plan.resources if (g := group_of(r)) is not None and g not in BUILT_IN]


def reaches(plan: Plan, start: Resource, target_urn: str) -> bool:
    """Breadth-first over `dependencies`; a dependency on a component stands for its children."""
    by_urn = plan.by_urn()
    children: dict[str, list[str]] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r.urn)
    seen, todo = set(), deque(start.dependencies)
    while todo:
        urn = todo.popleft()
        if urn in seen:
            continue
        seen.add(urn)
        if urn == target_urn:
            return True
        res = by_urn.get(urn)
        if res is None:
            continue
        todo.extend(res.dependencies)
        if not res.custom:
            todo.extend(children.get(urn, ()))
    return False


def owner(plan: Plan, res: Resource) -> Resource:
    group = group_of(res)
    assert group in CRD_OWNER, f"{res.urn}: no known release installs CRDs of group {group}"
    typ, suffix = CRD_OWNER[group]
    found = [r for r in plan.of_type(typ) if r.name.endswith(suffix)]
    assert len(found) == 1, f"{res.urn}: expected one {typ} named *{suffix}, found {[r.urn for r in found]}"
    return found[0]


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_custom_resource_depends_on_the_release_installing_its_crd(stack, plan_of):
    plan = plan_of(stack)
    crs = custom_resources(plan)
    assert any(group_of(r) == "kueue.x-k8s.io" for r in crs), "the walk must have Kueue objects to check"
    for res in crs:
        release = owner(plan, res)
        assert reaches(plan, res, release.urn), f"{res.urn} does not depend on {release.urn}"


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_kubernetes_resource_uses_the_cluster_provider(stack, plan_of):
    plan = plan_of(stack)
    providers = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"]
    assert len(providers) == 1 and "aidc:cluster:Cluster" in providers[0].urn
    k8s = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    releases = [r for r in k8s if r.type in ("kubernetes:helm.sh/v3:Release", "kubernetes:yaml/v2:ConfigFile")]
    assert releases
    for r in k8s:
        assert r.provider.startswith(providers[0].urn + "::"), f"{r.urn} uses {r.provider or 'the default provider'}"


def test_the_walk_detects_a_missing_dependency(plan_of):
    """Guard against a vacuous walk: drop the dependencies of one ClusterQueue and it must fail."""
    plan = plan_of("prod")
    cq = next(r for r in plan.resources if r.type.endswith(":ClusterQueue"))
    cut = Resource(cq.urn, cq.type, cq.inputs, parent=cq.parent, provider=cq.provider, dependencies=())
    broken = Plan(tuple(cut if r.urn == cq.urn else r for r in plan.resources), plan.config, plan.change_summary)
    assert not reaches(broken, cut, owner(broken, cut).urn)
    assert reaches(plan, cq, owner(plan, cq).urn)


def test_trainer_waits_for_jobset_and_local_queues_for_their_namespace(plan_of):
    plan = plan_of("prod")
    releases = {r.name: r for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert reaches(plan, releases["kubeflow-trainer"], releases["jobset"].urn)
    ns = {r.name: r for r in plan.of_type("kubernetes:core/v1:Namespace")}
    for lq in plan.of_type("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue"):
        assert reaches(plan, lq, ns[f"ns-{lq.inputs['metadata']['namespace']}"].urn)
