"""A plan in the shapes other scanners read: its Kubernetes objects as YAML manifests (one
file per namespace, because Checkov's NetworkPolicy check looks at everything it is given
as one namespace), and its AWS resources as a Terraform plan JSON (`terraform show -json`
format) for Checkov's terraform_plan framework.

Pulumi's AWS provider is Terraform's: a Pulumi type names the Terraform resource type
(`aws:eks/cluster:Cluster` is `aws_eks_cluster`; ec2's resources drop the module:
`aws:ec2/vpc:Vpc` is `aws_vpc`), engine inputs are Terraform's arguments in camelCase.
Terraform plans also say which argument refers to which resource (`configuration`
expressions); Checkov's cross-resource checks (a bucket and its logging, encryption and
public access block) follow those. Here they come from the offline engine's own outputs:
an input equal to the id, ARN or name the mocks gave a dependency refers to it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .plan import Plan, Resource

# Pulumi modules whose resources Terraform names without the module (aws_vpc, aws_subnet...).
UNPREFIXED_MODULES = {"ec2"}
# Pulumi types whose Terraform name the rule above does not give.
TERRAFORM_TYPES: dict[str, str] = {}
# Nested blocks Pulumi names in the plural where Terraform has one repeated block
# (hashicorp/terraform-provider-aws website/docs/r/s3_bucket_lifecycle_configuration and
# s3_bucket_server_side_encryption_configuration: `rule` blocks).
TERRAFORM_BLOCKS = {("aws_s3_bucket_lifecycle_configuration", "rules"): "rule",
                    ("aws_s3_bucket_server_side_encryption_configuration", "rules"): "rule"}
# Kubernetes objects that are not manifests (Helm releases, files applied at deploy time).
NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "pulumi:providers:")
CLUSTER_SCOPED = "_cluster"
# Kinds scanners read pod templates from; any other kind's templates (LeaderWorkerSet, KServe
# InferenceService, JobSet, MPIJob) are also written out as Pods so scanners see them.
BUILT_IN_WORKLOADS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
EXPORTED_FROM = "aidc.io/exported-from"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def terraform_type(pulumi_type: str) -> str:
    """aws:s3/bucketPolicy:BucketPolicy -> aws_s3_bucket_policy."""
    if pulumi_type in TERRAFORM_TYPES:
        return TERRAFORM_TYPES[pulumi_type]
    module, resource = pulumi_type.split(":")[1].split("/")
    return "_".join(p for p in ("aws", None if module in UNPREFIXED_MODULES else _snake(module), _snake(resource)) if p)


def _terraform_values(value: Any, key: str = "") -> Any:
    """camelCase keys to snake_case, except inside tags (their keys are the user's)."""
    if isinstance(value, dict):
        if key in ("tags", "tags_all"):
            return dict(value)
        return {_snake(k): _terraform_values(v, _snake(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_terraform_values(v, key) for v in value]
    return value


def _address_name(res: Resource) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", res.name)


def _outputs(res: Resource, region: str) -> set[str]:
    """What the offline engine gave this resource: its id, ARN and name (see engine.mocks)."""
    import pulumi

    from .engine.mocks import OfflineMocks

    rid, state = OfflineMocks(region).new_resource(pulumi.runtime.MockResourceArgs(
        typ=res.type, name=res.name, inputs=res.inputs, provider="", resource_id="", custom=True))
    return {v for v in (rid, state.get("arn"), state.get("name"), state.get("bucket")) if isinstance(v, str)}


def _references(res: Resource, deps: dict[str, tuple[str, set[str]]]) -> dict[str, Any]:
    """Top-level arguments whose value is a dependency's id, ARN or name."""
    out: dict[str, Any] = {}
    for key, value in res.inputs.items():
        values = value if isinstance(value, list) else [value]
        refs = [addr for v in values if isinstance(v, str) for addr, outs in deps.values() if v in outs]
        if refs:
            out[_snake(key)] = {"references": sorted(set(refs))}
    return out


def terraform_plan(plan: Plan, region: str) -> dict[str, Any]:
    """The plan's AWS resources as `terraform show -json` of a plan that creates them."""
    aws = [r for r in plan.resources if r.type.startswith("aws:") and r.custom and r.op != "delete"]
    addresses = {r.urn: f"{terraform_type(r.type)}.{_address_name(r)}" for r in aws}
    outputs = {r.urn: _outputs(r, region) for r in aws}
    resources, changes, config = [], [], []
    for r in aws:
        tf_type, address = terraform_type(r.type), addresses[r.urn]
        values = {TERRAFORM_BLOCKS.get((tf_type, k), k): v for k, v in _terraform_values(r.inputs).items()}
        resources.append({"address": address, "mode": "managed", "type": tf_type, "name": _address_name(r),
                          "provider_name": "registry.terraform.io/hashicorp/aws", "values": values})
        changes.append({"address": address, "mode": "managed", "type": tf_type, "name": _address_name(r),
                        "change": {"actions": ["create"], "before": None, "after": values}})
        deps = {u: (addresses[u], outputs[u]) for u in r.dependencies if u in addresses}
        config.append({"address": address, "mode": "managed", "type": tf_type, "name": _address_name(r),
                       "expressions": _references(r, deps)})
    return {"format_version": "1.2", "terraform_version": "1.9.0",
            "planned_values": {"root_module": {"resources": resources}},
            "resource_changes": changes,
            "configuration": {"root_module": {"resources": config}}}


def manifest(res: Resource) -> dict[str, Any]:
    """The object as the API server would get it (typed kinds carry apiVersion and kind too)."""
    obj = dict(res.inputs)
    api, kind = res.type.split(":")[1], res.type.split(":")[2]
    group, version = api.split("/")
    obj.setdefault("apiVersion", version if group == "core" else f"{group}/{version}")
    obj.setdefault("kind", kind)
    return obj


def _templates(value: Any, path: str = "spec") -> Iterable[tuple[str, dict[str, Any]]]:
    """(path, pod template) of every {metadata?, spec: {containers: [...]}} inside a value."""
    if isinstance(value, dict):
        spec = value.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("containers"), list):
            yield path, value
            return
        for k, v in value.items():
            yield from _templates(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _templates(v, f"{path}[{i}]")


def template_pods(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod templates of a custom resource as Pods (labels kept, so NetworkPolicies and
    checks that select pods see them), each annotated with where it came from. KServe's
    InferenceService holds its pod spec inline in spec.predictor."""
    if obj.get("kind") in BUILT_IN_WORKLOADS:
        return []
    meta = obj.get("metadata") or {}
    found = list(_templates(obj.get("spec") or {}))
    predictor = (obj.get("spec") or {}).get("predictor")
    if not found and isinstance(predictor, dict) and isinstance(predictor.get("containers"), list):
        found = [("spec.predictor", {"metadata": {"labels": meta.get("labels") or {}}, "spec": predictor})]
    pods = []
    for i, (path, tpl) in enumerate(found):
        pod_spec = {k: v for k, v in tpl["spec"].items() if k not in ("minReplicas", "maxReplicas", "deploymentStrategy")}
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"{obj['kind'].lower()}-{meta.get('name')}-{i}",
                                  "namespace": meta.get("namespace"),
                                  "labels": dict((tpl.get("metadata") or {}).get("labels") or {}),
                                  "annotations": {EXPORTED_FROM: f"{obj['kind']}/{meta.get('name')} {path}"}},
                     "spec": pod_spec})
    return pods


def kubernetes_manifests(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Namespace (CLUSTER_SCOPED for cluster-wide kinds) -> its objects, in plan order, then
    the Pods of custom resources' pod templates."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in _kube(plan.resources):
        obj = manifest(r)
        ns = (obj.get("metadata") or {}).get("namespace") or CLUSTER_SCOPED
        out.setdefault(ns, []).append(obj)
        out[ns] += template_pods(obj)
    return out


def _kube(resources: Iterable[Resource]) -> Iterable[Resource]:
    return (r for r in resources if r.type.startswith("kubernetes:") and r.custom and r.op != "delete"
            and not r.type.startswith(NOT_MANIFESTS))
