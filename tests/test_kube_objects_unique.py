"""No two resources of a plan manage the same Kubernetes object: components that share a
namespace (storage claims, model servers) must not both create it."""

import collections

import pytest


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "onprem"])
def test_each_kubernetes_object_is_managed_once(plan_of, stack):
    seen = collections.Counter()
    for r in plan_of(stack).resources:
        if not r.type.startswith("kubernetes:") or r.type.startswith("pulumi:providers"):
            continue
        meta = r.inputs.get("metadata") or {}
        if r.type == "kubernetes:helm.sh/v3:Release":
            key = (r.type, r.inputs.get("namespace"), r.inputs.get("name"))
        else:
            key = (r.type, meta.get("namespace", ""), meta.get("name"))
        seen[key] += 1
    assert [k for k, n in seen.items() if n > 1] == []
