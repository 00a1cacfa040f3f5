"""Kubernetes building blocks every component shares: pinned Helm releases from the catalog,
namespaces with the right Pod Security level, and manifests rendered from `k8s/` templates
turned into one Pulumi resource per object (so plans, policies and diffs see each object)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.catalog import catalog

TEMPLATES = Path(__file__).resolve().parent.parent / "k8s"

# apiVersion group -> pulumi_kubernetes module, for the core kinds Kubernetes itself serves.
_CORE_GROUPS = {
    "": "core", "apps": "apps", "batch": "batch", "policy": "policy", "autoscaling": "autoscaling",
    "networking.k8s.io": "networking", "rbac.authorization.k8s.io": "rbac", "storage.k8s.io": "storage",
    "scheduling.k8s.io": "scheduling", "admissionregistration.k8s.io": "admissionregistration",
    "coordination.k8s.io": "coordination", "node.k8s.io": "node",
}


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["to_yaml"] = lambda v: yaml.safe_dump(v, default_flow_style=True, sort_keys=False).strip()
    return env


def render_text(template: str, **context: Any) -> str:
    """Render one template of `k8s/` (StrictUndefined: a missing value is an error, not a blank)."""
    return _env().get_template(template).render(**context)


def render(template: str, **context: Any) -> list[dict[str, Any]]:
    """Render a template into its Kubernetes objects (documents that are empty are dropped)."""
    return [d for d in yaml.safe_load_all(render_text(template, **context)) if d]


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def object_name(obj: Mapping[str, Any]) -> str:
    """A stable Pulumi name for an object: kind, namespace and name (never a changing value)."""
    meta = obj.get("metadata", {})
    parts = [obj["kind"].lower(), meta.get("namespace", ""), meta["name"]]
    return "-".join(p for p in parts if p)


def apply_object(obj: Mapping[str, Any], opts: pulumi.ResourceOptions, name: str | None = None) -> pulumi.CustomResource:
    """One Kubernetes object as one Pulumi resource: the typed class for core kinds,
    `CustomResource` for kinds a CRD defines."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    group, _, version = api_version.rpartition("/")
    name = name or object_name(obj)
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    module = _CORE_GROUPS.get(group)
    if module is not None:
        cls = getattr(importlib.import_module(f"pulumi_kubernetes.{module}.{version}"), kind)
        return cls(name, opts=opts, **{_snake(k): v for k, v in body.items()})
    spec = body.pop("spec", None)
    metadata = body.pop("metadata", None)
    res = k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, metadata=metadata,
                                           spec=spec, opts=opts, **body)
    return res


def apply_objects(objs: Iterable[Mapping[str, Any]], opts: pulumi.ResourceOptions,
                  prefix: str = "") -> list[pulumi.CustomResource]:
    return [apply_object(o, opts, f"{prefix}{object_name(o)}" if prefix else None) for o in objs]


def namespace(name: str, opts: pulumi.ResourceOptions, *, privileged: bool = False,
              labels: Mapping[str, str] | None = None) -> k8s.core.v1.Namespace:
    """A namespace with Pod Security enforced: `restricted` unless it runs node agents that
    need host access (drivers, device plugins), which the catalog marks `privileged`."""
    level = "privileged" if privileged else "restricted"
    pss = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
    return k8s.core.v1.Namespace(f"ns-{name}", metadata={"name": name, "labels": {**pss, **(labels or {})}},
                                 opts=opts)


def helm_release(name: str, chart_key: str, values: Mapping[str, Any], opts: pulumi.ResourceOptions, *,
                 namespace_resource: k8s.core.v1.Namespace | None = None,
                 depends_on: Sequence[pulumi.Resource] = ()) -> k8s.helm.v3.Release:
    """A Helm release of a catalog chart at its exact pinned version, in the chart's namespace."""
    chart = catalog().chart(chart_key)
    deps = [*depends_on, *([namespace_resource] if namespace_resource is not None else [])]
    oci = chart.repository.startswith("oci://")
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=f"{chart.repository.rstrip('/')}/{chart.chart}" if oci else chart.chart,
        version=chart.version,
        repository_opts=None if oci else {"repo": chart.repository},
        namespace=chart.namespace,
        create_namespace=False,
        values=dict(values),
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=deps)),
    )
