"""Call rules the way the CrossGuard engine calls them: the PolicyPack's policy objects,
props wrapped in pulumi-policy's unknown-checking proxy, violations collected by a
report callback. (Never construct PolicyPack here: it starts a gRPC server and blocks.)"""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.crossguard import to_policy
from policies.rule import rules_by_name


def opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def validate(rule: str, rtype: str, props: dict[str, Any], config: dict | None = None,
             protect: bool = False) -> list[str]:
    policy = to_policy(rules_by_name()[rule])
    found: list[str] = []
    urn = f"urn:pulumi:test::aidc::{rtype}::r"
    args = ResourceValidationArgs(rtype, unknown_checking_proxy(copy.deepcopy(props)), urn, "r", opts(protect),
                                  None, config)
    policy.validate(args, lambda msg, urn=None: found.append(msg))
    return found


def validate_stack(rule: str, resources: list[tuple[str, str, dict[str, Any], list[str]]],
                   config: dict | None = None) -> list[tuple[str | None, str]]:
    """resources: (name, type, props, names it depends on)."""
    made: dict[str, PolicyResource] = {}
    for name, rtype, props, deps in resources:
        made[name] = PolicyResource(rtype, unknown_checking_proxy(copy.deepcopy(props)),
                                    f"urn:pulumi:test::aidc::{rtype}::{name}", name, opts(), None, None,
                                    [made[d] for d in deps], {})
    found: list[tuple[str | None, str]] = []
    to_policy(rules_by_name()[rule]).validate(StackValidationArgs(list(made.values()), config),
                                              lambda msg, urn=None: found.append((urn, msg)))
    return found


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of base with one field set (dotted path; [i] or .[i] for list items; Kubernetes
    keys with dots such as nvidia.com/gpu stay whole); value DELETE removes the field."""
    out = copy.deepcopy(base)
    for i, key in enumerate(DOTTED_KEYS):
        path = path.replace(key, f"@{i}@")
    parts = [p for p in path.replace("[", ".[").split(".") if p]
    keys: list[Any] = []
    for p in parts:
        for i, key in enumerate(DOTTED_KEYS):
            p = p.replace(f"@{i}@", key)
        keys.append(int(p[1:-1]) if p.startswith("[") else p)
    cur: Any = out
    for k in keys[:-1]:
        cur = cur[k] if isinstance(k, int) else cur.setdefault(k, {})
    if value is DELETE:
        del cur[keys[-1]]
    else:
        cur[keys[-1]] = value
    return out


DOTTED_KEYS = ("nvidia.com/gpu", "pod-security.kubernetes.io/enforce")
DELETE = object()
