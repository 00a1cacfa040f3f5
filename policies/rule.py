"""The shape of a rule and the helpers rules share.

A rule is plain data plus one function. Resource rules see one resource at a time:
`check(resource_type, props, ctx) -> Iterable[str]` (one message per violation). Stack
rules see the whole plan: `check(plan, ctx) -> Iterable[tuple[urn | None, str]]`.
`props` may be a plain dict (tests, offline plans) or pulumi-policy's unknown-checking
proxy (CrossGuard, and the offline runner too), so helpers only use Mapping/Sequence."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from aidc.plan import Plan
from components.catalog import Catalog, catalog

# Type tokens and resource names the rules share with the cost model (rules import them from here).
from components.vocabulary import GPU_RESOURCE, LAUNCH_TEMPLATE, NODE_CLASS, NODE_GROUP, NODE_POOL  # noqa: F401

Severity = Literal["low", "medium", "high", "critical"]
Enforcement = Literal["advisory", "mandatory", "disabled"]
ENFORCEMENTS: tuple[str, ...] = ("advisory", "mandatory", "disabled")


@dataclass(frozen=True)
class Context:
    """What a rule knows besides the resource: its parameters, and where it runs."""

    params: Mapping[str, Any]
    urn: str = ""
    protect: bool = False
    plan: Plan | None = None  # the whole plan (offline, and in stack rules)
    catalog: Catalog = field(default_factory=catalog)


@dataclass(frozen=True)
class Rule:
    name: str  # kebab-case, unique: the key in policies/config/<env>.json
    description: str
    severity: Severity
    enforcement: Enforcement  # default when a config file does not name the rule
    remediation: str
    check: Callable[..., Iterable[Any]]
    kind: Literal["resource", "stack"] = "resource"
    types: tuple[str, ...] = ()  # resource types a resource rule looks at; () = every type
    params: Mapping[str, Any] = field(default_factory=dict)  # parameter -> default (its type is the schema)
    category: Literal["security", "cost"] = "security"

    def applies_to(self, resource_type: str) -> bool:
        return not self.types or resource_type in self.types


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule of policies/rules/, one module each exporting RULE, sorted by name."""
    from . import rules as pkg

    found = []
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            found.append(importlib.import_module(f"{pkg.__name__}.{mod.name}").RULE)
    names = [r.name for r in found]
    assert len(set(names)) == len(names), f"duplicate rule names: {names}"
    return tuple(sorted(found, key=lambda r: r.name))


def rules_by_name() -> dict[str, Rule]:
    return {r.name: r for r in all_rules()}


# ---------------------------------------------------------------- helpers over props

def get(props: Any, path: str, default: Any = None) -> Any:
    """get(props, "vpcConfig.endpointPublicAccess"): nested lookup through Mappings."""
    cur = props
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return default
        cur = cur[part]
    return cur


def items(value: Any) -> list[Any]:
    """A Sequence (not a string) as a list; anything else as []."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [value[i] for i in range(len(value))]
    return []


def truthy(value: Any) -> bool:
    """Booleans that some providers type as strings ("true" in launch templates)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def num(value: Any, default: float | None = None) -> float | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def pod_specs(obj: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every pod spec inside a Kubernetes object (Deployment, Job, JobSet, RayCluster, ...):
    any mapping that holds a `containers` list, with the path to it."""
    if isinstance(obj, Mapping):
        if items(obj.get("containers")):
            yield path or ".", obj
            return
        for k in obj:
            if k in ("status", "metadata"):
                continue
            yield from pod_specs(obj[k], f"{path}.{k}" if path else k)
    else:
        for i, v in enumerate(items(obj)):
            yield from pod_specs(v, f"{path}[{i}]")


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in items(spec.get(key)) if isinstance(c, Mapping))


def namespace_of(props: Mapping[str, Any]) -> str:
    return get(props, "metadata.namespace") or "default"


def is_kubernetes_workload(resource_type: str) -> bool:
    """Kubernetes objects that can carry pod templates (core kinds and custom resources),
    not providers, Helm releases or namespaces."""
    return (resource_type.startswith("kubernetes:") and not resource_type.startswith("kubernetes:helm.sh")
            and ":core/v1:Namespace" not in resource_type and "ConfigMap" not in resource_type
            and "Secret" not in resource_type)


INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
INSTANCE = "aws:ec2/instance:Instance"


def requirement_values(nodepool_props: Mapping[str, Any], key: str) -> list[str]:
    """Values a Karpenter NodePool's `In` requirement allows for a label key."""
    out: list[str] = []
    for req in items(get(nodepool_props, "spec.template.spec.requirements")):
        if isinstance(req, Mapping) and req.get("key") == key and req.get("operator", "In") == "In":
            out += [str(v) for v in items(req.get("values"))]
    return out


def instance_types_of(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """EC2 instance types a node group, launch template, instance or NodePool may launch."""
    if resource_type == NODE_GROUP:
        return [str(t) for t in items(props.get("instanceTypes"))]
    if resource_type in (LAUNCH_TEMPLATE, INSTANCE):
        t = props.get("instanceType")
        return [t] if isinstance(t, str) else []
    if resource_type == NODE_POOL:
        return [v for key in INSTANCE_TYPE_LABELS for v in requirement_values(props, key)]
    return []


def is_gpu_type(instance_type: str, cat: Catalog) -> bool:
    """A GPU/accelerator type: in the catalog, or of a family that carries accelerators."""
    if instance_type in cat.instances:
        return True
    family = instance_type.split(".", 1)[0]
    return family[:1] in ("p", "g") and family[1:2].isdigit() or family.startswith(("trn", "inf", "dl"))
