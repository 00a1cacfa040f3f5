"""Compare two plans (or read one real preview) into one change record per resource URN."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aidc.plan import UNKNOWN, Plan, Resource
from components.catalog import ProviderRule, ReplaceRule

from . import providers
from .values import MISSING, changed, flatten, generic, smaller, under

OPS = ("create", "update", "replace", "delete", "same")
RuleLookup = Callable[[str], ReplaceRule]
ProviderLookup = Callable[[str], ProviderRule | None]


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any
    forces_replace: bool = False


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    op: str  # one of OPS
    component: str
    changes: tuple[Change, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    holds_data: str = ""  # what a delete or replacement destroys; "" = nothing
    custom: bool = True
    dependencies: tuple[str, ...] = field(default=(), compare=False)
    # Replaced resources this one depends on: their new IDs may reach a replace-on-change
    # property, which two offline plans cannot show (their IDs are stable stand-ins).
    knock_on: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def destroys_data(self) -> bool:
        return bool(self.holds_data) and self.op in ("delete", "replace")


def default_rules() -> RuleLookup:
    from components.catalog import catalog
    return catalog().replace_on_change.rule


def default_provider_rules() -> ProviderLookup:
    from components.catalog import catalog
    return catalog().replace_on_change.provider


def replace_paths(rule: ReplaceRule, diffs: Iterable[tuple[str, Any, Any]],
                  new_inputs: dict[str, Any] | None = None) -> list[str]:
    """The changed paths that force replacement under `rule`. `new_inputs` tells a removed
    block (replaceOnRemove) from one that only changed inside."""
    remaining = {generic(p) for p in flatten(new_inputs or {})}
    out = []
    for path, old, new in diffs:
        if any(under(path, r) for r in rule.replace_on_changes):
            out.append(path)
        elif any(generic(path) == r for r in rule.replace_on_decrease) and old is not MISSING \
                and new is not MISSING and smaller(old, new):
            out.append(path)
        elif new is MISSING and any(under(path, r) and not any(under(q, r) for q in remaining)
                                    for r in rule.replace_on_remove):
            out.append(path)
    return out


def _roots(paths: set[str]) -> list[str]:
    """Paths without those below another one: {'subnetIds', 'subnetIds[0]'} -> ['subnetIds']."""
    return sorted(p for p in paths if not any(q != p and p.startswith((q + ".", q + "[")) for q in paths))


def _provider_urn(ref: str) -> str:
    return ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref


def _record(res: Resource, op: str, component: str, rule: ReplaceRule, changes=(), reasons=(),
            old: Resource | None = None) -> ResourceChange:
    # Protection that matters for a delete is the one recorded in the old state.
    guard = old if op == "delete" and old is not None else res
    return ResourceChange(urn=res.urn, type=res.type, op=op, component=component, changes=tuple(changes),
                          replace_reasons=tuple(reasons), protect=guard.protect,
                          retain_on_delete=guard.retain_on_delete, holds_data=rule.holds_data,
                          custom=res.custom, dependencies=res.dependencies)


def compare_plans(base: Plan, head: Plan, rules: RuleLookup | None = None,
                  provider_rules: ProviderLookup | None = None) -> list[ResourceChange]:
    """BASE -> HEAD by URN: created, deleted, replaced (a replace-on-change property changed,
    or the provider's change replaces what it manages), updated, or the same. Order: HEAD's
    (providers come before their resources), then deletions in BASE's order."""
    rules = rules or default_rules()
    provider_rules = provider_rules or default_provider_rules()
    old_by_urn = base.by_urn()
    # A renamed resource (Pulumi `aliases`) is the same resource as in BASE under its former URN.
    renamed = {res.urn: a for res in head.resources if res.urn not in old_by_urn
               for a in res.aliases if a in old_by_urn}
    new_urns = {r.urn for r in head.resources} | set(renamed.values())
    verdicts: dict[str, providers.ProviderVerdict] = {}  # provider URN -> what its change does
    ops: dict[str, str] = {}
    out = []
    for res in head.resources:
        rule = rules(res.type)
        old = old_by_urn.get(renamed.get(res.urn, res.urn))
        if old is None:
            record = _record(res, "create", head.component_of(res), rule)
        else:
            record = _compared(res, old, rule, base, head, provider_rules, verdicts, ops)
        ops[res.urn] = record.op
        out.append(record)
    for old in base.resources:
        if old.urn not in new_urns:
            out.append(_record(old, "delete", base.component_of(old), rules(old.type), old=old))
    return _knock_on(out, rules, head)


def _compared(res: Resource, old: Resource, rule: ReplaceRule, base: Plan, head: Plan,
              provider_rules: ProviderLookup, verdicts: dict[str, providers.ProviderVerdict],
              ops: dict[str, str]) -> ResourceChange:
    old_inputs, new_inputs = old.inputs, res.inputs
    pkg = providers.package(res)
    if pkg:  # a provider: judged on its effective configuration
        old_inputs, new_inputs = providers.inputs_of(base, old), providers.inputs_of(head, res)
        verdict = providers.judge(provider_rules(pkg), old_inputs, new_inputs, _from_replaced(res, ops))
        verdicts[res.urn] = verdict
    diffs = changed(old_inputs, new_inputs)
    forcing = set(replace_paths(rule, diffs, new_inputs))
    reasons = sorted(forcing)
    replaced_keys = verdicts[res.urn].replaced if pkg else ()
    reasons += [k for k in replaced_keys if k not in forcing]
    forcing |= set(replaced_keys)
    changes = [Change(p, a, b, p in forcing or any(under(p, f) for f in forcing)) for p, a, b in diffs]
    # A key that replaces the provider without a visible change (a secret kubeconfig whose
    # cluster is being replaced) is shown as known only after apply.
    changes += [Change(k, old_inputs.get(k, MISSING), UNKNOWN, True) for k in replaced_keys
                if not any(under(c.path, k) for c in changes)]
    if _provider_urn(old.provider) != _provider_urn(res.provider):
        reasons.append("provider")
    elif (under_provider := verdicts.get(_provider_urn(res.provider))) is not None:
        if under_provider.replaced:
            reasons.append("provider")
        for key, (a, b) in under_provider.forced_inputs(res).items():  # e.g. the region it runs in
            changes.append(Change(key, a, b, True))
            reasons.append(key)
    op = "replace" if reasons else "update" if changes else "same"
    return _record(res, op, head.component_of(res), rule, changes, reasons)


def _from_replaced(res: Resource, ops: dict[str, str]) -> set[str]:
    """The input properties whose values come from a resource this change replaces (so a real
    preview sees them unknown). Plans without `propertyDependencies` name none per property:
    then every input counts as soon as any dependency is replaced."""
    if res.property_dependencies:
        return {k for k, urns in res.property_dependencies.items() if any(ops.get(u) == "replace" for u in urns)}
    return set(res.inputs) if any(ops.get(d) == "replace" for d in res.dependencies) else set()


def _knock_on(records: list[ResourceChange], rules: RuleLookup, head: Plan) -> list[ResourceChange]:
    """Mark resources that stay (same or update) but take a replace-on-change property from a
    replaced resource: its new ID reaches that property, which offline IDs cannot show."""
    ops = {r.urn: r.op for r in records}
    if "replace" not in ops.values():
        return records
    by_urn = head.by_urn()
    out = []
    for r in records:
        res = by_urn.get(r.urn)
        if res is not None and r.op in ("same", "update"):
            paths = rules(r.type).replace_on_changes
            hit = {k for k in _from_replaced(res, ops) if any(under(k, p) for p in paths)}
            urns = {u for k in hit for u in res.property_dependencies.get(k, res.dependencies)}
            deps = tuple(dict.fromkeys(b.name for b in records if b.urn in urns and b.op == "replace"))
            if deps:
                r = replace(r, knock_on=deps)
        out.append(r)
    return out


# ---------------------------------------------------------------- a real `pulumi preview --json`

_PREVIEW_OPS = {
    "create": "create", "import": "create", "update": "update", "delete": "delete", "same": "same",
    "read": "same", "refresh": "same", "discard": "delete",
    "replace": "replace", "create-replacement": "replace", "delete-replaced": "replace",
    "import-replacement": "replace", "read-replacement": "replace", "discard-replaced": "replace",
}


def from_preview(plan: Plan, rules: RuleLookup | None = None) -> list[ResourceChange]:
    """The steps of a real preview, one record per URN: Pulumi already decided the operation
    (a replacement comes as create-replacement / replace / delete-replaced steps). Property
    changes come from oldState/newState inputs; replaceReasons and `*-replace` kinds in
    detailedDiff name the forcing properties (the catalog only when the preview names none)."""
    rules = rules or default_rules()
    merged: dict[str, list[Resource]] = {}
    for res in plan.resources:
        merged.setdefault(res.urn, []).append(res)
    out = []
    for steps in merged.values():
        ops = [_PREVIEW_OPS.get(s.op, "update") for s in steps]
        op = next((o for o in ("replace", "delete", "create", "update") if o in ops), "same")
        res = next((s for s in steps if s.op in ("replace", "update", "same", "create")), steps[0])
        rule = rules(res.type)
        component = plan.component_of(res)
        if op in ("create", "delete"):
            out.append(_record(res, op, component, rule, old=res))
            continue
        old_inputs = next((s.old_inputs for s in steps if s.old_inputs is not None), {}) or {}
        diffs = changed(old_inputs, res.inputs) if op != "same" else []
        detailed = {}
        for s in steps:
            detailed.update(s.extra.get("detailedDiff") or {})
        given = [str(r) for s in steps for r in (s.extra.get("replaceReasons") or [])]
        forcing = {p for p, d in detailed.items() if isinstance(d, dict) and str(d.get("kind", "")).endswith("-replace")}
        if op == "replace" and not given and not forcing:  # an older CLI: fall back on the catalog
            forcing = set(replace_paths(rule, diffs, res.inputs))
        changes = [Change(p, a, b, op == "replace" and (p in forcing or any(under(p, g) for g in given)))
                   for p, a, b in diffs]
        if op == "update" and not changes:  # a change the inputs do not show (e.g. only in outputs)
            reported = [str(r) for s in steps for r in (s.extra.get("diffReasons") or [])] or sorted(detailed)
            changes = [Change(p, "?", "?") for p in reported]
        reasons = _roots(set(given) | forcing) if op == "replace" else []
        out.append(_record(res, op, component, rule, changes, reasons))
    return out
