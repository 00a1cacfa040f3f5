"""Two different stacks side by side: the plans of stack A and stack B compared resource by
resource, by component and logical name, as a comparison and not as a change (nothing is
created or destroyed by it).

Pulumi names a resource `urn:pulumi:<stack>::<project>::<type chain>::<name>`, and aidc puts
the stack into logical names (`aidc-<stack>-vpc`) and into values derived from them (cluster
and role names, tags). Both are written with one placeholder name, so a resource that only
carries its stack's name matches its counterpart, and a value that differs only by the stack
name is no difference (both sides are written as `{stack}`). Values the offline engine made up for A's resources (IDs, ARNs: digests
of type and name, `aidc.plan.stand_in`) are written as its stand-ins for B's counterparts."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from aidc.plan import Plan, Resource, stand_in

# Both sides are written in this name, so names read "aidc-{stack}-vpc" in the report.
ANY_STACK = "{stack}"
# What each operation means when two stacks are compared (B's side against A's).
MEANING = {"create": "only in {head}", "delete": "only in {base}", "update": "differs",
           "replace": "differs in a property fixed at creation", "same": "the same"}


def _renamer(base: str, head: str):
    urn_stack = f"urn:pulumi:{base}::"
    # `aidc-<stack>` as a whole word: the prefix of every logical and physical name aidc makes.
    name = re.compile(rf"(?<![\w-])aidc-{re.escape(base)}(?![\w])")

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return name.sub(f"aidc-{head}", value.replace(urn_stack, f"urn:pulumi:{head}::"))
        if isinstance(value, dict):
            return {rename(k): rename(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(rename(v) for v in value)
        return value

    return rename


def _stand_ins(plan: Plan, own: str, stack: str) -> list[tuple[str, str]]:
    """(A's, B's) forms of every stand-in value of `plan`'s resources, longest first: the
    digest, upper case, its first 12 upper case, as a KMS key id, its first 8
    (aidc/engine/mocks.py)."""
    rename = _renamer(own, stack)
    pairs = []
    for r in plan.resources:
        new_name = rename(r.name)
        if new_name == r.name:
            continue
        a, b = stand_in(r.type, r.name), stand_in(r.type, new_name)
        pairs += [(a, b), (a.upper(), b.upper()), (f"{a[:8]}-{a[8:12]}-{a[12:16]}", f"{b[:8]}-{b[8:12]}-{b[12:16]}"),
                  (a[:12].upper(), b[:12].upper()), (a[:8], b[:8])]
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def as_stack(plan: Plan, stack: str) -> Plan:
    """`plan` with its stack's name written as `stack` in URNs, logical names and values."""
    own = plan.stack
    if not own or own == stack:
        return plan
    names = _renamer(own, stack)
    ids = _stand_ins(plan, own, stack)
    pattern = re.compile("|".join(re.escape(a) for a, _ in ids)) if ids else None
    lookup = dict(ids)

    def rename(value: Any) -> Any:
        value = names(value)
        if pattern is None:
            return value
        if isinstance(value, str):
            return pattern.sub(lambda m: lookup[m.group(0)], value)
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(rename(v) for v in value)
        return value

    def one(r: Resource) -> Resource:
        return replace(r, urn=rename(r.urn), inputs=rename(r.inputs), parent=rename(r.parent),
                       provider=rename(r.provider), dependencies=rename(r.dependencies), aliases=rename(r.aliases),
                       old_inputs=rename(r.old_inputs))

    return Plan(tuple(one(r) for r in plan.resources), plan.config, plan.change_summary, plan.source)


def meaning(op: str, base: str, head: str) -> str:
    return MEANING[op].format(base=base, head=head)
